"""fastText supervised prediction read from the model file: the compiled path and its reference.

fastText's ``predict`` costs about 2 µs per token on lid.176 (it hashes every character n-gram
of an unknown word at every occurrence); it is the language step's whole cost. This module
reads the model file itself (the ``.bin``/``.ftz`` format of fastText 0.9: arguments,
dictionary, pruning map, product-quantised or dense input matrix, output matrix) and predicts
with ``tamis._native._fasttext``, which keeps each distinct token's row ids and adds the rows in
fastText's order, in float: the same hidden vector, label and probability as fastText's, bit for
bit (``tests/test_language.py`` compares them with fasttext's own predict).

:func:`predict_reference` is the plain-Python definition (numpy float32), step by step as
fastText's C++ (``Dictionary::getLine``, ``computeSubwords``, ``pushHash``,
``Model::computeHidden``, ``HierarchicalSoftmaxLoss::dfs``); the tests compare the compiled path
with it. Only what lid.176 needs is compiled: a supervised model with hierarchical softmax and
word n-grams of 1; :func:`load` returns ``None`` for another model and the caller keeps the
fasttext library.

A run reads the file with :func:`read_buffers` (struct, ``array`` and the extension's
``dequantize``): numpy is imported by the reference's :func:`read_model` only, not by the
language step.
"""

from __future__ import annotations

import math
import struct
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

_MAGIC = 793712314
_LABEL_PREFIX = "__label__"
_EOS = b"</s>"
_LOSS_HS = 1
_MODEL_SUPERVISED = 3
_KSUB = 256  # centroids per sub-quantizer (fastText's ProductQuantizer)


@dataclass
class FastTextModel:
    """What prediction needs from a fastText model file."""

    dim: int
    minn: int
    maxn: int
    bucket: int
    word_ngrams: int
    loss: int
    model: int
    entries: list[bytes]
    is_label: list[bool]
    nwords: int
    pruneidx_size: int
    prune_pairs: np.ndarray  # int32, (bucket, row offset) pairs in file order: fastText's pruneidx
    rows: np.ndarray  # float32, the input matrix (dequantised: alpha * centroid, as fastText adds it)
    output: np.ndarray  # float32, osz x dim
    labels: list[str]  # without "__label__"
    left: np.ndarray  # int32, the hierarchical softmax's tree
    right: np.ndarray

    @property
    def osz(self) -> int:
        return len(self.labels)

    @cached_property
    def pruneidx(self) -> dict[int, int]:
        """fastText reads the (bucket, row) pairs into a map, a later pair replacing an earlier
        one: so does dict(zip(...)). Built for the reference only (~5 ms for lid.176's 43,000
        pairs): the compiled model takes the pairs as they are and keeps the later one too."""
        return dict(zip(self.prune_pairs[:, 0].tolist(), self.prune_pairs[:, 1].tolist(), strict=True))


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.at = data, 0

    def take(self, fmt: str):
        values = struct.unpack_from("<" + fmt, self.data, self.at)
        self.at += struct.calcsize("<" + fmt)
        return values if len(values) > 1 else values[0]

    def array(self, dtype: str, count: int) -> np.ndarray:
        import numpy as np

        array = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.at)
        self.at += array.nbytes
        return array


def _quantized_rows(reader: _Reader) -> np.ndarray:
    """fastText's QuantMatrix, every row as addRowToVector adds it (norm * centroid, in float32)."""
    import numpy as np

    qnorm = reader.take("?")
    m, n = reader.take("qq")
    codesize = reader.take("i")
    codes = reader.array("u1", codesize)

    def product_quantizer() -> tuple[int, int, int, int, np.ndarray]:
        dim, nsubq, dsub, lastdsub = reader.take("iiii")
        return dim, nsubq, dsub, lastdsub, reader.array("<f4", dim * _KSUB)

    _dim, nsubq, dsub, lastdsub, centroids = product_quantizer()
    norms = np.ones(m, dtype=np.float32)
    if qnorm:
        norm_codes = reader.array("u1", m)
        _, _, _, _, norm_centroids = product_quantizer()
        norms = norm_centroids[norm_codes.astype(np.int64)]  # get_centroids(0, code)[0]: dsub 1
    codes = codes.reshape(m, nsubq)
    rows = np.empty((m, n), dtype=np.float32)
    # Every sub-quantizer but the last has KSUB centroids of dsub values; a row's part for one
    # is the centroid its code names: one gather of whole centroids for them all (a gather per
    # sub-quantizer of single values was ~14 ms of each start with lid.176).
    full = nsubq - 1
    if full:
        table = centroids[: full * _KSUB * dsub].reshape(full * _KSUB, dsub)
        picked = table[codes[:, :full] + (np.arange(full, dtype=np.intp) * _KSUB)[None, :]]  # m x full x dsub
        rows[:, : full * dsub] = (norms[:, None, None] * picked).reshape(m, full * dsub)  # float32, as x += alpha * c[n]
    last = centroids[full * _KSUB * dsub : full * _KSUB * dsub + _KSUB * lastdsub].reshape(_KSUB, lastdsub)
    rows[:, full * dsub : full * dsub + lastdsub] = norms[:, None] * last[codes[:, full]]
    return rows


