"""Ordinals as tasks: each document's rank inside its dump in survival order, with no process
seeing a whole dump (a distributed sort).

The index names a document by (dump seq, *ordinal*), the ordinal being its position in its dump
in survival order (curate.index.survivor), so that the smallest handle is the best copy and a
dump is numbered the same on every run whatever its sharding. Input: the keyed collect files of
a barrier (curate.shuffle: one file per shard, one row group per hash partition) with columns
_shard, _row, id, dump, date (and length for ``keep: longest``); a plain Parquet file without
partitions (a non-keyed stage's collect file, as minhash_dedup writes) counts as partition 0.
Three rounds of tasks:

1. sample (a task per group of shards): a few rows of each shard, quantiles of its first
   partition's rows (a partition is a hash-chosen share of the shard; a plain Parquet file's
   rows are all read, one file at a time) in dump-then-survival order; the driver sorts the
   sample (~OVERSAMPLE rows per range) and keeps ``ranges - 1`` splitter rows;
2. spread (a task per input partition): each row's range is the number of splitters that sort
   before it (rows equal to a splitter follow it); rows are written by range, and the task
   returns, per dump, its rows per range and the sum of its id hashes (the dump fingerprint,
   curate.index.store.fingerprint_sums);
3. rank (a task per range): the range's rows sorted; a row's ordinal is the number of its dump's
   rows in earlier ranges (a prefix sum of the counts, computed by the driver) plus its rank
   among its dump's rows in the range. Written back by input partition: the barrier's reduce
   task for partition p reads its rows' ordinals from one row group per range file.

The splitters only balance the ranges; the ordinals are exact ranks whatever they are. Memory of
a task: its partition or range; the driver holds the sample and ranges x dumps counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate import storage
from curate.errors import CurateError
from curate.index.store import fingerprint_of, id_hashes
from curate.index.survivor import sort_keys
from curate.io import atomic_file
from curate.shuffle import META, SEGMENTS, held_partitions, read_partition, widen, write_segments

OVERSAMPLE = 32  # sample rows per range: ranges within a few percent of even
FILES_PER_SAMPLE_TASK = 256
SHARD, ROW = "_shard", "_row"
PART, RANGE = "_part", "_range"

Run = Callable[[Callable[[Any], Any], list[Any]], Iterable[Any]]


def dump_order(keep: str) -> list[tuple[str, str]]:
    """Dump first, then the survival order: inside one dump, the survival order."""
    return [("dump", "ascending"), *sort_keys(keep)]


def order_columns(keep: str) -> list[str]:
    return list(dict.fromkeys(name for name, _ in dump_order(keep)))


@dataclass
class OrdinalJob:
    """One ordinal computation (picklable, paths only): ``inputs`` holds part-NNNNN.parquet
    for shards 0..shards-1, each with up to ``partitions`` row groups; ``work`` is scratch."""

    inputs: str
    shards: int
    partitions: int
    ranges: int
    keep: str
    work: str
    what: str = "dedup"  # named in errors
    # plain Parquet inputs (no partitions): partition p is the shard group of shards s with
    # s * partitions // shards == p (curate.dedup.lsh_barrier's groups) instead of all in 0
    plain_by_group: bool = False
    part: int = -1
    first: dict[str, list[int]] = field(default_factory=dict)  # rank tasks: dump -> per range

    def input_files(self) -> list[Path]:
        return [storage.path(self.inputs, f"part-{i:05d}.parquet") for i in range(self.shards)]

    def spread_file(self, p: int) -> Path:
        return storage.path(self.work, "spread", f"part-{p:05d}.parquet")

    def rank_file(self, r: int) -> Path:
        return storage.path(self.work, "ranks", f"part-{r:05d}.parquet")

    @property
    def splitters_file(self) -> Path:
        return storage.path(self.work, "splitters.parquet")


@dataclass
class Survey:
    """What the driver learns: per dump, its documents and id fingerprint, and the first
    ordinal of each range."""

    docs: dict[str, int]
    fingerprints: dict[str, str]
    first: dict[str, list[int]]


def dump_ordinals(job: OrdinalJob, run: Run) -> Survey:
    """Run the three rounds (``run(fn, tasks)`` is the executor's map); afterwards
    ``read_ordinals(job, p)`` gives partition p's rows their ordinals."""
    groups = math.ceil(job.shards / FILES_PER_SAMPLE_TASK)
    samples = [t for t in run(_sample, [replace(job, part=g) for g in range(groups)]) if t]
    splitters = _splitters(samples, job)
    with atomic_file(job.splitters_file) as tmp:
        pq.write_table(splitters, tmp)
    counts: dict[str, np.ndarray] = {}
    sums: dict[str, list[int]] = {}
    for result in run(_spread, [replace(job, part=p) for p in range(job.partitions)]):
        for dump, per_range in result["counts"].items():
            counts[dump] = counts.get(dump, np.zeros(job.ranges, np.int64)) + per_range
        for dump, (n, total) in result["sums"].items():
            old = sums.get(dump, [0, 0])
            sums[dump] = [old[0] + n, (old[1] + total) % (1 << 64)]
    first = {d: np.r_[0, np.cumsum(c)[:-1]].tolist() for d, c in sorted(counts.items())}
    for _ in run(_rank, [replace(job, part=r, first=first) for r in range(job.ranges)]):
        pass
    return Survey(
        {d: int(c.sum()) for d, c in sorted(counts.items())},
        {d: fingerprint_of(n, total) for d, (n, total) in sorted(sums.items())},
        first,
    )


def read_ordinals(job: OrdinalJob, partition: int) -> pa.Table | None:
    """(_shard, _row, ordinal, _range) of every row of input partition ``partition``."""
    files = [job.rank_file(r) for r in range(job.ranges)]
    return read_partition(files, partition, [SHARD, ROW, "ordinal", RANGE])


def row_keys(table: pa.Table) -> np.ndarray:
    """One int64 per (_shard, _row): to join a partition's rows with their ordinals."""
    shard = table.column(SHARD).to_numpy().astype(np.int64)
    return (shard << 40) | table.column(ROW).to_numpy().astype(np.int64)


def ordinals_of(rows: pa.Table, ordinals: pa.Table | None) -> tuple[np.ndarray, np.ndarray]:
    """(ordinal, range) of each row of ``rows`` (columns _shard, _row) from ``read_ordinals``."""
    want = row_keys(rows)
    if ordinals is None:
        if len(want):
            raise CurateError("ordinals missing for a partition (an interrupted barrier?)")
        return np.empty(0, np.int64), np.empty(0, np.int64)
    have = row_keys(ordinals)
    order = np.argsort(have, kind="stable")
    at = order[np.minimum(np.searchsorted(have[order], want), len(have) - 1)]
    if len(want) and not np.array_equal(have[at], want):
        raise CurateError("ordinals missing for some rows (an interrupted barrier?)")
    return (
        ordinals.column("ordinal").to_numpy()[at].astype(np.int64),
        ordinals.column(RANGE).to_numpy()[at].astype(np.int64),
    )


# ---------------------------------------------------------------- tasks


def _sample(job: OrdinalJob) -> pa.Table | None:
    """Quantile rows of each shard of one group (from its first partition's row group, or a
    plain file's rows)."""
    cols = order_columns(job.keep)
    per_file = max(1, math.ceil(OVERSAMPLE * job.ranges / max(job.shards, 1)))
    out = []
    files = job.input_files()[job.part * FILES_PER_SAMPLE_TASK :][:FILES_PER_SAMPLE_TASK]
    for path in files:
        if not path.exists():
            continue
        if _partitioned(path):
            held = held_partitions(path)
            if not held:
                continue
            rows = read_partition([path], held[0], cols)
        else:  # a plain Parquet file: all its rows (its first row group alone holds its
            # first rows in input order, which need not look like the rest: ranges 2x uneven)
            f = pq.ParquetFile(storage.source(path))
            if not f.metadata.num_rows:  # a shard with no row: maybe not even the columns
                continue
            rows = f.read(columns=cols)
        rows = rows.filter(pc.is_valid(rows.column("dump")))
        if not rows.num_rows:
            continue
        rows = rows.take(pc.sort_indices(rows, sort_keys=_arrow_keys(job.keep)))
        at = np.unique(np.linspace(0, rows.num_rows - 1, min(per_file, rows.num_rows)).round())
        out.append(rows.take(pa.array(at.astype(np.int64))))
    return pa.concat_tables(out).replace_schema_metadata(None) if out else None


def _input_partition(paths: list[Path], p: int, columns: list[str]) -> pa.Table | None:
    """Partition ``p`` of the input files; a plain Parquet file (no partition metadata, e.g. a
    non-keyed stage's collect file) is all partition 0."""
    parts = []
    for path in paths:
        if not path.exists():
            continue
        if _partitioned(path):
            found = read_partition([path], p, columns)
            if found is not None:
                parts.append(found)
        elif p == 0 and pq.read_metadata(storage.source(path)).num_rows:
            parts.append(
                pq.read_table(storage.source(path), columns=columns).replace_schema_metadata(None)
            )
    return pa.concat_tables(parts, promote_options="default") if parts else None


def _partitioned(path: Path) -> bool:
    """Whether ``path`` was written by curate.shuffle (segments, or row groups listed in its
    metadata), not as plain Parquet."""
    held = pq.ParquetFile(storage.source(path)).schema_arrow.metadata or {}
    return META in held or SEGMENTS in held


def _splitters(samples: list[pa.Table], job: OrdinalJob) -> pa.Table:
    cols = order_columns(job.keep)
    if not samples:
        return pa.table({c: pa.array([], pa.large_string()) for c in cols}).select(cols)
    sample = widen(pa.concat_tables(samples, promote_options="default"))
    sample = sample.take(pc.sort_indices(sample, sort_keys=_arrow_keys(job.keep)))
    at = [i * sample.num_rows // job.ranges for i in range(1, job.ranges)]
    return sample.take(pa.array(at, pa.int64())) if at else sample.slice(0, 0)


def range_of(rows: pa.Table, splitters: pa.Table, keep: str) -> np.ndarray:
    """The range of each row: how many splitters sort before it or equal it (one stable sort
    of the splitters followed by the rows)."""
    n, s = rows.num_rows, splitters.num_rows
    if not s:
        return np.zeros(n, np.int64)
    cols = order_columns(keep)
    rows = widen(rows.select(cols))
    both = pa.concat_tables([splitters.select(cols).cast(rows.schema), rows])
    order = pc.sort_indices(both, sort_keys=_arrow_keys(keep)).to_numpy()
    is_splitter = order < s
    before = np.cumsum(is_splitter)
    out = np.empty(n, np.int64)
    out[order[~is_splitter] - s] = before[~is_splitter]
    return out


def _spread(job: OrdinalJob) -> dict[str, Any]:
    """Input partition ``job.part``: each row's range, rows written by range; per dump the rows
    per range and the sum of id hashes."""
    cols = order_columns(job.keep)
    files = job.input_files()
    if job.plain_by_group:  # only this group's shards, each whole
        files = [f for s, f in enumerate(files) if s * job.partitions // job.shards == job.part]
        rows = _input_partition(files, 0, [SHARD, ROW, *cols])
    else:
        rows = _input_partition(files, job.part, [SHARD, ROW, *cols])
    if rows is None:
        rows = pa.table({SHARD: pa.array([], pa.int32()), ROW: pa.array([], pa.int64())})
        rows = rows.append_column("dump", pa.array([], pa.string()))
    if rows.column("dump").null_count:
        raise CurateError(
            f"{job.what}: a cross-dump index needs a dump for every document "
            "(a 'dump' column or a dump=NAME folder)"
        )
    counts: dict[str, list[int]] = {}
    sums: dict[str, list[int]] = {}
    if rows.num_rows:
        splitters = pq.read_table(storage.source(job.splitters_file))
        ranges = range_of(rows, splitters, job.keep)
        enc = pc.dictionary_encode(rows.column("dump")).combine_chunks()
        code = enc.indices.to_numpy()
        names = enc.dictionary.to_pylist()
        per = np.bincount(code * job.ranges + ranges, minlength=len(names) * job.ranges)
        hashes = id_hashes(rows.column("id"))
        for c, name in enumerate(names):
            counts[name] = per[c * job.ranges : (c + 1) * job.ranges].tolist()
            with np.errstate(over="ignore"):
                sums[name] = [int((code == c).sum()), int(hashes[code == c].sum(dtype=np.uint64))]
        rows = rows.append_column(PART, pa.array(np.full(rows.num_rows, job.part, np.int32)))
        write_segments(job.spread_file(job.part), rows, ranges)
    else:
        write_segments(job.spread_file(job.part), rows, np.zeros(0, np.int64))
    return {"counts": counts, "sums": sums}


def _rank(job: OrdinalJob) -> int:
    """Range ``job.part``: its rows in dump-then-survival order, each with its ordinal, written
    back by input partition."""
    files = [job.spread_file(p) for p in range(job.partitions)]
    rows = read_partition(files, job.part)
    out = job.rank_file(job.part)
    if rows is None or not rows.num_rows:
        empty = pa.table(
            {
                SHARD: pa.array([], pa.int32()),
                ROW: pa.array([], pa.int64()),
                "ordinal": pa.array([], pa.int64()),
                RANGE: pa.array([], pa.int32()),
            }
        )
        write_segments(out, empty, np.zeros(0, np.int64))
        return job.part
    rows = rows.take(pc.sort_indices(rows, sort_keys=_arrow_keys(job.keep)))
    enc = pc.dictionary_encode(rows.column("dump")).combine_chunks()
    code = enc.indices.to_numpy()
    names = enc.dictionary.to_pylist()
    start = np.r_[0, np.flatnonzero(np.diff(code)) + 1]  # rows of a dump are contiguous
    block = np.repeat(start, np.diff(np.r_[start, len(code)]))
    base = np.array([job.first[n][job.part] for n in names], np.int64)
    ordinal = base[code] + np.arange(len(code)) - block
    table = pa.table(
        {
            SHARD: rows.column(SHARD),
            ROW: rows.column(ROW),
            "ordinal": pa.array(ordinal, pa.int64()),
            RANGE: pa.array(np.full(len(code), job.part, np.int32)),
        }
    )
    write_segments(out, table, rows.column(PART).to_numpy().astype(np.int64))
    return job.part


def _arrow_keys(keep: str) -> list[tuple[str, str, str]]:
    return [(k, o, "at_end") for k, o in dump_order(keep)]
