"""The exchange between map and reduce tasks: tables split into hash partitions, on disk.

A map task writes one Parquet file whose row groups are its partitions, in partition order, and
records which partition each row group holds in the file's key-value metadata. A reduce task
reads its partition's row group from every map file, and nothing else: no process ever holds
more than one partition of the keys.

Used twice per keyed barrier (curate.pipeline): shard keys -> partitions of the key (the dedup
decides within a partition), then each partition's removals -> groups of shards (so each shard's
decision file is written by one task that reads one row group per partition).

Columns that grow with the corpus are 64-bit-offset (``large_string``, ``large_list``), so a
partition may pass 2 GiB of text without Arrow's 32-bit offsets overflowing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.io import AtomicParquetWriter, _writing, atomic_write_bytes

META = b"curate.partitions"
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads keys that share low bits


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


def write_partitioned(path: Path, table: pa.Table, part: np.ndarray) -> dict[int, int]:
    """Write ``table`` to ``path`` (atomically) with one row group per non-empty partition;
    returns {partition: rows}."""
    table = widen(table)
    part = np.asarray(part, np.int64)
    order = np.argsort(part, kind="stable")
    ids, starts, counts = np.unique(part[order], return_index=True, return_counts=True)
    meta = {**(table.schema.metadata or {}), META: json.dumps(ids.tolist()).encode()}
    schema = table.schema.with_metadata(meta)
    tmp = path.with_name(f".{path.name}.tmp")
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        with pq.ParquetWriter(tmp, schema, compression="zstd", write_page_checksum=True) as w:
            if not len(ids):
                w.write_table(schema.empty_table())
            for start, count in zip(starts, counts):
                rows = pa.array(order[start : start + count])
                w.write_table(table.take(rows).replace_schema_metadata(meta), row_group_size=count)
        tmp.replace(path)
    return {int(p): int(c) for p, c in zip(ids, counts)}


def read_partition(
    paths: Iterable[Path], partition: int, columns: list[str] | None = None
) -> pa.Table | None:
    """Partition ``partition`` of every file that holds one (None when no file does)."""
    parts = []
    for path in paths:
        try:
            f = pq.ParquetFile(path, page_checksum_verification=True)
        except FileNotFoundError:
            continue
        held = json.loads((f.schema_arrow.metadata or {}).get(META, b"[]"))
        if partition in held:
            parts.append(f.read_row_group(held.index(partition), columns=columns))
    if not parts:
        return None
    return pa.concat_tables(parts, promote_options="default").replace_schema_metadata(None)


def write_json(path: Path, value: object) -> None:
    atomic_write_bytes(path, json.dumps(value, sort_keys=True).encode())


def gather_decisions(files: list[Path], group: int, folder: Path) -> None:
    """The decision files (``folder``/part-<shard>.parquet: _row, reason, ...) of one group of
    shards, from that group's row group of every reduce task's removals (with _shard)."""
    removals = read_partition(files, group)
    if removals is None or not removals.num_rows:
        return
    removals = removals.sort_by([("_shard", "ascending"), ("_row", "ascending")])
    shard = removals.column("_shard").to_numpy()
    cuts = np.flatnonzero(np.diff(shard)) + 1
    schema = narrow(removals.drop_columns(["_shard"]).schema)
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(shard)]):
        part = removals.slice(a, b - a).drop_columns(["_shard"]).cast(schema)  # one shard's
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
