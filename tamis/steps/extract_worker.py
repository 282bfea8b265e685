"""A child process that extracts pages and can be killed when one takes too long.

A signal cannot interrupt a parser's C code (lxml, resiliparse), so the per-page time limit
needs a separate process: :class:`IsolatedExtractor` forks one from this process once the
extractor's modules are imported here, where that is safe (Linux, no Python thread but tamis's
own idle ones: see ``_fork_is_safe``), and otherwise starts ``python -m
tamis.steps.extract_worker`` with pipes (``subprocess``, not ``multiprocessing``: it works from
a daemonic ProcessPoolExecutor worker and from a Ray worker alike). It sends the child pages and
waits for each answer with a deadline. A page that passes the deadline gets the child
killed; the next page starts a fresh child, so the rest of the task goes on. The limit counts
the child's CPU seconds (read from ``/proc``; wall seconds where there is none), with wall time
capped at WALL_CAP times the limit: on a machine busy with other work a page gets the CPU time
it would get on an idle one, instead of being rejected for the time it waited. The child's
start-up (importing the extractor) is not charged to any page; forked, it costs almost nothing
(a started child pays the interpreter and numpy/lxml again: 0.25 CPU-s for the learned
extractor, 0.8 for trafilatura). A forked child of an extractor that routes only some pages to
trafilatura imports it at the first such page, and that import is not charged either
(:class:`_CreditedImport`).

Frames are a 4-byte big-endian length followed by the body: a page goes as its UTF-8 bytes
(orjson's escaping and parsing of a 150 kB page cost 1.3 ms, encoding 0.1 ms), an answer as
orjson. An extractor module that parses bytes itself says so with ``takes_utf8(method)``; the
child then hands it the bytes as they came (lxml reads UTF-8 anyway), any other gets a str. A
round trip costs tens of microseconds; pages still go in batches, written by a thread while the
answers are read, so the child never waits for its next page and the parent's reading overlaps
the extraction.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import importlib.abc
import importlib.util
import mmap
import os
import select
import signal
import struct
import subprocess
import sys
import threading
import time
import warnings
from typing import Any

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows
    fcntl = None  # type: ignore[assignment]

import orjson

from tamis.io.htmldecode import utf8_of

_HEADER = struct.Struct(">I")
_CREDIT = struct.Struct("=d")  # CPU seconds a forked child spent on imports no page is charged for
DEFAULT_TARGET = "tamis.steps.extract_html:extract_main_text"
START_TIMEOUT_S = 120.0
# A page's wall time is capped at this many times its limit in CPU seconds: what kills a child
# that waits without using the CPU. Extraction never waits, so the cap only matters for a
# machine so loaded that the child gets under a tenth of a core.
WALL_CAP = 10.0
_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


class ExtractTimeout(Exception):
    """The page was not done within the time limit; the child was killed."""


class WorkerFailure(Exception):
    """The child died or answered something unreadable (it is restarted for the next page)."""


def _resolve(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _write_frame(fd: int, payload: bytes) -> None:
    # Header and page in one system call without copying the page behind the header first.
    pending = [memoryview(_HEADER.pack(len(payload))), memoryview(payload)]
    while pending:
        written = os.writev(fd, pending)
        while pending and written >= len(pending[0]):
            written -= len(pending[0])
            pending.pop(0)
        if pending and written:
            pending[0] = pending[0][written:]


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of a process (every thread), from ``/proc/PID/stat``; None where
    it cannot be read (no /proc, the process gone)."""
    try:  # os.open/os.read: a third of what open() costs, paid once a page
        fd = os.open(f"/proc/{pid}/stat", os.O_RDONLY)
        try:
            stat = os.read(fd, 4096)
        finally:
            os.close(fd)
    except OSError:
        return None
    fields = stat[stat.rindex(b")") + 2 :].split()  # after the command name, which may hold spaces
    try:
        return (int(fields[11]) + int(fields[12])) / _CLOCK_TICKS  # utime, stime: fields 14 and 15
    except (IndexError, ValueError):
        return None


