"""Where the learned extractor keeps text the gold lacks: every extra output 4-gram attributed to the kept block that produced it.

    PYTHONPATH=. /work/bench-venv/bin/python bench/extract_precision.py --wceb DIR --wcxb DIR [--corpus ../shared/corpus]
        [--workdir /tmp/NAME-recall] [--top 10] [--sets wcxb wceb aeb] [--limit N]

(the same pages, options and trafilatura cache as bench/extract_recall.py: DEVELOPMENT pages only,
WCXB's dev split, wceb2026's and scrapinghub-aeb's development halves; never a test split or
held-out half; not trafilatura-eval, whose snippet gold is not a page's main text.)

Each page runs through ``tamis_learned`` as the ``extract`` step runs it (the block classifier, its
page rules, the step's line rules). The metric is scrapinghub-aeb's (word 4-grams): an output 4-gram
the output holds more copies of than the gold is *extra* (a precision loss). Each extra copy is
attributed to the kept block whose token starts it (the last copies on the page: the first ones are
the gold's), and each kept block also counts its *good* 4-grams (those that are not extra): what
dropping such blocks would cost recall. Rows, per set (articles and all pages):

* precision points: the mean over pages of each page's extra share of its output (what the
  metric's precision loses), and recall points: the mean over pages of the good 4-grams' share of
  the page's gold (what dropping every block of the row would lose);
* ``traf. has``: of the extra copies, how many trafilatura's text holds too (a loss it shares);
* grouped by the block's tag, place against the page's main run (run_before / run_after features),
  place among the kept blocks (first / last kept block, within the first or last three, middle),
  stretch (in the main stretch of kept blocks or detached from it by two or more dropped blocks),
  length, link density, log-odds margin over the keep threshold, landmark, how much of the block
  is extra (``whole``: 80 % or more of its 4-grams: a block a rule could drop whole), and pairs
  of these; pages the hybrid routes to trafilatura are counted apart (``routed``: the rules do not
  reach them).

Then the ``--top`` kept blocks that lose most (precision points), with their text.
"""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_extract import _TOKEN_RE, _shingles  # noqa: E402
from extract_recall import _LANDMARKS, FINAL, _bucket, _snippet, block_stages, parse_development_sets  # noqa: E402

from tamis.extract import blocks as B  # noqa: E402
from tamis.extract import hybrid as H  # noqa: E402
from tamis.extract import learned as L  # noqa: E402
from tamis.io.htmldecode import decode_html  # noqa: E402
from tamis.steps.extract_html import written_text  # noqa: E402

ASPECTS = ("tag", "place", "edge", "stretch", "length", "links", "margin", "landmark", "whole")
PAIRS = (("edge", "tag"), ("place", "tag"), ("edge", "whole"), ("stretch", "length"), ("links", "length"), ("edge", "links"))


@dataclass
class PageExtra:
    key: str
    url: str
    page_type: str
    gold_total: int
    output_total: int
    extra_total: int = 0
    routed: bool = False
    # (aspect, value) -> [extra copies, of them in trafilatura's text, good 4-grams]
    groups: dict = field(default_factory=dict)
    blocks: list = field(default_factory=list)  # (extra, good, snippet, description)
    unattributed: int = 0  # extra copies no kept block's tokens start (the line rules' or tidying's joins)


def _edge(position: int, count: int) -> str:
    if position == 0:
        return "first kept"
    if position == count - 1:
        return "last kept"
    if position < 3:
        return "first 3"
    if position >= count - 3:
        return "last 3"
    return "middle"


def block_aspects(page: B.PageBlocks, details: dict, index: int, position: int, count: int, detached: bool, extra: int, total: int) -> dict[str, str]:
    """The block's group in each aspect (ASPECTS)."""
    names = B.FEATURE_NAMES
    row = details["rows"][index]
    tag = int(page.columns[index, 0])
    keep = L.model().keep_threshold
    margin = float(details["log_odds"][index]) - float(np.log(keep / (1 - keep)))
    density = float(row[names.index("link_density")])
    marks = [name[3:] for name in names if name.startswith("in=") and name[3:] in _LANDMARKS and row[names.index(name)] > 0]
    length = len(page.texts[index])
    return {
        "tag": B.OWN_TAGS[tag] if tag < len(B.OWN_TAGS) else "other",
        "place": "before run" if row[names.index("run_before")] else "after run" if row[names.index("run_after")] else "in run",
        "edge": _edge(position, count),
        "stretch": "detached" if detached else "main",
        "length": "<30" if length < 30 else "30-60" if length < 60 else "60-200" if length < 200 else "200-500" if length < 500 else ">=500",
        "links": "0" if density == 0 else "<0.3" if density < 0.3 else "<0.7" if density < 0.7 else ">=0.7",
        "margin": _bucket(margin, (0.5, 1, 2, 4)),
        "landmark": ",".join(marks) or "-",
        "whole": "whole (>=80%)" if total and extra >= 0.8 * total else "part" if extra else "none",
    }


def main_stretch(kept: np.ndarray, lengths: np.ndarray, gap: int = 2) -> np.ndarray:
    """Which kept blocks stand in the stretch holding the most kept characters (stretches split
    where ``gap`` or more dropped blocks lie between two kept ones)."""
    where, stretch = L.kept_stretches(kept, gap)
    inside = np.zeros(len(kept), dtype=bool)
    if not len(where):
        return inside
    main = int(np.argmax(np.bincount(stretch, weights=lengths[where])))
    inside[where[stretch == main]] = True
    return inside


