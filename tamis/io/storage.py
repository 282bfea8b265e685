"""One storage interface over local paths and object-store URLs (``s3://``, ``gs://``, ``hf://`` ...).

Local paths keep the plain ``open``/``os`` code (fsspec is never imported for them). A URL
goes through fsspec (``pip install 'tamis[s3]'`` or ``'tamis[gcs]'`` for the backends):

- **listing**: a prefix is read like a folder (every key below it, recursively, in key order,
  which is a local sorted listing's order; zero-byte ``dir/`` keys and hidden names, of objects
  and of folders, skipped);
  globs (``*``, ``?``, ``[..]``, ``**``) are expanded by the store and sorted.
- **reading**: big sequential reads (64 MiB ranged requests: per-request costs dominate smaller
  ones, ``bench/bench_s3.py``), and a read that fails mid-way on a transient error (throttling,
  503, a dropped connection) is re-opened at its offset after an exponential back-off; the
  client's own retries (botocore's adaptive mode for S3) come first.
- **writing**: :func:`upload_file` streams a finished local file to its final key. A store
  publishes an object whole when its upload completes, so the only way to get a truncated
  object is fsspec's buffered file committing on ``close()`` inside an exception; the upload
  is therefore *discarded* (the multipart upload aborted) on any error, never closed. The
  part size is chosen from the file's size so that no object needs more than 9,000 parts
  (S3 allows 10,000).
- **conditional create** (:func:`create_exclusive`): ``If-None-Match: *`` through fsspec's
  ``xb`` mode where the store has it.

Credentials and endpoints come from each store's standard configuration (for S3 the
``AWS_*`` variables, profiles, instance roles). ``AWS_ENDPOINT_URL`` (or ``AWS_ENDPOINT_URL_S3``)
is passed to the client explicitly, with path-style addressing when it is an IP address,
``localhost`` or plain HTTP (virtual-host names cannot work there). Anything else goes in
``--storage-option KEY=VALUE`` (:func:`parse_storage_options`), which lives only in memory:
never in the resolved config, the fingerprint or a log line.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import math
import os
import random
import re
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from tamis.errors import ConfigError, StorageError

_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.\-]*)://")
GLOB_CHARS = "*?["
READ_BLOCK = 64 << 20  # one ranged GET per block; fsspec's default readers ask for far less
MIN_PART = 16 << 20
MAX_PARTS = 9_000  # S3's limit is 10,000: keep a margin
RETRY_ATTEMPTS = 6
THROTTLE_WORDS = ("SlowDown", "Throttl", "TooManyRequests", "RequestLimitExceeded", "503", "429", "ServiceUnavailable", "InternalError", "RequestTimeout")

# --storage-option values for this process (set by the CLI in the driver, by the run plan in
# every worker): kept out of every file tamis writes.
_OPTIONS: dict[str, Any] = {}


def protocol_of(path: str) -> str | None:
    match = _SCHEME.match(path)
    return match.group(1).lower() if match else None


def is_remote(path: str) -> bool:
    """A URL served by fsspec (anything with a scheme other than ``file://``)."""
    protocol = protocol_of(str(path))
    return protocol is not None and protocol != "file"


def local_path(path: str) -> str:
    return path[len("file://") :] if str(path).startswith("file://") else str(path)


def parse_storage_options(items: list[str] | None) -> dict[str, Any]:
    """``KEY=VALUE`` pairs (``--storage-option``). Values that read as JSON (numbers, true,
    false, null, objects) are decoded; dotted keys nest (``client_kwargs.region_name=eu-west-1``)."""
    import orjson

    options: dict[str, Any] = {}
    for item in items or []:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            msg = f"--storage-option {key or item!r}: expected KEY=VALUE"
            raise ConfigError(msg)
        try:
            value: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            value = raw
        target = options
        parts = key.split(".")
        for part in parts[:-1]:
            nested = target.setdefault(part, {})
            if not isinstance(nested, dict):
                msg = f"--storage-option {key}: {part} is already set to a value"
                raise ConfigError(msg)
            target = nested
        target[parts[-1]] = value
    return options


def configure(options: dict[str, Any] | None) -> None:
    """Use these storage options for every URL opened by this process from now on."""
    global _OPTIONS
    options = dict(options or {})
    if options != _OPTIONS:
        _OPTIONS = options
        _FILESYSTEMS.clear()


def reset() -> None:
    """Forget the filesystems built so far (their endpoints came from the environment then)."""
    _FILESYSTEMS.clear()


def current_options() -> dict[str, Any]:
    return dict(_OPTIONS)


# --------------------------------------------------------------------------- filesystems

_FILESYSTEMS: dict[tuple[str, int], Any] = {}


def _endpoint_needs_path_style(endpoint: str) -> bool:
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    if parts.scheme == "http" or host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def s3_options(user: dict[str, Any]) -> dict[str, Any]:
    """s3fs arguments: the endpoint from the environment, path-style where needed, retries
    with back-off on throttling, then the user's options on top."""
    options: dict[str, Any] = {
        # botocore's adaptive mode retries 429, 503, SlowDown and connection errors with
        # exponential back-off and slows the client down when the store throttles.
        "config_kwargs": {"retries": {"max_attempts": 10, "mode": "adaptive"}},
        "default_block_size": MIN_PART,
    }
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    if endpoint and "endpoint_url" not in user and "endpoint_url" not in user.get("client_kwargs", {}):
        options["endpoint_url"] = endpoint
        if _endpoint_needs_path_style(endpoint):
            options["config_kwargs"]["s3"] = {"addressing_style": "path"}
    elif user.get("endpoint_url") and _endpoint_needs_path_style(str(user["endpoint_url"])):
        options["config_kwargs"]["s3"] = {"addressing_style": "path"}
    return _merge(options, user)


def filesystem(url: str) -> Any:
    """The fsspec filesystem serving ``url``, configured once per process and protocol."""
    protocol = protocol_of(url) or "file"
    key = (protocol, os.getpid())
    fs = _FILESYSTEMS.get(key)
    if fs is not None:
        return fs
    try:
        import fsspec
    except ImportError as exc:  # pragma: no cover - fsspec comes with the extras
        msg = f"{url}: reading or writing {protocol}:// needs fsspec: pip install 'tamis[s3]' (or 'tamis[gcs]')"
        raise ConfigError(msg) from exc
    options = s3_options(_OPTIONS) if protocol in ("s3", "s3a") else dict(_OPTIONS)
    try:
        fs = fsspec.filesystem(protocol, **options)
    except ImportError as exc:
        extra = {"s3": "s3", "s3a": "s3", "gs": "gcs", "gcs": "gcs"}.get(protocol)
        hint = f"pip install 'tamis[{extra}]'" if extra else f"install the fsspec backend for {protocol}://"
        msg = f"{url}: {protocol}:// needs a package that is not installed ({exc}): {hint}"
        raise ConfigError(msg) from exc
    except ValueError as exc:
        msg = f"{url}: no storage backend for {protocol}:// ({exc})"
        raise ConfigError(msg) from exc
    except TypeError as exc:
        msg = f"--storage-option: {protocol}:// does not accept these options ({exc})"
        raise ConfigError(msg) from exc
    _FILESYSTEMS[key] = fs
    return fs


def with_protocol(url: str, key: str) -> str:
    """fsspec answers with ``bucket/key``; give it back its scheme."""
    protocol = protocol_of(url)
    return key if protocol is None or _SCHEME.match(key) else f"{protocol}://{key}"


def strip_protocol(url: str) -> str:
    return str(filesystem(url)._strip_protocol(url))


def join(base: str, *parts: str) -> str:
    if not is_remote(base):
        return os.path.join(base, *parts)
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts)])


