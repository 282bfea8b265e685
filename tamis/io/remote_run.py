"""Run directories on object stores (``--output s3://bucket/runs/r1``): a commit protocol.

Object stores have no rename, so the local protocol (write a temporary name, rename it when
whole) cannot carry over. Instead:

- Every process works in a **local staging copy** of the run directory (same layout, under
  ``$TAMIS_STAGING_DIR`` or the system temporary folder, named by a hash of the URL), with the
  local code unchanged: shards, spills, dedup scratch and markers are written there as always.
- When a task or a dedup pass finishes, the files it wrote are **uploaded under their final
  names** (each whole or not at all: see :func:`tamis.io.storage.upload_file`), then its
  **marker is created last**, with ``If-None-Match: *``, listing every file it committed with
  its size and xxh3-128 checksum. A file no marker lists does not exist as far as tamis is
  concerned. The names are those of the local layout; two attempts of one task (a retry
  beside a worker that was thought dead) write the same bytes under the same names, because
  a task's output depends on its input only, and the first marker created wins.
- What a task reads from earlier work (the previous stage's scratch, its own spill) is
  downloaded into its staging copy from the files the markers list (**sync down**), so
  workers on a cluster without a shared filesystem see each other's work through the store,
  and a file already staged (same size) is not fetched again.
- The driver reads **fresh listings** (s3fs's cached listings dropped) for every decision:
  whether the output is empty, which markers exist after a round, what to clean.
- ``--resume`` and the end of every finished run **clean up**: objects under the run that
  no marker lists (a killed task's shards, spills of a failed attempt) are deleted, and
  unfinished multipart uploads below the run are aborted (a crash leaves them, billed).
- The run's own files (``config.resolved.yaml``, ``errors.jsonl``, ``stats.json`` last,
  then ``report.html``) are single objects written by the driver.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import os
import shutil
import tempfile
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson

from tamis.io import storage
from tamis.io.atomic import TMP_MARK, write_bytes_atomic

MARKERS = "_markers"
RUN_FILES = ("config.resolved.yaml", "errors.jsonl", "README.md", "stats.json", "report.html")
STAGING_ENV = "TAMIS_STAGING_DIR"
UPLOAD_THREADS = 8


def staging_dir(url: str) -> Path:
    """Where this machine stages the run ``url``: each machine has its own (nothing is shared
    but the store), chosen by its own ``$TAMIS_STAGING_DIR`` or temporary folder."""
    return _staging_dir(url.rstrip("/"), os.environ.get(STAGING_ENV) or tempfile.gettempdir())


@functools.lru_cache(maxsize=64)
def _staging_dir(url: str, base: str) -> Path:
    import xxhash

    return Path(base) / "tamis-staging" / xxhash.xxh3_64_hexdigest(url.encode())


def _is_scratch_name(name: str) -> bool:
    return TMP_MARK in name or name.endswith(".partial")


# --------------------------------------------------------------------------- snapshots


Snapshot = dict[str, tuple[int, int]]


def snapshot(root: Path, directory: Path) -> Snapshot:
    """Finished files under ``directory`` (relative to ``root``) with (size, mtime)."""
    found: Snapshot = {}
    if not directory.exists():
        return found
    for base, _, names in os.walk(directory):
        for name in names:
            if _is_scratch_name(name):
                continue
            path = os.path.join(base, name)
            with contextlib.suppress(FileNotFoundError):
                st = os.stat(path)
                found[os.path.relpath(path, root).replace(os.sep, "/")] = (st.st_size, st.st_mtime_ns)
    return found


def changed_since(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(rel for rel, state in after.items() if before.get(rel) != state)


# --------------------------------------------------------------------------- markers


def marker_files(marker: dict[str, Any]) -> dict[str, dict[str, Any]]:
    files = marker.get("files")
    return files if isinstance(files, dict) else {}


# Markers are never rewritten once created, so each is parsed once per process.
_PARSED: dict[tuple[str, int], dict[str, dict[str, Any]]] = {}


def listed_files(root: Path) -> dict[str, dict[str, Any]]:
    """Every file a (staged) marker lists: the committed content of the run."""
    listed: dict[str, dict[str, Any]] = {}
    for path in sorted(glob.glob(str(root / MARKERS / "*.json"))):
        try:
            key = (path, os.stat(path).st_ino)
            files = _PARSED.get(key)
            if files is None:
                files = _PARSED[key] = marker_files(orjson.loads(Path(path).read_bytes()))
        except (OSError, orjson.JSONDecodeError):
            continue
        listed.update(files)
    return listed


DRIVER_MARK = ".driver-session"  # local only: "this staging folder is the driver's, and current"


def mark_driver(root: Path, session: str) -> None:
    write_bytes_atomic(root / MARKERS / DRIVER_MARK, session.encode())


def staged_by_driver(root: Path, session: str | None) -> bool:
    """Whether this machine's staging folder is the driver's for this very run: the driver
    stages every marker before it submits work that needs it, so no listing is needed."""
    if not session:
        return False
    try:
        return (root / MARKERS / DRIVER_MARK).read_bytes() == session.encode()
    except OSError:
        return False


def pull_markers(remote: str, root: Path, names: list[str] | None = None) -> None:
    """Stage the store's markers (``names`` only, or every one, from a fresh listing)."""
    if names is None:
        urls = [url for url, _ in storage.list_files(storage.join(remote, MARKERS), fresh=True) if url.endswith(".json")]
    else:
        urls = [storage.join(remote, MARKERS, f"{name}.json") for name in names]
    for url in urls:
        local = root / MARKERS / url.rsplit("/", 1)[1]
        if local.exists():
            continue  # markers are never rewritten once created
        try:
            data = storage.read_bytes(url)
        except FileNotFoundError:
            continue
        write_bytes_atomic(local, data)


