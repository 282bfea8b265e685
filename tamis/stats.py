"""Counters every task keeps, merged into ``OUT/stats.json`` at the end of a run.

All counters are plain integers (keyed by strings; histogram buckets by int until written),
so merging tasks is addition and two runs
of the same config produce the same numbers (anything that varies between identical runs
lives under the ``run`` key of ``stats.json``, never here).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from tamis.text import count_words, utf8_length

SAMPLES_PER_KIND = 5
_KEPT_KEYS = ("kept_docs", "kept_bytes", "kept_words")
_REJECTED_KEYS = ("rejected_docs", "rejected_bytes", "rejected_words")


@dataclass
class TaskStats:
    """One task's counts (read, kept, rejected by reason, bytes, languages), merged into stats.json."""
    read: int = 0
    kept: int = 0
    bytes_in: int = 0
    bytes_out: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    rejected_bytes: Counter[str] = field(default_factory=Counter)  # by reason: the report's byte funnel
    modified: Counter[str] = field(default_factory=Counter)
    removed_units: Counter[str] = field(default_factory=Counter)
    # language -> {"kept_docs", "kept_bytes", "kept_words", "rejected_docs", ...}
    languages: dict[str, Counter[str]] = field(default_factory=dict)
    # histogram name -> {bucket lower bound: count} (int keys here, strings in stats.json)
    histograms: dict[str, Counter[int]] = field(default_factory=dict)
    # sample kind -> the first few examples (JSON-able dicts), in input order
    samples: dict[str, list[Any]] = field(default_factory=dict)

    def wants_sample(self, kind: str) -> bool:
        """Whether :meth:`sample` would keep an example of ``kind`` now (a caller can skip building one)."""
        return len(self.samples.get(kind, ())) < SAMPLES_PER_KIND

    def sample(self, kind: str, payload: Any) -> None:
        """Keep a few examples of ``kind`` for the report (the first ones in input order)."""
        if self.wants_sample(kind):
            self.samples.setdefault(kind, []).append(payload)

    def observe_read(self, text: str) -> None:
        self.read += 1
        self.bytes_in += utf8_length(text)
        self.histogram("chars_read", len(text))

    def observe_read_many(self, chars: list[int], n_bytes: list[int]) -> None:
        """:meth:`observe_read` for many texts measured elsewhere (the compiled JSONL scanner)."""
        self.read += len(chars)
        self.bytes_in += sum(n_bytes)
        self._histogram_many("chars_read", chars)

    def observe_kept(self, text: str, language: str | None) -> None:
        self.observe_kept_counts(len(text), utf8_length(text), count_words(text), language)

    def observe_kept_counts(self, chars: int, n_bytes: int, words: int, language: str | None) -> None:
        """:meth:`observe_kept` for a text measured elsewhere (the compiled JSONL scanner)."""
        self.kept += 1
        self.bytes_out += n_bytes
        self.histogram("chars_kept", chars)
        self._language(language, _KEPT_KEYS, n_bytes, words)

    def observe_kept_many(self, chars: Sequence[int], n_bytes: Sequence[int], words: Sequence[int], language: str | None) -> None:
        """:meth:`observe_kept_counts` for many texts of one language, given as columns."""
        if not len(chars):
            return
        self.kept += len(chars)
        self.bytes_out += sum(n_bytes)
        self._histogram_many("chars_kept", chars)
        self._language(language, _KEPT_KEYS, sum(n_bytes), sum(words), docs=len(chars))

    def observe_rejected(self, reason: str, text: str, language: str | None) -> None:
        self.observe_rejected_counts(reason, utf8_length(text), count_words(text), language)

    def observe_rejected_counts(self, reason: str, n_bytes: int, words: int, language: str | None) -> None:
        """:meth:`observe_rejected` for a text measured elsewhere (the compiled JSONL scanner)."""
        self.rejected[reason] += 1
        self.rejected_bytes[reason] += n_bytes
        self._language(language, _REJECTED_KEYS, n_bytes, words)

    def histogram(self, name: str, value: int) -> None:
        counter = self.histograms.get(name)
        if counter is None:  # not setdefault: that would build a Counter for every document
            counter = self.histograms[name] = Counter()
        counter[1 << (value.bit_length() - 1) if value else 0] += 1  # power-of-two buckets: 0, 1, 2-3, 4-7 ...

    def _histogram_many(self, name: str, values: Iterable[int]) -> None:
        counter = self.histograms.get(name)
        if counter is None:
            counter = self.histograms[name] = Counter()
        for bits, count in Counter(map(int.bit_length, values)).items():
            counter[1 << (bits - 1) if bits else 0] += count

    def _language(self, language: Any, keys: tuple[str, str, str], n_bytes: int, words: int, docs: int = 1) -> None:
        key = language if isinstance(language, str) and language else "unknown"  # an input field may hold anything
        counter = self.languages.get(key)
        if counter is None:
            counter = self.languages[key] = Counter()
        docs_key, n_bytes_key, words_key = keys
        counter[docs_key] += docs
        counter[n_bytes_key] += n_bytes
        counter[words_key] += words

    def merge(self, other: TaskStats) -> None:
        self.read += other.read
        self.kept += other.kept
        self.bytes_in += other.bytes_in
        self.bytes_out += other.bytes_out
        self.rejected.update(other.rejected)
        self.rejected_bytes.update(other.rejected_bytes)
        self.modified.update(other.modified)
        self.removed_units.update(other.removed_units)
        for lang, counter in other.languages.items():
            self.languages.setdefault(lang, Counter()).update(counter)
        for name, counter in other.histograms.items():
            self.histograms.setdefault(name, Counter()).update(counter)
        for kind, payloads in other.samples.items():
            kept = self.samples.setdefault(kind, [])
            kept.extend(payloads[: max(0, SAMPLES_PER_KIND - len(kept))])

    def to_dict(self) -> dict[str, Any]:
        def ordered(c: Counter[str]) -> dict[str, int]:
            return {k: c[k] for k in sorted(c)}

        return {
            "read": self.read,
            "kept": self.kept,
            "rejected": ordered(self.rejected),
            "rejected_total": sum(self.rejected.values()),
            "rejected_bytes": ordered(self.rejected_bytes),
            "modified": ordered(self.modified),
            "removed_units": ordered(self.removed_units),
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "languages": {k: ordered(self.languages[k]) for k in sorted(self.languages)},
            "histograms": {
                k: {str(b): self.histograms[k][b] for b in sorted(self.histograms[k])}
                for k in sorted(self.histograms)
            },
            "samples": {k: self.samples[k] for k in sorted(self.samples)},
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TaskStats:
        return cls(
            read=data["read"],
            kept=data["kept"],
            bytes_in=data["bytes_in"],
            bytes_out=data["bytes_out"],
            rejected=Counter(data["rejected"]),
            rejected_bytes=Counter(data.get("rejected_bytes", {})),
            modified=Counter(data["modified"]),
            removed_units=Counter(data["removed_units"]),
            languages={k: Counter(v) for k, v in data["languages"].items()},
            histograms={k: Counter({int(b): n for b, n in v.items()}) for k, v in data["histograms"].items()},
            samples={k: list(v) for k, v in data.get("samples", {}).items()},
        )
