"""A minimal headless-Chromium driver for the report tests (DevTools protocol over a pipe).

``--remote-debugging-pipe`` makes Chromium read commands from fd 3 and write replies and events
to fd 4, NUL-separated JSON: no port to pick, no websocket, nothing that can collide with
another test. Only what the tests need: open a page, record console messages, exceptions and
network requests, evaluate an expression, take a full-page screenshot.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import orjson
import pytest
from runutil import load_stats
from test_report import SEED_LINES, build_run, shown_number, stat_value

from tamis.report.page import SECTIONS

CHROMIUM_NAMES = ("chromium", "chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--remote-debugging-pipe",
)


def find_chromium() -> str | None:
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


class BrowserError(RuntimeError):
    pass


class Chromium:
    def __init__(self, executable: str, profile: Path, *, timeout: float = 30.0) -> None:
        self.timeout = timeout
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire_fds() -> None:  # runs in the child: fd 3 = commands in, fd 4 = replies out
            # copy both ends above 4 first, so that neither dup2 overwrites the other
            commands, replies = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(commands, 3)
            os.dup2(replies, 4)

        self.proc = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=wire_fds,  # noqa: PLW1509 - the tests start no threads before this
            pass_fds=(3, 4),  # kept open after preexec_fn wired them
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    # --------------------------------------------------------------- protocol

    def _read_message(self, deadline: float) -> dict[str, Any]:
        import select

        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                msg = "timed out waiting for Chromium"
                raise BrowserError(msg)
            ready, _, _ = select.select([self._from_child], [], [], left)
            if not ready:
                continue
            chunk = os.read(self._from_child, 1 << 20)
            if not chunk:
                msg = f"Chromium closed the pipe (exit code {self.proc.poll()})"
                raise BrowserError(msg)
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return orjson.loads(raw)

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, orjson.dumps(message) + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    msg = f"{method}: {reply['error']}"
                    raise BrowserError(msg)
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_event(self, method: str, session: str | None = None) -> dict[str, Any]:
        for event in self.events:
            if event["method"] == method and event.get("sessionId") == session:
                return event
        deadline = time.monotonic() + self.timeout
        while True:
            event = self._read_message(deadline)
            if "method" in event:
                self.events.append(event)
                if event["method"] == method and event.get("sessionId") == session:
                    return event

    # --------------------------------------------------------------- page

    def open_page(self, url: str, *, width: int = 1366, height: int = 768) -> str:
        """Open ``url`` in a fresh tab with logging on; return the session id once loaded."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, session)
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session)
        self.wait_event("Page.loadEventFired", session)
        return session

    def evaluate(self, session: str, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session)
        if "exceptionDetails" in result:
            msg = f"evaluate failed: {result['exceptionDetails']}"
            raise BrowserError(msg)
        return result["result"].get("value")

    def screenshot(self, session: str, path: Path) -> Path:
        metrics = self.send("Page.getLayoutMetrics", session=session)
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.send("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True}, session)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def problems(self) -> list[str]:
        """Console errors/warnings, uncaught exceptions and log errors seen so far."""
        found = []
        for event in self.events:
            method, params = event["method"], event.get("params", {})
            if method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "warning", "assert"}:
                found.append(f"console {params['type']}: {params.get('args')}")
            elif method == "Runtime.exceptionThrown":
                found.append(f"exception: {params.get('exceptionDetails')}")
            elif method == "Log.entryAdded" and params.get("entry", {}).get("level") in {"error", "warning"}:
                found.append(f"log {params['entry']['level']}: {params['entry'].get('text')} {params['entry'].get('url', '')}")
        return found

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]

    def close(self) -> None:
        with contextlib.suppress(BrowserError, OSError):
            self.send("Browser.close")
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)


# ------------------------------------------------------------------------------------ the test

PAGE_FACTS = """(() => {
  const stats = [...document.querySelectorAll('[data-stat]')].map(e => [e.dataset.stat, e.textContent]);
  const sections = [...document.querySelectorAll('section')].map(s => [s.id, (s.querySelector('h2') || {}).textContent || '']);
  const seed = [...document.querySelectorAll('.repair-sample')].find(d => d.querySelector('code').textContent === 'seed');
  const visible = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  return {
    stats, sections,
    removed: seed ? [...seed.querySelectorAll('li.removed')].filter(visible).map(li => li.querySelector('del').textContent) : null,
    svgs: [...document.querySelectorAll('svg')].map(s => [s.getAttribute('role'), s.getAttribute('aria-label') || '', visible(s)]),
    figuresWithoutTable: [...document.querySelectorAll('figure.dist')].filter(f => !f.querySelector('table')).length,
    overflow: document.documentElement.scrollWidth - window.innerWidth,
    title: document.title,
  };
})()"""


@pytest.mark.browser
def test_report_renders_in_headless_chromium(tmp_path: Path) -> None:
    executable = find_chromium()
    if executable is None:
        pytest.skip("chromium is not installed and could not be: run `make browser` (apt-get install chromium) as root")
    out = build_run(tmp_path)
    stats = load_stats(out)
    url = (out / "report.html").resolve().as_uri()
    browser = Chromium(executable, tmp_path / "profile")
    try:
        session = browser.open_page(url)
        facts = browser.evaluate(session, PAGE_FACTS)
        shot = browser.screenshot(session, tmp_path / "report.png")
        problems, requests = browser.problems(), browser.requests()
    finally:
        browser.close()

    assert problems == []
    assert requests == [url], "the page fetched something besides itself"
    sections = dict(facts["sections"])
    for sid, title in SECTIONS:
        assert sid in sections, f"section {sid} missing"
        assert sections[sid].startswith(title.split()[0])
    assert facts["stats"], "no number from stats.json on the page"
    shown = {}
    for key, text in facts["stats"]:
        assert shown_number(text) == pytest.approx(stat_value(stats, key), abs=1e-3), (key, text)
        shown[key] = text
    for key in ("read", "kept", "rejected_total", "bytes_in", "bytes_out", *(f"rejected|{r}" for r in stats["rejected"])):
        assert key in shown
    assert facts["removed"] == SEED_LINES[1:5]
    assert facts["svgs"] and all(role == "img" and label and visible for role, label, visible in facts["svgs"])
    assert facts["figuresWithoutTable"] == 0
    assert facts["overflow"] <= 0, "the page scrolls sideways on a 1366 px laptop screen"
    assert shot.stat().st_size > 20_000
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