def commit(remote: str, root: Path, name: str, result: dict[str, Any], files: list[str], *, exclusive: bool = True) -> dict[str, Any]:
    """Upload ``files`` (relative to ``root``), then create the marker ``name`` listing them.

    Returns the marker as committed: an earlier attempt's if it was created first."""
    import xxhash

    def upload(rel: str) -> dict[str, Any]:
        local = root / rel
        digest = xxhash.xxh3_128()
        storage.upload_file(str(local), storage.join(remote, rel), on_block=digest.update)
        return {"size": local.stat().st_size, "xxh3_128": digest.hexdigest()}

    names = sorted(set(files))
    if len(names) > 1:  # small files are a request each: several in flight
        with ThreadPoolExecutor(UPLOAD_THREADS) as pool:
            listing = dict(zip(names, pool.map(upload, names), strict=True))
    else:
        listing = {rel: upload(rel) for rel in names}
    marker = {**result, "files": listing}
    data = orjson.dumps(marker)
    url = storage.join(remote, MARKERS, f"{name}.json")
    if exclusive:
        if not storage.create_exclusive(url, data):
            data = storage.read_bytes(url)  # another attempt of this work committed first
            marker = orjson.loads(data)
    else:
        storage.write_bytes(url, data)
    write_bytes_atomic(root / MARKERS / f"{name}.json", data)
    return marker


def sync_down(remote: str, root: Path, wanted: Callable[[str], bool], *, list_markers: bool = True) -> int:
    """Stage every committed file ``wanted`` accepts that is not staged yet; returns how many
    were downloaded. Only files a marker lists are ever fetched. ``list_markers``: list the
    store's markers first (not needed where the driver has staged them already)."""
    if list_markers:
        pull_markers(remote, root)
    fetched = 0
    for rel, info in listed_files(root).items():
        if not wanted(rel):
            continue
        local = root / rel
        try:
            if local.stat().st_size == info.get("size"):
                continue
        except FileNotFoundError:
            pass
        storage.download_file(storage.join(remote, rel), str(local))
        fetched += 1
    return fetched


# --------------------------------------------------------------------------- the run directory


def remote_entries(remote: str) -> list[tuple[str, int]]:
    """(path relative to the run, size) of every object below the run, from a fresh listing."""
    base = remote.rstrip("/") + "/"
    return [(url[len(base) :], size) for url, size in storage.list_files(remote, fresh=True) if url.startswith(base)]


def clean_remote(remote: str, root: Path) -> int:
    """Delete every object of the run that no marker lists (and is not one of the run's own
    files), and abort unfinished uploads below it. The staged markers must be current."""
    keep = set(listed_files(root)) | set(RUN_FILES)
    doomed = []
    for rel, _ in remote_entries(remote):
        if rel.startswith(f"{MARKERS}/") and rel.endswith(".json") and TMP_MARK not in rel:
            continue
        if rel not in keep:
            doomed.append(storage.join(remote, rel))
    storage.delete(doomed)
    storage.abort_multipart_uploads(remote)
    return len(doomed)