# --------------------------------------------------------------------------- listing


def is_hidden(key: str) -> bool:
    return key.rstrip("/").rsplit("/", 1)[-1].startswith(".")


def is_hidden_below(relative: str) -> bool:
    """Whether a key below a listed prefix lies in a hidden name: its own or a folder's
    (``c/.dot/x.jsonl``), as a local folder's walk leaves hidden folders out."""
    return any(part.startswith(".") for part in relative.strip("/").split("/"))


def list_files(url: str, *, fresh: bool = False) -> list[tuple[str, int]]:
    """Every object below ``url`` (a prefix read like a folder), recursively, in key order,
    with sizes; zero-byte folder keys (``dir/``) are skipped. ``fresh`` drops the client's
    cached listings first (another process may have written since)."""
    fs = filesystem(url)
    root = fs._strip_protocol(url).rstrip("/")
    if fresh:
        fs.invalidate_cache(root)
    try:
        found = fs.find(root, withdirs=False, detail=True)
    except FileNotFoundError:
        return []
    out = []
    for key, info in found.items():
        if key.endswith("/") or info.get("type") == "directory":
            continue
        out.append((with_protocol(url, key), int(info.get("size") or 0)))
    return sorted(out)


def _has_glob(path: str) -> bool:
    return any(ch in path for ch in GLOB_CHARS)


