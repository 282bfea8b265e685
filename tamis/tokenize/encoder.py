"""Encoding documents with a Hugging Face ``tokenizers`` file, on one core, in batches.

The tokenizer's compiled batch path (``encode_batch_fast``: no offsets are computed) does the
work. Its Rayon thread pool would use every core of the machine whatever ``--workers`` says,
so each worker process runs it single-threaded: ``--workers N`` means N cores.

Long documents: a whole document is one input to the tokenizer, and the tokenizer's time
grows faster than the text for inputs of megabytes (measured on man pages: 8x the text, 9.4x
the time). A long text is therefore encoded as pieces of about 256 k characters cut where the
tokenizer's own pre-tokenizer cuts anyway (a letter followed by a space, a line break or
punctuation), which gives exactly the same tokens. That is only true for pre-tokenizers that
split with a regex (GPT-2's ByteLevel, GPT-4/Llama-3 style Split patterns) on text that the
normaliser changes character by character, so the cut is enabled only for those, and checked
on probe texts when the tokenizer is loaded (any difference and texts are encoded whole).
"""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from tamis.errors import ConfigError

# A text longer than this is encoded in pieces of about this size. Pieces much smaller cost
# more than they save (the tokenizer has a per-input cost: 4 k pieces are ~40 % slower).
PIECE_CHARS = 1 << 18
# A space, line break or punctuation mark right after a letter or number: every regex
# pre-tokenizer accepted below ends a pre-token there (a run of letters stops at it).
_CUT = re.compile(r"(?<=[^\W_])[ \n\t\r.,;:!?。，、；：！？]")
_SAFE_NORMALIZERS = {"NFC", "NFD", "NFKC", "NFKD", "Lowercase", "StripAccents"}  # per character, never across a space
_PROBES = (
    "Hello world, this is a test. Le chat dort; der Hund schläft! 日本語のテキスト。中文，文本：好？",
    "it's we'll they've  double  spaces\n\nnew paragraph\tand tabs. Ünïcödé letters, ελληνικά, русский текст",
    "a" * 40 + " " + "b" * 40 + "." + "c" * 40 + "\n" + "数" * 30 + "。" + "x" * 10,
)


def single_threaded() -> None:
    """Make the tokenizer encode on the calling thread only (set before its first use)."""
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    os.environ["RAYON_NUM_THREADS"] = "1"


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def load_tokenizer(path: str) -> Any:
    """``tokenizers.Tokenizer`` from a ``tokenizer.json`` file; a clear error otherwise."""
    from tokenizers import Tokenizer

    if not os.path.isfile(path):
        msg = f"--tokenizer {path}: no such file (give a tokenizer.json; nothing is downloaded)"
        raise ConfigError(msg)
    try:
        return Tokenizer.from_file(path)
    except Exception as exc:
        msg = f"--tokenizer {path} is not a Hugging Face tokenizers file: {exc}"
        raise ConfigError(msg) from exc


def special_token_id(tokenizer: Any, name: str | None, flag: str) -> int | None:
    if name is None:
        return None
    token_id = tokenizer.token_to_id(name)
    if token_id is None:
        added = sorted(t.content for t in tokenizer.get_added_tokens_decoder().values())
        msg = f"{flag} {name!r} is not in the tokenizer's vocabulary" + (f"; its special tokens: {', '.join(added[:20])}" if added else "")
        raise ConfigError(msg)
    return int(token_id)


def _regex_split_pipeline(config: dict[str, Any]) -> bool:
    """The tokenizer splits text into pre-tokens with a regex, after a per-character normaliser."""

    def flatten(node: Any, key: str) -> list[dict[str, Any]]:
        if node is None:
            return []
        if node.get("type") == "Sequence":
            return [n for child in node.get(key, []) for n in flatten(child, key)]
        return [node]

    normalizers = flatten(config.get("normalizer"), "normalizers")
    if any(n.get("type") not in _SAFE_NORMALIZERS for n in normalizers):
        return False
    pre = flatten(config.get("pre_tokenizer"), "pretokenizers")
    if any(p.get("type") == "ByteLevel" and p.get("add_prefix_space") for p in pre):
        return False  # a space would be added at the start of every piece
    if any(p.get("type") == "Split" and (p.get("behavior") != "Isolated" or p.get("invert")) for p in pre):
        return False
    regex_split = any(p.get("type") == "ByteLevel" and p.get("use_regex", True) for p in pre) or any(
        p.get("type") == "Split" and "Regex" in (p.get("pattern") or {}) for p in pre
    )
    allowed = {"ByteLevel", "Split", "Digits", "Punctuation", "Whitespace"}
    return regex_split and all(p.get("type") in allowed for p in pre)


