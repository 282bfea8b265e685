"""The funnel and the other numbers the report takes from ``stats.json`` as they are.

Rejection reasons are ``<step id>:<rule>``. Steps come in ``stats["steps"]`` order; a reason
whose step id is not a pipeline step (the readers' ``reader:invalid_json``) happened before
the first step, so it opens the funnel.

Bytes after each step need ``rejected_bytes`` (bytes by reason, counted when the document was
rejected, as its text then was). Steps that edit text (normalisation, repetition repair) change
bytes without removing documents; their total is ``bytes_in - rejected bytes - bytes_out`` and
the funnel shows it as one "edited" line, since no counter splits it per step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ReasonCount:
    """Documents and bytes one rejection reason removed."""
    reason: str
    rule: str
    docs: int
    bytes: int | None


@dataclass
class FunnelRow:
    """One step of the funnel: what it removed and what remained after it."""
    step: str
    docs_after: int
    bytes_after: int | None
    removed_docs: int
    removed_bytes: int | None
    reasons: list[ReasonCount] = field(default_factory=list)
    in_pipeline: bool = True


@dataclass
class Funnel:
    """Every step's row, from the documents read to those kept."""
    read: int
    bytes_in: int
    kept: int
    bytes_out: int
    rows: list[FunnelRow]
    edited_bytes: int | None  # bytes removed (positive) or added by steps that edit text

    @property
    def rejected(self) -> int:
        return sum(r.removed_docs for r in self.rows)


def step_of(reason: str) -> str:
    return reason.split(":", 1)[0]


def rule_of(reason: str) -> str:
    return reason.split(":", 1)[1] if ":" in reason else reason


def build_funnel(stats: dict[str, Any]) -> Funnel:
    rejected: dict[str, int] = stats.get("rejected", {})
    rejected_bytes: dict[str, int] | None = stats.get("rejected_bytes")
    steps: list[str] = list(stats.get("steps", []))
    by_step: dict[str, list[str]] = {}
    for reason in sorted(rejected):
        by_step.setdefault(step_of(reason), []).append(reason)
    before_pipeline = sorted(s for s in by_step if s not in steps)
    docs = int(stats.get("read", 0))
    nbytes: int | None = int(stats.get("bytes_in", 0))
    rows = []
    for step in before_pipeline + steps:
        reasons = [
            ReasonCount(r, rule_of(r), int(rejected[r]), None if rejected_bytes is None else int(rejected_bytes.get(r, 0)))
            for r in sorted(by_step.get(step, []), key=lambda r: (-rejected[r], r))
        ]
        removed = sum(r.docs for r in reasons)
        removed_bytes = None if rejected_bytes is None else sum(r.bytes or 0 for r in reasons)
        docs -= removed
        if nbytes is not None and removed_bytes is not None:
            nbytes -= removed_bytes
        else:
            nbytes = None
        rows.append(FunnelRow(step, docs, nbytes, removed, removed_bytes, reasons, in_pipeline=step in steps))
    edited = None if nbytes is None else nbytes - int(stats.get("bytes_out", 0))
    return Funnel(
        read=int(stats.get("read", 0)),
        bytes_in=int(stats.get("bytes_in", 0)),
        kept=int(stats.get("kept", 0)),
        bytes_out=int(stats.get("bytes_out", 0)),
        rows=rows,
        edited_bytes=edited,
    )


@dataclass
class StepTime:
    """One row of ``stats["run"]["steps"]``: a step (or phase: ``read``, ``<stage>.collect``,
    ``<stage>.passes``, ``<stage>.apply``, ``spill``, ``write``) summed over tasks."""

    step: str
    docs_in: int | None
    docs_out: int | None
    wall_s: float
    cpu_s: float | None


def step_times(stats: dict[str, Any]) -> list[StepTime]:
    """Per-step documents and time, in pipeline order (empty for runs that predate them)."""
    rows = stats.get("run", {}).get("steps") or []
    return [StepTime(str(r["step"]), r.get("docs_in"), r.get("docs_out"), float(r.get("wall_s") or 0.0), r.get("cpu_s")) for r in rows]


@dataclass
class LanguageRow:
    """Kept and rejected documents, words and bytes of one language."""
    language: str
    kept_docs: int
    kept_words: int
    kept_bytes: int
    rejected_docs: int
    rejected_words: int
    rejected_bytes: int

    @property
    def kept_share(self) -> float:
        total = self.kept_docs + self.rejected_docs
        return self.kept_docs / total if total else 0.0


def language_rows(stats: dict[str, Any]) -> list[LanguageRow]:
    rows = []
    for lang, c in stats.get("languages", {}).items():
        rows.append(
            LanguageRow(
                lang,
                int(c.get("kept_docs", 0)),
                int(c.get("kept_words", 0)),
                int(c.get("kept_bytes", 0)),
                int(c.get("rejected_docs", 0)),
                int(c.get("rejected_words", 0)),
                int(c.get("rejected_bytes", 0)),
            )
        )
    rows.sort(key=lambda r: (-(r.kept_docs + r.rejected_docs), r.language))
    return rows
