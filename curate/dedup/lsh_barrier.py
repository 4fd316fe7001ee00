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
    sharding); removals, and the survivors (reason null), all with ``minhash_cluster_size`` (the
    component's size, FineWeb-2's rehydration column) -> groups of shards;
11. decision files (per group of shards), as the keyed barriers write them.

With a cross-dump index (``run_indexed``, under the index's lock): first every run row's ordinal
in its dump (curate.index.ordinals, one partition per shard group), so a row's handle in the
index is known to every task; band keys are then partitioned by key range, and in step 2 each
task looks its keys up in the committed dumps' pieces of that band and range
(curate.index.store.lookup_partition, streamed); a hit links the document to the committed one
(and keeps it out of that band's run bucket, as the in-memory barrier does), the same task
writing this range of the new dumps' band keys into their staged folders. Step 5 sends the
group's hits, with their sets or signatures, by handle range of the committed document
(curate.index.store.HandleRanges: the committed documents cut in ranges of equal size); a task
per range verifies them against the committed sets or signatures (for those documents only)
and links each to its committed root, a node ``COMMITTED + handle`` (negative: the smallest node
of a component is its best committed document, which survives: committed dumps come first).
In step 8 such labels go by handle range to tasks that read their ids (for step 10). A task by
handle range is shipped only the docs and array pieces its range reaches
(curate.index.store.for_handle_range), as a key range's task only its band pieces
(for_key_range). After step 11 the new dumps' rows go by ordinal range to tasks that write their
docs pieces (id, root) and shingle-set or signature pieces; the driver commits the manifests
(curate.index.keyed.commit_dumps, as url_dedup's barrier does).

The driver holds file names it derives from counts and merges small per-task counters. A task
holds one partition or one shard group at a time: candidate rows only after step 2, so steps 3-6
and 8-10 hold the near-duplicates, not the corpus. A component's members meet in one task
(step 10): a giant component is one task's, as in curate.dedup.components.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate import storage
from curate.collected import Run, run_here
from curate.dedup.components import distinct_pairs, partitioned_components
from curate.errors import CurateError, failpoint
from curate.executors.base import TASK_BASE_MEMORY, task_memory
from curate.index.ordinals import OrdinalJob, dump_ordinals, read_ordinals, row_keys
from curate.index.store import (
    CommittedDump,
    HandleRanges,
    ReadMeter,
    doc_column,
    for_handle_range,
    for_key_range,
    handle_ranges,
    key_range_part,
    lookup_partition,
    make_handle,
    shingle_sets_of,
    signatures_of,
    write_docs,
    write_partition,
    write_sets,
    write_signatures,
)
from curate.index.survivor import rank_of, survival_order
from curate.minhash import SetStore, jaccard_at_least, signatures_agree
from curate.shuffle import (
    PieceWriter,
    gather_decisions,
    iter_partition,
    partition_of,
    read_partition,
    take_rows,
    widen,
    write_partitioned,
    write_pieces,
)
from curate.stages.base import ROW, SHARD
from curate.xxh3 import xxh3_64

SURVIVAL = ["id", "dump", "date", "length"]
# the size of each document's duplicate cluster (1: no duplicate), FineWeb-2's name for it
CLUSTER_SIZE = "minhash_cluster_size"
ROW_BITS = 32
# shards whose decision files one gather task writes (as the keyed barriers do)
SHARDS_PER_GROUP = 256
# what one task may read into memory (it holds a few copies: a sort, a take, the written
# partition), so that a task stays under ~400 MB whatever the run's size (at 128 MiB, the sample
# x 100 alone: docs pieces 437 MB, verification 449; at 64 MiB 325 and 407, every other round at
# most 292, benchmarks/minhash_round_peaks.py); each kind of round gets
# its own count from the bytes of what its tasks read:
# - key partitions (bands, buckets, links, labels): the band keys, 24 B per band and row (key,
#   node, band);
# - shard groups (bands, joins, verification, the new dumps' rows): the collect files' bytes of
#   the band keys and of the columns the group tasks hold whole (shingle sets or signatures, ids);
# - ordinal ranges (with an index: a docs piece of each new dump per range): the new dumps' ids
#   and shingle sets or signatures.
TASK_BYTES = 64 << 20
BAND_ROW_BYTES = 24
# what the exact Jaccard check holds besides its pairs (curate.minhash.jaccard_at_least
# gathers both sides' hashes in chunks of 2^22 and sorts them; measured ~150 MB at 10x)
VERIFY_BUFFERS = 160 << 20
# a committed document's node in the graph: its handle + COMMITTED (negative, so never a run
# node shard << 32 | row, and the smallest node of a component is its best committed document)
COMMITTED = np.int64(-(1 << 63))


@dataclass(frozen=True)
class IndexPlan:
    """What the tasks of an indexed barrier need of the index (picklable: dumps' manifests,
    names and folders)."""

    reference: tuple[CommittedDump, ...]  # dumps to deduplicate against, in commit order
    seq_of: dict[str, int]  # every run dump's sequence number (the new ones' as planned)
    staged: dict[str, str]  # new dump -> its staged folder in the index
    ordinals: OrdinalJob  # every run row's ordinal in its dump (curate.index.ordinals)
    # dump -> first ordinal per range (a list; in an ordinal range's task {range: first})
    first: dict[str, Any] = field(default_factory=dict)
    # the committed documents by handle range: the tasks that read them by handle (hits'
    # verification and roots, the committed survivors' ids), one per range
    handles: HandleRanges | None = None


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
    index: IndexPlan | None = None  # with a cross-dump index (``run_indexed``)
    ranges: int = 1  # with an index: ordinal ranges (a docs piece of each new dump per range)
    # the collect files' {column: (bytes, the largest shard's)} (``column_sizes``)
    sizes: dict[str, tuple] = field(default_factory=dict)

    def key_part(self, key: np.ndarray) -> np.ndarray:
        """The partition of each band key: a hash; with an index a key range (its top bits), so
        that a task's keys meet one slice of each committed dump's band pieces."""
        if self.index is None:
            return partition_of(key, self.partitions)
        return key_range_part(key, self.partitions)

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
    run: Run = run_here,
) -> Plan:
    """Each round's task count from what its tasks hold (``TASK_BYTES`` a task), never fewer
    than the runner's ``partitions`` (shard groups: never more than the shards): key partitions
    from the band keys, shard groups and ordinal ranges from the collect files' columns (Arrow
    bytes from their Parquet footers, read once by tasks: ``column_sizes``). Counts never change
    the result."""
    bands, _ = config.lsh()
    sizes = column_sizes(collect, shards, run)
    keys = documents * bands * BAND_ROW_BYTES
    parts = max(partitions, math.ceil(keys / TASK_BYTES))
    payload = {"exact": ["shingles"], "signature": ["signature"]}.get(config.verify, [])
    held = _bytes_of(sizes, [*payload, "id"])
    groups = max(1, min(shards, max(partitions, math.ceil(max(keys, held) / TASK_BYTES))))
    ranges = max(partitions, math.ceil(held / TASK_BYTES))
    return Plan(
        str(collect), shards, str(work), str(decisions), parts, groups, bands, config.verify,
        config.threshold, config.num_perm, config.keep, ranges=ranges, sizes=sizes,
    )  # fmt: skip


def column_sizes(collect: Path | str, shards: int, run: Run = run_here) -> dict[str, tuple]:
    """The collect files' columns: {column: (uncompressed bytes over all shards, the largest
    shard's)}, from their Parquet footers, read by tasks of SHARDS_PER_GROUP shards (the driver
    adds a few numbers per task, never reads a footer: on a bucket each is a request)."""
    spans = [(a, min(a + SHARDS_PER_GROUP, shards)) for a in range(0, shards, SHARDS_PER_GROUP)]
    task = functools.partial(_footer_sizes, str(collect))
    out: dict[str, tuple] = {}
    for part in run(task, spans, memory=TASK_BASE_MEMORY, cpus=1):
        for name, (total, largest) in part.items():
            was = out.get(name, (0, 0))
            out[name] = (was[0] + total, max(was[1], largest))
    return out


def _footer_sizes(collect: str, span: tuple[int, int]) -> dict[str, tuple[int, int]]:
    """Shards ``span`` (those whose collect file exists): {column: (bytes, largest shard's)}."""
    out: dict[str, tuple[int, int]] = {}
    for s in range(*span):
        try:
            md = pq.read_metadata(storage.source(storage.path(collect, f"part-{s:05d}.parquet")))
        except FileNotFoundError:
            continue
        sizes: dict[str, int] = {}
        for g in range(md.num_row_groups):
            rg = md.row_group(g)
            for c in range(rg.num_columns):
                col = rg.column(c)
                name = col.path_in_schema.split(".")[0]
                sizes[name] = sizes.get(name, 0) + col.total_uncompressed_size
        for name, n in sizes.items():
            was = out.get(name, (0, 0))
            out[name] = (was[0] + n, max(was[1], n))
    return out


def _bytes_of(sizes: dict[str, tuple], columns: list[str], largest: bool = False) -> int:
    """The bytes of ``columns`` (names or prefixes) in ``column_sizes``: over all shards, or
    (``largest``) the sum of each column's largest shard (at least any one shard's)."""
    return sum(n[largest] for c, n in sizes.items() if any(c.startswith(w) for w in columns))


def run_barrier(p: Plan, run: Run) -> dict[str, Any]:
    """Every round in turn; returns the summary counters (the caller adds the stage's)."""
    storage.rmtree(p.work)  # a resumed run starts the barrier again
    summary, _ = _rounds(p, run)
    storage.rmtree(p.work)
    return summary


def run_indexed(p: Plan, run: Run, index: Any, ranges: int | None = None) -> dict[str, Any]:
    """The barrier through a cross-dump index (curate.index.DedupIndex), under its lock: the
    run's ordinals (curate.index.ordinals, by shard group), then the rounds with the committed
    dumps' band keys looked up in the bucket tasks (a hit links the document to the best
    committed one, as in the in-memory barrier), then each new dump's pieces written by tasks
    (band keys by the bucket tasks, docs and shingle sets or signatures by ordinal range) and
    committed by curate.index.keyed.commit_dumps (the driver writes meta.json and renames)."""
    from curate.index.keyed import commit_dumps, plan_commit

    storage.rmtree(p.work)
    work = storage.path(p.work)
    ordinal_work = work.with_name(f"{work.name}-ordinals")
    storage.rmtree(ordinal_work)
    ranges = p.ranges if ranges is None else ranges
    job = OrdinalJob(
        p.collect, p.shards, p.groups, ranges, p.keep, str(ordinal_work),
        what="minhash_dedup", plain_by_group=True,
    )  # fmt: skip
    sizes = _Sizes(p)
    memory = sizes.collect(["id", "dump", "date", ROW], p.groups)

    def sized(fn: Any, tasks: Any, **_: Any) -> Any:
        return run(fn, tasks, memory=memory, cpus=1)

    with index.locked():
        survey = dump_ordinals(job, sized)
        reference, new, seq_of, staged = plan_commit(index, survey.fingerprints)
        handles = handle_ranges(reference, p.groups)  # tasks by handle: bounded manifests
        plan_ = replace(
            p, index=IndexPlan(tuple(reference), seq_of, staged, job, survey.first, handles)
        )
        summary, found = _rounds(plan_, run, sizes)
        commit_dumps(
            index,
            new,
            survey,
            staged,
            seq_of,
            found["pieces"],
            found["parts"],
            {name: {"removed": summary["removed_by_dump"].get(name, 0)} for name in new},
            found["arrays"],
        )
    storage.rmtree(p.work)
    storage.rmtree(ordinal_work)
    summary["index"] = {
        "deduplicated_against": [d.name for d in reference],
        "reference_docs": sum(d.docs for d in reference),
        "committed": new,
        "already_committed": sorted(set(survey.docs) - set(new)),
        "bytes_read": found["bytes_read"] + index.bytes_read,
    }
    return summary


def _rounds(
    p: Plan, run: Run, sizes_: _Sizes | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The rounds; returns the summary and, with an index, what the commit needs: {pieces,
    parts, arrays} per new dump and the bytes the tasks read from the index. Each task gets the
    plan as it needs it (``_view``: a key range's band pieces of the index only, an ordinal
    range's first ordinal only) and each round declares its tasks' memory (``_Sizes``)."""
    P, G = p.partitions, p.groups
    counts: dict[str, int] = {}
    found: dict[str, Any] = {"bytes_read": 0, "pieces": {}, "parts": {}, "arrays": {}}
    sizes_ = sizes_ or _Sizes(p)

    def each(fn: Any, tasks: int, memory: int, role: str = "") -> list[Any]:
        work = [(fn, _view(p, role, i), i) for i in range(tasks)]
        return list(run(_call, work, memory=memory, cpus=1))

    for c in each(_bands, G, sizes_.collect(["band_"], G)):
        counts["shingled"] = counts.get("shingled", 0) + c
    for bucket in each(_buckets, P, sizes_.of("bands", G, P), "range"):
        found["bytes_read"] += bucket["bytes_read"]
        for name, parts in bucket["parts"].items():
            found["parts"].setdefault(name, []).extend(tuple(x) for x in parts)
    memory = sizes_.of("members", P, G) + sizes_.shard(SURVIVAL)
    each(functools.partial(_join, "members", P, "node", SURVIVAL, "bucket"), G, memory)
    each(_links, P, sizes_.of("members+", G, P))
    candidates, rejected = 0, 0
    verify = VERIFY_BUFFERS if p.verify != "none" else 0
    # the group's candidates, a row group's sets and, as its file is written, one partition
    memory = sizes_.of("candidates", P, G) + sizes_.shard(_payload(p))
    for first in each(_verify_first, G, memory):
        candidates += first["candidates"]
        rejected += first["rejected"]
    H = p.index.handles.count if _committed(p) else 0  # type: ignore[union-attr]
    for hit in each(_verify_hits, H, sizes_.of("hhalf", G, H) + verify, "handles"):
        rejected += hit["rejected"]
        found["bytes_read"] += hit["bytes_read"]
    if p.verify != "none":
        # the group's other ends' sets (at most the group's), a batch of pairs, the check
        memory = sizes_.collect(_payload(p), G) + verify
        rejected += sum(each(_verify_other, G, memory))
    edges = p.files("edges", G) + p.files("iedges", H)
    memory = task_memory(int(1.5 * sizes_.bytes(edges) / P))

    def sized(fn: Any, tasks: Any, **_: Any) -> Any:
        return run(fn, tasks, memory=memory, cpus=1)

    labels = partitioned_components(edges, storage.path(p.work, "components"), P, sized, P)
    memory = task_memory(int(1.5 * sizes_.bytes(_labels_files(str(labels.labels), P)) / P))
    each(functools.partial(_labels_by_group, str(labels.labels)), P, memory)
    memory = sizes_.of("labels", P, G) + sizes_.shard(SURVIVAL)
    each(functools.partial(_join, "labels", P, "node", SURVIVAL, "label"), G, memory)
    for n in each(_root_ids, H, sizes_.of("wanted", P, H), "ids"):
        found["bytes_read"] += n
    survivors = each(_survivors, P, sizes_.of("labels+", G, P))
    gathers = math.ceil(p.shards / SHARDS_PER_GROUP)
    each(_gather, gathers, sizes_.of("removals", P, gathers))
    if p.index is not None and p.index.staged:
        # a row group of the group's rows at a time (and one range's as its file is written)
        each(_spread_docs, G, sizes_.of("roots", P, G) + sizes_.shard([*_payload(p), "id"]))
        ranges = p.index.ordinals.ranges
        for part in each(_docs, ranges, sizes_.of("docs", G, ranges), "ordinal"):
            for name, (piece, arrays) in part.items():
                found["pieces"].setdefault(name, []).append(tuple(piece))
                found["arrays"].setdefault(name, []).extend(tuple(a) for a in arrays)
    sizes: dict[int, int] = {}
    by_dump: dict[str, int] = {}
    for part in survivors:
        found["bytes_read"] += part.get("bytes_read", 0)
        for k, v in part["sizes"].items():
            sizes[k] = sizes.get(k, 0) + v
        for k, v in part["removed_by_dump"].items():
            by_dump[k] = by_dump.get(k, 0) + v
    summary = {
        "shingled": counts.get("shingled", 0),
        "candidate_pairs": candidates,
        "rejected_by_verification": rejected,
        "clusters": sum(part["clusters"] for part in survivors),
        "duplicates": sum(part["duplicates"] for part in survivors),
        "duplicates_of_committed_dumps": sum(part.get("committed", 0) for part in survivors),
        "removed_by_dump": dict(sorted(by_dump.items())),
        "cluster_sizes": histogram(sizes),
        "partitions": P,
        "groups": G,
        "component_rounds": len(labels.rounds),
    }
    return summary, found


def _call(task: tuple[Any, Plan, int]) -> Any:
    fn, p, i = task
    return fn(p, i)


def _view(p: Plan, role: str, i: int) -> Plan:
    """The plan as task ``i`` of a round needs it: with an index, a key range's task
    (``range``) gets only the committed band pieces that reach its range
    (curate.index.store.for_key_range), a handle range's task only the docs pieces that reach
    its range (curate.index.store.for_handle_range), with their shingle-set or signature
    pieces when it verifies hits (``handles``; ``ids``: docs only), an ordinal range's task
    (``ordinal``) its own first ordinals only, and the others no manifest at all: what the
    driver ships grows with a task's share of the index, not with the dumps committed."""
    if p.index is None:
        return p
    x = p.index
    if role == "range":
        reference = for_key_range(x.reference, i, p.partitions, docs=False)
    elif role in ("handles", "ids"):
        assert x.handles is not None
        reference = for_handle_range(x.reference, x.handles, i, arrays=role == "handles")
    else:
        reference = ()
    first = {name: {i: f[i]} for name, f in x.first.items()} if role == "ordinal" else {}
    return replace(p, index=replace(x, reference=reference, first=first))


class _Sizes:
    """What a round's tasks may hold, from the sizes of what they read: the exchange files of
    the round before (their bytes on disk / tasks, 1.5x for an uneven partition, through
    curate.executors.base.task_memory), and the collect files' columns (Arrow bytes, from the
    Parquet footers, read once by ``plan``'s tasks: a shard group's share, or the largest shard
    when a task reads one shard at a time). Declared to the executor, so Ray places the tasks
    by memory (and the local pool runs as many as fit)."""

    def __init__(self, p: Plan):
        self.p = p

    def collect(self, columns: list[str], tasks: int) -> int:
        """A task that holds a shard group's ``columns`` (names or prefixes): 3x their bytes."""
        total = _bytes_of(self.p.sizes, columns)
        return TASK_BASE_MEMORY + 3 * int(1.5 * total / max(tasks, 1))

    def shard(self, columns: list[str]) -> int:
        """What reading one shard's ``columns`` adds (the largest shard; a take copies)."""
        return 2 * _bytes_of(self.p.sizes, [ROW, *columns], largest=True)

    @staticmethod
    def bytes(files: list[Path]) -> int:
        total = 0
        for f in files:
            try:
                total += f.stat().st_size
            except FileNotFoundError:
                continue
        return total

    def of(self, step: str, count: int, tasks: int) -> int:
        """A task reading its partition of the ``count`` files of ``step``."""
        return task_memory(int(1.5 * self.bytes(self.p.files(step, count)) / max(tasks, 1)))


def _labels_files(labels: str, partitions: int) -> list[Path]:
    return [storage.path(labels, f"part-{i:05d}.parquet") for i in range(partitions)]


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
    return pa.array((xxh3_64(survivor_ids) >> np.uint64(1)).astype(np.int64), pa.int64())


# ---------------------------------------------------------------- tasks


def _read_shard(p: Plan, shard: int, columns: list[str]) -> pa.Table | None:
    """``columns`` of one shard's collect file; None for a shard with no row (its file, when
    there is one, holds only _shard and _row)."""
    try:
        f = pq.ParquetFile(storage.source(p.collect_file(shard)))
    except FileNotFoundError:
        return None
    return f.read(columns=columns) if f.metadata.num_rows else None


def _collect_rows(
    p: Plan, shard: int, columns: list[str], node: np.ndarray
) -> Iterator[tuple[int, int, pa.Table]]:
    """``columns`` of shard ``shard``'s collect file at ``node`` (nodes of that shard,
    ascending, repeats allowed), a row group at a time: (a, b, the values of node[a:b]). Only
    the row groups that hold one are read, one at a time: a task holds the rows it asked for
    and one row group, never a shard's column (a shard grows with the run, to 100,000 rows)."""
    if not len(node):
        return
    path = p.collect_file(shard)
    try:
        f = pq.ParquetFile(storage.source(path))
    except FileNotFoundError:
        raise CurateError(f"{path}: rows missing from the collect file") from None
    want = node & ((1 << ROW_BITS) - 1)
    have = f.read(columns=[ROW]).column(0).to_numpy() if f.metadata.num_rows else want[:0]
    at = np.minimum(np.searchsorted(have, want), max(len(have) - 1, 0))
    if not len(have) or not np.array_equal(have[at], want):
        raise CurateError(f"{path}: rows missing from the collect file")
    md = f.metadata
    starts = np.cumsum([0] + [md.row_group(g).num_rows for g in range(md.num_row_groups)])
    cuts = np.searchsorted(at, starts)
    for g in range(md.num_row_groups):
        a, b = int(cuts[g]), int(cuts[g + 1])
        if b > a:
            table = f.read_row_group(g, columns=columns)
            yield a, b, take_rows(table, at[a:b] - starts[g])


def _nodes(shard: int, rows: np.ndarray) -> np.ndarray:
    return (np.int64(shard) << np.int64(ROW_BITS)) | rows.astype(np.int64)


def _done(path: Path, table: pa.Table, part: np.ndarray) -> None:
    # shingle sets and signatures are random hashes: zstd would cost time and save nothing
    random = any(name in table.column_names for name in ("a", "b", "shingles", "signature"))
    write_partitioned(path, table, part, compression="none" if random else "zstd")
    failpoint("minhash_task")


def _bands(p: Plan, group: int) -> int:
    """Step 1: (band, key, node) of the group's shingled rows, by partition of the key; with an
    index also each row's handle (the new dumps' band keys are committed by the next step)."""
    bands, keys, nodes, handles, shingled = [], [], [], [], 0
    known = _Handles(p, group) if p.index is not None else None
    for s in p.shards_of(group):
        cols = [ROW, "shingled", *(f"band_{j:02d}" for j in range(p.bands))]
        table = _read_shard(p, s, cols + (["dump"] if known is not None else []))
        if table is None:
            continue
        has = table.column("shingled").to_numpy(zero_copy_only=False)
        node = _nodes(s, table.column(ROW).to_numpy()[has])
        shingled += len(node)
        if known is not None:
            handle = known.of(node, table.column("dump").filter(pa.array(has)))
        for j in range(p.bands):
            keys.append(table.column(2 + j).to_numpy()[has].astype(np.uint64))
            bands.append(np.full(len(node), j, np.uint8))
            nodes.append(node)
            if known is not None:
                handles.append(handle)
    key = np.concatenate(keys) if keys else np.empty(0, np.uint64)
    columns = {
        "band": np.concatenate(bands) if bands else np.empty(0, np.uint8),
        "key": key,
        "node": np.concatenate(nodes) if nodes else np.empty(0, np.int64),
    }
    if known is not None:
        columns["handle"] = np.concatenate(handles) if handles else np.empty(0, np.int64)
    _done(p.out("bands", group), pa.table(columns), p.key_part(key))
    return shingled


class _Handles:
    """Each run row's handle in the index (its dump's sequence number << 32 | its ordinal in
    the dump), for the rows of one shard group (their ordinals: one partition of the ordinal
    job, sorted once)."""

    def __init__(self, p: Plan, group: int):
        assert p.index is not None
        self.seq_of = p.index.seq_of
        ords = read_ordinals(p.index.ordinals, group)
        if ords is None:
            self.keys, self.ordinal = np.empty(0, np.int64), np.empty(0, np.int64)
            self.range = np.empty(0, np.int64)
            return
        keys = row_keys(ords)
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.ordinal = ords.column("ordinal").to_numpy()[order].astype(np.int64)
        self.range = ords.column("_range").to_numpy()[order].astype(np.int64)

    def at(self, node: np.ndarray) -> np.ndarray:
        want = ((node >> ROW_BITS) << np.int64(40)) | (node & ((1 << ROW_BITS) - 1))
        at = np.minimum(np.searchsorted(self.keys, want), max(len(self.keys) - 1, 0))
        if len(want) and (not len(self.keys) or not np.array_equal(self.keys[at], want)):
            raise CurateError(
                "minhash_dedup: ordinals missing for some rows (an interrupted barrier?)"
            )
        return at

    def of(self, node: np.ndarray, dumps: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """The handles of rows ``node`` whose dumps are ``dumps``."""
        at = self.at(node)
        enc = pc.dictionary_encode(dumps)
        if isinstance(enc, pa.ChunkedArray):
            enc = enc.combine_chunks()
        seq = np.array([self.seq_of[d] for d in enc.dictionary.to_pylist()], np.int64)
        code = enc.indices.to_numpy(zero_copy_only=False)
        return make_handle(seq[code] if len(seq) else np.zeros(len(at), np.int64), self.ordinal[at])


def _buckets(p: Plan, part: int) -> dict[str, Any]:
    """Step 2: the members of every bucket (band, key) of two or more, by shard group. With an
    index, a key found in a committed dump's band (one key range of it, streamed) links its
    documents to that dump's best document with the key (hits, by shard group) and keeps them
    out of the band's run buckets, as the in-memory barrier does; and this key range of each
    new dump's band keys is written into its staged folder. A bucket is one band's, so the
    task goes band by band: it holds the partition's band keys once, as NumPy columns (read
    one at a time), one band's sort at a time, and the members once, split by shard group
    band by band (``write_pieces``)."""
    names = ["band", "key", "node"] + (["handle"] if p.index is not None else [])
    columns = _numpy_columns(p.files("bands", p.groups), part, names)
    found: dict[str, Any] = {"bytes_read": 0, "parts": {}}
    members: dict[int, list[pa.Table]] = {}  # by shard group, a piece per band
    hits: list[tuple[np.ndarray, np.ndarray]] = [(np.empty(0, np.int64), np.empty(0, np.int64))]
    if columns and p.index is not None:
        found["parts"] = {name: [] for name in sorted(p.index.staged)}
    before = 0  # the (band, key) groups of the bands before: a bucket's number in the partition
    for j in np.unique(columns["band"]) if columns else []:
        at = np.flatnonzero(columns["band"] == j)
        key, nd = columns["key"][at], columns["node"][at]
        if p.index is not None:
            key, nd = _index_hits(p, part, int(j), key, nd, columns["handle"][at], found, hits)
        del at
        order = np.lexsort((nd, key))
        key, nd = key[order], nd[order]
        del order
        start = np.ones(len(key), bool)
        start[1:] = key[1:] != key[:-1]
        local = np.cumsum(start) - 1
        shared = np.bincount(local)[local] > 1 if len(local) else start
        bucket = (np.int64(part) << np.int64(40)) | (before + local[shared])
        nd = nd[shared]
        group = p.group_of(nd)
        by = np.argsort(group, kind="stable")
        bucket, nd, group = bucket[by], nd[by], group[by]
        ids, starts = np.unique(group, return_index=True)
        for g, a, b in zip(ids.tolist(), starts, [*starts[1:], len(group)]):
            members.setdefault(g, []).append(pa.table({"bucket": bucket[a:b], "node": nd[a:b]}))
        before += int(local[-1]) + 1 if len(local) else 0
    if p.index is not None:
        u, h = (np.concatenate(x) for x in zip(*hits))
        _done(p.out("hits", part), pa.table({"u": u, "h": h}), p.group_of(u))
    # each band's members split by group as they are found: held once, not sorted again
    schema = pa.schema([("bucket", pa.int64()), ("node", pa.int64())])
    write_pieces(p.out("members", part), schema, members)
    failpoint("minhash_task")
    return found


def _numpy_columns(files: list[Path], part: int, names: list[str]) -> dict[str, np.ndarray]:
    """Columns ``names`` of partition ``part`` of ``files`` as NumPy arrays ({} when no file
    holds it), read one column at a time: Arrow holds one column while it is copied out, not
    the partition's table beside its NumPy copy."""
    out: dict[str, np.ndarray] = {}
    for name in names:
        column = read_partition(files, part, [name])
        if column is None:
            return {}
        out[name] = column.column(0).to_numpy()
        del column
    return out


def _index_hits(
    p: Plan,
    part: int,
    band: int,
    key: np.ndarray,
    node: np.ndarray,
    handle: np.ndarray,
    found: dict[str, Any],
    hits: list[tuple[np.ndarray, np.ndarray]],
) -> tuple[np.ndarray, np.ndarray]:
    """Step 2 with an index, for one band's rows of this key range: their lookups in that
    band and range of the committed dumps (curate.index.store.lookup_partition, streamed), the
    hits (u, h) added to ``hits``; this band and range of each new dump's band keys written as
    an index piece. Returns the rows that found nothing."""
    assert p.index is not None
    hit = np.full(len(key), -1, np.int64)
    if p.index.reference:
        meter = ReadMeter()
        hit = lookup_partition(list(p.index.reference), band, key, meter)
        found["bytes_read"] += meter.bytes
    is_hit = hit >= 0
    hits.append((node[is_hit], hit[is_hit]))
    seq = handle >> np.int64(32)
    for name, folder in sorted(p.index.staged.items()):
        sel = seq == p.index.seq_of[name]
        if not sel.any():
            continue
        ordinal = handle[sel] & np.int64((1 << 32) - 1)
        piece = write_partition(storage.path(folder), band, key[sel], ordinal, piece=part)
        found["parts"][name].append(list(piece))
        failpoint("index_part")
    keep = ~is_hit
    return key[keep], node[keep]


def _join(step: str, count: int, on: str, columns: list[str], by: str, p: Plan, group: int) -> None:
    """Steps 3, 9 (and the verify steps): partition ``group`` of ``step``'s files gets the
    collect files' ``columns`` at its ``on`` nodes (shards of this group, read one at a time);
    written by partition of column ``by``."""
    table = read_partition(p.files(step, count), group)
    if table is None:
        table = _empty([on, by])
    out = _joined(p, group, table, on, columns)
    if step == "labels" and p.index is not None:  # survivors name the new dumps' roots
        handle = _Handles(p, group).of(out.column(on).to_numpy(), out.column("dump"))
        out = out.append_column("handle", pa.array(handle, pa.int64()))
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
        # 64-bit offsets: a group's candidates' sets may pass 2^31 values together
        parts.extend(widen(rows) for _, _, rows in _collect_rows(p, s, columns, node[lo:hi]))
    extra = pa.concat_tables(parts) if parts else widen(_schema(p, columns).empty_table())
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


def _verify_first(p: Plan, group: int) -> dict[str, int]:
    """Step 5: the distinct candidate pairs of this group's members, with the member's set or
    signature, by shard group of the other end (verify none: the links themselves). With an
    index, the group's hits too, with the member's set or signature, by handle range of the
    committed document (``_verify_hits`` checks them there)."""
    table = read_partition(p.files("candidates", p.partitions), group)
    u = table.column("u").to_numpy() if table is not None else np.empty(0, np.int64)
    v = table.column("v").to_numpy() if table is not None else np.empty(0, np.int64)
    u, v = distinct_pairs(u, v)
    out = {"candidates": len(u), "rejected": 0}
    if _committed(p):
        out["candidates"] += _spread_hits(p, group)
    if p.verify == "none":
        pairs = pa.table({"u": u, "v": v})
        _done(p.out("edges", group), pairs, partition_of(u.view(np.uint64), p.partitions))
        return out
    # the pairs (sorted by u) a row group of u's shard at a time, each with u's set or signature,
    # spilled by group of v as they come: the task holds one row group's pairs, not the group's
    writer = PieceWriter(p.out("half", group), "none")
    shard = u >> ROW_BITS
    for s in p.shards_of(group):
        lo, hi = (int(x) for x in np.searchsorted(shard, [s, s + 1]))
        for a, b, rows in _collect_rows(p, s, _payload(p), u[lo:hi]):
            pu, pv = u[lo + a : lo + b], v[lo + a : lo + b]
            writer.add(pa.table({"u": pu, "v": pv, "a": rows.column(0)}), p.group_of(pv))
    writer.close(_half_schema(p) if writer.empty else None)
    failpoint("minhash_task")
    return out


def _half_schema(p: Plan) -> pa.Schema:
    a = _schema(p, _payload(p)).field(0).with_name("a")
    return widen(pa.schema([("u", pa.int64()), ("v", pa.int64()), a]).empty_table()).schema


def _committed(p: Plan) -> bool:
    """Whether the run is deduplicated against committed dumps (in any task's view)."""
    return p.index is not None and p.index.handles is not None and bool(p.index.handles.seqs)


def _spread_hits(p: Plan, group: int) -> int:
    """This group's index hits (u, committed handle h): distinct pairs, with u's set or
    signature, by handle range of h. Returns the pairs."""
    assert p.index is not None and p.index.handles is not None
    table = read_partition(p.files("hits", p.partitions), group)
    u = table.column("u").to_numpy() if table is not None else np.empty(0, np.int64)
    h = table.column("h").to_numpy() if table is not None else np.empty(0, np.int64)
    u, h = distinct_pairs(u, h)
    pairs = pa.table({"u": u, "h": h})
    if p.verify != "none":
        pairs = _joined(p, group, pairs, "u", _payload(p))
    _done(p.out("hhalf", group), pairs, p.index.handles.part(pairs.column("h").to_numpy()))
    return len(u)


def _verify_hits(p: Plan, r: int) -> dict[str, int]:
    """Handle range ``r``'s hits (u, h, u's set or signature): verified against the committed
    sets or signatures of h (this range's pieces, for these documents only), each kept one an
    edge (u, COMMITTED + root of h), by partition of u."""
    assert p.index is not None
    table = read_partition(p.files("hhalf", p.groups), r)
    out = {"rejected": 0, "bytes_read": 0}
    if table is None:
        table = _empty(["u", "h"])
    u, h = table.column("u").to_numpy(), table.column("h").to_numpy()
    reference = list(p.index.reference)
    meter = ReadMeter()
    if p.verify != "none" and len(u):
        distinct, which = np.unique(h, return_inverse=True)
        idx = np.arange(len(u))
        if p.verify == "exact":
            mine = SetStore.from_arrow(table.column(_payload(p)[0]))
            theirs = shingle_sets_of(reference, distinct, meter)
            ok = jaccard_at_least(mine, idx, theirs, which, p.threshold)
        else:
            need = math.ceil(p.threshold * p.num_perm - 1e-9)
            mine_sigs = _matrix(table.column(_payload(p)[0]), p.num_perm)
            ok = signatures_agree(mine_sigs, signatures_of(reference, distinct, meter)[which], need)
        out["rejected"] = int((~ok).sum())
        u, h = u[ok], h[ok]
    root = doc_column(reference, h, "root", meter).to_numpy().astype(np.int64) if len(h) else h
    out["bytes_read"] = meter.bytes
    edges = pa.table({"u": u, "v": root + COMMITTED})
    _done(p.out("iedges", r), edges, partition_of(u.view(np.uint64), p.partitions))
    return out


def _root_ids(p: Plan, r: int) -> int:
    """Handle range ``r``'s committed survivors (components' labels: COMMITTED + handle): their
    ids, as (label, id) by partition of the label, for ``_survivors``. Returns the bytes read
    from the index."""
    assert p.index is not None
    table = read_partition(p.files("wanted", p.partitions), r)
    label = np.unique(table.column("label").to_numpy()) if table is not None else np.empty(0)
    label = label.astype(np.int64)
    meter = ReadMeter()
    ids = doc_column(list(p.index.reference), label - COMMITTED, "id", meter)
    known = pa.table({"label": label, "id": ids.cast(pa.large_string())})
    _done(p.out("rootids", r), known, partition_of(label.view(np.uint64), p.partitions))
    return meter.bytes


def _verify_other(p: Plan, group: int) -> int:
    """Step 6: the other end's set or signature, the check; verified links by partition of
    their first node. Returns the rejected pairs. The group's distinct other ends' sets are
    read once (a bucket's best is the other end of all its members' pairs), and the pairs
    come a batch at a time (curate.shuffle.iter_partition): the task holds the group's sets
    and one batch of pairs, not every pair with a copy of both sets."""
    files = p.files("half", p.groups)
    ends = read_partition(files, group, ["v"])
    if ends is None:
        _done(p.out("edges", group), _empty(["u", "v"]), np.empty(0, np.int64))
        return 0
    distinct = np.unique(ends.column("v").to_numpy())
    del ends
    column = _joined(p, group, pa.table({"v": distinct}), "v", _payload(p)).column(1)
    if p.verify == "exact":
        theirs: Any = SetStore.from_arrow(column)
    else:
        theirs = _matrix(column, p.num_perm)
    need = math.ceil(p.threshold * p.num_perm - 1e-9)
    del column
    us, vs, rejected = [np.empty(0, np.int64)], [np.empty(0, np.int64)], 0
    for batch in iter_partition(files, group):
        u, v = batch.column("u").to_numpy(), batch.column("v").to_numpy()
        which = np.searchsorted(distinct, v)
        if p.verify == "exact":
            mine = SetStore.from_arrow(batch.column("a"))
            ok = jaccard_at_least(mine, np.arange(len(u)), theirs, which, p.threshold)
        else:
            ok = signatures_agree(_matrix(batch.column("a"), p.num_perm), theirs[which], need)
        rejected += int((~ok).sum())
        us.append(u[ok])
        vs.append(v[ok])
    u, v = np.concatenate(us), np.concatenate(vs)
    order = np.lexsort((v, u))
    u, v = u[order], v[order]
    _done(
        p.out("edges", group),
        pa.table({"u": u, "v": v}),
        partition_of(u.view(np.uint64), p.partitions),
    )
    return rejected


def _matrix(column: pa.ChunkedArray | pa.Array, width: int) -> np.ndarray:
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return arr.flatten().to_numpy().astype(np.uint32, copy=False).reshape(-1, width)


def _labels_by_group(labels: str, p: Plan, part: int) -> None:
    """Step 8: one partition of the component labels, by shard group of the node."""
    try:
        table = pq.read_table(storage.source(storage.path(labels, f"part-{part:05d}.parquet")))
    except FileNotFoundError:
        table = pa.table({"node": pa.array([], pa.int64()), "label": pa.array([], pa.int64())})
    node = table.column("node").to_numpy().astype(np.int64)
    label = table.column("label").to_numpy().astype(np.int64)
    run = node >= 0  # committed documents (negative nodes) are no shard's: their label tells
    table = pa.table({"node": node[run], "label": label[run]})
    _done(p.out("labels", part), table, p.group_of(node[run]))
    if _committed(p):  # a component's best committed document, by handle range
        assert p.index is not None and p.index.handles is not None
        best = label[(node < 0) & (node == label)]
        wanted = p.index.handles.part(best - COMMITTED)
        _done(p.out("wanted", part), pa.table({"label": best}), wanted)


def _survivors(p: Plan, part: int) -> dict[str, Any]:
    """Step 10: each component's survivor; the others' removals by group of shards. With an
    index, a component holding a committed document (label < 0: its best one) keeps that one
    and loses every run member; the removed rows' roots (their survivor's handle) by shard
    group, for the new dumps' docs pieces."""
    table = read_partition(p.files("labels+", p.groups), part)
    found: dict[str, Any] = {"clusters": 0, "duplicates": 0, "sizes": {}, "removed_by_dump": {}}
    schema = pa.schema(
        [(SHARD, pa.int32()), (ROW, pa.int64()), ("reason", pa.string()),
         ("duplicate_of", pa.string()), ("cluster", pa.int64()), (CLUSTER_SIZE, pa.int32())]
    )  # fmt: skip
    removals = schema.empty_table()
    gone_node, root = np.empty(0, np.int64), np.empty(0, np.int64)
    if table is not None and table.num_rows:
        table = table.sort_by("node")
        node, label = table.column("node").to_numpy(), table.column("label").to_numpy()
        best, first = _survival_first(table, label, p.keep)
        committed = label < 0  # (with an index) the component's best is a committed document
        first &= ~committed
        gone = np.flatnonzero(~first)
        kept = np.flatnonzero(first)
        survivor = table.column("id").take(pa.array(best[gone])).combine_chunks()
        survivor = survivor.cast(pa.large_string())
        if committed.any():  # their ids from the handle ranges' tasks (``_root_ids``)
            assert p.index is not None and p.index.handles is not None
            theirs = committed[gone]
            known = read_partition(p.files("rootids", p.index.handles.count), part)
            want = label[gone][theirs]
            have = known.column("label").to_numpy() if known is not None else want[:0]
            order = np.argsort(have, kind="stable")
            at = np.minimum(np.searchsorted(have[order], want), max(len(have) - 1, 0))
            if not len(have) or not np.array_equal(have[order][at], want):
                raise CurateError("minhash_dedup: committed survivors' ids missing")
            ids = take_rows(known.select(["id"]), order[at]).column("id")
            survivor = pc.replace_with_mask(
                survivor, pa.array(theirs), ids.combine_chunks().cast(pa.large_string())
            )
            found["committed"] = int(theirs.sum())
        labels, at, sizes = np.unique(label, return_inverse=True, return_counts=True)
        sizes = sizes + (labels < 0)  # a committed survivor is no row here
        removals = pa.table(
            {
                SHARD: pa.array((node[gone] >> ROW_BITS).astype(np.int32)),
                ROW: pa.array(node[gone] & ((1 << ROW_BITS) - 1)),
                "reason": pa.array(["minhash_duplicate"] * len(gone), pa.string()),
                "duplicate_of": survivor.cast(pa.string()),
                "cluster": cluster_number(survivor),
                CLUSTER_SIZE: pa.array(sizes[at[gone]].astype(np.int32)),
            },
            schema=schema,
        )
        # each survivor's row (reason null): only its cluster's size, for the apply step
        survivors = pa.table(
            {
                SHARD: pa.array((node[kept] >> ROW_BITS).astype(np.int32)),
                ROW: pa.array(node[kept] & ((1 << ROW_BITS) - 1)),
                "reason": pa.nulls(len(kept), pa.string()),
                "duplicate_of": pa.nulls(len(kept), pa.string()),
                "cluster": pa.nulls(len(kept), pa.int64()),
                CLUSTER_SIZE: pa.array(sizes[at[kept]].astype(np.int32)),
            },
            schema=schema,
        )
        removals = pa.concat_tables([removals, survivors])
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
        if p.index is not None:
            handle = table.column("handle").to_numpy()
            gone_node = node[gone]
            root = np.where(committed[gone], label[gone] - COMMITTED, handle[best[gone]])
    shard = removals.column(SHARD).to_numpy()
    if p.index is not None:
        roots = pa.table({"node": gone_node, "root": root})
        write_partitioned(p.out("roots", part), roots, p.group_of(gone_node))
    _done(p.out("removals", part), removals, shard // SHARDS_PER_GROUP)
    return found


def _gather(p: Plan, group: int) -> None:
    """Step 11: the decision files of one group of shards."""
    gather_decisions(p.files("removals", p.partitions), group, storage.path(p.decisions))
    failpoint("minhash_task")


# ---------------------------------------------------------------- the new dumps' index pieces


# the docs pieces' small columns (a group with no new row writes an empty file of them)
DOCS_SCHEMA = pa.schema(
    [("dump", pa.large_string()), ("ordinal", pa.int64()), ("id", pa.large_string()),
     ("root", pa.int64())]
)  # fmt: skip


def _spread_docs(p: Plan, group: int) -> None:
    """The new dumps' rows of one shard group: (dump, ordinal, id, root, and the shingle set or
    signature verification needs, with its size ``n``) by ordinal range, each row group of the
    collect files split by range as it is read and spilled (``PieceWriter``): the task holds a
    row group, never the group's rows. A row's root is its survivor's handle (step 10), or its
    own when it stays."""
    assert p.index is not None
    known = _Handles(p, group)
    roots = read_partition(p.files("roots", p.partitions), group)
    r_node = roots.column("node").to_numpy() if roots is not None else np.empty(0, np.int64)
    r_root = roots.column("root").to_numpy() if roots is not None else np.empty(0, np.int64)
    order = np.argsort(r_node, kind="stable")
    r_node, r_root = r_node[order], r_root[order]
    new = pa.array(sorted(p.index.staged), pa.string())
    writer = PieceWriter(p.out("docs", group), "none" if _payload(p) else "zstd")
    for s in p.shards_of(group):
        try:
            f = pq.ParquetFile(storage.source(p.collect_file(s)))
        except FileNotFoundError:
            continue
        # (a shard with no row: its file holds only _shard and _row)
        for g in range(f.metadata.num_row_groups if f.metadata.num_rows else 0):
            table = f.read_row_group(g, columns=[ROW, "id", "dump", *_payload(p)])
            dump = table.column("dump")
            is_new = pc.is_in(dump, value_set=new.cast(dump.type))
            if not pc.all(is_new).as_py():  # (a filter copies the sets even when it keeps all)
                table = table.filter(is_new)
            if not table.num_rows:
                continue
            node = _nodes(s, table.column(ROW).to_numpy())
            at = known.at(node)
            handle = known.of(node, table.column("dump"))
            root = handle.copy()
            pos = np.minimum(np.searchsorted(r_node, node), max(len(r_node) - 1, 0))
            moved = (r_node[pos] == node) if len(r_node) else np.zeros(len(node), bool)
            root[moved] = r_root[pos[moved]]
            columns = {
                "dump": table.column("dump").cast(pa.large_string()),
                "ordinal": pa.array(known.ordinal[at], pa.int64()),
                "id": table.column("id").cast(pa.large_string()),
                "root": pa.array(root, pa.int64()),
            }
            for name in _payload(p):
                columns["n"] = pa.array(_list_sizes(table.column(name)), pa.int64())
                columns[name] = table.column(name)
            writer.add(pa.table(columns), known.range[at])
    writer.close(DOCS_SCHEMA)
    failpoint("minhash_task")


def _docs(p: Plan, r: int) -> dict[str, tuple[list, list]]:
    """Ordinal range ``r``: each new dump's docs piece (id, root) and its shingle sets or
    signatures, in ordinal order, written into its staged folder; returns {dump: (docs piece,
    array pieces)} for the manifest. The small columns first (their ordinals give each row's
    place in the pieces' values, from the sizes ``_spread_docs`` wrote); then the sets or
    signatures, a batch of rows at a time (curate.shuffle.iter_partition), copied to their
    places: the task holds the range's values once, never the range's set column."""
    assert p.index is not None
    files = p.files("docs", p.groups)
    payload = _payload(p)
    rows = read_partition(files, r, ["dump", "ordinal", "id", "root", *(["n"] if payload else [])])
    found: dict[str, tuple[list, list]] = {}
    if rows is None or not rows.num_rows:
        return found
    enc = pc.dictionary_encode(rows.column("dump")).combine_chunks()
    code = enc.indices.to_numpy()
    ordinal = rows.column("ordinal").to_numpy()
    size = rows.column("n").to_numpy().astype(np.int64) if payload else np.zeros(len(code), int)
    place = np.empty(len(code), np.int64)  # each row's first value in ``values``
    dumps = []  # (name, rows in ordinal order, first ordinal, offsets of its block)
    block = 0
    for c, name in enumerate(enc.dictionary.to_pylist()):
        mine = np.flatnonzero(code == c)
        at = mine[np.argsort(ordinal[mine], kind="stable")]
        first = p.index.first[name][r]
        if not np.array_equal(ordinal[at], np.arange(first, first + len(at))):
            raise CurateError(f"minhash_dedup: {name}: ordinals of range {r} are not contiguous")
        offsets = np.r_[0, np.cumsum(size[at])]
        place[at] = block + offsets[:-1]
        dumps.append((name, at, first, offsets, block))
        block += int(offsets[-1])
    values = np.empty(block, np.uint32)
    if payload:
        done = 0
        for batch in iter_partition(files, r, payload):  # the rows in the same order
            starts, src = _list_buffers(batch.column(0))
            if not np.array_equal(np.diff(starts), size[done : done + batch.num_rows]):
                raise CurateError(f"minhash_dedup: range {r}: set sizes differ from column n")
            _scatter(src, starts, place[done : done + batch.num_rows], values)
            done += batch.num_rows
        if done != len(code):
            raise CurateError(f"minhash_dedup: range {r}: {done} sets for {len(code)} rows")
    for name, at, first, offsets, start in dumps:
        folder = storage.path(p.index.staged[name])
        # take_rows: chunk by chunk, never a copy of the partition's whole column
        ids = take_rows(rows.select(["id"]), at).column("id").combine_chunks()
        file = write_docs(folder, ids, rows.column("root").to_numpy()[at], piece=r)
        del ids
        mine = values[start : start + offsets[-1]]
        arrays: list = []
        if p.verify == "exact":
            arrays = [list(a) for a in write_sets(folder, r, SetStore(mine, offsets), first)]
        elif p.verify == "signature":
            sigs = mine.reshape(len(at), p.num_perm)
            arrays = [list(write_signatures(folder, r, sigs, first))]
        failpoint("index_part")
        found[name] = ([first, len(at), file], arrays)
    return found


def _list_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(starts, values) of a list, large list or fixed-size list array (no copy of the
    values): row i's values are ``values[starts[i]:starts[i + 1]]``."""
    if pa.types.is_fixed_size_list(arr.type):
        width = arr.type.list_size
        starts = (arr.offset + np.arange(len(arr) + 1, dtype=np.int64)) * width
    else:
        starts = arr.offsets.to_numpy().astype(np.int64)
    return starts, arr.values.to_numpy()


def _list_sizes(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Each row's number of values (from the offsets, as the sets are read back)."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    sizes = [np.diff(_list_buffers(c)[0]) for c in chunks]
    return np.concatenate(sizes) if sizes else np.empty(0, np.int64)


def _scatter(src: np.ndarray, starts: np.ndarray, place: np.ndarray, out: np.ndarray) -> None:
    """``out[place[i] : place[i] + n_i] = src[starts[i] : starts[i + 1]]`` for every row i, a
    slice of rows of about 2^20 values at a time (the index arrays stay small)."""
    sizes = np.diff(starts)
    ends = np.cumsum(sizes)
    if not len(ends) or not ends[-1]:
        return
    cuts = np.unique(
        np.r_[0, np.searchsorted(ends, np.arange(1 << 20, ends[-1], 1 << 20)), len(sizes)]
    )
    for a, b in zip(cuts[:-1], cuts[1:]):
        n = sizes[a:b]
        total = int(n.sum())
        if not total:
            continue
        within = np.arange(total) - np.repeat(np.cumsum(n) - n, n)
        out[np.repeat(place[a:b], n) + within] = src[np.repeat(starts[a:b], n) + within]
