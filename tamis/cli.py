"""The ``tamis`` command line.

Exit codes: 0 done; 1 done, with input errors (listed in ``OUT/errors.jsonl``); 2 usage or
config error, before any work; 3 some tasks failed; 130 interrupted.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import signal
import sys
from pathlib import Path
from typing import Any

import orjson

from tamis import __version__
from tamis.errors import ConfigError, StorageError, TamisError
from tamis.io.readers import input_format_names
from tamis.registry import compression_names, executor_names, output_format_names

EXIT_OK, EXIT_INPUT_ERRORS, EXIT_USAGE, EXIT_FAILED, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_TERMINATED, EXIT_BROKEN_PIPE = 143, 141  # 128 + SIGTERM, 128 + SIGPIPE, as the shell reports them
STRICT_MARK = "input error (--strict):"  # how a task stopped by --strict says so (executors/tasks.py)


class Terminated(KeyboardInterrupt):
    """SIGTERM (``kill``, ``timeout``), raised where the program is, like Ctrl-C: the same
    clean stop (workers killed, partial files left for ``--resume`` to remove)."""


def _on_sigterm(signum: int, frame: Any) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # one stop is enough; a second must not interrupt it
    raise Terminated


def _quiet_broken_pipe() -> int:
    """The reader of our output went away (``tamis ... | head``): stop quietly, as Unix tools
    do. Python would otherwise complain again when it flushes stdout at exit."""
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


class _Parser(argparse.ArgumentParser):
    """Every tamis command (sub-commands included) shows the exit codes and each option's default."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("epilog", EXIT_CODES_HELP)
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # argparse exits 2 too; keep its message short
        self.print_usage(sys.stderr)
        print(f"tamis: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


BATCH_HELP = (
    "read JSONL, Parquet, text and HTML files of a quarter of this or less (compressed and Parquet: a sixteenth) several "
    "to a task, up to this many MB a task (a task writes its own output shard); 0: one task per file (default: 8)"
)


def _whole_number(text: str, minimum: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
    return value


def _non_negative_int(text: str) -> int:
    return _whole_number(text, 0)


def _positive_int(text: str) -> int:
    return _whole_number(text, 1)


def _add_run_options(p: argparse.ArgumentParser, *, with_config: bool = True) -> None:
    if with_config:
        p.add_argument("config", nargs="?", help="a YAML recipe: {input, output, executor, workers, steps: [...]}")
    p.add_argument("--input", "-i", nargs="+", metavar="PATH", help="input files, folders or globs, in this order (default: the config's input)")
    if with_config:
        p.add_argument("--recipe", help="a named recipe when the config gives no steps: default, foundation (default: default)")
    p.add_argument("--output", "-o", metavar="OUT", help="run directory, not overlapping any input (default: the config's output)")
    p.add_argument("--workers", "-w", type=int, help="worker processes (default: all cores)")
    p.add_argument("--executor", choices=executor_names(), help="where tasks run (default: local)")
    p.add_argument("--ray-address", help="address of a running Ray cluster (default: start one locally)")
    p.add_argument("--format", choices=output_format_names(), help="output format (default: jsonl)")
    p.add_argument("--compression", choices=compression_names(), help="JSONL codec (default: gzip)")
    p.add_argument("--compression-level", type=int, help="codec level (default: gzip 2 = ISA-L igzip, 0-3 ISA-L, 4-9 zlib; zstd 3)")
    p.add_argument("--shard-size-mb", type=int, help="start a new output shard after this many MB of records (default: 256)")
    p.add_argument("--input-format", choices=input_format_names(), help="force the input format (default: from each file's name)")
    p.add_argument("--text-field", help="JSON/Parquet field holding the text (default: text)")
    p.add_argument("--id-field", help="JSON/Parquet field holding the id (default: id)")
    p.add_argument("--encoding", choices=["utf-8", "auto"], help="input decoding: strict UTF-8, or auto-detect legacy encodings (default: utf-8)")
    p.add_argument("--max-doc-bytes", type=int, help="reject larger documents as reader:too_large (default: 16777216, 16 MiB)")
    p.add_argument("--batch-mb", type=_non_negative_int, help=BATCH_HELP)
    p.add_argument("--limit", type=int, help="process only the first N documents in input order (default: all)")
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
        help="an fsspec option for s3://, gs:// ... inputs and outputs (repeatable; e.g. profile=prod, anon=true); never written anywhere (default: none)",
    )


EXIT_CODES_HELP = """exit codes:
  0    done
  1    done, with input errors (listed in OUT/errors.jsonl; the first ones are printed);
       with --strict: stopped at the first input error
  2    usage or config error, before any work (a wrong flag or parameter, a non-empty OUT
       without --resume/--overwrite, --resume with a changed config or input, overlapping
       input and output)
  3    some tasks failed (rerun with --resume: only unfinished tasks are redone)
  130  interrupted (Ctrl-C); 143 terminated (SIGTERM): rerun with --resume
  141  the output pipe was closed (tamis ... | head)"""


def _terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``, which argparse's formatter asks for its width,
    without importing shutil (bz2, lzma, a namedtuple: ~1 % of a short run, paid for each
    of the ~30 formatters a run's parser builds): ``COLUMNS`` if a positive integer, else the
    terminal's width of stdout, else 80."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns > 0:
        return columns
    try:
        size = os.get_terminal_size(sys.__stdout__.fileno())  # type: ignore[union-attr]
    except (AttributeError, ValueError, OSError):
        return 80
    return size.columns or 80


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Keeps the exit-code table as written; every option's help says its default (an option
    whose help does not is given ``(default: X)``, ``(default: none)`` or ``(required)``)."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24, width: int | None = None) -> None:
        if width is None:  # what argparse.HelpFormatter computes, as it computes it
            width = _terminal_columns() - 2
        super().__init__(prog, indent_increment, max_help_position, width)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        takes_value = action.option_strings and action.nargs != 0
        if not takes_value or "default" in text or action.default is argparse.SUPPRESS:
            return text
        if action.required:
            return f"{text} (required)"
        return f"{text} (default: %(default)s)" if action.default is not None else f"{text} (default: none)"


def _sub(sub: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    return sub.add_parser(name, epilog=EXIT_CODES_HELP, formatter_class=_HelpFormatter, **kwargs)


RUN_COMMANDS = ("run", "dedup")  # built alone for their own command line (build_parser's ``only``)


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The command line's parser. ``only`` (``run`` or ``dedup``): that sub-command alone, for a
    command line that names it (what it parses and prints is the same: a sub-command's usage,
    help and errors are its own); the other sub-commands' parsers and arguments, ~half of the
    parser's set-up (argparse looks up translations for each parser), are not built."""
    parser = _Parser(
        prog="tamis",
        description="Turn raw web-scraped text into a clean, deduplicated corpus.",
        epilog=EXIT_CODES_HELP,
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"tamis {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    if only in (None, "run"):
        run_p = _sub(sub, "run", help="run a recipe (the default one, or CONFIG.yaml)", description="Run a pipeline.")
        _add_run_options(run_p)
    if only in (None, "dedup"):
        dedup_p = _sub(sub, "dedup", help="deduplicate: exact, then near-duplicate (MinHash-LSH)", description="Deduplicate a corpus.")
        _add_run_options(dedup_p, with_config=False)
        dedup_p.add_argument("--threshold", type=float, default=0.8, help="Jaccard similarity threshold for near duplicates (default: 0.8)")
        dedup_p.add_argument("--against", metavar="INDEX", help="also remove documents that duplicate this saved LSH index (default: none)")
        dedup_p.add_argument("--save-index", metavar="INDEX", help="save this run's LSH index for later --against runs (default: not saved)")
    if only is not None:
        return parser
    steps_p = _sub(sub, "steps", help="list every step with its parameters and defaults")
    steps_p.add_argument("name", nargs="?", help="show only this step (default: every step)")
    report_p = _sub(sub, "report", help="write OUT/report.html for a run directory")
    report_p.add_argument("run_dir", metavar="OUT", help="a finished run directory")
    report_p.add_argument("--against", metavar="OUT_B", help="compare with another run (default: none)")
    report_p.add_argument("--open", action="store_true", help="open the report in a browser")
    report_p.add_argument("--storage-option", action="append", metavar="KEY=VALUE", help="an fsspec option when OUT is on an object store (default: none)")
    demo_p = _sub(sub, "demo", help="write the generated demo corpus")
    demo_p.add_argument("directory", help="where to write it (new or empty, unless --overwrite)")
    demo_p.add_argument("--docs", type=_positive_int, default=20000, help="number of documents (default: 20000)")
    demo_p.add_argument("--seed", type=int, default=0, help="random seed: the same seed writes the same corpus (default: 0)")
    demo_p.add_argument("--overwrite", action="store_true", help="replace the demo corpus in a non-empty DIRECTORY")
    add_tokenize_parsers(sub)
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    reader = {}
    for flag, key in (("text_field", "text_field"), ("id_field", "id_field"), ("encoding", "encoding"), ("max_doc_bytes", "max_doc_bytes")):
        if getattr(args, flag, None) is not None:
            reader[key] = getattr(args, flag)
    if getattr(args, "batch_mb", None) is not None:
        reader["batch_bytes"] = args.batch_mb << 20
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
    duplicates = stats.get("duplicate_ids") or {}
    if duplicates.get("count"):
        shown = ", ".join(map(repr, duplicates.get("examples", [])))
        print(f"  ids given to more than one input record: {duplicates['count']:,} (e.g. {shown}); both copies are kept as given")
    if stats.get("input_errors"):
        print(f"  input errors: {stats['input_errors']:,} (see {root / 'errors.jsonl'})")
        for line in first_input_errors(root / "errors.jsonl"):
            print(f"    {line}")
    skipped = stats.get("skipped_files") or {}
    if skipped:
        shown = ", ".join(f"{suffix} {n:,}" for suffix, n in list(skipped.items())[:6]) + (", ..." if len(skipped) > 6 else "")
        hint = "--input-format reads a folder of one format whatever the names"
        print(f"  files left out (their names say no format tamis reads): {sum(skipped.values()):,} ({shown}); {hint}")
    print(f"  output: {root / 'output'}   rejects: {root / 'rejects'}   stats: {root / 'stats.json'}")


def first_input_errors(path: Path, count: int = 5) -> list[str]:
    """``file:line: message`` for the first few input errors, as compilers print them."""
    lines: list[str] = []
    try:
        with open(path, "rb") as fh:
            for raw in fh:
                if len(lines) >= count:
                    lines.append("...")
                    break
                error = orjson.loads(raw)
                where = error.get("path") or "?"
                if error.get("line") is not None:
                    where += f":{error['line']}"
                message = str(error.get("message") or error.get("reason"))
                lines.append(f"{where}: {message[:200]}")
    except (OSError, orjson.JSONDecodeError):
        pass
    return lines


def cmd_run(args: argparse.Namespace, *, dedup: bool = False) -> int:
    from tamis.pipeline import build_steps, load_config_file
    from tamis.runner import run

    file_values = load_config_file(args.config) if getattr(args, "config", None) else {}
    if dedup:
        steps: list[dict[str, Any]] = [{"step": "normalize"}, {"step": "exact_dedup"}]
        from tamis.registry import has_step

        if has_step("minhash"):
            minhash: dict[str, Any] = {"step": "minhash", "threshold": args.threshold}
            if args.against:
                minhash["against"] = args.against
            if args.save_index:
                minhash["save_index"] = args.save_index
            steps.append(minhash)
        file_values["steps"] = steps
    config = _config_from_args(args, file_values)
    if args.resume and args.overwrite:
        raise ConfigError("--resume and --overwrite contradict each other: --resume continues a run, --overwrite replaces it")
    if args.dry_run:
        from tamis.runner import check_no_overlap, dump_yaml

        check_no_overlap(config)
        built = build_steps(config.step_configs())  # builds (so validates) every step
        resolved = {"fingerprint": config.fingerprint(built), **config.resolved(built)}
        print(dump_yaml(resolved), end="")
        return EXIT_OK
    import time

    started = time.perf_counter()
    from tamis.io.storage import parse_storage_options

    options = parse_storage_options(args.storage_option)
    outcome = run(config, resume=args.resume, overwrite=args.overwrite, progress=not args.quiet and sys.stderr.isatty(), storage_options=options)
    root = _RunLocation(config.output)
    strict_stops = [m for _, m in sorted(outcome.failed.items()) if STRICT_MARK in m]
    if strict_stops and len(strict_stops) == len(outcome.failed):
        first = strict_stops[0].strip().splitlines()[-1]
        print(f"tamis: stopped at the first input error (--strict): {first.split(STRICT_MARK, 1)[1].strip()}", file=sys.stderr)
        return EXIT_INPUT_ERRORS
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
    if not args.name or args.name == "language":
        _print_languages()
    return EXIT_OK


def _print_languages() -> None:
    """The languages whose quality settings are their own (the others use their script family's)."""
    from tamis.steps.quality.languages import languages_table

    rows = languages_table()
    print(f"\nlanguages with their own settings ({len(rows)}, largest web text first; any other language uses its script family's;"
          " fineweb-2: the values of FineWeb-2's configs/<subset>.yml):")
    for code, name, script, source, stop_words, min_score in rows:
        print(f"    {code:<4} {name[:24]:<24} {script:<9} {source:<10} {stop_words:>3} stop words  min language score {min_score}")


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
    if _is_tokdir(root):
        from tamis.tokenize.report import write_tokens_report

        print(write_tokens_report(root))
        return EXIT_OK
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

    paths = write_demo_corpus(Path(args.directory), n_docs=args.docs, seed=args.seed, overwrite=args.overwrite)
    for p in paths:
        print(p)
    return EXIT_OK


# --------------------------------------------------------------------------- tamis tokenize


def add_tokenize_parsers(sub: Any) -> None:
    """``tamis tokenize`` and ``tamis tokenizer train``."""
    tok_p = _sub(
        sub,
        "tokenize",
        help="encode documents into shuffled token shards (Megatron, datatrove, memmap)",
        description="Encode documents with a tokenizer.json into shuffled, training-ready token shards in TOKDIR.",
    )
    tok_p.add_argument(
        "--input", "-i", nargs="+", metavar="PATH",
        help="a run directory (its output/), JSONL, Parquet or text files, globs (required, no default)",
    )
    tok_p.add_argument("--output", "-o", metavar="TOKDIR", help="directory for the shards, stats.json and the report (required, no default)")
    tok_p.add_argument(
        "--tokenizer", "-t", metavar="FILE",
        help="a Hugging Face tokenizers file (tokenizer.json); nothing is downloaded (required, no default)",
    )
    tok_p.add_argument("--format", choices=["megatron", "datatrove", "memmap"], default="megatron", help="shard format (default: megatron)")
    tok_p.add_argument("--eos", metavar="TOKEN", help="append this special token after each document (default: none)")
    tok_p.add_argument("--bos", metavar="TOKEN", help="prepend this special token before each document (default: none)")
    tok_p.add_argument("--shuffle-seed", type=int, default=0, metavar="N", help="seed of the global document shuffle (default: 0)")
    tok_p.add_argument("--shard-tokens", type=int, default=1 << 29, metavar="N", help="tokens per shard, cut between documents (default: 536870912)")
    tok_p.add_argument("--name", default="tokens", help="shard file name prefix: NAME-00000-of-00004.bin ... (default: tokens)")
    tok_p.add_argument("--workers", "-w", type=int, metavar="N", help="worker processes, one core each (default: all cores)")
    tok_p.add_argument("--executor", choices=["local", "ray"], default="local", help="where tasks run (default: local)")
    tok_p.add_argument("--ray-address", help="address of a running Ray cluster (default: start one locally)")
    tok_p.add_argument("--input-format", help="force the input format (jsonl, json, parquet, text) (default: from each file's name)")
    tok_p.add_argument("--text-field", help="JSON/Parquet field holding the text (default: text)")
    tok_p.add_argument("--id-field", help="JSON/Parquet field holding the id (default: id)")
    tok_p.add_argument("--max-doc-bytes", type=int, help="reject larger documents as reader:too_large (default: 16777216, 16 MiB)")
    tok_p.add_argument("--batch-mb", type=_non_negative_int, help=BATCH_HELP)
    tok_p.add_argument("--resume", action="store_true", help="continue: redo only unfinished tasks")
    tok_p.add_argument("--overwrite", action="store_true", help="replace an existing TOKDIR")
    tok_p.add_argument("--strict", action="store_true", help="stop at the first input error")
    tok_p.add_argument("--no-report", action="store_true", help="do not write TOKDIR/report.html")
    tok_p.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    trainer_p = _sub(sub, "tokenizer", help="tokenizer tools: train", description="Tokenizer tools.")
    trainer_sub = trainer_p.add_subparsers(dest="tokenizer_command", metavar="ACTION", parser_class=_Parser)
    train_p = trainer_sub.add_parser(
        "train",
        epilog=EXIT_CODES_HELP,
        formatter_class=_HelpFormatter,
        help="train a byte-level BPE tokenizer on a corpus",
        description="Train a byte-level BPE tokenizer.",
    )
    train_p.add_argument(
        "--input", "-i", nargs="+", metavar="PATH", required=True,
        help="a run directory (its output/), JSONL, Parquet or text files (required, no default)",
    )
    train_p.add_argument("--vocab-size", type=int, required=True, help="vocabulary size, special tokens included (required, no default)")
    train_p.add_argument("--output", "-o", required=True, metavar="FILE", help="the tokenizer.json to write (required, no default)")
    train_p.add_argument("--special-tokens", nargs="*", metavar="TOKEN", help="special tokens (default: <|endoftext|>)")
    train_p.add_argument("--min-frequency", type=int, default=2, help="a merge needs a pair seen this often (default: 2)")
    train_p.add_argument("--limit", type=int, help="train on the first N documents only (default: all)")
    train_p.add_argument("--input-format", help="force the input format (jsonl, json, parquet, text) (default: from each file's name)")
    train_p.add_argument("--text-field", help="JSON/Parquet field holding the text (default: text)")
    train_p.add_argument("--workers", "-w", type=int, help="trainer threads (default: all cores)")


def _is_tokdir(root: Path) -> bool:
    try:
        return orjson.loads((root / "stats.json").read_bytes()).get("command") == "tokenize"
    except (OSError, orjson.JSONDecodeError, AttributeError):
        return False


def _tokenize_reader(args: argparse.Namespace) -> dict[str, Any]:
    pairs = (("text_field", "text_field"), ("id_field", "id_field"), ("max_doc_bytes", "max_doc_bytes"))
    reader = {key: getattr(args, flag) for flag, key in pairs if getattr(args, flag, None) is not None}
    if args.batch_mb is not None:
        reader["batch_bytes"] = args.batch_mb << 20
    return reader


def cmd_tokenize(args: argparse.Namespace) -> int:
    import time

    from tamis.tokenize.run import TokenizeConfig, tokenize

    config = TokenizeConfig(
        input=args.input or [],
        output=args.output,
        tokenizer=args.tokenizer,
        format=args.format,
        eos=args.eos,
        bos=args.bos,
        shuffle_seed=args.shuffle_seed,
        shard_tokens=args.shard_tokens,
        name=args.name,
        executor=args.executor,
        workers=args.workers,
        ray_address=args.ray_address,
        input_format=args.input_format,
        reader=_tokenize_reader(args),
        strict=args.strict,
        report=not args.no_report,
    )
    started = time.perf_counter()
    outcome = tokenize(config, resume=args.resume, overwrite=args.overwrite, progress=not args.quiet and sys.stderr.isatty())
    root = Path(args.output)
    if outcome.failed:
        from tamis.executors.base import failed_summary

        print(failed_summary(outcome.failed), file=sys.stderr)
        print(f"tamis: tokenize incomplete; fix the cause and rerun with --resume (only unfinished tasks are redone): {root}", file=sys.stderr)
        return EXIT_FAILED
    stats, seconds = outcome.stats, time.perf_counter() - started
    read, written, rejected = stats["read"], stats["written"], stats["rejected_total"]
    tokens = stats["tokens"]
    print(f"tamis {__version__} tokenize — {root}")
    print(f"  read {read:,} = written {written:,} + rejected {rejected:,}   [{'OK' if read == written + rejected else 'MISMATCH'}]")
    rate = tokens["tokens"] / max(seconds, 1e-9)
    print(f"  tokens {tokens['tokens']:,} in {len(tokens['shards'])} {tokens['format']} shard(s), {tokens['dtype']}   ({seconds:.1f} s, {rate:,.0f} tokens/s)")
    for reason, n in sorted(stats["rejected"].items(), key=lambda kv: -kv[1]):
        print(f"    {reason:<40} {n:>10,}")
    if stats.get("input_errors"):
        print(f"  input errors: {stats['input_errors']:,} (see {root / 'errors.jsonl'})")
    return EXIT_INPUT_ERRORS if outcome.input_errors else EXIT_OK


def cmd_tokenizer(args: argparse.Namespace) -> int:
    if args.tokenizer_command != "train":
        raise ConfigError("tamis tokenizer: give an action: train")
    from tamis.io.readers import ReaderOptions
    from tamis.tokenize.run import resolve_inputs
    from tamis.tokenize.train import train_tokenizer

    reader = ReaderOptions(text_field=args.text_field) if args.text_field else None
    result = train_tokenizer(
        resolve_inputs(args.input),
        args.output,
        args.vocab_size,
        special_tokens=args.special_tokens,
        min_frequency=args.min_frequency,
        input_format=args.input_format,
        reader=reader,
        limit=args.limit,
        threads=args.workers,
    )
    skipped = f", {result.skipped:,} bad records skipped" if result.skipped else ""
    print(f"{result.path}: byte-level BPE, {result.vocab_size:,} tokens, trained on {result.documents:,} documents{skipped}")
    return EXIT_OK


def threading_main() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


# tamis never multiplies matrices, but numpy's OpenBLAS starts a thread per core when numpy is
# first imported (and OpenMP/MKL builds likewise): 0.1 CPU-s of every run's start-up here, and
# idle threads in every worker. One thread each, unless the user asked for more.
_MATH_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _single_threaded_math() -> None:
    """Set the math libraries' thread counts to 1 where the environment does not say, before
    anything imports numpy (workers and other children inherit them)."""
    for name in _MATH_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # the process's own command line (an in-process caller keeps its settings)
        _single_threaded_math()
    first = (sys.argv[1:] if argv is None else argv)[:1]
    only = first[0] if first and first[0] in RUN_COMMANDS else None
    if only is not None:
        from tamis.steps.quality.regex_code import seed_run_patterns

        seed_run_patterns()  # the patterns a run compiles, built from stored instructions
        if argv is None:  # the process's own run: see tamis.gcpause
            from tamis.gcpause import pause_for_set_up

            pause_for_set_up()
    parser = build_parser(only)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if threading_main() else None
    try:
        code = _dispatch(parser, args)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
        if argv is None:  # the process's own command line: it ends when this returns
            _before_exit()
    if argv is None and only is not None:
        _end_process(code)
    return code


def _before_exit() -> None:
    """Spare the interpreter's shutdown its cyclic collections over everything the run built.

    At exit CPython clears every module and runs full collections over all live containers
    (the modules, the steps' tables, the language model's objects: ~50,000 on the default
    recipe), ~0.15 CPU-s of a 0.8 s run on 20 pages. Frozen objects (the permanent generation)
    are skipped by those collections; reference counting still frees them, and atexit
    handlers, thread joins and file flushes run as before. Only for the command line
    (``argv`` None): a caller in-process keeps its collector as it was."""
    import gc

    gc.freeze()


def _end_process(code: int) -> None:
    """End a finished ``tamis run``/``dedup`` process now, without the interpreter's teardown.

    After the run, every output is committed and closed; what is left of an interpreter's exit
    is to clear every module and free every object one by one (the language tables, the
    splitters, numpy, Arrow: 40-90 ms of a one-document run, half its end). This does what
    ``Py_FinalizeEx`` does first, in its order, then leaves: non-daemon threads are joined and
    their hooks run (``threading._shutdown``: concurrent.futures' workers), then the atexit
    handlers (logging's flush, weakref finalizers such as temporary folders, multiprocessing's
    and Ray's shutdown, an extract worker's close), then stdout and stderr are flushed. Where a
    flush fails (a closed pipe) or a thread-exit hook raises, the interpreter ends the usual way.
    Only for the command line's own process (``argv`` None) after a return, never after an
    exception; ``TAMIS_FULL_EXIT=1`` keeps the full teardown."""
    if os.environ.get("TAMIS_FULL_EXIT"):
        return
    import atexit
    import threading

    try:
        threading._shutdown()  # type: ignore[attr-defined]  # what Py_FinalizeEx calls first
    except Exception:  # noqa: BLE001 - a thread-exit hook failed; the interpreter's exit runs them again
        # CPython 3.11's process-pool hook writes to a pool's wake-up pipe without the lock its
        # manager thread closes it under: after Ctrl-C it can meet a pipe just closed (EBADF).
        # Py_FinalizeEx reports such a failure and keeps the exit code; leaving through it does
        # the same, and its second pass finds the pipe marked closed and joins the threads.
        return
    atexit._run_exitfuncs()
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code)


def _dispatch(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
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
        if args.command == "tokenize":
            return cmd_tokenize(args)
        if args.command == "tokenizer":
            return cmd_tokenizer(args)
    except (ConfigError, StorageError) as exc:
        print(f"tamis: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt as exc:
        what = "terminated (SIGTERM)" if isinstance(exc, Terminated) else "interrupted"
        with contextlib.suppress(OSError):
            print(f"tamis: {what}; rerun with --resume to continue", file=sys.stderr)
        return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
    except BrokenPipeError:
        return _quiet_broken_pipe()
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
