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
              "(555) 123-4567", "555.123.4567", "030 12345678", "06 12 34 56 78"]


def _reference_redact(text: str) -> tuple[str, dict[str, int]]:
    import re as _re

    from tamis.steps import pii

    saved = pii.EMAIL_RE, pii.IPV4_RE, pii._NINE_DIGITS
    pii.EMAIL_RE, pii.IPV4_RE, pii._NINE_DIGITS = _re.compile(pii.EMAIL_REFERENCE), _re.compile(pii.IPV4_REFERENCE), _re.compile("")
    try:
        return Redactor("<EMAIL>", "<IP>", "<PHONE>").redact(text)
    finally:
        pii.EMAIL_RE, pii.IPV4_RE, pii._NINE_DIGITS = saved


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
