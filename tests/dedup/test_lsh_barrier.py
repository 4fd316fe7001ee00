"""minhash_dedup's partitioned barrier (curate.dedup.lsh_barrier) against the in-memory one: the
same decision file per shard, row for row (duplicate_of and cluster included), and the same
counters, whatever the partitions, the shard layout, ``verify`` or ``keep``."""

from __future__ import annotations

import math
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.collected import CollectedFiles, run_here
from curate.dedup import lsh_barrier
from curate.dedup.lsh_barrier import CLUSTER_SIZE
from curate.stages.base import ROW, SHARD, DecisionFiles
from curate.stages.minhash_dedup import MinHashDedup, MinHashDedupConfig
from tests.dedup import InTasks
from tests.stages.test_minhash_dedup import near_duplicate_rows

PARTITIONED_ONLY = ("partitions", "groups", "component_rounds")


def rows_with_ties(seed: int) -> list[dict]:
    """Near-duplicates in three dumps with dates, some equal (ties go to the id), and rows with
    no shingle (empty: never in a bucket) or one (fewer words than the n-gram)."""
    rng = random.Random(seed)
    rows = near_duplicate_rows(seed=seed, base=120, dumps=("d1", "d2", "d3"))
    for r in rows:
        r["date"] = rng.choice([None, "2023-01-02", "2023-01-02", "2023-05-09"])
    rows += [{"id": "empty", "text": "", "dump": "d1", "date": None}]
    rows += [{"id": "short", "text": "two words", "dump": "d2", "date": None}]
    rng.shuffle(rows)
    return rows


