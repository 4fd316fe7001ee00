"""curate.in_memory: the runner's protocol in one process gives what the runner gives on files."""

from __future__ import annotations

import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.config import parse_pipeline
from curate.executors.local import LocalExecutor
from curate.in_memory import run_in_memory
from curate.pipeline import run_pipeline
from curate.stages.base import make_stage
from tests.conftest import stdlib_docs


def shards() -> list[pa.Table]:
    """Three shards of real text: later shards repeat earlier pages, some with a shared footer."""
    rng = random.Random(3)
    docs = [d for d in stdlib_docs() if len(d) > 400][:90]
    footer = "\nSubscribe to our newsletter for weekly updates on new releases and events."
    out = []
    for s in range(3):
        rows = []
        for i in range(40):
            text = docs[(s * 30 + i) % len(docs)] + (footer if i % 3 == 0 else "")
            rows.append(
                {
                    "id": f"s{s}-{i:02d}",
                    "text": text,
                    "url": f"https://docs.example/{rng.randrange(60)}",
                    "dump": f"CC-MAIN-2023-{s:02d}",
                    "date": f"2023-0{s + 1}-{1 + i % 28:02d}",
                }
            )
        out.append(pa.Table.from_pylist(rows))
    return out


def outcome(kept: list[pa.Table], removed: list[pa.Table]) -> tuple[dict, dict]:
    texts = {r["id"]: r["text"] for t in kept for r in t.select(["id", "text"]).to_pylist()}
    gone = {}
    for table in removed:
        for r in table.to_pylist():
            gone[r["id"]] = (r["reason"], r.get("duplicate_of"))
    return texts, gone


STAGES = [
    ("exact_dedup", {}),
    ("url_dedup", {}),
    ("minhash_dedup", {"num_perm": 64}),
    ("simhash_dedup", {}),
    ("domain_classify", {"url_rules": {"docs.example": "code"}, "default": "web"}),
]


@pytest.mark.parametrize("name, params", STAGES, ids=[s[0] for s in STAGES])
def test_in_memory_run_equals_the_runner(name, params, tmp_path):
    parts = shards()
    (tmp_path / "in").mkdir()
    for s, part in enumerate(parts):
        pq.write_table(part, tmp_path / "in" / f"part-{s}.parquet")
    config = parse_pipeline(
        {
            "name": "t",
            "input": str(tmp_path / "in"),
            "output": str(tmp_path / "out"),
            "stages": [{name: params}],
            "partitions": 3,
        }
    )
    executor = LocalExecutor(1)
    try:
        report = run_pipeline(config, executor)
    finally:
        executor.close()
    data = [pq.read_table(f) for f in sorted((tmp_path / "out" / "data").glob("*.parquet"))]
    folder = tmp_path / "out" / "removed" / name
    removed = [pq.read_table(f) for f in sorted(folder.glob("*.parquet"))]
    want = outcome(data, removed)

    run = run_in_memory(make_stage(name, params, name), parts, batch_size=16)
    got = outcome(run.kept, run.removed)
    assert got == want
    assert report["stages"][0]["docs_removed"] == len(got[1])
    if name == "simhash_dedup":  # the shared footer was cut from pages
        before = sum(len(t) for p in parts for t in p["text"].to_pylist())
        assert sum(len(t) for t in got[0].values()) < before
    elif name != "domain_classify":
        assert got[1]  # something was removed
