#!/usr/bin/env bash
# The peers, in a virtual environment of their own (.bench-venv): datatrove needs spaCy and
# pins packages tamis does not want in its own environment.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${BENCH_VENV:-.bench-venv}
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --upgrade pip
fi
# Peers first, tamis second: datatrove 0.10.1's `processing` extra pins trafilatura < 1.12 and
# tamis needs >= 2.0, so one resolver call over both refuses. Installing tamis afterwards upgrades
# trafilatura; no bench uses datatrove's own HTML extractors, so the peers run as published.
"$VENV/bin/python" -m pip install --quiet \
  "datatrove[processing]==0.10.1" "spacy>=3.8" datasketch==2.0.0 rensa==0.5.0 scipy pyinstrument \
  lingua-language-detector pycld2 fastwarc
"$VENV/bin/python" -m pip install --quiet -e .
# fasttext-predict (a tamis dependency) must win over the fasttext wheel spaCy may bring.
"$VENV/bin/python" -m pip install --quiet --force-reinstall --no-deps fasttext-predict
echo "$VENV ready"
