"""Connected components: the in-memory kernel and the partitioned routine, against brute force
(a graph search in Python) and scipy.sparse.csgraph."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components as scipy_components

from curate.dedup.components import (
    TaskPeaks,
    connected_components,
    distinct_pairs,
    partitioned_components,
    read_labels,
)
from curate.errors import CurateError
from curate.executors.local import LocalExecutor
from curate.shuffle import partition_of, read_partition, write_partitioned


def brute_labels(edges: list[tuple[int, int]]) -> dict[int, int]:
    """Every node of an edge -> the smallest node of its component, by graph search."""
    adj: dict[int, set[int]] = {}
    for a, b in edges:
        adj.setdefault(a, set()).add(b)
        adj.setdefault(b, set()).add(a)
    label: dict[int, int] = {}
    for start in adj:
        if start in label:
            continue
        comp, stack = {start}, [start]
        while stack:
            for y in adj[stack.pop()]:
                if y not in comp:
                    comp.add(y)
                    stack.append(y)
        for x in comp:
            label[x] = min(comp)
    return label


def scipy_labels(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Smallest node of each node's component, from scipy's labels."""
    graph = coo_matrix((np.ones(len(u), np.int8), (u, v)), shape=(n, n))
    _, lab = scipy_components(graph, directed=False)
    low = np.full(lab.max() + 1, n, np.int64)
    np.minimum.at(low, lab, np.arange(n))
    return low[lab]