def layout(rows: list[dict], shards: int, empty: int | None) -> list[list[dict]]:
    """Rows cut into ``shards`` consecutive shards, shard ``empty`` with none."""
    cut = [rows[i * len(rows) // shards : (i + 1) * len(rows) // shards] for i in range(shards)]
    if empty is not None:
        cut[(empty + 1) % shards] += cut[empty]
        cut[empty] = []
    return cut


def collect_files(stage, per_shard: list[list[dict]], folder) -> list:
    """The runner's collect files: part-<shard>.parquet with _shard, _row and the keys."""
    folder.mkdir(parents=True)
    paths, tables = [], []
    for s, part in enumerate(per_shard):
        path = folder / f"part-{s:05d}.parquet"
        paths.append(path)
        if not part:  # the runner's file for a shard with no row: _shard and _row only
            empty = pa.table({SHARD: pa.array([], pa.int32()), ROW: pa.array([], pa.int64())})
            pq.write_table(empty, path)
            continue
        batch = pa.RecordBatch.from_pylist([{**r, ROW: j} for j, r in enumerate(part)])
        keys = stage.collect(batch)
        keys = keys.add_column(0, SHARD, pa.array([s] * keys.num_rows, pa.int32()))
        pq.write_table(keys, path, row_group_size=7)
        tables.append(keys)
    return paths, pa.concat_tables(tables)


def in_memory(stage, table: pa.Table, shards: int) -> tuple[dict, dict]:
    decision, summary = stage.decide(table)
    parts = {s: stage.decision_for_shard(decision, s) for s in range(shards)}
    return {s: t for s, t in parts.items() if t is not None and t.num_rows}, summary


def partitioned(stage, paths, tmp_path, partitions: int) -> tuple[dict, dict]:
    """Each shard's decision file (removals, and survivors with their cluster sizes) and the
    summary."""
    decisions = tmp_path / "decisions"
    collected = CollectedFiles(paths, tmp_path / "scratch", decisions, partitions)
    decision, summary = stage.barrier(collected, run_here)
    assert isinstance(decision, DecisionFiles)
    assert summary["partitions"] == partitions
    assert not (tmp_path / "scratch" / "minhash").exists()  # the rounds' files are gone
    out = {}
    for f in sorted(decisions.glob("part-*.parquet")):
        table = pq.read_table(f)
        if table.num_rows:
            out[int(f.stem.split("-")[1])] = table
    return out, summary


def cluster_sizes_of(decisions, per_shard: list[list[dict]]) -> dict[str, int]:
    """{id: minhash_cluster_size} of every row the decision files name (survivors included)."""
    sizes = {}
    for f in sorted(decisions.glob("part-*.parquet")):
        s = int(f.stem.split("-")[1])
        table = pq.read_table(f)
        for r, n in zip(table[ROW].to_pylist(), table[CLUSTER_SIZE].to_pylist()):
            sizes[per_shard[s][r]["id"]] = n
    return sizes


@pytest.mark.parametrize("partitions", [1, 3, 8])
@pytest.mark.parametrize(
    "shards,empty,verify,keep",
    [
        (1, None, "exact", "earliest"),
        (4, 2, "exact", "latest"),
        (7, 0, "signature", "longest"),
        (3, None, "none", "earliest"),
    ],
)
def test_partitioned_barrier_equals_the_in_memory_one(
    tmp_path, partitions, shards, empty, verify, keep
):
    stage = MinHashDedup(MinHashDedupConfig(num_perm=64, verify=verify, keep=keep))
    rows = rows_with_ties(seed=shards)
    paths, table = collect_files(stage, layout(rows, shards, empty), tmp_path / "collect")
    expected, expected_summary = in_memory(stage, table, shards)
    got, summary = partitioned(stage, paths, tmp_path, partitions)
    assert expected_summary["duplicates"] > 10 and expected_summary["clusters"] > 5
    if verify != "none":
        assert expected_summary["rejected_by_verification"] > 0
    assert sorted(got) == sorted(expected)
    for s in expected:
        assert got[s].equals(expected[s]), s
    for key in PARTITIONED_ONLY:
        summary.pop(key)
    assert summary == expected_summary
    # every clustered row's size: its survivor's removals in the in-memory decision, plus one
    per_shard = layout(rows, shards, empty)
    members: dict[str, list[str]] = {}
    for s, t in expected.items():
        for r, of in zip(t[ROW].to_pylist(), t["duplicate_of"].to_pylist()):
            if of is not None:  # a removal (survivors carry only their size)
                members.setdefault(of, [of]).append(per_shard[s][r]["id"])
    want = {i: len(ids) for ids in members.values() for i in ids}
    assert cluster_sizes_of(tmp_path / "decisions", per_shard) == want


def test_cluster_numbers_do_not_depend_on_the_sharding(tmp_path):
    """The same rows in 2 and in 5 shards: each removed id gets the same cluster number (the
    hash of its survivor's id), not a position among this run's clusters."""
    stage = MinHashDedup(MinHashDedupConfig(num_perm=64))
    rows = rows_with_ties(seed=11)
    by_id = []
    for shards in (2, 5):
        cut = layout(rows, shards, None)
        paths, _ = collect_files(stage, cut, tmp_path / f"c{shards}")
        got, _ = partitioned(stage, paths, tmp_path / f"p{shards}", 3)
        found = {}
        for s, table in got.items():
            for r, cluster in zip(table[ROW].to_pylist(), table["cluster"].to_pylist()):
                found[cut[s][r]["id"]] = cluster
        by_id.append(found)
    assert by_id[0] == by_id[1] and len(by_id[0]) > 10


def test_no_candidate_at_all(tmp_path):
    """Distinct texts only: no bucket of two, no decision file, zero counters."""
    stage = MinHashDedup(MinHashDedupConfig(num_perm=64))
    rng = random.Random(5)
    words = [f"w{i}" for i in range(5000)]
    rows = [
        {"id": f"r{i}", "text": " ".join(rng.choices(words, k=40)), "dump": "d1", "date": None}
        for i in range(60)
    ]
    rows += [{"id": "empty", "text": "", "dump": "d1", "date": None}]
    rows += [{"id": "short", "text": "two words", "dump": "d2", "date": None}]
    paths, table = collect_files(stage, layout(rows, 3, None), tmp_path / "collect")
    got, summary = partitioned(stage, paths, tmp_path, 2)
    assert got == {} and summary["duplicates"] == 0 and summary["clusters"] == 0
    assert summary["cluster_sizes"] == {} and summary["shingled"] == len(rows) - 1  # the empty text


def test_histogram_matches_the_in_memory_one():
    import numpy as np

    from curate.stages.minhash_dedup import size_histogram

    sizes = {2: 5, 3: 1, 5: 2, 7: 1, 9: 3, 1500: 1}
    flat = np.repeat(list(sizes), list(sizes.values()))
    assert lsh_barrier.histogram(sizes) == size_histogram(flat)
    assert list(lsh_barrier.histogram(sizes)) == ["2", "3", "4-7", "8-15", "1024+"]


def test_shard_groups_are_sized_by_the_sets_they_hold(tmp_path, monkeypatch):
    """The rounds by shard group hold the group's shingle sets (and ids), far more than its band
    keys: with a budget (TASK_BYTES) above the run's band keys and below its sets, the plan has
    one key partition but several shard groups and ordinal ranges (one group, from the band keys
    alone, before); the decision files are still the in-memory barrier's."""
    stage = MinHashDedup(MinHashDedupConfig(num_perm=64))
    bands, _ = stage.config.lsh()
    rows = rows_with_ties(seed=9)
    per_shard = layout(rows, 6, None)
    paths, table = collect_files(stage, per_shard, tmp_path / "collect")
    held = lsh_barrier._bytes_of(
        lsh_barrier.column_sizes(tmp_path / "collect", 6), ["shingles", "id"]
    )
    keys = len(rows) * bands * lsh_barrier.BAND_ROW_BYTES
    assert keys < held / 3  # the sets are most of what a group task holds
    monkeypatch.setattr(lsh_barrier, "TASK_BYTES", held // 3 + 1)
    p = lsh_barrier.plan(
        tmp_path / "collect", 6, tmp_path / "w", tmp_path / "d", 1, len(rows), stage.config
    )
    assert p.partitions == 1 and p.groups == 3 and p.ranges == 3
    monkeypatch.setattr(lsh_barrier, "TASK_BYTES", held // 100 + 1)  # never more groups than shards
    p = lsh_barrier.plan(
        tmp_path / "collect", 6, tmp_path / "w", tmp_path / "d", 1, len(rows), stage.config
    )
    assert p.groups == 6 and p.ranges == 100 and p.partitions == math.ceil(keys / (held // 100 + 1))
    monkeypatch.setattr(lsh_barrier, "TASK_BYTES", held // 3 + 1)
    want, _ = in_memory(stage, table, 6)
    got, summary = partitioned(stage, paths, tmp_path, 1)
    assert summary["groups"] == 3
    assert set(got) == set(want)
    for s in want:
        assert got[s].sort_by(ROW).equals(want[s].sort_by(ROW)), s


def test_the_driver_reads_no_collect_footer(tmp_path, monkeypatch):
    """The rounds are sized from the collect files' footers, read once by tasks of
    SHARDS_PER_GROUP shards (their totals and largest shard per column, what a footer says);
    the barrier's driver opens no collect file's footer itself (on a bucket each is a request,
    and there are as many as shards), and the decisions are the in-memory barrier's. (The
    runner's CollectedFiles, made before the barrier, still reads them once: not tested here.)"""
    stage = MinHashDedup(MinHashDedupConfig(num_perm=64))
    rows = rows_with_ties(seed=4)
    shards = 11
    paths, table = collect_files(stage, layout(rows, shards, 3), tmp_path / "collect")
    read_metadata = pq.read_metadata
    run = inside = InTasks()

    def counted(*args, **kwargs):
        assert inside, "the driver read a footer"
        return read_metadata(*args, **kwargs)

    decisions = tmp_path / "decisions"
    collected = CollectedFiles(paths, tmp_path / "scratch", decisions, 2)
    monkeypatch.setattr(pq, "read_metadata", counted)
    monkeypatch.setattr(lsh_barrier, "SHARDS_PER_GROUP", 4)
    spans = []
    sizes = lsh_barrier.column_sizes(
        tmp_path / "collect", shards, lambda fn, tasks, **_: spans.extend(tasks) or run(fn, tasks)
    )
    assert spans == [(0, 4), (4, 8), (8, 11)]
    per_file = []
    for path in paths:
        md = read_metadata(path)
        per_file.append(
            sum(
                md.row_group(g).column(c).total_uncompressed_size
                for g in range(md.num_row_groups)
                for c in range(md.num_columns)
                if md.row_group(g).column(c).path_in_schema.startswith("shingles")
            )
        )
    assert sizes["shingles"] == (sum(per_file), max(per_file))
    expected, _ = in_memory(stage, table, shards)
    stage.barrier(collected, run)
    for s in expected:
        got = pq.read_table(decisions / f"part-{s:05d}.parquet")
        assert got.sort_by(ROW).equals(expected[s].sort_by(ROW)), s


def test_collect_rows_reads_the_row_groups_that_hold_the_rows_asked(tmp_path):
    """A group task's join with a collect file: the values at the nodes asked (ascending, some
    twice, a gap in the file's rows), one row group at a time and only those that hold one;
    a row the file lacks is an error naming the file."""
    import numpy as np

    rows = np.r_[0:40, 45:100].astype(np.int64)  # rows 40-44 went in an earlier stage
    table = pa.table({ROW: rows, "shingles": [[int(r), int(r) + 1] for r in rows]})
    (tmp_path / "collect").mkdir()
    pq.write_table(table, tmp_path / "collect" / "part-00003.parquet", row_group_size=10)
    p = lsh_barrier.Plan(
        str(tmp_path / "collect"), 4, str(tmp_path / "w"), str(tmp_path / "d"), 1, 1, 2,
        "exact", 0.8, 16, "first",
    )  # fmt: skip
    want = np.array([3, 3, 4, 47, 48, 99], np.int64)
    node = (np.int64(3) << 32) | want
    got = list(lsh_barrier._collect_rows(p, 3, ["shingles"], node))
    # row groups 0 (rows 0-9), 4 (45-54: 40-44 are missing) and 9 (95-99 after the gap)
    assert [(a, b) for a, b, _ in got] == [(0, 3), (3, 5), (5, 6)]
    values = [v for _, _, t in got for v in t.column("shingles").to_pylist()]
    assert values == [[int(r), int(r) + 1] for r in want]
    with pytest.raises(lsh_barrier.CurateError, match="part-00003.parquet"):
        list(lsh_barrier._collect_rows(p, 3, ["shingles"], (np.int64(3) << 32) | np.r_[5, 42]))
    with pytest.raises(lsh_barrier.CurateError, match="part-00002.parquet"):
        list(lsh_barrier._collect_rows(p, 2, ["shingles"], node))
