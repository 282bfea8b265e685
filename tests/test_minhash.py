"""MinHash near-duplicate stage: compiled vs reference, keeper rule, determinism, saved index."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from runutil import assert_accounting, kept, load_stats, rejected, run_recipe, write_jsonl

from tamis._native import _minhash as compiled
from tamis.dedup import reference
from tamis.dedup.lsh import bucket_edges, candidate_probability, choose_banding, drawn_permutations, permutations
from tamis.dedup.minhash import MinHashDedup
from tamis.errors import ConfigError

ALPHABET = "ab cdé_ΩΣ中文\u0301 \n,.-1234 xÉßİ\U0001f600AZq"


def _vocab(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def _edit(words: list[str], positions: list[int], tag: str) -> list[str]:
    out = list(words)
    for k, p in enumerate(positions):
        out[p] = f"{tag}{k}"
    return out


# ---------------------------------------------------------------------- permutations


def test_stored_permutations_of_seed_1_are_numpys_draws_at_every_width():
    """The stored draws of the default seed give numpy's permutations at every width up to
    128 (the default num_perm); other seeds and wider ones are drawn."""
    for perms in range(129):
        assert permutations(1, perms) == drawn_permutations(1, perms), perms
    assert permutations(1, 129) == drawn_permutations(1, 129)
    assert permutations(2, 126) == drawn_permutations(2, 126)
    a, _ = permutations(1, 126)
    assert all(x & 1 for x in np.frombuffer(a, "<u4"))


# ---------------------------------------------------------------------- compiled == reference


@pytest.mark.parametrize("char_mode", [0, 1])
@pytest.mark.parametrize("ngram", [1, 3, 5])
def test_compiled_sketch_is_bit_identical_to_the_reference(char_mode: int, ngram: int):
    rng = random.Random(ngram * 10 + char_mode)
    texts = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(0, 80))) for _ in range(150)]
    texts += ["", "one", "a b c d e f g", "  ,,, ", "x" * 500]
    a, b = permutations(7, 4 * 5)
    assert compiled.sketch(texts, ngram, char_mode, a, b, 4, 5) == reference.sketch(texts, ngram, char_mode, a, b, 4, 5)


@pytest.mark.parametrize("mode", [2, 4, 5, 6])
def test_unit_modes_and_folding_in_c_are_bit_identical_to_the_reference(mode: int):
    """Mode 2 (unspaced-script characters as units) and bit 4 (the sketch folds case itself)
    give what the reference gives: shingle_text, then casefold, then the plain rules."""
    import unicodedata

    from tamis.dedup.minhash import unspaced_bitmap

    compiled.set_unspaced(unspaced_bitmap())
    rng = random.Random(mode)
    alphabet = ALPHABET + "日本語のテキストภาษาไทยក្ខ ŉǅΣς ﬃั"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(200)]
    texts += ["", "STRASSE straße İstanbul ŉ", "中文 mixed 文字 𠀀𠀁 end", "x_y 日_本", "ÀÉÎ ÕÜ ẞ"]
    texts = [unicodedata.normalize("NFC", t) for t in texts]
    a, b = permutations(5, 4 * 5)
    for ngram in (1, 3, 5):
        assert compiled.sketch(texts, ngram, mode, a, b, 4, 5) == reference.sketch(texts, ngram, mode, a, b, 4, 5)
    if mode & 4:  # folding in C is folding first
        folded = [t.casefold() for t in texts]
        assert compiled.sketch(texts, 3, mode, a, b, 4, 5) == compiled.sketch(folded, 3, mode & 3, a, b, 4, 5)


@pytest.mark.parametrize("mode", [4, 6])
def test_every_bmp_code_point_folds_and_classes_as_the_reference(mode: int):
    """The compiled module's per-code-point tables (FOLD_CLASS, filled at import) against the
    reference on every BMP character: each alone, and each run of 64 as one word (where a word
    character's fold joins or leaves a word)."""
    from tamis.dedup.minhash import unspaced_bitmap

    compiled.set_unspaced(unspaced_bitmap())
    codes = [c for c in range(1, 0x10000) if not 0xD800 <= c < 0xE000]
    texts = [" ".join(chr(c) for c in codes[i:i + 64]) for i in range(0, len(codes), 64)]
    texts += ["".join(chr(c) for c in codes[i:i + 64]) for i in range(0, len(codes), 64)]
    a, b = permutations(3, 4 * 5)
    for ngram in (1, 2):
        assert compiled.sketch(texts, ngram, mode, a, b, 4, 5) == reference.sketch(texts, ngram, mode, a, b, 4, 5)


# Pages as they come: Chinese and Japanese man pages (option names in Latin), a Thai line, an
# English page naming a Chinese author, folds that change the character count (ß, İ, ﬃ, ͅ).
REAL_TEXTS = [
    "ls - 列出目录内容\n\n概述\n       ls [选项]... [文件]...\n\n描述\n       列出 FILE 的信息（默认为当前目录）。"
    "如果既没有指定 -cftuvSUX 中任何一个，也没有指定 --sort，则按字母排序项目。\n\n       -a, --all\n              不忽略以 . 开始的项目",
    "GREP(1)  ユーザーコマンド\n名前\n       grep, egrep, fgrep - パターンにマッチする行を表示する\n書式\n       grep [OPTIONS] PATTERN [FILE...]\n"
    "説明\n       grep は、FILE で指定された入力ファイル (ファイルが指定されていないか、 - の場合は標準入力) を検索します。",
    "ภาษาไทยเป็นภาษาที่ไม่มีการเว้นวรรคระหว่างคำ ใช้ในประเทศไทย Thai script example with English words",
    "The bridge over the river was built by 李 a century ago and still carries the traffic of the STRASSE",
    "Straße İstanbul ﬃ ΣΑΣ ᾳͅ 日本 中文 mixed ẞ x_y 日_本 ﬁle ᾳͅβ",
    "中文" * 3 + " an English sentence long enough that the Chinese share is under a tenth of the word characters here",
    "中" + " an English sentence long enough that the Chinese share is under a tenth of its chars",
    "中文中文" + "abcdefghijklmnopqrstuvwxyzabcdefghijklmn",  # 4 of 44: just under 10 %
    "中文中文" + "abcdefghijklmnopqrstuvwxyzabcdefghijkl",  # 4 of 40: exactly 10 %
    "",
    " ,, ",
    "ǅ İ ﬃ 𠀀𠀁 ៗ ๆ",
]


@pytest.mark.parametrize("fold_in_c", [False, True])
def test_per_document_rule_in_c_is_bit_identical_to_spreading_first(fold_in_c: bool):
    """Mode 8: the compiled sketch decides per document whether every word character is a unit
    (shingles.mostly_unspaced) and applies it, with no Python pass: the same band keys,
    counts and fingerprints as the reference, and as spread_mostly_unspaced then mode 2 (what
    the collect ran before), on random and real texts."""
    import unicodedata

    from tamis.dedup.minhash import unspaced_bitmap
    from tamis.dedup.shingles import UNSPACED_DOCUMENT_SHARE, spread_mostly_unspaced

    compiled.set_unspaced(unspaced_bitmap(), UNSPACED_DOCUMENT_SHARE)
    rng = random.Random(8 + fold_in_c)
    alphabet = ALPHABET + "日本語のテキストภาษาไทยក្ខ ŉǅΣς ﬃัͅ"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 80))) for _ in range(300)]
    latin = "The quick brown fox jumps over lazy dogs "
    for _ in range(200):  # around the 10 % share, where the rule flips
        texts.append("".join(rng.choice(latin) for _ in range(rng.randint(10, 60))) + "".join(rng.choice("日本語中文ภาษ") for _ in range(rng.randint(0, 8))))
        rng.shuffle(chars := list(texts[-1]))
        texts.append("".join(chars))
    texts = [unicodedata.normalize("NFC", t) for t in texts + REAL_TEXTS]
    if not fold_in_c:
        texts = [t.casefold() for t in texts]
    base = 2 | (4 if fold_in_c else 0)
    a, b = permutations(9, 4 * 5)
    for ngram in (1, 3, 5):
        got = compiled.sketch(texts, ngram, base | 8, a, b, 4, 5)
        assert got == reference.sketch(texts, ngram, base | 8, a, b, 4, 5)
        assert got == compiled.sketch([spread_mostly_unspaced(t) for t in texts], ngram, base, a, b, 4, 5)
    # the rule matters on these texts: some documents are spread, and that changes their sketch
    spread = [t for t in texts if spread_mostly_unspaced(t) != t]
    assert len(spread) > 50
    assert compiled.sketch(spread, 5, base | 8, a, b, 4, 5) != compiled.sketch(spread, 5, base, a, b, 4, 5)


