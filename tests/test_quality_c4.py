"""C4's rules, as a document verdict (FineWeb's use) and with C4's line removal."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from quality_docs import ENGLISH_ARTICLE, FRENCH_ARTICLE, reasons, run_step

from tamis.steps.quality import c4
from tamis.steps.quality.c4 import _POLICY, C4Quality, _may_hold_policy, count_sentences, line_sentences
from tamis.steps.quality.words import settings_for, split_words, tokenize, word_regex


def test_articles_pass():
    for text, language in ((ENGLISH_ARTICLE, "en"), (FRENCH_ARTICLE, "fr")):
        kept, ctx = run_step(C4Quality(), [text], language)
        assert len(kept) == 1, reasons(ctx)
        assert kept[0].text == text
        assert kept[0].metadata["signals"]["c4_quality"]["sentences"] >= 8


def test_sentence_count_ignores_abbreviations_and_numbers():
    assert count_sentences(split_words("Mr. Brown paid 3.50 dollars. He left! Why? Nobody knows.", "en")) == 4
    assert count_sentences(split_words("M. Dupont est arrivé. Il pleuvait.", "fr")) == 2
    assert count_sentences(split_words("Une seule phrase sans point final", "fr")) == 1
    assert count_sentences([]) == 0


def test_line_sentences_equal_count_sentences_of_the_cut_line():
    lines = ["plain words only here", "-- ** -- ##", "", "   ", "--verbose, -v  print more", "see e.g. the file.", "end. . . start",
             "Mr. Brown left.", "3.5 is a number", "他来了。她走了！", "¿Qué? ¡Sí!", "a.b.c", "... (see below)", "x ! y ? z", "word\u00a0word"]
    # Chunks met again in other states (after an end, not after one): line_sentences reads each
    # chunk's words once and keeps their effect on the count, so the second round reads the memo.
    lines += ["end. end. -- end.", "-- end. (see) x", "done! -- ?? ok", "Why? . Because. ?", "e.g. f.e. !x ?y", "a. -- -- b", "!!! ... !? ."]
    for language in ("en", "fr", "de", "zh", None):
        regex = word_regex(settings_for(language))
        for _ in range(2):
            for line in lines:
                assert line_sentences(line, regex) == count_sentences(tokenize(line, regex)), (language, line)
    pieces = ["end.", "Mr.", "3.5", "!", "?", "--", "x", "(a)", "e.g.", "“Ok.”", "。", "…", "U.S.", "-v,", "why?!"]
    draw = random.Random(7)
    regex = word_regex(settings_for("en"))
    for _ in range(300):
        line = " ".join(draw.choice(pieces) for _ in range(draw.randrange(1, 9)))
        assert line_sentences(line, regex) == count_sentences(tokenize(line, regex)), line


def test_chunk_summaries_stay_bounded(monkeypatch):
    monkeypatch.setattr(c4, "_SUMMARY_LIMIT", 50)
    c4._SUMMARIES.clear()
    monkeypatch.setattr(c4, "_summarised", [0])
    regex = word_regex(settings_for("en"))
    line = " ".join(f"w{i}. x" for i in range(400))
    assert line_sentences(line, regex) == count_sentences(tokenize(line, regex)) == 401
    assert sum(map(len, c4._SUMMARIES.values())) <= 50


def test_policy_prefilter_admits_every_phrase():
    for phrase in _POLICY:
        assert _may_hold_policy(f"read our {phrase} here")
    assert not _may_hold_policy("the terms of the licence")


def test_too_few_sentences():
    text = "Le train est arrivé à l’heure ce matin.\nLes voyageurs étaient contents du service."
    _, ctx = run_step(C4Quality(), [text], "fr")
    assert reasons(ctx) == ["c4_quality:too_few_sentences"]


def test_curly_bracket_and_lorem_ipsum():
    _, ctx = run_step(C4Quality(), [ENGLISH_ARTICLE + "function show() { return the value of the field; }\n"], "en")
    assert reasons(ctx) == ["c4_quality:curly_bracket"]
    _, ctx = run_step(C4Quality(), ["Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n" + ENGLISH_ARTICLE], "en")
    assert reasons(ctx) == ["c4_quality:lorem_ipsum"]


def test_bracket_in_a_line_that_does_not_count_is_ignored():
    # A one-word line does not count (fewer than 3 words), so its bracket does not either.
    kept, _ = run_step(C4Quality(), [ENGLISH_ARTICLE + "{menu}\n"], "en")
    assert len(kept) == 1


def test_javascript_and_policy_lines_do_not_count():
    lines = [
        "Please enable JavaScript in your browser to see the comments below.",
        "This site uses cookies to measure the audience, see our cookie policy.",
        "By reading on you accept the terms of use of the newspaper group.",
        "The pier will reopen next spring. The mayor said so. The boats are waiting.",
    ]
    _, ctx = run_step(C4Quality(), ["\n".join(lines)], "en")
    assert reasons(ctx) == ["c4_quality:too_few_sentences"]
    signals = ctx.rejected_records[0]["metadata"]["signals"]["c4_quality"]
    assert signals["lines_removed"] == {"javascript": 1, "policy": 2}
    assert signals["sentences"] == 3


def test_terminal_punctuation_rule_is_off_by_default_and_available():
    text = ENGLISH_ARTICLE + "Share this story with your friends\nRead more stories about the town\n"
    kept, _ = run_step(C4Quality(), [text], "en")
    assert kept[0].text == text
    kept, ctx = run_step(C4Quality(terminal_punct=True, remove_lines=True), [text], "en")
    assert kept[0].text == ENGLISH_ARTICLE.strip()
    assert ctx.stats.modified["c4_quality"] == 1
    assert ctx.stats.removed_units["c4_quality.lines"] == 2


def test_line_removal_counts_nothing_when_nothing_changes():
    text = ENGLISH_ARTICLE.strip()
    kept, ctx = run_step(C4Quality(remove_lines=True), [text], "en")
    assert kept[0].text == text
    assert ctx.stats.modified["c4_quality"] == 0


def test_wikipedia_citations_do_not_hide_terminal_punctuation():
    text = "\n".join(line.rstrip() + "[1]" for line in ENGLISH_ARTICLE.splitlines())
    kept, ctx = run_step(C4Quality(terminal_punct=True), [text], "en")
    assert len(kept) == 1, reasons(ctx)


# The compiled line loop (c4_lines) against the plain definition (measure_reference), on text made
# of the atoms its rules look at: line ends of every kind, Unicode spaces, citation marks with
# Unicode digits, phrases in odd cases (U+0130 and the Kelvin sign lower-case into ASCII letters),
# sentence ends of several scripts, abbreviations, symbols, brackets and long words.
_ATOMS = ["\n", "\r\n", "\r", "\n\n", " ", "  ", "\t", "\u00a0", "\u2003", "\x1c", "\x85", "\u2028", "[1]", "[12]", "[٣]", "[edit]",
          "[citation needed]", "[", "]", "[x]", "[[1]]", "[edi", "[citation", "lorem ipsum", "LOREM IPSUM", "lorem İpsum", "javascript",
          "JavaScript", "java script", "terms of use", "Privacy Policy", "cookie policy", "uses cookies", "use of cookies", "use cookies",
          "COO\u212aIE POLICY", "coo\u212aie policy", "{", "}", ".", "!", "?", "...", "…", "。", "！", "？", "Mr.", "U.S.", "e.g.", "3.5",
          "end.", "word", "Wörter", "x", "-v,", "--help", "(see)", "«", "»", '"', "'", "“Ok.”", "ünïcode", "İ", "ß", "ﬁ", "ǅ", "Σ",
          "a" * 12, "\u0301", "_", "--", "##", "\U0001f600", "中文", "ไทย"]


def _c4_pair(step: C4Quality, text: str, language: str) -> tuple[tuple, tuple]:
    from tamis.document import Document

    doc = Document(id="d", text=text, metadata={"language": language})
    signals, kept = step.measure(doc)
    ref_signals, ref_kept = step.measure_reference(doc)
    return (signals, kept), (ref_signals, ref_kept if step.remove_lines else None)


_C4_STEPS = [C4Quality(), C4Quality(remove_lines=True, terminal_punct=True), C4Quality(max_word_length=10, min_words_per_line=1),
             C4Quality(remove_citations=False, lorem_ipsum=False, curly_bracket=False, remove_lines=True),
             C4Quality(javascript=False, policy=False, min_num_sentences=0)]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.sampled_from(_ATOMS), st.text(max_size=6)), max_size=60), st.sampled_from(["en", "fr", "de", "pl", "zh"]))
def test_compiled_line_loop_equals_the_reference(atoms, language):
    text = "".join(atoms)
    for step in _C4_STEPS:
        native, reference = _c4_pair(step, text, language)
        assert native == reference, (step, text)


def test_compiled_line_loop_on_long_and_repeated_lines():
    for text in ["x" * 5000 + " a b c.", "[" * 3000 + "1" * 3000, ("Mr. Smith left. " * 400 + "\n") * 3, "a. " * 3000,
                 "\r\n" * 2000 + "one two three. four five six.", "[citation needed] " * 500, "İ" * 1000 + " lorem ipsum"]:
        for step in _C4_STEPS:
            native, reference = _c4_pair(step, text, "en")
            assert native == reference


def test_only_two_code_points_lower_case_into_ascii():
    # What c4_lines' folded copy assumes: outside ASCII, only U+0130 and U+212A lower-case to text holding an ASCII character.
    into_ascii = []
    for code in range(0x80, 0x110000):
        low = chr(code).lower()
        if any(c < "\x80" for c in low):
            into_ascii.append(code)
    assert into_ascii == [0x130, 0x212A]
    assert chr(0x130).lower() == "i\u0307" and chr(0x212A).lower() == "k"


def test_compiled_chunk_memo_stays_bounded(monkeypatch):
    monkeypatch.setattr(c4, "_SUMMARY_LIMIT", 50)
    c4._SUMMARIES.clear()
    monkeypatch.setattr(c4, "_summarised", [0])
    text = " ".join(f"w{i}. x" for i in range(400))
    native, reference = _c4_pair(C4Quality(), text, "en")
    assert native == reference and native[0]["sentences"] == 401
    assert sum(map(len, c4._SUMMARIES.values())) <= 50


# Letters of several scripts and cases (ß, ª and ǅ among them), digits, marks and apostrophes,
# and every language's abbreviations: a chunk "<word>." that plain_word_then_period accepts is
# cut by the language's word regex into the word and its period, and summarised the same.
_LETTERS = st.sampled_from([*"abzAZéÉßªǅΣσжЖ中ไ1²\u0301'’-_", "Mr", "etc", "Dr", "cf", "bzw", "St"])
_CODES = ["en", "fr", "de", "es", "it", "pt", "nl", "pl", "ru", "tr", "zh", "ja", "th", "vi", "hi", "ar", "xx", None]


@settings(max_examples=300, deadline=None)
@given(st.lists(_LETTERS, min_size=1, max_size=5).map("".join))
def test_a_plain_word_and_its_period_are_cut_as_the_regex_cuts_them(word):
    chunk = word + "."
    for code in _CODES:
        language = settings_for(code)
        if c4.plain_word_then_period(chunk, language.abbreviations):
            regex = word_regex(language)
            assert tokenize(chunk, regex) == [word, "."], (code, chunk)
            assert c4._chunk_summary(tokenize(chunk, regex)) == c4._WORD_THEN_PERIOD


def test_abbreviations_capitals_and_digits_before_a_period_are_left_to_the_regex():
    for chunk, code in (("Mr.", "en"), ("etc.", "en"), ("bzw.", "de"), ("MIGRATE.", "de"), ("A.", "en"), ("mp3.", "en"), ("x.", "en")):
        assert c4.plain_word_then_period(chunk, settings_for(code).abbreviations) == (chunk == "x."), chunk
