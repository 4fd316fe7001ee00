"""rehydrate: FineWeb-2's up-sampling by duplicate-cluster size, and minhash_dedup's
``minhash_cluster_size`` checked against a brute-force cluster count over all pairs."""

from __future__ import annotations

import random
from collections import Counter
from itertools import combinations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.errors import ConfigError, CurateError
from curate.minhash import shingles
from curate.stages.base import make_stage
from curate.stages.rehydrate import Rehydrate, RehydrateConfig, ranges
from tests.conftest import stdlib_docs
from tests.stages.test_minhash_dedup import brute_components, edit, jaccard


def stage(**params) -> Rehydrate:
    return make_stage("rehydrate", params, "stages[0].rehydrate")  # type: ignore[return-value]


def test_fineweb2_schedule_copies_by_cluster_size():
    """FineWeb-2's README, written out: 1 -> 1, 2 -> 2, 3 -> 3, 4 -> 3, 5..99 -> 5,
    100..999 -> 8, 1000 and more -> 1."""
    sizes = [1, 2, 3, 4, 5, 99, 100, 999, 1000, 5000]
    want = [1, 2, 3, 3, 5, 5, 8, 8, 1, 1]
    batch = pa.RecordBatch.from_pydict(
        {
            "id": [f"d{s}" for s in sizes],
            "text": [f"text {s}" for s in sizes],
            "minhash_cluster_size": pa.array(sizes, pa.int32()),
        }
    )
    verdict = stage().process(batch)
    assert verdict.reason.null_count == len(sizes)  # nothing removed
    assert verdict.batch["copy"].to_pylist() == [0] * len(sizes)
    added = verdict.added
    got = Counter(batch["id"].to_pylist()) + Counter(added["id"].to_pylist())
    assert [got[f"d{s}"] for s in sizes] == want
    # each copy numbered 1..k-1 after its original, text carried over
    copies = {}
    cols = [added[c].to_pylist() for c in ("id", "copy", "text")]
    for i, c, t in zip(*cols):
        copies.setdefault(i, []).append(c)
        assert t == f"text {i[1:]}"
    assert copies["d100"] == list(range(1, 8)) and "d1000" not in copies
    assert verdict.stats["rows:5-99"] == 2 and verdict.stats["copies:5-99"] == 8
    assert verdict.stats["rows:1000+"] == 2 and verdict.stats["copies:1000+"] == 0
    assert ranges(RehydrateConfig().schedule) == ["1", "2", "3-4", "5-99", "100-999", "1000+"]


def test_schedule_keys_from_json_and_bad_schedules_are_named():
    s = stage(schedule={"1": 1, "10": 3, "2": 2})  # a resumed run's params come back as JSON
    assert s.config.schedule == {1: 1, 2: 2, 10: 3}
    with pytest.raises(ConfigError, match=r"rehydrate: schedule: needs an entry for size 1"):
        stage(schedule={2: 2})
    with pytest.raises(ConfigError, match=r"rehydrate: schedule: sizes and copies"):
        stage(schedule={1: 1, 5: 0})
    with pytest.raises(ConfigError, match=r"rehydrate: schedule: keys must be"):
        stage(schedule={1: 1, "many": 3})


def test_bad_rows_are_named():
    batch = pa.RecordBatch.from_pydict({"id": ["a", "b"], "text": ["x", "y"]})
    with pytest.raises(CurateError, match="no column 'minhash_cluster_size'"):
        stage().process(batch)
    batch = batch.append_column("minhash_cluster_size", pa.array([3, None], pa.int32()))
    with pytest.raises(CurateError, match=r"row 1 \(id 'b'\): minhash_cluster_size = None"):
        stage().process(batch)
    taken = batch.slice(0, 1).append_column("copy", pa.array([0]))
    with pytest.raises(CurateError, match="already have a column 'copy'"):
        stage().process(taken)


