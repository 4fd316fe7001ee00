"""Small real runs for the report tests: 4 dumps of the bundled sample, a short pipeline."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from curate.config import parse_pipeline
from curate.executors.local import LocalExecutor
from curate.pipeline import run_pipeline

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "sample_corpus"
MODELS = REPO / "models"
ROWS_PER_DUMP = 120  # per dump, before adding the copies of these pages


def stages(keep_below: str) -> list[dict]:
    return [
        {"url_dedup": {}},
        {"exact_dedup": {}},
        {"minhash_dedup": {}},
        {"simhash_dedup": {}},
        {"domain_classify": {"url_rules": {"github.com": "code", "arxiv.org": "math"}}},
        {
            "perplexity_filter": {
                "models": {"en": str(MODELS / "en.arpa"), "zh": str(MODELS / "zh.arpa")},
                "thresholds": {"default": {"keep_below": keep_below}, "code": {"skip": True}},
            }
        },
        {"pii_scrub": {"ner_languages": []}},
        {"remix": {"temperature": 2.0}},
    ]


def run(corpus: Path, out: Path, stage_list: list[dict]) -> Path:
    config = parse_pipeline(
        {"name": "small", "input": str(corpus), "output": str(out), "stages": stage_list}
    )
    ex = LocalExecutor(2)
    try:
        run_pipeline(config, ex)
    finally:
        ex.close()
    return out


@pytest.fixture(scope="session")
def sample_slice(tmp_path_factory) -> Path:
    """The first rows of one shard per dump (dump=X/ folders, as in the bundled sample)."""
    if not (MODELS / "en.arpa").exists() or not (MODELS / "zh.arpa").exists():
        pytest.skip("demo models missing: run `make models`")
    truth = pq.read_table(SAMPLE / "manifest" / "truth.parquet", columns=["id", "cluster_id"])
    ids, clusters = truth["id"].to_pylist(), truth["cluster_id"].to_pylist()
    first = {i for i in ids if int(i.rsplit("-", 1)[1]) < ROWS_PER_DUMP}
    # the first rows of each dump, and every recrawl, mirror and near-copy of them (ground truth)
    wanted = {clusters[k] for k, i in enumerate(ids) if i in first}
    keep = pa.array(sorted(i for i, c in zip(ids, clusters) if c in wanted))
    root = tmp_path_factory.mktemp("slice")
    for dump in sorted(SAMPLE.glob("dump=*")):
        table = pa.concat_tables(pq.read_table(f) for f in sorted(dump.glob("*.parquet")))
        (root / dump.name).mkdir()
        rows = table.filter(pc.is_in(table["id"], keep))
        pq.write_table(rows, root / dump.name / "part-00000.parquet")
    return root


@pytest.fixture(scope="session")
def small_run(sample_slice, tmp_path_factory) -> Path:
    """A finished run with every section of the report: 4 dumps, perplexity, PII, remix."""
    return run(sample_slice, tmp_path_factory.mktemp("run") / "out", stages("p90"))


@pytest.fixture(scope="session")
def stricter_run(sample_slice, tmp_path_factory) -> Path:
    """The same run with a stricter perplexity threshold, for `curate report --compare`."""
    return run(sample_slice, tmp_path_factory.mktemp("run") / "out", stages("p70"))
