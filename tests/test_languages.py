"""Every language: per-language settings, script families, words by script, shingles by script."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from quality_docs import run_step
from runutil import kept, rejected, run_recipe, write_jsonl

from tamis.dedup.shingles import (
    has_unspaced,
    line_length,
    shingle_text,
    shingle_units_reference,
    spread_mostly_unspaced,
    utf8_line_length,
)
from tamis.steps.language import LanguageId
from tamis.steps.quality.fineweb import FineWebQuality
from tamis.steps.quality.gopher import GopherQuality
from tamis.steps.quality.language_data import FINEWEB2
from tamis.steps.quality.language_table import SCRIPT_OF, script_of
from tamis.steps.quality.languages import SETTINGS, language_score_threshold, languages_table, settings_for
from tamis.steps.quality.segmenters import grapheme_clusters
from tamis.steps.quality.words import split_words
from tamis.steps.repetition import repair_repetition

# A Chinese news-style paragraph (written for this test), and its sentences, one per line.
CHINESE = (
    "市政府星期二宣布，将在明年春天开始修复老城区的石桥。这座桥建于一百多年前，是当地居民每天上班和上学的必经之路。\n"
    "工程预计需要两年时间，费用由市财政和省里的专项资金共同承担。施工期间，附近的两条公交线路将临时改道。\n"
    "不少居民表示支持这项工程，但也希望政府能够提前公布详细的交通安排，以减少对日常生活的影响。\n"
    "负责项目的工程师说，修复工作会尽量保留桥梁原有的风貌，并使用与原来相近的石材。\n"
)


def test_fifty_languages_with_the_most_web_text_have_fineweb2_settings_and_the_rest_a_family():
    assert {code for code, *_ in languages_table()} == set(SETTINGS)
    largest = list(FINEWEB2)[:50]  # by FineWeb-2's web text, largest first
    assert largest[:4] == ["ru", "zh", "de", "ja"]
    for code in largest:
        assert SETTINGS[code].source == "fineweb-2", code
    for code, settings in SETTINGS.items():
        assert settings.script == script_of(code)
        if settings.script != "clusters":
            assert len(settings.stop_words) >= 8, code
    # A language of the model without a FineWeb-2 configuration takes its script family's.
    assert settings_for("ug").script == "arabic" and settings_for("ug").source == "script family"
    assert settings_for("ug").stop_words == frozenset()
    assert settings_for("sh").script == "latin" and settings_for("sh").stop_words == frozenset()
    # Lao, Khmer ...: tamis's words are grapheme clusters, which FineWeb-2's word-length bounds
    # and stop words (its segmenters' words) do not describe.
    assert settings_for("km").script == "clusters" and settings_for("km").source == "fineweb-2"
    assert settings_for("km").thresholds["min_avg_word_length"] == 0 and not settings_for("km").stop_words
    assert settings_for("wuu").segmenter == "jieba"
    assert settings_for("tt").script == "cyrillic"


def _fineweb2_config(subset: str) -> dict:
    """FineWeb-2's configs/{subset}.yml, as published (copied here for the languages tested)."""
    return {
        # configs/fra_Latn.yml
        "fra_Latn": {"dup_line_frac": 0.264, "top_n_grams": [[2, 0.161], [3, 0.149], [4, 0.134]], "language_score": 0.824,
                     "line_punct_thr": 0.1, "max_avg_word_length": 11, "min_avg_word_length": 2,
                     "max_non_alpha_words_ratio": 0.812, "new_line_ratio": 0.185, "stopwords_head": ["de", "la", "le", "et"]},
        # configs/cmn_Hani.yml
        "cmn_Hani": {"dup_line_frac": 0.287, "top_n_grams": [[2, 0.256], [3, 0.201], [4, 0.171]], "language_score": 0.692,
                     "line_punct_thr": 0.106, "max_avg_word_length": 5, "min_avg_word_length": 1,
                     "max_non_alpha_words_ratio": 0.735, "new_line_ratio": 0.178, "stopwords_head": ["的", "年", "在", "月"]},
        # configs/dan_Latn.yml
        "dan_Latn": {"language_score": 0.3},
    }[subset]