def expand_remote(item: str) -> list[str]:
    """The object URLs an ``--input`` URL names: itself, everything below it, or its glob
    matches (and everything below a matched prefix), sorted, hidden names skipped."""
    return [url for url, _ in expand_remote_with_roots(item)]


def expand_remote_with_roots(item: str) -> list[tuple[str, str]]:
    """(url, root) pairs, as :func:`tamis.io.readers.expand_inputs_with_roots` gives for local
    paths: the root is the prefix given, the prefix a glob matched, or an object's parent."""
    fs = filesystem(item)
    if _has_glob(item):
        try:
            matches = sorted(fs.glob(fs._strip_protocol(item)))
        except Exception as exc:
            raise _input_error(item, exc) from exc
        if not matches:
            msg = f"--input {item!r} matches no object"
            raise ConfigError(msg)
        pairs: list[tuple[str, str]] = []
        for match in matches:
            url = with_protocol(item, match)
            if fs.isdir(match):
                pairs.extend((found, url.rstrip("/")) for found in expand_remote(url))
            else:
                pairs.append((url, url.rsplit("/", 1)[0]))
        return [(url, root) for url, root in pairs if not url.endswith("/") and not is_hidden(url)]
    try:
        if not item.endswith("/") and fs.isfile(fs._strip_protocol(item)):
            return [(item, item.rsplit("/", 1)[0])]
        listed = list_files(item)
    except Exception as exc:
        raise _input_error(item, exc) from exc
    root = item.rstrip("/")
    files = [(url, root) for url, _ in listed if not is_hidden_below(url[len(root) :])]
    if not files:
        msg = f"input not found: {item} (no object at or below it)"
        raise ConfigError(msg)
    return files


def explain(exc: BaseException) -> str:
    """One line for a store that cannot be used: no credentials, access denied, unreachable."""
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError") or "credentials" in str(exc).lower():
        return (
            f"no usable credentials ({name}): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role, "
            "or --storage-option anon=true for a public bucket"
        )
    if isinstance(exc, PermissionError):
        return f"access denied ({exc}); check the credentials (AWS_* variables, profile, --storage-option)"
    if name in ("EndpointConnectionError", "ConnectTimeoutError", "ClientConnectorError") or isinstance(exc, ConnectionError):
        return f"cannot reach the store ({name}: {exc}); check AWS_ENDPOINT_URL and the network"
    return f"{name}: {exc}"


def _input_error(item: str, exc: BaseException) -> ConfigError:
    return ConfigError(f"--input {describe(item)}: cannot list it: {explain(exc)}")


def size(path: str) -> int:
    if not is_remote(path):
        return os.path.getsize(local_path(path))
    return int(filesystem(path).size(path))


def identity(url: str) -> tuple[str, int | None, str | None]:
    """(url, size, version) of an object, for the input fingerprint: the ETag where the store
    gives one, else its modification time (from the cached listing when there is one)."""
    try:
        info = filesystem(url).info(url)
    except OSError:
        return (url, None, None)
    version = info.get("ETag") or info.get("etag") or info.get("LastModified") or info.get("mtime") or info.get("updated")
    return (url, int(info.get("size") or 0), None if version is None else str(version))


def exists(path: str) -> bool:
    if not is_remote(path):
        return os.path.exists(local_path(path))
    fs = filesystem(path)
    fs.invalidate_cache(fs._parent(fs._strip_protocol(path)))
    return bool(fs.exists(path))


# --------------------------------------------------------------------------- reading


def is_transient(exc: BaseException) -> bool:
    """Worth another try after a pause: throttling, a 5xx, a dropped or timed-out connection."""
    if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError | NotADirectoryError):
        return False
    if isinstance(exc, TimeoutError | ConnectionError):
        return True
    text = f"{type(exc).__name__} {exc}"
    if any(word in text for word in THROTTLE_WORDS):
        return True
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"ClientError", "ClientPayloadError", "ServerDisconnectedError", "ClientOSError", "IncompleteRead", "ResponseStreamingError"})


def backoff(attempt: int) -> float:
    return min(10.0, 0.2 * 2**attempt) * (0.5 + random.random() / 2)


def retrying(fn: Callable[[], Any], what: str, attempts: int = RETRY_ATTEMPTS) -> Any:
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as exc:
            if attempt == attempts - 1 or not is_transient(exc):
                raise
            time.sleep(backoff(attempt))
    raise AssertionError(what)  # pragma: no cover - the loop returns or raises


