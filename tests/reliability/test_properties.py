"""Property tests: every stage that runs without heavy models, on arbitrary Unicode text.

Each stage is driven as the runner drives it (curate.pipeline: annotate, collect with _shard/_row,
one decide, apply per shard; or process per batch), on the rows the reader would let through
(non-empty text; surrogates cannot reach a stage, the reader quarantines them). Properties: no
exception; the counts balance (every row kept or removed with a reason, plus remix's copies);
idempotence where it should hold: dedup of a deduplicated set removes nothing, filtering what a
filter kept removes nothing, scrubbing scrubbed text changes nothing.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.in_memory import run_in_memory
from curate.stages.base import make_stage

REPO = Path(__file__).resolve().parents[2]
SHARDS = 2

# Arbitrary Unicode (no surrogates: Arrow strings are UTF-8), plus a pool of fixed texts so that
# duplicates and near-duplicates actually occur.
unicode_text = st.text(min_size=1, max_size=300)
pool = st.sampled_from(
    [
        "The quick brown fox jumps over the lazy dog. " * 6,
        "The quick brown fox jumps over the lazy dog! " * 6,
        "数据清洗是大语言模型预训练的重要步骤。我们对网页去重、过滤并重新混合。" * 4,
        "Contact me at jane.doe@example.com or +1 415 555 0100 for details.",
        "Subscribe to our newsletter. Privacy policy. All rights reserved.\nA real sentence.",
        "def main():\n    return 0\n",
    ]
)
texts = st.one_of(unicode_text, pool)
SAME_URL = ["https://Example.com:443/a?utm_source=x#f", "http://www.example.com/a"]
urls = st.one_of(
    st.none(),
    st.text(max_size=60),
    st.sampled_from(SAME_URL),
)
rows = st.lists(
    st.tuples(texts, urls, st.sampled_from(["CC-MAIN-2023-06", "CC-MAIN-2023-14"])),
    min_size=1,
    max_size=24,
)

SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


def readable(text: str) -> bool:
    return bool(text.strip())  # what curate.io lets through; the rest is quarantined


def shard_batches(items) -> list[pa.RecordBatch]:
    items = [r for r in items if readable(r[0])]
    out = []
    for s in range(SHARDS):
        part = items[s::SHARDS]
        if not part:  # the runner never hands a stage an empty batch
            continue
        n = len(part)
        columns = {
            "id": [f"{s}-{i}" for i in range(n)],
            "text": [r[0] for r in part],
            "url": [r[1] for r in part],
            "dump": [r[2] for r in part],
            "date": ["2023-01-01"] * n,
            "language": ["en"] * n,
            "domain": ["web"] * n,
        }
        out.append(
            pa.RecordBatch.from_pydict({k: pa.array(v, pa.string()) for k, v in columns.items()})
        )
    return out


def run_stage(stage, batches: list[pa.RecordBatch]) -> tuple[list[pa.RecordBatch], dict]:
    """One pass of ``stage`` over the shards, as the runner does it (curate.in_memory); check
    the counts balance. Returns the kept rows per shard and {docs_in, removed, added}."""
    if not batches:
        return [], {"docs_in": 0, "removed": 0, "added": 0}
    run = run_in_memory(stage, batches)
    kept, counts = [], {"docs_in": 0, "removed": 0, "added": 0}
    for batch, verdicts, keep, removed, added in zip(
        batches, run.verdicts, run.kept, run.removed, run.added
    ):
        for part, verdict in verdicts:
            assert verdict.batch.num_rows == part.num_rows == len(verdict.reason)
        counts["docs_in"] += batch.num_rows
        counts["removed"] += removed.num_rows
        counts["added"] += added.num_rows
        if removed.num_rows:  # every removed row says why
            assert all(r for r in removed.column("reason").to_pylist())
        if keep.num_rows:
            kept.append(keep.combine_chunks().to_batches()[0])
    assert counts["docs_in"] == sum(b.num_rows for b in kept) + counts["removed"]
    return kept, counts


def stage(name: str, **params):
    return make_stage(name, params, name)


DEDUP = {
    "url_dedup": {},
    "exact_dedup": {},
    "minhash_dedup": {"num_perm": 64},
}


@pytest.mark.parametrize("name", sorted(DEDUP))
@SETTINGS
@given(items=rows)
def test_dedup_of_a_deduplicated_set_removes_nothing(name, items):
    s = stage(name, **DEDUP[name])
    kept, counts = run_stage(s, shard_batches(items))
    readable_rows = [r for r in items if readable(r[0])]
    if name == "exact_dedup":  # byte-identical texts are duplicates whatever else they are
        texts = [r[0] for r in readable_rows]
        assert counts["removed"] >= len(texts) - len(set(texts))
    if name == "url_dedup":  # the two sample URLs normalise to one
        same = [r for r in readable_rows if r[1] in SAME_URL]
        assert counts["removed"] >= len(same) - 1
    again, counts2 = run_stage(stage(name, **DEDUP[name]), kept)
    assert counts2["removed"] == 0
    assert [b["id"].to_pylist() for b in again] == [b["id"].to_pylist() for b in kept]


@SETTINGS
@given(items=rows)
def test_simhash_boilerplate_cut_is_stable(items):
    s = stage("simhash_dedup")
    kept, _ = run_stage(s, shard_batches(items))
    # a second pass over what the first left finds no boilerplate left to cut or pages to drop
    again, counts = run_stage(stage("simhash_dedup"), kept)
    assert counts["removed"] == 0
    assert [b["text"].to_pylist() for b in again] == [b["text"].to_pylist() for b in kept]


@SETTINGS
@given(items=rows)
def test_quality_filter_keeps_what_it_kept(items):
    kept, _ = run_stage(stage("quality_filter"), shard_batches(items))
    _, counts = run_stage(stage("quality_filter"), kept)
    assert counts["removed"] == 0


@SETTINGS
@given(items=rows)
def test_language_id_keeps_what_it_kept(items):
    params = {"languages": ["en", "zh"], "min_score": 0.5}
    kept, _ = run_stage(stage("language_id", **params), shard_batches(items))
    _, counts = run_stage(stage("language_id", **params), kept)
    assert counts["removed"] == 0


@SETTINGS
@given(items=rows)
def test_domain_classify_by_url_rules_never_removes(items):
    s = stage("domain_classify", url_rules={"example.com": "code"}, default="web")
    kept, counts = run_stage(s, shard_batches(items))
    assert counts["removed"] == 0
    for b in kept:
        assert set(b["domain"].to_pylist()) <= {"web", "code"}


PII = {"ner_languages": []}  # pattern recognizers only: NER would make each example slow


@pytest.fixture(scope="module")
def pii():
    return stage("pii_scrub", **PII)


@SETTINGS
@given(items=rows)
def test_scrubbing_scrubbed_text_changes_nothing(pii, items):
    once, counts = run_stage(pii, shard_batches(items))
    assert counts["removed"] == 0
    twice, _ = run_stage(pii, once)
    assert [b["text"].to_pylist() for b in twice] == [b["text"].to_pylist() for b in once]


PERPLEXITY = {
    "models": {"en": str(REPO / "models" / "en_math.arpa")},
    "thresholds": {"default": {"max": 5000}},
}


@pytest.mark.skipif(
    not (REPO / "models" / "en_math.arpa").exists(), reason="demo models not built (make models)"
)
@SETTINGS
@given(items=rows)
def test_perplexity_filter_scores_any_text_and_a_fixed_cut_is_idempotent(items):
    kept, _ = run_stage(stage("perplexity_filter", **PERPLEXITY), shard_batches(items))
    for b in kept:
        scores = [p for p in b["perplexity"].to_pylist() if p is not None]
        assert all(p > 0 and p == p for p in scores)  # positive, not NaN
    _, counts = run_stage(stage("perplexity_filter", **PERPLEXITY), kept)
    assert counts["removed"] == 0


@SETTINGS
@given(items=rows, unit=st.sampled_from(["documents", "tokens"]))
def test_remix_accounts_for_copies(items, unit):
    s = stage("remix", temperature=2.0, unit=unit, max_repeat=3.0, seed=0)
    kept, counts = run_stage(s, shard_batches(items))
    # docs_in + docs_added == docs_out + docs_removed, with copies following the kept rows
    assert counts["added"] >= 0