def prepare(
    remote: str, resolved_yaml: bytes, check_previous: Callable[[dict[str, Any]], None], *, resume: bool, overwrite: bool, known_entries: set[str]
) -> Path:
    """Check the store's run directory as the local code checks a folder, and stage it.

    Returns the staging folder (empty but for the markers and the resolved config)."""
    import yaml

    from tamis.errors import ConfigError, StorageError

    shown = storage.describe(remote)
    if remote.rstrip("/").count("/") < 3:
        msg = f"output {shown}: give a prefix inside the bucket (s3://bucket/runs/r1), not a bucket's root"
        raise ConfigError(msg)
    try:
        entries = remote_entries(remote)
    except ConfigError:
        raise
    except Exception as exc:
        msg = f"output {shown}: cannot list it: {storage.explain(exc)}"
        raise StorageError(msg) from exc
    root = staging_dir(remote)
    shutil.rmtree(root, ignore_errors=True)  # a cache: the store is the truth
    root.mkdir(parents=True, exist_ok=True)
    if entries:
        if resume:
            names = {rel for rel, _ in entries}
            if "config.resolved.yaml" not in names:
                msg = f"--resume: {shown} is not a tamis run directory (no config.resolved.yaml)"
                raise ConfigError(msg)
            previous = yaml.safe_load(storage.read_bytes(storage.join(remote, "config.resolved.yaml"))) or {}
            check_previous(previous)
            pull_markers(remote, root)
            storage.delete([storage.join(remote, "stats.json")] if "stats.json" in names else [])
            clean_remote(remote, root)
            write_bytes_atomic(root / "config.resolved.yaml", resolved_yaml)
            return root
        if not overwrite:
            msg = f"output {shown} is not empty: use --resume to continue that run or --overwrite to replace it"
            raise ConfigError(msg)
        unknown = sorted({rel.split("/", 1)[0] for rel, _ in entries} - known_entries)
        if unknown:
            msg = f"--overwrite: {shown} holds objects tamis did not write ({', '.join(unknown[:5])}); refusing to delete them"
            raise ConfigError(msg)
        storage.delete([storage.join(remote, rel) for rel, _ in entries])
    storage.abort_multipart_uploads(remote)
    storage.write_bytes(storage.join(remote, "config.resolved.yaml"), resolved_yaml)
    write_bytes_atomic(root / "config.resolved.yaml", resolved_yaml)
    return root


def publish(remote: str, root: Path, rel: str) -> None:
    """Upload one of the run's own files (written by the driver) if it exists."""
    local = root / rel
    if local.exists():
        storage.upload_file(str(local), storage.join(remote, rel))


def stage_outputs(remote: str, root: Path) -> None:
    """Make the staged ``output/`` and ``rejects/`` exactly the committed shards (the report
    reads them): fetch what other machines wrote, drop what no marker lists."""
    sync_down(remote, root, lambda rel: rel.startswith(("output/", "rejects/", "_notes/")))  # _notes: tamis.io.shardnotes
    listed = listed_files(root)
    for folder in ("output", "rejects"):
        for rel in snapshot(root, root / folder):
            if rel not in listed:
                (root / rel).unlink(missing_ok=True)


def finish(remote: str, root: Path) -> None:
    """After a finished run: drop what no marker lists, then the staging copy."""
    pull_markers(remote, root)
    clean_remote(remote, root)
    discard_staging(root)


def discard_staging(root: Path) -> None:
    if not os.environ.get("TAMIS_KEEP_STAGING"):
        shutil.rmtree(root, ignore_errors=True)


def write_report(remote: str, against: str | None = None) -> str:
    """``tamis report s3://...``: stage the finished run's committed files, write the report,
    upload it; returns its URL."""
    from tamis.errors import ConfigError
    from tamis.report import write_report as write_local_report  # type: ignore[attr-defined]

    root = staging_dir(remote)
    shutil.rmtree(root, ignore_errors=True)
    try:
        for name in ("stats.json", "config.resolved.yaml"):
            try:
                data = storage.read_bytes(storage.join(remote, name))
            except FileNotFoundError:
                if name == "stats.json":
                    msg = f"{storage.describe(remote)} has no stats.json: is it a finished tamis run?"
                    raise ConfigError(msg) from None
                continue
            write_bytes_atomic(root / name, data)
        stage_outputs(remote, root)
        kwargs: dict[str, Any] = {"against": Path(against)} if against else {}
        write_local_report(root, **kwargs)
        publish(remote, root, "report.html")
    finally:
        discard_staging(root)
    return storage.join(remote, "report.html")
