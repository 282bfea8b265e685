"""A child process that extracts pages and can be killed when one takes too long.

A signal cannot interrupt a parser's C code (lxml, resiliparse), so the per-page time limit
needs a separate process: :class:`IsolatedExtractor` starts ``python -m
tamis.steps.extract_worker`` with pipes (``subprocess``, not ``multiprocessing``: it works from
a daemonic ProcessPoolExecutor worker and from a Ray worker alike), sends one page at a time
and waits for the answer with a deadline. A page that passes the deadline gets the child
killed; the next page starts a fresh child, so the rest of the task goes on. The child's
start-up (importing the extractor) is not charged to any page.

Frames are a 4-byte big-endian length followed by an orjson body. A round trip costs tens of
microseconds, small beside the milliseconds of an extraction, so pages are not batched.
"""

from __future__ import annotations

import importlib
import os
import select
import struct
import subprocess
import sys
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


def _read_frame(fd: int, deadline: float | None) -> bytes:
    (size,) = _HEADER.unpack(_read_exact(fd, _HEADER.size, deadline))
    return _read_exact(fd, size, deadline)


class IsolatedExtractor:
    """Runs ``target(html, method) -> str`` in a child process with a per-page deadline."""

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

    def extract(self, html: str) -> str:
        """The page's text; raises ExtractTimeout, WorkerFailure, or RuntimeError (extractor error)."""
        if self.proc is None or self.proc.poll() is not None:
            if self.proc is not None:
                self._kill(self.proc)
                self.restarts += 1
            self.proc = self._start()
        proc = self.proc
        assert proc.stdin is not None and proc.stdout is not None
        request = orjson.dumps(html)  # JSONEncodeError (lone surrogates) is the page's fault
        try:
            _write_frame(proc.stdin.fileno(), request)
            answer = orjson.loads(_read_frame(proc.stdout.fileno(), time.monotonic() + self.timeout_s))
        except (ExtractTimeout, WorkerFailure, BrokenPipeError, orjson.JSONDecodeError) as exc:
            self._kill(proc)
            self.proc = None
            self.restarts += 1
            if isinstance(exc, ExtractTimeout):
                raise
            raise WorkerFailure(str(exc) or type(exc).__name__) from None
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer["text"]

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
        if target == DEFAULT_TARGET:
            from tamis.steps.extract_html import warm_up

            warm_up(method)
    except Exception as exc:  # noqa: BLE001 - reported to the parent as a clear message
        _write_frame(stdout, orjson.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return
    _write_frame(stdout, orjson.dumps({"ready": True}))
    while True:
        try:
            html = orjson.loads(_read_frame(stdin, None))
        except WorkerFailure:
            return  # the parent closed the pipe
        try:
            answer = {"text": func(html, method)}
        except RecursionError:
            answer = {"error": "RecursionError: the page is nested too deeply"}
        except Exception as exc:  # noqa: BLE001 - one bad page must not end the worker
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        _write_frame(stdout, orjson.dumps(answer))


if __name__ == "__main__":
    _serve(sys.argv[1], sys.argv[2])
