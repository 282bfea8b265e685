"""tamis.sha256 gives hashlib's SHA-256, byte for byte, and does not import hashlib."""

from __future__ import annotations

import hashlib
import random
import subprocess
import sys

from tamis.sha256 import sha256


def test_same_digest_as_hashlib() -> None:
    rng = random.Random(5)
    for size in [0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 1 << 16]:
        blob = rng.randbytes(size)
        assert sha256(blob).hexdigest() == hashlib.sha256(blob).hexdigest()
        assert sha256(blob).digest() == hashlib.sha256(blob).digest()
        digest = sha256()
        for start in range(0, size, 37):  # updated in pieces, as the input fingerprint is
            digest.update(blob[start : start + 37])
        assert digest.hexdigest() == hashlib.sha256(blob).hexdigest()


def test_no_hashlib_import() -> None:
    code = "import sys, tamis.sha256; print('hashlib' in sys.modules, '_hashlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    if sys.implementation.name == "cpython":
        assert done.stdout.split() == ["False", "False"]
