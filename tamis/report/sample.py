"""What the report learns from the run's shards: signal values, sample rejects, clusters.

Cost is bounded so that the report stays a small fraction of the run:

- Kept documents: the first ``kept_budget / n_shards`` records of every output shard.
- Rejects: every reject's ``reason`` and ``duplicate_of`` (from the shards' notes where the
  writer left them, else from each line's tail: see :mod:`tamis.report.shards`) so that the
  duplicate clusters are complete; whole records only for the first
  ``reject_budget / reasons`` rejects of each reason (a noted shard is decompressed only as far
  as the last of those).

Distributions drawn from such a sample weigh each sampled document by how many documents of
its kind (kept, or rejected for that reason) it stands for, known exactly from ``stats.json``;
the page says when a distribution comes from a sample. Everything is deterministic: the same
run gives the same report.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tamis.io.shardnotes import decode_metadata_text, json_value
from tamis.report.funnel import step_of
from tamis.report.shards import find_records, iter_metadata, iter_reject_tails, list_shards, noted_rejects, parse_line, parse_metadata

SAMPLE_DOCS_PER_REASON = 3
# The metadata keys the report reads (JSON strings): sampled metadata holding none of them is
# not decoded (:func:`tamis.io.shardnotes.decode_metadata_text`).
READ_KEYS = (b'"signals"', b'"language_score"', b'"language"', b'"cluster_size"')
LARGEST_CLUSTERS = 5
MEMBERS_SHOWN = 2


@dataclass
class Observation:
    """One sampled document: its recorded numbers and what happened to it."""

    signals: dict[str, dict[str, Any]]
    language_score: float | None
    outcome: str | None  # None = kept, else the reject reason
    weight: float = 1.0


@dataclass
class Cluster:
    """A duplicate cluster: its keeper and the documents removed as its copies."""
    step: str
    keeper: str
    size: int
    members: list[str]
    rank: int = 0  # order of first appearance among the rejects of its step
    keeper_record: dict[str, Any] | None = None
    member_records: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Findings:
    """What the report's bounded read of the shards found."""
    observations: list[Observation]
    kept_sampled: int
    kept_total: int
    rejected_sampled: Counter[str]
    rejected_seen: Counter[str]  # every reject's reason (from the full tail pass)
    samples: dict[str, list[dict[str, Any]]]  # reason -> first few whole rejects
    cluster_sizes: dict[str, Counter[int]]  # dedup step -> {cluster size: clusters}
    largest: list[Cluster]
    kept_cluster_sizes: Counter[int]  # from kept metadata "cluster_size" (sampled)
    kept_languages: Counter[str]

    @property
    def sampled(self) -> bool:
        return self.kept_sampled < self.kept_total or any(self.rejected_sampled[r] < self.rejected_seen[r] for r in self.rejected_seen)


def _language_score(meta: dict[str, Any]) -> float | None:
    value = meta.get("language_score")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _signals(meta: dict[str, Any]) -> dict[str, dict[str, Any]]:
    signals = meta.get("signals")
    return signals if isinstance(signals, dict) else {}


