"""A child process that extracts pages and can be killed when one takes too long.

A signal cannot interrupt a parser's C code (lxml, resiliparse), so the per-page time limit
needs a separate process: :class:`IsolatedExtractor` starts ``python -m
tamis.steps.extract_worker`` with pipes (``subprocess``, not ``multiprocessing``: it works from
a daemonic ProcessPoolExecutor worker and from a Ray worker alike), sends it pages and waits
for each answer with a deadline. A page that passes the deadline gets the child
killed; the next page starts a fresh child, so the rest of the task goes on. The child's
start-up (importing the extractor) is not charged to any page.

Frames are a 4-byte big-endian length followed by the body: a page goes as its UTF-8 bytes
(orjson's escaping and parsing of a 150 kB page cost 1.3 ms, encoding 0.1 ms), an answer as
orjson. An extractor module that parses bytes itself says so with ``takes_utf8(method)``; the
child then hands it the bytes as they came (lxml reads UTF-8 anyway), any other gets a str. A
round trip costs tens of microseconds; pages still go in batches, written by a thread while the
answers are read, so the child never waits for its next page and the parent's reading overlaps
the extraction.
"""

from __future__ import annotations

import importlib
import os
import select
import struct
import subprocess
import sys
import threading
import time
from typing import Any

import orjson

_HEADER = struct.Struct(">I")
DEFAULT_TARGET = "tamis.steps.extract_html:extract_main_text"
START_TIMEOUT_S = 120.0


class ExtractTimeout(Exception):
    """The page was not done within the time limit; the child was killed."""


class WorkerFailure(Exception):
    """The child died or answered something unreadable (it is restarted for the next page)."""


def _resolve(target: str) -> Any:
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def _write_frame(fd: int, payload: bytes) -> None:
    view = memoryview(_HEADER.pack(len(payload)) + payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    chunks = []
    remaining = size
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise ExtractTimeout
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


def _read_frame(fd: int, deadline: float | None) -> bytes:
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    return _read_exact(fd, size, deadline)


class IsolatedExtractor:
    """Runs ``target(html, method) -> str | dict`` in a child process with a per-page deadline."""

    def __init__(self, method: str, timeout_s: float, target: str = DEFAULT_TARGET) -> None:
        self.method = method
        self.timeout_s = timeout_s
        self.target = target
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    def _start(self) -> subprocess.Popen[bytes]:
        env = dict(os.environ)
        # The child must import what the parent imports (editable installs, test modules).
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        proc = subprocess.Popen(
            [sys.executable, "-m", "tamis.steps.extract_worker", self.target, self.method],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
        )
        assert proc.stdout is not None
        try:
            ready = orjson.loads(_read_frame(proc.stdout.fileno(), time.monotonic() + START_TIMEOUT_S))
        except (ExtractTimeout, WorkerFailure) as exc:
            self._kill(proc)
            msg = f"the extraction worker did not start ({type(exc).__name__})"
            raise WorkerFailure(msg) from None
        if ready.get("error"):
            self._kill(proc)
            raise WorkerFailure(f"the extraction worker did not start: {ready['error']}")
        return proc

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        proc.kill()
        proc.wait()
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()

    def _ensure_started(self) -> subprocess.Popen[bytes]:
        if self.proc is not None and self.proc.poll() is not None:
            self._kill(self.proc)  # it died between batches
            self.proc = None
            self.restarts += 1
        if self.proc is None:
            self.proc = self._start()
        return self.proc

    def _abandon(self, proc: subprocess.Popen[bytes], writer: threading.Thread) -> None:
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
        clock of a page starts when the answer before it has arrived.
        """
        results: list[str | dict[str, Any] | Exception | None] = [None] * len(pages)
        requests: list[bytes | None] = []
        for index, html in enumerate(pages):
            try:
                requests.append(html.encode("utf-8"))
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
            out_fd = proc.stdout.fileno()
            done = 0
            failed: Exception | None = None
            for index in todo:
                try:
                    answer = orjson.loads(_read_frame(out_fd, time.monotonic() + self.timeout_s))
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


def _serve(target: str, method: str) -> None:
    stdin = sys.stdin.buffer.fileno()
    # Frames get a private copy of stdout; anything a library prints goes to stderr instead.
    stdout = os.dup(1)
    os.dup2(2, 1)
    try:
        func = _resolve(target)
        takes_utf8 = getattr(importlib.import_module(target.partition(":")[0]), "takes_utf8", None)
        raw = bool(takes_utf8 and takes_utf8(method))
        if target == DEFAULT_TARGET:
            from tamis.steps.extract_html import warm_up

            warm_up(method)
    except Exception as exc:  # noqa: BLE001 - reported to the parent as a clear message
        _write_frame(stdout, orjson.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return
    _write_frame(stdout, orjson.dumps({"ready": True}))
    while True:
        try:
            frame = _read_frame(stdin, None)
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
        _write_frame(stdout, orjson.dumps(answer))


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2])