def cut_points(text: str, piece: int | None = None) -> list[int]:
    """Where to cut ``text`` into pieces of about ``piece`` characters: before a space, line
    break or punctuation mark that follows a letter (a pre-token boundary for the regexes of
    :func:`_regex_split_pipeline`). A piece without such a place grows until one comes."""
    piece = piece or PIECE_CHARS
    cuts = []
    n = len(text)
    at = piece
    while at < n:
        found = _CUT.search(text, at)  # linear: each character is looked at once
        if found is None or found.start() >= n:
            break
        cuts.append(found.start())
        at = found.start() + piece
    return cuts


@dataclass
class Encoder:
    """A loaded tokenizer plus the special tokens added around each document."""

    path: str
    bos: str | None = None
    eos: str | None = None

    @cached_property
    def tokenizer(self) -> Any:
        tokenizer = load_tokenizer(self.path)
        # A text that contains "<|endoftext|>" is tokenized as the text it is: a special id
        # inside a document would end it early for every reader that splits on EOS.
        tokenizer.encode_special_tokens = True
        return tokenizer

    @cached_property
    def bos_id(self) -> int | None:
        return special_token_id(self.tokenizer, self.bos, "--bos")

    @cached_property
    def eos_id(self) -> int | None:
        return special_token_id(self.tokenizer, self.eos, "--eos")

    @cached_property
    def vocab_size(self) -> int:
        return int(self.tokenizer.get_vocab_size(with_added_tokens=True))

    @cached_property
    def cuts_long_texts(self) -> bool:
        if not _regex_split_pipeline(orjson.loads(self.tokenizer.to_str())):
            return False
        for text in _PROBES:  # the cut must not change a single token
            whole = self._encode([text])[0]
            cuts = cut_points(text, 16)
            bounds = [0, *cuts, len(text)]
            pieces = self._encode([text[a:b] for a, b in itertools.pairwise(bounds)])
            if [t for p in pieces for t in p] != whole:
                return False
        return True

    def _encode(self, texts: Sequence[str]) -> list[list[int]]:
        encodings = self.tokenizer.encode_batch_fast(list(texts), add_special_tokens=False)
        return [e.ids for e in encodings]

    def encode(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Token ids of ``texts`` without special tokens: (all ids concatenated, int64 count per text)."""
        inputs: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            if len(text) > PIECE_CHARS and self.cuts_long_texts:
                bounds = [0, *cut_points(text), len(text)]
                inputs.extend(text[a:b] for a, b in itertools.pairwise(bounds))
                owner.extend([i] * (len(bounds) - 1))
            else:
                inputs.append(text)
                owner.append(i)
        ids = self._encode(inputs)
        piece_lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
        flat = np.fromiter((t for piece in ids for t in piece), dtype=np.uint32, count=int(piece_lengths.sum()))
        lengths = (
            np.bincount(np.asarray(owner, dtype=np.int64), weights=piece_lengths, minlength=len(texts)).astype(np.int64) if owner else np.zeros(0, np.int64)
        )
        return flat, lengths

    def with_specials(self, flat: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Add BOS before and EOS after each document's ids."""
        extra = (self.bos_id is not None) + (self.eos_id is not None)
        if not extra or not len(lengths):
            return flat, lengths
        new_lengths = lengths + extra
        ends = np.cumsum(new_lengths)
        starts = ends - new_lengths
        out = np.empty(int(ends[-1]) if len(ends) else 0, dtype=flat.dtype)
        body = np.ones(len(out), dtype=bool)
        if self.bos_id is not None:
            out[starts] = self.bos_id
            body[starts] = False
        if self.eos_id is not None:
            out[ends - 1] = self.eos_id
            body[ends - 1] = False
        out[body] = flat
        return out, new_lengths


def tokenizer_identity(path: str) -> dict[str, Any]:
    return {"tokenizer": str(Path(path).name), "tokenizer_sha256": file_sha256(path)}