@pytest.mark.parametrize(("code", "subset"), [("fr", "fra_Latn"), ("zh", "cmn_Hani")])
def test_values_are_fineweb2s_published_ones(code: str, subset: str):
    settings, config = settings_for(code), _fineweb2_config(subset)
    assert settings.fineweb2_subset == subset and settings.fineweb2_language_score == config["language_score"]
    t = settings.thresholds
    assert t["dup_line_frac"] == config["dup_line_frac"] and t["top_n_grams"] == config["top_n_grams"]
    assert t["line_punct_thr"] == config["line_punct_thr"] and t["new_line_ratio"] == config["new_line_ratio"]
    assert (t["min_avg_word_length"], t["max_avg_word_length"]) == (config["min_avg_word_length"], config["max_avg_word_length"])
    assert t["min_alpha_words_ratio"] == config["max_non_alpha_words_ratio"]
    assert set(config["stopwords_head"]) <= settings.stop_words
    # FineWeb-2's pipeline settings, the same for every language
    assert t["char_duplicates_ratio"] == 0.1 and t["dup_para_frac"] == 0 and t["short_line_thr"] == 1.0
    assert "max_avg_word_length" not in settings_for("en").thresholds  # English keeps Gopher's published values


def test_language_score_thresholds_per_language():
    # FineWeb's 0.65 for lid.176, lowered where FineWeb-2's is lower (languages hard to tell apart)
    assert language_score_threshold("fr") == 0.65 and language_score_threshold("en") == 0.65
    assert language_score_threshold("da") == _fineweb2_config("dan_Latn")["language_score"]
    assert language_score_threshold("ug") == 0.65  # no configuration
    step = LanguageId()
    step.setup()
    assert step.decide({"language": "da", "score": 0.5}, None) is None
    assert step.decide({"language": "fr", "score": 0.5}, None).rule == "low_score"
    assert LanguageId(min_score=0.2).decide({"language": "fr", "score": 0.5}, None) is None
    assert LanguageId(per_language=False).decide({"language": "da", "score": 0.5}, None).rule == "low_score"


def test_every_lid_language_has_a_family():
    families = set(SCRIPT_OF.values())
    assert {"han", "kana", "hangul", "thai", "indic", "arabic", "cyrillic", "clusters"} <= families


@pytest.mark.parametrize(
    ("language", "text", "words"),
    [
        ("hi", "पिछले साल की बात है", ["पिछले", "साल", "की", "बात", "है"]),
        ("ar", "الْعَرَبِيَّة لغة جميلة.", ["الْعَرَبِيَّة", "لغة", "جميلة", "."]),
        ("he", "שָׁלוֹם עוֹלָם", ["שָׁלוֹם", "עוֹלָם"]),
        ("ta", "தமிழ் மொழி", ["தமிழ்", "மொழி"]),
    ],
)
def test_combining_marks_stay_inside_words(language: str, text: str, words: list[str]):
    assert split_words(text, language) == words


def test_segmenters_cut_unspaced_scripts_into_words():
    zh = split_words("中文分词是自然语言处理的基础。", "zh")
    assert zh[:3] == ["中文", "分词", "是"] and zh[-1] == "。"
    ja = split_words("日本語の文章を単語に分割します。", "ja")
    assert "の" in ja and ja[-1] == "。" and len(ja) >= 8
    ko = split_words("한국어 형태소 분석기입니다.", "ko")
    assert ko[0] == "한국어" and len(ko) >= 4
    # Kiwi loads without its multi-word dictionary (bench/bench_segmenters.py): a WikiData name
    # is its words, not one token spanning the spaces
    assert split_words("보스니아 헤르체고비나 공화국에 갔다.", "ko")[:3] == ["보스니아", "헤르체고비나", "공화국"]
    th = split_words("ภาษาไทยเขียนติดกันไม่มีช่องว่าง", "th")
    assert "".join(th) == "ภาษาไทยเขียนติดกันไม่มีช่องว่าง" and len(th) >= 4
    # Lao has no segmenter: grapheme clusters (a letter with its marks)
    assert grapheme_clusters("ກິ່ງ") == ["ກິ່", "ງ"]
    assert split_words("ກິ່ງ hello", "lo") == ["ກິ່", "ງ", "hello"]


def test_chinese_prose_passes_the_quality_rules_that_counted_sentences_as_words():
    kept_docs, ctx = run_step(GopherQuality(), [CHINESE], "zh")
    assert kept_docs, ctx.rejected_records
    kept_docs, ctx = run_step(FineWebQuality(), [CHINESE], "zh")
    assert kept_docs, ctx.rejected_records


