# ruff: noqa: E501 - the two programs run in the checkouts are strings
"""Run the same matrix with two checkouts and compare whole run directories.

    .venv/bin/python bench/compare_run_dirs.py OLD_ROOT NEW_ROOT WORK

OLD_ROOT and NEW_ROOT are checkouts (``git worktree add``) with the compiled extensions in
place (copy ``tamis/_native/*.so`` when the C sources are the same); the matrix's inputs come
from ``tests/test_equivalence.py`` of NEW_ROOT.

Each checkout runs in its own process (PYTHONPATH=ROOT) over input format x output format x
keep_text x stage x scanner on/off; the run directories are compared file by file (output
and rejects by decoded records, errors.jsonl by bytes, stats.json without ``run``).
"""
import gzip
import itertools
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

old_root, new_root, work = map(Path, sys.argv[1:4])
STAGES = {
    "exact": [{"step": "exact_dedup"}],
    "minhash": [{"step": "minhash", "threshold": 0.6, "partitions": 2}],
    "exact+minhash": [{"step": "exact_dedup"}, {"step": "minhash", "threshold": 0.6, "partitions": 2}],
    "lines": [{"step": "exact_dedup", "unit": "line"}],
    "foundation": [{"step": "normalize"}, {"step": "repetition"}, {"step": "exact_dedup"}],
}
RUNNER = r'''
import json, sys
from tamis.pipeline import RunConfig
from tamis.runner import run
args = json.loads(sys.argv[1])
run(RunConfig(input=args["inputs"], output=args["out"], steps=args["steps"], workers=1, report=False, format=args["fmt"], keep_text=args["keep_text"], compression=args["compression"], reader={"chunk_bytes": 20000}), overwrite=True)
'''
READ = r'''
import json, sys
from pathlib import Path
root = Path(sys.argv[1])
try:
    from tamis.io.outputs import iter_records
except ImportError:
    from tamis.io.runfiles import iter_records
out = {"output": list(iter_records(root, "output")), "rejects": list(iter_records(root, "rejects"))}
for r in out["output"] + out["rejects"]:
    if isinstance(r.get("metadata"), str):
        r["metadata"] = json.loads(r["metadata"])
stats = json.loads((root / "stats.json").read_text()); stats.pop("run"); stats.pop("config_fingerprint"); stats.pop("tamis_version", None)
out["stats"] = stats
out["errors"] = (root / "errors.jsonl").read_text() if (root / "errors.jsonl").exists() else None
print(json.dumps(out, sort_keys=True))
'''
sys.path.insert(0, str(new_root / "tests"))
from test_equivalence import _corpus  # noqa: E402

inputs_dir = work / "inputs"
shutil.rmtree(work, ignore_errors=True)
inputs_dir.mkdir(parents=True)
inputs = [str(p) for p in _corpus(inputs_dir)]
py = sys.executable
bad = 0
n = 0
failed_runs: dict[tuple[str, str], int] = {}
for stage, fmt, keep_text, scanner, compression in itertools.product(STAGES, ("jsonl", "parquet"), (True, False), ("1", "0"), ("none", "gzip")):
    if compression == "gzip" and (fmt != "jsonl" or scanner == "0"):
        continue
    got = {}
    for side, root in (("old", old_root), ("new", new_root)):
        out = work / f"{side}-{stage}-{fmt}-{keep_text}-{scanner}-{compression}"
        env = {**os.environ, "PYTHONPATH": str(root), "TAMIS_JSONL_SCANNER": scanner}
        args = {"inputs": inputs, "out": str(out), "steps": STAGES[stage], "fmt": fmt, "keep_text": keep_text, "compression": compression}
        subprocess.run([py, "-c", RUNNER, json.dumps(args)], env=env, check=True, capture_output=True, cwd=str(work))
        probe = [py, "-c", "import tamis.executors.tasks as t; print(t.__file__)"]
        which = subprocess.run(probe, env=env, capture_output=True, text=True, cwd=str(work), check=True).stdout.strip()
        assert which.startswith(str(root)), (side, which)
        if not (out / "stats.json").exists():
            got[side] = {"failed": True}
            continue
        got[side] = json.loads(subprocess.run([py, "-c", READ, str(out)], env=env, check=True, capture_output=True, cwd=str(work)).stdout)
        names = sorted(p.relative_to(out).as_posix() for p in (out / "output").glob("*")) if (out / "output").exists() else []
        got[side]["output_files"] = names
        if fmt == "jsonl":
            got[side]["output_bytes"] = [gzip.decompress(p.read_bytes()) if p.name.endswith(".gz") else p.read_bytes() for p in sorted((out / "output").glob("*"))]
    n += 1
    if "failed" in got["old"] or "failed" in got["new"]:
        states = {side: "failed" if "failed" in got[side] else "ok" for side in got}
        print(f"FAILED RUN {stage} {fmt} keep_text={keep_text} scanner={scanner} {compression}: old {states['old']}, new {states['new']}")
        failed_runs[states["old"], states["new"]] = failed_runs.get((states["old"], states["new"]), 0) + 1
        continue
    same = {k: got["old"][k] == got["new"][k] for k in got["old"]}
    label = f"{stage:14} {fmt:8} keep_text={keep_text!s:5} scanner={scanner} {compression:5}"
    if all(same.values()):
        print(f"same       {label}")
    else:
        bad += 1
        print(f"DIFFERENT  {label}: {[k for k, v in same.items() if not v]}")
failed = sum(failed_runs.values())
print(f"{n} configurations: {n - bad - failed} identical, {bad} different, runs that failed (old, new): {failed_runs}")
