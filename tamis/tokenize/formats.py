"""Token shard formats: the files trainers read directly.

Formats are classes registered by name (``@register_token_format``): a new one is one class
(its suffixes, dtype rule and index files). :class:`ShardFiles` streams the tokens of one shard
(documents in their final order) and writes the format's index files when closed, every file
under a temporary name renamed into place at the end, so a reader of TOKDIR never sees a
half-written shard.

- ``megatron`` — Megatron-LM's indexed dataset (``megatron/core/datasets/indexed_dataset.py``):
  ``<name>.bin`` holds the tokens; ``<name>.idx`` is ``MMIDIDX\\x00\\x00``, version (<Q, 1),
  dtype code (<B: 8 = uint16, 4 = int32), sequence count (<Q), document count (<Q, sequences
  + 1), then int32 sequence lengths, int64 byte pointers into ``.bin`` and int64 document
  indices ``0..N`` (one sequence per document). uint16 when the vocabulary has fewer than
  65,500 entries, else int32: Megatron's own rule.
- ``datatrove`` — datatrove's ``DocumentTokenizer`` files: ``<name>.ds`` little-endian tokens
  (uint16 when the vocabulary has at most 65,536 entries, else uint32), ``<name>.ds.index``
  the uint64 cumulative end offset (in tokens) of each document, ``<name>.ds.metadata``
  ``<tokenizer>|<bytes per token>``, the token count and the count written as datatrove does.
- ``memmap`` — a flat, header-less array as OLMo-core and Dolma memory-map it
  (``<name>.npy``, uint16 or uint32 like datatrove), with ``<name>.json`` naming the dtype,
  tokenizer, token and document counts and the special tokens, so nothing is guessed.
"""

from __future__ import annotations

import math
import os
import struct
from pathlib import Path
from typing import Any, BinaryIO, ClassVar, TypeVar

import numpy as np
import orjson

from tamis.io.atomic import temp_name

MEGATRON_MAGIC = b"MMIDIDX\x00\x00"
MEGATRON_VERSION = 1
MEGATRON_DTYPE_CODES = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}
MEGATRON_UINT16_LIMIT = 65_500  # Megatron: uint16 when the vocabulary is smaller than this


class TokenFormat:
    """One shard format: its files (the tokens file first), its dtype rule and its index.

    A subclass registered with :func:`register_token_format` is a choice of ``--format``; the
    tokens file is written by :class:`ShardFiles`, the other files by :meth:`index_files`."""

    name: ClassVar[str]
    suffixes: ClassVar[tuple[str, ...]]

    @staticmethod
    def dtype(vocab_size: int) -> np.dtype:
        return np.dtype(np.uint16) if vocab_size <= 1 << 16 else np.dtype(np.uint32)

    @staticmethod
    def index_files(lengths: np.ndarray, dtype: np.dtype, count: int, info: dict[str, Any]) -> list[bytes]:
        """The bytes of every file after the tokens file, in ``suffixes`` order."""
        raise NotImplementedError


TOKEN_FORMATS: dict[str, type[TokenFormat]] = {}
T = TypeVar("T", bound=type[TokenFormat])


def register_token_format(cls: T) -> T:
    TOKEN_FORMATS[cls.name] = cls
    return cls


@register_token_format
class Megatron(TokenFormat):
    name = "megatron"
    suffixes = (".bin", ".idx")

    @staticmethod
    def dtype(vocab_size: int) -> np.dtype:
        return np.dtype(np.uint16) if vocab_size < MEGATRON_UINT16_LIMIT else np.dtype(np.int32)

    @staticmethod
    def index_files(lengths: np.ndarray, dtype: np.dtype, count: int, info: dict[str, Any]) -> list[bytes]:
        return [megatron_index(lengths, dtype)]


@register_token_format
class Datatrove(TokenFormat):
    name = "datatrove"
    suffixes = (".ds", ".ds.index", ".ds.metadata")

    @staticmethod
    def index_files(lengths: np.ndarray, dtype: np.dtype, count: int, info: dict[str, Any]) -> list[bytes]:
        metadata = "\n".join([f"{info['tokenizer']}|{np.dtype(dtype).itemsize}", str(count), humanized_count(count)])
        return [np.cumsum(lengths, dtype=np.uint64).astype("<u8").tobytes(), metadata.encode()]


