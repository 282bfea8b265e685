"""url_filter: domains (with subdomains), substrings, and the matched rule in the reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from runutil import assert_accounting, kept, rejected, run_recipe, write_jsonl

from tamis.document import Document
from tamis.errors import ConfigError
from tamis.steps.base import TaskContext
from tamis.steps.url_filter import UrlFilter


def write_blocklist(tmp_path: Path, text: str = "casino.example\n*.tracker.example\nsubstring:/ads/\nsubstring:viagra\n") -> Path:
    path = tmp_path / "blocklist.txt"
    path.write_text("# adult and spam\n\n" + text, encoding="utf-8")
    return path


def test_domain_rules_match_the_domain_and_its_subdomains_only(tmp_path: Path):
    step = UrlFilter(blocklist=str(write_blocklist(tmp_path)))
    assert step.match("https://casino.example/page") == ("domain", "casino.example")
    assert step.match("http://www.CASINO.example:8080/x") == ("domain", "casino.example")
    assert step.match("https://a.b.tracker.example/") == ("domain", "tracker.example")
    assert step.match("https://notcasino.example/") is None
    assert step.match("https://casino.example.org/") is None
    assert step.match("casino.example/no-scheme") == ("domain", "casino.example")


def test_substring_rules_are_case_insensitive(tmp_path: Path):
    step = UrlFilter(blocklist=str(write_blocklist(tmp_path)))
    assert step.match("https://news.example/ads/banner") == ("substring", "/ads/")
    assert step.match("https://shop.example/buy-VIAGRA-now") == ("substring", "viagra")
    assert step.match("https://news.example/adsorption") is None


def test_inline_rules_and_lines_that_look_like_paths():
    step = UrlFilter(rules=["domain:spam.example", "/wp-login.php?"])
    assert step.match("https://x.spam.example/") == ("domain", "spam.example")
    assert step.match("https://blog.example/wp-login.php?redirect=1") == ("substring", "/wp-login.php?")


def test_bad_blocklists_are_config_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="cannot read"):
        UrlFilter(blocklist=str(tmp_path / "missing.txt"))
    empty = tmp_path / "empty.txt"
    empty.write_text("# nothing\n\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="empty"):
        UrlFilter(blocklist=str(empty))
    with pytest.raises(ConfigError, match=r"rules:1: 'bad\^domain' is not a domain"):
        UrlFilter(rules=["bad^domain"])


def test_step_rejects_with_the_rule_and_passes_documents_without_url(tmp_path: Path):
    step = UrlFilter(blocklist=str(write_blocklist(tmp_path)))
    docs = [
        Document("a", "text", {"url": "https://www.casino.example/win"}),
        Document("b", "text", {"url": "https://good.example/article"}),
        Document("c", "text", {}),
        Document("d", "text", {"url": "https://good.example/ads/1"}),
    ]
    ctx = TaskContext(0)
    out = list(step.run(docs, ctx))
    assert [d.id for d in out] == ["b", "c"]
    assert [(r["id"], r["reason"], r["detail"]) for r in ctx.rejected_records] == [
        ("a", "url_filter:domain", "casino.example"),
        ("d", "url_filter:substring", "/ads/"),
    ]


def test_url_filter_in_a_run_accounts_for_every_document(tmp_path: Path):
    records = [{"id": f"d{i}", "text": f"Document {i} with its own words.", "url": url} for i, url in enumerate(
        ["https://casino.example/", "https://ok.example/1", "https://ok.example/ads/2", "https://ok.example/3"]
    )]
    path = write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "run"
    run_recipe([path], out, [{"step": "url_filter", "blocklist": str(write_blocklist(tmp_path))}])
    assert [r["id"] for r in kept(out)] == ["d1", "d3"]
    assert sorted(r["reason"] for r in rejected(out)) == ["url_filter:domain", "url_filter:substring"]
    assert_accounting(out, [r["id"] for r in records])


def test_editing_the_block_list_changes_the_run_fingerprint(tmp_path):
    from tamis.pipeline import RunConfig

    blocklist = tmp_path / "block.txt"
    blocklist.write_text("spam.example\n", encoding="utf-8")
    config = RunConfig(input=["x"], output="o", steps=[{"step": "url_filter", "blocklist": str(blocklist)}])
    before = config.fingerprint()
    blocklist.write_text("spam.example\nads.example\n", encoding="utf-8")
    assert config.fingerprint() != before
