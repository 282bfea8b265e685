"""Cyclic garbage collection paused around bulk work that makes no reference cycles.

The dedup stage's first pass and apply, and the report's sampling, allocate hundreds of
thousands of short-lived containers (ids, texts, per-document tuples and dicts): each 700
allocations start a generation-0 collection that walks every young container, 2-10 % of those
phases' CPU time on the bench, for nothing to free (refcounting frees all of it; none of it
forms a cycle). Collection resumes, and catches up, when the block ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic collection inside the block (restored as it was after, even on error)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


# Set by the command line (``tamis run`` / ``tamis dedup``), never by a caller in-process;
# _PAUSED: collection is off until the first set_up_done.
_FREEZE_SET_UP = _PAUSED = False


def pause_for_set_up() -> None:
    """The command line's start: no cyclic collection while it imports its modules and builds its
    steps (:func:`set_up_done` resumes it). Those objects live as long as the process, yet every
    collection before then walks them again: ~90 young collections in a 20-page run, ~0.04 CPU-s.
    Only the command line pauses: :func:`set_up_done` freezes what exists, which a caller in-process
    (a notebook, a test) may not want kept out of its collections."""
    global _FREEZE_SET_UP, _PAUSED
    if gc.isenabled():
        _FREEZE_SET_UP = _PAUSED = True
        gc.disable()


def set_up_done() -> None:
    """After the steps are built, and after each step's one set-up in a process (models, tables):
    what exists now is frozen (the permanent generation, which later collections skip) and
    collection resumes (the first call; a later one, which may be inside :func:`gc_paused`, leaves
    it as it is). A no-op unless :func:`pause_for_set_up` ran (the command line)."""
    global _PAUSED
    if _FREEZE_SET_UP:
        gc.freeze()
        if _PAUSED:
            _PAUSED = False
            gc.enable()
