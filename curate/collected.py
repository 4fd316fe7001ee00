"""The keys every shard collected for a global stage, read column by column.

A global stage's ``decide(table)`` sees every shard's keys at once, on one process. A stage whose
barrier splits into independent parts (MinHash: one reduce task per LSH band) overrides
``barrier(collected, run)``; the runner hands it

* ``collected``: ``read(columns)`` gives those columns of every shard, in shard order, so a reduce
  task reads only its own band's column of each shard's file (the shuffle by band: Parquet's
  column chunks are the partitions); ``take(columns, rows)`` reads only some rows;
  ``share(name, array)`` hands a large array to the tasks (a ``.npy`` file under the run's work
  directory, memory-mapped by the tasks on whichever node they run);
* ``write_decision(shard, table)``: a barrier's tasks write each shard's decision table
  themselves (a Parquet file in the stage's decision folder, ``decisions``), so the decision
  never passes through the driver; ``decision(shard)`` is then None (on disk) or, in memory,
  what was written;
* ``run(fn, tasks, memory=, cpus=)``: the executor's map, so the reduce tasks run in the local
  process pool or as Ray tasks, like the shard tasks, declaring what one task needs. Results
  come back in completion order.

``CollectedTable`` is the same interface over one in-memory table, with tasks run in-process
(tests, ``curate measure``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate import storage
from curate.errors import failpoint
from curate.io import AtomicParquetWriter, atomic_file
from curate.shuffle import read_partition, write_partitioned
from curate.stages.base import SHARD


class Run(Protocol):
    """The executor's map as a barrier sees it: ``run(fn, tasks)`` runs ``fn(task)`` for every
    task and yields the results in completion order; ``memory`` (bytes) and ``cpus`` say what one
    task needs, so that Ray places tasks by it and the local pool runs as many as fit."""

    def __call__(
        self,
        fn: Callable[[Any], Any],
        tasks: Sequence[Any],
        *,
        memory: int | None = None,
        cpus: float = 1,
    ) -> Iterable[Any]: ...


class CollectedTable:
    """Collected keys held in memory (no ``decisions`` folder: a barrier returns its decision)."""

    decisions = None
    partitions = 1

    def __init__(self, table: pa.Table):
        self.table = table
        self.num_rows = table.num_rows
        self.column_names = table.column_names
        self.written: dict[int, pa.Table] = {}  # by the barrier's tasks (in-process)

    def read(self, columns: list[str]) -> pa.Table:
        return self.table.select(columns)

    def take(self, columns: list[str], rows: np.ndarray) -> pa.Table:
        return self.table.select(columns).take(pa.array(np.asarray(rows, np.int64)))

    def share(self, name: str, array: np.ndarray) -> Any:
        return array

    def pieces(self) -> list[tuple[int, int]]:
        """Row ranges [start, stop) of the shards, in order."""
        shard = self.table.column(SHARD).to_numpy() if self.num_rows else np.empty(0)
        bounds = np.flatnonzero(np.r_[True, shard[1:] != shard[:-1], True]) if len(shard) else []
        return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:])]

    def spill(self, name: str, table: pa.Table, part: np.ndarray) -> Any:
        """``table`` split by ``part`` for reduce tasks (``read_spilled``)."""
        return {int(p): table.filter(pa.array(part == p)) for p in np.unique(part)}

    def write_decision(self, shard: int, table: pa.Table) -> None:
        self.written[shard] = table

    def decision(self, shard: int) -> pa.Table | None:
        """What ``write_decision`` was given for ``shard`` (None when nothing)."""
        return self.written.get(shard)


class CollectedFiles:
    """Collected keys in one Parquet file per shard (shard order); missing or empty shards are
    skipped. ``decisions``: the folder where a barrier's tasks may write each shard's decision
    file (part-<shard>.parquet, then the barrier returns ``DecisionFiles``); ``partitions``:
    the run's hash partitions (how many parts a barrier's keys are split into)."""

    def __init__(
        self,
        paths: list[Path],
        scratch: Path,
        decisions: Path | None = None,
        partitions: int = 1,
    ):
        self.paths, sizes, names, groups = [], [], None, []
        self.shards = len(paths)  # paths[i] is shard i's (part-<i>.parquet)
        self.folder = storage.path(paths[0]).parent if paths else storage.path(scratch)
        for path in paths:
            try:
                meta = pq.read_metadata(storage.source(path))
            except FileNotFoundError:
                continue
            if meta.num_rows:
                self.paths.append(storage.path(path))
                sizes.append(meta.num_rows)
                names = names or meta.schema.to_arrow_schema().names
                groups.append([meta.row_group(g).num_rows for g in range(meta.num_row_groups)])
        self.starts = np.concatenate([[0], np.cumsum(sizes, dtype=np.int64)])
        # every row group of every file: its first row (global), its file, its number there
        self.group_starts = np.concatenate([[0], np.cumsum(sum(groups, []), dtype=np.int64)])
        self.group_file = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
        self.group_index = np.concatenate([np.arange(len(g)) for g in groups] + [[]]).astype(int)
        self.num_rows = int(self.starts[-1])
        self.column_names = names or []
        self.scratch = storage.path(scratch)
        self.decisions = decisions
        self.partitions = partitions

    def read(self, columns: list[str]) -> pa.Table:
        if not self.paths:
            return pa.table({})
        return pa.concat_tables(
            pq.read_table(storage.source(p), columns=columns) for p in self.paths
        )

    def take(self, columns: list[str], rows: np.ndarray) -> pa.Table:
        """Rows (global positions, any order, repeats allowed) of ``columns``. Only the row
        groups that hold one of them are read, one at a time, and only those columns: memory
        grows with what is taken, not with the files."""
        rows = np.asarray(rows, np.int64)
        if not len(rows):
            return pa.table({c: pa.array([]) for c in columns})
        group = np.searchsorted(self.group_starts, rows, "right") - 1
        order = np.argsort(group, kind="stable")
        cut = np.flatnonzero(np.diff(group[order])) + 1
        parts, pf, file_at = [], None, -1
        for lo, hi in zip(np.r_[0, cut], np.r_[cut, len(order)]):
            g = group[order[lo]]
            if self.group_file[g] != file_at:
                file_at = self.group_file[g]
                pf = pq.ParquetFile(storage.source(self.paths[file_at]))
            table = pf.read_row_group(int(self.group_index[g]), columns=columns)
            local = rows[order[lo:hi]] - self.group_starts[g]
            whole = np.array_equal(local, np.arange(table.num_rows))
            parts.append(table if whole else table.take(pa.array(local)))
        got = pa.concat_tables(parts)
        if (np.diff(order) == 1).all():  # already in the asked order (a span, sorted rows)
            return got
        back = np.empty(len(rows), np.int64)  # undo the grouping by row group
        back[order] = np.arange(len(rows))
        return got.take(pa.array(back))

    def pieces(self) -> list[tuple[int, int]]:
        """Row ranges [start, stop) of the files (one shard each), in order."""
        return [(int(a), int(b)) for a, b in zip(self.starts[:-1], self.starts[1:])]

    def spill(self, name: str, table: pa.Table, part: np.ndarray) -> Any:
        """``table`` written with one row group per value of ``part`` (curate.shuffle), for
        reduce tasks to read their partition with ``read_spilled``; any process may call it."""
        path = self.scratch / f"{name}.parquet"
        write_partitioned(path, table, part)
        return str(path)

    def write_decision(self, shard: int, table: pa.Table) -> None:
        """One shard's decision file, written whole or not at all; any process may call it."""
        if self.decisions is None:
            raise ValueError("these collected keys have no decision folder")
        writer = AtomicParquetWriter(self.decisions / f"part-{shard:05d}.parquet")
        writer.write(table)
        writer.close()
        failpoint("decision_file")

    def decision(self, shard: int) -> pa.Table | None:
        """None: the decision files are on disk, where the runner's shard tasks read them."""
        return None

    def share(self, name: str, array: np.ndarray) -> Any:
        path = self.scratch / f"{name}.npy"
        with atomic_file(path) as tmp, open(tmp, "wb") as f:  # never a half-written array
            np.save(f, np.ascontiguousarray(array))
        return str(path)


