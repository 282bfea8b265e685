"""The command line asks the math libraries for one thread each before numpy can be imported
(tamis uses no BLAS; OpenBLAS would start a thread per core at numpy's import)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

# What the run would see: the environment when the command is dispatched, and whether numpy was
# already imported by then (it must not be: OpenBLAS reads the variables when it is loaded).
PROBE = r"""
import json, os, sys
import tamis.cli
before = "numpy" in sys.modules
seen = {}
def dispatch(parser, args):
    seen.update({name: os.environ.get(name) for name in tamis.cli._MATH_THREAD_VARIABLES})
    return 0
tamis.cli._dispatch = dispatch
tamis.cli._end_process = lambda code: None
sys.argv = ["tamis", "run", "--input", "x.jsonl", "--output", "out"]
tamis.cli.main()
print(json.dumps({"numpy_before": before, "env": seen}))
"""


def _probe(env: dict[str, str]) -> dict:
    clean = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    done = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_command_line_sets_one_math_thread_where_the_user_did_not() -> None:
    seen = _probe({})
    assert seen["numpy_before"] is False
    assert seen["env"] == {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def test_a_users_own_thread_counts_are_kept() -> None:
    seen = _probe({"OPENBLAS_NUM_THREADS": "4", "OMP_NUM_THREADS": "3"})
    assert seen["env"] == {"OPENBLAS_NUM_THREADS": "4", "OMP_NUM_THREADS": "3", "MKL_NUM_THREADS": "1"}


def test_an_in_process_caller_keeps_its_environment(monkeypatch) -> None:
    import tamis.cli

    for name in tamis.cli._MATH_THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(tamis.cli, "_dispatch", lambda parser, args: 0)
    assert tamis.cli.main(["run", "--input", "x.jsonl", "--output", "out"]) == 0
    assert not any(name in os.environ for name in tamis.cli._MATH_THREAD_VARIABLES)