def test_long_documents_sort_their_fingerprints_as_the_reference():
    """Documents of 60 to 9,000 shingles take each path of the compiled sort (insertion, top-byte
    buckets, buckets of repeats, LSD radix): the same sorted sets as the reference."""
    rng = random.Random(12)
    texts = []
    for words, vocabulary in ((60, 1000), (300, 5000), (2000, 20000), (4000, 40), (9000, 100000), (2000, 3)):
        vocab = [f"w{k}" for k in range(vocabulary)]
        texts.append(" ".join(rng.choice(vocab) for _ in range(words)))
    a, b = permutations(3, 2 * 3)
    assert compiled.sketch(texts, 2, 0, a, b, 2, 3) == reference.sketch(texts, 2, 0, a, b, 2, 3)


def test_unsorted_fingerprints_of_every_shape_sort_as_the_reference():
    """jaccard_pairs makes sets of unsorted fingerprints with the compiled sort: hashes (a few
    per top-bits bucket), a narrow range or many repeats (buckets past MSD_BUCKET: LSD radix),
    on each side of every size limit."""
    rng = np.random.default_rng(5)
    parts = []
    for n in (63, 64, 65, 257, 1000, 4095, 4097, 6000):
        parts.append(rng.integers(0, 1 << 32, size=n, dtype=np.uint64).astype(np.uint32))  # hashes
        parts.append(rng.integers(0, 5000, size=n, dtype=np.uint32))  # one top-bits bucket
        parts.append(np.repeat(rng.integers(0, 1 << 32, size=max(1, n // 40), dtype=np.uint64).astype(np.uint32), 40)[:n])  # repeats
    offsets = np.r_[0, np.cumsum([len(p) for p in parts])].astype("<i8")
    pairs = np.array([(i, j) for i in range(len(parts)) for j in range(i, min(len(parts), i + 4))], dtype="<i8")
    args = (np.concatenate(parts).tobytes(), offsets.tobytes(), pairs[:, 0].copy().tobytes(), pairs[:, 1].copy().tobytes())
    assert compiled.jaccard_pairs(*args) == reference.jaccard_pairs(*args)


def test_sketch_rejects_unknown_unit_modes():
    a, b = permutations(1, 4)
    for mode in (-1, 3, 7, 8, 9, 12, 13, 16):
        with pytest.raises(ValueError):
            compiled.sketch(["x"], 1, mode, a, b, 2, 2)


def test_ascii_fast_path_equals_full_nfc_casefold():
    import unicodedata

    from tamis.dedup.minhash import normalize_for_shingles

    texts = ["Hello WORLD Foo_Bar 42", "ÉCOLE e\u0301cole STRASSE straße", "plain ascii text", "MiXeD İstanbul ǅ"]
    a, b = permutations(1, 12)
    for char_mode in (0, 1):
        fast = compiled.sketch([normalize_for_shingles(t) for t in texts], 2, char_mode, a, b, 3, 4)
        full = reference.sketch([unicodedata.normalize("NFC", t).casefold() for t in texts], 2, char_mode, a, b, 3, 4)
        assert fast == full


def test_compiled_jaccard_and_union_find_match_the_reference():
    rng = np.random.default_rng(3)
    sizes = rng.integers(0, 40, size=30)
    offsets = np.r_[0, np.cumsum(sizes)].astype("<i8")
    fps = rng.integers(0, 50, size=int(offsets[-1]), dtype=np.uint32)  # small range: real overlaps and repeats
    left = rng.integers(0, 30, size=200).astype("<i8")
    right = rng.integers(0, 30, size=200).astype("<i8")
    args = (fps.tobytes(), offsets.tobytes(), left.tobytes(), right.tobytes())
    assert compiled.jaccard_pairs(*args) == reference.jaccard_pairs(*args)
    # Stored sets (sorted, no repeats) are used in place; with a threshold, pairs below it may
    # report an upper bound, but the same pairs pass.
    base = rng.integers(0, 1 << 32, size=600, dtype=np.uint64).astype(np.uint32)
    # Large overlapping sets, so the merge runs long enough to stop early.
    sets = []
    for _ in range(30):
        extra = rng.integers(0, 1 << 32, size=int(rng.integers(0, 200)), dtype=np.uint64).astype(np.uint32)
        sets.append(np.unique(np.r_[base[: rng.integers(300, 600)], extra]))
    set_offsets = np.r_[0, np.cumsum([len(x) for x in sets])].astype("<i8")
    set_args = (np.concatenate(sets).astype("<u4").tobytes(), set_offsets.tobytes(), left.tobytes(), right.tobytes())
    exact = np.frombuffer(reference.jaccard_pairs(*set_args), dtype="<f8")
    assert np.array_equal(np.frombuffer(compiled.jaccard_pairs(*set_args), dtype="<f8"), exact)
    bounded = np.frombuffer(compiled.jaccard_pairs(*set_args, 0.8), dtype="<f8")
    assert np.array_equal(bounded >= 0.8, exact >= 0.8)
    assert np.array_equal(bounded[exact >= 0.8], exact[exact >= 0.8])
    assert 0 < int((exact >= 0.8).sum()) < len(exact) and np.any(bounded != exact)  # both kinds occur
    assert np.all(bounded >= exact - 1e-12)

    edges = rng.integers(0, 500, size=(400, 2), dtype=np.uint32).astype("<u4").tobytes()
    fast, slow = np.arange(500, dtype=np.uint32), np.arange(500, dtype=np.uint32)
    compiled.union_edges(fast, edges)
    compiled.flatten(fast)
    reference.union_edges(slow, edges)
    reference.flatten(slow)
    assert np.array_equal(fast, slow)
    assert np.all(fast <= np.arange(500))  # labels are the smallest member


def test_banding_favours_recall_and_bucket_edges_link_every_member():
    assert choose_banding(0.8, 128) == (21, 6)
    assert candidate_probability(0.8, 21, 6) >= 0.99
    keys = np.asarray([5, 7, 5, 9, 5, 7], dtype=np.uint64)
    docs = np.arange(6, dtype=np.uint32)
    edges = {tuple(e) for e in bucket_edges(keys, docs).tolist()}
    # bucket 5 = {0, 2, 4}: chain 2-0, 4-2 and star 4-0; bucket 7 = {1, 5}; 9 alone.
    assert edges == {(2, 0), (4, 2), (4, 0), (5, 1)}


# ---------------------------------------------------------------------- the stage


def _corpus(seed: int = 0) -> list[dict]:
    """Families of near copies (one word changed out of 120: J >= 0.84 between any two members)
    plus unrelated documents."""
    rng = random.Random(seed)
    records = []
    for fam in range(12):
        base = _vocab(f"f{fam}w", 120)
        rng.shuffle(base)
        records.append({"id": f"fam{fam}-orig", "text": " ".join(base)})
        for copy in range(rng.randint(0, 3)):
            positions = [rng.randrange(120)]
            records.append({"id": f"fam{fam}-copy{copy}", "text": " ".join(_edit(base, positions, f"e{copy}x")).upper()})
    for k in range(20):
        records.append({"id": f"solo{k}", "text": " ".join(rng.sample(_vocab(f"s{k}w", 300), 150))})
    rng.shuffle(records)
    return records


def _kept_ids(out: Path) -> list[str]:
    return [d["id"] for d in kept(out)]


def test_identical_and_near_documents_cluster_unrelated_do_not(tmp_path: Path):
    records = _corpus()
    src = write_jsonl(tmp_path / "in.jsonl", records)
    out = tmp_path / "run"
    run_recipe([src], out, [{"step": "minhash"}], workers=1)
    assert_accounting(out, [r["id"] for r in records])
    order = [r["id"] for r in records]
    families: dict[str, list[str]] = {}
    for rid in order:
        if rid.startswith("fam"):
            families.setdefault(rid.split("-")[0], []).append(rid)
    expected_kept = {members[0] for members in families.values()} | {rid for rid in order if rid.startswith("solo")}
    assert set(_kept_ids(out)) == expected_kept
    for record in rejected(out):
        fam = record["id"].split("-")[0]
        assert record["reason"] == "minhash:duplicate"
        assert record["duplicate_of"] == families[fam][0]  # the earliest member in input order
        assert record["detail"].startswith("jaccard=")
    for doc in kept(out):
        size = len(families.get(doc["id"].split("-")[0], [doc["id"]]))
        if size > 1:
            assert doc["metadata"]["cluster_id"] == doc["id"]
            assert doc["metadata"]["cluster_size"] == size
        else:
            assert "cluster_size" not in doc["metadata"]
    assert load_stats(out)["rejected"] == {"minhash:duplicate": len(records) - len(expected_kept)}


def test_chained_members_are_removed_only_if_similar_to_their_own_keeper(tmp_path: Path):
    # 5-grams over 200 distinct words: k spread-out substitutions give J = (196-5k)/(196+5k).
    base = _vocab("w", 200)
    spots = [20, 60, 100, 140, 180, 40]
    a = base
    b = _edit(base, spots[:2], "b")  # J(a,b) = 0.903
    c = _edit(b, spots[2:5], "c")  # J(b,c) = 0.858, J(a,c) = 0.774 < 0.8
    d = _edit(c, spots[5:], "d")  # J(c,d) = 0.951, J(b,d) = 0.815, J(a,d) = 0.735
    records = [{"id": k, "text": " ".join(v)} for k, v in (("A", a), ("B", b), ("C", c), ("D", d))]
    records.append({"id": "E", "text": " ".join(_vocab("z", 200))})
    out = tmp_path / "run"
    run_recipe([write_jsonl(tmp_path / "in.jsonl", records)], out, [{"step": "minhash"}], workers=1)
    # C is the best star centre (B and D near it and near each other: 3 true pairs; A's star
    # would hold 1). A is near B but not near C, so it is not removed in C's favour: kept.
    assert {r["id"]: r["duplicate_of"] for r in rejected(out)} == {"B": "C", "D": "C"}
    meta = {d["id"]: (d["metadata"].get("cluster_id"), d["metadata"].get("cluster_size")) for d in kept(out)}
    assert meta == {"A": (None, None), "C": ("C", 3), "E": (None, None)}
    assert_accounting(out, ["A", "B", "C", "D", "E"])

    # A chain without a triangle: B2's star (A2, C2) scores 2 true pairs - 1 false (A2-C2) = 1,
    # as do A2's and C2's (one true pair each); the tie goes to the earliest, A2. C2 is not
    # near A2, so it is not removed: it stays, alone.
    a2 = _vocab("v", 200)
    b2 = _edit(a2, spots[:2], "b")  # J = 0.903
    c2 = _edit(b2, spots[2:5], "c")  # J(b,c) = 0.858, J(a,c) = 0.774
    chain = [{"id": k, "text": " ".join(v)} for k, v in (("A2", a2), ("B2", b2), ("C2", c2))]
    out3 = tmp_path / "chain"
    run_recipe([write_jsonl(tmp_path / "chain.jsonl", chain)], out3, [{"step": "minhash"}], workers=1)
    assert {r["id"]: r["duplicate_of"] for r in rejected(out3)} == {"B2": "A2"}

    # Without verification every component member goes to the component's keeper (peers' behaviour).
    out2 = tmp_path / "noverify"
    run_recipe([write_jsonl(tmp_path / "in.jsonl", records)], out2, [{"step": "minhash", "verify": False}], workers=1)
    assert {r["id"]: r["duplicate_of"] for r in rejected(out2)} == {"B": "A", "C": "A", "D": "A"}


def _split(records: list[dict], tmp_path: Path, parts: int) -> list[Path]:
    size = -(-len(records) // parts)
    return [write_jsonl(tmp_path / f"part{k}.jsonl", records[k * size : (k + 1) * size]) for k in range(parts)]


def test_kept_set_is_the_same_for_workers_tasks_and_sharded_clustering(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """However the input is cut into tasks (files, byte ranges, batches of small files), run by any
    number of workers: the same kept set, keepers and clusters. Verify takes its candidates a few
    at a time here, as a large run does; it once skipped pairs already joined, so which pairs the
    keeper rule saw verified depended on the partitions, hence on the tasks."""
    from tamis.dedup import minhash

    monkeypatch.setattr(minhash, "VERIFY_BATCH", 3)
    records = _corpus(seed=5)
    one = write_jsonl(tmp_path / "all.jsonl", records)
    per_file = {"batch_bytes": 0}
    runs = {
        "one-task": ([one], {}, 1, {}),
        "byte-ranges": ([one], {}, 1, {"chunk_bytes": one.stat().st_size // 5}),
        "four-tasks": (_split(records, tmp_path, 4), {}, 1, per_file),
        "four-tasks-2-workers": (_split(records, tmp_path, 4), {}, 2, per_file),
        "four-files-one-batch": (_split(records, tmp_path, 4), {}, 2, {}),
        "sharded": (_split(records, tmp_path, 4), {"cluster_shards": 3}, 2, per_file),
    }
    results = {}
    for name, (files, params, workers, reader) in runs.items():
        out = tmp_path / name
        run_recipe(files, out, [{"step": "minhash", **params}], workers=workers, reader=reader)
        assert len(list((out / "_markers").glob("seg0-task*"))) == {"one-task": 1, "four-files-one-batch": 1, "byte-ranges": 5}.get(name, 4)
        assert_accounting(out, [r["id"] for r in records])
        results[name] = (
            _kept_ids(out),
            sorted((r["id"], r["duplicate_of"]) for r in rejected(out)),
            sorted((d["id"], d["metadata"].get("cluster_size")) for d in kept(out)),
        )
    assert len(list((tmp_path / "sharded" / "_markers").glob("stage0-star*"))) >= 3
    first = results["one-task"]
    assert first[1], "the corpus has near duplicates"
    for name, result in results.items():
        assert result == first, name


def test_verify_partitions_grouped_in_one_task_keep_the_same_edges(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The verify round groups partitions into tasks by candidate count; each partition is still
    verified on its own, so the kept edges (and every decision) are those of one task each."""
    from tamis.dedup import minhash as minhash_module

    files = _split(_corpus(seed=7), tmp_path, 4)
    edges, decisions = {}, {}
    for name, task_edges in (("grouped", minhash_module.VERIFY_TASK_EDGES), ("apart", 1)):
        monkeypatch.setattr(minhash_module, "VERIFY_TASK_EDGES", task_edges)
        out = tmp_path / name
        run_recipe(files, out, [{"step": "minhash", "partitions": 4}], workers=1)
        verify_markers = sorted(p.name for p in (out / "_markers").glob("stage0-verify-*"))
        assert len(verify_markers) == (1 if name == "grouped" else 4), verify_markers
        edges[name] = {p.name: p.read_bytes() for p in sorted(out.glob("dedup/*/*/edges-*"))}
        decisions[name] = sorted((r["id"], r["duplicate_of"], r["detail"]) for r in rejected(out))
    assert len(edges["grouped"]) == 8 and any(edges["grouped"].values())
    assert edges["grouped"] == edges["apart"]
    assert decisions["grouped"] == decisions["apart"] and decisions["grouped"]


def test_sharded_star_rounds_give_the_union_find_components(tmp_path: Path):
    from tamis.dedup import cluster

    rng = np.random.default_rng(11)
    n = 3000
    # Long chains (worst case for label propagation) plus random edges.
    chain = np.stack([np.arange(1, 800), np.arange(0, 799)], axis=1)
    rand = rng.integers(800, n, size=(1500, 2))
    edges = np.concatenate([chain, rand]).astype("<u4")
    seed = tmp_path / "edges.u32"
    edges.tofile(seed)
    labels = cluster.components(n, [seed])
    shards = 4
    round_index = 0
    while True:
        for p in range(shards):
            cluster.star_round(str(tmp_path), round_index, p, shards, [str(seed)])
        if round_index % 2 == 0 and cluster.round_converged(str(tmp_path), round_index, shards):
            break
        round_index += 1
        assert round_index < 200
    sharded = np.arange(n, dtype=np.uint32)
    for p in range(shards):
        members, roots = cluster.star_members(str(tmp_path), round_index, shards, p, shards, [str(seed)])
        sharded[members] = roots
    assert np.array_equal(sharded, labels)


def test_against_index_removes_documents_seen_in_an_earlier_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from tamis.dedup import index as index_module

    monkeypatch.setattr(index_module, "SAVE_CHUNK", 2)  # saving reads in chunks: cross their edges
    old = [{"id": f"old{k}", "text": " ".join(_vocab(f"o{k}w", 150))} for k in range(5)]
    index = tmp_path / "index"
    first = tmp_path / "first"
    run_recipe([write_jsonl(tmp_path / "old.jsonl", old)], first, [{"step": "minhash", "save_index": str(index)}], workers=1)
    assert (index / "meta.json").exists()

    near_old2 = _edit(_vocab("o2w", 150), [70], "new")
    new = [
        {"id": "n0", "text": " ".join(near_old2)},
        {"id": "n1", "text": " ".join(_vocab("fresh", 150))},
        {"id": "n2", "text": " ".join(_edit(_vocab("fresh", 150), [30], "q"))},
    ]
    second = tmp_path / "second"
    index2 = tmp_path / "index2"
    run_recipe([write_jsonl(tmp_path / "new.jsonl", new)], second, [{"step": "minhash", "against": str(index), "save_index": str(index2)}], workers=1)
    dups = {r["id"]: (r["duplicate_of"], r["detail"]) for r in rejected(second)}
    assert set(dups) == {"n0", "n2"}
    assert dups["n0"][0] == "old2" and "indexed document" in dups["n0"][1]
    assert dups["n2"][0] == "n1" and "indexed document" not in dups["n2"][1]
    assert _kept_ids(second) == ["n1"]
    assert_accounting(second, ["n0", "n1", "n2"])
    # The new index holds the old documents plus what the second run kept.
    assert '"documents": 6' in (index2 / "meta.json").read_text()


def test_bad_parameters_and_indexes_give_clear_errors(tmp_path: Path):
    with pytest.raises(ConfigError, match="not a saved minhash index"):
        MinHashDedup(against=str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="threshold"):
        MinHashDedup(threshold=1.5)
    with pytest.raises(ConfigError, match="exceeds num_perm"):
        MinHashDedup(bands=20, rows=10)
    index = tmp_path / "index"
    run_recipe(
        [write_jsonl(tmp_path / "a.jsonl", [{"id": "a", "text": "some words here and there"}])],
        tmp_path / "run",
        [{"step": "minhash", "save_index": str(index)}],
        workers=1,
    )
    with pytest.raises(ConfigError, match="other parameters"):
        MinHashDedup(against=str(index), ngram=3)
    with pytest.raises(ConfigError, match="must differ"):
        MinHashDedup(against=str(index), save_index=str(index))


def test_char_ngrams_find_near_duplicates_without_spaces(tmp_path: Path):
    rng = random.Random(2)
    han = [chr(0x4E00 + rng.randrange(2000)) for _ in range(400)]
    near = list(han)
    near[200] = "。"
    records = [{"id": "x", "text": "".join(han)}, {"id": "y", "text": "".join(near)}, {"id": "z", "text": "".join(reversed(han))}]
    out = tmp_path / "run"
    # By default every Han character is a unit of its own (word shingles would see one word) ...
    run_recipe([write_jsonl(tmp_path / "in.jsonl", records)], out, [{"step": "minhash"}], workers=1)
    assert {r["id"]: r["duplicate_of"] for r in rejected(out)} == {"y": "x"}
    # ... and character 5-grams over the whole text do the same.
    run_recipe([write_jsonl(tmp_path / "in.jsonl", records)], out, [{"step": "minhash", "char_ngrams": True}], workers=1)
    assert {r["id"]: r["duplicate_of"] for r in rejected(out)} == {"y": "x"}


def test_cli_dedup_saves_an_index_and_a_later_run_dedups_against_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    from tamis.cli import main

    words = _vocab("c", 120)
    first = write_jsonl(tmp_path / "first.jsonl", [{"id": "a", "text": " ".join(words)}, {"id": "a2", "text": " ".join(_edit(words, [60], "x")).upper()}])
    second = write_jsonl(tmp_path / "second.jsonl", [{"id": "b", "text": " ".join(_edit(words, [10], "y"))}, {"id": "c", "text": " ".join(_vocab("d", 120))}])
    index = tmp_path / "lsh-index"
    assert main(["dedup", "-i", str(first), "-o", str(tmp_path / "r1"), "-w", "1", "--threshold", "0.8", "--save-index", str(index)]) == 0
    assert {r["id"]: r["reason"] for r in rejected(tmp_path / "r1")} == {"a2": "minhash:duplicate"}
    assert main(["dedup", "-i", str(second), "-o", str(tmp_path / "r2"), "-w", "1", "--against", str(index)]) == 0
    assert {r["id"]: r["duplicate_of"] for r in rejected(tmp_path / "r2")} == {"b": "a"}
    assert _kept_ids(tmp_path / "r2") == ["c"]
    capsys.readouterr()
    assert main(["dedup", "-i", str(second), "-o", str(tmp_path / "r3"), "--against", str(tmp_path / "nope")]) == 2
    assert "not a saved minhash index" in capsys.readouterr().err


def test_documents_without_words_are_kept_and_never_clustered(tmp_path: Path):
    records = [{"id": "e1", "text": "— …"}, {"id": "e2", "text": "!!! ..."}, {"id": "e3", "text": "!!! ..."}, {"id": "w", "text": "just words"}]
    out = tmp_path / "run"
    run_recipe([write_jsonl(tmp_path / "in.jsonl", records)], out, [{"step": "minhash"}], workers=1)
    assert _kept_ids(out) == ["e1", "e2", "e3", "w"]
    assert_accounting(out, [r["id"] for r in records])


def _star_scores_reference(doc, group, edges):
    """Plain-Python star scores: for each doc, true minus false pairs of its star."""
    pos = {d: i for i, d in enumerate(doc)}
    adj = {i: set() for i in range(len(doc))}
    for a, b in edges:
        ia, ib = pos.get(a), pos.get(b)
        if ia is None or ib is None or group[ia] != group[ib]:
            continue
        adj[ia].add(ib)
        adj[ib].add(ia)
    scores = []
    for i in range(len(doc)):
        k = len(adj[i])
        links = sum(len(adj[j] & adj[i]) for j in adj[i]) // 2
        scores.append(k + 2 * links - k * (k - 1) // 2)
    return scores


def test_star_scores_match_the_reference_on_random_graphs():
    import numpy as np

    from tamis.dedup.minhash import star_scores

    rng = np.random.default_rng(4)
    for trial in range(40):
        n = int(rng.integers(1, 60))
        doc = rng.permutation(np.arange(1000))[:n].astype(np.int64)
        group = rng.integers(0, 3, size=n).astype(np.int64)
        m = int(rng.integers(0, 4 * n + 1))
        pairs = {tuple(sorted(map(int, rng.choice(1000, 2, replace=False)))) for _ in range(m)}
        pairs |= {tuple(sorted(map(int, rng.choice(doc, 2, replace=False)))) for _ in range(m) if n > 1}
        edges = sorted((b, a) for a, b in pairs)  # (later, earlier) as the verified edge files hold them
        keys = np.asarray(sorted((b << 32) | a for b, a in edges), dtype=np.uint64)
        expected = _star_scores_reference(doc.tolist(), group.tolist(), edges)
        assert star_scores(doc, group, keys).tolist() == expected, trial
        if trial % 5 == 0:  # over the wedge budget: scored by degree alone
            degree = np.zeros(n, dtype=np.int64)
            pos = {d: i for i, d in enumerate(doc.tolist())}
            for a, b in edges:
                if a in pos and b in pos and group[pos[a]] == group[pos[b]]:
                    degree[pos[a]] += 1
                    degree[pos[b]] += 1
            got = star_scores(doc, group, keys, wedge_budget=0).tolist()
            assert got in (degree.tolist(), expected)  # expected: no wedge to check at all


def test_spacing_by_split_and_join_equals_spacing_by_substitution():
    """shingles spaces characters with split-and-join for speed; the definition is re.sub."""
    import re

    from tamis.dedup import shingles

    rng = random.Random(7)
    alphabet = "ab ,.\n日本語のテキストภาษาไทย_é\u0301-ក្ខ𠀀"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(3000)]
    texts += ["", "中文", "中文 English 混合 text, 很多 words 的 page" * 3]
    word = re.compile(r"\w")
    unspaced = re.compile(f"[{shingles.UNSPACED_CHARS}]")
    for text in texts:
        expected = word.sub(r" \g<0> ", text) if shingles.has_unspaced(text) and shingles.mostly_unspaced(text) else text
        assert shingles.spread_mostly_unspaced(text) == expected
        assert shingles.shingle_text(text) == (unspaced.sub(r" \g<0> ", text) if shingles.has_unspaced(text) else text)


def test_code_point_counts_by_table_equal_the_regex_counts():
    from tamis.dedup import shingles

    rng = random.Random(11)
    alphabet = "aZ_9 ,.\n日本語のテキストภาษาไทยé\u0301ক্ষ-ក្ខ𠀀\U0001f600ⅫᲐ\ud800"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(2000)]
    texts += ["", "".join(chr(c) for c in range(0x3000, 0x3100)), "".join(chr(c) for c in range(0x1E00, 0x2100))]
    for text in texts:
        assert shingles.count_unspaced_and_word_chars(text) == shingles.count_unspaced_and_word_chars_reference(text)


def test_very_long_documents_sort_by_wider_buckets_as_the_reference():
    """Over 4,096 shingles the compiled sort buckets by up to 16 top bits (counts on the heap);
    past 2^18 shingles its buckets pass MSD_BUCKET and go to LSD radix: the same sets."""
    rng = random.Random(13)
    vocab = [f"v{k}" for k in range(200_000)]
    texts = [" ".join(rng.choice(vocab) for _ in range(words)) for words in (5_000, 70_000, 300_000)]
    a, b = permutations(4, 1)
    assert compiled.sketch(texts, 2, 0, a, b, 1, 1) == reference.sketch(texts, 2, 0, a, b, 1, 1)


@pytest.mark.parametrize("perms", [(1, 1), (3, 3), (4, 5), (21, 6), (16, 8), (25, 8)])
def test_vector_and_plain_minhash_loops_give_the_same_sketches(perms: tuple[int, int]):
    """The inner loop's SIMD variant (padded to 32 permutations) and the plain loop agree for
    any number of permutations, on texts of every storage kind."""
    from tamis.dedup.minhash import unspaced_bitmap

    compiled.set_unspaced(unspaced_bitmap())
    rng = random.Random(sum(perms))
    alphabet = ALPHABET + "日本語のテキスト ŉǅΣς ﬃ"
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3000))) for _ in range(40)]
    texts += [" ".join(f"word{rng.randrange(500)}" for _ in range(2000)), "ASCII Only Text " * 200]
    bands, rows = perms
    a, b = permutations(9, bands * rows)
    try:
        assert compiled.use_simd(False) is False
        plain = [compiled.sketch(texts, 5, mode, a, b, bands, rows) for mode in (0, 2 | 4 | 8)]
    finally:
        compiled.use_simd(True)
    assert [compiled.sketch(texts, 5, mode, a, b, bands, rows) for mode in (0, 2 | 4 | 8)] == plain
    if bands * rows <= 20:
        assert plain[0] == reference.sketch(texts, 5, 0, a, b, bands, rows)


def test_word_units_are_the_reference_across_word_edges():
    """The branch-free word loop: words at the very start and end, runs of separators, one-letter
    words, words that cross the ASCII/non-ASCII border, folding to several code points."""
    texts = ["a", " a", "a ", "  ", "ab  cd", "x.y,z", "ÀB c", "é", "straße X", "ǅ ŉ ß", "_ __ _a_", "a\u0301b", "Ωmega ω", "中 a 文"]
    texts += [t * 3 for t in texts]
    a, b = permutations(2, 4)
    for ngram in (1, 2, 5):
        for mode in (0, 4):
            assert compiled.sketch(texts, ngram, mode, a, b, 2, 2) == reference.sketch(texts, ngram, mode, a, b, 2, 2), (ngram, mode)
