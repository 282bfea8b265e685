"""SHA-256 from CPython's own small module instead of ``hashlib``.

Every run hashes a few short strings (the config's and the input's fingerprints, the regex
store's keys). ``import hashlib`` loads ``_hashlib``, which links OpenSSL's libcrypto (its load
and relocations: ~4 ms of every start here); CPython's ``_sha256`` (3.11; ``_sha2`` from 3.12)
is a small module of its own and gives the same digest, byte for byte
(``tests/test_sha256.py``). Where neither is built, ``hashlib``'s.
"""

from __future__ import annotations

try:
    from _sha256 import sha256  # CPython 3.11
except ImportError:  # pragma: no cover (another Python)
    try:
        from _sha2 import sha256  # CPython 3.12+
    except ImportError:
        from hashlib import sha256

__all__ = ["sha256"]