def _dense(reader: _Reader) -> np.ndarray:
    m, n = reader.take("qq")
    return reader.array("<f4", m * n).reshape(m, n)


def _huffman_tree(counts: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """fastText's HierarchicalSoftmaxLoss::buildTree (labels sorted by count, as the dictionary has them)."""
    import numpy as np

    left, right = _huffman_lists(counts)
    return np.array(left, dtype=np.int32), np.array(right, dtype=np.int32)


def _huffman_lists(counts: list[int]) -> tuple[list[int], list[int]]:
    osz = len(counts)
    size = 2 * osz - 1
    count = [counts[i] if i < osz else 10**15 for i in range(size)]
    left, right = [-1] * size, [-1] * size
    leaf, node = osz - 1, osz
    for i in range(osz, size):
        mini = [0, 0]
        for j in range(2):
            if leaf >= 0 and count[leaf] < count[node]:
                mini[j], leaf = leaf, leaf - 1
            else:
                mini[j], node = node, node + 1
        left[i], right[i] = mini
        count[i] = count[mini[0]] + count[mini[1]]
    return left, right


_ENTRY_TAIL = struct.Struct("<qb")  # after each word's NUL-terminated bytes: its count and its type


def _dictionary(reader: _Reader, size: int) -> tuple[list[bytes], list[int], list[bool]]:
    """fastText's Dictionary::load: ``size`` entries of (word bytes, NUL, int64 count, int8 type)."""
    data, at = reader.data, reader.at
    find, unpack = data.index, _ENTRY_TAIL.unpack_from
    entries, counts, is_label = [], [], []
    for _ in range(size):
        end = find(b"\0", at)
        entries.append(data[at:end])
        count, kind = unpack(data, end + 1)
        counts.append(count)
        is_label.append(kind == 1)
        at = end + 1 + _ENTRY_TAIL.size
    reader.at = at
    return entries, counts, is_label


def _compiled_dictionary(reader: _Reader, size: int) -> tuple[list[bytes], list[int], bytes]:
    """:func:`_dictionary` read by ``tamis._native._fasttext`` (is_label as bytes, 1 per entry):
    the Python loop was about half of lid.176's load (7,411 entries)."""
    from tamis._native import _fasttext

    entries, counts, is_label, reader.at = _fasttext.dictionary(reader.data, reader.at, size)
    return entries, counts, is_label


def _read_header(reader: _Reader, path: Path, dictionary=_dictionary) -> tuple[tuple[int, ...], list[bytes], list[int], Sequence]:
    """The arguments (dim, minn, maxn, bucket, word_ngrams, loss, model, nwords, nlabels,
    pruneidx_size) and the dictionary (entries, counts, is_label), up to the pruning pairs."""
    magic, version = reader.take("ii")
    if magic != _MAGIC or version > 12:
        msg = f"{path}: not a fastText model file"
        raise ValueError(msg)
    dim, _ws, _epoch, _min_count, _neg, word_ngrams, loss, model, bucket, minn, maxn, _lr_update, _t = reader.take("12id")
    if version == 11 and model == _MODEL_SUPERVISED:
        maxn = 0  # fastText's own compatibility rule for old supervised models
    size, nwords, nlabels = reader.take("iii")
    _ntokens, pruneidx_size = reader.take("qq")
    entries, counts, is_label = dictionary(reader, size)
    return (dim, minn, maxn, bucket, word_ngrams, loss, model, nwords, nlabels, pruneidx_size), entries, counts, is_label


def _labels(path: Path, entries: list[bytes], is_label: Sequence, nlabels: int) -> list[str]:
    labels = [e.decode("utf-8", "replace").removeprefix(_LABEL_PREFIX) for e, lab in zip(entries, is_label, strict=True) if lab]
    if len(labels) != nlabels:
        msg = f"{path}: {nlabels} labels announced, {len(labels)} found"
        raise ValueError(msg)
    return labels


def read_model(path: Path) -> FastTextModel:
    """Parse a fastText ``.bin``/``.ftz`` file (fastText 0.9's format, version 11 or 12) into
    numpy arrays: what the reference predicts with (the compiled path reads :func:`read_buffers`)."""
    import numpy as np

    reader = _Reader(Path(path).read_bytes())
    header, entries, counts, is_label = _read_header(reader, path)
    dim, minn, maxn, bucket, word_ngrams, loss, model, nwords, nlabels, pruneidx_size = header
    # Read as one array (lid.176 has ~43,000 pairs: one struct call each was half of the model's
    # load time); FastTextModel.pruneidx makes the map where the reference needs it.
    pairs = reader.array("<i4", 2 * max(pruneidx_size, 0)).reshape(-1, 2)
    rows = _quantized_rows(reader) if reader.take("?") else _dense(reader)
    qout = reader.take("?")
    if qout:
        output = _quantized_rows(reader)
    else:
        output = _dense(reader)
    labels = _labels(path, entries, is_label, nlabels)
    left, right = _huffman_tree([c for c, lab in zip(counts, is_label, strict=True) if lab])
    return FastTextModel(dim, minn, maxn, bucket, word_ngrams, loss, model, entries, is_label, nwords, pruneidx_size, pairs,
                         np.ascontiguousarray(rows, dtype=np.float32), np.ascontiguousarray(output, dtype=np.float32), labels, left, right)


@dataclass
class ModelBuffers:
    """What the compiled model is built from, as bytes (native order): :func:`read_buffers`."""

    params: tuple[int, int, int, int, int, int, int, int]  # dim, minn, maxn, bucket, nwords, pruneidx_size, loss, osz
    model: int
    word_ngrams: int
    entries: list[bytes]
    is_label: bytes
    prune_keys: bytes  # int32
    prune_values: bytes  # int32
    rows: bytes  # float32, dequantised
    output: bytes  # float32
    labels: list[str]
    left: bytes  # int32
    right: bytes

    @property
    def loss(self) -> int:
        return self.params[6]

    @property
    def osz(self) -> int:
        return self.params[7]


def _take_bytes(reader: _Reader, size: int) -> memoryview:
    if size < 0 or reader.at + size > len(reader.data):
        raise ValueError("a fastText model file cut short")
    view = memoryview(reader.data)[reader.at : reader.at + size]
    reader.at += size
    return view


def _quantized_buffer(reader: _Reader) -> bytes:
    """:func:`_quantized_rows` as float32 bytes, dequantised by ``tamis._native._fasttext``."""
    from tamis._native import _fasttext

    qnorm = reader.take("?")
    m, _n = reader.take("qq")
    codes = _take_bytes(reader, reader.take("i"))
    dim, nsubq, dsub, lastdsub = reader.take("iiii")
    centroids = _take_bytes(reader, 4 * dim * _KSUB)
    norm_codes = norm_centroids = None
    if qnorm:
        norm_codes = _take_bytes(reader, m)
        norm_dim = reader.take("iiii")[0]
        norm_centroids = _take_bytes(reader, 4 * norm_dim * _KSUB)
    return _fasttext.dequantize(codes, centroids, norm_codes, norm_centroids, m, nsubq, dsub, lastdsub)


def _dense_buffer(reader: _Reader) -> bytes:
    m, n = reader.take("qq")
    return bytes(_take_bytes(reader, 4 * m * n))


def read_buffers(path: Path) -> ModelBuffers:
    """:func:`read_model` for the compiled path: the same values as bytes, read with struct and
    ``array`` and dequantised in C, without importing numpy (~0.1 s of a run's start that needs it
    for nothing else) or numpy's temporaries. ``tests/test_language.py`` compares the two."""
    from array import array

    if sys.byteorder != "little":  # the file is little-endian; the compiled model reads native order
        msg = "the compiled fastText reader needs a little-endian machine"
        raise ValueError(msg)
    reader = _Reader(Path(path).read_bytes())
    header, entries, counts, is_label = _read_header(reader, path, _compiled_dictionary)
    dim, minn, maxn, bucket, word_ngrams, loss, model, nwords, nlabels, pruneidx_size = header
    pairs = array("i")
    pairs.frombytes(_take_bytes(reader, 8 * max(pruneidx_size, 0)))
    rows = _quantized_buffer(reader) if reader.take("?") else _dense_buffer(reader)
    output = _quantized_buffer(reader) if reader.take("?") else _dense_buffer(reader)
    labels = _labels(path, entries, is_label, nlabels)
    left, right = _huffman_lists([c for c, lab in zip(counts, is_label, strict=True) if lab])
    params = (dim, minn, maxn, bucket, nwords, pruneidx_size, loss, len(labels))
    return ModelBuffers(params, model, word_ngrams, entries, bytes(is_label), pairs[0::2].tobytes(), pairs[1::2].tobytes(), rows, output,
                        labels, array("i", left).tobytes(), array("i", right).tobytes())


def compiled_supported(model: FastTextModel | ModelBuffers) -> bool:
    """What the compiled path (and the reference) implement: lid.176's kind of model."""
    return model.model == _MODEL_SUPERVISED and model.loss == _LOSS_HS and model.word_ngrams <= 1 and model.osz > 0


# ------------------------------------------------------------------------------------ reference


def _ft_hash(data: bytes) -> int:
    """fastText's hash: FNV-1a over the bytes, each sign-extended first."""
    h = 2166136261
    for byte in data:
        h ^= (byte - 256 if byte > 127 else byte) & 0xFFFFFFFF
        h = (h * 16777619) & 0xFFFFFFFF
    return h


def _push_hash(model: FastTextModel, ids: list[int], bucket_id: int) -> None:
    if model.pruneidx_size == 0 or bucket_id < 0:
        return
    if model.pruneidx_size > 0:
        if bucket_id not in model.pruneidx:
            return
        bucket_id = model.pruneidx[bucket_id]
    ids.append(model.nwords + bucket_id)


def _subwords(model: FastTextModel, word: bytes) -> list[int]:
    """fastText's computeSubwords on ``"<" + word + ">"``."""
    word = b"<" + word + b">"
    ids: list[int] = []
    for i in range(len(word)):
        if word[i] & 0xC0 == 0x80:
            continue
        j, n = i, 1
        while j < len(word) and n <= model.maxn:
            j += 1
            while j < len(word) and word[j] & 0xC0 == 0x80:
                j += 1
            if n >= model.minn and not (n == 1 and (i == 0 or j == len(word))):
                _push_hash(model, ids, _ft_hash(word[i:j]) % model.bucket)
            n += 1
    return ids


def line_ids(model: FastTextModel, text: str) -> list[int]:
    """The input rows fastText's predict averages for ``" ".join(text.split()) + "\\n"``: its
    getLine (tokens split on its whitespace, ``</s>`` ends the line, label tokens dropped)."""
    index = {entry: i for i, entry in reversed(list(enumerate(model.entries)))}  # find() meets the first
    line = (" ".join(text.split()) + "\n").encode("utf-8")
    ids: list[int] = []
    for token in _fasttext_tokens(line):
        wid = index.get(token, -1)
        is_label = model.is_label[wid] if wid >= 0 else token.startswith(_LABEL_PREFIX.encode())
        if not is_label:
            if wid < 0:
                if token != _EOS:
                    ids += _subwords(model, token)
            else:
                ids.append(wid)
                if token != _EOS and model.maxn > 0:
                    ids += _subwords(model, token)
        if token == _EOS:
            break
    return ids


def _fasttext_tokens(line: bytes) -> list[bytes]:
    """fastText's readWord over a line: split on its seven whitespace bytes; a newline read on
    its own is the token ``</s>``."""
    tokens, word = [], bytearray()
    for byte in line:
        if byte in b" \n\r\t\v\f\0":
            if word:
                tokens.append(bytes(word))
                word.clear()
            if byte == 0x0A:
                tokens.append(_EOS)
        else:
            word.append(byte)
    if word:
        tokens.append(bytes(word))
    return tokens


def _std_log(x: np.float32) -> np.float32:
    import numpy as np

    return np.float32(math.log(float(x) + 1e-5))


def predict_reference(model: FastTextModel, text: str) -> tuple[str, float] | None:
    """fastText's predict with k = 1: (label, probability), or ``None`` without any row."""
    import numpy as np

    ids = line_ids(model, text)
    if not ids:
        return None
    hidden = np.zeros(model.dim, dtype=np.float32)
    for row in ids:  # one row after the other, in float32: fastText's order
        hidden += model.rows[row]
    hidden *= np.float32(1.0 / len(ids))
    best: list = [None, -1]

    def dot_row(row: int) -> np.float32:
        total = np.float32(0.0)
        for weight, value in zip(model.output[row], hidden, strict=True):
            total = np.float32(total + weight * value)
        return total

    threshold_log = _std_log(np.float32(0.0))

    def dfs(node: int, score: np.float32) -> None:
        if score < threshold_log or (best[1] >= 0 and score < best[0]):
            return
        if model.left[node] == -1 and model.right[node] == -1:
            best[0], best[1] = score, node  # on a tie the later leaf wins, as fastText's heap
            return
        f = dot_row(node - model.osz)
        f = np.float32(1.0 / float(np.float32(1.0) + np.float32(math.exp(-float(f)))))
        dfs(int(model.left[node]), np.float32(score + _std_log(np.float32(1.0 - float(f)))))
        dfs(int(model.right[node]), np.float32(score + _std_log(f)))

    dfs(2 * model.osz - 2, np.float32(0.0))
    return model.labels[best[1]], float(np.float32(math.exp(float(best[0]))))


# ------------------------------------------------------------------------------------- compiled


class CompiledPredictor:
    """``predict(text) -> (label, probability) | None`` through ``tamis._native._fasttext``,
    built from a :class:`FastTextModel` (numpy arrays) or from :func:`read_buffers`' bytes."""

    def __init__(self, model: FastTextModel | ModelBuffers, max_cached: int | None = None) -> None:
        from tamis._native import _fasttext

        buffers = model if isinstance(model, ModelBuffers) else _buffers_of(model)
        self.labels = buffers.labels
        # The pairs in file order: the compiled map keeps a bucket's later pair, as fastText's
        # (and the reference's dict) does; no dict round trip (~8 ms of every start).
        self._model = _fasttext.Model(
            list(buffers.entries), buffers.is_label, buffers.prune_keys, buffers.prune_values, buffers.rows, buffers.output,
            buffers.left, buffers.right, buffers.params, *([] if max_cached is None else [max_cached]),
        )

    def cache_size(self) -> int:
        """Tokens held in the cache beyond the dictionary."""
        return self._model.cache_size()

    def predict(self, text: str) -> tuple[str, float] | None:
        found = self._model.predict(text)
        if found is None:
            return None
        return self.labels[found[0]], found[1]


def _buffers_of(model: FastTextModel) -> ModelBuffers:
    import numpy as np

    params = (model.dim, model.minn, model.maxn, model.bucket, model.nwords, model.pruneidx_size, model.loss, model.osz)
    return ModelBuffers(
        params, model.model, model.word_ngrams, model.entries, bytes(model.is_label),
        np.ascontiguousarray(model.prune_pairs[:, 0], dtype=np.int32).tobytes(), np.ascontiguousarray(model.prune_pairs[:, 1], dtype=np.int32).tobytes(),
        model.rows.tobytes(), model.output.tobytes(), model.labels, model.left.tobytes(), model.right.tobytes(),
    )


def load(path: Path) -> CompiledPredictor | None:
    """The compiled predictor for the model at ``path``, or ``None`` where it does not apply
    (another kind of model, or the extension not built): the caller uses the fasttext library."""
    try:
        model = read_buffers(path)  # dequantised by the extension: no numpy on the run's path
        if not compiled_supported(model):
            return None
        return CompiledPredictor(model)
    except (ValueError, struct.error, IndexError, ImportError):  # ImportError: the extension is not built
        return None