def clustered_rows(seed: int, base: int = 120) -> list[dict]:
    """Real text (stdlib docstrings of 150+ words) and 0 to 6 copies of each, in three dumps:
    a copy has one word replaced (Jaccard >= (150 - 5) / (150 + 5) = 0.935 with its original,
    where LSH misses a pair with probability (1 - 0.935^8)^16 < 1e-5) or 40% of its words edited
    (Jaccard ~0.4: not a duplicate). Clusters of 1 to 7 documents."""
    rng = random.Random(seed)
    docs = [d for d in stdlib_docs(600) if len(d.split()) >= 150]
    rng.shuffle(docs)
    rows = []
    for i, text in enumerate(docs[:base]):
        rows.append({"id": f"b{i:04d}", "text": text, "dump": "d1", "date": None})
        for c in range(rng.choice([0, 0, 0, 1, 1, 2, 3, 6])):
            words = text.split()
            if rng.random() < 0.8:
                words[rng.randrange(len(words))] = f"changed{c}"
                copy = " ".join(words)
            else:
                copy = edit(text, rng, 0.4)
            rows.append(
                {
                    "id": f"c{i:04d}-{c}",
                    "text": copy,
                    "dump": rng.choice(["d1", "d2", "d3"]),
                    "date": None,
                }
            )
    rng.shuffle(rows)
    return rows


def brute_cluster_sizes(rows: list[dict], threshold: float = 0.8) -> dict[str, int]:
    """{id: size of its connected component} over all pairs at exact Jaccard >= threshold."""
    sets = [set(shingles(r["text"])) for r in rows]
    edges = [
        (i, j)
        for i, j in combinations(range(len(rows)), 2)
        if jaccard(sets[i], sets[j]) >= threshold
    ]
    labels = brute_components(len(rows), edges)
    size = Counter(labels)
    return {r["id"]: size[labels[i]] for i, r in enumerate(rows)}


@pytest.mark.parametrize("with_index", [False, True])
def test_cluster_sizes_and_copies_against_brute_force(tmp_path, with_index):
    """The runner (partitioned MinHash barrier, 3 shards, 2 workers; with a fresh cross-dump
    index too, whose rounds commit the three dumps), then rehydrate: every kept row's and
    removed row's minhash_cluster_size is its exact-Jaccard component's size, and every
    survivor appears schedule(size) times; the report balances with the copies as added
    rows."""
    from curate.config import parse_pipeline
    from curate.executors.local import LocalExecutor
    from curate.pipeline import run_pipeline
    from curate.report import check_balance

    rows = clustered_rows(seed=3)
    folder = tmp_path / "in"
    folder.mkdir()
    table = pa.Table.from_pylist(rows)
    for i in range(3):
        a, b = i * table.num_rows // 3, (i + 1) * table.num_rows // 3
        part = table.slice(a, b - a)
        pq.write_table(part, folder / f"part-{i}.parquet")
    schedule = {1: 1, 2: 2, 3: 4}
    config = parse_pipeline(
        {
            "name": "t",
            "input": str(folder),
            "output": str(tmp_path / "out"),
            "stages": [
                {"minhash_dedup": {"index": str(tmp_path / "index")} if with_index else {}},
                {"rehydrate": {"schedule": schedule}},
            ],
            "batch_size": 32,
        }
    )
    ex = LocalExecutor(2)
    try:
        report = run_pipeline(config, ex)
    finally:
        ex.close()
    assert check_balance(report) == []
    if with_index:
        from curate.index import index_info

        dumps = index_info(tmp_path / "index")["dumps"]
        assert [d["dump"] for d in dumps] == ["d1", "d2", "d3"]
    truth = brute_cluster_sizes(rows)
    assert Counter(truth.values())[1] > 30 and max(truth.values()) >= 5
    out = pq.read_table(tmp_path / "out" / "data").to_pylist()
    removed = pq.read_table(tmp_path / "out" / "removed" / "minhash_dedup").to_pylist()
    assert {r["id"]: r["minhash_cluster_size"] for r in out + removed} == truth
    copies = Counter(r["id"] for r in out)
    want = {i: schedule[min(truth[i], 3)] for i in copies}
    assert copies == want
    assert sorted(r["copy"] for r in out if r["id"] == max(want, key=want.get)) == [0, 1, 2, 3]
    reh = report["stages"][1]
    assert reh["docs_added"] == sum(w - 1 for w in want.values()) > 0
    assert reh["docs_removed"] == 0 and reh["docs_out"] == len(out)
    assert reh["extra"]["rows:3+"] == sum(truth[i] >= 3 for i in copies)
    from curate.report.sections import rehydration

    html = rehydration(report)
    n3 = int(reh["extra"]["rows:3+"])
    assert "<td>3+</td><td>4</td>" in html and f"<td>{n3:,}</td><td>{4 * n3:,}</td>" in html
