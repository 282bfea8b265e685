"""Where the learned extractor loses gold text: every missed gold 4-gram attributed to the stage that lost it.

    PYTHONPATH=. /work/bench-venv/bin/python bench/extract_recall.py --wceb DIR --wcxb DIR [--corpus ../shared/corpus]
        [--workdir /tmp/NAME-recall] [--top 10] [--sets wcxb wceb aeb]

(needs trafilatura: the bench venv's, with this tree first on PYTHONPATH.)

Pages: DEVELOPMENT pages only. WCXB's dev split (``wcxb_pages.training_pages``: sites in no other set
and in no WCXB test page; the shipped model never trained on them: unseen sites) and wceb2026's
development half (``wceb_pages.wceb_halves``; not in the shipped model's training rows, but its
page-level rules were chosen by CV over it), and scrapinghub-aeb's development half
(``bench_extract.halves``, the split every bench and fit uses; gold: the page's ``articleBody``, the
metric's own unit; the shipped model trained on these pages, so its figures are in-sample for the
model, out of sample for nothing). WCXB's test split and the held-out halves are never read.
trafilatura-eval is not read: its gold is a few ``with``/``without`` snippets a page, not the page's
main text, so a 4-gram the output has and the gold lacks is not an error and a lost 4-gram's share of
the "gold" is not what its metric counts (snippet hits); neither attribution would measure that metric.

Each page is decoded as the ``extract`` step decodes it and run through ``tamis_learned`` (the block
classifier, its page rules, the step's line rules) and ``tamis_learned_hybrid`` (the same, with the
router's pages given to trafilatura). The metric is scrapinghub-aeb's (word 4-grams of
``bench_extract.aeb_doc``); a gold 4-gram the output has fewer copies of than the gold is *lost*, and
each lost copy is attributed, in this order, to:

* ``e: scoring artefact``: the output has it once case, Unicode compatibility forms, soft hyphens,
  zero-width characters and HTML entities are folded (the text is there, written differently);
* the stage of the block walk (``blocks.page_blocks``) in whose blocks its tokens stand, the latest
  stage any occurrence on the page survived to: ``b: model`` (the smoothed probability under the
  keep threshold, and not among the blocks keep_blocks fills: holes, the span, siblings, sub-headings; ``b: model (smoothing)`` where the block's
  own probability was over it),
  ``c: isolated`` / ``c: tail cut`` (keep_blocks's run rules), ``c: drop_repeated`` ... ``c: drop_footer_areas``
  (learned.post_rules, one stage a rule: learned.post_rule_stages), ``d: line rules``
  (extract_html.drop_boilerplate_lines); ``f: kept, gold repeats it`` where every occurrence was kept
  but the gold holds more copies;
* ``a: never a block`` where no block holds it, by where it stands in the page as saved: inside an
  element the walk skips (``a: in <script>`` ...), inside a hidden element, in an attribute
  (alt, title, aria-label, content, value), in the head, its tokens in order with up to three
  page tokens between them (``a: split by other text``: footnote marks, inline widgets, a joined
  list), or nowhere (``a: not on the page``: the gold rewrote it);
* on the hybrid's routed pages, ``r: routed, trafilatura lost it``; pages where the learned pass kept
  nothing are ``g: fast path fallback``.

Printed per set (articles and all pages): lost 4-grams by cause, their share of the gold, the recall
points (the mean over pages of each page's lost share: what the metric's recall loses), how many of
them trafilatura's text holds (what it would recover), the model-loss breakdown by tag, margin under
the threshold, place against the main run and length, and the ``--top`` largest single losses.
"""

from __future__ import annotations

import argparse
import html as html_lib
import itertools
import json
import pickle
import sys
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_extract import _TOKEN_RE, _read, _shingles, halves, load_aeb  # noqa: E402
from readability_pages import evaluation_sites  # noqa: E402
from train_extract_model import trafilatura_text  # noqa: E402
from wceb_pages import WcebPage, load_wceb, wceb_halves  # noqa: E402
from wcxb_pages import load_wcxb, training_pages  # noqa: E402

from tamis.extract import blocks as B  # noqa: E402
from tamis.extract import learned as L  # noqa: E402
from tamis.extract.hybrid import extract_learned_hybrid  # noqa: E402
from tamis.io.htmldecode import decode_html  # noqa: E402
from tamis.steps.extract_html import drop_boilerplate_lines, written_text  # noqa: E402

