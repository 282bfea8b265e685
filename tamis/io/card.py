"""The run's dataset card: ``OUT/README.md``, so that ``datasets.load_dataset(OUT)`` just works.

Hugging Face ``datasets`` reads each data file with its own inferred schema and casts the
others to the first one's: a shard whose ``detail`` column is all null, or whose ``metadata``
lacks a key another shard has (a run over JSONL and text files, say), fails that cast. The card
declares, in its YAML header, two configurations, ``kept`` (the default: ``output/``) and
``rejects``, their data files, and their features: the union of every shard's schema
(missing struct fields and all-null columns then load as nulls). The same pass over the
shards counts the ids that occur more than once (two input records with one id are both kept,
as they were given, and reported).

All of this comes from the notes the writer commits beside each shard
(:mod:`tamis.io.shardnotes`: ids, rows, schema), so the card costs no read of the output. A
shard without valid notes (older runs, other tools) is read back: the text is never parsed
(each line's ``id`` and ``metadata`` are found by position, as tamis writes them) and only the
metadata objects are typed as Arrow's JSON reader types them, which is what ``datasets`` will
infer; a schema that cannot be unified (a metadata key that is a number in one record and a
string in another) leaves that configuration without declared features, and says so in the card.

The types come from :mod:`tamis.io.jsontypes` (plain Python) wherever it is certain of Arrow's
answer, as it is for tamis's own metadata and the extract step's (its page dates are typed as
Arrow's reader types them): a JSON-lines run's card imports no pyarrow. Parquet
shards, notes whose schema only Arrow could infer, and unusual metadata go through pyarrow, as
before: the same card either way.
"""

from __future__ import annotations

import contextlib
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tamis.io import jsontypes, yamltext
from tamis.io.outputs import list_shards
from tamis.io.shardnotes import BinaryColumn, binary_array, json_value, metadata_schema, read_notes, schema_info, split_record

_binary_array = binary_array  # its former name here (tests/test_run_startup.py imports it)

CARD = "README.md"
DATASETS_BUILDERS = {".parquet": "parquet", ".jsonl": "json", ".jsonl.gz": "json", ".jsonl.zst": "json"}
ARROW_DTYPES = {"double": "float64", "float": "float32", "halffloat": "float16"}


@dataclass
class Folder:
    """What the card says about one folder of shards."""

    name: str
    pattern: str | list[str] | None = None  # the data-files glob(s), None when no loader reads these shards
    features: list[dict[str, Any]] | None = None
    rows: int = 0
    problem: str | None = None
    ids: list[Any] = field(default_factory=list)  # BinaryColumns or Arrow arrays of ids, for the duplicate count


def _builder_suffix(path: Path) -> str | None:
    for suffix in sorted(DATASETS_BUILDERS, key=len, reverse=True):
        if path.name.endswith(suffix):
            return suffix
    return None


def _jsonl_schema_and_ids(path: Path, rejects: bool) -> tuple[Any, Any, int]:
    """A JSONL shard's schema (``metadata`` typed as Arrow's JSON reader types it, which is how
    ``datasets`` infers it, from the metadata objects alone) and its ids, without parsing any
    text."""
    import orjson

    from tamis.io.outputs import JsonlOutput

    ids: list[bytes] = []
    metas: dict[bytes, None] = {}  # distinct objects, in order: inference only unions what it sees
    for line in JsonlOutput.lines(path):
        found = split_record(line, rejects)
        if found is None:  # not laid out as expected: parse this one whole
            record = orjson.loads(line)
            found = (orjson.dumps(record.get("id")), orjson.dumps(record.get("metadata") or {}))
        ids.append(found[0])
        metas[found[1]] = None
    info = schema_info(list(metas), rejects)
    if "fields" in info:
        return info["fields"], BinaryColumn.from_values(ids), len(ids)
    return metadata_schema(list(metas), rejects), binary_array(ids), len(ids)  # Arrow says why


def _parquet() -> Any:
    """pyarrow.parquet, imported only for Parquet shards (it pulls in pyarrow.fs and ssl: ~40 ms
    of a JSONL run's start)."""
    import pyarrow.parquet as pq

    return pq


