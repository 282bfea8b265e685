"""The default recipe with language ID, quality filters and PII, end to end on a French page."""

from __future__ import annotations

from quality_docs import ENGLISH_ARTICLE, FRENCH_ARTICLE, FRENCH_ARTICLE_REPEATED
from runutil import assert_accounting, kept, load_stats, rejected, run_recipe, write_jsonl

from tamis.recipes import recipe

QUALITY_STEPS = ["language", "gopher_repetition", "gopher_quality", "c4_quality", "fineweb_quality"]


def test_default_recipe_order():
    names = [step["step"] for step in recipe("default")]
    start = names.index("repetition") + 1
    assert names[start : start + len(QUALITY_STEPS)] == QUALITY_STEPS
    assert names[-1] == "pii"


def test_repeated_french_page_is_repaired_and_kept(tmp_path):
    path = tmp_path / "page.txt"
    path.write_text(FRENCH_ARTICLE_REPEATED.rstrip("\n"), encoding="utf-8")
    out = tmp_path / "out"
    run_recipe([path], out, steps=recipe("default"))
    records = kept(out)
    assert len(records) == 1
    assert records[0]["text"] == FRENCH_ARTICLE.rstrip("\n")
    assert records[0]["metadata"]["language"] == "fr"
    signals = records[0]["metadata"]["signals"]
    assert set(QUALITY_STEPS[1:]) <= set(signals)
    stats = load_stats(out)
    assert stats["removed_units"]["repetition.lines"] == 4
    assert stats["rejected_total"] == 0


def test_without_repair_gopher_repetition_rejects_it(tmp_path):
    path = tmp_path / "page.txt"
    path.write_text(FRENCH_ARTICLE_REPEATED.rstrip("\n"), encoding="utf-8")
    out = tmp_path / "out"
    steps = [step for step in recipe("default") if step["step"] != "repetition"]
    run_recipe([path], out, steps=steps)
    assert not kept(out)
    [record] = rejected(out)
    assert record["reason"] == "gopher_repetition:dup_line_frac"
    assert record["metadata"]["signals"]["gopher_repetition"]["dup_line_frac"] == 4 / 9


def test_quality_filters_account_for_every_document(tmp_path):
    records = [
        {"id": "article", "text": FRENCH_ARTICLE},
        {"id": "short", "text": "Bonjour à tous."},
        {"id": "finnish", "text": "Kaupunginvaltuusto päätti tiistaina korjata vanhan sillan joen yli."},
        {"id": "menu", "text": "\n".join(["Accueil", "Actualités", "Sport", "Météo", "Contact"] * 4)},
        {"id": "contact", "text": ENGLISH_ARTICLE + "Write to the desk at news@harbour-example.org or call +44 20 7946 0958.\n"},
    ]
    path = write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "out"
    run_recipe([path], out, steps=recipe("default"))
    assert_accounting(out, [r["id"] for r in records])
    kept_ids = {r["id"]: r for r in kept(out)}
    assert set(kept_ids) == {"article", "contact"}
    assert "<EMAIL>" in kept_ids["contact"]["text"] and "<PHONE>" in kept_ids["contact"]["text"]
    reasons = {r["id"]: r["reason"] for r in rejected(out)}
    # Every language is processed: the one-sentence Finnish page is judged by the quality rules.
    assert not reasons["finnish"].startswith("language:")
    assert next(r for r in rejected(out) if r["id"] == "finnish")["metadata"]["language"] == "fi"
    assert reasons["short"].startswith(("gopher_quality:", "c4_quality:", "gopher_repetition:", "language:"))
    stats = load_stats(out)
    assert stats["removed_units"]["pii.emails"] == 1
    assert stats["removed_units"]["pii.phones"] == 1
