from tamis.text import iter_lines_with_ends, normalize_for_hash, split_lines


def test_every_line_end_is_a_line_end():
    assert split_lines("a\r\nb\rc\nd") == ["a", "b", "c", "d"]
    assert split_lines("a\n") == ["a"]
    assert split_lines("a\n\nb") == ["a", "", "b"]
    assert split_lines("") == []


def test_lines_with_ends_rebuild_the_text_exactly():
    for text in ["a\r\nb\rc\nd", "x\n", "\n\n", "no end", "mixed\r\n\r\nend\r"]:
        assert "".join(c + e for c, e in iter_lines_with_ends(text)) == text


def test_normalisation_folds_what_scraping_varies():
    # NFD vs NFC, typographic apostrophe, no-break and narrow no-break spaces, case.
    a = "L\u2019arme\u0301e  fran\u00e7aise\u00a0: C\u2019est\u202fvrai !"
    b = "l'armée française : c'est vrai !"
    assert normalize_for_hash(a) == normalize_for_hash(b)
    assert normalize_for_hash("  Hello\tWORLD \n") == "hello world"


def test_normalisation_keeps_different_words_different():
    assert normalize_for_hash("chat") != normalize_for_hash("chats")
    assert normalize_for_hash("élite") != normalize_for_hash("elite")