def test_shingle_units_by_script_match_the_reference():
    rng = random.Random(5)
    alphabet = "ab中文日本語ひらがなカタカナภาษาไทย한국어 ,.\n_-é"
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randrange(40)))
        assert re.findall(r"\w+", shingle_text(spread_mostly_unspaced(text))) == shingle_units_reference(text), text
    assert shingle_text("plain ascii") == "plain ascii"
    assert not has_unspaced("Привет, мир") and has_unspaced("日本")
    # A Chinese page is shingled by characters throughout, its Latin words too; an English page with
    # a Chinese name keeps its words.
    assert shingle_units_reference("用 Python 写") == ["用", "P", "y", "t", "h", "o", "n", "写"]
    english = "The bridge over the river was built by 李 a century ago and still carries traffic"
    assert shingle_units_reference(english)[:3] == ["The", "bridge", "over"] and "李" in shingle_units_reference(english)


def _edited(text: str, every: int) -> str:
    return "".join("X" if i % every == every // 2 else c for i, c in enumerate(text))


def test_minhash_finds_near_copies_of_unspaced_pages_and_can_dedup_per_language(tmp_path: Path):
    base = CHINESE * 2 + "附录：" + "".join(chr(0x4E00 + (i * 37) % 5000) for i in range(300))
    records = [
        {"id": "a", "text": base, "metadata": {"language": "zh"}},
        {"id": "b", "text": _edited(base, 100), "metadata": {"language": "zh"}},  # 1 % of characters edited
        {"id": "c", "text": base, "metadata": {"language": "ja"}},
    ]
    source = write_jsonl(tmp_path / "in.jsonl", records)
    run_recipe([source], tmp_path / "all", [{"step": "minhash"}], workers=1)
    assert {r["id"]: r["duplicate_of"] for r in rejected(tmp_path / "all")} == {"b": "a", "c": "a"}
    run_recipe([source], tmp_path / "per", [{"step": "minhash", "per_language": True}], workers=1)
    assert {r["id"]: r["duplicate_of"] for r in rejected(tmp_path / "per")} == {"b": "a"}
    assert {r["id"] for r in kept(tmp_path / "per")} == {"a", "c"}


def test_words_follow_the_reference_tokenizer_of_each_language():
    # Chinese: what is not Han is cut as jieba cuts it (letter-digit runs, symbol runs, single characters).
    assert split_words("使用 --ignore-garbage 选项 www.gnu.org 3.5 50%", "zh") == [
        "使用", "--", "ignore", "-", "garbage", "选项", "www", ".", "gnu", ".", "org", "3.5", "50%",
    ]
    # Japanese: SudachiPy's short units keep loanwords whole.
    assert "アセンブラ" in split_words("アセンブラの使い方", "ja")
    # Polish (as spaCy 3 cuts it): every hyphen inside a word, a period before a digit and after an initial split; "..." stays.
    assert split_words("--help -n ... a.. 8-bit 1.21 S.", "pl") == [
        "-", "-", "help", "-n", "...", "a", ".", ".", "8", "-", "bit", "1", ".", "21", "S", ".",
    ]
    # spaCy's default rule for Russian: a hyphen between two letters splits.
    assert split_words("из-за", "ru") == ["из", "-", "за"]
    # Hungarian keeps compounds, an ordinal's period and x/y whole.
    assert split_words("e-mail 3. és/vagy", "hu") == ["e-mail", "3.", "és/vagy"]


def test_long_japanese_text_is_segmented_in_pieces_sudachi_accepts():
    text = "日本語の文章です。" * 6000  # 162 kB of UTF-8, over SudachiPy's 49,149-byte limit
    words = split_words(text, "ja")
    assert "".join(words) == text


def test_segmenters_are_never_given_runs_that_stall_them():
    # Kiwi's time grows faster than a run without spaces: such runs go to the rule-based tokenizer.
    assert split_words("-" * 100_000, "ko") == ["-" * 100_000]
    assert len(split_words("a-" * 20_000, "ko")) == 39_999
    assert split_words("한국어 " + "x" * 70 + " 끝", "ko")[-2:] == ["x" * 70, "끝"]


def test_line_lengths_count_chinese_and_japanese_characters_by_the_text_they_hold():
    assert line_length("share this") == 10
    assert line_length("这座桥建于一百多年前。") == 31  # 10 ideographs x 3 + the full stop
    assert line_length("Привет") == 6 and utf8_line_length("Привет".encode()) == 6  # characters, not bytes
    assert utf8_line_length("桥".encode()) == 3
    # A repeated Chinese sentence is repaired; a repeated short Latin line of as many characters is not.
    sentence = "这座桥建于一百多年前。"
    repaired, removed, _ = repair_repetition(f"{sentence}\n其他内容在这里。\n{sentence}\n", 30)
    assert removed == 1 and repaired.count(sentence) == 1
    short = "Share this"
    assert repair_repetition(f"{short}\nother text here\n{short}\n", 30)[1] == 0


def test_words_follow_spacys_rules_of_each_language():
    # Expected lists are what spaCy 3 (spacy.blank(code), what datatrove runs for FineWeb-2) gives.
    german = "Siehe ⟨https://www.gnu.org/licenses/gpl-3.0.html⟩. z. B. 1. Inc. ls(1)): e.g. U.S. ⟨debian-l10n-german@lists.debian.org⟩."
    assert split_words(german, "de") == [
        "Siehe", "⟨https://www.gnu.org", "/", "licenses", "/", "gpl-3.0.html⟩.", "z.", "B.", "1.", "Inc.", "ls(1", ")", "):",
        "e.g.", "U.S.", "⟨debian-l10n-german@lists.debian.org⟩.",
    ]
    assert split_words("-O[Dateiname] DATEI(en)", "de") == ["-O", "[", "Dateiname", "]", "DATEI", "(", "en", ")"]
    assert split_words("см. e.g. l. 8): x", "ru") == ["см.", "e.g", ".", "l.", "8)", ":", "x"]
    french = "Voir sous-répertoires, Jean-Pierre (nom-du-paquet) well-known"
    assert split_words(french, "fr") == ["Voir", "sous-répertoires", ",", "Jean-Pierre", "(", "nom-du-paquet", ")", "well", "-", "known"]


def test_the_sketch_shingles_a_mostly_unspaced_document_by_characters():
    from tamis.dedup.lsh import permutations
    from tamis.dedup.minhash import sketch_units

    sketch, mode, prepare = sketch_units(False)
    a, b = permutations(1, 20)
    # the sketch decides per document (mode 8): the units of "用 P y t h o n 写"
    assert sketch([prepare("用 Python 写")], 5, mode, a, b, 4, 5) == sketch(["用 P y t h o n 写"], 5, mode, a, b, 4, 5)
    assert sketch([prepare("用 Python 写")], 5, mode, a, b, 4, 5) != sketch(["用 Python 写"], 5, mode & ~8, a, b, 4, 5)
    english = "The bridge over the river was built by 李 a century ago and still carries traffic"
    assert prepare(english) == english  # the sketch itself makes 李 a unit


def test_settings_built_on_demand_equal_those_built_at_once():
    # SETTINGS builds a language's settings when it is first asked for; built all at once, in
    # the order of the sources (hand-written, FineWeb-2's, derived), they are the same.
    from tamis.steps.quality import languages
    from tamis.steps.quality.language_data import DERIVED

    eager = dict(languages._HAND_WRITTEN)
    for code, data in FINEWEB2.items():
        eager[code] = languages._fineweb2_settings(code, data)
    for code in DERIVED:
        if code not in eager:
            eager[code] = languages._derived_settings(code)
    assert list(SETTINGS) == list(eager) == list(languages.SUPPORTED_LANGUAGES) and len(SETTINGS) == len(eager)
    assert all(SETTINGS[code] == eager[code] and settings_for(code) is SETTINGS[code] for code in eager)
    assert "ug" not in SETTINGS and SETTINGS.get("ug") is None and settings_for("ug").source == "script family"
    with pytest.raises(KeyError):
        SETTINGS["ug"]


def test_importing_the_settings_builds_none():
    import subprocess
    import sys

    code = "from tamis.steps.quality import languages as l; assert not l._BUILT; l.settings_for('fr'); assert list(l._BUILT) == ['fr']"
    subprocess.run([sys.executable, "-c", code], check=True)
