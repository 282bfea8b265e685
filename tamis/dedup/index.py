"""Per-document sketch files, and the saved LSH index for incremental dedup (``--against``).

Each source of documents (one input task, or a saved index) is four files with one stem:

* ``<stem>.keys``  n x bands uint64 band keys (row = document, input order)
* ``<stem>.counts`` n uint32 shingle counts (0 = no words: never a candidate)
* ``<stem>.fps``    the shingle fingerprints (uint32, shingle order), document after document
* ``<stem>.fpo``    optional: int64 position in ``.fps`` of each document's first fingerprint,
  where the file also holds documents that are not in this source (the fused dedup stage links
  the fingerprints of every document it signed and names those exact dedup kept, instead of
  copying them); without it documents follow each other (positions: running sum of counts)
* ``<stem>.ids`` / ``<stem>.off``  the document ids (:mod:`tamis.io.idstore`)

A saved index is a folder holding ``index.*`` files of that layout plus ``meta.json`` (the
parameters that must match for its band keys to be comparable). Only the documents a run kept
go in; saving over an index that the run read with ``against`` keeps its documents too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from tamis.errors import ConfigError
from tamis.io.atomic import temp_name

if TYPE_CHECKING:
    import numpy as np

INDEX_STEM = "index"
SAVE_CHUNK = 1 << 16  # documents per read when saving an index
META_FIELDS = ("num_perm", "bands", "rows", "ngram", "char_ngrams", "seed")


def fingerprint_starts(stem: str | Path, counts: np.ndarray) -> np.ndarray:
    """Where each document's fingerprints start in ``<stem>.fps`` (in fingerprints, int64):
    ``<stem>.fpo`` where the file has one, else the running sum of ``counts``."""
    import numpy as np
    fpo = Path(str(stem) + ".fpo")
    if fpo.exists():
        starts = np.fromfile(fpo, dtype="<i8")
        if len(starts) != len(counts):
            msg = f"{fpo}: {len(starts)} positions for {len(counts)} documents"
            raise ValueError(msg)
        return starts
    starts = np.zeros(len(counts), dtype=np.int64)
    np.cumsum(counts[:-1], dtype=np.int64, out=starts[1:])
    return starts


def span_indices(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices ``starts[i] .. starts[i] + lengths[i] - 1`` of every span, concatenated."""
    import numpy as np
    lengths = lengths.astype(np.int64)
    total = int(lengths.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    before = np.zeros(len(lengths), dtype=np.int64)
    np.cumsum(lengths[:-1], out=before[1:])
    return np.repeat(starts.astype(np.int64) - before, lengths) + np.arange(total, dtype=np.int64)


@dataclass(frozen=True)
class Source:
    """One task's (or the index's) sketch files and where its documents start globally."""

    stem: str
    start: int
    size: int

    def path(self, suffix: str) -> Path:
        return Path(self.stem + suffix)


def task_stem(scratch: Path, task: int) -> str:
    return str(scratch / f"sketch-{task:05d}")


def index_stem(folder: str | Path) -> str:
    return str(Path(folder) / INDEX_STEM)


def read_meta(folder: str | Path) -> dict:
    path = Path(folder) / "meta.json"
    try:
        return orjson.loads(path.read_bytes())
    except FileNotFoundError:
        msg = f"minhash: against={folder!s} is not a saved minhash index (no meta.json); create one with save_index / --save-index"
        raise ConfigError(msg) from None
    except orjson.JSONDecodeError as exc:
        msg = f"minhash: {path} is not valid JSON ({exc})"
        raise ConfigError(msg) from None


def check_meta(folder: str | Path, expected: dict) -> int:
    """Raise a ConfigError unless the index was built with ``expected`` parameters; returns its size."""
    meta = read_meta(folder)
    wrong = [f"{k}: index {meta.get(k)!r}, run {expected[k]!r}" for k in META_FIELDS if meta.get(k) != expected[k]]
    if wrong:
        msg = f"minhash: the index at {folder} was built with other parameters ({'; '.join(wrong)})"
        raise ConfigError(msg)
    return int(meta["documents"])


class FingerprintReader:
    """Reads the fingerprint sets of chosen documents with ``pread``.

    Not a memory map: touching a mapped file makes the kernel map the pages around each touched
    one too (fault-around), and they count as resident memory of the process; reading scattered
    documents through a map showed the whole files as resident. ``pread`` costs a system call
    per document and keeps memory at what is asked for."""

    def __init__(self, sources: list[Source]) -> None:
        import numpy as np
        self._sources = sources
        self._starts = np.asarray([s.start for s in sources], dtype=np.int64)
        self._offsets: dict[int, np.ndarray] = {}
        self._fds: dict[int, int] = {}

    def _source_spans(self, k: int) -> np.ndarray:
        """(start, count) of every document of source ``k``, as an n x 2 int64 array."""
        import numpy as np
        spans = self._offsets.get(k)
        if spans is None:
            counts = np.fromfile(self._sources[k].path(".counts"), dtype="<u4").astype(np.int64)
            spans = self._offsets[k] = np.stack([fingerprint_starts(self._sources[k].stem, counts), counts], axis=1)
            self._fds[k] = os.open(self._sources[k].path(".fps"), os.O_RDONLY)
        return spans

    def _ranges(self, docs: np.ndarray) -> Iterator[tuple[int, np.ndarray, np.ndarray, np.ndarray]]:
        """Per source: positions in ``docs``, and the [lo, hi) fingerprint range of each."""
        import numpy as np
        which = np.searchsorted(self._starts, docs, side="right") - 1
        for k in np.flatnonzero(np.bincount(which)).tolist():
            sel = np.flatnonzero(which == k)
            spans = self._source_spans(k)
            local = docs[sel].astype(np.int64) - self._sources[k].start
            lo = spans[local, 0]
            yield k, sel, lo, lo + spans[local, 1]

    def sizes(self, docs: np.ndarray) -> np.ndarray:
        """Number of distinct shingles of each of ``docs`` (global indices)."""
        import numpy as np
        out = np.zeros(len(docs), dtype=np.int64)
        for _, sel, lo, hi in self._ranges(docs):
            out[sel] = hi - lo
        return out

    def gather(self, docs: np.ndarray, into: bytearray | None = None) -> tuple[bytearray | memoryview, np.ndarray]:
        """Fingerprints of ``docs`` (global indices) concatenated in that order, and their int64
        offsets. With ``into`` (large enough), they are read into its start and a view of
        that part is returned: a buffer used again costs no page faults (on a fresh 80 MB
        buffer those cost more than the reads)."""
        import numpy as np
        lengths = np.zeros(len(docs), dtype=np.int64)
        los = np.zeros(len(docs), dtype=np.int64)
        source = np.zeros(len(docs), dtype=np.int64)
        for k, sel, lo, hi in self._ranges(docs):
            lengths[sel], los[sel], source[sel] = hi - lo, lo, k
        offsets = np.r_[0, np.cumsum(lengths)].astype(np.int64)
        # Documents next to each other in a file (most of them: callers ask in sorted order) are
        # read with one pread per run, not one per document.
        some = lengths > 0
        source, los, lengths = source[some], los[some], lengths[some]
        if not len(lengths):
            return bytearray(), offsets
        new_run = np.r_[True, (source[1:] != source[:-1]) | (los[1:] != los[:-1] + lengths[:-1])]
        firsts = np.flatnonzero(new_run)
        run_lengths = np.add.reduceat(lengths, firsts)
        # Each run read straight into its place in one buffer (no joined copy of the parts).
        total = int(offsets[-1]) * 4
        out = into if into is not None and len(into) >= total else bytearray(total)
        view = memoryview(out)
        fds = self._fds
        at = 0
        for k, lo, n in zip(source[firsts].tolist(), los[firsts].tolist(), run_lengths.tolist(), strict=True):
            size = n * 4
            got = os.preadv(fds[k], [view[at : at + size]], lo * 4)
            if got != size:
                msg = f"{self._sources[k].path('.fps')}: {got} of {size} bytes read at {lo * 4} (file cut short?)"
                raise OSError(msg)
            at += size
        view.release()
        return (out if len(out) == total else memoryview(out)[:total]), offsets

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()


def save_index(folder: str, meta: dict, sources: list[Source], keep: np.ndarray, bands: int) -> int:
    """Write the kept documents of ``sources`` (``keep``: bool per global index) as an index
    folder, atomically (a temporary folder renamed over the old one). Returns its size."""
    import shutil  # here: a run that saves no index imports no shutil (bz2, lzma)

    target = Path(folder)
    tmp = temp_name(target)  # this process's own: two runs saving at once never share it
    tmp.mkdir(parents=True)
    try:
        saved = _write_index(tmp, meta, sources, keep, bands)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if target.exists():
        old = temp_name(target.with_name(target.name + ".old"))
        os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old)
    else:
        os.replace(tmp, target)
    return saved


