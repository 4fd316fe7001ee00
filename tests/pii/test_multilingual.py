"""pii_scrub in the languages of the crawl: national ids with their check digits, local phone and
address forms, names by script whatever the row's language label, and what is not PII.

Valid ids come from benchmarks/pii_multilingual.py's generators, written from the published
check-digit rules independently of the recognizers; one changed digit must make them invalid.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pyarrow as pa
import pytest

from curate.errors import ConfigError
from curate.stages.base import make_stage

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
import pii_multilingual as gen  # noqa: E402


@pytest.fixture(scope="module")
def stage():
    return make_stage("pii_scrub", {}, "t")


def _scrub(stage, texts: list[str], langs: list[str]) -> list[str]:
    batch = pa.RecordBatch.from_pydict({"text": texts, "language": langs})
    return stage.process(batch).batch.column("text").to_pylist()


def _found(text: str, entities: list[str]) -> list[tuple[str, str]]:
    from curate.pii.recognizers import analyze, build_recognizers

    return [
        (r.entity_type, text[r.start : r.end])
        for r in analyze(text, build_recognizers("en", entities))
    ]


def _broken(value: str) -> str:
    """``value`` with its last digit changed (the check digit, or one it covers)."""
    i = max(i for i, c in enumerate(value) if c.isdigit())
    return value[:i] + str((int(value[i]) + 1) % 10) + value[i + 1 :]


@pytest.mark.parametrize(
    "entity, make",
    [
        ("DE_TAX_ID", gen.de_tax_id),
        ("FR_NIR", gen.fr_nir),
        ("NL_BSN", gen.nl_bsn),
        ("JP_MY_NUMBER", gen.jp_my_number),
    ],
)
def test_national_ids_with_their_check_digits(entity, make):
    rng = random.Random(19)
    for _ in range(30):
        value = make(rng)
        assert (entity, value) in _found(f"ID: {value}.", [entity]), value
        assert _found(f"ID: {_broken(value)}.", [entity]) == [], _broken(value)


def test_printed_groups_of_national_ids():
    assert _found("Steuer-ID 86 095 742 719", ["DE_TAX_ID"]) == [("DE_TAX_ID", "86 095 742 719")]
    nir = gen.fr_nir(random.Random(1))
    spaced = f"{nir[0]} {nir[1:3]} {nir[3:5]} {nir[5:7]} {nir[7:10]} {nir[10:13]} {nir[13:]}"
    assert _found(f"NIR : {spaced}", ["FR_NIR"]) == [("FR_NIR", spaced)]
    my = gen.jp_my_number(random.Random(2))
    grouped = f"{my[:4]} {my[4:8]} {my[8:]}"
    assert _found(f"個人番号：{grouped}。", ["JP_MY_NUMBER"]) == [("JP_MY_NUMBER", grouped)]


def test_us_ssn_and_names_whatever_the_label(stage):
    texts = [
        "Sozialversicherungsnummer (USA): 293-75-8674. Ansprechpartner: Karsten Wieloch.",
        "米国社会保障番号：317-76-9082。担当者は木村 陽一です。",
        "담당자 홍정훈 씨에게 문의하세요.",
        "本页由王芳维护。",
    ]
    values = ["293-75-8674", "Karsten Wieloch", "317-76-9082", "木村 陽一", "홍정훈", "王芳"]
    for langs in (["de", "ja", "ko", "zh"], ["en"] * 4, ["other"] * 4):
        out = "\n".join(_scrub(stage, texts, langs))
        assert [v for v in values if v in out] == [], langs


def test_local_phones_and_street_addresses(stage):
    cases = [
        ("es", "Teléfono: 912 34 56 78", "912 34 56 78"),
        ("it", "Telefono: 06 1234 5678", "06 1234 5678"),
        ("nl", "Telefoon: 020 123 4567", "020 123 4567"),
        ("ko", "전화: 02-2345-6789", "02-2345-6789"),
        ("es", "Dirección: Calle Trini Seguí 5.", "Calle Trini Seguí 5"),
        ("it", "Indirizzo: Contrada Argenti, 8.", "Contrada Argenti, 8"),
        ("nl", "Adres: Tirzalaan 6.", "Tirzalaan 6"),
        ("fr", "Adresse : rue Marguerite Grondin.", "rue Marguerite Grondin"),
        (
            "ko",
            "주소: 대구광역시 관악구 봉은사586길 602-64 입니다",
            "대구광역시 관악구 봉은사586길 602-64",
        ),
    ]
    out = _scrub(stage, [t for _, t, _ in cases], [lang for lang, _, _ in cases])
    assert [v for (_, _, v), o in zip(cases, out) if v in o] == []


def test_what_looks_like_pii_and_is_not(stage):
    decoys = [
        ("es", "Contacto: 06.07.1992", "06.07.1992"),
        ("en", "Please write to 192.168.55.112 for details.", "192.168.55.112"),
        ("de", "Kontakt: 17.15.17.12.17", "17.15.17.12.17"),
        ("nl", "Contact: 738.086.641", "738.086.641"),
        (
            "en",
            "Write to FR82 7762 4962 9890 9517 7244 297 now.",
            "FR82 7762 4962 9890 9517 7244 297",
        ),
        ("es", "version 16.1.12 2024-09-19", "version 16.1.12 2024-09-19"),
    ]
    out = _scrub(stage, [t for _, t, _ in decoys], [lang for lang, _, _ in decoys])
    assert [v for (_, _, v), o in zip(decoys, out) if v not in o] == []


def test_a_turkish_dotted_number_is_still_a_phone():
    out = make_stage("pii_scrub", {"entities": ["PHONE"], "phone_regions": ["TR"]}, "t")
    assert _scrub(out, ["Tel: 532.123.45.67"], ["en"]) == ["Tel: <PHONE>"]


def test_unknown_ner_language_is_a_config_error():
    with pytest.raises(ConfigError, match="ner_languages: no NER for 'de'"):
        make_stage("pii_scrub", {"ner_languages": ["en", "de"]}, "t")
