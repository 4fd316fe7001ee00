"""Ordinals by a distributed sort (curate.index.ordinals) against the plain sort, and the
index a url_dedup barrier commits through tasks: the same whatever the sharding and partitions."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.collected import run_here
from curate.errors import CurateError
from curate.index import DedupIndex
from curate.index.ordinals import OrdinalJob, dump_ordinals, ordinals_of, read_ordinals
from curate.index.store import fingerprint_ids, split_handle
from curate.index.survivor import survival_order
from curate.pipeline import decide_keyed_here
from curate.shuffle import partition_of, write_partitioned
from curate.stages.base import ROW, SHARD
from curate.stages.url_dedup import UrlDedup, UrlDedupConfig


def corpus(n: int, seed: int) -> pa.Table:
    """Rows of 3 dumps with many equal dates (ties broken by the id), some null dates, a few
    equal ids across dumps, in shards of uneven size."""
    rng = np.random.default_rng(seed)
    dumps = np.array(["d1", "d2", "d3"])[rng.integers(0, 3, n)]
    dates = np.array(["2023-01-01", "2023-02-01", "2023-02-01T10", None], object)
    date = dates[rng.integers(0, 4, n)]
    ids = [f"doc-{rng.integers(0, 10 * n)}-{i % 7}" for i in range(n)]
    shard = np.sort(rng.integers(0, 5, n)).astype(np.int32)
    row = np.concatenate([np.arange((shard == s).sum()) for s in range(5)])
    return pa.table(
        {
            SHARD: pa.array(shard),
            ROW: pa.array(row, pa.int64()),
            "id": pa.array(ids, pa.string()),
            "dump": pa.array(dumps.tolist(), pa.string()),
            "date": pa.array(date.tolist(), pa.string()),
            "length": pa.array(rng.integers(0, 50, n), pa.int64()),
            "key": pa.array(rng.integers(0, 2**63, n, dtype=np.uint64)),
        }
    )


def brute_ordinals(table: pa.Table, keep: str) -> np.ndarray:
    out = np.empty(table.num_rows, np.int64)
    dumps = np.array(table.column("dump").to_pylist())
    for d in set(dumps):
        rows = np.flatnonzero(dumps == d)
        order = survival_order(table.take(pa.array(rows)), keep)
        out[rows[order]] = np.arange(len(rows))
    return out


@pytest.mark.parametrize("keep", ["earliest", "latest", "longest"])
@pytest.mark.parametrize("partitions,ranges", [(1, 1), (3, 4), (4, 7)])
def test_ordinals_are_the_ranks_in_each_dump(tmp_path, keep, partitions, ranges):
    table = corpus(700, seed=partitions * 10 + ranges)
    inputs = tmp_path / "collect"
    for s in range(5):
        rows = table.filter(pa.compute.equal(table.column(SHARD), s))
        part = partition_of(rows.column("key").to_numpy(), partitions)
        write_partitioned(inputs / f"part-{s:05d}.parquet", rows, part)
    job = OrdinalJob(str(inputs), 5, partitions, ranges, keep, str(tmp_path / "work"))
    survey = dump_ordinals(job, run_here)
    got = np.full(table.num_rows, -1, np.int64)
    part = partition_of(table.column("key").to_numpy(), partitions)
    for p in range(partitions):
        rows = np.flatnonzero(part == p)
        ordinal, _ = ordinals_of(table.take(pa.array(rows)), read_ordinals(job, p))
        got[rows] = ordinal
    assert got.tolist() == brute_ordinals(table, keep).tolist()
    dumps = table.column("dump").to_pylist()
    for d in ("d1", "d2", "d3"):
        ids = table.column("id").filter(pa.array([x == d for x in dumps]))
        assert survey.docs[d] == len(ids)
        assert survey.fingerprints[d] == fingerprint_ids(ids)


def test_an_index_of_an_older_format_is_refused(tmp_path):
    root = tmp_path / "old"
    (root / "dumps" / "000001").mkdir(parents=True)
    (root / "index.json").write_text(
        json.dumps({"format": 1, "kind": "url", "params": {}, "partitions": 16})
    )
    stage = UrlDedup(UrlDedupConfig(index=str(root)))
    with pytest.raises(CurateError, match="format 1 was built by an older curate.*rebuild it"):
        stage.open_index()


def url_rows(n: int = 600) -> list[dict]:
    rows = []
    for i in range(n):
        dump = ["CC-1", "CC-2"][i % 2]
        rows.append(
            {
                "id": f"{dump}-{i}",
                "text": "x" * (i % 13),
                "url": f"https://example.org/{(i * 7919) % (n // 3)}" if i % 17 else None,
                "dump": dump,
                "date": f"2023-0{1 + i % 3}-01",
            }
        )
    return rows


def collected(stage: UrlDedup, rows: list[dict], shards: int) -> pa.Table:
    parts = []
    for s in range(shards):
        part = rows[s::shards]
        batch = pa.RecordBatch.from_pylist([{**r, ROW: j} for j, r in enumerate(part)])
        keys = stage.collect(batch)
        parts.append(keys.add_column(0, SHARD, pa.array([s] * keys.num_rows, pa.int32())))
    return pa.concat_tables(parts)


def index_content(root) -> dict:
    """Each dump's documents by ordinal (id, root) and its (key, ordinal) rows, from whatever
    pieces hold them."""
    index = DedupIndex.__new__(DedupIndex)
    from curate.index.store import ReadMeter

    index.root, index.meter, index._dumps = root, ReadMeter(), None
    out = {}
    for d in index.dumps():
        docs = pa.concat_tables(pq.read_table(d.path / f) for _, _, f in d.pieces)
        keys = pa.concat_tables(pq.read_table(d.path / p[4]) for p in d.parts)
        pairs = sorted(zip(keys["key"].to_pylist(), keys["doc"].to_pylist()))
        out[d.name] = (d.docs, d.fingerprint, docs.to_pydict(), pairs)
    return out


def test_the_committed_index_is_the_same_whatever_the_sharding_and_partitions(tmp_path):
    rows = url_rows()
    found = []
    for k, (shards, partitions) in enumerate([(1, 1), (3, 2), (5, 7)]):
        root = tmp_path / f"idx{k}"
        stage = UrlDedup(UrlDedupConfig(index=str(root)))
        decision, summary = decide_keyed_here(stage, collected(stage, rows, shards), partitions)
        assert summary["index"]["committed"] == ["CC-1", "CC-2"]
        content = index_content(root)
        dumps = DedupIndex(root, "url", stage._index_params(), 16).dumps()
        # ranges cut (dump, survival order): each range task wrote its share of a dump
        # (one range may hold the end of one dump and the start of the next)
        assert partitions <= sum(len(d.pieces) for d in dumps) <= partitions + 1
        found.append((content, summary["duplicates"]))
    assert found[0] == found[1] == found[2]
    content = found[0][0]
    # ordinals follow the survival order; roots name the survivor (itself when kept)
    for name, (docs, _, table, pairs) in content.items():
        assert docs == sum(1 for r in rows if r["dump"] == name)
        ids = table["id"]
        mine = [r for r in rows if r["dump"] == name]
        want = sorted(mine, key=lambda r: (r["date"], r["id"]))
        assert ids == [r["id"] for r in want]
        seqs, ords = split_handle(np.array(table["root"]))
        assert set(seqs.tolist()) <= {1, 2}
        assert len(pairs) == sum(1 for r in mine if r["url"] is not None)


def test_ordinals_of_plain_collect_files(tmp_path):
    """A non-keyed stage's collect files (plain Parquet, no partitions: minhash_dedup's) are
    one partition 0."""
    table = corpus(400, seed=9)
    inputs = tmp_path / "collect"
    inputs.mkdir()
    for s in range(5):
        rows = table.filter(pa.compute.equal(table.column(SHARD), s))
        pq.write_table(rows, inputs / f"part-{s:05d}.parquet", row_group_size=37)
    job = OrdinalJob(str(inputs), 5, 1, 3, "earliest", str(tmp_path / "work"))
    dump_ordinals(job, run_here)
    ordinal, _ = ordinals_of(table, read_ordinals(job, 0))
    assert ordinal.tolist() == brute_ordinals(table, "earliest").tolist()


def test_an_empty_run_through_the_index_states_zero_counts(tmp_path):
    stage = UrlDedup(UrlDedupConfig(index=str(tmp_path / "idx")))
    batch = pa.record_batch(
        {
            **{c: pa.array([], pa.string()) for c in ("id", "text", "url", "dump", "date")},
            ROW: pa.array([], pa.int64()),
        }
    )
    keys = stage.collect(batch)
    empty = keys.add_column(0, SHARD, pa.array([], pa.int32()))
    decision, summary = decide_keyed_here(stage, empty, 2)
    assert decision == {}
    assert summary["documents"] == 0 and summary["duplicates"] == 0
    assert summary["index"]["committed"] == [] and summary["index"]["bytes_read"] == 0


def four_dumps(n: int = 160) -> list[dict]:
    """Four dumps of pages from one pool of URLs (spelled differently: case, www, tracking
    parameters), so later dumps repeat earlier ones and themselves; a few rows without a URL."""
    rows = []
    for d, dump in enumerate(("d1", "d2", "d3", "d4")):
        for i in range(n):
            page = (i * 7919 + d * 31) % 200
            host = "www.Example.org" if i % 3 else "example.org"
            rows.append(
                {
                    "id": f"{dump}-{i}",
                    "text": "x" * (i % 11),
                    "url": f"https://{host}/p/{page}?utm_source={i}" if i % 19 else None,
                    "dump": dump,
                    "date": f"2023-{d + 1:02d}-{1 + i % 28:02d}",
                }
            )
    return rows


class Bounded:
    """The in-process executor, failing on any task of an indexed barrier shipped more than
    ``limit`` docs pieces of the index; records every task by function."""

    def __init__(self, limit: int):
        self.limit = limit
        self.tasks: dict[str, list] = {}

    def map(self, fn, tasks, desc="", memory=None, cpus=1):
        from curate.index.keyed import IndexedBarrier

        tasks = list(tasks)
        for t in tasks:
            if isinstance(t, IndexedBarrier):
                shipped = sum(len(d.pieces) for d in t.reference)
                assert shipped <= self.limit, (fn.__name__, t.part, shipped)
        self.tasks.setdefault(fn.__name__, []).extend(tasks)
        return [fn(t) for t in tasks]

    def release(self):
        pass


def test_url_tasks_get_only_their_handle_range_of_the_docs(tmp_path):
    """Four dumps through the index one by one, 8 partitions (8 docs pieces a dump): a key
    range's decide task is shipped the key pieces of its range and no docs piece; the ids of
    committed survivors are read by handle range, one task per range shipped only the docs
    pieces its range reaches (curate.index.store.for_handle_range, as minhash_dedup's barrier
    does). So an executor that fails on any task shipped more than a third of the docs pieces
    of three dumps runs every dump (before, every decide task was shipped them all), and each
    dump's removals (reason, duplicate_of) are those of dumps 1..N deduplicated together
    without an index."""
    from curate.index.store import HandleRanges, ReadMeter, make_handle

    rows = four_dumps()
    dumps = ["d1", "d2", "d3", "d4"]
    partitions, shards = 8, 4
    root = tmp_path / "index"

    def removed(stage, mine, executor=None) -> tuple[dict, dict]:
        decision, summary = decide_keyed_here(stage, collected(stage, mine, shards), partitions,
                                              executor)  # fmt: skip
        out = {}
        for s, table in decision.items():
            part = mine[s::shards]
            for r, reason, of in zip(
                *(table[c].to_pylist() for c in (ROW, "reason", "duplicate_of"))
            ):
                out[part[r]["id"]] = (reason, of)
        return out, summary

    limit = 8  # a third of the 24 docs pieces of d1-d3
    for n, dump in enumerate(dumps):
        executor = Bounded(limit)
        stage = UrlDedup(UrlDedupConfig(index=str(root)))
        got, summary = removed(stage, [r for r in rows if r["dump"] == dump], executor)
        assert summary["index"]["committed"] == [dump]
        together, _ = removed(
            UrlDedup(UrlDedupConfig()), [r for r in rows if r["dump"] in dumps[: n + 1]]
        )
        assert got == {k: v for k, v in together.items() if k.startswith(f"{dump}-")}
        for task in executor.tasks["_decide"]:
            assert not any(d.pieces for d in task.reference)  # key pieces only
        if n == 0:
            assert not executor.tasks.get("_committed_ids")  # nothing committed to read
            continue
        index = DedupIndex.__new__(DedupIndex)
        index.root, index.meter, index._dumps = root, ReadMeter(), None
        reference = [d for d in index.dumps() if d.name != dump]
        everything = {(d.name, piece) for d in reference for piece in d.pieces}
        ranges = HandleRanges.of(reference, partitions)
        tasks = executor.tasks["_committed_ids"]
        assert [t.part for t in tasks] == list(range(ranges.count))
        shipped = []
        for t in tasks:
            for d in t.reference:
                assert not d.parts and not d.arrays
                for first, count, _ in d.pieces:
                    ends = ranges.part(make_handle(d.seq, np.array([first, first + count - 1])))
                    assert ends[0] <= t.part <= ends[1], (dump, t.part, d.name, first, count)
                    shipped.append((d.name, (first, count, _)))
        assert set(shipped) == everything  # every piece to a task that can need it
        assert summary["duplicates_of_committed_dumps"] > 5
        assert summary["index"]["bytes_read"] > 0
        if n == 3:
            assert len(everything) >= 3 * limit  # the docs pieces a decide task got before
    assert summary["duplicates_of_committed_dumps"] > 50


class Declared:
    """The in-process executor, recording the memory each round of tasks declared."""

    def __init__(self):
        self.memory: dict[str, int] = {}

    def map(self, fn, tasks, desc="", memory=None, cpus=1):
        self.memory[fn.__name__] = memory
        return [fn(t) for t in tasks]

    def release(self):
        pass


def test_decide_tasks_declare_memory_for_the_rows_of_their_partition(tmp_path):
    """url_dedup's decide task holds ~460 B per row of its partition while the keys take ~20 B
    a row on disk (hashes and numbered ids compress), so a declaration from the stored bytes
    alone said 365 MB for a task that took 621 (the sample x 100): it declares
    ``KEY_ROW_BYTES`` per row of its share at least, twice as much above the base for twice
    the rows, half for twice the partitions."""
    from curate.executors.base import TASK_BASE_MEMORY
    from curate.pipeline import KEY_ROW_BYTES

    rows = four_dumps(400)

    def declared(n: int, partitions: int) -> int:
        executor = Declared()
        stage = UrlDedup(UrlDedupConfig(index=str(tmp_path / f"index-{n}-{partitions}")))
        decide_keyed_here(stage, collected(stage, rows[:n], 4), partitions, executor)
        return executor.memory["_decide"] - TASK_BASE_MEMORY

    one = declared(800, 2)
    assert one >= KEY_ROW_BYTES * 800 // 2
    assert declared(1600, 2) == pytest.approx(2 * one, rel=0.01)
    assert declared(1600, 4) == pytest.approx(one, rel=0.01)
