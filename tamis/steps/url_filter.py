"""``url_filter``: drop pages whose URL is on a block-list the user gives.

The block-list is a text file, one rule a line (``#`` starts a comment):

- ``example.com`` — a domain: blocks ``example.com`` and every subdomain (``www.example.com``,
  ``a.b.example.com``), never ``notexample.com``. Matched by walking the host's suffixes in a
  set, so lists of millions of domains (e.g. the UT1 blacklists FineWeb uses) cost one lookup
  per label.
- ``substring:casino`` (or any line with a ``/``, ``?``, ``=`` or space) — blocks every URL that
  contains the text, case-insensitively.
- ``domain:example.com`` names a domain explicitly.

The rejection reason names the kind of rule (``url_filter:domain``, ``url_filter:substring``)
and the detail is the rule that matched. Documents without a URL pass through.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from tamis.document import Document
from tamis.errors import ConfigError
from tamis.registry import register
from tamis.steps.base import Step, TaskContext, param

_DOMAIN_RE = re.compile(r"^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?$")


def parse_rules(lines: Iterable[str], where: str) -> tuple[set[str], list[str]]:
    """(domains, substrings) from block-list lines; ConfigError names a malformed line."""
    domains: set[str] = set()
    substrings: list[str] = []
    for number, raw in enumerate(lines, 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith("substring:") else raw.strip()
        if not line:
            continue
        kind, sep, value = line.partition(":")
        if sep and kind in ("domain", "substring"):
            value = value.strip()
        else:
            kind, value = ("substring", line) if any(ch in line for ch in "/?= ") else ("domain", line)
        if not value:
            msg = f"{where}:{number}: empty {kind} rule"
            raise ConfigError(msg)
        if kind == "domain":
            value = value.lower().removeprefix("*.").removeprefix(".").rstrip(".")
            if not _DOMAIN_RE.match(value):
                msg = f"{where}:{number}: {value!r} is not a domain (write substring:{value} to match it anywhere in the URL)"
                raise ConfigError(msg)
            domains.add(value)
        else:
            substrings.append(value.lower())
    return domains, substrings


@register("url_filter")
class UrlFilter(Step):
    """Reject pages whose URL matches a block-list of domains or URL substrings."""

    blocklist: str | None = param(None, "block-list file: one domain or substring:TEXT per line")
    rules: list[str] = param([], "extra rules, written as lines of the block-list")
    url_field: str = param("url", "metadata key that holds the page URL")

    def __post_init__(self) -> None:
        lines: list[str] = []
        where = "url_filter.rules"
        if self.blocklist:
            path = Path(self.blocklist)
            try:
                lines = path.read_text(encoding="utf-8").splitlines()
            except (OSError, UnicodeDecodeError) as exc:
                msg = f"url_filter: cannot read the block-list {self.blocklist}: {exc}"
                raise ConfigError(msg) from None
            where = self.blocklist
        domains, substrings = parse_rules(lines, where)
        more_domains, more_substrings = parse_rules(self.rules, "url_filter.rules")
        self._domains = domains | more_domains
        self._substrings = substrings + more_substrings
        # A host can only match a rule with as many labels: suffixes with more are never built
        # (a hostile host of n labels would otherwise cost n²/2 characters of joins).
        self._max_labels = max((domain.count(".") + 1 for domain in self._domains), default=0)
        if not self._domains and not self._substrings:
            raise ConfigError("url_filter: the block-list is empty (give blocklist: FILE or rules: [...])")
        self._substring_re = re.compile("|".join(map(re.escape, sorted(set(self._substrings), key=len, reverse=True)))) if self._substrings else None

    def fingerprint_extra(self) -> dict[str, Any]:
        # The block-list file's rules, not its name: editing the file changes the run.
        return {"domains": sorted(self._domains), "substrings": sorted(set(self._substrings))}

    def match(self, url: str) -> tuple[str, str] | None:
        """(kind, rule) of the first rule that blocks ``url``, or None."""
        lowered = url.strip().lower()
        try:
            host = urlsplit(lowered if "//" in lowered else "//" + lowered).hostname or ""
        except ValueError:
            host = ""
        if host and self._domains:
            labels = host.rstrip(".").split(".")
            for i in range(max(0, len(labels) - self._max_labels), len(labels)):
                candidate = ".".join(labels[i:])
                if candidate in self._domains:
                    return "domain", candidate
        if self._substring_re is not None:
            found = self._substring_re.search(lowered)
            if found:
                return "substring", found.group(0)
        return None

    def run(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        step_id = self.step_id
        for doc in docs:
            url = doc.metadata.get(self.url_field)
            if isinstance(url, str) and url:
                hit = self.match(url)
                if hit is not None:
                    ctx.reject(doc, f"{step_id}:{hit[0]}", detail=hit[1])
                    continue
            yield doc