class PageClock:
    """One page's limit: ``limit_s`` CPU seconds of the child ``pid`` from now, at most
    WALL_CAP * limit_s wall seconds; ``limit_s`` wall seconds where the child's CPU time cannot be
    read, or with no ``pid`` (the child's start). ``deadline`` is the wall time to wait until;
    :meth:`extend` moves it on at that time while the child has CPU time left. ``credit``: a
    forked child's shared count of CPU seconds that no page is charged (a first import, see
    :class:`_CreditedImport`), taken off what the page used."""

    def __init__(self, pid: int | None, limit_s: float, credit: mmap.mmap | None = None) -> None:
        self.pid = pid
        self.limit_s = limit_s
        self.credit = credit
        self.started = time.monotonic()
        self.deadline = self.started + limit_s
        self.cpu_at_start = None if pid is None else self._charged()

    def _charged(self) -> float | None:
        cpu = _cpu_seconds(self.pid) if self.pid is not None else None
        if cpu is None or self.credit is None:
            return cpu
        return cpu - _CREDIT.unpack_from(self.credit)[0]

    def extend(self) -> bool:
        """At the deadline: True, with a later deadline, if the page has used less than its limit
        in CPU seconds and the wall cap is not reached; False (the page is over its time)."""
        if self.pid is None or self.cpu_at_start is None:
            return False
        cpu = self._charged()
        now = time.monotonic()
        cap = self.started + WALL_CAP * self.limit_s
        if cpu is None or now >= cap:
            return False
        left = self.limit_s - (cpu - self.cpu_at_start)
        if left <= 0:
            return False
        self.deadline = min(cap, now + max(left, 1.0 / _CLOCK_TICKS))  # CPU time moves in ticks
        return True


def _wait_readable(fd: int, clock: PageClock | None) -> None:
    """Wait until ``fd`` can be read; ExtractTimeout at the clock's deadline, once it cannot move
    it on."""
    if clock is None:
        return
    while True:
        left = clock.deadline - time.monotonic()
        if left > 0 and select.select([fd], [], [], left)[0]:
            return
        if not clock.extend():
            raise ExtractTimeout


def _read_exact(fd: int, size: int, clock: PageClock | None) -> bytes:
    chunks = []
    remaining = size
    while remaining:
        _wait_readable(fd, clock)
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise WorkerFailure("the extraction worker exited")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _write_frames(fd: int, frames: list[bytes]) -> None:
    """The writer thread: send every frame; stop quietly when the child is gone."""
    try:
        for frame in frames:
            _write_frame(fd, frame)
    except OSError:
        pass  # BrokenPipeError after a kill: the reader side decides what happened