def _schema_and_ids(path: Path, suffix: str, rejects: bool) -> tuple[Any, Any, int]:
    """The shard's schema, its ids (as JSON text: a string id is its quoted form), its rows:
    from the notes its writer committed beside it where they describe it, else read back."""
    import orjson

    notes = read_notes(path, rejects=rejects)
    if notes is not None:
        schema = notes.schema() if suffix != ".parquet" else _parquet().read_schema(path)
        if schema is not None:
            return schema, notes.ids, notes.rows
    if suffix == ".parquet":
        pq = _parquet()
        parquet = pq.ParquetFile(path)
        ids = None
        if "id" in parquet.schema_arrow.names:
            values = parquet.read(columns=["id"]).column("id").to_pylist()
            ids = binary_array([orjson.dumps(v) for v in values])
        return parquet.schema_arrow, ids, parquet.metadata.num_rows
    return _jsonl_schema_and_ids(path, rejects)


def describe_folder(root: Path, name: str) -> Folder:
    folder = Folder(name)
    shards = list_shards(root / name)
    suffixes = {_builder_suffix(p) for p in shards}
    if not shards or None in suffixes or len({DATASETS_BUILDERS[s] for s in suffixes if s}) != 1:
        return folder  # nothing there, or shards no datasets loader reads
    # One glob per suffix, never a bare ``part-*``: only what a loader reads.
    patterns = [f"{name}/part-*{suffix}" for suffix in sorted(s for s in suffixes if s)]
    folder.pattern = patterns[0] if len(patterns) == 1 else patterns
    schemas = []
    for path in shards:
        try:
            schema, ids, rows = _schema_and_ids(path, _builder_suffix(path) or "", name == "rejects")
        except (OSError, ValueError) as exc:  # Arrow's ArrowInvalid is a ValueError
            folder.problem = f"{path.name} could not be read back: {exc}"
            return folder
        schemas.append(schema)
        folder.rows += rows
        if ids is not None:
            folder.ids.append(ids)
    if all(isinstance(schema, list) for schema in schemas):  # typed without Arrow (jsontypes)
        try:
            fields = functools.reduce(jsontypes.merge_fields, schemas)
        except jsontypes.Unsure:
            pass  # Arrow promotes or refuses, in its words
        else:
            folder.features = [jsontypes.feature(name, kind) for name, kind in fields]
            return folder
    import pyarrow as pa

    schemas = [jsontypes.arrow_schema(schema) if isinstance(schema, list) else schema for schema in schemas]
    try:
        unified = pa.unify_schemas(schemas, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        folder.problem = f"the shards' schemas differ in a way no type covers: {exc}"
        return folder
    folder.features = [_feature(f.name, f.type) for f in unified]
    return folder


def _dtype(arrow_type: Any) -> Any:
    import pyarrow as pa

    if pa.types.is_struct(arrow_type):
        return {"struct": [_feature(arrow_type.field(i).name, arrow_type.field(i).type) for i in range(arrow_type.num_fields)]}
    if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type):
        inner = _dtype(arrow_type.value_type)
        return {"list": inner.get("dtype", inner)}
    name = str(arrow_type)
    return {"dtype": ARROW_DTYPES.get(name, name)}


def _feature(name: str, arrow_type: Any) -> dict[str, Any]:
    return {"name": name, **_dtype(arrow_type)}


PYTHON_COUNT_MAX_IDS = 2_000_000  # up to this many ids, counted in a dict (above: Arrow's hash table, less memory)


def duplicate_ids(folders: list[Folder], examples: int = 5) -> tuple[int, list[str]]:
    """How many ids occur more than once across the folders (each such id counted once), and
    a few of them."""

    arrays = [ids for f in folders for ids in f.ids if len(ids)]
    if not arrays:
        return 0, []
    if sum(len(a) for a in arrays) <= PYTHON_COUNT_MAX_IDS:
        # A Counter (its update counts in C) takes a run's ids in a fraction of a second;
        # pyarrow.compute alone takes ~0.2 s to import. It keeps first-seen order, as
        # value_counts does; with no id repeated (the usual case) nothing is walked again.
        from collections import Counter

        seen: Counter[bytes] = Counter()
        for array in arrays:
            seen.update(array.to_pylist())
        total = sum(len(a) for a in arrays)
        repeated_values = [] if len(seen) == total else [v for v, n in seen.items() if n > 1]
        return len(repeated_values), [str(json_value(v)) for v in repeated_values[:examples]]
    import pyarrow as pa
    import pyarrow.compute as pc

    arrays = [ids.arrow() if isinstance(ids, BinaryColumn) else ids for ids in arrays]
    counts = pc.value_counts(pa.chunked_array(arrays, type=pa.binary()))
    # Compared with an array of ones, not the literal 1: a Python scalar argument makes pyarrow
    # import pandas (about 0.4 s of every run).
    ones = pc.divide(counts.field("counts"), counts.field("counts"))
    repeated = counts.filter(pc.greater(counts.field("counts"), ones))
    shown = [json_value(v) for v in repeated.field("values")[:examples].to_pylist()]
    return len(repeated), [str(v) for v in shown]


