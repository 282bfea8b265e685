"""The motivating case: a French article whose paragraphs 2-5 were scraped twice."""

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from runutil import kept, load_stats, rejected, run_recipe

from tamis.steps.repetition import repair_repetition
from tamis.text import lines_with_ends, lines_with_ends_reference, normalize_for_hash

# Written for this test, in the shape of ../shared/seed: 5 paragraphs, then 2-5 again,
# typographic apostrophes, a no-break space before a colon, no final newline.
PARAGRAPHS = [
    "Le marché couvert de Saint-Aubin a rouvert ses portes samedi, après deux ans de travaux qui ont coûté près de 4 millions d’euros.",
    "Les commerçants, installés depuis l’automne sous des halles provisoires, ont retrouvé leurs étals rénovés avec un soulagement visible.",
    "La municipalité a choisi de conserver la charpente d’origine, classée en 1998, et d’ajouter une verrière au-dessus de l’allée centrale.",
    "Selon l’adjointe chargée du commerce\u00a0: « la fréquentation du premier week-end dépasse déjà celle d’avant la fermeture ».",
    "Un parking à vélos de 120 places et une navette gratuite depuis la gare complètent l’aménagement du quartier.",
]
SEED_SHAPED = "\n".join(PARAGRAPHS + PARAGRAPHS[1:])


def test_seed_shaped_document_keeps_its_five_distinct_paragraphs():
    repaired, removed, identical = repair_repetition(SEED_SHAPED, min_chars=30)
    assert repaired == "\n".join(PARAGRAPHS)  # characters unchanged, first-seen order, same joiner
    assert removed == 4
    assert not identical


def test_seed_shaped_run_end_to_end(tmp_path: Path):
    src = tmp_path / "000_article.txt"
    src.write_text(SEED_SHAPED, encoding="utf-8")
    out = tmp_path / "run"
    outcome = run_recipe([src], out)
    assert not outcome.failed
    docs = kept(out)
    assert len(docs) == 1
    assert docs[0]["id"] == "000_article"
    assert docs[0]["text"] == "\n".join(PARAGRAPHS)
    assert docs[0]["metadata"]["repetition_removed"] == 4
    stats = load_stats(out)
    assert (stats["read"], stats["kept"], stats["rejected_total"]) == (1, 1, 0)
    assert stats["removed_units"] == {"repetition.lines": 4}
    assert stats["modified"]["repetition"] == 1
    sample = stats["samples"]["repetition:repaired"][0]
    assert [line["removed"] for line in sample["lines"]] == [False] * 5 + [True] * 4


def test_final_line_end_and_crlf_are_preserved():
    text = "first long paragraph of the page here\r\nsecond long paragraph of the page\r\nfirst long paragraph of the page here\r\n"
    repaired, removed, _ = repair_repetition(text, min_chars=10)
    assert removed == 1
    assert repaired == "first long paragraph of the page here\r\nsecond long paragraph of the page\r\n"


def test_blank_line_separated_paragraphs_lose_their_separator_too():
    a, b = "A first paragraph long enough to count.", "A second paragraph long enough to count."
    repaired, removed, _ = repair_repetition(f"{a}\n\n{b}\n\n{a}\n\n{b}", min_chars=10)
    assert (repaired, removed) == (f"{a}\n\n{b}", 2)


def test_short_lines_are_never_removed():
    text = "Oui\nA real sentence that is long enough to be judged.\nOui\nNon"
    repaired, removed, _ = repair_repetition(text, min_chars=30)
    assert (repaired, removed) == (text, 0)


def test_repeats_are_compared_after_normalisation():
    line = "L’équipe a gagné le match de dimanche soir."
    variant = "l'équipe  a gagné le match de DIMANCHE soir."
    repaired, removed, _ = repair_repetition(f"{line}\n{variant}", min_chars=10)
    assert (repaired, removed) == (line, 1)


