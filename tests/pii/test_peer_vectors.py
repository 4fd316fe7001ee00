"""presidio-analyzer's own recognizer test values through pii_scrub, in three languages.

Every text of tests/pii/presidio_vectors.py is put in an English, a German and a Chinese carrier
sentence (the Chinese one with no space on either side, as Chinese is written) and the batch is
run through the pii_scrub stage, pre-screen included. A value presidio's test expects found must
be gone from the output with its entity's placeholder in its place; a text in which presidio
expects nothing must get no count of that entity. Where curate means to differ from presidio,
the case is listed in DIFFERENT with the reason, and the test holds curate to its own answer.
"""

from __future__ import annotations

import ipaddress

import pyarrow as pa
import pytest

from curate.pii import PATTERN_ENTITIES
from curate.stages.base import make_stage
from tests.pii.presidio_vectors import CASES

CARRIERS = {
    "en": "Details as requested: {} - thanks.",
    "de": "Die Angaben lauten: {} – danke.",
    "zh": "详细信息{}谢谢。",
}

_WEAK_SSN = "presidio scores it 0.05 ('very weak'); score_threshold 0.3 keeps that pattern out"
_UNSPECIFIED = "'::' is no host: presidio scores it 0.1, below score_threshold"
_DOTTED = "a longer dotted number (30.3.1.1.21 in a section heading) is no address, nor its head"

# (entity, text) -> (values curate finds instead of presidio's, why)
DIFFERENT: dict[tuple[str, str], tuple[tuple[str, ...], str]] = {
    ("US_SSN", "078-051121 07805-1121"): ((), _WEAK_SSN),
    ("US_SSN", "078051121"): ((), _WEAK_SSN),
    ("IP_ADDRESS", "Use local ipv6 ::"): ((), _UNSPECIFIED),
    ("IP_ADDRESS", "Unspecified ::"): ((), _UNSPECIFIED),
    ("IP_ADDRESS", "::/0"): ((), _UNSPECIFIED),
    ("IP_ADDRESS", "::/128"): ((), _UNSPECIFIED),
    ("IP_ADDRESS", "src=:: dst=::1"): (("::1",), _UNSPECIFIED),
    ("IP_ADDRESS", "192.168.1.1.1"): ((), _DOTTED),
}


def _expected(entity: str, text: str, values: tuple[str, ...]) -> tuple[str, ...]:
    return DIFFERENT.get((entity, text), (values, ""))[0]


def _scrub(config: dict, texts: list[str], langs: list[str]) -> tuple[list[str], list[dict]]:
    batch = pa.RecordBatch.from_pydict(
        {"id": [str(i) for i in range(len(texts))], "text": texts, "language": langs}
    )
    verdict = make_stage("pii_scrub", config, "t").process(batch)
    assert verdict.reason.null_count == len(texts)
    return verdict.batch.column("text").to_pylist(), verdict.batch.column("pii_counts").to_pylist()


def _misses(entity: str, cases, config: dict, expect=_expected) -> list[str]:
    """Every case that pii_scrub gets wrong, in every carrier, as readable lines."""
    docs, langs, meta = [], [], []
    for language, carrier in CARRIERS.items():
        for text, values in cases:
            docs.append(carrier.format(text))
            langs.append(language)
            meta.append((language, text, expect(entity, text, values)))
    out, counts = _scrub(config, docs, langs)
    misses = []
    for (language, text, values), scrubbed, count in zip(meta, out, counts):
        if values:
            left = [v for v in values if v in scrubbed]
            if left or f"<{entity}>" not in scrubbed:
                misses.append(f"{language}: {text!r}: {left or values} not scrubbed: {scrubbed!r}")
        elif count[entity]:
            misses.append(f"{language}: {text!r}: expected nothing, got {scrubbed!r}")
    return misses


ALL_PATTERNS = {"entities": list(PATTERN_ENTITIES), "private_ips_are_pii": True}


@pytest.mark.parametrize(
    "entity",
    [
        "CREDIT_CARD",
        "EMAIL",
        "IBAN",
        "IP_ADDRESS",
        "PHONE",
        "US_SSN",
        "UK_NINO",
        "URL",
        "ES_NIF",
        "ES_NIE",
        "IT_FISCAL_CODE",
        "KR_RRN",
    ],
)
def test_presidio_values_in_three_languages(entity):
    """presidio's view (every IP counts: its tests find private and loopback addresses), with
    every pattern entity of pii_scrub switched on at once, as ``pii_scrub: {}`` has them."""
    cases = CASES[entity]
    assert len(cases) >= 5 and any(v for _, v in cases)
    assert _misses(entity, cases, ALL_PATTERNS) == []


def test_presidio_turkish_phones_with_phone_regions():
    """presidio runs its Turkish cases with region TR only; ``phone_regions: [TR]`` is the same,
    and finds them in English, German and Chinese rows alike (none of them is +90-only)."""
    config = {"entities": ["PHONE"], "phone_regions": ["TR"]}
    assert _misses("PHONE", CASES["PHONE_TR"], config) == []


def test_turkish_numbers_with_the_default_regions():
    """Without TR, the Turkish national formats are still found through other regions' rules
    and the shapes; the cases presidio expects not found under TR alone are valid numbers
    elsewhere (``9123456789``: an Indian mobile), so only the found ones are held here."""
    found = [(t, v) for t, v in CASES["PHONE_TR"] if v]
    assert len(found) >= 25
    assert _misses("PHONE", found, {"entities": ["PHONE"]}) == []


def test_presidio_ip_values_public_only_by_default():
    """With the defaults only globally routable addresses count; presidio's IP tests use the
    documentation, private, loopback and link-local ranges, so most of them are kept as text.
    The expectation is Python's ipaddress, value by value."""

    def public(entity, text, values):
        values = _expected(entity, text, values)
        return tuple(
            v
            for v in values
            if (ip := ipaddress.ip_interface(v).ip).is_global and not ip.is_multicast
        )

    cases = CASES["IP_ADDRESS"]
    assert any(public("IP_ADDRESS", t, v) for t, v in cases)  # some are public
    assert _misses("IP_ADDRESS", cases, {"entities": ["IP_ADDRESS"]}, expect=public) == []


def test_every_difference_is_still_a_case():
    for entity, text in DIFFERENT:
        assert any(t == text for t, _ in CASES[entity]), (entity, text)
