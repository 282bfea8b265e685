"""Exact deduplication: documents and lines, first occurrence in input order wins."""

from pathlib import Path

from runutil import assert_accounting, kept, load_stats, rejected, run_recipe, write_jsonl

DOC_STEPS = [{"step": "exact_dedup"}]


def test_first_occurrence_wins_across_files_and_normalised_variants_match(tmp_path: Path):
    a = write_jsonl(tmp_path / "a.jsonl", [{"id": "a1", "text": "L’été est chaud."}, {"id": "a2", "text": "Another text entirely."}])
    b = write_jsonl(
        tmp_path / "b.jsonl",
        [
            {"id": "b1", "text": "l'été  est CHAUD."},  # same after normalisation
            {"id": "b2", "text": "Another text entirely."},
            {"id": "b3", "text": "Unique in b."},
        ],
    )
    out = tmp_path / "run"
    run_recipe([a, b], out, DOC_STEPS)
    assert [d["id"] for d in kept(out)] == ["a1", "a2", "b3"]
    dups = {r["id"]: (r["reason"], r["duplicate_of"]) for r in rejected(out)}
    assert dups == {"b1": ("exact_dedup:duplicate", "a1"), "b2": ("exact_dedup:duplicate", "a2")}
    assert_accounting(out, ["a1", "a2", "b1", "b2", "b3"])


def test_partitioned_resolve_gives_the_same_result(tmp_path: Path):
    records = [{"id": f"d{i}", "text": f"text number {i % 700}"} for i in range(3000)]
    files = [write_jsonl(tmp_path / f"part{k}.jsonl", records[k * 1000 : (k + 1) * 1000]) for k in range(3)]
    single, parted = tmp_path / "single", tmp_path / "parted"
    per_file = {"batch_bytes": 0}  # three tasks: the partitioned passes run across tasks
    run_recipe(files, single, DOC_STEPS, reader=per_file)
    # As if the units did not fit the memory budget: three hash partitions.
    run_recipe(files, parted, [{"step": "exact_dedup", "partitions": 3}], reader=per_file)
    assert len(list((parted / "_markers").glob("stage0-partition-*"))) == 3
    assert [d["id"] for d in kept(single)] == [d["id"] for d in kept(parted)] == [f"d{i}" for i in range(700)]
    assert sorted((r["id"], r["duplicate_of"]) for r in rejected(single)) == sorted((r["id"], r["duplicate_of"]) for r in rejected(parted))
    assert all(r["duplicate_of"] == f"d{int(r['id'][1:]) % 700}" for r in rejected(parted))


def test_line_dedup_removes_lines_seen_in_earlier_documents(tmp_path: Path):
    boiler = "Inscrivez-vous à notre lettre d’information"
    records = [
        {"id": "p1", "text": f"Premier article sur le port.\n{boiler}"},
        {"id": "p2", "text": f"Deuxième article sur la gare.\n{boiler}\nFin du deuxième."},
        {"id": "p3", "text": f"{boiler}\nPremier article sur le port."},
    ]
    out = tmp_path / "run"
    run_recipe([write_jsonl(tmp_path / "x.jsonl", records)], out, [{"step": "exact_dedup", "unit": "line"}])
    texts = {d["id"]: d["text"] for d in kept(out)}
    assert texts == {"p1": f"Premier article sur le port.\n{boiler}", "p2": "Deuxième article sur la gare.\nFin du deuxième."}
    (gone,) = rejected(out)
    assert (gone["id"], gone["reason"], gone["duplicate_of"]) == ("p3", "exact_dedup:all_lines_duplicate", "p1")
    stats = load_stats(out)
    assert stats["removed_units"]["exact_dedup.lines"] == 1
    assert stats["modified"]["exact_dedup"] == 1


def test_id_writer_extends_as_it_adds_one_by_one():
    """IdWriter.extend (one encode for a batch of ASCII ids, else one per id) stores the
    bytes and offsets that add() gives id by id, lone surrogates and accents included."""
    import random

    from tamis.io.idstore import IdWriter

    rng = random.Random(5)
    for _ in range(300):
        ids = ["".join(rng.choice("ab\u00e9\ud800z:0") for _ in range(rng.randint(0, 5))) for _ in range(rng.randint(0, 10))]
        if rng.random() < 0.5:
            ids = [doc_id.encode("ascii", "ignore").decode() for doc_id in ids]
        batch, single = IdWriter(), IdWriter()
        for writer in (batch, single):
            writer.add("first")
        batch.extend(ids)
        for doc_id in ids:
            single.add(doc_id)
        assert (batch._blob, batch._offsets) == (single._blob, single._offsets)
