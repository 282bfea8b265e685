"""Normalisation of the text that is written out (comparison always uses its own form).

Every hash-based step compares :func:`tamis.text.normalize_for_hash` forms, so duplicates are
found whatever this step does. This step changes the *output* text, and by default only in
ways no reader would notice: Unicode NFC (the same letters, canonically encoded; a run of 31 or
more combining marks, which no real text holds, first gets UAX #15's stream-safe joiners, so
that NFC stays linear: :func:`tamis.text.nfc`) and removal of control characters other than tab
and line ends. Before those, mojibake is repaired (:func:`tamis.text.fix_mojibake`: UTF-8 that was
read as windows-1252 somewhere upstream, "Ã©" for "é", "â€™" for "’"; ftfy's encoding fix, as
FineWeb-2 runs datatrove's FTFYFormatter, on the lines that show the mark only). Folding
typographic apostrophes and no-break spaces is available but off: French typography uses them on
purpose.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Iterator

from tamis.document import Document
from tamis.registry import register
from tamis.steps.base import Step, TaskContext, param
from tamis.text import APOSTROPHES, fix_mojibake, nfc, nfc_unstable_bitmap

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufeff\ufffe]")


def strip_controls_reference(text: str) -> str:
    """The control characters this step removes, removed (plain-Python twin of the compiled one)."""
    return _CONTROL_RE.sub("", text)


try:  # one compiled scan, no copy when nothing is removed: the regex was most of the step's time
    from tamis._native._text import normalize_quick as _normalize_quick
    from tamis._native._text import set_nfc_unstable as _set_nfc_unstable
    from tamis._native._text import strip_controls
except ImportError:  # pragma: no cover - the extension is built on install
    strip_controls = strip_controls_reference
    _normalize_quick = None


@functools.cache
def _quick() -> Callable[[str], str | None] | None:
    """The compiled default normalisation (NFC + controls, one scan: ``normalize_quick`` in
    text.c), its NFC table handed over at first use; None where the extension is missing."""
    if _normalize_quick is None:
        return None
    _set_nfc_unstable(nfc_unstable_bitmap())
    return _normalize_quick
_SPACE_RE = re.compile(r"[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
# From the start of a run of spaces only: tried at every position of a long run that no line end
# follows, the scan to the run's end would cost n²/2 (a match from inside a run implies one from
# its start, which is tried first, so the result is the same).
_TRAILING_WS_RE = re.compile(r"(?<![ \t\u00a0\u202f])[ \t\u00a0\u202f]++(?=\r\n|\n|\r|$)")


@register("normalize")
class Normalize(Step):
    """Canonical Unicode and clean characters in the output text."""

    fix_mojibake: bool = param(True, "repair text decoded with the wrong encoding upstream (UTF-8 read as windows-1252: Ã© for é), with ftfy")
    nfc: bool = param(True, "apply Unicode NFC")
    strip_control: bool = param(True, "remove control characters (keeps tab, \\n, \\r) and stray BOMs")
    apostrophes: bool = param(False, "replace typographic apostrophes (’ ‘ ʼ ...) with '")
    spaces: bool = param(False, "replace no-break and other exotic spaces with a plain space")
    trailing_whitespace: bool = param(False, "remove spaces at the end of each line")

    def normalize(self, text: str) -> str:
        if self.fix_mojibake:
            text = fix_mojibake(text)
        quick = _quick() if self.nfc and self.strip_control else None
        done = quick(text) if quick is not None else None  # None: NFC may change the text
        if done is not None:
            text = done
        else:
            text = self.normalize_reference_nfc_controls(text)
        return self._normalize_options(text)

    def normalize_reference_nfc_controls(self, text: str) -> str:
        """NFC and the controls removed as configured, the plain way (the definition the
        compiled one-scan path is tested against)."""
        if self.nfc:
            text = nfc(text)
        if self.strip_control:
            text = strip_controls(text)
        return text

    def normalize_reference(self, text: str) -> str:
        """:meth:`normalize` without the compiled one-scan path."""
        if self.fix_mojibake:
            text = fix_mojibake(text)
        return self._normalize_options(self.normalize_reference_nfc_controls(text))

    def _normalize_options(self, text: str) -> str:
        if self.apostrophes and not text.isascii():
            for apostrophe in APOSTROPHES:
                if apostrophe in text:
                    text = text.replace(apostrophe, "'")
        if self.spaces and not text.isascii():
            text = _SPACE_RE.sub(" ", text)
        if self.trailing_whitespace:
            text = _TRAILING_WS_RE.sub("", text)
        return text

    def run(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        step_id = self.step_id
        for doc in docs:
            new_text = self.normalize(doc.text)
            if new_text != doc.text:
                doc.text = new_text
                ctx.modified(step_id)
            if not new_text or new_text.isspace():
                ctx.reject(doc, f"{step_id}:empty_after_normalize")
                continue
            yield doc