def analyse(key: str, url: str, page_type: str, raw: bytes, gold: str, teacher: str) -> PageExtra | None:
    html, _ = decode_html(raw)
    gold_grams = _shingles(gold)
    if not sum(gold_grams.values()):
        return None
    details: dict = {}
    result = L.extract_learned(html.encode("utf-8", "surrogatepass"), details)
    text = written_text(result.text)
    output = _shingles(text)
    extra = output - gold_grams
    loss = PageExtra(key, url, page_type, sum(gold_grams.values()), max(1, sum(output.values())), sum(extra.values()))
    if "kept" not in details:
        loss.unattributed = loss.extra_total
        return loss
    loss.routed = not H.learned_stands(result, details)
    page = details["page"]
    stage, _ = block_stages(page, details)
    final = stage == FINAL
    # The output's tokens, block by block (the kept blocks' texts as the output joins them).
    tokens: list[str] = []
    owner: list[int] = []
    for index in np.flatnonzero(final).tolist():
        words = _TOKEN_RE.findall(page.texts[index])
        tokens += words
        owner += [index] * len(words)
    starts: dict[tuple[str, ...], list[int]] = {}
    for start in range(len(tokens) - 3):
        starts.setdefault(tuple(tokens[start : start + 4]), []).append(owner[start])
    teacher_grams = _shingles(teacher)
    per_block_extra: Counter = Counter()
    per_block_shared: Counter = Counter()
    per_block_total = Counter(owner[start] for start in range(len(tokens) - 3))
    for gram, count in extra.items():
        found = starts.get(gram, [])
        shared = min(count, teacher_grams.get(gram, 0))
        taken = found[len(found) - count :] if len(found) >= count else found
        loss.unattributed += count - len(taken)
        for number, block in enumerate(taken):
            per_block_extra[block] += 1
            per_block_shared[block] += number < shared
    kept_order = np.flatnonzero(final).tolist()
    main = main_stretch(final, details["lengths"])
    for position, index in enumerate(kept_order):
        total = per_block_total[index]
        bad = per_block_extra[index]
        good = total - bad
        aspects = block_aspects(page, details, index, position, len(kept_order), not main[index], bad, total)
        keys = [(aspect, aspects[aspect]) for aspect in ASPECTS] + [(f"{a}+{b}", f"{aspects[a]} / {aspects[b]}") for a, b in PAIRS]
        for group in keys:
            entry = loss.groups.setdefault(group, [0, 0, 0])
            entry[0] += bad
            entry[1] += per_block_shared[index]
            entry[2] += good
        if bad:
            loss.blocks.append(
                (
                    bad,
                    good,
                    _snippet(page.texts[index]),
                    f"{aspects['tag']}, {aspects['place']}, {aspects['edge']}, {aspects['stretch']}, links {aspects['links']}",
                )
            )
    return loss


def report(title: str, losses: list[PageExtra], top: int) -> None:
    pages = len(losses)
    if not pages:
        return
    precision = 1 - sum(loss.extra_total / loss.output_total for loss in losses) / pages
    routed = [loss for loss in losses if loss.routed]
    routed_points = sum(loss.extra_total / loss.output_total for loss in routed) / pages
    unattributed = sum(loss.unattributed / loss.output_total for loss in losses) / pages
    print(f"\n== {title}: {pages} pages, mean precision {precision:.4f} ({1 - precision:.4f} points lost; "
          f"{len(routed)} pages the hybrid routes hold {routed_points:.4f} of them; unattributed {unattributed:.4f})")  # fmt: skip
    kept = [loss for loss in losses if not loss.routed]
    for aspect in (*ASPECTS, *(f"{a}+{b}" for a, b in PAIRS)):
        rows: dict[str, list[float]] = {}
        for loss in kept:
            for (name, value), (bad, shared, good) in loss.groups.items():
                if name != aspect:
                    continue
                row = rows.setdefault(value, [0.0, 0.0, 0, 0, 0])
                row[0] += bad / loss.output_total / pages
                row[1] += good / loss.gold_total / pages
                row[2] += bad
                row[3] += shared
                row[4] += good
        ranked = sorted(rows.items(), key=lambda item: -item[1][0])[: 12 if "+" in aspect else 8]
        print(f"   {aspect:14s} {'prec pts':>8s} {'rec pts':>8s} {'extra':>7s} {'traf.has':>8s} {'good':>7s}")
        for value, (p_points, r_points, bad, shared, good) in ranked:
            print(f"     {value:34.34s} {p_points:8.4f} {r_points:8.4f} {bad:7d} {shared / bad if bad else 0:8.0%} {good:7d}")
    largest = sorted(
        ((bad / loss.output_total / pages, bad, good, loss, snippet, where) for loss in kept for bad, good, snippet, where in loss.blocks),
        key=lambda item: -item[0],
    )
    print(f"\n-- {title}: the {top} kept blocks losing most precision (points, extra, good, page, block, where)")
    for points, bad, good, loss, snippet, where in largest[:top]:
        print(f"   {points:.4f} {bad:5d} {good:5d} {loss.key} {loss.page_type:9s} {snippet!r} ({where})")


def main() -> int:
    args, sets, teacher = parse_development_sets(__doc__.split("\n")[0])
    for title, pages in sets.items():
        losses = [loss for page in pages if (loss := analyse(page.key, page.url, page.page_type, page.raw, page.gold, teacher[page.key]))]
        print(f"\n#### {title}, tamis_learned")
        report(f"{title}, articles", [loss for loss in losses if loss.page_type == "article"], args.top)
        report(f"{title}, all pages", losses, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