def test_page_of_one_repeated_line_is_rejected_not_repaired(tmp_path: Path):
    src = tmp_path / "spam.txt"
    src.write_text("\n".join(["Abonnez-vous à notre lettre d’information !"] * 6), encoding="utf-8")
    out = tmp_path / "run"
    run_recipe([src], out)
    assert kept(out) == []
    (reject,) = rejected(out)
    assert reject["reason"] == "repetition:all_lines_identical"
    assert reject["text"] == src.read_text(encoding="utf-8")  # kept whole


_LINES = ["aaa", "AAA", "a  a", "", "  ", "Ab’c", "ab'c", "é", "e\u0301", "x" * 31, "X" * 31, "\u200b", "ǅ", "Ǆ" * 16, "ǆ" * 16,
          "x\x0by" * 11, "a\u2028b\x85c\x1c" * 8]  # characters str.splitlines breaks at but a line end here is not


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(_LINES), max_size=12),
    st.lists(st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\r\r\n"]), min_size=12, max_size=12),
    st.integers(0, 32),
    st.booleans(),
)
def test_compiled_comparison_keys_repair_as_the_python_reference(lines, ends, min_chars, final_end):
    # The step compares lines by normalized_utf8 (compiled; min_chars counts characters, not
    # UTF-8 bytes); the reference compares normalize_for_hash strings.
    text = "".join(line + end for line, end in zip(lines, ends, strict=False))
    if not final_end:
        text = text.rstrip("\r\n")
    marks, reference_marks = [], []
    got = repair_repetition(text, min_chars, marks)
    assert got == repair_repetition(text, min_chars, reference_marks, key_of=normalize_for_hash)
    assert marks == reference_marks
    assert lines_with_ends(text) == lines_with_ends_reference(text)
    assert "".join(lines_with_ends(text)) == text


_NFC_LINES = [*_LINES, "日本語の文です" * 2, "日本語の文です" * 5, "中文", "ß" * 16, "SS" * 16, "µ" * 31, "\U0001f600" * 31, "x\t y", "ﬀ" * 15]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(_NFC_LINES), max_size=14),
    st.lists(st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\r\r\n", "\n \n"]), min_size=14, max_size=14),
    st.integers(0, 40),
    st.booleans(),
)
def test_compiled_repair_of_nfc_text_is_the_python_loop(lines, ends, min_chars, final_end):
    # A text in NFC without marks is repaired by tamis._native._text.repair_lines: the same
    # text, count and verdict as the Python loop with the plain-Python keys (CJK characters
    # counting 3 toward min_chars, one-, two- and four-byte strings, blank lines, no final end).
    import unicodedata

    from tamis.steps import repetition

    text = unicodedata.normalize("NFC", "".join(line + end for line, end in zip(lines, ends, strict=False)))
    if not final_end:
        text = text.rstrip("\r\n")
    reference = repair_repetition(text, min_chars, key_of=normalize_for_hash)
    if repetition._repair_lines_native is not None:
        assert repetition._repair_lines_native(text, min_chars) == reference
    assert repair_repetition(text, min_chars) == reference


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([*_NFC_LINES, "e\u0301" * 31, "\u0301x", "Å" * 31, "\u212b" * 31, "\u1100\u1161" * 12]), max_size=12),
    st.lists(st.sampled_from(["\n", "\r\n", "\r", "\n\n"]), min_size=12, max_size=12),
    st.integers(0, 40),
)
def test_repair_checks_nfc_in_its_compiled_pass(lines, ends, min_chars):
    # Without marks, the compiled loop vouches for NFC itself (no code point NFC may change);
    # a text it cannot vouch for (combining marks, the Angstrom sign, Hangul jamo: some NFC
    # already, some not) is left to the full check, and the repair is the reference's either way.
    import unicodedata

    from tamis.steps import repetition
    from tamis.text import nfc_unstable_bitmap

    text = "".join(line + end for line, end in zip(lines, ends, strict=False))
    assert repair_repetition(text, min_chars) == repair_repetition(text, min_chars, key_of=normalize_for_hash)
    if repetition._repair_lines_native is not None and repetition._nfc_table_ready():
        bits = nfc_unstable_bitmap()
        unstable = any(ord(c) >= 0x80 and (ord(c) >= len(bits) * 8 or bits[ord(c) >> 3] >> (ord(c) & 7) & 1) for c in text)
        checked = repetition._repair_lines_native(text, min_chars, True)
        assert (checked is None) == unstable
        if checked is not None:
            assert unicodedata.is_normalized("NFC", text)
            assert checked == repetition._repair_lines_native(text, min_chars)


