"""Connected components (curate/dedup/components.py): the partitioned routine (rounds of reduce
tasks over Parquet partitions) against the in-memory kernel and scipy, on the same random graphs
in the same run: 1e5, 1e6, 1e7 edges (quick: the first two).

Graphs: m edges with both ends drawn uniformly from n = m nodes (average degree 2: a giant
component of ~80% of the nodes, the worst case for the partitioned routine, whose last rounds
hold that component's star at its smallest node). The partitioned run is timed in this process
(tasks one after another), then repeated with every task in a fresh process (TaskPeaks): its
peak RSS above its start, and what it allocated (numpy via tracemalloc + Arrow's pool). The
kernel and scipy run in this process; their peak is tracemalloc's (numpy arrays).
"""

from __future__ import annotations

import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pyarrow as pa

LADDER = [(100_000, 2), (1_000_000, 4), (10_000_000, 16)]  # (edges, partitions)


def _graph(m: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, m, m), rng.integers(0, m, m)


def _write(folder: Path, u: np.ndarray, v: np.ndarray, partitions: int, files: int = 4) -> list:
    from curate.shuffle import partition_of, write_partitioned

    paths = []
    for f in range(files):
        sel = slice(f * len(u) // files, (f + 1) * len(u) // files)
        path = folder / f"edges-{f}.parquet"
        part = partition_of(u[sel].view(np.uint64), partitions)
        write_partitioned(path, pa.table({"u": u[sel], "v": v[sel]}), part)
        paths.append(path)
    return paths


def _peak(fn):
    tracemalloc.start()
    t = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - t
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, seconds, peak


def _measure(m: int, partitions: int) -> dict:
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as scipy_cc

    from curate.dedup.components import (
        TaskPeaks,
        connected_components,
        partitioned_components,
        read_labels,
    )

    u, v = _graph(m)
    work = Path(tempfile.mkdtemp(prefix="bench_cc_"))
    try:
        t = time.perf_counter()
        paths = _write(work / "in", u, v, partitions)
        write_s = time.perf_counter() - t
        t = time.perf_counter()  # wall time: the tasks in this process, one after another
        result = partitioned_components(paths, work / "cc", partitions)
        part_s = time.perf_counter() - t
        peaks = TaskPeaks()  # memory: the same run again, each task in a fresh process
        again = partitioned_components(paths, work / "again", partitions, peaks)
        assert again.rounds == result.rounds
        labels, kernel_s, kernel_peak = _peak(lambda: connected_components(m, u, v))
        graph = coo_matrix((np.ones(m, np.int8), (u, v)), shape=(m, m))
        (_, lab), scipy_s, scipy_peak = _peak(lambda: scipy_cc(graph, directed=False))
        node, label = read_labels(result)  # checked: all three agree
        assert np.array_equal(labels[node], label)
        assert len(np.unique(lab[node])) == result.components
        rounds = [r for r in result.rounds if r["step"] in ("large", "small")]
        heaviest = max(peaks.peaks, key=lambda p: p["heap"])
        edges = heaviest["counts"]
        return {
            "m": m,
            "partitions": partitions,
            "rounds": len(rounds),
            "write_s": write_s,
            "part_s": part_s,
            "heap": max(p["heap"] for p in peaks.peaks),
            "rss": max(p["rss"] for p in peaks.peaks),
            "start": max(p["start"] for p in peaks.peaks),
            "heaviest_edges": max(edges.get("edges_in", 0), edges.get("edges_out", 0)),
            "first_round_edges": rounds[0]["edges_in"],
            "kernel_s": kernel_s,
            "kernel_peak": kernel_peak,
            "scipy_s": scipy_s,
            "scipy_peak": scipy_peak,
            "tasks": len(peaks.peaks),
            "components": result.components,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run(quick: bool = False) -> str:
    ladder = LADDER[:2] if quick else LADDER
    rows = [_measure(m, p) for m, p in ladder]
    mb = 1 << 20
    lines = [
        "## Connected components (curate/dedup/components.py)",
        "",
        "Random graphs, m edges on m nodes (a giant component of ~80%). Partitioned: "
        "large-star/small-star rounds (Kiveris et al. 2014), each task on one partition of "
        "Parquet edges, run one after another in one process (wall time), then again each in "
        "a fresh process (memory). Task heap = numpy (tracemalloc) + Arrow pool allocations of "
        "the heaviest task; task RSS = its peak over its start (includes the library pages it "
        "first touches, 25-60 MB); a fresh task starts at ~90 MB. Kernel and scipy: in one "
        "process, peak of numpy allocations. Labels of all three compared, equal.",
        "",
        "| edges | partitions | rounds | tasks | partitioned s | heaviest task: heap MB "
        "(its directed edges) | max task RSS MB | kernel s | kernel peak MB | scipy s "
        "| scipy peak MB | components |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['m']:,} | {r['partitions']} | {r['rounds']} | {r['tasks']} "
            f"| {r['part_s']:.1f} | {r['heap'] / mb:.0f} ({r['heaviest_edges']:,}) "
            f"| {r['rss'] / mb:.0f} | {r['kernel_s']:.2f} | {r['kernel_peak'] / mb:.0f} "
            f"| {r['scipy_s']:.2f} | {r['scipy_peak'] / mb:.0f} | {r['components']:,} |"
        )
    lines += [
        "",
        "Writing the edges as 4 map files in the shuffle layout (not in the partitioned time): "
        + ", ".join(f"{r['m']:,}: {r['write_s']:.1f} s" for r in rows)
        + ". Reproduce: `PYTHONPATH=$PWD python benchmarks/run.py --only components"
        + (" --quick" if quick else "")
        + "`.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(quick=True))
