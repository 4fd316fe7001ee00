"""Connected components over duplicate pairs: each node's label is the smallest node of its
component. One in-memory kernel for the pairs one process can hold, and one partitioned routine
for edge lists that do not fit one process.

In memory (``connected_components``): vectorised union-find over nodes 0..n-1. Each round hooks
every root that has a link to a smaller root under the smallest such root, then compresses paths
fully; links inside one tree are dropped. Measured on 1e6 nodes (benchmarks/bench_components.py):
as fast as scipy's ``csgraph.connected_components`` on random graphs, paths and stars.

Partitioned (``partitioned_components``): Kiveris et al. 2014, "Connected Components in MapReduce
and Beyond", the alternating algorithm. Edges are held in both directions, each direction in the
hash partition of its first node (curate.shuffle's layout: one Parquet row group per partition),
so a task that holds partition p sees the whole neighbourhood of every node of p. Rounds alternate

- large-star: node v, m = min(v and its neighbours): every neighbour u > v gets the edge (u, m);
- small-star: node v, m = min(v and its neighbours <= v): each of them, and v, gets (., m);

each undirected edge handled by one endpoint, so the edges of a round are never more than the
round before (after de-duplication). Both keep the components and end in a forest of stars, each
centred on its component's smallest node: O(log^2 n) rounds proven, O(log n) observed. A round's
task counts its unsettled nodes (v above its smallest neighbour and with more than one neighbour);
a round whose input has none is a star forest, and one more pass writes (node, label).

A task holds one partition of one round's edges (16 bytes per directed edge, a few copies while
it sorts); the driver holds per-round counts. A node of degree d puts d edges in its partition:
a cluster of k near-duplicates ends as a star of k edges at its smallest node, in one task
(1e7 random edges on 16 partitions: the giant component's star put 15.9 M directed edges, 1.6 GB
allocated, in one task; benchmarks/bench_components.py). Bounding that too needs tasks that
stream their partition twice (per-node minima, then the edges), holding only its nodes.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate import storage
from curate.collected import run_here
from curate.errors import CurateError
from curate.io import atomic_file
from curate.shuffle import META, partition_of, read_partition, write_partitioned

Run = Callable[[Callable[[Any], Any], Sequence[Any]], Iterable[Any]]

# ---------------------------------------------------------------- in memory


def connected_components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Labels (int64) of nodes 0..n-1 joined by links (u, v): each node's label is the smallest
    node of its component. Hooks the larger root under the smaller, then compresses paths,
    until no link joins two roots (O(log n) rounds in practice)."""
    parent = np.arange(n, dtype=np.int64)
    u, v = np.asarray(u, np.int64), np.asarray(v, np.int64)
    while len(u):
        pu, pv = parent[u], parent[v]
        apart = pu != pv
        u, v, pu, pv = u[apart], v[apart], pu[apart], pv[apart]
        if not len(u):
            break
        np.minimum.at(parent, np.maximum(pu, pv), np.minimum(pu, pv))
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    return parent


# ---------------------------------------------------------------- partitioned

EDGE_COLUMNS = ["u", "v"]
MAX_ROUNDS = 200  # O(log^2 n) proven; shuffled paths took 22, 26, 30 at 1e4, 1e5, 1e6 nodes


@dataclass(frozen=True)
class _Step:
    """One round's tasks: read partition ``part`` of ``inputs``, write ``out/part-<part>``.
    Small and picklable: files are named by folder and count, never listed."""

    kind: str  # "prepare", "large", "small" or "labels"
    inputs: str  # a folder of part-NNNNN.parquet files (prepare: unused, see ``sources``)
    count: int  # how many input files
    out: str
    partitions: int
    dtype: str  # "int64" or "uint64": the node ids, as given
    sources: tuple[str, ...] = ()  # prepare: the caller's edge files

    def files(self) -> list[Path]:
        if self.sources:
            return [storage.path(s) for s in self.sources]
        return [_part(storage.path(self.inputs), i) for i in range(self.count)]


@dataclass
class ComponentsResult:
    """Where the labels are and what each round did (the driver's only state)."""

    labels: Path  # folder of part-NNNNN.parquet: (node, label), one row group per partition
    partitions: int
    rounds: list[dict[str, Any]] = field(default_factory=list)
    nodes: int = 0
    components: int = 0

    def files(self) -> list[Path]:
        return [_part(self.labels, p) for p in range(self.partitions)]