class RetryingReader(io.RawIOBase):
    """A seekable binary reader of one object that reopens at its offset on transient errors.

    Underneath, fsspec's file with a 64 MiB block and the ``readahead`` cache: each block is
    one ranged GET. (fsspec's ``background`` cache, which fetches the next block in a thread,
    measured slower here: its thread competes with the parser for the interpreter.)
    """

    def __init__(self, url: str, block_size: int = READ_BLOCK) -> None:
        super().__init__()
        self._url = url
        self._block_size = block_size
        self._fs = filesystem(url)
        self._fh: Any = None
        self._pos = 0
        self._open()  # a missing object fails here, as open() would
        self.name = url

    def _open(self) -> None:
        def attempt() -> Any:
            return self._fs.open(self._url, "rb", block_size=self._block_size, cache_type="readahead")

        self._fh = retrying(attempt, self._url)
        if self._pos:
            self._fh.seek(self._pos)

    def _retry(self, fn: Callable[[], Any]) -> Any:
        for attempt in range(RETRY_ATTEMPTS):
            try:
                if self._fh is None:
                    self._open()
                return fn()
            except Exception as exc:
                if attempt == RETRY_ATTEMPTS - 1 or not is_transient(exc):
                    raise
                self._drop()
                time.sleep(backoff(attempt))
        raise AssertionError(self._url)  # pragma: no cover

    def _drop(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            with contextlib.suppress(Exception):  # the connection is already broken
                fh.close()

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")

        def read() -> int:
            data = self._fh.read(len(view))
            view[: len(data)] = data
            return len(data)

        n = self._retry(read)
        self._pos += n
        return n

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            return self.readall()
        data = self._retry(lambda: self._fh.read(n))
        self._pos += len(data)
        return data

    def readall(self) -> bytes:
        chunks = []
        while True:
            chunk = self.read(READ_BLOCK)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)

    def read1(self, n: int = -1) -> bytes:
        return self.read(READ_BLOCK if n is None or n < 0 else n)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            offset += int(self._fs.size(self._url))
        self._pos = max(0, offset)
        if self._fh is not None:
            self._fh.seek(self._pos)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        self._drop()
        super().close()


def open_input(path: str) -> Any:
    """A binary, seekable reader: the plain file for a local path, a retrying big-block
    reader for a URL."""
    if not is_remote(path):
        return open(local_path(path), "rb")
    try:
        return RetryingReader(path)
    except FileNotFoundError:
        raise
    except PermissionError:
        raise
    except Exception as exc:
        raise OSError(f"{path}: {type(exc).__name__}: {exc}") from exc


# --------------------------------------------------------------------------- writing


def part_size(total: int) -> int:
    """Multipart part size for an object of ``total`` bytes: at least 16 MiB, and large
    enough that the object needs at most 9,000 parts (S3 refuses more than 10,000)."""
    needed = math.ceil(total / MAX_PARTS)
    return max(MIN_PART, ((needed + (1 << 20) - 1) >> 20) << 20)


def upload_file(local: str, url: str, *, on_block: Callable[[bytes], None] | None = None) -> None:
    """Stream the local file ``local`` to the object ``url``, whole or not at all.

    fsspec's buffered file commits what it has on ``close()``, and its ``__exit__`` calls
    ``close()`` even when the block raised: a ``with`` here would publish a truncated object
    after an interrupted copy. The file is closed only after the last byte is written;
    on any error (KeyboardInterrupt, SIGTERM turned into an exception, a network failure) its
    upload is discarded, which aborts the multipart upload on S3.
    """
    total = os.path.getsize(local)
    fs = filesystem(url)
    block = part_size(total)
    for attempt in range(RETRY_ATTEMPTS):
        try:
            _upload_once(fs, local, url, block, on_block)
            return
        except Exception as exc:
            if attempt == RETRY_ATTEMPTS - 1 or not is_transient(exc):
                raise StorageError(f"cannot upload {url}: {type(exc).__name__}: {exc}") from exc
            time.sleep(backoff(attempt))


def _upload_once(fs: Any, local: str, url: str, block: int, on_block: Callable[[bytes], None] | None) -> None:
    out = fs.open(url, "wb", block_size=block)
    try:
        with open(local, "rb") as src:
            while True:
                chunk = src.read(block)
                if not chunk:
                    break
                if on_block is not None:
                    on_block(chunk)
                out.write(chunk)
    except BaseException:
        discard(out)
        raise
    out.close()


def discard(fh: Any) -> None:
    """Throw away an unfinished upload (abort its multipart upload), so that nothing is
    published and a later ``close()`` (the garbage collector's) has nothing to commit."""
    with contextlib.suppress(Exception):  # best effort on the way out; never publish instead
        fh.discard()
    # fsspec's __del__ closes a file that is not closed: mark it closed without committing.
    with contextlib.suppress(Exception):
        fh.closed = True