@register_token_format
class Memmap(TokenFormat):
    name = "memmap"
    suffixes = (".npy", ".json")

    @staticmethod
    def index_files(lengths: np.ndarray, dtype: np.dtype, count: int, info: dict[str, Any]) -> list[bytes]:
        sidecar = {"format": "memmap", "dtype": np.dtype(dtype).name, "byteorder": "little", "tokens": count, "documents": len(lengths), **info}
        return [orjson.dumps(sidecar, option=orjson.OPT_INDENT_2)]


FORMATS = tuple(TOKEN_FORMATS)


def token_dtype(fmt: str, vocab_size: int) -> np.dtype:
    """The narrowest dtype the format's readers accept for ids below ``vocab_size``."""
    return TOKEN_FORMATS[fmt].dtype(vocab_size)


def shard_suffixes(fmt: str) -> tuple[str, ...]:
    return TOKEN_FORMATS[fmt].suffixes


def humanized_count(value: int) -> str:
    """``humanize.metric(value, "T")``: the third line datatrove writes in ``.ds.metadata``."""
    if value == 0:
        return "0.00 T"
    exponent = math.floor(math.log10(abs(value)))
    bucket = exponent // 3 * 3
    scaled = value / 10**bucket
    digits = max(0, 3 - exponent % 3 - 1)
    if round(abs(scaled), digits) >= 10 ** (exponent % 3 + 1):  # 999.6 -> 1.00 k
        exponent += 1
        new_bucket = exponent // 3 * 3
        scaled /= 10 ** (new_bucket - bucket)
        bucket = new_bucket
        digits = max(0, 3 - exponent % 3 - 1)
    prefix = {0: "", 3: "k", 6: "M", 9: "G", 12: "T", 15: "P", 18: "E", 21: "Z", 24: "Y", 27: "R", 30: "Q"}[bucket]
    return f"{scaled:.{digits}f} {prefix}T"


class ShardFiles:
    """The files of one shard: tokens streamed in, index written at :meth:`close`."""

    def __init__(self, directory: Path, name: str, fmt: str, dtype: np.dtype, info: dict[str, Any]) -> None:
        self.directory = directory
        self.name = name
        self.fmt = fmt
        self.dtype = np.dtype(dtype).newbyteorder("<")
        self.info = info
        self.finals = [directory / f"{name}{suffix}" for suffix in shard_suffixes(fmt)]
        self.temps = [temp_name(p) for p in self.finals]
        directory.mkdir(parents=True, exist_ok=True)
        self._tokens: BinaryIO = open(self.temps[0], "wb")  # noqa: SIM115 - closed in close/abort
        self.count = 0

    def write(self, tokens: np.ndarray) -> None:
        self._tokens.write(np.ascontiguousarray(tokens, dtype=self.dtype).tobytes())
        self.count += len(tokens)

    def close(self, lengths: np.ndarray) -> list[Path]:
        """Write the index for documents of ``lengths`` tokens (in file order), commit every file."""
        lengths = np.asarray(lengths, dtype=np.int64)
        if int(lengths.sum()) != self.count:
            msg = f"shard {self.name}: {self.count} tokens written but the documents hold {int(lengths.sum())}"
            raise AssertionError(msg)
        self._tokens.flush()
        os.fsync(self._tokens.fileno())
        self._tokens.close()
        for tmp, data in zip(self.temps[1:], TOKEN_FORMATS[self.fmt].index_files(lengths, self.dtype, self.count, self.info), strict=True):
            self._write(tmp, data)
        for tmp, final in zip(self.temps, self.finals, strict=True):
            os.replace(tmp, final)
        return self.finals

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        with open(path, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())

    def abort(self) -> None:
        self._tokens.close()
        for tmp in self.temps:
            tmp.unlink(missing_ok=True)


def megatron_index(lengths: np.ndarray, dtype: np.dtype) -> bytes:
    """The ``.idx`` of documents of ``lengths`` tokens, one sequence each."""
    n = len(lengths)
    code = MEGATRON_DTYPE_CODES[np.dtype(dtype).newbyteorder("=")]
    header = MEGATRON_MAGIC + struct.pack("<Q", MEGATRON_VERSION) + struct.pack("<B", code) + struct.pack("<Q", n) + struct.pack("<Q", n + 1)
    if n and int(lengths.max()) > np.iinfo(np.int32).max:
        msg = "a document has more than 2**31 tokens: Megatron's lengths are int32"
        raise ValueError(msg)
    pointers = np.zeros(n, dtype="<i8")
    if n > 1:
        np.cumsum(lengths[:-1] * np.dtype(dtype).itemsize, out=pointers[1:])
    return b"".join([header, lengths.astype("<i4").tobytes(), pointers.tobytes(), np.arange(n + 1, dtype="<i8").tobytes()])