def partitioned_components(
    edges: Sequence[Path | str],
    work: Path | str,
    partitions: int,
    run: Run = run_here,
    in_partitions: int | None = None,
    max_rounds: int = MAX_ROUNDS,
) -> ComponentsResult:
    """Connected components of the edges (columns ``u``, ``v``: int64 or uint64 node ids) in
    ``edges``, Parquet files in curate.shuffle's layout with ``in_partitions`` partitions (any
    key: default ``partitions``). Rounds of ``partitions`` tasks go through ``run(fn, tasks)``
    (an executor's map; ``run_here`` in this process); their files live under ``work``.
    Writes ``work/labels/part-NNNNN.parquet``: (node, label = smallest node of its component),
    every node of an edge once, partition p = ``partition_of(node)`` in file p, sorted by node."""
    if partitions < 1:
        raise CurateError(f"connected components: partitions must be >= 1, got {partitions}")
    work = storage.path(work)
    work.mkdir(parents=True, exist_ok=True)
    sources = tuple(str(p) for p in edges)
    step = _Step(
        "prepare",
        "",
        len(sources),
        str(work / "round-00"),
        partitions,
        _node_type(sources),
        sources,
    )
    result = ComponentsResult(work / "labels", partitions)
    reads = in_partitions or partitions
    summary = _round(step, run, reads)
    result.rounds.append(summary)
    kinds, count = ("large", "small"), reads
    for r in range(1, max_rounds + 1):
        prev = storage.path(step.out)
        out = str(work / f"round-{r:02d}")
        step = _Step(kinds[(r - 1) % 2], str(prev), count, out, partitions, step.dtype)
        summary, count = _round(step, run, partitions), partitions
        result.rounds.append(summary)
        storage.rmtree(prev)
        if summary["unsettled"] == 0:  # its input was a star forest, and so is its output
            break
    else:
        raise CurateError(
            f"connected components: not converged after {max_rounds} rounds "
            f"({summary['unsettled']} unsettled nodes); raise max_rounds"
        )
    prev = storage.path(step.out)
    storage.rmtree(result.labels)
    step = _Step("labels", str(prev), partitions, str(result.labels), partitions, step.dtype)
    summary = _round(step, run, partitions)
    result.rounds.append(summary)
    storage.rmtree(prev)
    result.nodes, result.components = summary["nodes"], summary["components"]
    return result


def read_labels(result: ComponentsResult) -> tuple[np.ndarray, np.ndarray]:
    """(node, label) of every partition, in one process: for tests and small graphs."""
    table = pa.concat_tables(pq.read_table(storage.source(f)) for f in result.files())
    return table.column("node").to_numpy(), table.column("label").to_numpy()


def _round(step: _Step, run: Run, tasks: int) -> dict[str, Any]:
    storage.path(step.out).mkdir(parents=True, exist_ok=True)
    total: dict[str, Any] = {"step": step.kind, "tasks": tasks}
    for counts in run(functools.partial(_task, step), list(range(tasks))):
        for key, value in counts.items():
            total[key] = total.get(key, 0) + value
    return total


def _task(step: _Step, part: int) -> dict[str, int]:
    """One partition of one round; returns its counts."""
    dtype = np.dtype(step.dtype)
    if step.kind == "prepare":
        src, dst = _read_sources(step.files(), part, dtype)
        return {"edges_in": len(src), "edges_out": _write(step, part, src, dst)}
    table = read_partition(step.files(), part, EDGE_COLUMNS)
    src = table.column("u").to_numpy() if table is not None else np.empty(0, dtype)
    dst = table.column("v").to_numpy() if table is not None else np.empty(0, dtype)
    del table
    g = _Neighbourhoods(src, dst)
    del src, dst
    counts = {"edges_in": g.edges, "unsettled": g.unsettled()}
    if step.kind == "labels":
        node, label = g.labels()
        out = storage.path(step.out, f"part-{part:05d}.parquet")
        table = pa.table({"node": pa.array(node), "label": pa.array(label)})
        write_partitioned(out, table, np.full(len(node), part, np.int64))  # one row group
        return {**counts, "nodes": len(node), "components": int((node == label).sum())}
    a, b = g.large_star() if step.kind == "large" else g.small_star()
    return {**counts, "edges_out": _write(step, part, a, b)}


