"""``tamis tokenize`` and ``tamis tokenizer train``.

The shard readers below are written from the formats' specifications (Megatron-LM's
``indexed_dataset.py`` layout, datatrove's ``DocumentTokenizer`` files, a flat memmap with a
JSON sidecar), not from tamis's writers, so a round trip checks the bytes a trainer reads.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import struct
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from tamis.cli import main
from tamis.errors import ConfigError
from tamis.io.outputs import iter_records
from tamis.tokenize import run as tokenize_run
from tamis.tokenize import tasks as tokenize_tasks
from tamis.tokenize.encoder import Encoder, cut_points
from tamis.tokenize.formats import megatron_index, token_dtype
from tamis.tokenize.run import TokenizeConfig, tokenize
from tamis.tokenize.train import train_tokenizer

EOS, BOS = "<|endoftext|>", "<|begin|>"

TEXTS = {
    "en": "The quick brown fox jumps over the lazy dog. It's 42 degrees, isn't it?\nA second line.",
    "fr": "Le chat dort sur le canapé ; l'été, il fait très chaud à Paris.\n\nDeuxième paragraphe — œuvre.",
    "de": "Über den Straßen schläft der Hund. Größe: 3½ Äpfel, „Anführungszeichen“.",
    "ja": "日本語のテキストです。東京は大きな都市で、人口が多い。",
    "zh": "这是一个中文文本，包含标点符号：逗号、句号。以及数字123。",
    "ar": "هذا نص عربي للاختبار، مع علامات الترقيم.",
    "ru": "Съешь же ещё этих мягких французских булок, да выпей чаю.",
    "emoji": "Emoji 😀👍🏽 and combining e\u0301 and zero\u200bwidth and\ttabs  double  spaces ",
}


def _corpus(directory: Path, n_files: int = 3, per_file: int = 40) -> list[Path]:
    """JSONL files of multilingual documents, each text distinct, with language and source fields."""
    directory.mkdir(parents=True, exist_ok=True)
    langs = sorted(TEXTS)
    paths = []
    k = 0
    for f in range(n_files):
        path = directory / f"part-{f}.jsonl"
        with open(path, "w", encoding="utf-8") as fh:
            for _ in range(per_file):
                lang = langs[k % len(langs)]
                text = f"{TEXTS[lang]} #{k}" + (" " + TEXTS[langs[(k * 7) % len(langs)]]) * (k % 5)
                fh.write(json.dumps({"id": f"doc-{k}", "text": text, "language": lang, "source": "web" if k % 3 else "books"}) + "\n")
                k += 1
        paths.append(path)
    return paths


def _texts(paths: list[Path]) -> list[str]:
    return [json.loads(line)["text"] for p in paths for line in p.read_text(encoding="utf-8").splitlines()]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return _corpus(tmp_path_factory.mktemp("corpus"))


@pytest.fixture(scope="module")
def tokenizer_file(tmp_path_factory: pytest.TempPathFactory, corpus: list[Path]) -> str:
    path = tmp_path_factory.mktemp("tok") / "tokenizer.json"
    result = train_tokenizer([str(p) for p in corpus], str(path), 700, special_tokens=[EOS, BOS], min_frequency=1)
    assert result.vocab_size <= 700 and result.documents == 120
    return str(path)


@pytest.fixture(scope="module")
def tokenizer(tokenizer_file: str):
    from tokenizers import Tokenizer

    return Tokenizer.from_file(tokenizer_file)


# ----------------------------------------------------------------- readers from the specifications


def read_megatron(prefix: Path) -> list[np.ndarray]:
    """Megatron-LM indexed dataset: ``.idx`` header (magic, <Q version, <B dtype code, <Q
    sequence count, <Q document count), int32 lengths, int64 byte pointers, int64 document
    indices; tokens in ``.bin``."""
    idx = Path(f"{prefix}.idx").read_bytes()
    assert idx[:9] == b"MMIDIDX\x00\x00"
    (version,) = struct.unpack("<Q", idx[9:17])
    (code,) = struct.unpack("<B", idx[17:18])
    (n_seq,) = struct.unpack("<Q", idx[18:26])
    (n_doc,) = struct.unpack("<Q", idx[26:34])
    assert version == 1 and n_doc == n_seq + 1
    dtype = {1: np.uint8, 2: np.int8, 3: np.int16, 4: np.int32, 5: np.int64, 6: np.float64, 7: np.float32, 8: np.uint16}[code]
    assert len(idx) == 34 + 4 * n_seq + 8 * n_seq + 8 * n_doc  # no modes section
    lengths = np.frombuffer(idx, dtype="<i4", count=n_seq, offset=34)
    pointers = np.frombuffer(idx, dtype="<i8", count=n_seq, offset=34 + 4 * n_seq)
    doc_idx = np.frombuffer(idx, dtype="<i8", count=n_doc, offset=34 + 12 * n_seq)
    assert doc_idx.tolist() == list(range(n_doc))
    data = Path(f"{prefix}.bin").read_bytes()
    size = np.dtype(dtype).itemsize
    assert len(data) == int(lengths.sum()) * size
    docs = []
    for length, pointer in zip(lengths.tolist(), pointers.tolist(), strict=True):
        docs.append(np.frombuffer(data, dtype=np.dtype(dtype).newbyteorder("<"), count=length, offset=pointer))
    return docs


def read_datatrove(prefix: Path) -> list[np.ndarray]:
    """datatrove: ``.ds`` little-endian tokens, ``.ds.index`` uint64 document end offsets,
    ``.ds.metadata`` ``<tokenizer>|<bytes per token>`` then the token count."""
    meta = Path(f"{prefix}.ds.metadata").read_text().splitlines()
    token_size = int(meta[0].rsplit("|", 1)[1])
    dtype = {2: "<u2", 4: "<u4"}[token_size]
    tokens = np.fromfile(f"{prefix}.ds", dtype=dtype)
    assert int(meta[1]) == len(tokens)
    ends = np.fromfile(f"{prefix}.ds.index", dtype="<u8")
    assert len(ends) == 0 or int(ends[-1]) == len(tokens)
    starts = np.concatenate([[0], ends[:-1]]).astype(np.int64)
    return [tokens[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]


def read_memmap(prefix: Path, eos_id: int) -> list[np.ndarray]:
    """A flat header-less array; the sidecar names the dtype; documents end with EOS."""
    sidecar = json.loads(Path(f"{prefix}.json").read_text())
    tokens = np.memmap(f"{prefix}.npy", dtype=np.dtype(sidecar["dtype"]).newbyteorder("<"), mode="r")
    assert len(tokens) == sidecar["tokens"]
    ends = (np.flatnonzero(np.asarray(tokens) == eos_id) + 1).tolist()
    assert len(ends) == sidecar["documents"] and (not ends or ends[-1] == len(tokens))
    return [np.asarray(tokens[a:b]) for a, b in zip([0, *ends[:-1]], ends, strict=True)]


def _shards(out: Path) -> list[Path]:
    stats = json.loads((out / "stats.json").read_text())
    return [out / s["name"] for s in stats["tokens"]["shards"]]


def _decode_all(docs: list[np.ndarray], tokenizer, bos_id: int | None, eos_id: int | None) -> list[str]:
    texts = []
    for ids in docs:
        ids = ids.tolist()
        if bos_id is not None:
            assert ids[0] == bos_id
            ids = ids[1:]
        if eos_id is not None:
            assert ids[-1] == eos_id
            ids = ids[:-1]
        assert eos_id not in ids and bos_id not in ids
        texts.append(tokenizer.decode(ids, skip_special_tokens=False))
    return texts


def _tokenize(corpus, tokenizer_file, out: Path, **kwargs):
    return tokenize(TokenizeConfig(input=[str(p) for p in corpus], output=str(out), tokenizer=tokenizer_file, **kwargs))


@pytest.mark.parametrize(
    ("fmt", "bos", "eos"),
    [("megatron", BOS, EOS), ("megatron", None, None), ("datatrove", None, EOS), ("memmap", None, EOS), ("memmap", BOS, EOS)],
)
def test_round_trip_every_document_once_and_decoded_exactly(tmp_path, corpus, tokenizer_file, tokenizer, fmt, bos, eos):
    out = tmp_path / "tok"
    outcome = _tokenize(corpus, tokenizer_file, out, format=fmt, bos=bos, eos=eos, shard_tokens=3000, workers=1)
    stats = outcome.stats
    assert stats["read"] == 120 == stats["written"] + stats["rejected_total"] and stats["rejected_total"] == 0
    bos_id = tokenizer.token_to_id(bos) if bos else None
    eos_id = tokenizer.token_to_id(eos) if eos else None
    shards = _shards(out)
    assert len(shards) > 1
    docs = []
    for prefix in shards:
        if fmt == "megatron":
            part = read_megatron(prefix)
        elif fmt == "datatrove":
            part = read_datatrove(prefix)
        else:
            part = read_memmap(prefix, eos_id)
        assert sum(map(len, part)) == next(s["tokens"] for s in stats["tokens"]["shards"] if s["name"] == prefix.name)
        docs.extend(part)
    assert Counter(_decode_all(docs, tokenizer, bos_id, eos_id)) == Counter(_texts(corpus))
    assert sum(map(len, docs)) == stats["tokens"]["tokens"]
    # nothing but the shards and tamis's own run files in TOKDIR: no temporary or unshuffled leftovers
    names = {p.name for p in out.iterdir()}
    assert names - {f"{s.name}{suf}" for s in shards for suf in (".bin", ".idx", ".ds", ".ds.index", ".ds.metadata", ".npy", ".json")} == {
        "_markers",
        "config.resolved.yaml",
        "stats.json",
        "report.html",
    }


def test_dtypes_follow_each_formats_rule():
    assert token_dtype("megatron", 65_499) == np.uint16 and token_dtype("megatron", 65_500) == np.int32
    assert token_dtype("datatrove", 65_536) == np.uint16 and token_dtype("datatrove", 65_537) == np.uint32
    assert token_dtype("memmap", 65_536) == np.uint16 and token_dtype("memmap", 200_000) == np.uint32
    idx = megatron_index(np.array([3, 5], dtype=np.int64), np.dtype(np.int32))
    assert len(idx) == 42 + 20 * 2 and idx[17] == 4  # int32 code
    pointers = np.frombuffer(idx, dtype="<i8", count=2, offset=34 + 8)
    assert pointers.tolist() == [0, 12]  # byte offsets: 3 int32 tokens


def test_identical_bytes_whatever_the_worker_count_and_seeded_order(tmp_path, corpus, tokenizer_file):
    def digest(out: Path) -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir()) if p.is_file() and p.suffix in (".ds", ".index", ".metadata")}

    common = {"format": "datatrove", "eos": EOS, "shard_tokens": 2500}
    _tokenize(corpus, tokenizer_file, tmp_path / "w1", workers=1, **common)
    _tokenize(corpus, tokenizer_file, tmp_path / "w3", workers=3, **common)
    one, three = digest(tmp_path / "w1"), digest(tmp_path / "w3")
    assert len(one) >= 6 and one == three
    _tokenize(corpus, tokenizer_file, tmp_path / "seed7", workers=1, shuffle_seed=7, **common)
    seven = digest(tmp_path / "seed7")
    assert seven != one  # another seed, another order
    # the shuffle is global: a shard mixes documents of every input file
    first = read_datatrove(_shards(tmp_path / "w1")[0])
    assert len(first) > 3


def test_resume_finishes_a_failed_run_with_the_same_bytes(tmp_path, corpus, tokenizer_file, monkeypatch):
    common = {"format": "megatron", "eos": EOS, "shard_tokens": 2500, "workers": 1}
    _tokenize(corpus, tokenizer_file, tmp_path / "clean", **common)
    real = tokenize_tasks.write_shard_task

    def flaky(plan, shard, n_shards, task_ids):
        if shard == 1:
            raise OSError("disk full (simulated)")
        return real(plan, shard, n_shards, task_ids)

    monkeypatch.setattr(tokenize_run, "write_shard_task", flaky)
    out = tmp_path / "crash"
    outcome = _tokenize(corpus, tokenizer_file, out, **common)
    assert outcome.failed and not (out / "stats.json").exists()
    monkeypatch.setattr(tokenize_run, "write_shard_task", real)
    config = TokenizeConfig(input=[str(p) for p in corpus], output=str(out), tokenizer=tokenizer_file, **common)
    resumed = tokenize(config, resume=True)
    assert not resumed.failed and resumed.stats["read"] == 120
    clean = {p.name: p.read_bytes() for p in (tmp_path / "clean").glob("tokens-*")}
    assert clean == {p.name: p.read_bytes() for p in out.glob("tokens-*")}
    assert not (out / "_work").exists()
    with pytest.raises(ConfigError, match="changed"):
        tokenize(TokenizeConfig(input=[str(p) for p in corpus], output=str(out), tokenizer=tokenizer_file, **{**common, "shuffle_seed": 3}), resume=True)
    with pytest.raises(ConfigError, match="not empty"):
        tokenize(config)


def test_an_encode_task_cleans_only_after_an_earlier_attempt(tmp_path, corpus, tokenizer_file, monkeypatch):
    """In a new run an encode task deletes an earlier attempt's files only when its attempt
    sentinel says there was one (globbing folders of every task's files at each task was quadratic
    in the tasks); a resumed run cleans each task it redoes."""
    from tamis.executors.plan import attempt_sentinel

    common = {"format": "megatron", "eos": EOS, "shard_tokens": 2500, "workers": 1, "reader": {"batch_bytes": 0}}  # a task per file
    real_encode = tokenize_tasks.encode_task

    def encode_then_fail(plan, task):
        result = real_encode(plan, task)
        if task.index == 1:  # its spill written, then the marker lost: a crash after the work
            plan.marker(tokenize_tasks.encode_marker_name(1)).unlink()
            attempt_sentinel(plan.root, tokenize_tasks.encode_marker_name(1)).write_bytes(b"")
            stale = plan.root / "rejects" / "part-00001-0099.jsonl.gz"
            stale.write_bytes(gzip.compress(b'{"id": "stale", "text": "left by the first attempt", "reason": "x"}\n'))
            raise OSError("killed (simulated)")
        return result

    monkeypatch.setattr(tokenize_run, "encode_task", encode_then_fail)
    globbed: list[str] = []
    real_glob = tokenize_tasks.glob.glob
    monkeypatch.setattr(tokenize_tasks.glob, "glob", lambda pattern: globbed.append(pattern) or real_glob(pattern))
    out = tmp_path / "crash"
    assert _tokenize(corpus, tokenizer_file, out, **common).failed
    assert globbed == []  # first attempts list nothing
    monkeypatch.setattr(tokenize_run, "encode_task", real_encode)
    resumed = tokenize(TokenizeConfig(input=[str(p) for p in corpus], output=str(out), tokenizer=tokenizer_file, **common), resume=True)
    assert not resumed.failed and resumed.stats["read"] == 120 and len(globbed) == 3  # task 1's three folders, once
    assert not (out / "rejects" / "part-00001-0099.jsonl.gz").exists() and not list((out / "_markers").glob(".attempt-e*"))
    _tokenize(corpus, tokenizer_file, tmp_path / "clean", **common)
    assert {p.name: p.read_bytes() for p in (tmp_path / "clean").glob("tokens-*")} == {p.name: p.read_bytes() for p in out.glob("tokens-*")}


def test_rejects_are_accounted_and_kept_whole(tmp_path, tokenizer_file):
    from tokenizers import Tokenizer, models, pre_tokenizers

    # a tokenizer without byte fallback drops what it does not know: "zzz" has no token
    tok = Tokenizer(models.BPE(vocab={"a": 0, "b": 1, "<eos>": 2}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    small = tmp_path / "small.json"
    tok.save(str(small))
    data = tmp_path / "in.jsonl"
    lines = [
        json.dumps({"id": "ok", "text": "a b a"}),
        json.dumps({"id": "empty", "text": ""}),
        "{not json",
        json.dumps({"id": "unknown", "text": "zzz"}),
        json.dumps({"id": "blank", "text": "   \n "}),
        json.dumps({"id": "ok2", "text": "b"}),
    ]
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "tok"
    outcome = tokenize(TokenizeConfig(input=[str(data)], output=str(out), tokenizer=str(small), eos="<eos>", format="megatron"))
    stats = outcome.stats
    assert stats["read"] == 6 and stats["written"] == 2 and stats["rejected_total"] == 4
    assert stats["rejected"]["tokenize:no_tokens"] == 1
    rejected = {r["id"]: r for r in iter_records(out, "rejects")}
    assert set(rejected) == {"empty", f"{data}:3", "unknown", "blank"}
    assert rejected["unknown"]["text"] == "zzz" and rejected["unknown"]["reason"] == "tokenize:no_tokens"
    errors = [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]
    assert any(e["line"] == 3 and e["reason"] == "reader:invalid_json" for e in errors)
    docs = read_megatron(_shards(out)[0])
    assert sorted(d.tolist() for d in docs) == sorted([[0, 1, 0, 2], [1, 2]])
    assert outcome.input_errors >= 1


def test_stats_tokens_per_language_source_and_histogram(tmp_path, corpus, tokenizer_file, tokenizer):
    out = tmp_path / "tok"
    stats = _tokenize(corpus, tokenizer_file, out, format="megatron", eos=EOS, workers=1).stats
    tokens = stats["tokens"]
    expected_lang: Counter[str] = Counter()
    expected_src: Counter[str] = Counter()
    for p in corpus:
        for line in p.read_text(encoding="utf-8").splitlines():
            rec = json.loads(line)
            n = len(tokenizer.encode(rec["text"], add_special_tokens=False).ids) + 1
            expected_lang[rec["language"]] += n
            expected_src[str(p)] += n  # the source is the file a document was read from
    assert {k: v["tokens"] for k, v in tokens["by_language"].items()} == dict(expected_lang)
    assert {k: v["tokens"] for k, v in tokens["by_source"].items()} == dict(expected_src)
    assert sum(tokens["tokens_per_document"].values()) == tokens["documents"] == 120
    assert tokens["tokens"] == sum(expected_lang.values()) == sum(s["tokens"] for s in tokens["shards"])
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Tokens per language" in html and f"{tokens['tokens']:,}" in html


def test_long_documents_are_cut_only_where_the_tokens_do_not_change(tokenizer_file, tokenizer, monkeypatch):
    from tamis.tokenize import encoder as encoder_module

    monkeypatch.setattr(encoder_module, "PIECE_CHARS", 4096)  # many pieces from a small text
    encoder = Encoder(tokenizer_file)
    assert encoder.cuts_long_texts
    long_text = " ".join(TEXTS[k] for k in sorted(TEXTS)) * 200  # ~100,000 characters
    flat, lengths = encoder.encode([long_text, "short", long_text[:-3]])
    expected = [e.ids for e in tokenizer.encode_batch_fast([long_text, "short", long_text[:-3]], add_special_tokens=False)]
    assert lengths.tolist() == [len(e) for e in expected]
    assert flat.tolist() == [t for e in expected for t in e]
    assert len(cut_points(long_text)) > 5
    # a run without any cut place stays whole; the search is one linear pass
    assert cut_points("語" * 100_000) == []


def test_special_token_text_inside_a_document_stays_text(tmp_path, tokenizer_file, tokenizer):
    data = tmp_path / "in.jsonl"
    text = f"before {EOS} after {BOS}"
    data.write_text(json.dumps({"id": "x", "text": text}) + "\n", encoding="utf-8")
    out = tmp_path / "tok"
    tokenize(TokenizeConfig(input=[str(data)], output=str(out), tokenizer=tokenizer_file, format="memmap", eos=EOS))
    (doc,) = read_memmap(_shards(out)[0], tokenizer.token_to_id(EOS))
    assert _decode_all([doc], tokenizer, None, tokenizer.token_to_id(EOS)) == [text]


def test_no_cut_for_a_pre_tokenizer_that_would_change_tokens(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.BPE(vocab={"▁a": 0, "a": 1, "▁": 2, "b": 3, "▁b": 4}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.Metaspace()  # prepends ▁ to every input: pieces would differ
    path = tmp_path / "meta.json"
    tok.save(str(path))
    assert not Encoder(str(path)).cuts_long_texts


def test_cli_usage_errors_exit_2(tmp_path, corpus, tokenizer_file, capsys):
    out = tmp_path / "tok"
    code = main(["tokenize", "--input", str(corpus[0]), "--output", str(out), "--tokenizer", tokenizer_file, "--eos", "<nope>"])
    assert code == 2 and "<nope>" in capsys.readouterr().err
    assert main(["tokenize", "--input", str(corpus[0]), "--output", str(out), "--tokenizer", str(tmp_path / "missing.json")]) == 2
    assert main(["tokenizer", "train", "--input", str(corpus[0]), "--vocab-size", "10", "--output", str(tmp_path / "t.json")]) == 2
    assert main(["tokenize", "--input", str(corpus[0]), "--output", str(out), "--tokenizer", tokenizer_file, "--eos", EOS, "-q"]) == 0
    assert "[OK]" in capsys.readouterr().out
    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0 and "Tokens per language" in (out / "report.html").read_text(encoding="utf-8")


def test_a_run_directory_as_input_means_its_kept_documents(tmp_path, tokenizer_file):
    run_dir = tmp_path / "run"
    (run_dir / "output").mkdir(parents=True)
    (run_dir / "rejects").mkdir()
    (run_dir / "config.resolved.yaml").write_text("fingerprint: x\n")
    with gzip.open(run_dir / "output" / "part-00000-0.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "k", "text": "kept text", "metadata": {"language": "en", "source": {"path": "crawl.warc", "line": 1}}}) + "\n")
    with gzip.open(run_dir / "rejects" / "part-00000-s0-0.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": "r", "text": "rejected text", "metadata": {}, "reason": "x:y"}) + "\n")
    out = tmp_path / "tok"
    stats = tokenize(TokenizeConfig(input=[str(run_dir)], output=str(out), tokenizer=tokenizer_file, format="datatrove", eos=EOS)).stats
    assert stats["read"] == 1 and stats["written"] == 1
    assert list(stats["tokens"]["by_source"]) == [str(run_dir / "output" / "part-00000-0.jsonl.gz")]
    assert list(stats["tokens"]["by_language"]) == ["en"]


@pytest.mark.ray
@pytest.mark.slow
def test_ray_executor_writes_the_same_bytes(ray_cluster, tmp_path, corpus, tokenizer_file):
    common = {"format": "megatron", "eos": EOS, "shard_tokens": 2500, "workers": 2}
    _tokenize(corpus, tokenizer_file, tmp_path / "local", **common)
    outcome = _tokenize(corpus, tokenizer_file, tmp_path / "ray", executor="ray", ray_address=ray_cluster.address, **common)
    assert not outcome.failed and outcome.stats["run"]["executor"] == "ray"
    local = {p.name: p.read_bytes() for p in (tmp_path / "local").glob("tokens-*")}
    assert local and local == {p.name: p.read_bytes() for p in (tmp_path / "ray").glob("tokens-*")}


def test_parquet_input_and_the_train_command(tmp_path, corpus, tokenizer_file, tokenizer):
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = _texts(corpus)[:30]
    pq.write_table(pa.table({"id": [f"p{i}" for i in range(len(texts))], "text": texts}), tmp_path / "docs.parquet")
    out = tmp_path / "tok"
    assert main(["tokenize", "-i", str(tmp_path / "docs.parquet"), "-o", str(out), "-t", tokenizer_file, "--format", "megatron", "--eos", EOS, "-q"]) == 0
    docs = [d for prefix in _shards(out) for d in read_megatron(prefix)]
    assert Counter(_decode_all(docs, tokenizer, None, tokenizer.token_to_id(EOS))) == Counter(texts)
    trained = tmp_path / "trained.json"
    assert main(["tokenizer", "train", "-i", str(tmp_path / "docs.parquet"), "--vocab-size", "300", "-o", str(trained), "--special-tokens", "<s>", "</s>"]) == 0
    encoder = Encoder(str(trained), bos="<s>", eos="</s>")
    assert encoder.vocab_size <= 300 and encoder.bos_id is not None and encoder.cuts_long_texts


def test_a_text_the_tokenizer_refuses_is_a_reject_and_the_batch_goes_on(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    tok = Tokenizer(models.WordLevel(vocab={"a": 0, "b": 1, "<eos>": 2}, unk_token="[UNK]"))  # [UNK] missing: unknown words raise
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    path = tmp_path / "wordlevel.json"
    tok.save(str(path))
    data = tmp_path / "in.jsonl"
    data.write_text("".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(["a b", "a zz", "b b a"])), encoding="utf-8")
    out = tmp_path / "tok"
    stats = tokenize(TokenizeConfig(input=[str(data)], output=str(out), tokenizer=str(path), eos="<eos>")).stats
    assert stats["written"] == 2 and stats["rejected"] == {"tokenize:encode_error": 1}
    assert [r["id"] for r in iter_records(out, "rejects")] == ["1"]
    assert sorted(d.tolist() for d in read_megatron(_shards(out)[0])) == [[0, 1, 2], [1, 1, 0, 2]]


def test_small_gather_chunks_write_the_same_bytes(tmp_path, corpus, tokenizer_file, monkeypatch):
    common = {"format": "megatron", "eos": EOS, "shard_tokens": 4000, "workers": 1}
    _tokenize(corpus, tokenizer_file, tmp_path / "default", **common)
    monkeypatch.setattr(tokenize_tasks, "GATHER_TOKENS", 37)  # many chunks, each mixing spills, documents across chunk ends
    _tokenize(corpus, tokenizer_file, tmp_path / "small", **common)
    default = {p.name: p.read_bytes() for p in (tmp_path / "default").glob("tokens-*")}
    assert len(default) >= 4 and default == {p.name: p.read_bytes() for p in (tmp_path / "small").glob("tokens-*")}


THREADS_AFTER_ENCODE = """
import os, sys
from tamis.tokenize.encoder import Encoder, single_threaded
if sys.argv[2] == "one":
    single_threaded()