class _FrameReader:
    """Frames from a pipe, read in pieces of up to 1 MiB: an answer (header and body) and any
    answers queued behind it come in one wait and one read, where reading the header and then
    the body waited and read twice per frame. A frame larger than what has arrived is completed
    by exact reads."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = bytearray()

    def read(self, clock: PageClock | None) -> bytes:
        buffer = self.buffer
        while len(buffer) < _HEADER.size:
            self._fill(clock)
        (size,) = _HEADER.unpack_from(buffer)
        end = _HEADER.size + size
        if len(buffer) < end and len(buffer) < (64 << 10):
            self._fill(clock)  # small answers usually arrive whole
        if len(buffer) >= end:
            frame = bytes(buffer[_HEADER.size : end])
            del buffer[:end]
            return frame
        head = bytes(buffer[_HEADER.size :])
        buffer.clear()
        return head + _read_exact(self.fd, end - _HEADER.size - len(head), clock)

    def _fill(self, clock: PageClock | None) -> None:
        _wait_readable(self.fd, clock)
        chunk = os.read(self.fd, 1 << 20)
        if not chunk:
            raise WorkerFailure("the extraction worker exited")
        self.buffer += chunk


def _widen_pipe(fd: int) -> None:
    """1 MiB of pipe buffer instead of 64 kB (Linux): a 150 kB page goes in one write, not three
    rounds of filling the pipe and waking the reader. Where refused, the default stays."""
    size_option = getattr(fcntl, "F_SETPIPE_SZ", None) if fcntl is not None else None
    if size_option is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(fd, size_option, 1 << 20)


# Threads that hold nothing a forked child needs: tamis's progress bar (it writes to stderr; the
# child gets its own stderr object), a pool worker's watch on its driver, and tqdm's monitor of
# its bars (the child never draws one).
_FORK_SAFE_THREADS = ("tamis-progress", "tamis-driver-watch", "tqdm_monitor")


def _fork_is_safe() -> bool:
    """True where a forked child cannot inherit a lock another thread holds: Linux, and no
    Python thread besides this one and tamis's own idle ones. (C libraries' own threads, such as
    OpenBLAS's, release their state around fork themselves.) Elsewhere, and in a Ray worker or
    while output is compressed by a thread, the child is started afresh."""
    if not sys.platform.startswith("linux") or not hasattr(os, "fork"):
        return False
    current = threading.current_thread()
    return all(thread is current or thread.name.startswith(_FORK_SAFE_THREADS) for thread in threading.enumerate())


_frozen = False


def _freeze_once() -> None:
    """Move what this process holds before its first fork into the collector's permanent
    generation, once per process (Python's gc docs: gc.freeze() right before fork()). The
    extractor's modules (numpy, lxml, trafilatura: ~40,000 tracked objects) are then never walked
    again by this process's collections, including the one at interpreter exit: that one
    cost a `tamis run` of the extract step ~0.1 CPU-s (a ninth of a 181-page run's CPU);
    frozen, about nothing. Objects frozen here and later dropped are still freed by their
    reference counts; only a reference cycle among them would wait for the process's end."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.freeze()


# Modules a forked child imports only when a page first needs them, their CPU credited to no page:
# trafilatura, for an extractor that routes only some pages to it (extract_html.ROUTED_TRAFILATURA).
_LATE_IMPORTS = ("trafilatura",)


class _CreditedImport(importlib.abc.MetaPathFinder):
    """In a forked child: the first import of each module in ``names`` (with everything it
    imports) adds its CPU seconds to the shared ``credit``, which the parent's :class:`PageClock`
    takes off the page that asked for it, so a page is charged what it would have cost with the
    module imported before the fork, as it was. What the import built is then frozen, as the
    parent's modules are (``_become_worker``)."""

    def __init__(self, names: tuple[str, ...], credit: mmap.mmap) -> None:
        self.pending = set(names)
        self.credit = credit

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name not in self.pending:
            return None
        self.pending.discard(name)
        spec = importlib.util.find_spec(name)  # the usual finders (this one now passes on the name)
        if spec is None or spec.loader is None:
            return spec
        run, credit = spec.loader.exec_module, self.credit

        def exec_module(module: Any) -> None:
            started = time.process_time()
            try:
                with _pool_paused():
                    run(module)
            finally:
                used = time.process_time() - started
                _CREDIT.pack_into(credit, 0, _CREDIT.unpack_from(credit)[0] + used)
                gc.freeze()

        spec.loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


class _ForkedChild:
    """What :class:`IsolatedExtractor` uses of ``subprocess.Popen``, for a child made by ``os.fork``
    (and its ``credit``: see :class:`PageClock`)."""

    def __init__(self, pid: int, stdin_fd: int, stdout_fd: int, credit: mmap.mmap | None = None) -> None:
        self.pid = pid
        self.stdin = os.fdopen(stdin_fd, "wb", buffering=0)
        self.stdout = os.fdopen(stdout_fd, "rb", buffering=0)
        self.credit = credit
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:  # reaped by someone else (SIGCHLD ignored): gone
                self.returncode = -1
                return self.returncode
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):  # already gone
                os.kill(self.pid, signal.SIGKILL)

    def wait(self) -> int:
        if self.returncode is None:
            try:
                _, status = os.waitpid(self.pid, 0)
                self.returncode = os.waitstatus_to_exitcode(status)
            except ChildProcessError:
                self.returncode = -1
        return self.returncode


class IsolatedExtractor:
    """Runs ``target(html, method) -> str | dict`` in a child process with a per-page deadline.

    ``start``: "fork" makes the child with ``os.fork`` from this process once the extractor is
    imported here (no interpreter start-up and no second import of numpy, lxml or trafilatura:
    0.25 CPU-s for the learned extractor, a seventh of a 181-page run), "exec" starts
    ``python -m tamis.steps.extract_worker``, "auto" forks where :func:`_fork_is_safe`."""

    def __init__(self, method: str, timeout_s: float, target: str = DEFAULT_TARGET, start: str = "auto") -> None:
        if start not in ("auto", "fork", "exec"):
            raise ValueError(f"start must be auto, fork or exec, not {start!r}")
        self.method = method
        self.timeout_s = timeout_s
        self.target = target
        self.start = start
        self.proc: subprocess.Popen[bytes] | _ForkedChild | None = None
        self._reader = _FrameReader(-1)  # replaced with the child's answers pipe by each start
        self.restarts = 0

    def _start(self) -> subprocess.Popen[bytes] | _ForkedChild:
        if self.start == "fork" or (self.start == "auto" and _fork_is_safe()):
            return self._fork()
        return self._exec()

    def _fork(self) -> _ForkedChild:
        try:
            func, raw = _prepare(self.target, self.method, late_imports=True)
        except Exception as exc:  # noqa: BLE001 - the same clear message as a child that failed to start
            raise WorkerFailure(f"the extraction worker did not start: {type(exc).__name__}: {exc}") from None
        late = tuple(name for name in _LATE_IMPORTS if name not in sys.modules)
        credit = mmap.mmap(-1, _CREDIT.size) if late else None  # anonymous and shared: the child writes, this process reads
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        _widen_pipe(to_child_w)
        _widen_pipe(from_child_w)
        _freeze_once()
        with warnings.catch_warnings():
            # Python 3.12+ warns on fork whenever the process has another thread, C ones included.
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child: serve pages until the parent closes the pipe, then leave at once
            try:
                os.close(to_child_w)
                os.close(from_child_r)
                _become_worker()
                if credit is not None:
                    sys.meta_path.insert(0, _CreditedImport(late, credit))
                _serve_frames(to_child_r, from_child_w, func, self.method, raw)
            finally:
                os._exit(0)  # never the parent's atexit handlers, buffered output or finalizers
        os.close(to_child_r)
        os.close(from_child_w)
        self._reader = _FrameReader(from_child_r)
        return _ForkedChild(pid, to_child_w, from_child_r, credit)

    def _exec(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        # The child must import what the parent imports (editable installs, test modules).
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        proc = subprocess.Popen(
            [sys.executable, "-m", "tamis.steps.extract_worker", self.target, self.method],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert proc.stdin is not None and proc.stdout is not None
        _widen_pipe(proc.stdin.fileno())
        _widen_pipe(proc.stdout.fileno())
        self._reader = _FrameReader(proc.stdout.fileno())
        try:
            ready = orjson.loads(self._reader.read(PageClock(None, START_TIMEOUT_S)))
        except (ExtractTimeout, WorkerFailure) as exc:
            self._kill(proc)
            msg = f"the extraction worker did not start ({type(exc).__name__})"
            raise WorkerFailure(msg) from None
        if ready.get("error"):
            self._kill(proc)
            raise WorkerFailure(f"the extraction worker did not start: {ready['error']}")
        return proc

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes] | _ForkedChild) -> None:
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()

    def _ensure_started(self) -> subprocess.Popen[bytes] | _ForkedChild:
        if self.proc is not None and self.proc.poll() is not None:
            self._kill(self.proc)  # it died between batches
            self.proc = None
            self.restarts += 1
        if self.proc is None:
            self.proc = self._start()
        return self.proc

    def _abandon(self, proc: subprocess.Popen[bytes] | _ForkedChild, writer: threading.Thread) -> None:
        """Kill the child after a timeout or a crash; the writer thread ends on the broken pipe."""
        proc.kill()
        writer.join()
        self._kill(proc)
        self.proc = None
        self.restarts += 1

    def extract_many(self, pages: list[str]) -> list[str | dict[str, Any] | Exception]:
        """Each page's text (or the extractor's dict answer: text, metadata, path), or the exception for that page (ExtractTimeout, WorkerFailure,
        RuntimeError for an extractor error, TypeError for text that cannot be sent).

        Pages are written to the child by a thread while the answers are read here, so the
        child always has the next page waiting (reading and decoding overlap extraction). The
        clock of a page (:class:`PageClock`: CPU seconds of the child) starts when the answer
        before it has arrived.
        """
        results: list[str | dict[str, Any] | Exception | None] = [None] * len(pages)
        requests: list[bytes | None] = []
        for index, html in enumerate(pages):
            try:
                requests.append(utf8_of(html))  # the bytes the reader decoded, where it kept them
            except UnicodeEncodeError:  # lone surrogates: the page's fault, not the worker's
                requests.append(None)
                results[index] = TypeError("str is not valid UTF-8: surrogates not allowed")
        todo = [i for i, request in enumerate(requests) if request is not None]
        while todo:
            proc = self._ensure_started()
            assert proc.stdin is not None and proc.stdout is not None
            frames = [requests[i] for i in todo]
            writer = threading.Thread(target=_write_frames, args=(proc.stdin.fileno(), frames), daemon=True)
            writer.start()
            reader = self._reader
            done = 0
            failed: Exception | None = None
            for index in todo:
                try:
                    answer = orjson.loads(reader.read(PageClock(proc.pid, self.timeout_s, getattr(proc, "credit", None))))
                except ExtractTimeout as exc:
                    failed = exc
                except (WorkerFailure, orjson.JSONDecodeError) as exc:
                    failed = WorkerFailure(str(exc) or type(exc).__name__)
                if failed is not None:
                    results[index] = failed
                    done += 1
                    break
                if "error" in answer:
                    results[index] = RuntimeError(answer["error"])
                else:
                    results[index] = answer["text"] if len(answer) == 1 else answer
                done += 1
            if failed is not None:
                self._abandon(proc, writer)
            else:
                writer.join()
            todo = todo[done:]
        return [r if r is not None else WorkerFailure("no answer") for r in results]

    def extract(self, html: str) -> str | dict[str, Any]:
        """One page's answer; raises what :meth:`extract_many` would return for it."""
        result = self.extract_many([html])[0]
        if isinstance(result, Exception):
            raise result
        return result

    def close(self) -> None:
        if self.proc is not None:
            self._kill(self.proc)
            self.proc = None


def _prepare(target: str, method: str, late_imports: bool = False) -> tuple[Any, bool]:
    """The extraction function, whether it takes the page's UTF-8 bytes, and its modules imported
    and warmed up (before the first timed page). ``late_imports`` (a forked child's parent): the
    modules of _LATE_IMPORTS that the extractor needs only for some pages are left to the child
    (a started child imports everything here, before it says it is ready)."""
    func = _resolve(target)
    takes_utf8 = getattr(importlib.import_module(target.partition(":")[0]), "takes_utf8", None)
    raw = bool(takes_utf8 and takes_utf8(method))
    if target == DEFAULT_TARGET:
        from tamis.steps.extract_html import warm_up

        warm_up(method, trafilatura=not late_imports)
    return func, raw


def _become_worker() -> None:
    """In a forked child: its own stdout/stderr objects (a parent thread may hold the locks of the
    inherited ones; library output goes to stderr, as in a started child), default signals
    (Ctrl-C and SIGTERM end it quietly; the parent decides), and the parent's objects frozen
    so the collector never walks them."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    sys.stdout = sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)  # noqa: SIM115 - lives as long as the child
    os.dup2(2, 1)
    gc.freeze()


def _pool_libxml2() -> bool:
    """In the child: libxml2's small allocations (a parsed page's nodes, attributes and texts)
    from tamis._native._xmlpool's size-class lists instead of glibc's malloc, which cost ~19 % of
    the child's CPU parsing and freeing trees (perf on trafilatura-eval). Only where its memory
    comes from: every tree and text is the same (tests/test_extract_xmlpool.py). Only the child:
    it runs one thread and only extracts, and the parent's libxml2 keeps glibc. False where the
    pool is not built or cannot be set up, and under strict overcommit accounting (Linux mode 2),
    which would charge its whole reservation (2 GiB of address space, backed only where used)."""
    try:
        from lxml import etree

        from tamis._native import _xmlpool
    except ImportError:  # pragma: no cover - a source checkout without the build
        return False
    try:
        with open("/proc/sys/vm/overcommit_memory", "rb") as fh:
            if fh.read(1) == b"2":
                return False
    except OSError:
        pass  # no /proc: the reservation's own mmap decides
    return bool(_xmlpool.install(etree.__file__))


@contextlib.contextmanager
def _pool_paused() -> Any:
    """glibc's malloc for what a late import builds (trafilatura compiles its XPath expressions
    at import: libxml2 blocks that live as long as the child): the pool's classes then still
    empty out with each page and start over."""
    pool = sys.modules.get("tamis._native._xmlpool")
    paused = pool is not None and pool.uninstall()
    try:
        yield
    finally:
        if paused:
            _pool_libxml2()  # installed before the pause: serving again


def _serve_frames(in_fd: int, out_fd: int, func: Any, method: str, raw: bool) -> None:
    """Answer every page frame read from ``in_fd`` on ``out_fd`` until the parent closes the pipe."""
    _pool_libxml2()
    pages = _FrameReader(in_fd)
    while True:
        try:
            frame = pages.read(None)
        except WorkerFailure:
            return  # the parent closed the pipe
        try:
            result = func(frame if raw else frame.decode("utf-8"), method)
            # An extractor answers its text, or a dict with "text" and what it knows about the page.
            answer = result if isinstance(result, dict) else {"text": result}
        except RecursionError:
            answer = {"error": "RecursionError: the page is nested too deeply"}
        except Exception as exc:  # noqa: BLE001 - one bad page must not end the worker
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        _write_frame(out_fd, orjson.dumps(answer))


def _serve(target: str, method: str) -> None:
    stdin = sys.stdin.buffer.fileno()
    # Frames get a private copy of stdout; anything a library prints goes to stderr instead.
    stdout = os.dup(1)
    os.dup2(2, 1)
    try:
        func, raw = _prepare(target, method)
    except Exception as exc:  # noqa: BLE001 - reported to the parent as a clear message
        _write_frame(stdout, orjson.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return
    _write_frame(stdout, orjson.dumps({"ready": True}))
    _serve_frames(stdin, stdout, func, method, raw)


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2])