class _Neighbourhoods:
    """The distinct directed edges (src, dst) of one partition, sorted by (src, dst): every
    node's whole neighbourhood (a node alone holds only its marker (v, v))."""

    def __init__(self, src: np.ndarray, dst: np.ndarray):
        src, dst = distinct_pairs(src, dst)
        self.edges = len(src)
        real = src != dst
        marked = src[~real]
        self.src, self.dst = src[real], dst[real]
        del src, dst
        first = np.ones(len(self.src), bool)
        first[1:] = self.src[1:] != self.src[:-1]
        self.starts = np.flatnonzero(first)
        self.node = self.src[self.starts]
        self.degree = np.diff(np.r_[self.starts, len(self.src)])
        # the smallest neighbour comes first; min with the node itself
        self.low = np.minimum(self.node, self.dst[self.starts])
        self.group = np.cumsum(first) - 1  # per edge: its node's row in node/low/degree
        pos = np.minimum(np.searchsorted(self.node, marked), max(len(self.node) - 1, 0))
        held = self.node[pos] == marked if len(self.node) else np.zeros(len(marked), bool)
        self.lone = marked[~held]  # nodes with no edge but their marker

    def unsettled(self) -> int:
        """Nodes not yet a leaf of the star of their smallest neighbour (or its centre)."""
        return int(((self.low < self.node) & (self.degree > 1)).sum())

    def large_star(self) -> tuple[np.ndarray, np.ndarray]:
        larger = self.dst > self.src
        a = np.r_[self.dst[larger], self.lone]
        b = np.r_[self.low[self.group[larger]], self.lone]
        return a, b

    def small_star(self) -> tuple[np.ndarray, np.ndarray]:
        m = self.low[self.group]
        smaller = (self.dst < self.src) & (self.dst != m)
        own = self.low < self.node
        a = np.r_[self.dst[smaller], self.node[own], self.lone]
        b = np.r_[m[smaller], self.low[own], self.lone]
        return a, b

    def labels(self) -> tuple[np.ndarray, np.ndarray]:
        node = np.r_[self.node, self.lone]
        label = np.r_[self.low, self.lone]
        order = np.argsort(node, kind="stable")
        return node[order], label[order]


def _write(step: _Step, part: int, a: np.ndarray, b: np.ndarray) -> int:
    """Undirected edges (a, b) -> both directions, de-duplicated, each in its first node's
    partition; a marker (v, v) once. Returns the directed edges written."""
    loop = a == b
    src, dst = distinct_pairs(np.r_[a, b[~loop]], np.r_[b, a[~loop]])
    keys = src.view(np.uint64) if src.dtype == np.int64 else src
    where = partition_of(keys, step.partitions)
    write_edges(_part(storage.path(step.out), part), src, dst, where)
    return len(src)


