"""Language identification with the bundled fastText model."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quality_docs import ENGLISH_ARTICLE, FRENCH_ARTICLE, reasons, run_step

from tamis.errors import ConfigError
from tamis.pipeline import build_steps
from tamis.steps.language import LanguageId
from tamis.steps.quality.languages import SUPPORTED_LANGUAGES

GERMAN = ("Der Gemeinderat hat am Dienstag beschlossen, die alte Brücke über den Fluss zu erneuern. "
          "Die Arbeiten sollen im Frühjahr beginnen und werden etwa zwei Jahre dauern.")
SPANISH = ("El ayuntamiento aprobó el martes la reforma del mercado central, que lleva años cerrado. "
           "Las obras comenzarán en primavera y durarán casi dos años.")
FINNISH = ("Kaupunginvaltuusto päätti tiistaina korjata vanhan sillan joen yli. "
           "Työt alkavat keväällä ja kestävät noin kaksi vuotta.")


def test_identifies_and_records_language():
    kept, ctx = run_step(LanguageId(), [FRENCH_ARTICLE, ENGLISH_ARTICLE, GERMAN, SPANISH])
    assert [doc.metadata["language"] for doc in kept] == ["fr", "en", "de", "es"]
    assert all(doc.metadata["language_score"] > 0.65 for doc in kept)
    assert not ctx.rejected_records


def test_default_allows_every_language_and_a_list_narrows_it():
    assert LanguageId().allow == ["*"]
    kept, _ = run_step(LanguageId(), [FINNISH])
    assert kept[0].metadata["language"] == "fi"
    kept, ctx = run_step(LanguageId(allow=list(SUPPORTED_LANGUAGES[:7])), [FINNISH])
    assert not kept
    assert reasons(ctx) == ["language:not_allowed"]
    assert ctx.rejected_records[0]["metadata"]["language"] == "fi"


def test_allow_everything_and_restrict():
    kept, _ = run_step(LanguageId(allow=["*"]), [FINNISH])
    assert kept[0].metadata["language"] == "fi"
    kept, ctx = run_step(LanguageId(allow=["fr"]), [FRENCH_ARTICLE, ENGLISH_ARTICLE])
    assert [doc.id for doc in kept] == ["d0"]
    assert reasons(ctx) == ["language:not_allowed"]


def test_low_score():
    mixed = "OK merci danke gracias thanks ciao"
    kept, ctx = run_step(LanguageId(allow=["*"], min_score=0.99), [mixed])
    assert not kept
    assert reasons(ctx) == ["language:low_score"]
    assert ctx.rejected_records[0]["metadata"]["language_score"] < 0.99


def test_text_without_letters_has_no_language():
    _, ctx = run_step(LanguageId(), ["12 34 56 -- !!"])
    assert reasons(ctx) == ["language:low_score"]
    assert ctx.rejected_records[0]["metadata"]["language"] is None


def test_bad_parameters_are_config_errors():
    with pytest.raises(ConfigError, match="min_score"):
        build_steps([{"step": "language", "min_score": 3}])
    with pytest.raises(ConfigError, match="allow"):
        build_steps([{"step": "language", "allow": "fr"}])
    step = LanguageId(model_path="/nonexistent/model.ftz")
    with pytest.raises(ConfigError, match="not found"):
        step.setup()


# ---------------------------------------------------- the compiled fastText predict vs fastText's

_ODD_TEXTS = [
    "", " ", "\n\n", "a", "</s>", "Hello </s> Bonjour le monde", "__label__fr __label__xx bonjour", "x\0y Das ist ein Test",
    "tab\tsep\vvt\fff\rcr\x1cfs\x85nel\xa0nbsp\u2003em\u3000ideo\u2028ls end", "naïve café ", "日本語のテキストです。中文文本。",
    "한국어 텍스트입니다", "ไทย ภาษา", "Ελληνικά κείμενα", "русский текст", "العربية", "😀 emoji 🇫🇷 flags", "é" * 300,
    "x" * 70 + " " + "x" * 70, "Ünïcödé\u0301 combining", "mixed English et français und Deutsch",
]


@pytest.fixture(scope="module")
def lid_models():
    import fasttext

    from tamis.steps import fasttext_model
    from tamis.steps.language import bundled_model_path

    path = bundled_model_path()
    model = fasttext_model.read_model(path)
    return model, fasttext_model.CompiledPredictor(model), fasttext.load_model(str(path))


def _fasttext_predict(library_model, text: str) -> tuple[str, float]:
    labels, probabilities = library_model.predict(" ".join(text.split()), k=1)  # what tamis fed fastText
    return labels[0].removeprefix("__label__"), float(probabilities[0])


def _assert_same(found, expected) -> None:
    assert found is not None
    assert found[0] == expected[0]
    assert found[1] == pytest.approx(expected[1], abs=1e-6)


def test_lid176_is_the_bundled_quantized_hierarchical_softmax_model(lid_models):
    from tamis.steps import fasttext_model

    model, _, _ = lid_models
    assert fasttext_model.compiled_supported(model)
    assert (model.dim, model.minn, model.maxn, model.word_ngrams, model.osz) == (16, 2, 4, 1, 176)
    assert model.pruneidx_size > 0 and model.rows.shape == (model.nwords + model.pruneidx_size, 16)


def test_compiled_predict_equals_fasttext_and_the_reference(lid_models):
    from tamis.steps import fasttext_model

    model, compiled, library = lid_models
    texts = [*_ODD_TEXTS, ENGLISH_ARTICLE, FRENCH_ARTICLE, GERMAN, SPANISH, FINNISH, ENGLISH_ARTICLE * 20]
    for text in texts:
        expected = _fasttext_predict(library, text)
        _assert_same(compiled.predict(text), expected)
        _assert_same(fasttext_model.predict_reference(model, text), expected)
        _assert_same(compiled.predict(text), expected)  # again, from the cache


def test_identifier_uses_the_compiled_path_and_keeps_its_verdicts(lid_models):
    from tamis.steps.language import FastTextIdentifier

    _, _, library = lid_models
    identifier = FastTextIdentifier()
    assert identifier._compiled is not None and identifier._model is None
    for text in [ENGLISH_ARTICLE, GERMAN, "naïve café", "</s> bonjour"]:
        code, score = identifier.predict(text)
        expected = _fasttext_predict(library, text)
        assert code == expected[0] and score == pytest.approx(min(expected[1], 1.0), abs=1e-6)
    assert identifier.predict("12 34 -- !!\n\t") == (None, 0.0)
    assert identifier.predict("a\ud800b lone surrogate")[0] is not None  # no crash: the surrogate reads as '?'


def test_separators_are_python_whitespace_and_nul():
    from tamis._native import _fasttext

    for code in range(0x110000):
        assert _fasttext.is_separator(code) == (chr(code).isspace() or code == 0), hex(code)


_PIECES = st.sampled_from(["the", "le", "der", "и", "日本", "한국", "é", "</s>", "__label__", "__label__en", "x" * 66, "\0", "-", "42"])
_SPACES = st.sampled_from([" ", "\n", "\t", "\v", "\f", "\r", "\x1c", "\x85", "\xa0", "\u2003", "\u3000", "\u2028", "  ", ""])
_TEXTS = st.lists(st.one_of(_PIECES, _SPACES, st.text(max_size=6)), max_size=30).map("".join)


@settings(max_examples=150, deadline=None)
@given(_TEXTS)
def test_compiled_predict_equals_fasttext_on_generated_text(lid_models, text):
    from tamis.steps import fasttext_model

    model, compiled, library = lid_models
    if any(0xD800 <= ord(c) <= 0xDFFF for c in text):  # fastText cannot take a lone surrogate
        return
    expected = _fasttext_predict(library, text)
    _assert_same(compiled.predict(text), expected)
    _assert_same(fasttext_model.predict_reference(model, text), expected)


def test_a_full_cache_is_emptied_and_predictions_stay_fasttexts(lid_models):
    from tamis.steps import fasttext_model

    model, _, library = lid_models
    small = fasttext_model.CompiledPredictor(model, max_cached=40)
    words = [f"mot{i}x{'é' * (i % 5)}" for i in range(300)]
    for start in range(0, 300, 25):
        text = " ".join(words[start : start + 60]) + " " + "z" * 80  # new tokens each time, and one too long to cache
        _assert_same(small.predict(text), _fasttext_predict(library, text))
        assert small.cache_size() <= 40


def test_the_cache_table_doubles_as_it_fills_and_predictions_stay_fasttexts(lid_models):
    """The cache's slot table starts at the dictionary's size and doubles (every record
    indexed again) as new tokens come: 40,000 of them double it three times; each token is
    still found (asked again, in another order) and every prediction is fastText's."""
    import random

    from tamis.steps import fasttext_model

    model, _, library = lid_models
    grown = fasttext_model.CompiledPredictor(model)
    words = [f"w{i}{'ß' * (i % 3)}q" for i in range(40_000)]
    texts = [" ".join(words[start : start + 400]) for start in range(0, len(words), 400)]
    again = list(texts)
    random.Random(3).shuffle(again)
    for text in texts + again[:20]:
        _assert_same(grown.predict(text), _fasttext_predict(library, text))
    assert grown.cache_size() == len(words)