# The block stages in pipeline order: a block's stage is the first it did not pass (FINAL: all).
STAGES = ("b: model", "c: isolated", "c: tail cut", *(f"c: {name}" for name in L.POST_RULE_NAMES), "d: line rules")
FINAL = len(STAGES)
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"), None)
_ATTRIBUTES = ("alt", "title", "aria-label", "content", "value", "placeholder")


def fold(text: str) -> str:
    """The text as the artefact check compares it: entities decoded, compatibility forms, case and invisible characters folded."""
    return unicodedata.normalize("NFKC", html_lib.unescape(text)).translate(_INVISIBLE).casefold()


@dataclass
class PageLoss:
    key: str
    url: str
    page_type: str
    gold_total: int
    lost: Counter = field(default_factory=Counter)  # cause -> lost 4-gram copies
    recovered: Counter = field(default_factory=Counter)  # cause -> of those, in trafilatura's text
    items: Counter = field(default_factory=Counter)  # (cause, block index or -1, snippet) -> lost copies
    model_detail: Counter = field(default_factory=Counter)  # (aspect, value) -> lost copies (b: model)
    recall: float = 0.0


def block_stages(page: B.PageBlocks, details: dict) -> tuple[np.ndarray, np.ndarray]:
    """(each block's stage index (FINAL: in the output), whether its own probability was over the
    threshold): learned.extract_learned's steps taken one at a time."""
    forest = L.model()
    probability = L.probability_of(details["log_odds"])
    lengths, rows, texts = details["lengths"], details["rows"], page.texts
    keep = forest.keep_threshold
    steps = [
        L.keep_blocks(probability, lengths, keep, forest.smooth, 0, 0, hole_blocks=0, span_probability=0),
        L.keep_blocks(probability, lengths, keep, forest.smooth, forest.isolated_chars, 0, hole_blocks=0, span_probability=0),
        L.keep_blocks(probability, lengths, keep, forest.smooth, forest.isolated_chars, forest.tail_gap, hole_blocks=0, span_probability=0),
    ]
    # The blocks keep_blocks fills (holes, span, siblings and headings: HOLE_BLOCKS, SPAN_PROBABILITY, SIBLING_FILL,
    # HEADING_CHARS) count as kept from the start: stages only remove.
    filled = L.keep_blocks(probability, lengths, keep, forest.smooth, forest.isolated_chars, forest.tail_gap, tags=page.tags(), groups=page.groups())
    filled &= ~steps[-1]
    steps = [step | filled for step in steps]
    steps += L.post_rule_stages(texts, rows, steps[-1])
    if not np.array_equal(steps[-1], details["kept"]):
        raise AssertionError("the stages do not end in extract_learned's kept blocks: this script is out of date")
    # The line rules: a kept line (a block, or a table row's kept cells: learned.kept_lines) the step's filter drops.
    survives = steps[-1].copy()
    for line in L.kept_lines(page, steps[-1]):
        if drop_boilerplate_lines(L.CELL_SEPARATOR.join(texts[i] for i in line))[1]:
            survives[line] = False
    steps.append(survives)
    stage = np.full(len(texts), FINAL, dtype=np.int64)
    for number in range(len(steps) - 1, -1, -1):
        stage[~steps[number]] = number
    return stage, probability >= keep


def _outside_blocks(html: str) -> list[tuple[str, Counter]]:
    """[(cause, folded shingles)] of the page's text that no block holds, by where it stands."""
    root = B.parse(html)
    if root is None:
        return []
    found: dict[str, list[str]] = defaultdict(list)
    head = root.find("head")
    if head is not None:
        found["a: in the head"].append(" ".join(head.itertext()))
        for element in head.iter():
            found["a: in the head"].extend(element.get(name) or "" for name in _ATTRIBUTES)
    body = root.find("body")
    body = root if body is None else body
    for element in body.iter():
        if not isinstance(element.tag, str):
            continue
        if element.tag in B.SKIP_TAGS:
            found[f"a: in <{element.tag}>"].append(" ".join(element.itertext()))
        elif B.is_hidden(element):
            found["a: hidden element"].append(" ".join(element.itertext()))
        values = [element.get(name) or "" for name in _ATTRIBUTES]
        if any(values):
            found["a: in an attribute"].extend(values)
    return [(cause, _shingles(fold(" ".join(texts)))) for cause, texts in found.items()]


