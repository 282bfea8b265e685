"""PII redaction: what is replaced, what is left alone, and how it is counted."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from quality_docs import run_step

from tamis.errors import ConfigError
from tamis.pipeline import build_steps
from tamis.steps.pii import PiiRedaction, Redactor


def redact(text: str) -> str:
    return Redactor("<EMAIL>", "<IP>", "<PHONE>").redact(text)[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Écrivez à marie.curie@labo-exemple.fr avant lundi.", "Écrivez à <EMAIL> avant lundi."),
        ("contact: first.last+news@mail.example.co.uk.", "contact: <EMAIL>."),
        ("Le serveur 192.168.10.20 ne répond plus.", "Le serveur <IP> ne répond plus."),
        ("Route via 2001:db8:85a3::8a2e:370:7334 today", "Route via <IP> today"),
        ("ping fe80::1ff:fe23:4567:890a now", "ping <IP> now"),
        ("Appelez le 06 12 34 56 78 ou le 01.23.45.67.89.", "Appelez le <PHONE> ou le <PHONE>."),
        ("Depuis l'étranger : +33 6 12 34 56 78.", "Depuis l'étranger : <PHONE>."),
        ("Call (555) 123-4567 or 555-987-6543 today.", "Call <PHONE> or <PHONE> today."),
        ("Berlin office: 030 12345678.", "Berlin office: <PHONE>."),
    ],
)
def test_redacts(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Installez la version 1.2.3.4 du logiciel.",  # a version, by its context
        "Update to v10.0.0.1 before Friday.",
        "The release 2.4.1.0 fixes the bug.",
        "Le paquet 1.2.3.4.5 est publié.",  # more than four numbers: not an address
        "Not an address: 256.300.1.1.",
        "Réunion le 15/03/2024 à 10:30:00, puis le 01.02.2024 et le 2024-03-15.",  # dates and times
        "Prix : 1 299,99 € ou $1,299.99, soit 12 345 678 euros en tout.",  # prices
        "Entre 7 000 et 10 000 hommes, de 2012 à 2016 (2012-2016).",  # quantities and ranges
        "ISBN 978-2-07-036822-8 and std::vector or a::b in C++.",
        "Le code postal 75001 et le numéro 42.",
    ],
)
def test_leaves_alone(text):
    assert redact(text) == text


def test_counts_documents_and_units():
    texts = [
        "Mail a@example.org or b@example.org, server 10.1.2.3, phone +44 20 7946 0958.",
        "Nothing personal here, just version 1.2.3.4.",
    ]
    kept, ctx = run_step(PiiRedaction(), texts)
    assert len(kept) == 2  # redaction never drops a document
    assert kept[0].text == "Mail <EMAIL> or <EMAIL>, server <IP_ADDRESS>, phone <PHONE>."
    assert kept[1].text == texts[1]
    assert ctx.stats.modified["pii"] == 1
    assert ctx.stats.removed_units["pii.emails"] == 2
    assert ctx.stats.removed_units["pii.ips"] == 1
    assert ctx.stats.removed_units["pii.phones"] == 1


def test_placeholders_are_configurable_and_kinds_can_be_off():
    kept, _ = run_step(PiiRedaction(email_placeholder="[courriel]", phone_placeholder=None),
                       ["Écrire à jean@example.fr ou appeler le 06 12 34 56 78."])
    assert kept[0].text == "Écrire à [courriel] ou appeler le 06 12 34 56 78."


def test_bad_placeholder_is_a_config_error():
    with pytest.raises(ConfigError, match="email_placeholder"):
        build_steps([{"step": "pii", "email_placeholder": 3}])


# The rewritten patterns (lookbehind after the first character) and the nine-digit prefilter
# against the plain definitions, on text made of what the patterns look at.
_PII_ATOMS = ["0", "1", "2", "5", "9", "٣", "²", "12", "255", "256", "1234", "0612345678", ".", "..", "+", "+33", "(", ")", "(0)", " ", "  ",
              "\t", "\n", "\u00a0", "-", "/", ",", ":", "::", "@", "a", "Z", "é", "_", "x1", "fe80", "db8", "version ", "v", "build ", "$",
              "€", "EUR", "%", "euros", "marie.curie", "mail.example.co.uk", "a@b.cd", "2024-03-15", "10:30:00", "192.168.0.1", "+33 6 12 34 56 78",
              "(555) 123-4567", "555.123.4567", "030 12345678", "06 12 34 56 78", "2001:db8::1", "fe80::1ff:fe23:4567:890a", "a::b",
              "1:2:3:4:5:6:7:8", "::ffff:10.0.0.1", "ABCD:", "@@", "a.b@c", ".de", "1.2.3.4.5", "x+y-z_w"]


def _reference_redact(text: str) -> tuple[str, dict[str, int]]:
    return Redactor("<EMAIL>", "<IP>", "<PHONE>").redact_reference(text)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_PII_ATOMS), st.text(max_size=4)), max_size=50))
def test_fast_patterns_equal_the_reference(atoms):
    import re as _re

    from tamis.steps import pii

    text = "".join(atoms)
    for fast, reference in ((pii.EMAIL_RE, pii.EMAIL_REFERENCE), (pii.IPV4_RE, pii.IPV4_REFERENCE)):
        assert [m.span() for m in fast.finditer(text)] == [m.span() for m in _re.finditer(reference, text)]
    assert Redactor("<EMAIL>", "<IP>", "<PHONE>").redact(text) == _reference_redact(text)


def test_phone_prefilter_skips_only_texts_without_nine_digits():
    from tamis.steps import pii

    assert pii._NINE_DIGITS.search("call +33 (0)6 12-34/56.78")
    assert not pii._NINE_DIGITS.search("version 1.2.3.4, 2024-03-15")
    assert redact("1 2 3 4 5 6 7 8 9 0 " * 3) == _reference_redact("1 2 3 4 5 6 7 8 9 0 " * 3)[0]


@pytest.mark.parametrize("placeholders", [("<EMAIL>", "<IP>", "<PHONE>"), ("[\\g<0>]", r"\n", ""), (None, "ip", None)])
@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_PII_ATOMS), st.text(max_size=4)), max_size=60))
def test_hinted_starts_equal_the_whole_scan(placeholders, atoms):
    # redact tries each pattern only where a hint says a match may start; the reference scans
    # every position: the same text and counts, with placeholders that are templates too
    redactor = Redactor(*placeholders)
    text = "".join(atoms)
    assert redactor.redact(text) == redactor.redact_reference(text)


def test_hints_on_long_runs_stay_linear():
    import time

    redactor = Redactor("<EMAIL>", "<IP>", "<PHONE>")
    for text in ("a" * 200_000 + "@example.org", "1." * 100_000 + "1", "::" * 100_000, "@" * 200_000, "a@" * 100_000):
        started = time.process_time()
        assert redactor.redact(text) == redactor.redact_reference(text)
        assert time.process_time() - started < 5


_DIGIT_RUN_CHARS = "0123456789٣٤੫²¹½+()./- \t\n\x0b\x1c\x85\u00a0\u2003\u3000a,:_é𝟗"


@settings(max_examples=1000, deadline=None)
@given(st.text(alphabet=_DIGIT_RUN_CHARS, max_size=40))
def test_compiled_nine_digits_equal_the_pattern(text):
    from tamis.steps import pii

    # as it is, its one-byte characters alone (the one-byte loop), and as a two- and a four-byte string
    narrow = text.encode("latin-1", "ignore").decode("latin-1")
    for variant in (text, narrow, narrow + "\u0660a", narrow + "\U0001d7d7a"):
        assert pii.nine_digits(variant) == pii.nine_digits_reference(variant)


def test_compiled_nine_digits_on_every_code_point():
    # each code point between four digits and four more: nine digits in a row exactly where it
    # is a digit (re's \d) and none where it is neither a digit nor a separator ([+()\s./-]);
    # the classes read from the pattern's own engine over a text of every code point
    import re as _re

    from tamis.steps import pii

    every = "".join(chr(code) for code in range(0x110000))
    digits = set(_re.findall(r"\d", every))
    separators = set(_re.findall(r"[+()\s./-]", every))
    for char in every:
        assert pii.nine_digits("1234" + char + "5678") == (char in digits), hex(ord(char))
        assert pii.nine_digits("1234" + char + "56789") == (char in digits or char in separators), hex(ord(char))
