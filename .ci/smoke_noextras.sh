#!/usr/bin/env bash
# The install users get is the install that is tested: `pip install .` WITHOUT extras into a
# second, clean virtual environment, then one run of the default recipe over every reader
# (JSONL, JSONL.gz, JSONL.zst, Parquet, text folder, HTML, WARC, WET). Called by `make test`.
# The extra inputs are texts of the demo corpus, read first so that they are the kept copies.
# The environment is kept between runs (.venv-noextras/) and reinstalled only when the
# package's sources change; pip's cache makes a reinstall cheap. Fails loudly.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PYTHON=${PYTHON:-python3}
VENV=${SMOKE_VENV:-$ROOT/.venv-noextras}
STAMP=$(cat pyproject.toml $(git ls-files -co --exclude-standard tamis | grep -v '__pycache__' | sort) 2>/dev/null | sha256sum | cut -c1-16)

if [[ ! -x "$VENV/bin/tamis" || "$(cat "$VENV/.tamis-stamp" 2>/dev/null)" != "$STAMP" ]]; then
    echo "smoke: installing tamis without extras into $VENV"
    rm -rf "$VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
    "$VENV/bin/python" -m pip install --quiet "$ROOT" 2>&1 | grep -v '^WARNING: Location' || true
    "$VENV/bin/python" -c "import tamis" || { echo "smoke: FAILED: tamis did not install"; exit 1; }
    echo "$STAMP" > "$VENV/.tamis-stamp"
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"  # not the checkout: `import tamis` must find the installed package
"$VENV/bin/python" -c "import tamis, sys; assert '$ROOT/tamis' not in tamis.__file__, tamis.__file__"
"$VENV/bin/tamis" demo demo --docs 400 --seed 7 > /dev/null
"$VENV/bin/python" "$ROOT/.ci/smoke_inputs.py" demo more
set +e
"$VENV/bin/tamis" run -i more demo -o out --workers 2 --quiet > run.log 2>&1
code=$?
set -e
cat run.log
"$VENV/bin/python" "$ROOT/.ci/smoke_check.py" out "$code"
