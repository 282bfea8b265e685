"""tamis: turn raw web-scraped text into a clean, deduplicated, training-ready corpus."""

from __future__ import annotations

__version__ = "0.1.0"

from tamis.document import Document
from tamis.errors import ConfigError, InputError, RetryableError, StorageError, TamisError, TaskError

__all__ = [
    "ConfigError",
    "Document",
    "InputError",
    "RetryableError",
    "StorageError",
    "TamisError",
    "TaskError",
    "__version__",
]
