"""pii_scrub on full-width PII: found as its ASCII spelling, replaced at the original offsets;
ASCII text scrubbed exactly as before the fold existed."""

from __future__ import annotations

import pyarrow as pa
import pytest

from curate.pii import PATTERN_ENTITIES
from curate.stages.base import make_stage
from tests.pii.fixtures import DECOYS, full_width, make_docs

PATTERNS = {"entities": list(PATTERN_ENTITIES)}


def scrub(texts, langs, **params):
    batch = pa.RecordBatch.from_pydict({"text": texts, "language": langs})
    verdict = make_stage("pii_scrub", {**PATTERNS, **params}, "t").process(batch)
    return verdict.batch.column("text").to_pylist(), verdict.batch.column("pii_counts").to_pylist()


def test_full_width_values_are_replaced_in_place():
    text = (
        "联系人电话１３８－１２３４－５６７８，身份证２３０３８２２００１０９２８２３３Ｘ，"
        "卡号６２４６　６１０９　９０６９　５８４０，邮箱ａｂｃ＠ｅｘａｍｐｌｅ．ｃｏｍ。"
    )
    out, counts = scrub([text], ["zh"])
    assert out == ["联系人电话<PHONE>，身份证<CN_ID>，卡号<CREDIT_CARD>，邮箱<EMAIL>。"]
    assert {k for k, v in counts[0].items() if v} == {"PHONE", "CN_ID", "CREDIT_CARD", "EMAIL"}
    masked, _ = scrub([text], ["zh"], replacement="mask")
    assert len(masked[0]) == len(text) and masked[0].startswith("联系人电话*************，")


def test_a_full_width_value_hashes_as_its_ascii_spelling():
    texts = ["电话13812345678。", "电话１３８１２３４５６７８。"]
    out, _ = scrub(texts, ["zh", "zh"], replacement="hash", salt="s")
    assert out[0] == out[1] and "<PHONE:" in out[0]


@pytest.fixture(scope="module")
def zh_docs():
    texts, langs, truth = make_docs(n_en=0, n_zh=60, seed=21, per_doc=3)
    return texts, langs, [t for t in truth if t.entity != "STREET_ADDRESS"]  # Han, no width


def test_full_width_fixtures_scrub_exactly_as_their_ascii_spelling(zh_docs):
    texts, langs, truth = zh_docs
    wide = list(texts)
    for t in truth:  # full-width has the same length: the other offsets stay put
        doc = wide[t.doc]
        wide[t.doc] = doc[: t.start] + full_width(t.value) + doc[t.end :]
    assert wide != texts
    out_ascii, counts_ascii = scrub(texts, langs)
    out_wide, counts_wide = scrub(wide, langs)
    assert out_wide == out_ascii and counts_wide == counts_ascii
    assert all(full_width(t.value) not in out_wide[t.doc] for t in truth)


def test_text_without_full_width_forms_is_scrubbed_as_before(zh_docs, monkeypatch):
    texts, langs, _ = make_docs(n_en=120, n_zh=0, seed=22, per_doc=3)
    texts += DECOYS + zh_docs[0]
    langs += ["en"] * len(DECOYS) + zh_docs[1]
    now = scrub(texts, langs)
    # before: triggers as written, recognizers on the text itself
    for module in ("prescreen", "recognizers"):
        monkeypatch.setattr(f"curate.pii.{module}.fold", lambda text: text)
    monkeypatch.setattr("curate.pii.prescreen.widen", lambda pattern: pattern)
    monkeypatch.setattr("curate.pii.prescreen._widened", lambda pattern: pattern)
    assert scrub(texts, langs) == now