def test_compiled_repair_tells_apart_keys_of_every_length_around_a_hash_word():
    # The compiled key set hashes eight bytes at a time: keys of 0 to 25 bytes (tails of every
    # length, whole words), equal but for one byte at any place, or equal in their first words,
    # are still told apart (the hash only places them; the bytes decide).
    from tamis.steps import repetition

    lines = []
    for length in range(1, 26):
        base = "".join(chr(ord("a") + (i * 7) % 26) for i in range(length))
        lines.append(base)
        lines.extend(base[:i] + "Z" + base[i + 1 :] for i in range(length))
        lines.append(base + "\u00e9")
    text = "\n".join(lines + lines[::3] + lines) + "\n"
    reference = repair_repetition(text, 1, key_of=normalize_for_hash)
    every = lines + lines[::3] + lines
    assert reference[1] == len(every) - len({normalize_for_hash(line) for line in every}) > len(lines)
    if repetition._repair_lines_native is not None:
        assert repetition._repair_lines_native(text, 1) == reference


def test_report_sample_keeps_the_first_repairs_and_every_repair_is_made():
    # Lines are marked only while the report's sample takes repairs: the first five are sampled
    # as before, and every later document is repaired all the same.
    from tamis.document import Document
    from tamis.stats import SAMPLES_PER_KIND
    from tamis.steps.base import TaskContext
    from tamis.steps.repetition import RepetitionRepair

    texts = [SEED_SHAPED.replace("Saint-Aubin", f"Saint-Aubin-{i}") for i in range(SAMPLES_PER_KIND + 3)]
    ctx = TaskContext(0)
    out = list(RepetitionRepair().run([Document(id=str(i), text=t) for i, t in enumerate(texts)], ctx))
    assert [doc.text for doc in out] == [repair_repetition(t, 30)[0] for t in texts]
    samples = ctx.stats.samples["repetition:repaired"]
    assert [s["id"] for s in samples] == [str(i) for i in range(SAMPLES_PER_KIND)]
    marks: list = []
    repair_repetition(texts[0], 30, marks)
    assert samples[0]["lines"] == [{"text": line[:240], "removed": gone} for line, gone in marks]
    assert ctx.stats.modified["repetition"] == len(texts)


def test_compiled_repair_counts_line_ends_of_long_one_byte_texts():
    # The one-byte line count reads sixteen characters a step and sums its counters every
    # 4,080: long texts whose only "\r" or only non-ASCII character comes late, past a sum.
    import random

    from tamis.steps import repetition

    rng = random.Random(7)
    lines = [f"line {k % 37} of a long page, repeated now and then" for k in range(400)]
    for late in ("\r\n", "\r", "é", "\xa0", ""):
        text = "\n".join(lines[:300]) + late + "\n".join(lines[300:]) + "\n"
        for sample in (text, text[: rng.randrange(len(text))], text[: rng.randrange(len(text))]):  # and prefixes of every length mod 16
            reference = repair_repetition(sample, 30, key_of=normalize_for_hash)
            assert repair_repetition(sample, 30) == reference
            if repetition._repair_lines_native is not None:
                assert repetition._repair_lines_native(sample, 30) == reference
