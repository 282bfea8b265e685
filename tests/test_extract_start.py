"""The extraction worker's start: what a forked child leaves to its first routed page, and what
that page is (not) charged for."""

from __future__ import annotations

import json
import mmap
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tamis.steps import extract_worker
from tamis.steps.extract_worker import _CREDIT, PageClock

ROOT = Path(__file__).resolve().parent.parent

# In a fresh interpreter (no earlier test has imported trafilatura): a forked worker of the default
# extractor, a page its learned pass keeps and a page it routes to trafilatura, against a started
# child (which imports trafilatura before it says it is ready) and the in-process extractor.
_LATE = r"""
import json, sys
from tamis.steps.extract_worker import _CREDIT, IsolatedExtractor
sentence = "The bridge over the river closes on Monday for two years of repairs, the city said on its {} page of notices, "
sentence += "and traffic will go by the ferry and the old road along the water instead."
article = "<html><head><title>Bridge</title></head><body><nav><a href='/'>Home</a> <a href='/news'>News</a></nav>"
article += "<article><h1>The bridge closes</h1>" + "".join(f"<p>{sentence.format(i)}</p>" for i in range(12))
article += "</article><footer>Copyright 2024</footer></body></html>"
tiny = "<html><body><p>warm up</p><p>the second line of a tiny page</p></body></html>"
seen = {}
forked = IsolatedExtractor("tamis_learned_hybrid", 60, start="fork")
answers = [forked.extract(article)]
seen["after_kept"] = ["trafilatura" in sys.modules, _CREDIT.unpack_from(forked.proc.credit)[0]]
answers.append(forked.extract(tiny))
seen["after_routed"] = ["trafilatura" in sys.modules, _CREDIT.unpack_from(forked.proc.credit)[0]]
answers.append(forked.extract(tiny))
seen["after_second"] = _CREDIT.unpack_from(forked.proc.credit)[0]
forked.close()
started = IsolatedExtractor("tamis_learned_hybrid", 60, start="exec")
seen["same_as_started"] = [started.extract(page) for page in (article, tiny, tiny)] == answers
started.close()
from tamis.steps.extract_html import extract_main_text
seen["same_in_process"] = [extract_main_text(page, "tamis_learned_hybrid") for page in (article, tiny, tiny)] == answers
seen["paths"] = [answer["path"] for answer in answers]
print(json.dumps(seen))
"""


def test_a_forked_default_worker_imports_trafilatura_at_its_first_routed_page_uncharged() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", _LATE], capture_output=True, text=True, env=env, check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["paths"] == ["learned", "trafilatura", "trafilatura"]
    assert seen["after_kept"] == [False, 0.0]  # neither process imported it for a kept page
    in_parent, credited = seen["after_routed"]
    assert not in_parent and credited > 0  # the child did, and said what it cost
    assert seen["after_second"] == credited  # once
    assert seen["same_as_started"] and seen["same_in_process"]


def _burn(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


@pytest.mark.parametrize("credited", [True, False])
def test_a_page_is_not_charged_the_cpu_its_child_credited(credited: bool, monkeypatch) -> None:
    monkeypatch.setattr(extract_worker, "WALL_CAP", 1000.0)  # CPU time decides, however loaded the machine
    credit = mmap.mmap(-1, _CREDIT.size)
    _CREDIT.pack_into(credit, 0, 1.5)  # credit from before the page does not count for it
    clock = PageClock(os.getpid(), 0.5, credit)
    _burn(0.6)
    if credited:
        _CREDIT.pack_into(credit, 0, 1.5 + 0.6)
    assert clock.extend() == credited
