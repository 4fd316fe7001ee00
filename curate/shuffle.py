"""The exchange between map and reduce tasks: tables split into hash partitions, on disk.

A map task of a keyed barrier writes one file of *segments* (``write_segments``): each non-empty
partition is a whole Parquet file of its
own (zstd, page checksums), one after another in partition order, followed by a table of
(partitions + 1) int64 byte offsets, 16 bytes (the partition count and the magic ``CURATEPT``)
and the footer of an empty Parquet file of the schema: a Parquet reader sees 0 rows (metadata
``curate.segments`` says why), curate finds the offsets from the footer's length. A reduce
task reads, from every map file, the tail, the 16 bytes of its
partition's offsets and its segment, and nothing else: the bytes it reads do not grow with the
number of partitions (a Parquet file with one row group per partition, ``write_partitioned``,
makes every reduce task parse every file's whole footer, ~870 bytes per partition: 850 KB per file
at 1,000 partitions). No process ever holds more than one partition of the keys.
``read_partition`` reads both layouts.

Used twice per keyed barrier (curate.pipeline): shard keys -> partitions of the key (the dedup
decides within a partition), then each partition's removals -> groups of shards (so each shard's
decision file is written by one task that reads one segment per partition).

Columns that grow with the corpus are 64-bit-offset (``large_string``, ``large_list``), so a
partition may pass 2 GiB of text without Arrow's 32-bit offsets overflowing.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate import storage
from curate.errors import failpoint
from curate.io import AtomicParquetWriter, atomic_file, atomic_write_bytes, dictionary_columns

META = b"curate.partitions"  # the older layout: partitions in the key-value metadata
MAGIC = b"CURATEPT"
SEGMENTS = b"curate.segments"
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads keys that share low bits
READ_BUFFER = 1 << 20  # iter_partition's reads of a column chunk
BATCH_BYTES = 8 << 20  # iter_partition's batches (from the row group's bytes per row)


def partition_of(keys: np.ndarray, partitions: int) -> np.ndarray:
    """Partition (0..partitions-1) of each 64-bit key; the same on every process and node."""
    keys = np.asarray(keys, np.uint64)
    if partitions == 1:
        return np.zeros(len(keys), np.int64)
    with np.errstate(over="ignore"):
        mixed = keys * _MIX
    return ((mixed >> np.uint64(32)) % np.uint64(partitions)).astype(np.int64)


def widen(table: pa.Table) -> pa.Table:
    """The same table with 64-bit offsets for strings, binaries and lists."""
    fields = []
    for f in table.schema:
        t = f.type
        if pa.types.is_string(t):
            t = pa.large_string()
        elif pa.types.is_binary(t):
            t = pa.large_binary()
        elif pa.types.is_list(t):
            t = pa.large_list(t.value_type)
        fields.append(f.with_type(t))
    schema = pa.schema(fields, metadata=table.schema.metadata)
    return table if schema.equals(table.schema) else table.cast(schema)


def take_rows(table: pa.Table, rows: np.ndarray) -> pa.Table:
    """``table.take(rows)`` without concatenating a chunked column first: pyarrow's take on a
    column of many chunks combines them (a copy of the whole column per call, and past 2 GiB an
    'offset overflow' for 32-bit offsets). Each record batch (the chunks, zero-copy) gives its
    own rows; rows given in ascending order come out as they are, others are put in order by
    one take over the result (its size, not the table's)."""
    rows = np.asarray(rows, np.int64)
    if len(rows) and rows[-1] - rows[0] == len(rows) - 1 and np.all(np.diff(rows) == 1):
        return table.slice(int(rows[0]), len(rows))  # a run of rows: no copy at all
    batches = table.to_batches()
    if len(batches) <= 1 or not len(rows):
        return table.take(pa.array(rows))
    starts = np.cumsum([0] + [b.num_rows for b in batches])
    which = np.searchsorted(starts, rows, "right") - 1
    ascending = bool(np.all(rows[1:] >= rows[:-1]))
    order = np.arange(len(rows)) if ascending else np.argsort(which, kind="stable")
    cuts = np.searchsorted(which[order], np.arange(len(batches) + 1))
    parts = [
        batches[k].take(pa.array(rows[order[cuts[k] : cuts[k + 1]]] - starts[k]))
        for k in range(len(batches))
        if cuts[k + 1] > cuts[k]
    ]
    got = pa.Table.from_batches(parts, table.schema)
    if ascending:
        return got
    back = np.empty(len(rows), np.int64)
    back[order] = np.arange(len(rows))
    return got.take(pa.array(back))


def write_partitioned(
    path: Path, table: pa.Table, part: np.ndarray, compression: str = "zstd"
) -> dict[int, int]:
    """Write ``table`` to ``path`` (atomically) as a Parquet file with one row group per
    non-empty partition, listed in its metadata (the older layout: a reader of one partition
    parses the whole footer; still what small exchanges and readable outputs use); returns
    {partition: rows}. ``compression="none"`` for random hashes (MinHash shingle sets), which
    zstd only slows down (3x the write time for the same bytes)."""
    table = widen(table)
    part = np.asarray(part, np.int64)
    order = np.argsort(part, kind="stable")
    ids, starts, counts = np.unique(part[order], return_index=True, return_counts=True)
    rows = (take_rows(table, order[a : a + n]) for a, n in zip(starts, counts))
    _write_row_groups(path, table.schema, ids.tolist(), rows, compression)
    return {int(p): int(c) for p, c in zip(ids, counts)}


def write_pieces(
    path: Path, schema: pa.Schema, pieces: dict[int, list[pa.Table]], compression: str = "zstd"
) -> dict[int, int]:
    """``write_partitioned``'s file from each partition's pieces (tables of ``schema``, in
    order): a map task that splits its input as it reads it holds its rows once, never the
    whole table and a copy of it taken in partition order."""
    schema = widen(schema.empty_table()).schema
    ids = sorted(pieces)
    tables = (pa.concat_tables([_as(widen(t), schema) for t in pieces[i]]) for i in ids)
    _write_row_groups(path, schema, ids, tables, compression)
    return {i: sum(t.num_rows for t in pieces[i]) for i in ids}


class PieceWriter:
    """``write_pieces``' file from pieces given one at a time, partitions in any order: each
    piece is split by partition and spilled at once (an uncompressed Arrow IPC file in the local
    temporary folder), and ``close`` writes the partitioned file from the spill a partition at a
    time. A map task that reads its input a row group at a time then holds one row group's rows
    and, at the end, one partition: never its whole output (``write_pieces`` holds every piece
    until it writes)."""

    def __init__(self, path: Path, compression: str = "zstd"):
        self.path, self.compression = path, compression
        self._dir = tempfile.TemporaryDirectory(prefix="curate-pieces-")
        self._spill = Path(self._dir.name, "spill.arrow")
        self._writer: pa.ipc.RecordBatchFileWriter | None = None
        self._schema: pa.Schema | None = None
        self._where: dict[int, list[int]] = {}  # partition -> its batches in the spill
        self._batches = 0

    def add(self, table: pa.Table, part: np.ndarray) -> None:
        """``table``'s rows, row i to partition ``part[i]``."""
        if not table.num_rows:
            return
        table = widen(table).replace_schema_metadata(None)
        if self._writer is None:
            self._schema = table.schema
            self._writer = pa.ipc.new_file(str(self._spill), table.schema)
        table = _as(table, self._schema)
        part = np.asarray(part, np.int64)
        order = np.argsort(part, kind="stable")
        ids, starts, counts = np.unique(part[order], return_index=True, return_counts=True)
        for p, a, n in zip(ids.tolist(), starts, counts):
            for batch in take_rows(table, order[a : a + n]).to_batches():
                self._writer.write_batch(batch)
                self._where.setdefault(p, []).append(self._batches)
                self._batches += 1

    @property
    def empty(self) -> bool:
        return self._writer is None

    def close(self, schema: pa.Schema | None = None) -> dict[int, int]:
        """Write the file (``schema``: its columns when no piece had a row); returns {partition:
        rows}."""
        out: dict[int, int] = {}
        try:
            if self._writer is None:
                assert schema is not None, "an empty PieceWriter needs its schema"
                _write_row_groups(self.path, widen(schema.empty_table()).schema, [], [], "zstd")
                return out
            self._writer.close()
            with pa.OSFile(str(self._spill)) as f:  # read, not mapped: a partition at a time
                spill = pa.ipc.open_file(f)
                ids = sorted(self._where)

                def tables() -> Iterator[pa.Table]:
                    for p in ids:
                        rows = pa.Table.from_batches(
                            [spill.get_batch(i) for i in self._where[p]], self._schema
                        )
                        out[p] = rows.num_rows
                        yield rows

                assert self._schema is not None
                _write_row_groups(self.path, self._schema, ids, tables(), self.compression)
        finally:
            self._dir.cleanup()
        return out


def _as(table: pa.Table, schema: pa.Schema) -> pa.Table:
    return table if table.schema.equals(schema) else table.cast(schema)


def _write_row_groups(
    path: Path, schema: pa.Schema, ids: list[int], tables: Iterable[pa.Table], compression: str
) -> None:
    """One row group per partition ``ids[k]`` (its rows: the k-th of ``tables``)."""
    meta = {**(schema.metadata or {}), META: json.dumps(ids).encode()}
    schema = schema.with_metadata(meta)
    with (
        atomic_file(path) as tmp,
        pq.ParquetWriter(
            tmp,
            schema,
            compression=compression,
            write_page_checksum=True,
            use_dictionary=dictionary_columns(schema),
        ) as w,
    ):
        if not ids:
            w.write_table(schema.empty_table())
        for rows in tables:
            w.write_table(rows.replace_schema_metadata(meta), row_group_size=rows.num_rows)
            failpoint("write_partition")


def write_segments(path: Path, table: pa.Table, part: np.ndarray) -> dict[int, int]:
    """Write ``table`` to ``path`` (atomically) as one segment per non-empty partition (see the
    module's docstring); returns {partition: rows}."""
    table = widen(table).replace_schema_metadata(None)
    part = np.asarray(part, np.int64)
    order = np.argsort(part, kind="stable")
    ids, starts, counts = np.unique(part[order], return_index=True, return_counts=True)
    n = int(ids[-1]) + 1 if len(ids) else 0
    offsets = np.full(n + 1, 4, np.int64)
    # the file ends as an empty Parquet file of the table's schema (0 rows, saying so in its
    # metadata), so that what a reader can see is Parquet; segments start after its b"PAR1"
    sink = pa.BufferOutputStream()
    meta = {SEGMENTS: b"partitions are segments before this footer (curate.shuffle)"}
    pq.ParquetWriter(sink, table.schema.with_metadata(meta)).close()  # no row group at all
    tail = sink.getvalue().to_pybytes()
    dictionary = dictionary_columns(table.schema)
    with atomic_file(path) as tmp, open(tmp, "wb") as f:
        f.write(b"PAR1")
        at = 4
        for p, start, count in zip(ids, starts, counts):
            sink = pa.BufferOutputStream()
            rows = take_rows(table, order[start : start + count])
            pq.write_table(
                rows, sink, compression="zstd", write_page_checksum=True, use_dictionary=dictionary
            )
            segment = sink.getvalue()
            f.write(segment)
            failpoint("write_partition")
            offsets[p + 1 :] = at = at + segment.size
        f.write(offsets.tobytes())
        f.write(np.int64(n).tobytes() + MAGIC)
        f.write(tail[4:])  # footer, its length, b"PAR1"
    return {int(p): int(c) for p, c in zip(ids, counts)}


def held_partitions(path: Path) -> list[int]:
    """The non-empty partitions of a map file, in order ([] when it is missing)."""
    try:
        with storage.open_raw(path) as f:
            offsets = _offsets(f)
            if offsets is None:
                held = pq.ParquetFile(storage.source(path)).schema_arrow.metadata or {}
                return json.loads(held.get(META, b"[]"))
    except FileNotFoundError:
        return []
    return np.flatnonzero(np.diff(offsets)).tolist()


def file_schema(path: Path) -> pa.Schema | None:
    """The schema of a map file (of its first segment; None when it holds no partition), or of
    any other Parquet file. FileNotFoundError when it is missing."""
    with storage.open_raw(path) as f:
        offsets = _offsets(f)
        if offsets is not None:
            held = np.flatnonzero(np.diff(offsets))
            if not len(held):
                return None
            a, b = int(offsets[held[0]]), int(offsets[held[0] + 1])
            f.seek(a)
            return pq.ParquetFile(pa.BufferReader(f.read(b - a))).schema_arrow
    return pq.read_schema(storage.source(path))


def _offsets(f: Any, partition: int | None = None) -> np.ndarray | None:
    """The segment offsets of an open map file (only partition's two with ``partition``), or
    None for a file of the older layout."""
    size = f.seek(0, 2)
    if size < 32:
        return None
    f.seek(size - 8)
    end = f.read(8)
    footer = int.from_bytes(end[:4], "little")
    trailer = size - 8 - footer - 16  # n and MAGIC, before the empty Parquet file's footer
    if end[4:] != b"PAR1" or trailer < 4:
        return None
    f.seek(trailer)
    tail = f.read(16)
    if tail[8:] != MAGIC:
        return None
    n = int(np.frombuffer(tail[:8], np.int64)[0])
    table = trailer - 8 * (n + 1)
    if partition is None:
        f.seek(table)
        return np.frombuffer(f.read(8 * (n + 1)), np.int64)
    if partition >= n:
        return np.zeros(2, np.int64)
    f.seek(table + 8 * partition)
    return np.frombuffer(f.read(16), np.int64)


def _holders(
    paths: Iterable[Path], partition: int, buffer_size: int = 0
) -> Iterator[tuple[pq.ParquetFile, list[int]]]:
    """Each file that holds partition ``partition``, opened, with the row groups that hold it."""
    for path in paths:
        try:
            f = storage.open_raw(path)
        except FileNotFoundError:
            continue
        with f:
            bounds = _offsets(f, partition)
            if bounds is not None:
                a, b = int(bounds[0]), int(bounds[1])
                if b > a:
                    f.seek(a)
                    segment = pa.BufferReader(f.read(b - a))
                    pf = pq.ParquetFile(
                        segment, page_checksum_verification=True, buffer_size=buffer_size
                    )
                    yield pf, list(range(pf.metadata.num_row_groups))
                continue
        pf = pq.ParquetFile(  # older layout
            storage.source(path), page_checksum_verification=True, buffer_size=buffer_size
        )
        held = json.loads((pf.schema_arrow.metadata or {}).get(META, b"[]"))
        if partition in held:
            yield pf, [held.index(partition)]


def read_partition(
    paths: Iterable[Path], partition: int, columns: list[str] | None = None
) -> pa.Table | None:
    """Partition ``partition`` of every file that holds one (None when no file does)."""
    parts = [
        pf.read_row_groups(groups, columns=columns) for pf, groups in _holders(paths, partition)
    ]
    if not parts:
        return None
    return pa.concat_tables(parts, promote_options="default").replace_schema_metadata(None)


def iter_partition(
    paths: Iterable[Path], partition: int, columns: list[str] | None = None
) -> Iterator[pa.RecordBatch]:
    """Partition ``partition`` of every file that holds one, as ``read_partition`` gives its
    rows (same order), in record batches of about ``BATCH_BYTES`` (from the row groups' sizes):
    the column chunks are read through a small buffer, so a task that handles one batch at a
    time holds one batch, not the partition (a ``read_partition`` of a list column holds its
    raw bytes and its decoded values at once, ~4x the values at the peak: measured on 114 MB
    of shingle sets, 488 MB)."""
    for pf, groups in _holders(paths, partition, READ_BUFFER):
        yield from _batches(pf, groups, columns)


def _batches(pf: pq.ParquetFile, groups: list[int], columns: list[str] | None) -> Iterator:
    for g in groups:
        md = pf.metadata.row_group(g)
        rows = max(1, md.num_rows * BATCH_BYTES // max(md.total_byte_size, 1))
        yield from pf.iter_batches(batch_size=rows, row_groups=[g], columns=columns)


def write_json(path: Path, value: object) -> None:
    atomic_write_bytes(path, json.dumps(value, sort_keys=True).encode())


def gather_decisions(files: list[Path], group: int, folder: Path) -> None:
    """The decision files (``folder``/part-<shard>.parquet: _row, reason, ...) of one group of
    shards, from that group's row group of every reduce task's removals (with _shard)."""
    removals = read_partition(files, group)
    if removals is None or not removals.num_rows:
        return
    # sorted by index, each shard's rows taken alone (take_rows: no copy of a whole column)
    shard = removals.column("_shard").to_numpy()
    order = np.lexsort((removals.column("_row").to_numpy(), shard))
    shard = shard[order]
    cuts = np.flatnonzero(np.diff(shard)) + 1
    schema = narrow(removals.drop_columns(["_shard"]).schema)
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(shard)]):
        part = take_rows(removals, order[a:b]).drop_columns(["_shard"]).cast(schema)
        writer = AtomicParquetWriter(folder / f"part-{int(shard[a]):05d}.parquet")
        writer.write(part)
        writer.close()


def narrow(schema: pa.Schema) -> pa.Schema:
    """64-bit-offset types back to the usual ones (for a table known to be small)."""
    types = {pa.large_string(): pa.string(), pa.large_binary(): pa.binary()}
    fields = []
    for f in schema:
        t = types.get(f.type, f.type)
        if pa.types.is_large_list(t):
            t = pa.list_(t.value_type)
        fields.append(f.with_type(t))
    return pa.schema(fields)
