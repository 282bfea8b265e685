"""Nothing is lost: read = kept + rejected, every input id once, whatever the workers."""

import random
from pathlib import Path

from runutil import assert_accounting, kept, load_stats, rejected, run_recipe, write_jsonl

WORDS = ["le", "la", "les", "un", "une", "des", "port", "gare", "ville", "rivière", "pont", "école", "jardin"]
WORDS += ["the", "a", "of", "river", "bridge", "school", "garden", "town", "market", "budget", "report"]


def planted_corpus(tmp_path: Path, n_docs: int = 100_000, n_files: int = 4) -> tuple[list[Path], list[str], dict[str, int]]:
    rng = random.Random(7)
    records: list[dict[str, str]] = []
    planted = {"exact": 0, "repeated_lines": 0, "identical_lines": 0}
    originals: list[str] = []
    for i in range(n_docs):
        r = rng.random()
        if originals and r < 0.1:
            text = rng.choice(originals)
            text = text.upper() if rng.random() < 0.5 else text
            planted["exact"] += 1
        elif r < 0.13:
            line = " ".join(rng.choice(WORDS) for _ in range(8)) + f" {i}"
            text = "\n".join([line, f"une autre ligne assez longue pour compter {i}", line])
            planted["repeated_lines"] += 1
        elif r < 0.14:
            text = "\n".join(["Cliquez ici pour vous abonner à la lettre"] * 4)
            planted["identical_lines"] += 1
        else:
            text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 30))) + f" n°{i}."
            originals.append(text)
        records.append({"id": f"doc-{i:06d}", "text": text})
    per = n_docs // n_files
    files = [write_jsonl(tmp_path / f"in-{k}.jsonl", records[k * per : (k + 1) * per if k < n_files - 1 else n_docs]) for k in range(n_files)]
    return files, [r["id"] for r in records], planted


def test_100k_documents_accounted_for_with_one_and_two_workers(tmp_path: Path):
    files, ids, planted = planted_corpus(tmp_path)
    one, two = tmp_path / "w1", tmp_path / "w2"
    run_recipe(files, one, workers=1)
    run_recipe(files, two, workers=2)
    for out in (one, two):
        assert_accounting(out, ids)
    stats1, stats2 = load_stats(one), load_stats(two)
    assert stats1["read"] == 100_000
    assert stats1["rejected"]["repetition:all_lines_identical"] == planted["identical_lines"]
    assert stats1["removed_units"]["repetition.lines"] == planted["repeated_lines"]
    # Every planted exact copy is found (some clean documents collide by chance, so >=).
    assert stats1["rejected"]["exact_dedup:duplicate"] >= planted["exact"]
    assert [d["id"] for d in kept(one)] == [d["id"] for d in kept(two)]
    assert [(r["id"], r["reason"], r["duplicate_of"]) for r in rejected(one)] == [(r["id"], r["reason"], r["duplicate_of"]) for r in rejected(two)]
    without_run = [{k: v for k, v in s.items() if k != "run"} for s in (stats1, stats2)]
    assert without_run[0] == without_run[1]
    # Same shard names and contents for both worker counts.
    assert sorted(p.name for p in (one / "output").iterdir()) == sorted(p.name for p in (two / "output").iterdir())


def test_duplicates_point_at_a_kept_document(tmp_path: Path):
    files, _, _ = planted_corpus(tmp_path, n_docs=5000, n_files=2)
    out = tmp_path / "run"
    run_recipe(files, out)
    kept_ids = {d["id"] for d in kept(out)}
    dups = [r for r in rejected(out) if r["reason"] == "exact_dedup:duplicate"]
    assert dups and all(r["duplicate_of"] in kept_ids for r in dups)


def test_the_full_default_recipe_on_the_demo_corpus(tmp_path: Path):
    """The one test that runs the default recipe as it is (the others pin the foundation one)."""
    from tamis.demo import generate, write_demo_corpus
    from tamis.recipes import recipe

    write_demo_corpus(tmp_path / "demo", n_docs=1500, seed=5)
    out = tmp_path / "run"
    outcome = run_recipe([tmp_path / "demo"], out, recipe("default"))
    assert not outcome.failed
    # text files are named by their path under the input folder (c-pages/<id>)
    pages = {p.name.removesuffix(".txt") for p in (tmp_path / "demo" / "c-pages").iterdir()}
    assert_accounting(out, [f"c-pages/{r['id']}" if r["id"] in pages else r["id"] for r in generate(1500, seed=5)])
    stats = load_stats(out)
    assert stats["steps"] == [s["step"] for s in recipe("default")]
    planted_copies = sum(r["planted"] == "exact_duplicate" for r in generate(1500, seed=5))
    dedup = stats["rejected"].get("exact_dedup:duplicate", 0) + stats["rejected"].get("minhash:duplicate", 0)
    assert dedup >= planted_copies * 0.9  # copies of pages that a filter removed first are not counted here
    assert stats["modified"]["repetition"] > 0
    assert {"en", "fr", "de"} <= {lang for lang, c in stats["languages"].items() if c.get("kept_docs")}
    assert all(d["metadata"]["language"] in {"en", "fr", "de", "es", "it", "pt", "nl"} for d in kept(out))
