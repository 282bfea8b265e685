"""Write ``tamis/steps/quality/regex_code/run-<python>.json.gz``: the regex engine's instructions
for every pattern ``re`` compiles during a ``tamis run`` of the default recipe, from the command
line's start (after ``tamis.cli`` is imported) to its end: the runner's, the steps' and their
set-up's, PyYAML's (:func:`tamis.steps.quality.regex_code.seed_run_patterns`). One file per
Python given:

    python bench/derive_run_regex_code.py python3.11 python3.12

The run reads a few short pages in several scripts (so that language-specific set-up runs).
Patterns compiled for the run's own paths (``glob``/``fnmatch`` of the output folder) are left
out. Rerun after a module of the run changes a pattern (a pattern whose text changed is simply
not found and compiled as before; ``tests/test_run_regex_seed.py`` says how much of a run the
store covers).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from derive_spacy_regex_code import OUT, ROOT, child_outputs, write_store

# Run in a fresh interpreter: every pattern re compiles on a miss of its cache (re._compile calls
# re._compiler.compile) during main(["run", ...]) is recorded with what its compiler hands to
# _sre.compile, and checked to rebuild to an equal pattern.
CHILD = r"""
import contextlib, json, os, re, sys, tempfile
from re import _compiler

import tamis.cli  # compiled before a run's seed could help: not stored
from tamis.steps.quality import regex_code

regex_code._run_seeded = True  # record what the run compiles, not what the store holds
real_compile = _compiler.compile
entries, seen_keys = [], set()
PAGES = [
    "The bridge over the river closes on Monday for two years of repairs, the city said.",
    "Le pont sur la rivière fermera lundi pour deux ans de travaux, a indiqué la mairie.",
    "Die Brücke über den Fluss wird ab Montag für zwei Jahre wegen Reparaturen gesperrt.",
    "El puente sobre el río cerrará el lunes durante dos años por reparaciones, dijo la ciudad.",
    "Cây cầu bắc qua sông sẽ đóng cửa từ thứ Hai trong hai năm để sửa chữa, thành phố cho biết.",
    "市政府表示，这座跨河大桥将从周一起关闭两年进行维修。",
    "市によると、川に架かる橋は月曜日から二年間、修理のため閉鎖される。",
    "시에 따르면 강 위의 다리는 월요일부터 2년 동안 수리를 위해 폐쇄된다.",
    "शहर ने कहा कि नदी पर बना पुल मरम्मत के लिए सोमवार से दो साल तक बंद रहेगा।",
    "Мост через реку закроется в понедельник на два года для ремонта, сообщили в городе.",
]

def from_paths():
    frame = sys._getframe(2)
    while frame is not None:
        if frame.f_code.co_filename.endswith(("fnmatch.py", "glob.py")):
            return True
        frame = frame.f_back
    return False

def storable(pattern):
    # A pattern holding a lone surrogate (jsontypes', the card's) is stored as kind "u" (its
    # UTF-8 with surrogates passed, in base64: regex_code.encode_entry), since orjson refuses
    # lone surrogates in JSON text; every pattern is storable.
    return True

def recording(pattern, flags=0):
    compiled, record = regex_code.compile_recording(real_compile, pattern, flags)
    if record is not None and not flags & re.DEBUG and isinstance(pattern, str | bytes) and storable(pattern) and not from_paths():
        entry = regex_code.encode_entry(pattern, int(flags), record)
        key, rebuilt = regex_code.build_entry(entry)
        assert rebuilt == compiled and key == (type(pattern), pattern, flags), str(pattern)[:80]
        if key not in seen_keys:
            seen_keys.add(key)
            entries.append(entry)
    return compiled

with tempfile.TemporaryDirectory() as tmp:
    docs = os.path.join(tmp, "docs.jsonl")
    with open(docs, "w", encoding="utf-8") as fh:
        for i, page in enumerate(PAGES):
            fh.write(json.dumps({"id": f"p{i}", "text": " ".join([page] * 8)}) + "\n")
        for i, page in enumerate(PAGES):  # repeated lines: repetition measures their keys (shingles.line_length)
            fh.write(json.dumps({"id": f"r{i}", "text": "\n".join([page] * 6)}) + "\n")
    _compiler.compile = recording
    try:
        with contextlib.redirect_stdout(sys.stderr):  # the run's summary is not this script's output
            tamis.cli.main(["run", "--input", docs, "--output", os.path.join(tmp, "out"), "--workers", "1", "-q"])
    finally:
        _compiler.compile = real_compile
assert not any(tmp in str(entry[1]) for entry in entries)
print(json.dumps({"name": regex_code.run_store_path().name, "entries": entries}))
"""


def main() -> int:
    for found in child_outputs(CHILD, sys.argv[1:]):
        path = OUT / found["name"]
        write_store(path, found["entries"])
        print(f"{path.relative_to(ROOT)}: {len(found['entries'])} patterns, {path.stat().st_size / 1e3:.0f} kB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
