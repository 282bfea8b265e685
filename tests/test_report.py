"""The corpus report: numbers equal stats.json, every section is there, samples are the right ones."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import orjson
import pytest
from runutil import load_stats, run_recipe, write_jsonl

from tamis.errors import ConfigError
from tamis.recipes import recipe
from tamis.registry import register
from tamis.report import load_run, write_report
from tamis.report.page import SECTIONS
from tamis.report.sample import collect
from tamis.steps.base import Filter, Rejection, param

# The seed shape: a French page whose body was rendered twice (lines 6-9 repeat lines 2-5).
SEED_LINES = [
    "Le marché de Lyon",
    "Le marché couvert ouvre ses portes chaque matin dès sept heures.",
    "Les producteurs de la région y vendent fromages, légumes et volailles.",
    "L’été, les terrasses voisines accueillent les visiteurs jusqu’au soir.",
    "On y trouve aussi des librairies d’occasion et un petit théâtre.",
]
SEED_TEXT = "\n".join([*SEED_LINES, *SEED_LINES[1:5]])
WORDS = "le la les un une des et est dans pour avec sur the of and to in is it that marché ville".split()  # noqa: SIM905 - a word list


@register("report_test_words")
class WordCountFilter(Filter):
    """Test filter: rejects documents with too few words (records words and mean word length)."""

    min_words: int = param(3, "documents with fewer words are rejected")

    def score(self, doc: Any) -> dict[str, Any]:
        words = doc.text.split()
        return {"words": len(words), "mean_word_length": sum(map(len, words)) / len(words) if words else 0.0}

    def decide(self, signals: dict[str, Any], doc: Any) -> Rejection | None:
        if signals["words"] < self.min_words:
            return Rejection("too_few_words", signals["words"], self.min_words)
        return None


def corpus_records(n: int = 160, seed: int = 7) -> list[dict[str, Any]]:
    """Documents with something for every section: repairs, clusters, rejects of each kind."""
    rnd = random.Random(seed)
    records = [{"id": "seed", "text": SEED_TEXT}]
    for i in range(n):
        lines = [" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(4, 18))) for _ in range(rnd.randint(1, 7))]
        records.append({"id": f"doc{i}", "text": "\n".join(lines)})
    cluster = "Cette page apparaît quatre fois dans le corpus, mot pour mot.\nDeuxième ligne de la page."
    records += [{"id": f"big{i}", "text": cluster} for i in range(4)]
    records += [{"id": f"pair{i}", "text": "This page appears twice in the corpus, word for word."} for i in range(2)]
    records += [{"id": f"short{i}", "text": f"court {i}"} for i in range(3)]
    records += [{"id": f"same{i}", "text": "\n".join(["Une ligne répétée encore et encore, toujours la même."] * 3)} for i in range(2)]
    return records


def build_run(tmp: Path, name: str = "run", *, steps: list[dict[str, Any]] | None = None, **config: Any) -> Path:
    inp = tmp / f"{name}-in"
    inp.mkdir(parents=True, exist_ok=True)
    write_jsonl(inp / "a.jsonl", corpus_records()[:90])
    path = write_jsonl(inp / "b.jsonl", corpus_records()[90:])
    with open(path, "ab") as fh:
        fh.write(b"{not json\n")
    out = tmp / name
    if steps is None:
        steps = [*recipe("foundation")]
        steps.insert(2, {"step": "report_test_words", "min_words": 3})
    config.setdefault("workers", 1)
    config.setdefault("report", True)
    run_recipe([inp], out, steps=steps, **config)
    return out


class StatCollector(HTMLParser):
    """Text of every element with a data-stat attribute; ids of sections; removed repair lines."""

    def __init__(self) -> None:
        super().__init__()
        self.stats: list[tuple[str, str]] = []
        self.ids: set[str] = set()
        self._open: list[str | None] = []
        self._text: dict[int, list[str]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(str(a["id"]))
        if tag in {"meta", "br", "img", "link", "input", "rect", "line"}:
            return
        self._open.append(a.get("data-stat"))
        if a.get("data-stat"):
            self._text[len(self._open)] = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"meta", "br", "img", "link", "input", "rect", "line"} or not self._open:
            return
        key = self._open.pop()
        if key:
            self.stats.append((key, "".join(self._text.pop(len(self._open) + 1))))

    def handle_data(self, data: str) -> None:
        for parts in self._text.values():
            parts.append(data)


def stat_value(stats: dict[str, Any], key: str) -> Any:
    """The value at ``a|b|c``; a counter key that is absent counts 0 (stats.json omits zeros)."""
    *path, last = key.split("|")
    value: Any = stats
    for part in path:
        value = value[part]
    return value.get(last, 0) if path and path[0] == "languages" else value[last]


def shown_number(text: str) -> float:
    return float(text.replace(",", "").removesuffix(" s").strip())


def check_numbers(html: str, stats: dict[str, Any]) -> list[tuple[str, str]]:
    """Every data-stat number equals stats.json; returns what was checked."""
    parser = StatCollector()
    parser.feed(html)
    assert parser.stats, "the page shows no number from stats.json"
    for key, text in parser.stats:
        expected = stat_value(stats, key)
        assert shown_number(text) == pytest.approx(expected, abs=1e-3), (key, text, expected)
    return parser.stats


def test_report_numbers_and_sections_match_stats(tmp_path: Path) -> None:
    out = build_run(tmp_path)
    html = (out / "report.html").read_text(encoding="utf-8")
    stats = load_stats(out)
    checked = {key for key, _ in check_numbers(html, stats)}
    for key in ("read", "kept", "rejected_total", "bytes_in", "bytes_out"):
        assert key in checked
    for reason in stats["rejected"]:
        assert f"rejected|{reason}" in checked
        assert f"rejected_bytes|{reason}" in checked
    for lang, counts in stats["languages"].items():
        for field in counts:
            assert f"languages|{lang}|{field}" in checked
    assert {"reader:invalid_json", "repetition:all_lines_identical", "report_test_words:too_few_words", "exact_dedup:duplicate"} <= set(stats["rejected"])
    parser = StatCollector()
    parser.feed(html)
    assert {sid for sid, _ in SECTIONS} <= parser.ids
    assert stats["read"] == stats["kept"] + stats["rejected_total"]
    accounting = f"read <strong>{stats['read']:,}</strong> = kept <strong>{stats['kept']:,}</strong> + rejected <strong>{stats['rejected_total']:,}</strong>"
    assert f"Accounting: {accounting} — holds" in html
    # nothing that a browser would fetch
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#)""", html)
    assert "<script" not in html


