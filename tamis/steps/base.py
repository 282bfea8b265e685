"""What a step is, and the context a task gives it.

A step is a small dataclass (subclasses become keyword-only dataclasses on their own) whose
parameters are its fields (each with ``metadata={"help":
...}``); ``run(docs, ctx)`` is a generator over documents. A step never knows which executor
runs it, how many workers there are, or where files go: it yields the documents it keeps,
hands the ones it drops to ``ctx.reject`` with a reason, and reports changes with
``ctx.modified``. That is what makes ``read = kept + rejected`` hold by construction.

Filters split *scoring* from *deciding*: ``score`` returns the measured signals (recorded in
``metadata["signals"][step_id]``), ``decide`` compares them with thresholds and returns the
broken rule, if any. Stats, the report and the agreement benches all read the same numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from tamis.document import Document
from tamis.stats import TaskStats

RejectSink = Callable[[dict[str, Any]], None]


def param(
    default: Any,
    help: str,  # noqa: A002 - mirrors argparse's name
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    choices: tuple[Any, ...] | None = None,
) -> Any:
    """A step parameter with its documentation (shown by ``tamis steps``) and, optionally, its
    allowed range or values, checked when the config is loaded (:mod:`tamis.validation`;
    without a range, the conventions there apply)."""
    metadata: dict[str, Any] = {"help": help}
    if minimum is not None:
        metadata["min"] = minimum
    if maximum is not None:
        metadata["max"] = maximum
    if choices is not None:
        metadata["choices"] = tuple(choices)
    if isinstance(default, list | dict | set):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


class TaskContext:
    """Everything a step may touch while it processes one task's documents."""

    def __init__(
        self,
        task_index: int,
        *,
        stats: TaskStats | None = None,
        reject_sink: RejectSink | None = None,
        scratch_dir: Path | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        self.task_index = task_index
        # Entries for errors.jsonl ({path, line, reason, message, id}): input errors, timeouts.
        self.errors: list[dict[str, Any]] = errors if errors is not None else []
        self.stats = stats if stats is not None else TaskStats()
        self.rejected_records: list[dict[str, Any]] = []
        self._sink = reject_sink if reject_sink is not None else self.rejected_records.append
        self.scratch_dir = scratch_dir

    def reject(
        self,
        doc: Document,
        reason: str,
        *,
        detail: str | None = None,
        duplicate_of: str | None = None,
    ) -> None:
        """Send ``doc`` to the rejects, whole, with ``reason`` = ``"<step id>:<rule>"``."""
        self.stats.observe_rejected(reason, doc.text, doc.metadata.get("language"))
        self._sink(
            {
                "id": doc.id,
                "text": doc.text,
                "metadata": doc.metadata,
                "reason": reason,
                "detail": detail,
                "duplicate_of": duplicate_of,
            }
        )

    def sample(self, kind: str, payload: Any) -> None:
        """Offer an example for the report (kept if it is among the first few of its kind)."""
        self.stats.sample(kind, payload)

    def wants_sample(self, kind: str) -> bool:
        """Whether :meth:`sample` would keep an example of ``kind`` now."""
        return self.stats.wants_sample(kind)

    def modified(self, step_id: str, *, unit: str | None = None, count: int = 0) -> None:
        """Record that ``step_id`` changed one document (and removed ``count`` ``unit``s)."""
        self.stats.modified[step_id] += 1
        if unit is not None and count:
            self.stats.removed_units[f"{step_id}.{unit}"] += count


@dataclass(kw_only=True)
class Step:
    """Base of every pipeline step. Subclasses are dataclasses registered by name."""

    name: ClassVar[str] = "step"
    # True for a step that limits its own time per document (the watchdog then leaves it alone).
    times_itself: ClassVar[bool] = False
    id: str | None = param(None, "id used in stats and reject reasons (default: the step name)")
    max_doc_seconds: float = param(
        30.0, "CPU seconds this step may spend on one document; past it the document is rejected as <id>:timeout (0: none; not dedup stages)", minimum=0
    )

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every step is a keyword-only dataclass: its fields are its config parameters.
        super().__init_subclass__(**kwargs)
        dataclasses.dataclass(kw_only=True)(cls)

    @property
    def step_id(self) -> str:
        return self.id or self.name

    def params(self) -> dict[str, Any]:
        """The parameters as given in a config (for fingerprints and ``--dry-run``)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def fingerprint_extra(self) -> dict[str, Any]:
        """What else decides this step's output besides its parameters (the contents of a
        file it reads, say), so that ``--resume`` refuses a run whose inputs changed."""
        return {}

    def setup(self) -> None:
        """Load models or tables; called once per process before the first ``run``."""

    def __reduce__(self) -> tuple[Any, ...]:
        # A step travels to workers (and is copied) as its parameters only: whatever it loaded
        # in ``setup`` (a fastText model, a child process) or built in ``__post_init__`` is
        # rebuilt where it is used, never pickled, whichever process set it up first.
        return (_rebuild_step, (type(self), self.params()))

    def run(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        raise NotImplementedError


def _rebuild_step(cls: type[Step], params: dict[str, Any]) -> Step:
    return cls(**params)


class Rejection(NamedTuple):
    """A broken rule: its name, the measured value and the threshold it crossed."""

    rule: str
    value: float | int | str | None = None
    threshold: float | int | str | None = None

    def detail(self) -> str:
        if self.value is None:
            return self.rule
        value = f"{self.value:.4g}" if isinstance(self.value, float) else str(self.value)
        return f"{self.rule}={value} (threshold {self.threshold})"


@dataclass(kw_only=True)
class Filter(Step):
    """A step that keeps or rejects whole documents from measured signals."""

    record_signals: bool = param(True, "store the measured signals in metadata['signals'][id]")

    def score(self, doc: Document) -> dict[str, Any]:
        raise NotImplementedError

    def decide(self, signals: dict[str, Any], doc: Document) -> Rejection | None:
        raise NotImplementedError

    def annotate(self, doc: Document, signals: dict[str, Any]) -> None:
        """Write what every later step should see (e.g. ``language``) into the metadata.

        Called for every document, kept or not, before signals are recorded; by default the
        signals only go to ``metadata["signals"]`` when ``record_signals`` is on.
        """

    def run(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        step_id = self.step_id
        for doc in docs:
            signals = self.score(doc)
            self.annotate(doc, signals)
            if self.record_signals:
                doc.metadata.setdefault("signals", {})[step_id] = signals
            rejection = self.decide(signals, doc)
            if rejection is None:
                yield doc
            else:
                ctx.reject(doc, f"{step_id}:{rejection.rule}", detail=rejection.detail())
