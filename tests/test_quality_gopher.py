"""Gopher quality and repetition rules, on hand-written English and French documents."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quality_docs import ENGLISH_ARTICLE, FRENCH_ARTICLE, FRENCH_ARTICLE_REPEATED, reasons, run_step

from tamis.document import Document
from tamis.steps.quality.gopher import GopherQuality, GopherRepetition
from tamis.steps.repetition import RepetitionRepair


def test_articles_pass_both_gopher_filters():
    for text, language in ((ENGLISH_ARTICLE, "en"), (FRENCH_ARTICLE, "fr")):
        for step in (GopherQuality(), GopherRepetition()):
            kept, ctx = run_step(step, [text], language)
            assert len(kept) == 1, (step.name, language, reasons(ctx))


def test_signals_are_recorded_under_the_step_id():
    kept, _ = run_step(GopherQuality(id="gq"), [FRENCH_ARTICLE], "fr")
    signals = kept[0].metadata["signals"]["gq"]
    assert signals["words"] > 150
    assert signals["stop_words"] >= 10
    assert 3 < signals["avg_word_length"] < 7


# --- quality ---------------------------------------------------------------------------

def test_short_document():
    _, ctx = run_step(GopherQuality(), ["The cat sat on the mat with the dog, and that was all."], "en")
    assert reasons(ctx) == ["gopher_quality:short_doc"]


def test_long_document_limit_is_a_parameter():
    _, ctx = run_step(GopherQuality(max_doc_words=100), [ENGLISH_ARTICLE], "en")
    assert reasons(ctx) == ["gopher_quality:long_doc"]


def test_short_and_long_words():
    tiny = " ".join(["a b c d e of the to and"] * 12)
    _, ctx = run_step(GopherQuality(), [tiny], "en")
    assert reasons(ctx) == ["gopher_quality:short_words"]
    huge = " ".join(["internationalisation", "the", "counterrevolutionaries", "of", "characteristically"] * 15)
    _, ctx = run_step(GopherQuality(), [huge], "en")
    assert reasons(ctx) == ["gopher_quality:long_words"]


def test_hash_and_ellipsis_ratios():
    tags = ENGLISH_ARTICLE + " ".join(f"#tag{i}" for i in range(40))
    _, ctx = run_step(GopherQuality(), [tags], "en")
    assert reasons(ctx) == ["gopher_quality:hash_ratio"]
    trailing = ENGLISH_ARTICLE.replace(",", "...").replace(".", "... and...")
    _, ctx = run_step(GopherQuality(), [trailing], "en")
    assert reasons(ctx) == ["gopher_quality:ellipsis_ratio"]


def test_bullet_lines():
    lines = [f"- item number {i} of the list with a few more words to read" for i in range(20)]
    _, ctx = run_step(GopherQuality(), ["\n".join(lines)], "en")
    assert reasons(ctx) == ["gopher_quality:bullet_lines"]
    mostly_prose = "\n".join([*lines[:5], *ENGLISH_ARTICLE.splitlines()])
    kept, _ = run_step(GopherQuality(), [mostly_prose], "en")
    assert len(kept) == 1


def test_ellipsis_lines():
    lines = [f"Read the rest of story number {i} about the town and the pier with us…" for i in range(10)]
    _, ctx = run_step(GopherQuality(max_symbol_word_ratio=0), ["\n".join(lines)], "en")
    assert reasons(ctx) == ["gopher_quality:ellipsis_lines"]
    # the other marks, each alone in its text (each text is searched for the marks first)
    for text, key, expected in (("\n".join(line.replace("…", "...") for line in lines), "ellipsis_lines_ratio", 1.0),
                                ("\n".join("  • " + line for line in lines), "bullet_lines_ratio", 1.0),
                                ("\n".join(lines).replace("…", "."), "bullet_lines_ratio", 0.0),
                                ("\n".join(lines).replace("…", "."), "ellipsis_lines_ratio", 0.0)):
        signals = GopherQuality(max_symbol_word_ratio=0).score(Document(id="x", text=text, metadata={"language": "en"}))
        assert signals[key] == expected, (key, text[:40])


def test_alphabetic_words():
    numbers = ENGLISH_ARTICLE + " ".join(str(1000 + i) for i in range(200))
    _, ctx = run_step(GopherQuality(), [numbers], "en")
    assert reasons(ctx) == ["gopher_quality:alpha_words"]


def test_stop_words_english_and_french():
    # Long enough, real words, but none of Gopher's English stop words.
    listing = " ".join(["Apples", "pears", "plums", "cherries", "grapes", "melons", "lemons", "limes"] * 8)
    _, ctx = run_step(GopherQuality(), [listing], "en")
    assert reasons(ctx) == ["gopher_quality:stop_words"]
    # The French article has no English stop words: it passes only with French ones.
    _, ctx = run_step(GopherQuality(), [FRENCH_ARTICLE], "en")
    assert reasons(ctx) == ["gopher_quality:stop_words"]
    kept, _ = run_step(GopherQuality(), [FRENCH_ARTICLE], "fr")
    assert len(kept) == 1


def test_french_elided_articles_count_as_stop_words():
    # Only "l’" and "d’" (typographic apostrophes) are French stop words here.
    text = " ".join(["l’orage", "d’avril", "frappa", "villages", "voisins", "durement"] * 10)
    kept, _ = run_step(GopherQuality(), [text], "fr")
    assert kept[0].metadata["signals"]["gopher_quality"]["stop_words"] == 2


def test_language_without_settings_skips_the_stop_word_rule():
    listing = " ".join(["Apples", "pears", "plums", "cherries", "grapes", "melons", "lemons", "limes"] * 8)
    kept, _ = run_step(GopherQuality(), [listing], "ug")  # Uyghur: no FineWeb-2 configuration
    assert len(kept) == 1


# --- repetition ------------------------------------------------------------------------

def test_repeated_paragraphs_rejected_without_repair():
    kept, ctx = run_step(GopherRepetition(), [FRENCH_ARTICLE_REPEATED], "fr")
    assert not kept
    assert reasons(ctx) == ["gopher_repetition:dup_line_frac"]
    signals = ctx.rejected_records[0]["metadata"]["signals"]["gopher_repetition"]
    assert signals["dup_line_frac"] == pytest.approx(4 / 9)
    # Also with Gopher's own English threshold (0.30), not only FineWeb-2's French one.
    _, ctx = run_step(GopherRepetition(per_language=False), [FRENCH_ARTICLE_REPEATED], "fr")
    assert reasons(ctx) == ["gopher_repetition:dup_line_frac"]


def test_repeated_paragraphs_pass_after_repair():
    repaired, _ = run_step(RepetitionRepair(), [FRENCH_ARTICLE_REPEATED])
    assert repaired[0].text == FRENCH_ARTICLE
    kept, ctx = run_step(GopherRepetition(), [repaired[0].text], "fr")
    assert len(kept) == 1, reasons(ctx)


def test_duplicate_paragraphs():
    paragraphs = ENGLISH_ARTICLE.strip().split("\n")
    text = "\n\n".join([*paragraphs, paragraphs[0], paragraphs[1]])
    _, ctx = run_step(GopherRepetition(), [text], "en")
    assert reasons(ctx) == ["gopher_repetition:dup_para_frac"]


def test_duplicate_line_characters():
    long_line = "This long line about the harbour and the pier is repeated because the page template printed it twice."
    lines = [long_line, "One.", "Two.", "Three.", "Four.", "Five.", "Six.", "Seven.", long_line]
    _, ctx = run_step(GopherRepetition(), ["\n".join(lines)], "en")
    assert reasons(ctx) == ["gopher_repetition:dup_line_char_frac"]


def test_top_ngram():
    text = " ".join(["buy cheap shoes"] * 10 + ["and many other things that are sold in the market town every week"])
    _, ctx = run_step(GopherRepetition(), [text], "en")
    assert reasons(ctx) == ["gopher_repetition:top_2_gram"]


def test_duplicate_ngrams():
    sentence = "the quick brown fox jumps over the lazy dog near the river bank"
    text = ENGLISH_ARTICLE.strip() + " " + ", ".join([sentence] * 6) + "."
    _, ctx = run_step(GopherRepetition(top_n_grams=[]), [text], "en")
    assert reasons(ctx) == ["gopher_repetition:dup_5_gram"]


def test_empty_document():
    _, ctx = run_step(GopherRepetition(), [""], "en")
    assert reasons(ctx) == ["gopher_repetition:empty"]


@pytest.mark.parametrize(
    ("language", "short", "bullet"),
    [
        ("en", "The pier will reopen in the spring, and the boats are waiting for it.",
         "- a stall of the weekly market with fish and bread for the town"),
        ("fr", "La ligne rouvre lundi et les voyageurs sont déjà contents du train.",
         "• un étal du marché de la place avec du pain et des fromages de la région"),
    ],
)
def test_short_and_bullet_documents_in_both_languages(language, short, bullet):
    _, ctx = run_step(GopherQuality(), [short], language)
    assert reasons(ctx) == ["gopher_quality:short_doc"]
    _, ctx = run_step(GopherQuality(), ["\n".join([bullet] * 12)], language)
    assert reasons(ctx) == ["gopher_quality:bullet_lines"]


def test_language_comes_from_metadata_then_parameter_then_default():
    # French text judged with English stop words fails; with the document's language it passes.
    assert reasons(run_step(GopherQuality(), [FRENCH_ARTICLE])[1]) == ["gopher_quality:stop_words"]
    assert not reasons(run_step(GopherQuality(), [FRENCH_ARTICLE], "fr")[1])
    assert not reasons(run_step(GopherQuality(language="fr"), [FRENCH_ARTICLE])[1])
    assert not reasons(run_step(GopherQuality(default_language="fr"), [FRENCH_ARTICLE])[1])


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab \n\r\t\x0b\u2028", max_size=30))
def test_paragraph_and_line_cuts_equal_the_regular_expressions(text):
    from tamis.steps.quality.gopher import _LINE_BREAK, _PARAGRAPH_BREAK, lines_of, paragraphs_of

    assert paragraphs_of(text) == _PARAGRAPH_BREAK.split(text)
    assert paragraphs_of(text.strip()) == _PARAGRAPH_BREAK.split(text.strip())
    assert lines_of(text) == ([line for line in _LINE_BREAK.split(text) if line] or [""])