def collect(root: Path, stats: dict[str, Any], *, kept_budget: int = 20_000, reject_budget: int = 20_000, per_reason: int | None = None) -> Findings:
    """Read the run's shards within budget: about ``kept_budget`` kept documents and
    ``reject_budget`` whole rejects (split evenly between reasons unless ``per_reason``)."""
    if per_reason is None:
        per_reason = max(SAMPLE_DOCS_PER_REASON, math.ceil(reject_budget / max(1, len(stats.get("rejected", {})))))
    observations: list[Observation] = []
    kept_cluster_sizes: Counter[int] = Counter()
    kept_languages: Counter[str] = Counter()

    output_shards = list_shards(root / "output")
    per_shard = math.ceil(kept_budget / len(output_shards)) if output_shards else 0
    kept_sampled = 0
    for shard in output_shards:
        for record in iter_metadata(shard, per_shard, READ_KEYS):  # only the metadata is looked at
            meta = record["metadata"]
            kept_sampled += 1
            observations.append(Observation(_signals(meta), _language_score(meta), None))
            size = meta.get("cluster_size")
            if isinstance(size, int) and size > 1:
                kept_cluster_sizes[size] += 1
            if isinstance(meta.get("language"), str):
                kept_languages[meta["language"]] += 1

    rejected_seen: Counter[str] = Counter()
    rejected_sampled: Counter[str] = Counter()
    samples: dict[str, list[dict[str, Any]]] = {}
    # step -> keeper -> first member ids (dict order = order of first appearance in the rejects)
    members: dict[str, dict[str, list[str]]] = {}
    member_counts: dict[str, Counter[str]] = {}

    steps: dict[str, tuple[Counter[str], dict[str, list[str]]]] = {}  # reason -> its step's counts and members

    def seen(reason: str, keeper: Any) -> list[str] | None:
        """Count one reject; where it names a keeper, the member ids shown for that keeper
        (the caller appends this one's while fewer than MEMBERS_SHOWN). Called once per
        reject: the step's tables are looked up once per reason."""
        rejected_seen[reason] += 1
        if not keeper:
            return None
        tables = steps.get(reason)
        if tables is None:
            step = step_of(reason)
            tables = steps[reason] = (member_counts.setdefault(step, Counter()), members.setdefault(step, {}))
        counts, shown_of = tables
        counts[keeper] += 1
        shown = shown_of.get(keeper)
        if shown is None:
            shown = shown_of[keeper] = []
        return shown

    def sampled(reason: str, record: dict[str, Any]) -> None:
        """One reject among its reason's sampled ones (``record``: whole, or its metadata)."""
        rejected_sampled[reason] += 1
        meta = record["metadata"]
        observations.append(Observation(_signals(meta), _language_score(meta), reason))
        if len(samples.setdefault(reason, [])) < SAMPLE_DOCS_PER_REASON:
            samples[reason].append(record)

    for shard in list_shards(root / "rejects"):
        noted = noted_rejects(shard)
        if noted is not None:  # reasons, keepers and ids from the notes; whole records as needed
            notes, lines = noted
            try:
                reasons, keepers = notes.column_values("reason"), notes.column_values("duplicate_of")
                raw_ids = notes.ids.to_pylist()  # JSON texts, decoded only for the members shown
                # The sampled rejects' metadata without decompressing, decoded only for the
                # rows sampled (a reason past its budget is only counted).
                metas = notes.metadata_texts()
                for row, (raw_reason, keeper, raw_id) in enumerate(zip(reasons, keepers, raw_ids, strict=True)):
                    reason = str(raw_reason)
                    record = None
                    if rejected_sampled[reason] < per_reason:
                        meta = None
                        if metas is not None and len(samples.get(reason, ())) >= SAMPLE_DOCS_PER_REASON:
                            meta = decode_metadata_text(metas[row], READ_KEYS)
                        if meta is not None:
                            record = {"metadata": meta}
                        else:
                            line = lines.line(row)
                            if line is not None:  # whole only if shown, else the metadata is all that is read
                                record = parse_line(line) if len(samples.get(reason, ())) < SAMPLE_DOCS_PER_REASON else parse_metadata(line, rejects=True)
                    shown = seen(reason, keeper)
                    if shown is not None and len(shown) < MEMBERS_SHOWN and (value := json_value(raw_id)) is not None:
                        shown.append(str(value))
                    if record is not None:
                        sampled(reason, record)
            finally:
                lines.close()
            continue
        for tail, source in iter_reject_tails(shard):
            reason = str(tail["reason"])
            record = parse_line(source) if rejected_sampled[reason] < per_reason else None
            shown = seen(reason, tail.get("duplicate_of"))
            if shown is not None and len(shown) < MEMBERS_SHOWN:
                value = record["id"] if record else (parse_line(source) or {}).get("id")
                if value is not None:
                    shown.append(str(value))
            if record is not None:
                sampled(reason, record)

    _weigh(observations, stats, kept_sampled, rejected_sampled)
    cluster_sizes = {step: Counter(n + 1 for n in counts.values()) for step, counts in member_counts.items()}
    largest = _largest_clusters(root, member_counts, members)
    return Findings(
        observations=observations,
        kept_sampled=kept_sampled,
        kept_total=int(stats.get("kept", 0)),
        rejected_sampled=rejected_sampled,
        rejected_seen=rejected_seen,
        samples=samples,
        cluster_sizes=cluster_sizes,
        largest=largest,
        kept_cluster_sizes=kept_cluster_sizes,
        kept_languages=kept_languages,
    )


def _weigh(observations: list[Observation], stats: dict[str, Any], kept_sampled: int, rejected_sampled: Counter[str]) -> None:
    """Each sampled document stands for (documents of its kind) / (sampled of its kind)."""
    rejected = stats.get("rejected", {})
    kept_weight = int(stats.get("kept", 0)) / kept_sampled if kept_sampled else 1.0
    for obs in observations:
        if obs.outcome is None:
            obs.weight = kept_weight
        else:
            sampled = rejected_sampled[obs.outcome]
            obs.weight = int(rejected.get(obs.outcome, sampled)) / sampled if sampled else 1.0


def _largest_clusters(root: Path, member_counts: dict[str, Counter[str]], members: dict[str, dict[str, list[str]]]) -> list[Cluster]:
    # Among clusters of equal size, the first seen win: their keepers come early in the output,
    # so looking them up stops early instead of decompressing every shard.
    clusters = []
    for step, counts in member_counts.items():
        first_seen = {keeper: rank for rank, keeper in enumerate(members[step])}
        for keeper, n in sorted(counts.items(), key=lambda kv: (-kv[1], first_seen[kv[0]]))[:LARGEST_CLUSTERS]:
            clusters.append(Cluster(step, keeper, n + 1, members[step][keeper], rank=first_seen[keeper]))
    clusters.sort(key=lambda c: (-c.size, c.rank, c.step))
    clusters = clusters[:LARGEST_CLUSTERS]
    keeper_ids = {c.keeper for c in clusters}
    member_ids = {m for c in clusters for m in c.members}
    found = find_records(root / "output", keeper_ids)
    missing = keeper_ids - set(found)
    # A keeper of one dedup step may have been removed by a later step: look in the rejects.
    found.update(find_records(root / "rejects", member_ids | missing))
    for c in clusters:
        c.keeper_record = found.get(c.keeper)
        c.member_records = [found[m] for m in c.members if m in found]
    return clusters
