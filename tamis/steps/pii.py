"""Redaction of personal data: e-mail addresses, IP addresses and phone numbers.

Each match is replaced by a placeholder (configurable; ``<EMAIL>``, ``<IP_ADDRESS>``,
``<PHONE>`` by default). A changed document counts once under ``modified["pii"]`` and each
replacement under ``removed_units["pii.emails" | "pii.ips" | "pii.phones"]``.

What is *not* personal data, and is left alone:
- version numbers: a dotted quad right after "version", "v", "ver.", "release", "build",
  "firmware" or "update" (``version 1.2.3.4``, ``v10.0.0.1``) is a version, not an address,
  and so is a dotted run of more than four numbers (``1.2.3.4.5``);
- dates (``2024-03-15``, ``15/03/2024``, ``01.02.2024``) and times (``10:30:00``): a phone
  candidate shaped like a date is skipped, and IPv6 candidates must parse as IPv6;
- prices and quantities (``1 299,99 €``, ``$1,299.99``, ``7 000 hommes``): a phone number is
  only recognised in a phone shape (international ``+33 6 12 34 56 78``, North American
  ``(555) 123-4567`` / ``555-123-4567``, French national ``06 12 34 56 78``, or a leading-zero
  area code ``030 12345678``), never next to a currency sign.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Iterator

from tamis.document import Document
from tamis.registry import register
from tamis.steps.base import Step, TaskContext, param

EMAIL_REFERENCE = r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b"
IPV4_REFERENCE = r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w]|\.\d)"
# The same two patterns with the start's lookbehind moved after the first character (the same
# matches, tried in the same order: tests compare them with the *_REFERENCE forms). A pattern
# that starts with a character class lets re skip to the next position that can start a match
# in a C loop; one that starts with a lookbehind is tried at every position (2-3x the time).
EMAIL_RE = re.compile(r"[\w.+-](?<![\w.+-][\w.+-])[\w.+-]*@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
IPV4_RE = re.compile(r"\d(?<![\w.]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![\w]|\.\d)")
IPV6_RE = re.compile(r"(?<![\w:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])")
PHONE_RE = re.compile(
    r"""(?<![\w+$€£¥./,-])(?:
        \+\d{1,3}[\s.-]?(?:\(0\)[\s.-]?)?\(?\d{1,4}\)?(?:[\s.-]?\d{2,4}){2,5}   # +33 6 12 34 56 78
      | \(\d{3}\)\s?\d{3}[\s.-]\d{4}                                         # (555) 123-4567
      | \d{3}-\d{3}-\d{4} | \d{3}\.\d{3}\.\d{4}                              # 555-123-4567
      | 0[1-9](?:[\s.-]?\d{2}){4}                                            # 06 12 34 56 78
      | 0\d{2,4}[\s/-]\d{4,8}                                                # 030 12345678
    )(?![\w€£¥$%]|[.,]\d|\s?(?:€|\$|£|%|EUR|USD|euros?\b|dollars?\b))""",
    re.X,
)
# Every phone candidate the redaction replaces holds 9 to 15 digits and only digits, "+", brackets,
# spaces, ".", "/" and "-": so it holds 9 digits with only those between them, which this finds
# (from a digit: re skips to the next one in C). A text without it keeps every phone candidate
# (the callback returns it unchanged), so PHONE_RE's scan of every position is skipped there.
_NINE_DIGITS = re.compile(r"\d[+()\s./-]*+(?:\d[+()\s./-]*+){8}")


def nine_digits_reference(text: str) -> bool:
    """Whether ``text`` holds nine digits with only ``[+()\\s./-]`` between them (the phone prefilter's definition)."""
    return _NINE_DIGITS.search(text) is not None


try:  # one compiled pass over the text (the pattern's scan tries the rest at every digit)
    from tamis._native._words import digit_run as _digit_run
except ImportError:  # pragma: no cover - the extension is built on install
    nine_digits = nine_digits_reference
else:

    def nine_digits(text: str) -> bool:
        """:func:`nine_digits_reference`, compiled."""
        return _digit_run(text, 9)
_VERSION_CONTEXT = re.compile(r"\b(?:version|ver\.?|v|release|build|firmware|update|mise à jour)\s*$", re.I)
_DATE_SHAPE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")
_CURRENCY_BEFORE = re.compile(r"(?:[$€£¥]|EUR|USD)\s?$")


def _is_version(text: str, start: int) -> bool:
    return bool(_VERSION_CONTEXT.search(text[max(0, start - 20) : start]))


# Where each kind's matches can start, found from a character that every match holds: re skips
# to a pattern's literal first character in a tight loop, where a pattern that starts with a
# class (EMAIL_RE, IPV4_RE) tests the class at every position and one that starts with a
# lookbehind (IPV6_RE) is tried at every position: ~0.5 k instructions a character of a kept
# page, the largest part of the step. Every match holds:
# - an "@" (e-mail), and starts where the run of [\w.+-] before that "@" starts;
# - a digit, a ".", three octets' digits and dots: the first "." of an address, then "\d{1,3}\."
#   twice and a digit (IPv4), the address starting 1-3 characters before that ".";
# - two ":" with at most four hex digits between them (IPv6: its first two groups), the address
#   starting 0-4 characters before the first.
# Trying the pattern itself (match, at those starts only, in order) finds the matches the scan
# finds (the same pattern, the same leftmost start at or after the last match's end).
_IPV4_HINT = re.compile(r"\.(?<=\d\.)\d{1,3}\.\d{1,3}\.\d")
_IPV6_HINT = re.compile(r":[0-9A-Fa-f]{0,4}:")
_LOCAL_PUNCT = "_.+-"


def _email_starts(text: str) -> Iterator[int]:
    """The one place an e-mail match may start for each "@" (in order): where the run of the
    local part's characters before it starts (``str.isalnum`` is re's word class but "_"), if
    that run is not empty. No run holds an "@", so the walks back are linear in the text."""
    at = text.find("@")
    while at != -1:
        start = at
        while start and (text[start - 1].isalnum() or text[start - 1] in _LOCAL_PUNCT):
            start -= 1
        if start < at:
            yield start
        at = text.find("@", at + 1)


def _hinted_starts(text: str, hint: re.Pattern[str], before: int) -> Iterator[int]:
    """Each position from ``before`` characters before a match of ``hint`` to its start, in
    order and once (the hints found one after another, overlapping ones too)."""
    tried = -1
    found = hint.search(text)
    while found is not None:
        at = found.start()
        yield from range(max(at - before, tried + 1), at + 1)
        tried = at
        found = hint.search(text, at + 1)


def _sub_at(pattern: re.Pattern[str], text: str, starts: Iterator[int], replace: Callable[[re.Match[str]], str]) -> str:
    """``pattern.sub(replace, text)`` where every match starts at one of ``starts`` (increasing):
    each start at or past the last match's end is tried in turn, the first that matches is the
    match ``sub``'s scan finds from there. No match: ``text`` itself."""
    pieces: list[str] = []
    end = 0
    for start in starts:
        if start < end:
            continue
        match = pattern.match(text, start)
        if match is not None:
            pieces.append(text[end:start])
            pieces.append(replace(match))
            end = match.end()
    if not pieces:
        return text
    pieces.append(text[end:])
    return "".join(pieces)


class Redactor:
    """Finds and replaces the three kinds of personal data in one text."""

    def __init__(self, email: str | None, ip: str | None, phone: str | None) -> None:
        self.email, self.ip, self.phone = email, ip, phone

    def redact(self, text: str) -> tuple[str, dict[str, int]]:
        """:meth:`redact_reference`, each kind's pattern tried only where a match can start
        (see ``_IPV4_HINT``), the phone pattern only on a text with nine digits in a row."""
        counts = {"emails": 0, "ips": 0, "phones": 0}
        if self.email is not None and "@" in text:
            text = _sub_at(EMAIL_RE, text, _email_starts(text), lambda m: self._email(m, counts))
        if self.ip is not None:
            if "." in text:
                text = _sub_at(IPV4_RE, text, _hinted_starts(text, _IPV4_HINT, 3), lambda m: self._ipv4(m, counts))
            if "::" in text or text.count(":") >= 7:
                text = _sub_at(IPV6_RE, text, _hinted_starts(text, _IPV6_HINT, 4), lambda m: self._ipv6(m, counts))
        if self.phone is not None and nine_digits(text):
            text = PHONE_RE.sub(lambda m: self._phone(m, counts), text)
        return text, counts

    def redact_reference(self, text: str) -> tuple[str, dict[str, int]]:
        """The plain definition: each pattern's scan over the whole text (the e-mail and IPv4
        patterns as first written, ``*_REFERENCE``), in this order."""
        counts = {"emails": 0, "ips": 0, "phones": 0}
        if self.email is not None and "@" in text:
            text, counts["emails"] = re.subn(EMAIL_REFERENCE, self.email, text)
        if self.ip is not None:
            if "." in text:
                text = re.sub(IPV4_REFERENCE, lambda m: self._ipv4(m, counts), text)
            if "::" in text or text.count(":") >= 7:
                text = IPV6_RE.sub(lambda m: self._ipv6(m, counts), text)
        if self.phone is not None:
            text = PHONE_RE.sub(lambda m: self._phone(m, counts), text)
        return text, counts

    def _email(self, match: re.Match[str], counts: dict[str, int]) -> str:
        counts["emails"] += 1
        # subn's template: the placeholder as it is, backslash escapes expanded where it holds one
        return match.expand(self.email) if "\\" in self.email else self.email  # type: ignore[operator,arg-type]

    def _ipv4(self, match: re.Match[str], counts: dict[str, int]) -> str:
        candidate = match.group()
        if any(int(part) > 255 for part in candidate.split(".")) or _is_version(match.string, match.start()):
            return candidate
        counts["ips"] += 1
        return self.ip or ""

    def _ipv6(self, match: re.Match[str], counts: dict[str, int]) -> str:
        candidate = match.group()
        # Scope operators (a::b) and loopback (::1) are not personal: ask for a digit and length.
        if len(candidate) < 6 or not any(c.isdigit() for c in candidate):
            return candidate
        try:
            ipaddress.IPv6Address(candidate)
        except ValueError:
            return candidate
        counts["ips"] += 1
        return self.ip or ""

    def _phone(self, match: re.Match[str], counts: dict[str, int]) -> str:
        candidate = match.group()
        digits = sum(c.isdigit() for c in candidate)
        if not 9 <= digits <= 15 or _DATE_SHAPE.fullmatch(candidate.strip()):
            return candidate
        if _CURRENCY_BEFORE.search(match.string[max(0, match.start() - 5) : match.start()]):
            return candidate
        counts["phones"] += 1
        return self.phone or ""


@register("pii")
class PiiRedaction(Step):
    """Replace e-mail addresses, IP addresses and phone numbers with placeholders."""

    email_placeholder: str | None = param("<EMAIL>", "replacement for e-mail addresses (null: leave them)")
    ip_placeholder: str | None = param("<IP_ADDRESS>", "replacement for IPv4 and IPv6 addresses (null: leave them)")
    phone_placeholder: str | None = param("<PHONE>", "replacement for phone numbers (null: leave them)")

    def __post_init__(self) -> None:
        for name in ("email_placeholder", "ip_placeholder", "phone_placeholder"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                msg = f"{name} must be a string or null, got {value!r}"
                raise ValueError(msg)
        self._redactor = Redactor(self.email_placeholder, self.ip_placeholder, self.phone_placeholder)

    def run(self, docs: Iterable[Document], ctx: TaskContext) -> Iterator[Document]:
        step_id = self.step_id
        for doc in docs:
            text, counts = self._redactor.redact(doc.text)
            if text != doc.text:
                doc.text = text
                ctx.modified(step_id)
                for unit, count in counts.items():
                    if count:
                        ctx.stats.removed_units[f"{step_id}.{unit}"] += count
            yield doc
