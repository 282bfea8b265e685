"""tamis: turn raw web-scraped text into a clean, deduplicated, training-ready corpus."""

from __future__ import annotations

__version__ = "0.1.0"

from tamis import dataclass_store

dataclass_store.install()  # before the first dataclass (tamis.document's): their code from a store

from tamis.document import Document  # noqa: E402 - after the store's set-up
from tamis.errors import ConfigError, InputError, RetryableError, StorageError, TamisError, TaskError  # noqa: E402

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