def write_edges(folder: Path, u: np.ndarray, v: np.ndarray, files: int, parts: int) -> list[Path]:
    """Edges in ``files`` map files of curate.shuffle's layout, partitioned by a hash of u."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for f in range(files):
        sel = slice(f * len(u) // files, (f + 1) * len(u) // files)
        path = folder / f"edges-{f}.parquet"
        keys = u[sel].view(np.uint64) if u.dtype == np.int64 else u[sel]
        write_partitioned(path, pa.table({"u": u[sel], "v": v[sel]}), partition_of(keys, parts))
        paths.append(path)
    return paths


def components(
    work: Path, u, v, partitions: int, files: int = 2, in_partitions: int | None = None, run=None
):
    paths = write_edges(work / "in", u, v, files, in_partitions or partitions)
    kwargs = {"run": run} if run is not None else {}
    result = partitioned_components(
        paths, work / "cc", partitions, in_partitions=in_partitions, **kwargs
    )
    node, label = read_labels(result)
    return result, dict(zip(node.tolist(), label.tolist()))


# ---------------------------------------------------------------- in memory


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 60).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=80),
        )
    )
)
def test_kernel_labels_are_the_smallest_node_of_each_component(case):
    n, edges = case
    u = np.array([a for a, _ in edges], np.int64)
    v = np.array([b for _, b in edges], np.int64)
    labels = connected_components(n, u, v)
    assert labels.dtype == np.int64
    expected = brute_labels(edges)
    assert labels.tolist() == [expected.get(x, x) for x in range(n)]


@pytest.mark.parametrize("shape", ["random", "path", "star", "tree"])
def test_kernel_matches_scipy(shape):
    rng = np.random.default_rng(7)
    n = 200_000
    perm = rng.permutation(n)
    if shape == "random":
        u, v = rng.integers(0, n, n), rng.integers(0, n, n)
    elif shape == "path":  # the longest diameter, in shuffled order
        u, v = perm[:-1], perm[1:]
    elif shape == "star":  # the centre is the largest node
        u, v = np.full(n - 1, n - 1), np.arange(n - 1)
    else:  # random recursive tree, relabelled
        u, v = perm[1:], perm[(rng.random(n - 1) * np.arange(1, n)).astype(np.int64)]
    assert np.array_equal(connected_components(n, u, v), scipy_labels(n, u, v))


def test_distinct_pairs_beyond_32_bits():
    rng = np.random.default_rng(3)
    for low, high in ((0, 50), (-(2**62), 2**62)):
        src, dst = rng.integers(low, high, 5000), rng.integers(low, high, 5000)
        a, b = distinct_pairs(src, dst)
        expected = sorted(set(zip(src.tolist(), dst.tolist())))
        assert list(zip(a.tolist(), b.tolist())) == expected


# ---------------------------------------------------------------- partitioned

NODE_IDS = {
    "small": st.integers(0, 30),
    "int64": st.integers(-(2**63), 2**63 - 1),
    "uint64": st.integers(2**63 - 40, 2**63 + 40),  # around the sign bit
}


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(sorted(NODE_IDS)),
    data=st.data(),
    partitions=st.integers(1, 5),
    in_partitions=st.integers(1, 4),
    files=st.integers(1, 3),
)
def test_partitioned_matches_brute_force(kind, data, partitions, in_partitions, files):
    nodes = data.draw(st.lists(NODE_IDS[kind], min_size=1, max_size=25, unique=True))
    edges = data.draw(
        st.lists(st.tuples(st.sampled_from(nodes), st.sampled_from(nodes)), max_size=60)
    )
    dtype = np.uint64 if kind == "uint64" else np.int64
    u = np.array([a for a, _ in edges], dtype)
    v = np.array([b for _, b in edges], dtype)
    with tempfile.TemporaryDirectory() as tmp:
        result, got = components(Path(tmp), u, v, partitions, files, in_partitions)
        for p, path in enumerate(result.files()):  # file p holds partition p, sorted by node
            table = read_partition([path], p)
            if table is not None:
                node = table.column("node").to_numpy()
                assert node.dtype == dtype and np.all(np.diff(node.astype(object)) > 0)
                keys = node.view(np.uint64) if dtype == np.int64 else node
                assert np.all(partition_of(keys, partitions) == p)
    assert got == brute_labels(edges)
    assert result.nodes == len(got)
    assert result.components == len(set(got.values()))


@pytest.mark.parametrize("partitions", [1, 3, 8])
@pytest.mark.parametrize("shape", ["path", "star-high", "star-low", "clique", "pairs", "loops"])
def test_partitioned_terminates_on_shapes(tmp_path, shape, partitions):
    n = 3000
    perm = np.random.default_rng(1).permutation(n)
    if shape == "path":
        u, v = perm[:-1], perm[1:]
    elif shape == "star-high":
        u, v = np.full(n - 1, n - 1), np.arange(n - 1)
    elif shape == "star-low":
        u, v = np.arange(1, n), np.zeros(n - 1, np.int64)
    elif shape == "clique":
        a = np.arange(80)
        u, v = np.repeat(a, 80), np.tile(a, 80)
    elif shape == "pairs":
        u, v = perm[0::2], perm[1::2]
    else:  # self-loops only, and a node with both
        u, v = np.r_[np.arange(n), 5], np.r_[np.arange(n), 6]
    u, v = u.astype(np.int64), v.astype(np.int64)
    result, got = components(tmp_path, u, v, partitions, files=3)
    size = int(max(u.max(), v.max())) + 1
    want = scipy_labels(size, u, v)
    present = np.unique(np.r_[u, v])
    assert got == dict(zip(present.tolist(), want[present].tolist()))
    if shape == "path":  # O(log n) observed: shuffled paths took 22, 26, 30 at 1e4, 1e5, 1e6 nodes
        assert len(result.rounds) <= 30
    assert not list((tmp_path / "cc").glob("round-*"))  # the rounds' files are removed


def test_partitioned_random_million_edges(tmp_path):
    """~1e6 edges on 1e6 nodes, several partition counts, one on the local process pool."""
    rng = np.random.default_rng(11)
    n = 1_000_000
    u, v = rng.integers(0, n, n), rng.integers(0, n, n)
    want = scipy_labels(n, u, v)
    present = np.unique(np.r_[u, v])
    runs = {1: None, 5: LocalExecutor(2), 16: None}
    rounds = set()
    for partitions, executor in runs.items():
        run = (lambda fn, tasks, e=executor: e.map(fn, tasks)) if executor else None
        paths = write_edges(tmp_path / f"in{partitions}", u, v, 4, partitions)
        kwargs = {"run": run} if run else {}
        result = partitioned_components(paths, tmp_path / f"cc{partitions}", partitions, **kwargs)
        node, label = read_labels(result)
        order = np.argsort(node)
        assert np.array_equal(node[order], present)
        assert np.array_equal(label[order], want[present])
        rounds.add(len(result.rounds))
    assert max(rounds) <= 20


def test_task_memory_follows_its_partition(tmp_path):
    """Every task runs in a fresh process (TaskPeaks) that measures what it allocates (numpy
    through tracemalloc, Arrow's pool) and its RSS. 1e6 edges on 2.5e6 nodes (average degree
    0.8: no giant component, so no partition holds a giant star): a task's allocations stay
    under 256 B per directed edge it reads or writes (measured: 150-250), and with 8
    partitions the largest task allocates under a third of what the one task of 1 does."""
    rng = np.random.default_rng(5)
    n = 2_500_000
    u, v = rng.integers(0, n, 1_000_000), rng.integers(0, n, 1_000_000)
    heap = {}
    for partitions in (1, 8):
        measure = TaskPeaks()
        paths = write_edges(tmp_path / f"in{partitions}", u, v, 2, partitions)
        partitioned_components(paths, tmp_path / f"cc{partitions}", partitions, measure)
        for task in measure.peaks:
            counts = task["counts"]
            edges = max(counts.get("edges_in", 0), counts.get("edges_out", 0))
            assert task["heap"] <= 256 * edges + (16 << 20), (partitions, task)
            assert task["rss"] <= 256 * edges + (96 << 20), (partitions, task)  # + libraries
        heap[partitions] = max(task["heap"] for task in measure.peaks)
    assert heap[8] < heap[1] / 3, heap


def test_bad_edge_files_name_the_file(tmp_path):
    path = tmp_path / "edges.parquet"
    write_partitioned(path, pa.table({"u": pa.array(["a"]), "v": pa.array(["b"])}), np.zeros(1))
    with pytest.raises(CurateError, match="edges.parquet: edge column u is"):
        partitioned_components([path], tmp_path / "cc", 2, in_partitions=1)
    pq.write_table(pa.table({"a": [1]}), path)
    with pytest.raises(CurateError, match="edges.parquet: edge files need columns u and v"):
        partitioned_components([path], tmp_path / "cc", 2)
    write_partitioned(path, pa.table({"u": pa.array([1, None]), "v": [2, 3]}), np.zeros(2))
    with pytest.raises(CurateError, match="edges.parquet: edge column u has 1 nulls"):
        partitioned_components([path], tmp_path / "cc", 1)


def test_no_edges(tmp_path):
    path = tmp_path / "edges.parquet"
    empty = pa.table({"u": pa.array([], pa.int64()), "v": pa.array([], pa.int64())})
    write_partitioned(path, empty, np.zeros(0))
    result = partitioned_components([path], tmp_path / "cc", 3)
    assert result.nodes == 0 and read_labels(result)[0].tolist() == []
