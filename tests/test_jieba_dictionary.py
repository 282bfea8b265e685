"""jieba_dictionary: rjieba's cut with its dictionary given as texts hold its words, against
``Jieba()`` (the whole dictionary, built at rjieba's import)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("rjieba")

from hypothesis import given, settings
from hypothesis import strategies as st

from tamis.steps.quality import jieba_dictionary

# Real sentences of the kinds the bench's pages hold: man-page prose, options and paths among
# Chinese, traditional characters, digits and symbols jieba-rs keeps inside its runs.
TEXTS = [
    "我们中出了一个叛徒",
    "南京市长江大桥欢迎您。他来到了网易杭研大厦，小明硕士毕业于中国科学院计算所，后在日本京都大学深造",
    "login 命令用于登录系统。如果没有提供参数，将提示输入用户名。参见 /etc/login.defs 和 passwd(5)。",
    "使用 --help 显示帮助信息并退出；www.gnu.org 上有 C++ 和 AT&T 语法的说明，3.5% 的用户选择了 A股。",
    "useradd 指令會建立新的使用者帳號，預設值取自 /etc/default/useradd 檔案。\n\n選項：\n  -d, --home-dir 主目錄",
    "工信处女干事每月经过下属科室都要亲口交代24口交换机等技术性器件的安装工作",
    "结婚的和尚未结婚的；他说的确实在理；乒乓球拍卖完了",
    "ＡＢＣ全角字母、𠀀𠀁扩展汉字、Ⅳ罗马数字、γ射线和α粒子",
    "",
    "   \n\t  ",
]


@pytest.fixture(scope="module")
def parts():
    module = jieba_dictionary.extension_module()
    assert module is not None
    found = jieba_dictionary.dictionary_frame(Path(module.__file__).read_bytes())
    assert found is not None, "no dictionary frame found in rjieba's library"
    return module, found


@pytest.fixture(scope="module")
def parsed(parts) -> dict[str, int]:
    """The dictionary as jieba-rs's load_dict reads it, in plain Python (every line)."""
    _, (text, _) = parts
    words: dict[str, int] = {}
    for line in text.decode("utf-8").split("\n")[:-1]:
        fields = line.split()  # jieba-rs: split_whitespace
        assert line == " ".join(fields) and len(fields) == 3, line  # exactly "word freq tag", one space apart
        assert min(fields[0]) > " ", line  # a word sorts after its own first character's line
        words[fields[0]] = int(fields[1])
    return words


def test_the_installed_dictionary_is_a_known_one_and_its_count_and_total_are_the_stored_ones(parts, parsed) -> None:
    _, (text, fingerprint) = parts
    assert fingerprint in jieba_dictionary.KNOWN_DICTIONARIES, (
        f"rjieba's dictionary frame {fingerprint:#x} is new: check this file's tests pass with it, then add it")
    lines = text.decode("utf-8").split("\n")[:-1]
    assert len(parsed) == len(lines)  # no word twice (a later line would change an earlier word's frequency)
    assert lines == sorted(lines)  # the bisection's order
    assert jieba_dictionary.KNOWN_DICTIONARIES[fingerprint] == (len(parsed), sum(parsed.values()))


def _words_in_reference(words: dict[str, int], text: str) -> dict[str, int]:
    longest = max(map(len, words))
    return {text[i:j]: words[text[i:j]] for i in range(len(text)) for j in range(i + 1, min(i + longest, len(text)) + 1)
            if text[i:j] in words}


@pytest.fixture(scope="module")
def dictionary(parts, parsed) -> jieba_dictionary.Dictionary:
    _, (text, _) = parts
    return jieba_dictionary.Dictionary(text, sum(parsed.values()))


def test_words_in_finds_every_dictionary_word_a_text_holds(dictionary, parsed) -> None:
    for text in TEXTS:
        assert dictionary.words_in(text) == _words_in_reference(parsed, text), text


@pytest.fixture(scope="module")
def alphabet(parsed) -> list[str]:
    """Dictionary words (so that runs of them meet), characters of their first and later
    positions, and what separates runs: spaces, punctuation, ASCII."""
    words = sorted(parsed)
    return words[::997] + sorted({c for w in words[::211] for c in w}) + list(" \n。，、；：a1.-+#%&_()/")


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_words_in_matches_the_reference_on_generated_text(dictionary, parsed, alphabet, data) -> None:
    text = "".join(data.draw(st.lists(st.sampled_from(alphabet), max_size=40)))
    assert dictionary.words_in(text) == _words_in_reference(parsed, text)


@pytest.fixture(scope="module")
def full(parts):
    module, _ = parts
    return module.Jieba()


def test_lazy_cuts_are_jiebas_cuts(parts, dictionary, full) -> None:
    module, _ = parts
    lazy = jieba_dictionary.LazyJieba(module, dictionary)
    for text in TEXTS * 2:  # again with every word already added
        assert lazy.cut(text) == full.cut(text), text


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_lazy_cuts_are_jiebas_cuts_on_generated_text(parts, dictionary, full, alphabet, data) -> None:
    module, _ = parts
    lazy = jieba_dictionary.LazyJieba(module, dictionary)
    for _ in range(3):  # one instance over several texts: words added by one text stay for the next
        text = "".join(data.draw(st.lists(st.sampled_from(alphabet), max_size=60)))
        assert lazy.cut(text) == full.cut(text)


def test_past_the_limit_the_whole_dictionary_is_built_and_cuts_stay_the_same(parts, dictionary, full) -> None:
    module, _ = parts
    lazy = jieba_dictionary.LazyJieba(module, dictionary, limit=60)
    for text in TEXTS:
        assert lazy.cut(text) == full.cut(text)
    assert lazy._full is not None


def test_rjieba_imported_later_is_the_same_module(parts) -> None:
    import rjieba

    module, _ = parts
    assert rjieba.Jieba is module.Jieba
    assert rjieba.cut(TEXTS[1]) == module.Jieba().cut(TEXTS[1])


def test_the_segmenter_cuts_as_with_rjiebas_import(monkeypatch) -> None:
    from tamis.steps.quality import segmenters

    segmenters._jieba.cache_clear()
    lazy = segmenters._jieba()
    segmenters._jieba.cache_clear()
    monkeypatch.setattr(jieba_dictionary, "load", lambda: None)  # rjieba.cut, Jieba() at its import
    imported = segmenters._jieba()
    segmenters._jieba.cache_clear()
    for text in TEXTS:
        assert lazy(text) == imported(text), text


def test_an_unknown_dictionary_is_not_used(monkeypatch) -> None:
    monkeypatch.setattr(jieba_dictionary, "KNOWN_DICTIONARIES", {})
    assert jieba_dictionary.load() is None