def _split_in_page(gram: tuple[str, ...], positions: dict[str, list[int]], tokens: list[str], gap: int = 3) -> bool:
    """Whether ``gram``'s tokens stand in the block stream in order with at most ``gap`` other tokens between each two."""
    for start in positions.get(gram[0], [])[:200]:
        at = start
        for token in gram[1:]:
            for step in range(1, gap + 2):
                if at + step < len(tokens) and tokens[at + step] == token:
                    at += step
                    break
            else:
                break
        else:
            return True
    return False


_LANDMARKS = ("nav", "aside", "footer", "header", "form", "table", "figure", "section", "article", "main")


def _bucket(value: float, edges: tuple[float, ...]) -> str:
    """The bucket of ``value`` among ``edges``: "<a", "a-b", ..., ">=z"."""
    if value < edges[0]:
        return f"<{edges[0]}"
    for low, high in itertools.pairwise(edges):
        if value < high:
            return f"{low}-{high}"
    return f">={edges[-1]}"


def _snippet(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def analyse(key: str, url: str, page_type: str, raw: bytes, gold: str, teacher: str, hybrid: bool) -> PageLoss | None:
    html, _ = decode_html(raw)
    gold_grams = _shingles(gold)
    total = sum(gold_grams.values())
    if not total:
        return None
    loss = PageLoss(key, url, page_type, total)
    data = html.encode("utf-8", "surrogatepass")
    if hybrid:
        result = extract_learned_hybrid(data)
        text = written_text(result.text)
        if result.method == "trafilatura":
            missing = gold_grams - _shingles(text)
            lost = sum(missing.values())
            loss.lost["r: routed, trafilatura lost it"] += lost
            loss.items[("r: routed, trafilatura lost it", -1, _snippet(" ".join(next(iter(missing), ()))))] += lost
            loss.recall = 1 - lost / total
            return loss
    details: dict = {}
    result = L.extract_learned(data, details)
    text = written_text(result.text)
    output = _shingles(text)
    missing = gold_grams - output
    loss.recall = 1 - sum(missing.values()) / total
    if not missing:
        return loss
    teacher_grams = _shingles(teacher)
    if "kept" not in details:  # no block kept, or no document: the fast path's text
        for gram, count in missing.items():
            loss.lost["g: fast path fallback"] += count
            loss.recovered["g: fast path fallback"] += min(count, teacher_grams.get(gram, 0))
        loss.items[("g: fast path fallback", -1, result.method)] += sum(missing.values())
        return loss
    page = details["page"]
    stage, own_over = block_stages(page, details)
    # The blocks' token stream (folded) and, for each 4-gram in it, the latest stage one of its
    # occurrences survived to and the block that decided it.
    tokens: list[str] = []
    owner: list[int] = []
    for index, block_text in enumerate(page.texts):
        words = _TOKEN_RE.findall(fold(block_text))
        tokens += words
        owner += [index] * len(words)
    occurrences: dict[tuple[str, ...], list[tuple[int, int]]] = defaultdict(list)
    for start in range(len(tokens) - 3):
        covering = owner[start : start + 4]
        worst = min(covering, key=lambda b: stage[b])
        occurrences[tuple(tokens[start : start + 4])].append((int(stage[worst]), worst))
    folded_output = _shingles(fold(text))
    positions: dict[str, list[int]] = defaultdict(list)
    for at, token in enumerate(tokens):
        positions[token].append(at)
    outside = None
    threshold_log_odds = float(np.log(L.model().keep_threshold / (1 - L.model().keep_threshold)))
    rows = details["rows"]
    names = B.FEATURE_NAMES
    landmarks = [name for name in names if name.startswith("in=")]
    for gram, count in missing.items():
        folded = tuple(_TOKEN_RE.findall(fold(" ".join(gram))))
        recovered = min(count, teacher_grams.get(gram, 0))
        if len(folded) == 4 and folded_output.get(folded, 0) >= output.get(gram, 0) + count:
            causes = [("e: scoring artefact", -1)] * count
        elif len(folded) == 4 and folded in occurrences:
            ranked = sorted(occurrences[folded], reverse=True)
            present = sum(1 for s, _ in ranked if s == FINAL)
            lost_ones = ranked[present:][:count] if present < len(ranked) else []
            causes = []
            for s, block in lost_ones:
                name = STAGES[s]
                if s == 0 and own_over[block]:
                    name = "b: model (smoothing)"
                causes.append((name, block))
            causes += [("f: kept, gold repeats it", -1)] * (count - len(causes))
        else:
            if outside is None:
                outside = _outside_blocks(html)
            cause = next((c for c, grams in outside if folded in grams), None)
            if cause is None:
                cause = "a: split by other text" if len(folded) == 4 and _split_in_page(folded, positions, tokens) else "a: not on the page"
            causes = [(cause, -1)] * count
        for number, (cause, block) in enumerate(causes):
            loss.lost[cause] += 1
            if number < recovered:
                loss.recovered[cause] += 1
            snippet = _snippet(page.texts[block]) if block >= 0 else _snippet(" ".join(gram))
            loss.items[(cause, block, snippet if block >= 0 else cause)] += 1
            if cause.startswith("b: model") and block >= 0:
                row = rows[block]
                margin = threshold_log_odds - float(details["log_odds"][block])
                tag = int(page.columns[block, 0])
                loss.model_detail[("tag", B.OWN_TAGS[tag] if tag < len(B.OWN_TAGS) else "other")] += 1
                loss.model_detail[("margin", _bucket(margin, (0.5, 1, 2, 4)))] += 1
                place = "before run" if row[names.index("run_before")] else "after run" if row[names.index("run_after")] else "in run"
                loss.model_detail[("place", place)] += 1
                length = len(page.texts[block])
                loss.model_detail[("length", "<60" if length < 60 else "60-200" if length < 200 else "200-500" if length < 500 else ">=500")] += 1
                density = float(row[names.index("link_density")])
                loss.model_detail[("links", "0" if density == 0 else "<0.3" if density < 0.3 else "<0.7" if density < 0.7 else ">=0.7")] += 1
                marks = [name[3:] for name in landmarks if row[names.index(name)] > 0 and name[3:] in _LANDMARKS]
                loss.model_detail[("landmark", ",".join(marks) or "-")] += 1
    # items keyed by block carry the snippet; causes without a block keep one entry per page
    return loss


def report(title: str, losses: list[PageLoss]) -> None:
    pages = len(losses)
    if not pages:
        return
    gold = sum(loss.gold_total for loss in losses)
    lost = Counter()
    recovered = Counter()
    points = Counter()
    for loss in losses:
        lost.update(loss.lost)
        recovered.update(loss.recovered)
        for cause, count in loss.lost.items():
            points[cause] += count / loss.gold_total / pages
    recall = sum(loss.recall for loss in losses) / pages
    print(f"\n== {title}: {pages} pages, {gold} gold 4-grams, mean recall {recall:.4f}, lost {sum(lost.values())} ({sum(lost.values()) / gold:.1%})")
    print(f"   {'cause':34s} {'lost':>8s} {'of gold':>8s} {'recall pts':>10s} {'traf. has':>9s}")
    for cause, count in sorted(((cause, count) for cause, count in lost.items() if count > 0), key=lambda item: -points[item[0]]):
        print(f"   {cause:34s} {count:8d} {count / gold:8.2%} {points[cause]:10.4f} {recovered[cause] / count:9.0%}")
    detail = Counter()
    for loss in losses:
        detail.update(loss.model_detail)
    if detail:
        model_lost = sum(count for (aspect, _), count in detail.items() if aspect == "tag")
        for aspect in ("tag", "margin", "place", "length", "links", "landmark"):
            values = sorted(((v, c) for (a, v), c in detail.items() if a == aspect), key=lambda item: -item[1])[:8]
            print(f"   b: model by {aspect:8s} " + "  ".join(f"{v} {c / model_lost:.0%}" for v, c in values))


def report_top(title: str, losses: list[PageLoss], top: int) -> None:
    """The largest losses of one cause on one page, with the text of the block that lost most."""
    largest = []
    for loss in losses:
        by_cause: dict[str, list] = defaultdict(lambda: [0, 0, ""])
        for (cause, _, snippet), count in loss.items.items():
            entry = by_cause[cause]
            entry[0] += count
            if count > entry[1]:
                entry[1], entry[2] = count, snippet
        for cause, (count, _, snippet) in by_cause.items():
            largest.append((count / loss.gold_total / len(losses), count, loss, cause, snippet))
    largest.sort(key=lambda item: -item[0])
    print(f"\n-- {title}: the {top} largest losses (recall points, lost 4-grams, share of the page's gold, page, cause, the block losing most)")
    for share, count, loss, cause, snippet in largest[:top]:
        print(f"   {share:.4f} {count:5d} {count / loss.gold_total:4.0%} {loss.key} {loss.page_type:9s} {cause:28s} {snippet!r}  ({loss.url[:60]})")


def add_set_arguments(parser: argparse.ArgumentParser) -> None:
    """The options that say which development pages to read (development_sets), and --top."""
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--wceb", type=Path, required=True)
    parser.add_argument("--wcxb", type=Path, required=True)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/tamis-extract-recall"))
    parser.add_argument("--sets", nargs="+", default=["wcxb", "wceb", "aeb"], choices=["wcxb", "wceb", "aeb"])
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("--limit", type=int, default=0, help="at most this many pages a set (a quick look)")


def aeb_urls(corpus: Path) -> dict[str, str]:
    """{scrapinghub-aeb page key: its URL} (load_aeb gives the gold and the files only)."""
    records = json.loads((corpus / "scrapinghub-aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    return {key: record.get("url") or "" for key, record in records.items()}


def development_sets(args: argparse.Namespace) -> tuple[dict[str, list], dict[str, str]]:
    """({title: development pages} of the sets ``args.sets`` names, at most ``args.limit`` a set;
    {page key: trafilatura's text}, cached in ``args.workdir``): the pages this script and
    bench/extract_precision.py attribute, never a test split or held-out half."""
    args.workdir.mkdir(parents=True, exist_ok=True)
    sets = {}
    if "wcxb" in args.sets:
        sets["WCXB dev (unseen sites)"] = training_pages(load_wcxb(args.wcxb, args.corpus, args.wceb))[0]
    if "wceb" in args.sets:
        pages, _ = load_wceb(args.wceb, evaluation_sites(args.corpus))
        development, _ = wceb_halves(pages)
        sets["wceb2026 dev half"] = [page for page in pages if page.key in development]
    if "aeb" in args.sets:
        # bench_extract's own split (``halves``, the one every bench and fit scores): the
        # development half only. Every AEB page is an article; its gold is the articleBody.
        truth, files = load_aeb(args.corpus)
        development, _ = halves(list(files))
        urls = aeb_urls(args.corpus)
        sets["scrapinghub-aeb dev half"] = [WcebPage(key, _read(files[key]), truth[key], urls.get(key, ""), "article", "") for key in sorted(development)]
    if args.limit:
        sets = {title: pages[: args.limit] for title, pages in sets.items()}
    cache_path = args.workdir / "trafilatura.pickle"
    teacher: dict[str, str] = pickle.loads(cache_path.read_bytes()) if cache_path.is_file() else {}
    missing = [page for pages in sets.values() for page in pages if page.key not in teacher]
    for page in missing:
        teacher[page.key] = trafilatura_text(page.html())
    if missing:
        cache_path.write_bytes(pickle.dumps(teacher))
    return sets, teacher


def parse_development_sets(description: str) -> tuple[argparse.Namespace, dict[str, list], dict[str, str]]:
    """The command line's options (add_set_arguments), then development_sets of them: what this
    script's and bench/extract_precision.py's main read first."""
    parser = argparse.ArgumentParser(description=description)
    add_set_arguments(parser)
    args = parser.parse_args()
    return (args, *development_sets(args))


def main() -> int:
    args, sets, teacher = parse_development_sets(__doc__.split("\n")[0])
    for title, pages in sets.items():
        for hybrid in (False, True):
            name = f"{title}, {'tamis_learned_hybrid' if hybrid else 'tamis_learned'}"
            losses = [loss for page in pages if (loss := analyse(page.key, page.url, page.page_type, page.raw, page.gold, teacher[page.key], hybrid))]
            traf = [1 - sum((_shingles(p.gold) - _shingles(teacher[p.key])).values()) / max(1, sum(_shingles(p.gold).values())) for p in pages]
            print(f"\n#### {name} (trafilatura's mean recall on the same pages {np.mean(traf):.4f})")
            articles = [loss for loss in losses if loss.page_type == "article"]
            report(f"{name}, articles", articles)
            report(f"{name}, all pages", losses)
            report_top(f"{name}, all pages", losses, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
