import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

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


MARKS = ["\u0301", "\u0316", "\u0308", "\u0327", "\u0f73", "\u0344", "\u09bc", "\u094d"]  # 230, 220, 230, 202, Tibetan II, dialytika tonos, nukta, virama
LETTERS = ["e", "a", "\u00e9", "\u0995", "\u0f40", " ", "\u09df", "\u1100", "\u1161"]


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(st.lists(st.one_of(st.sampled_from(MARKS), st.sampled_from(LETTERS)), max_size=80).map("".join))
def test_nfc_is_unicodes_nfc_where_no_run_of_marks_is_longer_than_the_stream_safe_limit(text: str):
    """Real text never holds more than 30 combining marks in a row (UAX #15): there nfc is
    unicodedata's NFC, and is_nfc says whether it changes the text."""
    from tamis.text import STREAM_SAFE_RUN, is_nfc, nfc, stream_safe

    assert is_nfc(text) == unicodedata.is_normalized("NFC", text) == (nfc(text) is text)
    if stream_safe(text) is text or is_nfc(text):
        assert nfc(text) == unicodedata.normalize("NFC", text)
    else:  # a run longer than the limit in a text NFC rewrites: cut by grapheme joiners, then NFC
        assert nfc(text) == unicodedata.normalize("NFC", stream_safe(text)) and "\u034f" in nfc(text)
    result = nfc(text)
    assert unicodedata.is_normalized("NFC", result) and is_nfc(result) and nfc(result) is result
    assert len(text) > STREAM_SAFE_RUN or stream_safe(text) is text


def test_nfc_cuts_a_run_of_thousands_of_marks_in_linear_time():
    """CPython sorts a run of combining marks by insertion: 80,000 marks of two classes took 3.4 s
    (a megabyte would take hours). Cut every 10 code points by U+034F, the run sorts in pieces."""
    import time

    from tamis.text import is_nfc, nfc

    for storm in ("e" + "\u0301\u0316" * 200_000, "\u0f40" + "\u0f73" * 200_000):
        start = time.process_time()
        result = nfc(storm)
        assert time.process_time() - start < 2.0  # ~0.02 s; unicodedata alone: minutes
        marks = len(storm) - 1  # the starter, then one run of marks: a joiner after every 10 but the last 10
        assert is_nfc(result) and result.count("\u034f") == (marks - 1) // 10
        # each piece is its 10 code points in canonical order: the 220s before the 230s, II as its two marks
        piece = result.split("\u034f")[1]
        assert piece == unicodedata.normalize("NFC", storm[1:11])


def test_stream_safe_reads_marks_above_the_bmp_and_leaves_emoji_alone():
    """The fast class covers the BMP; a text with a mark above it (a musical symbol's, Brahmi's)
    is scanned with the whole class, a text whose astral code points are emoji is not cut."""
    import time

    from tamis.text import nfc, stream_safe

    storm = "a" + "\U0001d165\U0001d167" * 20_000  # combining classes 216 then 1: out of order
    start = time.process_time()
    result = nfc(storm)
    assert time.process_time() - start < 2.0 and "\u034f" in result and unicodedata.is_normalized("NFC", result)
    emoji = "caf\u00e9 \U0001f600 " * 100 + "e\u0301"
    assert stream_safe(emoji) is emoji and nfc(emoji) == unicodedata.normalize("NFC", emoji)


# --------------------------------------------------------------------------- mojibake

MOJIBAKE_ALPHABET = st.sampled_from(["a", " ", "\n", "é", "Ã", "Â", "â", "©", "\x80", "\x9d", "€", "™", "ô", "õ", "¿", "À", "日", "😀"])


@settings(max_examples=300, deadline=None)
@given(st.lists(MOJIBAKE_ALPHABET, max_size=40).map("".join))
def test_the_compiled_mojibake_mark_is_the_regular_expressions(text):
    from tamis.text import has_mojibake_mark, has_mojibake_mark_reference

    assert has_mojibake_mark(text) == has_mojibake_mark_reference(text)


def test_mojibake_is_repaired_and_real_text_is_left_alone():
    from tamis.text import fix_mojibake, has_mojibake_mark

    # UTF-8 read as windows-1252 (accents, quotes, a no-break space, Chinese) and twice so
    assert fix_mojibake("dÃ©tente, â€œcitÃ©â€\x9d et cats.Â ") == "détente, “cité” et cats.\u00a0"
    assert fix_mojibake("ä¸\xadæ–‡") == "中文"
    assert fix_mojibake("ÃƒÂ©tÃƒÂ©") == "été"
    for real in ("SÃO PAULO é uma cidade", "naïve café « élève »", "Été à Noël", "Москва", "日本語", "plain ASCII", "À©"):
        assert fix_mojibake(real) == real or not has_mojibake_mark(real), real
    assert fix_mojibake("SÃO PAULO é uma cidade") == "SÃO PAULO é uma cidade"
    assert fix_mojibake("naïve café « élève »") == "naïve café « élève »"
    text = "no mark here: é à ü ß 中文"
    assert fix_mojibake(text) is text  # no mark: not even copied


def test_the_normalize_step_repairs_mojibake_unless_told_not_to():
    from tamis.steps.normalize import Normalize

    broken = "Le cafÃ© de la gare est ouvert, lâ€™Ã©tÃ© comme lâ€™hiver."
    assert Normalize().normalize(broken) == "Le café de la gare est ouvert, l’été comme l’hiver."
    assert Normalize().normalize_reference(broken) == Normalize().normalize(broken)
    assert Normalize(fix_mojibake=False).normalize(broken) == broken