# Characters that libyaml's emitter writes as escapes where PyYAML's Python one writes them as
# they are (NEL, the line and paragraph separators, anything beyond the BMP) or cannot encode
# (lone surrogates).
_LIBYAML_DIFFERS = re.compile("[\x85\u2028\u2029\ud800-\udfff\U00010000-\U0010ffff]")


def _strings(data: Any, out: list[str]) -> list[str]:
    if isinstance(data, str):
        out.append(data)
    elif isinstance(data, dict):
        for key, value in data.items():
            _strings(key, out)
            _strings(value, out)
    elif isinstance(data, list):
        for value in data:
            _strings(value, out)
    return out


def card_yaml(data: Any) -> str:
    """``yaml.safe_dump(data, sort_keys=False, allow_unicode=True)``, the same text, through
    libyaml's emitter when PyYAML has it and no string holds a character the two emitters write
    differently: a card of a few hundred feature lines took the Python emitter ~0.09 s, about a
    tenth of a small run. The card shows names as they are (an emoji in a metadata key), so a
    header with such a character still goes through the Python emitter."""
    text = yamltext.emit(data)  # plain data (tamis's own metadata): the same text, no PyYAML import
    if text is not None:
        return text
    import yaml

    dumper = getattr(yaml, "CSafeDumper", None)
    if dumper is None or _LIBYAML_DIFFERS.search("\n".join(_strings(data, []))):
        dumper = yaml.SafeDumper
    return yaml.dump(data, Dumper=dumper, sort_keys=False, allow_unicode=True)


def write_card(root: Path, stats: dict[str, Any]) -> dict[str, Any]:
    """Write ``root/README.md``; returns what it found (``duplicate_ids``) for ``stats.json``."""
    from tamis.io.atomic import write_bytes_atomic

    folders = [describe_folder(root, "output"), describe_folder(root, "rejects")]
    configs, infos = [], []
    for config_name, folder in zip(("kept", "rejects"), folders, strict=True):
        if folder.pattern is None:
            continue
        entry: dict[str, Any] = {"config_name": config_name}
        if config_name == "kept":
            entry["default"] = True
        entry["data_files"] = [{"split": "train", "path": folder.pattern}]
        configs.append(entry)
        if folder.features is not None:
            infos.append({"config_name": config_name, "features": folder.features, "splits": [{"name": "train", "num_examples": folder.rows}]})
    n_duplicates, examples = duplicate_ids(folders)
    header = card_yaml({"configs": configs, "dataset_info": infos})
    body = [
        "# tamis run",
        "",
        f"Written by tamis {stats.get('tamis_version', '')} (config fingerprint `{stats.get('config_fingerprint', '')}`).",
        "",
        f"- `kept` (default): {stats.get('kept', 0):,} documents in `output/` (`id`, `text`, `metadata`).",
        f"- `rejects`: {stats.get('rejected_total', 0):,} documents in `rejects/`, each with `reason`, `detail` and `duplicate_of`.",
        f"- read: {stats.get('read', 0):,} = kept + rejected. Input errors: `errors.jsonl`; counts: `stats.json`; report: `report.html`.",
        "",
        "```python",
        "from datasets import load_dataset",
        'kept = load_dataset("OUT", split="train")  # OUT: this folder',
        'rejects = load_dataset("OUT", "rejects", split="train")',
        "```",
    ]
    for folder in folders:
        if folder.problem:
            body += ["", f"Note: `{folder.name}/` has no declared features: {folder.problem}."]
    if n_duplicates:
        body += ["", f"Note: {n_duplicates:,} id(s) occur more than once in the input (e.g. {', '.join(map(repr, examples))})."]
    text = f"---\n{header}---\n\n" + "\n".join(body) + "\n"
    write_bytes_atomic(root / CARD, text.encode("utf-8"))
    return {"count": n_duplicates, "examples": examples}


def add_card(root: Path, stats: dict[str, Any]) -> None:
    """Write the card and record the duplicate ids in ``stats`` and ``stats.json``."""
    import orjson

    from tamis.io.atomic import write_bytes_atomic

    found = write_card(root, stats)
    stats["duplicate_ids"] = found
    path = root / "stats.json"
    with contextlib.suppress(FileNotFoundError):
        on_disk = orjson.loads(path.read_bytes())
        on_disk["duplicate_ids"] = found
        write_bytes_atomic(path, orjson.dumps(on_disk, option=orjson.OPT_INDENT_2))