encoder = Encoder(sys.argv[1])
encoder.tokenizer
before = len(os.listdir("/proc/self/task"))
encoder.encode(["some text to encode, in a batch big enough to go parallel"] * 2000)
print(len(os.listdir("/proc/self/task")) - before)
"""


@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="counts threads in /proc")
def test_one_worker_encodes_on_its_own_thread(tokenizer_file):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("RAYON_NUM_THREADS", "TOKENIZERS_PARALLELISM", "RAYON_RS_NUM_CPUS")}
    run = [sys.executable, "-c", THREADS_AFTER_ENCODE, tokenizer_file]
    one = subprocess.run([*run, "one"], capture_output=True, text=True, env=env, check=True, timeout=60)
    pool = subprocess.run([*run, "pool"], capture_output=True, text=True, env=env, check=True, timeout=60)
    assert int(one.stdout) == 0  # no thread pool started
    assert int(pool.stdout) >= 1  # the control: left alone, the tokenizer starts its pool


def test_shards_are_cut_every_shard_tokens_in_the_global_order(tmp_path, corpus, tokenizer_file):
    n = 700
    out = tmp_path / "tok"
    stats = _tokenize(corpus, tokenizer_file, out, format="datatrove", eos=EOS, shard_tokens=n, workers=2).stats
    shards = [read_datatrove(prefix) for prefix in _shards(out)]
    assert len(shards) >= stats["tokens"]["tokens"] // n - 2 and all(shards)
    # Shards in order are the global shuffled order; a document belongs to shard floor(start / n)
    # (shards a long document would leave empty are skipped): consecutive documents share a shard
    # exactly when their starts fall in the same n-token slice.
    start = 0
    previous = None
    for index, shard in enumerate(shards):
        for position, doc in enumerate(shard):
            if previous is not None:
                same_shard = position > 0
                assert same_shard == (previous // n == start // n), (index, position)
            previous = start
            start += len(doc)
    assert start == stats["tokens"]["tokens"]


def test_cuts_do_not_depend_on_the_bucket_size(tmp_path, corpus, tokenizer_file, monkeypatch):
    common = {"format": "megatron", "eos": EOS, "shard_tokens": 900, "workers": 1}
    _tokenize(corpus, tokenizer_file, tmp_path / "fine", **common)
    monkeypatch.setattr(tokenize_tasks, "BUCKET_BITS", 2)  # 4 buckets: every cut sorts a bucket of many documents from every task
    _tokenize(corpus, tokenizer_file, tmp_path / "coarse", **common)
    fine = {p.name: p.read_bytes() for p in (tmp_path / "fine").glob("tokens-*")}
    assert len(fine) >= 5 and fine == {p.name: p.read_bytes() for p in (tmp_path / "coarse").glob("tokens-*")}