def test_tokens_answered_from_the_front_cache_predict_as_fasttext(lid_models):
    # Short tokens' ids are kept in a direct-mapped front cache (fasttext.c): a text seen again is
    # answered from it, tokens at its bounds (18 / 19 bytes, many n-gram ids) and "</s>" (which
    # ends the line, and is never kept there) must not change a prediction, nor may more distinct
    # tokens than its 8,192 entries (collisions replace entries).
    from tamis.steps import fasttext_model

    model, _, library = lid_models
    fresh = fasttext_model.CompiledPredictor(model)
    texts = [
        "the cat sat on the mat " * 3,
        "x" * 18 + " " + "y" * 19 + " " + "é" * 9 + " " + "ü" * 10 + " internationalisation",
        "bonjour </s> hello",
        "hello </s> bonjour </s> hallo",
        " ".join(f"w{i}q{'ä' * (i % 4)}" for i in range(12_000)),
    ]
    for _ in range(2):
        for text in texts:
            _assert_same(fresh.predict(text), _fasttext_predict(library, text))


def test_the_compiled_models_buffers_read_without_numpy_equal_the_references_arrays(lid_models):
    import dataclasses

    from tamis.steps import fasttext_model
    from tamis.steps.language import bundled_model_path

    model, _, _ = lid_models
    buffers, expected = fasttext_model.read_buffers(bundled_model_path()), fasttext_model._buffers_of(model)
    for field in dataclasses.fields(fasttext_model.ModelBuffers):
        assert getattr(buffers, field.name) == getattr(expected, field.name), field.name
    assert len(buffers.rows) == 4 * model.rows.size and len(buffers.prune_keys) == 4 * model.pruneidx_size