def read_spilled(
    handles: Sequence[Any], partition: int, columns: list[str] | None = None
) -> pa.Table | None:
    """One partition of every spilled table that has it (None when none has); only ``columns``
    when given."""
    files = [storage.path(h) for h in handles if not isinstance(h, dict)]
    parts = [h[partition] for h in handles if isinstance(h, dict) and partition in h]
    if columns is not None:
        parts = [t.select(columns) for t in parts]
    on_disk = read_partition(files, partition, columns) if files else None
    if on_disk is not None:
        parts.append(on_disk)
    return pa.concat_tables(parts, promote_options="default") if parts else None


def load_shared(handle: Any) -> np.ndarray:
    """An array given to ``share``: itself in memory, memory-mapped from its file, or read
    whole from the bucket."""
    if isinstance(handle, np.ndarray):
        return handle
    if storage.is_remote(handle):
        import io

        return np.load(io.BytesIO(storage.read_bytes(handle)))
    return np.load(handle, mmap_mode="r")


def run_here(
    fn: Callable[[Any], Any],
    tasks: Sequence[Any],
    *,
    memory: int | None = None,
    cpus: float = 1,
) -> Iterator[Any]:
    """Run the tasks one after another in this process (what they need is what it has)."""
    return (fn(t) for t in tasks)