def distinct_pairs(src: np.ndarray, dst: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct pairs, sorted by (src, dst). Ids below 2^32 are packed into one uint64 and
    sorted once (3-5x faster than a two-key lexsort); larger ids go through their ranks."""
    if not len(src):
        return src, dst
    kind = src.dtype
    lo = min(int(src.min()), int(dst.min()))
    hi = max(int(src.max()), int(dst.max()))
    if lo >= 0 and hi < 1 << 32:
        key = (src.astype(np.uint64) << np.uint64(32)) | dst.astype(np.uint64)
        key = _sorted_distinct(key)
        return (key >> np.uint64(32)).astype(kind), (key & np.uint64(0xFFFFFFFF)).astype(kind)
    ids, code = np.unique(np.r_[src, dst], return_inverse=True)  # sorted ids: ranks keep order
    code = code.astype(np.uint64)
    key = _sorted_distinct((code[: len(src)] << np.uint64(32)) | code[len(src) :])
    return ids[key >> np.uint64(32)], ids[key & np.uint64(0xFFFFFFFF)]


def _sorted_distinct(key: np.ndarray) -> np.ndarray:
    key.sort()
    keep = np.ones(len(key), bool)
    keep[1:] = key[1:] != key[:-1]
    return key[keep]


def write_edges(path: Path, src: np.ndarray, dst: np.ndarray, where: np.ndarray) -> None:
    """curate.shuffle's layout (one row group per partition, in order, listed in the metadata)
    for edges already sorted: partitions are cut by a stable radix sort of the partition
    numbers, so no per-partition ``take``; lz4, as random node ids hardly compress (zstd cost
    ~20% of a round and saved little)."""
    order = np.argsort(where.astype(np.uint16 if where.max(initial=0) < 1 << 16 else np.int64),
                       kind="stable")  # fmt: skip
    where = where[order]
    ids, starts = np.unique(where, return_index=True)
    bounds = np.r_[starts, len(where)]
    schema = pa.schema(
        [("u", pa.from_numpy_dtype(src.dtype)), ("v", pa.from_numpy_dtype(src.dtype))]
    )
    schema = schema.with_metadata({META: json.dumps(ids.tolist()).encode()})
    src, dst = src[order], dst[order]
    with (
        atomic_file(path) as tmp,
        pq.ParquetWriter(tmp, schema, compression="lz4", write_page_checksum=True) as w,
    ):
        if not len(ids):
            w.write_table(schema.empty_table())
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            batch = pa.table([src[lo:hi], dst[lo:hi]], schema=schema)
            w.write_table(batch, row_group_size=max(hi - lo, 1))


def _read_sources(files: list[Path], part: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
    """Partition ``part`` of the caller's edge files, checked: integer u and v, no nulls."""
    us, vs = [np.empty(0, dtype)], [np.empty(0, dtype)]
    for path in files:
        try:
            table = read_partition([path], part, EDGE_COLUMNS)
        except (KeyError, pa.ArrowInvalid, OSError) as e:
            raise CurateError(
                f"{path}: cannot read edge columns u, v of partition {part}: {e}"
            ) from None
        if table is None:
            continue
        for name, out in (("u", us), ("v", vs)):
            col = table.column(name)
            if not pa.types.is_integer(col.type):
                raise CurateError(f"{path}: edge column {name} is {col.type}, not an integer")
            if col.null_count:
                raise CurateError(f"{path}: edge column {name} has {col.null_count} nulls")
            values = col.to_numpy()
            if dtype == np.uint64 and values.dtype.kind == "i" and len(values) and values.min() < 0:
                raise CurateError(f"{path}: edge column {name} has negative node ids")
            out.append(values.astype(dtype, copy=False))
    return np.concatenate(us), np.concatenate(vs)


def _node_type(sources: Sequence[str]) -> str:
    """uint64 if the first file's ``u`` is unsigned 64-bit, else int64."""
    for s in sources:
        try:
            schema = pq.read_schema(storage.source(s))
        except FileNotFoundError:
            continue
        if "u" not in schema.names or "v" not in schema.names:
            raise CurateError(f"{s}: edge files need columns u and v, found {schema.names}")
        return "uint64" if schema.field("u").type == pa.uint64() else "int64"
    return "int64"


def _part(folder: Path, i: int) -> Path:
    return folder / f"part-{i:05d}.parquet"


# ---------------------------------------------------------------- measuring a task's memory


class TaskPeaks:
    """A ``run(fn, tasks)`` that runs every task in a fresh process (forked from a forkserver
    that has imported this module) and keeps, per task, its counts and two peaks in bytes:
    ``rss``, the peak RSS over the RSS it started with (this includes the pages of numpy's and
    Arrow's libraries the task touches first, 25-60 MB), and ``heap``, what it allocated
    (tracemalloc's peak, which numpy reports to, plus Arrow's pool peak). How the tests and
    benchmarks/bench_components.py check that a task's memory follows its partition."""

    def __init__(self) -> None:
        import multiprocessing as mp

        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(["curate.dedup.components"])
        self.peaks: list[dict[str, Any]] = []  # per task: counts, rss, heap, start

    def __call__(self, fn: Callable[[Any], Any], tasks: Sequence[Any]) -> Iterable[Any]:
        with self._ctx.Pool(1, maxtasksperchild=1) as pool:
            for task in tasks:
                measured = pool.apply(_measured, (fn, task))
                self.peaks.append(measured)
                yield measured["counts"]


def _measured(fn: Callable[[Any], Any], task: Any) -> dict[str, Any]:
    import resource
    import tracemalloc

    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()

    # pyarrow imports pandas the first time it converts anything, when pandas is installed
    # (~35 MB): a library's pages, not the task's memory, so they are loaded before the start
    pa.array(np.zeros(1))
    start, arrow_start = rss(), pa.default_memory_pool().max_memory()
    tracemalloc.start()
    counts = fn(task)
    heap = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    heap += pa.default_memory_pool().max_memory() - arrow_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return {"counts": counts, "rss": max(peak - start, 0), "heap": heap, "start": start}