def test_the_compiled_dictionary_reads_what_the_python_one_reads():
    import struct

    from tamis.steps import fasttext_model
    from tamis.steps.language import bundled_model_path

    whole = bundled_model_path().read_bytes()
    reader = fasttext_model._Reader(whole)
    reader.take("ii"), reader.take("12id")
    size = reader.take("iii")[0]
    reader.take("qq")
    start = reader.at
    entries, counts, is_label = fasttext_model._dictionary(reader, size)
    end = reader.at
    reader.at = start
    assert fasttext_model._compiled_dictionary(reader, size) == (entries, counts, bytes(is_label))
    assert reader.at == end and size == len(entries) > 7000 and sum(is_label) == 176
    # a made-up dictionary: empty words, bytes above 127, counts of every sign, types other than 0 and 1
    made = [(b"", 0, 0), (b"\xff\x80abc", -5, 1), (b"__label__x", 2**62, 1), (b"w", 7, 2), (b"v" * 300, -(2**63), -1)]
    blob = b"".join(word + b"\0" + struct.pack("<qb", count, kind) for word, count, kind in made)
    for at, data in ((0, blob), (3, b"pad" + blob + b"tail")):
        python_reader, compiled_reader = fasttext_model._Reader(data), fasttext_model._Reader(data)
        python_reader.at = compiled_reader.at = at
        entries, counts, is_label = fasttext_model._dictionary(python_reader, len(made))
        assert fasttext_model._compiled_dictionary(compiled_reader, len(made)) == (entries, counts, bytes(is_label))
        assert python_reader.at == compiled_reader.at == at + len(blob)
    for cut in range(len(blob)):  # cut short anywhere: both refuse it
        with pytest.raises((ValueError, struct.error)):
            fasttext_model._dictionary(fasttext_model._Reader(blob[:cut]), len(made))
        with pytest.raises(ValueError):
            fasttext_model._compiled_dictionary(fasttext_model._Reader(blob[:cut]), len(made))


