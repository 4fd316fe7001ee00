"""minhash_dedup's barrier as partitioned tasks: no process holds the corpus.

The in-memory barrier (curate.stages.minhash_dedup) numbers every document by its rank in the
survival order, which needs every document's (dump, date, id) in one process. Here a document's
node is ``shard << 32 | row`` (its place in the collect files: no global numbering at all), and
every step is a round of tasks that each hold one hash partition of keys (``partitions``) or one
group of consecutive shards (``groups``), exchanging Parquet files in curate.shuffle's layout:

1. bands (per shard group): each shingled row's band keys -> partitions of the key;
2. buckets (per key partition): the members of every bucket of two or more -> shard groups;
3. join (per shard group): each member gets its survival columns (id, dump, date, length) from
   its shard's collect file -> partitions of the bucket;
4. links (per key partition): every member is linked to its bucket's best (first in
   curate.index.survivor's order, as the in-memory barrier does) -> shard groups of the member;
5. verify, first end (per shard group): the distinct candidate pairs (a pair met in several bands
   is one pair: both its copies are in the member's group), the member's shingle set or
   signature -> shard groups of the other end;
6. verify, other end (per shard group): its set or signature, the check, the verified links;
7. connected components of the verified links (curate.dedup.components, rounds of tasks);
8. labels -> shard groups; 9. join: survival columns -> partitions of the component label;
10. survivors (per label partition): each component's first in survival order stays, the others
    go with ``duplicate_of`` = its id, ``cluster`` = a hash of that id (the same whatever the
    sharding); removals -> groups of shards;
11. decision files (per group of shards), as the keyed barriers write them.

The driver holds file names it derives from counts and merges small per-task counters. A task
holds one partition or one shard group at a time: candidate rows only after step 2, so steps 3-6
and 8-10 hold the near-duplicates, not the corpus. A component's members meet in one task
(step 10): a giant component is one task's, as in curate.dedup.components.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from xxhash import xxh3_64_intdigest

from curate import storage
from curate.collected import Run
from curate.dedup.components import distinct_pairs, partitioned_components
from curate.errors import CurateError, failpoint
from curate.index.survivor import rank_of, survival_order
from curate.minhash import SetStore, jaccard_at_least, signatures_agree
from curate.shuffle import gather_decisions, partition_of, read_partition, write_partitioned
from curate.stages.base import ROW, SHARD

SURVIVAL = ["id", "dump", "date", "length"]
ROW_BITS = 32
# shards whose decision files one gather task writes (as the keyed barriers do)
SHARDS_PER_GROUP = 256
# one key partition per this many band-key bytes (24 per band and row: key, node, band; a task
# sorts a few copies): the runner's partitions are sized for a keyed barrier's one key per row
BAND_BYTES_PER_PARTITION = 512 << 20


@dataclass(frozen=True)
class Plan:
    """What every task of one barrier needs; small and picklable: files are derived from
    folders and counts, never listed."""

    collect: str  # folder of the collect files, part-NNNNN.parquet per shard
    shards: int  # shard count (part-00000 .. part-<shards-1>; missing or empty ones skipped)
    work: str  # scratch folder of the rounds' files
    decisions: str  # where each shard's decision file goes
    partitions: int  # key partitions (bands, buckets, links, labels)
    groups: int  # groups of consecutive shards (joins with the collect files)
    bands: int
    verify: str
    threshold: float
    num_perm: int
    keep: str

    def collect_file(self, shard: int) -> Path:
        return storage.path(self.collect, f"part-{shard:05d}.parquet")

    def shards_of(self, group: int) -> range:
        """Shards s with s * groups // shards == group."""
        return range(
            -(-group * self.shards // self.groups), -(-(group + 1) * self.shards // self.groups)
        )

    def group_of(self, node: np.ndarray) -> np.ndarray:
        return (node >> ROW_BITS) * self.groups // self.shards

    def files(self, step: str, count: int) -> list[Path]:
        return [storage.path(self.work, step, f"part-{i:05d}.parquet") for i in range(count)]

    def out(self, step: str, i: int) -> Path:
        return storage.path(self.work, step, f"part-{i:05d}.parquet")


def plan(
    collect: Path,
    shards: int,
    work: Path,
    decisions: Path,
    partitions: int,
    documents: int,
    config: Any,
) -> Plan:
    bands, _ = config.lsh()
    parts = max(partitions, math.ceil(documents * bands * 24 / BAND_BYTES_PER_PARTITION))
    return Plan(
        str(collect), shards, str(work), str(decisions), parts, max(1, min(parts, shards)),
        bands, config.verify, config.threshold, config.num_perm, config.keep,
    )  # fmt: skip


def run_barrier(p: Plan, run: Run) -> dict[str, Any]:
    """Every round in turn; returns the summary counters (the caller adds the stage's)."""
    storage.rmtree(p.work)  # a resumed run starts the barrier again
    P, G = p.partitions, p.groups
    counts: dict[str, int] = {}

    def each(fn: Any, tasks: int) -> list[Any]:
        return list(run(functools.partial(fn, p), list(range(tasks))))

    for c in each(_bands, G):
        counts["shingled"] = counts.get("shingled", 0) + c
    each(_buckets, P)
    each(functools.partial(_join, "members", P, "node", SURVIVAL, "bucket"), G)
    each(_links, P)
    candidates = sum(each(_verify_first, G))
    rejected = sum(each(_verify_other, G)) if p.verify != "none" else 0
    components = storage.path(p.work, "components")
    labels = partitioned_components(p.files("edges", G), components, P, run, P)
    each(functools.partial(_labels_by_group, str(labels.labels)), P)
    each(functools.partial(_join, "labels", P, "node", SURVIVAL, "label"), G)
    found = each(_survivors, P)
    each(_gather, math.ceil(p.shards / SHARDS_PER_GROUP))
    sizes: dict[int, int] = {}
    by_dump: dict[str, int] = {}
    for part in found:
        for k, v in part["sizes"].items():
            sizes[k] = sizes.get(k, 0) + v
        for k, v in part["removed_by_dump"].items():
            by_dump[k] = by_dump.get(k, 0) + v
    storage.rmtree(p.work)
    return {
        "shingled": counts.get("shingled", 0),
        "candidate_pairs": candidates,
        "rejected_by_verification": rejected,
        "clusters": sum(part["clusters"] for part in found),
        "duplicates": sum(part["duplicates"] for part in found),
        "duplicates_of_committed_dumps": 0,
        "removed_by_dump": dict(sorted(by_dump.items())),
        "cluster_sizes": histogram(sizes),
        "partitions": P,
        "component_rounds": len(labels.rounds),
    }


def histogram(sizes: dict[int, int]) -> dict[str, int]:
    """Cluster sizes {size: clusters} in powers of two: {"2": n, "3": n, "4-7": n, ...}."""
    out: dict[str, int] = {}
    for lo in (2, 3, 4, 8, 16, 32, 64, 128, 256, 512, 1024):
        hi = {2: 2, 3: 3}.get(lo, lo * 2 - 1) if lo < 1024 else math.inf
        count = sum(n for s, n in sizes.items() if lo <= s <= hi)
        if count:
            out[str(lo) if lo == hi else f"{lo}-{hi}" if lo < 1024 else f"{lo}+"] = count
    return out


def cluster_number(survivor_ids: pa.Array) -> pa.Array:
    """A cluster's number: its survivor's id hashed (xxh3, 63 bits), so it depends on the
    documents only, never on shards, partitions or which other clusters exist."""
    return pa.array(
        [xxh3_64_intdigest(s.encode()) >> 1 for s in survivor_ids.to_pylist()], pa.int64()
    )


# ---------------------------------------------------------------- tasks


def _read_shard(p: Plan, shard: int, columns: list[str]) -> pa.Table | None:
    """``columns`` of one shard's collect file; None for a shard with no row (its file, when
    there is one, holds only _shard and _row)."""
    try:
        f = pq.ParquetFile(storage.source(p.collect_file(shard)))
    except FileNotFoundError:
        return None
    return f.read(columns=columns) if f.metadata.num_rows else None


def _nodes(shard: int, rows: np.ndarray) -> np.ndarray:
    return (np.int64(shard) << np.int64(ROW_BITS)) | rows.astype(np.int64)


def _done(path: Path, table: pa.Table, part: np.ndarray) -> None:
    write_partitioned(path, table, part)
    failpoint("minhash_task")


def _bands(p: Plan, group: int) -> int:
    """Step 1: (band, key, node) of the group's shingled rows, by partition of the key."""
    bands, keys, nodes, shingled = [], [], [], 0
    for s in p.shards_of(group):
        cols = [ROW, "shingled", *(f"band_{j:02d}" for j in range(p.bands))]
        table = _read_shard(p, s, cols)
        if table is None:
            continue
        has = table.column("shingled").to_numpy(zero_copy_only=False)
        node = _nodes(s, table.column(ROW).to_numpy()[has])
        shingled += len(node)
        for j in range(p.bands):
            keys.append(table.column(2 + j).to_numpy()[has].astype(np.uint64))
            bands.append(np.full(len(node), j, np.uint8))
            nodes.append(node)
    key = np.concatenate(keys) if keys else np.empty(0, np.uint64)
    table = pa.table(
        {
            "band": np.concatenate(bands) if bands else np.empty(0, np.uint8),
            "key": key,
            "node": np.concatenate(nodes) if nodes else np.empty(0, np.int64),
        }
    )
    _done(p.out("bands", group), table, partition_of(key, p.partitions))
    return shingled


def _buckets(p: Plan, part: int) -> None:
    """Step 2: the members of every bucket (band, key) of two or more, by shard group."""
    table = read_partition(p.files("bands", p.groups), part)
    bucket, node = np.empty(0, np.int64), np.empty(0, np.int64)
    if table is not None:
        band = table.column("band").to_numpy()
        key = table.column("key").to_numpy()
        nd = table.column("node").to_numpy()
        del table
        order = np.lexsort((nd, key, band))
        band, key, nd = band[order], key[order], nd[order]
        start = np.ones(len(key), bool)
        start[1:] = (key[1:] != key[:-1]) | (band[1:] != band[:-1])
        local = np.cumsum(start) - 1
        size = np.bincount(local)
        shared = size[local] > 1
        bucket = (np.int64(part) << np.int64(40)) | local[shared].astype(np.int64)
        node = nd[shared]
    table = pa.table({"bucket": bucket, "node": node})
    _done(p.out("members", part), table, p.group_of(node))


def _join(step: str, count: int, on: str, columns: list[str], by: str, p: Plan, group: int) -> None:
    """Steps 3, 9 (and the verify steps): partition ``group`` of ``step``'s files gets the
    collect files' ``columns`` at its ``on`` nodes (shards of this group, read one at a time);
    written by partition of column ``by``."""
    table = read_partition(p.files(step, count), group)
    if table is None:
        table = _empty([on, by])
    out = _joined(p, group, table, on, columns)
    key = out.column(by).to_numpy()
    _done(p.out(f"{step}+", group), out, partition_of(key.view(np.uint64), p.partitions))


def _empty(names: list[str]) -> pa.Table:
    return pa.table({n: pa.array([], pa.int64()) for n in dict.fromkeys(names)})


def _joined(p: Plan, group: int, table: pa.Table, on: str, columns: list[str]) -> pa.Table:
    """``table`` sorted by ``on``, with the collect columns of the node in ``on`` appended."""
    table = table.sort_by(on)
    node = table.column(on).to_numpy()
    shard = node >> ROW_BITS
    parts = []
    for s in p.shards_of(group):
        lo, hi = np.searchsorted(shard, [s, s + 1])
        if lo == hi:
            continue
        src = _read_shard(p, s, [ROW, *columns])
        rows = src.column(ROW).to_numpy() if src is not None else np.empty(0, np.int64)
        want = node[lo:hi] & ((1 << ROW_BITS) - 1)
        at = np.minimum(np.searchsorted(rows, want), max(len(rows) - 1, 0))
        if src is None or not np.array_equal(rows[at], want):
            raise CurateError(f"{p.collect_file(s)}: rows missing from the collect file")
        parts.append(src.select(columns).take(pa.array(at)))
    if parts:
        extra = pa.concat_tables(parts)
    else:
        schema = _schema(p, columns)
        extra = schema.empty_table()
    for name in columns:
        table = table.append_column(name, extra.column(name))
    return table


def _schema(p: Plan, columns: list[str]) -> pa.Schema:
    """The collect files' types of ``columns`` (for an empty join)."""
    for s in range(p.shards):
        try:
            f = pq.ParquetFile(storage.source(p.collect_file(s)))
        except FileNotFoundError:
            continue
        if f.metadata.num_rows:
            return pa.schema([f.schema_arrow.field(c) for c in columns])
    raise CurateError(f"{p.collect}: no collect file")


def _survival_first(table: pa.Table, group: np.ndarray, keep: str) -> tuple[np.ndarray, np.ndarray]:
    """For rows of ``table`` (sorted by node: ties in survival order keep node order, as in the
    in-memory barrier) grouped by ``group``: (each row's group's best row, whether the row is
    first in its group)."""
    rank = rank_of(survival_order(table, keep))
    by = np.lexsort((rank, group))
    first = np.ones(len(by), bool)
    first[1:] = group[by][1:] != group[by][:-1]
    best = np.empty(len(by), np.int64)
    best[by] = by[np.maximum.accumulate(np.where(first, np.arange(len(by)), 0))]
    return best, best == np.arange(len(by))


def _links(p: Plan, part: int) -> None:
    """Step 4: each member -> its bucket's best, by shard group of the member."""
    table = read_partition(p.files("members+", p.groups), part)
    u, v = np.empty(0, np.int64), np.empty(0, np.int64)
    if table is not None and table.num_rows:
        table = table.sort_by("node")
        node = table.column("node").to_numpy()
        best, first = _survival_first(table, table.column("bucket").to_numpy(), p.keep)
        u, v = node[~first], node[best[~first]]
    _done(p.out("candidates", part), pa.table({"u": u, "v": v}), p.group_of(u))


def _payload(p: Plan) -> list[str]:
    return {"exact": ["shingles"], "signature": ["signature"]}.get(p.verify, [])


def _verify_first(p: Plan, group: int) -> int:
    """Step 5: the distinct candidate pairs of this group's members, with the member's set or
    signature, by shard group of the other end (verify none: the links themselves)."""
    table = read_partition(p.files("candidates", p.partitions), group)
    u = table.column("u").to_numpy() if table is not None else np.empty(0, np.int64)
    v = table.column("v").to_numpy() if table is not None else np.empty(0, np.int64)
    u, v = distinct_pairs(u, v)
    pairs = pa.table({"u": u, "v": v})
    if p.verify == "none":
        _done(p.out("edges", group), pairs, partition_of(u.view(np.uint64), p.partitions))
        return len(u)
    out = _joined(p, group, pairs, "u", _payload(p)).rename_columns(["u", "v", "a"])
    _done(p.out("half", group), out, p.group_of(v))
    return len(u)


def _verify_other(p: Plan, group: int) -> int:
    """Step 6: the other end's set or signature, the check; verified links by partition of
    their first node. Returns the rejected pairs."""
    table = read_partition(p.files("half", p.groups), group)
    if table is None:
        _done(p.out("edges", group), _empty(["u", "v"]), np.empty(0, np.int64))
        return 0
    table = _joined(p, group, table, "v", _payload(p)).rename_columns(["u", "v", "a", "b"])
    u, v = table.column("u").to_numpy(), table.column("v").to_numpy()
    if p.verify == "exact":
        a, b = (SetStore.from_arrow(table.column(c)) for c in ("a", "b"))
        idx = np.arange(len(u))
        ok = jaccard_at_least(a, idx, b, idx, p.threshold)
    else:
        need = math.ceil(p.threshold * p.num_perm - 1e-9)
        a, b = (_matrix(table.column(c), p.num_perm) for c in ("a", "b"))
        ok = signatures_agree(a, b, need)
    u, v = u[ok], v[ok]
    order = np.lexsort((v, u))
    u, v = u[order], v[order]
    _done(
        p.out("edges", group),
        pa.table({"u": u, "v": v}),
        partition_of(u.view(np.uint64), p.partitions),
    )
    return int((~ok).sum())


def _matrix(column: pa.ChunkedArray, width: int) -> np.ndarray:
    arr = column.combine_chunks()
    return arr.flatten().to_numpy().astype(np.uint32, copy=False).reshape(-1, width)


def _labels_by_group(labels: str, p: Plan, part: int) -> None:
    """Step 8: one partition of the component labels, by shard group of the node."""
    try:
        table = pq.read_table(storage.source(storage.path(labels, f"part-{part:05d}.parquet")))
    except FileNotFoundError:
        table = pa.table({"node": pa.array([], pa.int64()), "label": pa.array([], pa.int64())})
    node = table.column("node").to_numpy().astype(np.int64)
    table = pa.table({"node": node, "label": table.column("label").to_numpy().astype(np.int64)})
    _done(p.out("labels", part), table, p.group_of(node))


def _survivors(p: Plan, part: int) -> dict[str, Any]:
    """Step 10: each component's survivor; the others' removals by group of shards."""
    table = read_partition(p.files("labels+", p.groups), part)
    found: dict[str, Any] = {"clusters": 0, "duplicates": 0, "sizes": {}, "removed_by_dump": {}}
    schema = pa.schema(
        [(SHARD, pa.int32()), (ROW, pa.int64()), ("reason", pa.string()),
         ("duplicate_of", pa.string()), ("cluster", pa.int64())]
    )  # fmt: skip
    removals = schema.empty_table()
    if table is not None and table.num_rows:
        table = table.sort_by("node")
        node, label = table.column("node").to_numpy(), table.column("label").to_numpy()
        best, first = _survival_first(table, label, p.keep)
        gone = np.flatnonzero(~first)
        survivor = table.column("id").take(pa.array(best[gone]))
        removals = pa.table(
            {
                SHARD: pa.array((node[gone] >> ROW_BITS).astype(np.int32)),
                ROW: pa.array(node[gone] & ((1 << ROW_BITS) - 1)),
                "reason": pa.array(["minhash_duplicate"] * len(gone), pa.string()),
                "duplicate_of": survivor.combine_chunks().cast(pa.string()),
                "cluster": cluster_number(survivor.combine_chunks()),
            },
            schema=schema,
        )
        _, sizes = np.unique(label, return_counts=True)
        size, n = np.unique(sizes, return_counts=True)
        found["sizes"] = {int(s): int(c) for s, c in zip(size, n)}
        found["clusters"], found["duplicates"] = int(len(sizes)), int(len(gone))
        counted = pc.value_counts(table.column("dump").take(pa.array(gone)))
        found["removed_by_dump"] = {
            str(d): int(n)
            for d, n in zip(
                counted.field("values").to_pylist(), counted.field("counts").to_pylist()
            )
        }
    shard = removals.column(SHARD).to_numpy()
    _done(p.out("removals", part), removals, shard // SHARDS_PER_GROUP)
    return found


def _gather(p: Plan, group: int) -> None:
    """Step 11: the decision files of one group of shards."""
    gather_decisions(p.files("removals", p.partitions), group, storage.path(p.decisions))
    failpoint("minhash_task")
