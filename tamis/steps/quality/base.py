"""What the quality filters share: the document's language and its thresholds.

Every threshold is a step parameter whose default is the published English value. For a
document in a language with its own settings (:mod:`tamis.steps.quality.languages`), the
language's value replaces a threshold *left at its default*; a threshold set in the config
applies to every language. ``per_language: false`` switches the per-language values off.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from tamis.document import Document
from tamis.steps.base import Filter, param
from tamis.steps.quality.languages import settings_for
from tamis.steps.quality.words import TextStats, text_stats


class QualityFilter(Filter):
    """Base of the Gopher, C4 and FineWeb filters."""

    # Names of the parameters that are thresholds (per-language values may replace them).
    THRESHOLDS: ClassVar[tuple[str, ...]] = ()

    language: str | None = param(None, "language of every document (default: metadata['language'], else default_language)")
    default_language: str = param("en", "language of documents that have none in their metadata")
    per_language: bool = param(True, "use the per-language thresholds of languages that have settings (fr, de, es, it, pt, nl)")

    def __post_init__(self) -> None:
        self._resolved: dict[str | None, dict[str, Any]] = {}

    def doc_language(self, doc: Document) -> str | None:
        if self.language is not None:
            return self.language
        return doc.metadata.get("language") or self.default_language

    def stats(self, doc: Document) -> TextStats:
        return text_stats(doc.text, self.doc_language(doc))

    def thresholds(self, language: str | None) -> dict[str, Any]:
        """The thresholds that apply to documents in ``language``."""
        resolved = self._resolved.get(language)
        if resolved is None:
            overrides = settings_for(language).thresholds if self.per_language else {}
            resolved = {}
            for field in dataclasses.fields(self):
                if field.name not in self.THRESHOLDS:
                    continue
                value = getattr(self, field.name)
                default = field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default
                resolved[field.name] = overrides[field.name] if value == default and field.name in overrides else value
            self._resolved[language] = resolved
        return resolved