def write_bytes(url: str, data: bytes) -> None:
    """One small object, whole or not at all (a single PUT)."""
    if not is_remote(url):
        from pathlib import Path

        from tamis.io.atomic import write_bytes_atomic

        write_bytes_atomic(Path(local_path(url)), data)
        return
    fs = filesystem(url)

    def put() -> None:
        fs.pipe_file(fs._strip_protocol(url), data)

    retrying(put, url)


def create_exclusive(url: str, data: bytes) -> bool:
    """Create ``url`` with ``data`` only if nothing is there yet (``If-None-Match: *`` on
    S3); False when it already exists. A store without conditional writes gets a fresh
    existence check first, which leaves a small race (documented)."""
    fs = filesystem(url)
    path = fs._strip_protocol(url)

    def put() -> bool:
        try:
            fh = fs.open(path, "xb")
        except FileExistsError:
            return False
        except (NotImplementedError, ValueError, TypeError):
            fs.invalidate_cache(fs._parent(path))
            if fs.exists(path):
                return False
            fs.pipe_file(path, data)
            return True
        try:
            fh.write(data)
        except BaseException:
            discard(fh)
            raise
        try:
            fh.close()
        except FileExistsError:
            return False
        except OSError as exc:
            if "PreconditionFailed" in str(exc) or "412" in str(exc):
                return False
            raise
        return True

    return bool(retrying(put, url))


def read_bytes(url: str) -> bytes:
    if not is_remote(url):
        with open(local_path(url), "rb") as fh:
            return fh.read()
    fs = filesystem(url)
    return bytes(retrying(lambda: fs.cat_file(fs._strip_protocol(url)), url))


def read_head(url: str, n: int) -> bytes:
    """The first ``n`` bytes (fewer if the file is shorter): one ranged GET for an object, never a
    whole read block (64 MiB) to look at a file's first bytes."""
    if not is_remote(url):
        with open(local_path(url), "rb") as fh:
            return fh.read(n)
    fs = filesystem(url)
    return bytes(retrying(lambda: fs.cat_file(fs._strip_protocol(url), start=0, end=n), url))


def download_file(url: str, local: str) -> None:
    """Copy an object to a local file, atomically (a temporary name renamed when whole)."""
    from pathlib import Path

    from tamis.io.atomic import atomic_open

    fs = filesystem(url)
    target = Path(local)

    def get() -> None:
        with atomic_open(target, "wb") as out, fs.open(url, "rb", block_size=READ_BLOCK, cache_type="none") as src:
            while True:
                chunk = src.read(READ_BLOCK)
                if not chunk:
                    break
                out.write(chunk)

    retrying(get, url)


def delete(urls: list[str]) -> None:
    if not urls:
        return
    fs = filesystem(urls[0])
    paths = [fs._strip_protocol(u) for u in urls]
    for start in range(0, len(paths), 1000):
        batch = paths[start : start + 1000]
        retrying(lambda batch=batch: fs.rm(batch), urls[0])


def abort_multipart_uploads(url: str) -> int:
    """Abort the unfinished multipart uploads below ``url`` (killed writers leave them, and
    the store bills their parts); returns how many. Only S3 has them."""
    if protocol_of(url) not in ("s3", "s3a"):
        return 0
    fs = filesystem(url)
    bucket, _, prefix = fs._strip_protocol(url).partition("/")
    prefix = prefix.rstrip("/") + "/" if prefix else ""
    from fsspec.asyn import sync

    async def run() -> int:
        s3 = await fs.get_s3(bucket)
        count = 0
        kwargs: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        while True:
            page = await s3.list_multipart_uploads(**kwargs)
            for upload in page.get("Uploads", []):
                await s3.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                count += 1
            if not page.get("IsTruncated"):
                return count
            kwargs["KeyMarker"] = page.get("NextKeyMarker")
            kwargs["UploadIdMarker"] = page.get("NextUploadIdMarker")

    try:
        return int(sync(fs.loop, run))
    except Exception:  # noqa: BLE001 - a store without the call (or the right) keeps its uploads
        return 0


def describe(url: str) -> str:
    """``url`` without any user-info part (never print a credential someone put in a URL)."""
    parts = urlsplit(url)
    if parts.username or parts.password:
        host = parts.hostname or ""
        return parts._replace(netloc=host + (f":{parts.port}" if parts.port else "")).geturl()
    return url


def iter_chunks(path: str, block: int = READ_BLOCK) -> Iterator[bytes]:
    with open_input(path) as fh:
        while True:
            chunk = fh.read(block)
            if not chunk:
                return
            yield chunk
