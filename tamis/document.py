"""The one document model that flows through every step."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class Document:
    """A unit of text with a stable id and free-form metadata.

    ``metadata["source"]`` is ``{"path": str, "line": int | None}`` for documents read from
    files; steps add their own keys (``language``, ``signals``, ``repetition_removed`` ...).
    Steps may replace ``text``; the id never changes once a reader has set it.
    """

    id: str
    text: str
    metadata: dict[str, Any] = field(default_factory=dict)