def _write_index(tmp: Path, meta: dict, sources: list[Source], keep: np.ndarray, bands: int) -> int:
    import numpy as np
    stem = Path(index_stem(tmp))
    saved = 0
    with (
        open(stem.with_suffix(".keys"), "wb") as keys_out,
        open(stem.with_suffix(".counts"), "wb") as counts_out,
        open(stem.with_suffix(".fps"), "wb") as fps_out,
        open(stem.with_suffix(".ids"), "wb") as ids_out,
    ):
        id_offsets = [0]
        for source in sources:
            mask = keep[source.start : source.start + source.size]
            if not mask.any():
                continue
            counts = np.fromfile(source.path(".counts"), dtype="<u4")
            fp_start = fingerprint_starts(source.stem, counts)
            id_off = np.fromfile(source.path(".off"), dtype="<u8").astype(np.int64)
            with open(source.path(".ids"), "rb") as ids_in:
                # In chunks of documents: memory stays bounded whatever the source's size.
                for lo in range(0, source.size, SAVE_CHUNK):
                    hi = min(lo + SAVE_CHUNK, source.size)
                    part = mask[lo:hi]
                    if not part.any():
                        continue
                    keys = np.fromfile(source.path(".keys"), dtype="<u8", count=(hi - lo) * bands, offset=lo * bands * 8).reshape(-1, bands)
                    kept_starts, kept_counts = fp_start[lo:hi][part], counts[lo:hi][part]
                    first = int(kept_starts[0])  # documents are in file order: one read spans the chunk's
                    end = int((kept_starts + kept_counts).max())
                    fps = np.fromfile(source.path(".fps"), dtype="<u4", count=end - first, offset=first * 4)
                    keys_out.write(keys[part].tobytes())
                    counts_out.write(kept_counts.tobytes())
                    fps_out.write(fps[span_indices(kept_starts - first, kept_counts)].tobytes())
                    ids_in.seek(int(id_off[lo]))
                    blob = ids_in.read(int(id_off[hi] - id_off[lo]))
                    base = int(id_off[lo])
                    for local in (np.flatnonzero(part) + lo).tolist():
                        raw = blob[int(id_off[local]) - base : int(id_off[local + 1]) - base]
                        ids_out.write(raw)
                        id_offsets.append(id_offsets[-1] + len(raw))
            saved += int(mask.sum())
    np.asarray(id_offsets, dtype="<u8").tofile(stem.with_suffix(".off"))
    (tmp / "meta.json").write_bytes(orjson.dumps({**meta, "documents": saved}, option=orjson.OPT_INDENT_2))
    return saved
