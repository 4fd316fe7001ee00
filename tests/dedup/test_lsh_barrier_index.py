"""minhash_dedup's partitioned barrier through a cross-dump index (curate.dedup.lsh_barrier
``run_indexed``) against the in-memory one: dump by dump, the same decision file per shard (row,
duplicate_of, cluster), the same counters, and an index with the same contents (documents and
roots in ordinal order, band keys, shingle sets or signatures), whatever the partitions, the
shard layout or ``verify``; each index readable by the other path."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from curate.collected import CollectedFiles, run_here
from curate.dedup.lsh_barrier import Plan
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


def partitioned(stage, per_shard, tmp_path, partitions: int, run=run_here) -> tuple[dict, dict]:
    paths, _ = collect_files(stage, per_shard, tmp_path / "collect")
    decisions = tmp_path / "decisions"
    collected = CollectedFiles(paths, tmp_path / "scratch", decisions, partitions)
    decision, summary = stage.barrier(collected, run)
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
        cut = layout(_in(rows, dump), shards, None)
        summary, expected_summary = both_ways(tmp_path, n, cut, verify, partitions)
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


def both_ways(tmp_path, n: int, cut, verify: str, partitions: int, run=run_here):
    """Dump number ``n`` (rows ``cut`` by shard) through the in-memory barrier into the index
    tmp_path/index-mem and through the tasks (``run``) into tmp_path/index-tasks: the same
    decision file per shard; returns (the tasks' summary, the in-memory one)."""

    def stage(kind):
        return MinHashDedup(
            MinHashDedupConfig(num_perm=64, verify=verify, index=str(tmp_path / kind))
        )

    mem = stage("index-mem")
    _, table = collect_files(mem, cut, tmp_path / f"mem-{n}")
    expected, expected_summary = in_memory(mem, table, len(cut))
    got, summary = partitioned(stage("index-tasks"), cut, tmp_path / f"tasks-{n}", partitions, run)
    assert sorted(got) == sorted(expected), n
    for s in expected:
        assert got[s].equals(expected[s]), (n, s)
    return summary, expected_summary


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


class Recording:
    """A ``run`` that runs the tasks here, recording per round (the task function's name): the
    memory and cpus it declared, and each task as the executor would ship it (pickled)."""

    def __init__(self):
        self.rounds: list[dict] = []

    def __call__(self, fn, tasks, *, memory=None, cpus=1):
        import pickle

        tasks = list(tasks)
        fn_ = getattr(fn, "func", fn)
        inner = tasks[0][0] if tasks and fn_.__name__ == "_call" else fn_
        name = getattr(inner, "func", inner).__name__
        self.rounds.append(
            {
                "name": name,
                "memory": memory,
                "cpus": cpus,
                "bytes": [len(pickle.dumps(t)) for t in tasks],
                "tasks": tasks,
            }
        )
        return [fn(t) for t in tasks]

    def of(self, name: str) -> dict:
        return next(r for r in self.rounds if r["name"] == name)


def _barrier_with(stage, cut, tmp_path, partitions, run):
    paths, _ = collect_files(stage, cut, tmp_path / "collect")
    collected = CollectedFiles(paths, tmp_path / "scratch", tmp_path / "decisions", partitions)
    return stage.barrier(collected, run)


def test_a_task_gets_only_its_share_of_the_index(tmp_path):
    """The band pieces of the committed dumps go to the key-range task whose range they reach,
    each to one task (every dump committed with the same partitions), never to the other
    rounds' tasks; an ordinal range's task gets no manifest and only its own first ordinals. So
    a bucket task's arguments stay the size of its share while the index grows (the whole plan
    grows with every committed piece), and the decisions are those of the in-memory barrier
    (test_partitioned_index_barrier_equals_the_in_memory_one, same code path)."""
    from curate.index.store import key_range_part

    rows = rows_in_dumps(seed=11)
    index = tmp_path / "index"
    partitions = 8
    largest, whole = [], []
    for n, dump in enumerate(DUMPS):
        stage = MinHashDedup(MinHashDedupConfig(num_perm=64, index=str(index)))
        run = Recording()
        _, summary = _barrier_with(
            stage, layout(_in(rows, dump), 3, None), tmp_path / dump, partitions, run
        )
        assert summary["index"]["committed"] == [dump]
        buckets = run.of("_buckets")
        committed = DedupIndex.__new__(DedupIndex)
        committed.root, committed.meter, committed._dumps = index, ReadMeter(), None
        reference = [d for d in committed.dumps() if d.name != dump]
        everything = {(d.name, piece) for d in reference for piece in d.parts if piece[3]}
        shipped = []
        for _, plan, i in buckets["tasks"]:
            for d in plan.index.reference:
                assert not d.pieces and not d.arrays  # a bucket task looks keys up only
                for piece in d.parts:
                    lo, hi = key_range_part(np.array([piece[1], piece[2]], np.uint64), partitions)
                    assert lo <= i <= hi, (dump, i, piece)
                    shipped.append((d.name, piece))
        assert sorted(shipped) == sorted(everything)  # each piece to exactly one task
        bands = stage.config.lsh()[0]
        assert len(everything) == n * bands * partitions  # a piece per band and range
        for r in run.rounds:
            for task in r["tasks"]:
                plan = task[1] if isinstance(task, tuple) else None
                if not isinstance(plan, Plan) or plan.index is None:
                    continue
                if r["name"] != "_buckets":
                    assert not any(d.parts for d in plan.index.reference), r["name"]
                if r["name"] not in ("_buckets", "_verify_hits", "_root_ids"):
                    assert not plan.index.reference, r["name"]
        for _, plan, i in run.of("_docs")["tasks"]:
            assert all(list(f) == [i] for f in plan.index.first.values())
        largest.append(max(buckets["bytes"]))
        full = buckets["tasks"][0][1]
        full = replace(full, index=replace(full.index, reference=tuple(reference)))
        import pickle

        whole.append(len(pickle.dumps(full)))
    # d3's bucket tasks: 2 dumps x 10 bands x 8 ranges committed, a task ships 1/8 of them
    assert whole[2] - whole[1] > 3 * (largest[2] - largest[1]) > 0
    assert largest[2] < whole[2] / 2


def test_every_round_declares_its_memory(tmp_path):
    """Each round of the barrier (ordinals, bands, buckets, joins, verification, components,
    survivors, decision files, docs pieces) tells the executor what one task needs (bytes, 1
    cpu), from the sizes of what its tasks read: with the rows x 4, a bucket task's declared
    memory grows; with 4x the partitions it shrinks again."""
    from curate.executors.base import TASK_BASE_MEMORY

    rows = rows_in_dumps(seed=12)
    declared = {}
    for label, factor, partitions in (("small", 1, 1), ("large", 4, 1), ("split", 4, 4)):
        many = [
            {**r, "id": f"{r['id']}-{k}", "text": f"{r['text']} copy {k}"}
            for r in rows
            for k in range(factor)
        ]
        stage = MinHashDedup(MinHashDedupConfig(num_perm=64, index=str(tmp_path / label)))
        run = Recording()
        _barrier_with(stage, layout(many, 4, None), tmp_path / label, partitions, run)
        names = {r["name"] for r in run.rounds}
        assert {"_bands", "_buckets", "_join", "_links", "_verify_first", "_verify_other",
                "_survivors", "_gather", "_spread_docs", "_docs"} <= names  # fmt: skip
        for r in run.rounds:
            assert r["memory"] and r["memory"] >= TASK_BASE_MEMORY and r["cpus"] == 1, r["name"]
        declared[label] = run.of("_buckets")["memory"] - TASK_BASE_MEMORY
    assert declared["large"] > 1.5 * declared["small"]
    assert declared["split"] < declared["large"] / 2


def _pieces(task) -> int:
    """The docs and array pieces of the index a task is shipped (a bucket task's key pieces:
    test_a_task_gets_only_its_share_of_the_index)."""
    plan = task[1] if isinstance(task, tuple) and len(task) == 3 else None
    if not isinstance(plan, Plan) or plan.index is None:
        return 0
    return sum(len(d.pieces) + len(d.arrays) for d in plan.index.reference)


@pytest.mark.parametrize("verify, per_task", [("exact", None), ("signature", None), ("exact", 4)])
def test_hit_and_survivor_tasks_get_only_their_handle_range(
    tmp_path, monkeypatch, verify, per_task
):
    """Four dumps through the index one by one, 8 partitions (8 docs pieces and 8 or 16 array
    pieces per dump): the tasks that read committed documents by handle (hits' verification and
    roots, the committed survivors' ids) are one per handle range and each is shipped only the
    docs and array pieces its range reaches (curate.index.store.for_handle_range), so an
    executor that fails on any task shipped more than N pieces (N: a third of the manifest of
    three dumps, about one dump's) runs every dump, whose decisions and index are the in-memory
    barrier's. With at most ``per_task`` docs pieces a task (PIECES_PER_TASK), more ranges than
    shard groups: N is then that many pieces, whatever the dumps committed."""
    from curate.executors.base import TASK_BASE_MEMORY
    from curate.index import store
    from curate.index.store import HandleRanges

    dumps = ("d1", "d2", "d3", "d4")
    rows = near_duplicate_rows(seed=5, base=160, dumps=dumps)
    partitions, shards = 8, 4
    per_piece = 3 if verify == "exact" else 2  # docs + shingles + offsets, or docs + signatures
    # 3 dumps x 8 docs pieces committed before d4, over 4 handle ranges: ~6 a range, and the
    # two its ends cut
    limit = 8 * per_piece
    if per_task is not None:
        monkeypatch.setattr(store, "PIECES_PER_TASK", per_task)
        limit = (per_task + 2) * per_piece
    tasks_of: dict[str, list] = {}

    def bounded(fn, tasks, *, memory=None, cpus=1):
        tasks = list(tasks)
        inner = tasks[0][0] if tasks and getattr(fn, "__name__", "") == "_call" else fn
        name = getattr(inner, "func", inner).__name__
        assert memory >= TASK_BASE_MEMORY and cpus == 1, name
        for t in tasks:
            assert _pieces(t) <= limit, (name, _pieces(t))
        tasks_of.setdefault(name, []).extend(tasks)
        return [fn(t) for t in tasks]

    for n, dump in enumerate(dumps):
        tasks_of.clear()
        cut = layout(_in(rows, dump), shards, None)
        summary, expected_summary = both_ways(tmp_path, n, cut, verify, partitions, bounded)
        assert summary["duplicates"] == expected_summary["duplicates"]
        if n < 3:
            continue
        assert summary["duplicates_of_committed_dumps"] > 5
        assert summary["index"]["bytes_read"] > 0
        committed = DedupIndex.__new__(DedupIndex)
        committed.root, committed.meter, committed._dumps = (
            tmp_path / "index-tasks",
            ReadMeter(),
            None,
        )
        reference = [d for d in committed.dumps() if d.name != dump]
        whole = sum(len(d.pieces) + len(d.arrays) for d in reference)
        assert whole > 2 * limit  # the manifest is far more than a task may be shipped
        ranges = HandleRanges.of(reference, tasks_of["_verify_hits"][0][1].index.handles.count)
        assert ranges.count == (4 if per_task is None else 24 // per_task)
        for name, arrays in (("_verify_hits", True), ("_root_ids", False)):
            shipped = []
            assert len(tasks_of[name]) == ranges.count
            for _, plan, r in tasks_of[name]:
                for d in plan.index.reference:
                    assert not d.parts and (bool(d.arrays) == arrays), name
                    for first, rows, _ in [*d.pieces, *(a[1:] for a in d.arrays)]:
                        ends = ranges.part(make_handle(d.seq, np.array([first, first + rows - 1])))
                        assert ends[0] <= r <= ends[1], (name, r, d.name, first, rows)
                    shipped += [(d.name, x) for x in (*d.pieces, *d.arrays)]
            everything = [
                (d.name, x) for d in reference for x in d.pieces + (d.arrays if arrays else ())
            ]
            assert set(shipped) == set(everything)  # every piece to a task that can need it
            assert len(shipped) < len(everything) + 2 * per_piece * ranges.count  # ~once each
    assert index_contents(tmp_path / "index-tasks") == index_contents(tmp_path / "index-mem")


def test_the_set_rounds_hold_a_batch_not_every_pair(tmp_path):
    """A star: one long page and 600 distinct near-copies of it, in four shards. Every pair's
    other end is that page, so one other-end verification task gets all 600 pairs, and each
    ordinal range's task writes about a quarter of the sets. Each measured in a fresh process
    (TaskPeaks: what it allocates, numpy and Arrow). The verification holds its group's
    distinct other ends and one batch of pairs, not every pair with both sets: 63 MB for 19 MB
    of sets (before, 9a71c06: 174 MB; the rest is fixed: the check's and the reader's
    buffers); an ordinal range holds its sets about once: 20 MB for a 4 MB range (before: 38
    MB for a 6 MB range)."""
    from curate.dedup.components import TaskPeaks
    from tests.conftest import stdlib_docs
    from tests.stages.test_minhash_dedup import edit

    rng = np.random.default_rng(3)
    page = " ".join(stdlib_docs(600))[:60_000]  # ~9,000 words: ~36 KB of shingles
    rows = [{"id": "a-page", "text": page, "dump": "d1", "date": None}]
    rows += [
        {"id": f"copy-{i:04d}", "text": edit(page, _random(i), 0.01), "dump": "d1", "date": None}
        for i in range(600)
    ]
    rows = [rows[0], *(rows[1 + i] for i in rng.permutation(600))]
    measured = {"_verify_other": TaskPeaks(), "_docs": TaskPeaks()}

    def run(fn, tasks, **_):
        tasks = list(tasks)
        inner = tasks[0][0] if tasks and isinstance(tasks[0], tuple) else fn
        name = getattr(getattr(inner, "func", inner), "__name__", "")
        if name in measured:
            return list(measured[name](fn, tasks))
        return [fn(t) for t in tasks]

    stage = MinHashDedup(MinHashDedupConfig(index=str(tmp_path / "index")))
    _, summary = _barrier_with(stage, layout(rows, 4, None), tmp_path / "run", 4, run)
    assert summary["duplicates"] == 600 and summary["candidate_pairs"] >= 600
    sets = sorted((tmp_path / "index").glob("dumps/*/shingles-*.npy"))
    assert len(sets) == 4
    total = sum(f.stat().st_size for f in sets)  # every page's set once: ~the pairs' first ends
    other = max(t["heap"] for t in measured["_verify_other"].peaks)
    docs = max(t["heap"] for t in measured["_docs"].peaks)
    largest = max(f.stat().st_size for f in sets)
    assert other < 2 * total + (32 << 20), (other, total)
    assert docs < 2 * largest + (16 << 20), (docs, largest)


def _random(seed: int):
    import random

    return random.Random(seed)