def test_a_file_that_is_not_a_fasttext_model_is_left_to_the_library(tmp_path):
    from tamis.steps import fasttext_model

    path = tmp_path / "model.bin"
    path.write_bytes(b"not a model at all" * 10)
    assert fasttext_model.load(path) is None
    from tamis.steps.language import bundled_model_path

    whole = bundled_model_path().read_bytes()
    for cut in (100, len(whole) // 2, len(whole) - 4):  # cut short: no crash, left to the library (which says why)
        path.write_bytes(whole[:cut])
        assert fasttext_model.load(path) is None


@pytest.mark.parametrize(("dsub", "lastdsub", "qnorm"), [(2, 2, True), (2, 2, False), (3, 1, True), (4, 2, False), (5, 5, False)])
def test_dequantized_rows_equal_fasttexts_add_code_row_by_row(dsub, lastdsub, qnorm):
    """The one-gather dequantisation and the compiled one (what a run reads lid.176 with) equal
    fastText's ProductQuantizer::addcode, written row by row (the last sub-quantizer has its own
    width), bit for bit in float32."""
    import struct

    import numpy as np

    from tamis.steps import fasttext_model

    rng = np.random.default_rng(dsub * 10 + lastdsub)
    m, nsubq, ksub = 37, 4, fasttext_model._KSUB
    dim = dsub * (nsubq - 1) + lastdsub
    codes = rng.integers(0, ksub, size=m * nsubq, dtype=np.uint8)
    centroids = rng.standard_normal(dim * ksub).astype(np.float32)
    norm_codes = rng.integers(0, ksub, size=m, dtype=np.uint8)
    norm_centroids = rng.standard_normal(ksub).astype(np.float32)
    blob = struct.pack("<?qqi", qnorm, m, dim, m * nsubq) + codes.tobytes()
    blob += struct.pack("<iiii", dim, nsubq, dsub, lastdsub) + centroids.tobytes()
    if qnorm:
        blob += norm_codes.tobytes() + struct.pack("<iiii", 1, 1, 1, 1) + norm_centroids.tobytes()
    rows = fasttext_model._quantized_rows(fasttext_model._Reader(blob))
    assert fasttext_model._quantized_buffer(fasttext_model._Reader(blob)) == rows.tobytes()
    for i in range(m):
        alpha = norm_centroids[norm_codes[i]] if qnorm else np.float32(1.0)
        expected = np.zeros(dim, dtype=np.float32)
        for sub in range(nsubq):
            code = int(codes[i * nsubq + sub])
            start = sub * ksub * dsub + code * lastdsub if sub == nsubq - 1 else (sub * ksub + code) * dsub
            for k in range(lastdsub if sub == nsubq - 1 else dsub):
                expected[sub * dsub + k] += alpha * centroids[start + k]
        assert rows[i].tobytes() == expected.tobytes()


def test_tokens_of_every_length_and_separators_at_every_offset_predict_as_fasttext(lid_models):
    # The compiled scan reads a token 16 bytes at a time and the caches hash and compare it 8 bytes
    # at a time (fasttext.c: plain_run_end, token_hash, same_short): tokens of 1 to 40 bytes, ASCII
    # or not, tokens that differ in one byte only (each answered again from the front cache), and
    # every separator (and two control characters that are not) at every offset of a 16-byte block.
    from tamis.steps import fasttext_model

    model, _, library = lid_models
    fresh = fasttext_model.CompiledPredictor(model)
    letters = "thequickbrownfoxjumpsoverthelazydogagain"
    texts = [" ".join(letters[:length] for length in range(1, 41)), " ".join(letters[:length] + "é" for length in range(1, 30))]
    for length in range(1, 25):
        for at in range(length):
            texts.append(" ".join(letters[:length][:at] + c + letters[:length][at + 1 :] for c in "xyz"))
    for separator in [" ", "\t", "\n", "\x1c", "\0", "\x85", "\xa0", "\u3000", "\x7f", "\x01"]:
        for offset in range(17):
            texts.append("w" * offset + separator + "bonjour" + separator + "é" * offset + separator + "le monde")
    for _ in range(2):
        for text in texts:
            _assert_same(fresh.predict(text), _fasttext_predict(library, text))


def test_tokens_whose_cache_hashes_collide_are_told_apart_by_their_bytes(lid_models):
    # The caches place a token by token_hash (32 bits) and decide by its bytes: tokens of one
    # length with the same hash meet in the same front-cache entry and slot chain; each must keep
    # its own ids (fastText's prediction), whichever was seen first.
    from tamis._native import _fasttext
    from tamis.steps import fasttext_model

    model, _, library = lid_models
    seen: dict[int, bytes] = {}
    pairs = []
    for i in range(300_000):
        token = b"k%010dz" % i
        other = seen.setdefault(_fasttext.token_hash(token), token)
        if other != token:
            pairs.append((other.decode(), token.decode()))
    assert pairs
    fresh = fasttext_model.CompiledPredictor(model)
    for first, second in pairs[:8]:
        for text in (first, second, first, second, f"{second} {first}"):
            _assert_same(fresh.predict(text), _fasttext_predict(library, text))
