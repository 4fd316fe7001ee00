"""minhash_dedup's partitioned barrier through a cross-dump index (curate.dedup.lsh_barrier
``run_indexed``) against the in-memory one: dump by dump, the same decision file per shard (row,
duplicate_of, cluster), the same counters, and an index with the same contents (documents and
roots in ordinal order, band keys, shingle sets or signatures), whatever the partitions, the
shard layout or ``verify``; each index readable by the other path."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from curate.collected import CollectedFiles, run_here
from curate.index import DedupIndex, index_info
from curate.index.store import ReadMeter, doc_column, make_handle
from curate.stages.base import ROW, DecisionFiles
from curate.stages.minhash_dedup import MinHashDedup, MinHashDedupConfig
from tests.dedup.test_lsh_barrier import PARTITIONED_ONLY, collect_files, in_memory, layout
from tests.stages.test_minhash_dedup import near_duplicate_rows, run_global

DUMPS = ("d1", "d2", "d3")


def rows_in_dumps(seed: int) -> list[dict]:
    """Near-duplicates spread over three dumps (so later dumps hit earlier ones), plus rows with
    no shingle, one of them in a dump of its own."""
    rows = near_duplicate_rows(seed=seed, base=120, dumps=DUMPS)
    rows += [{"id": "empty", "text": "", "dump": "d2", "date": None}]
    rows += [{"id": "short", "text": "two words", "dump": "d3", "date": None}]
    return rows


def partitioned(stage, per_shard, tmp_path, partitions: int) -> tuple[dict, dict]:
    paths, _ = collect_files(stage, per_shard, tmp_path / "collect")
    decisions = tmp_path / "decisions"
    collected = CollectedFiles(paths, tmp_path / "scratch", decisions, partitions)
    decision, summary = stage.barrier(collected, run_here)
    assert isinstance(decision, DecisionFiles)
    assert not (tmp_path / "scratch" / "minhash").exists()  # the rounds' files are gone
    assert not (tmp_path / "scratch" / "minhash-ordinals").exists()
    files = sorted(decisions.glob("part-*.parquet"))
    return {int(f.stem.split("-")[1]): pq.read_table(f) for f in files}, summary


def index_contents(root) -> list[dict]:
    """Every committed dump's documents (id, root) in ordinal order, band keys per band (sorted
    (key, doc) pairs) and shingle sets or signatures in ordinal order: what a later run reads,
    whatever pieces hold it."""
    index = DedupIndex.__new__(DedupIndex)
    index.root, index.meter, index._dumps = root, ReadMeter(), None
    params = json.loads((root / "index.json").read_text())["params"]
    out = []
    for d in index.dumps():
        handles = make_handle(d.seq, np.arange(d.docs))
        entry = {
            "dump": d.name,
            "docs": d.docs,
            "fingerprint": d.fingerprint,
            "ids": doc_column([d], handles, "id", ReadMeter()).to_pylist(),
            "roots": doc_column([d], handles, "root", ReadMeter()).to_pylist(),
        }
        for band in range(params["bands"]):
            pairs = [
                pq.read_table(d.path / name).to_pydict()
                for _, _, _, rows, name in d.parts_of(band)
                if rows
            ]
            keys = sorted(zip(*(sum((t[c] for t in pairs), []) for c in ("key", "doc"))))
            entry[f"band {band}"] = keys
        if params["verify"] == "exact":
            sets = index.shingle_sets(handles)
            entry["sets"] = [
                sorted(sets.values[a:b].tolist()) for a, b in zip(sets.offsets, sets.offsets[1:])
            ]
        if params["verify"] == "signature":
            entry["signatures"] = index.signatures(handles).tolist()
        out.append(entry)
    return out


@pytest.mark.parametrize(
    "verify, partitions, shards",
    [("exact", 1, 1), ("exact", 3, 4), ("signature", 2, 3), ("none", 3, 2), ("exact", 8, 5)],
)
def test_partitioned_index_barrier_equals_the_in_memory_one(tmp_path, verify, partitions, shards):
    rows = rows_in_dumps(seed=shards)
    hits = 0
    for n, dump in enumerate(DUMPS):
        part = [r for r in rows if r["dump"] == dump]
        cut = layout(part, shards, None)

        def stage(kind):
            return MinHashDedup(
                MinHashDedupConfig(num_perm=64, verify=verify, index=str(tmp_path / kind))
            )

        mem = stage("index-mem")
        _, table = collect_files(mem, cut, tmp_path / f"mem-{n}")
        expected, expected_summary = in_memory(mem, table, shards)
        got, summary = partitioned(stage("index-tasks"), cut, tmp_path / f"tasks-{n}", partitions)
        assert sorted(got) == sorted(expected), dump
        for s in expected:
            assert got[s].equals(expected[s]), (dump, s)
        for key in PARTITIONED_ONLY:
            summary.pop(key)
        assert summary["index"].pop("path") != expected_summary["index"].pop("path")
        read = summary["index"].pop("bytes_read")
        expected_read = expected_summary["index"].pop("bytes_read")
        assert (read > 0) == (expected_read > 0) == (n > 0)
        assert summary == expected_summary, dump
        hits += summary["duplicates_of_committed_dumps"]
    assert hits > 5  # later dumps' documents removed for a committed one
    assert index_contents(tmp_path / "index-tasks") == index_contents(tmp_path / "index-mem")


def test_dump_by_dump_through_the_index_equals_all_dumps_together(tmp_path):
    """As tests/index/test_store.py checks the in-memory path: dump N through the partitioned
    barrier removes from dump N what deduplicating dumps 1..N together removes from it, with
    the same duplicate_of (a committed survivor's id comes from the index, found by a task)."""
    rows = rows_in_dumps(seed=4)
    seen, together, committed = {}, {}, 0
    for n, dump in enumerate(DUMPS):
        so_far, _, _ = run_global(MinHashDedup(MinHashDedupConfig()), _in(rows, *DUMPS[: n + 1]))
        in_dump = {r["id"] for r in _in(rows, dump)}
        together.update({k: v for k, v in so_far.items() if k in in_dump})
        stage = MinHashDedup(MinHashDedupConfig(index=str(tmp_path / "index")))
        cut = layout(_in(rows, dump), 3, None)
        got, summary = partitioned(stage, cut, tmp_path / f"run-{n}", 3)
        assert summary["index"]["committed"] == [dump]
        for s, table in got.items():
            for r, dup in zip(table[ROW].to_pylist(), table["duplicate_of"].to_pylist()):
                if dup is not None:  # a removal (survivors carry only their cluster size)
                    seen[cut[s][r]["id"]] = dup
        committed += summary["duplicates_of_committed_dumps"]
    assert seen == together and len(together) > 10
    earlier = {r["id"]: r["dump"] for r in rows}
    across = [k for k, v in seen.items() if earlier[v] < earlier[k]]
    assert committed == len(across) > 5  # each survivor of an earlier dump came from the index
    info = index_info(tmp_path / "index")
    assert [d["dump"] for d in info["dumps"]] == list(DUMPS) and info["docs"] == len(rows)


def _in(rows: list[dict], *dumps: str) -> list[dict]:
    return [r for r in rows if r["dump"] in dumps]


def test_each_path_reads_the_index_of_the_other(tmp_path):
    """Dump 1 committed by the in-memory barrier (whole-dump files), dump 2 by the partitioned
    one (pieces), dump 3 by each against both: the same decisions."""
    rows = rows_in_dumps(seed=7)
    index = str(tmp_path / "index")
    stage = MinHashDedup(MinHashDedupConfig(index=index))
    run_global(stage, _in(rows, "d1"))
    partitioned(stage, layout(_in(rows, "d2"), 2, None), tmp_path / "d2", 2)
    copy = tmp_path / "copy"
    shutil.copytree(index, copy)
    cut = layout(_in(rows, "d3"), 2, None)
    _, table = collect_files(stage, cut, tmp_path / "mem-d3")
    expected, s1 = in_memory(stage, table, 2)
    other = MinHashDedup(MinHashDedupConfig(index=str(copy)))
    got, s2 = partitioned(other, cut, tmp_path / "tasks-d3", 3)
    assert sorted(got) == sorted(expected) and s1["duplicates_of_committed_dumps"] > 0
    for s in expected:
        assert got[s].equals(expected[s])
    assert index_contents(Path(index)) == index_contents(copy)


def test_bytes_read_from_the_index_are_counted_and_bounded(tmp_path):
    """``index.bytes_read`` sums what the tasks read (lookups, sets, roots, ids) and the
    driver's manifests: 0 with nothing committed, then more than nothing and less than the
    index. A committed dump's band pieces are read about once whatever the partitions (key
    ranges: a task's keys meet the pieces of its range), not once per task."""
    rows = rows_in_dumps(seed=9)
    index = tmp_path / "index"
    read = []
    for dump in DUMPS[:2]:
        stage = MinHashDedup(MinHashDedupConfig(index=str(index)))
        before = index_info(index)["bytes"] if read else 0
        _, summary = partitioned(stage, layout(_in(rows, dump), 3, None), tmp_path / dump, 6)
        read.append(summary["index"]["bytes_read"])
        assert read[-1] <= before
    assert read[0] == 0 and read[1] > 0
    by_partitions = {}
    for partitions in (1, 6, 12):
        copy = tmp_path / f"copy-{partitions}"
        shutil.copytree(index, copy)
        stage = MinHashDedup(MinHashDedupConfig(index=str(copy)))
        cut = layout(_in(rows, "d3"), 3, None)
        _, summary = partitioned(stage, cut, tmp_path / f"d3-{partitions}", partitions)
        by_partitions[partitions] = summary["index"]["bytes_read"]
    assert 0 < by_partitions[1] <= index_info(index)["bytes"]
    # hash partitions would read every piece in every task: 6x and 12x
    assert by_partitions[6] < 1.5 * by_partitions[1]
    assert by_partitions[12] < 2 * by_partitions[1]


def test_a_rerun_of_committed_dumps_is_idempotent(tmp_path):
    """A run redone after its dumps were committed (a resume past the commit) decides the same
    and commits nothing; the index is unchanged."""
    rows = rows_in_dumps(seed=5)
    index = str(tmp_path / "index")
    stage = MinHashDedup(MinHashDedupConfig(index=index))
    partitioned(stage, layout(_in(rows, "d1"), 2, None), tmp_path / "a", 2)
    cut = layout(_in(rows, "d2", "d3"), 3, None)
    first, s1 = partitioned(stage, cut, tmp_path / "b", 3)
    before = index_contents(Path(index))
    again, s2 = partitioned(stage, cut, tmp_path / "c", 2)
    assert sorted(again) == sorted(first) and first
    for s in first:
        assert again[s].equals(first[s])
    assert s1["index"]["committed"] == ["d2", "d3"] and s2["index"]["committed"] == []
    assert s2["index"]["already_committed"] == ["d2", "d3"]
    assert index_contents(Path(index)) == before


def test_no_new_dump_and_empty_shards(tmp_path):
    """A shard with no row, and rows without shingles only in one dump: decided and committed
    like the in-memory path."""
    rows = rows_in_dumps(seed=3)
    rows.append({"id": "lonely", "text": "", "dump": "d4", "date": None})
    cut = layout(rows, 4, 1)
    mem = MinHashDedup(MinHashDedupConfig(index=str(tmp_path / "m")))
    _, table = collect_files(mem, cut, tmp_path / "mem")
    expected, _ = in_memory(mem, table, 4)
    tasks = MinHashDedup(MinHashDedupConfig(index=str(tmp_path / "t")))
    got, summary = partitioned(tasks, cut, tmp_path / "tasks", 3)
    assert sorted(got) == sorted(expected)
    for s in expected:
        assert got[s].equals(expected[s])
    assert summary["index"]["committed"] == ["d1", "d2", "d3", "d4"]
    assert index_contents(tmp_path / "t") == index_contents(tmp_path / "m")
