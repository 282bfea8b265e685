"""The ``tamis`` command line.

Exit codes: 0 done; 1 done, with input errors (listed in ``OUT/errors.jsonl``); 2 usage or
config error, before any work; 3 some tasks failed; 130 interrupted.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import Any

import orjson
import yaml

from tamis import __version__
from tamis.errors import ConfigError, StorageError, TamisError

EXIT_OK, EXIT_INPUT_ERRORS, EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 too; keep its message short
        self.print_usage(sys.stderr)
        print(f"tamis: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _add_run_options(p: argparse.ArgumentParser, *, with_config: bool = True) -> None:
    if with_config:
        p.add_argument("config", nargs="?", help="a YAML recipe: {input, output, executor, workers, steps: [...]}")
    p.add_argument("--input", "-i", nargs="+", metavar="PATH", help="input files, folders or globs (in this order)")
    if with_config:
        p.add_argument("--recipe", help="a named recipe when the config gives no steps: default, foundation")
    p.add_argument("--output", "-o", metavar="OUT", help="run directory")
    p.add_argument("--workers", "-w", type=int, help="worker processes (default: all cores)")
    p.add_argument("--executor", choices=["local", "ray"], help="where tasks run (default: local)")
    p.add_argument("--ray-address", help="address of a running Ray cluster (default: start one locally)")
    p.add_argument("--format", choices=["jsonl", "parquet"], help="output format (default: jsonl)")
    p.add_argument("--compression", choices=["gzip", "zstd", "none"], help="JSONL codec (default: gzip)")
    p.add_argument("--compression-level", type=int, help="codec level (default: gzip 6, zstd 3)")
    p.add_argument("--shard-size-mb", type=int, help="start a new output shard after this many MB of records (default: 256)")
    p.add_argument("--input-format", help="force the input format (jsonl, parquet, text, warc, wet, html)")
    p.add_argument("--text-field", help="JSON/Parquet field holding the text (default: text)")
    p.add_argument("--id-field", help="JSON/Parquet field holding the id (default: id)")
    p.add_argument("--encoding", choices=["utf-8", "auto"], help="input decoding: strict UTF-8 or auto-detect")
    p.add_argument("--max-doc-bytes", type=int, help="reject larger documents as reader:too_large")
    p.add_argument("--limit", type=int, help="process only the first N documents")
    p.add_argument("--resume", action="store_true", help="continue a run: redo only unfinished tasks")
    p.add_argument("--overwrite", action="store_true", help="replace an existing run directory")
    p.add_argument("--strict", action="store_true", help="stop at the first input error")
    p.add_argument("--dry-run", action="store_true", help="validate and print the resolved pipeline, run nothing")
    p.add_argument("--no-report", action="store_true", help="do not write OUT/report.html")
    p.add_argument(
        "--no-text",
        action="store_true",
        help="write kept records without their text (id and metadata; rejects stay whole): what to keep, decided fastest",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    p.add_argument(
        "--storage-option",
        action="append",
        metavar="KEY=VALUE",
        help="an fsspec option for s3://, gs:// ... inputs and outputs (repeatable; e.g. profile=prod, anon=true); never written anywhere",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tamis", description="Turn raw web-scraped text into a clean, deduplicated corpus.")
    parser.add_argument("--version", action="version", version=f"tamis {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    run_p = sub.add_parser("run", help="run a recipe (the default one, or CONFIG.yaml)", description="Run a pipeline.")
    _add_run_options(run_p)
    dedup_p = sub.add_parser("dedup", help="deduplicate: exact, then near-duplicate (MinHash-LSH)", description="Deduplicate a corpus.")
    _add_run_options(dedup_p, with_config=False)
    dedup_p.add_argument("--threshold", type=float, default=0.8, help="Jaccard similarity threshold for near duplicates")
    dedup_p.add_argument("--against", metavar="INDEX", help="also remove documents that duplicate this saved LSH index")
    dedup_p.add_argument("--save-index", metavar="INDEX", help="save this run's LSH index for later --against runs")
    steps_p = sub.add_parser("steps", help="list every step with its parameters and defaults")
    steps_p.add_argument("name", nargs="?", help="show only this step")
    report_p = sub.add_parser("report", help="write OUT/report.html for a run directory")
    report_p.add_argument("run_dir", metavar="OUT")
    report_p.add_argument("--against", metavar="OUT_B", help="compare with another run")
    report_p.add_argument("--open", action="store_true", help="open the report in a browser")
    report_p.add_argument("--storage-option", action="append", metavar="KEY=VALUE", help="an fsspec option when OUT is on an object store")
    demo_p = sub.add_parser("demo", help="write the generated demo corpus")
    demo_p.add_argument("directory")
    demo_p.add_argument("--docs", type=int, default=20000, help="number of documents")
    demo_p.add_argument("--seed", type=int, default=0)
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    reader = {}
    for flag, key in (("text_field", "text_field"), ("id_field", "id_field"), ("encoding", "encoding"), ("max_doc_bytes", "max_doc_bytes")):
        if getattr(args, flag, None) is not None:
            reader[key] = getattr(args, flag)
    out: dict[str, Any] = {
        "input": args.input,
        "output": args.output,
        "workers": args.workers,
        "executor": args.executor,
        "ray_address": args.ray_address,
        "format": args.format,
        "compression": args.compression,
        "compression_level": args.compression_level,
        "shard_size_mb": args.shard_size_mb,
        "input_format": args.input_format,
        "limit": args.limit,
        "strict": True if args.strict else None,
        "report": False if args.no_report else None,
        "keep_text": False if args.no_text else None,
        "recipe": getattr(args, "recipe", None),
    }
    return {**out, "_reader": reader}


def _config_from_args(args: argparse.Namespace, file_values: dict[str, Any]) -> Any:
    from tamis.pipeline import make_config

    overrides = _overrides(args)
    reader = overrides.pop("_reader")
    if reader:
        overrides["reader"] = {**file_values.get("reader", {}), **reader}
    return make_config(file_values, overrides)


class _RunLocation(str):
    """A run directory as printed: a folder or a store URL, joined with ``/`` (never Path,
    which would fold ``s3://`` into ``s3:/``)."""

    __slots__ = ()

    def __truediv__(self, name: str) -> str:
        return f"{self.rstrip('/')}/{name}" if "://" in self else os.path.join(self, name)


def _print_summary(stats: dict[str, Any], root: Any, seconds: float) -> None:
    read, kept, rejected = stats["read"], stats["kept"], stats["rejected_total"]
    ok = "OK" if read == kept + rejected else "MISMATCH"
    print(f"tamis {__version__} — {root}")
    print(f"  read {read:,} = kept {kept:,} + rejected {rejected:,}   [{ok}]")
    mb_in, mb_out = stats["bytes_in"] / 1e6, stats["bytes_out"] / 1e6
    print(f"  bytes {mb_in:,.1f} MB in, {mb_out:,.1f} MB out   ({seconds:.1f} s, {read / max(seconds, 1e-9):,.0f} docs/s)")
    if stats["rejected"]:
        print("  rejected:")
        for reason, n in sorted(stats["rejected"].items(), key=lambda kv: -kv[1]):
            print(f"    {reason:<40} {n:>10,}")
    if stats["modified"]:
        units = stats.get("removed_units", {})
        print("  modified:")
        for step, n in stats["modified"].items():
            removed = ", ".join(f"{v:,} {k.split('.', 1)[1]} removed" for k, v in units.items() if k.split(".")[0] == step)
            print(f"    {step:<40} {n:>10,}" + (f"  ({removed})" if removed else ""))
    langs = {k: v.get("kept_docs", 0) for k, v in stats.get("languages", {}).items() if v.get("kept_docs", 0)}
    if langs and (len(langs) > 1 or "unknown" not in langs):
        top = sorted(langs.items(), key=lambda kv: -kv[1])[:8]
        print("  languages kept: " + ", ".join(f"{k} {v:,}" for k, v in top))
    if stats.get("input_errors"):
        print(f"  input errors: {stats['input_errors']:,} (see {root / 'errors.jsonl'})")
    print(f"  output: {root / 'output'}   rejects: {root / 'rejects'}   stats: {root / 'stats.json'}")


def cmd_run(args: argparse.Namespace, *, dedup: bool = False) -> int:
    from tamis.pipeline import build_steps, load_config_file
    from tamis.runner import run

    file_values = load_config_file(args.config) if getattr(args, "config", None) else {}
    if dedup:
        steps: list[dict[str, Any]] = [{"step": "normalize"}, {"step": "exact_dedup"}]
        from tamis.registry import all_steps

        if "minhash" in all_steps():
            minhash: dict[str, Any] = {"step": "minhash", "threshold": args.threshold}
            if args.against:
                minhash["against"] = args.against
            if args.save_index:
                minhash["save_index"] = args.save_index
            steps.append(minhash)
        file_values["steps"] = steps
    config = _config_from_args(args, file_values)
    if args.dry_run:
        built = build_steps(config.step_configs())  # builds (so validates) every step
        resolved = {"fingerprint": config.fingerprint(built), **config.resolved(built)}
        print(yaml.safe_dump(resolved, sort_keys=False, allow_unicode=True), end="")
        return EXIT_OK
    import time

    started = time.perf_counter()
    from tamis.io.storage import parse_storage_options

    options = parse_storage_options(args.storage_option)
    outcome = run(config, resume=args.resume, overwrite=args.overwrite, progress=not args.quiet and sys.stderr.isatty(), storage_options=options)
    root = _RunLocation(config.output)
    if outcome.failed:
        from tamis.executors.base import failed_summary

        print(failed_summary(outcome.failed), file=sys.stderr)
        print(f"tamis: run incomplete; fix the cause and rerun with --resume (only unfinished tasks are redone): {root}", file=sys.stderr)
        return EXIT_FAILED
    _print_summary(outcome.stats, root, time.perf_counter() - started)
    return EXIT_INPUT_ERRORS if outcome.input_errors else EXIT_OK


def cmd_steps(args: argparse.Namespace) -> int:
    from tamis.registry import all_steps

    steps = all_steps()
    if args.name and args.name not in steps:
        raise ConfigError(f"unknown step {args.name!r}; available steps: {', '.join(steps)}")
    for name, cls in steps.items():
        if args.name and name != args.name:
            continue
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        print(f"{name}: {doc}")
        for f in dataclasses.fields(cls):
            default = f.default if f.default is not dataclasses.MISSING else (f.default_factory() if f.default_factory is not dataclasses.MISSING else None)  # type: ignore[misc]
            help_text = f.metadata.get("help", "")
            print(f"    {f.name} = {orjson.dumps(default, default=str).decode()}    {help_text}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    try:
        from tamis.report import write_report  # type: ignore[attr-defined]
    except ImportError:
        print("tamis: the report module is not available in this build", file=sys.stderr)
        return EXIT_FAILED
    if "://" in args.run_dir:  # a run directory on an object store
        from tamis.io import remote_run, storage

        storage.configure(storage.parse_storage_options(args.storage_option))
        print(remote_run.write_report(args.run_dir, args.against))
        return EXIT_OK
    root = Path(args.run_dir)
    if not (root / "stats.json").exists():
        raise ConfigError(f"{root} has no stats.json: is it a finished tamis run?")
    kwargs: dict[str, Any] = {}
    if args.against:
        kwargs["against"] = Path(args.against)
    path = write_report(root, **kwargs)
    print(path)
    if args.open:
        import webbrowser

        webbrowser.open(Path(path).resolve().as_uri())
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from tamis.demo import write_demo_corpus

    paths = write_demo_corpus(Path(args.directory), n_docs=args.docs, seed=args.seed)
    for p in paths:
        print(p)
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "run":
            return cmd_run(args)
        if args.command == "dedup":
            return cmd_run(args, dedup=True)
        if args.command == "steps":
            return cmd_steps(args)
        if args.command == "report":
            return cmd_report(args)
        if args.command == "demo":
            return cmd_demo(args)
    except (ConfigError, StorageError) as exc:
        print(f"tamis: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("tamis: interrupted; rerun with --resume to continue", file=sys.stderr)
        return EXIT_INTERRUPTED
    except TamisError as exc:
        print(f"tamis: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except OSError as exc:  # the disk, not the data: full, read-only, permissions
        print(f"tamis: error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # a bug: say so in one line; TAMIS_DEBUG=1 shows the traceback
        if os.environ.get("TAMIS_DEBUG"):
            raise
        print(f"tamis: internal error: {type(exc).__name__}: {exc} (rerun with TAMIS_DEBUG=1 for the traceback, and report it)", file=sys.stderr)
        return EXIT_FAILED
    parser.print_help()
    return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
