#!/usr/bin/env bash
# Run a bench for an older commit and for this checkout, alternately, in one session, so that
# the two figures share the machine's load:
#
#   bench/compare_commits.sh OLD_COMMIT "bench_exact.py --size-mb 256 --workers 1 --skip-codecs" [rounds]
#
# The old commit is checked out in a temporary worktree that uses this checkout's virtual
# environment and its compiled extensions (so the C sources must be the same in both: the
# script refuses otherwise) and this checkout's bench/data (corpora are built once).
set -euo pipefail
old=$1; bench=$2; rounds=${3:-2}
here=$(cd "$(dirname "$0")/.." && pwd)
python=$here/.venv/bin/python
if ! git -C "$here" diff --quiet "$old" HEAD -- tamis/_native; then
    echo "tamis/_native differs between $old and HEAD: build a venv for $old instead" >&2; exit 2
fi
tmp=$(mktemp -d)
trap 'git -C "$here" worktree remove --force "$tmp/old" >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
git -C "$here" worktree add --detach "$tmp/old" "$old" >/dev/null 2>&1
cp "$here"/tamis/_native/*.so "$tmp/old/tamis/_native/"
mkdir -p "$here/bench/data"; rm -rf "$tmp/old/bench/data"; ln -s "$here/bench/data" "$tmp/old/bench/data"
for round in $(seq "$rounds"); do
    for side in old new; do
        root=$here; [ "$side" = old ] && root=$tmp/old
        echo "=== round $round: $side ($(git -C "$root" rev-parse --short HEAD))"
        # shellcheck disable=SC2086 # the bench's arguments are split on purpose
        (cd "$root" && PYTHONPATH="$root" "$python" -c 'import sys, tamis; sys.stderr.write(f"tamis from {tamis.__file__}\n")' && PYTHONPATH="$root" "$python" bench/$bench)
    done
done
