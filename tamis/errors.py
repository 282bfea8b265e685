"""Errors that tell the executor what to do.

    TamisError
    ├── ConfigError      usage or configuration is wrong: exit 2 before any work starts
    ├── InputError       one record or file cannot be read: the record goes to rejects
    │                    (or errors.jsonl when no record exists), the task goes on
    ├── TaskError        this task cannot finish: the other tasks go on, exit code 3
    │   └── RetryableError  a transient failure: the executor may run the task again
    └── StorageError     the run directory cannot be used safely (e.g. no atomic rename)
"""

from __future__ import annotations


class TamisError(Exception):
    """Base class of every error tamis raises on purpose."""


class ConfigError(TamisError):
    """The command line or the recipe is invalid; nothing has been run."""


class InputError(TamisError):
    """A record or file could not be read.

    Carries the file and the line (or record number) so every message names both.
    """

    def __init__(self, message: str, *, path: str, line: int | None = None, reason: str = "reader:error") -> None:
        self.path = path
        self.line = line
        self.reason = reason
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {message}")
        self.message = message


class TaskError(TamisError):
    """A task failed; the executor records it and carries on with the others."""


class RetryableError(TaskError):
    """A task failed for a reason that may pass (I/O hiccup, lost worker)."""


class StorageError(TamisError):
    """The output location cannot hold a run safely."""