def test_seed_repair_sample_shows_the_four_removed_lines(tmp_path: Path) -> None:
    out = build_run(tmp_path)
    html = (out / "report.html").read_text(encoding="utf-8")
    sample = re.search(r"<div class='doc repair-sample' data-removed='(\d+)'><div class='meta'><code>seed</code>.*?</ol>", html, re.S)
    assert sample, "the seed document is not the repetition sample"
    assert sample.group(1) == "4"
    removed = re.findall(r"<li class='removed'><del>(.*?)</del>", sample.group(0))
    kept = re.findall(r"<li>(.*?)</li>", sample.group(0))
    assert len(removed) == 4
    assert [r.replace("&#x27;", "'") for r in removed] == [line.replace("&#x27;", "'") for line in SEED_LINES[1:5]]
    assert len(kept) == 5


def test_clusters_show_the_keeper_and_two_members(tmp_path: Path) -> None:
    out = build_run(tmp_path)
    run = load_run(out)
    assert run.findings is not None
    assert run.findings.cluster_sizes["exact_dedup"] == {4: 1, 2: 1}
    largest = run.findings.largest[0]
    assert (largest.keeper, largest.size, largest.members) == ("big0", 4, ["big1", "big2"])
    assert largest.keeper_record is not None
    assert [r["id"] for r in largest.member_records] == ["big1", "big2"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "keeper <code>big0</code>" in html


def test_signal_distribution_has_its_threshold(tmp_path: Path) -> None:
    out = build_run(tmp_path)
    html = (out / "report.html").read_text(encoding="utf-8")
    figure = re.search(r'<figure id="signal-report_test_words-words".*?</figure>', html, re.S)
    assert figure, "no distribution for the filter's signal"
    assert "min_words = 3" in figure.group(0)
    assert "stroke-dasharray" in figure.group(0)  # the threshold line is drawn
    assert 'id="signal-report_test_words-mean_word_length"' in html
    # the rejected short documents have their measured value next to them
    assert "too_few_words=2 (threshold 3)" in html


def test_sampled_distributions_are_weighted_and_said_to_be(tmp_path: Path) -> None:
    out = build_run(tmp_path)
    stats = load_stats(out)
    findings = collect(out, stats, kept_budget=10, per_reason=1)
    assert findings.sampled
    assert findings.kept_sampled == 10
    # weights restore the true counts: kept sample stands for every kept document
    kept_weight = sum(o.weight for o in findings.observations if o.outcome is None)
    assert kept_weight == pytest.approx(stats["kept"])
    for reason, count in stats["rejected"].items():
        assert findings.rejected_seen[reason] == count
        assert sum(o.weight for o in findings.observations if o.outcome == reason) == pytest.approx(count)
    full = collect(out, stats)
    assert not full.sampled


def test_against_shows_both_funnels(tmp_path: Path) -> None:
    a = build_run(tmp_path, "a")
    b = build_run(tmp_path, "b", steps=recipe("foundation"))
    html = write_report(a, against=b).read_text(encoding="utf-8")
    assert 'id="compare"' in html
    sa, sb = load_stats(a), load_stats(b)
    assert sa["kept"] != sb["kept"]
    assert f"<td class='n' data-compare='a-kept'>{sa['kept']:,}</td>" in html
    assert f"<td class='n' data-compare='b-kept'>{sb['kept']:,}</td>" in html


@pytest.mark.parametrize(("fmt", "compression"), [("parquet", "zstd"), ("jsonl", "zstd"), ("jsonl", "none")])
def test_every_shard_format_is_read(tmp_path: Path, fmt: str, compression: str) -> None:
    out = build_run(tmp_path, format=fmt, compression=compression)
    stats = load_stats(out)
    run = load_run(out)
    assert run.findings is not None
    assert run.findings.rejected_seen == stats["rejected"]
    assert run.findings.kept_sampled == stats["kept"]
    check_numbers((out / "report.html").read_text(encoding="utf-8"), stats)


def test_default_recipe_report(tmp_path: Path) -> None:
    """Whatever steps the default recipe holds, the report renders and agrees with stats.json."""
    out = build_run(tmp_path, steps=recipe("default"))
    check_numbers((out / "report.html").read_text(encoding="utf-8"), load_stats(out))


def test_bad_run_directory_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no stats\.json"):
        write_report(tmp_path)
    (tmp_path / "stats.json").write_bytes(b"{broken")
    with pytest.raises(ConfigError, match="not valid JSON"):
        write_report(tmp_path)
    (tmp_path / "stats.json").write_bytes(orjson.dumps({"hello": 1}))
    with pytest.raises(ConfigError, match="not a tamis stats file"):
        write_report(tmp_path)
    done = subprocess.run([sys.executable, "-m", "tamis.cli", "report", str(tmp_path / "missing")], capture_output=True, text=True, check=False)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr
    assert "stats.json" in done.stderr
