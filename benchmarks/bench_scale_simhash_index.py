"""Scale, simhash_dedup with and without ``index:``: driver and largest-worker peak RSS at the
SimHash barrier at 1x and 10x the sample, today against BEFORE (where the driver joined the
search tasks' near-duplicate pairs and links to committed dumps by union-find, and read the
committed dumps' merges and cluster sizes), in the same run; and one search task's memory
against SEARCH_BEFORE_AT (one search task per permuted table).

The keys are the sample's real collected keys replicated (benchmarks/scale_simhash.py: replicas
with new ids and half of their units re-fingerprinted; the replicas keep their dumps, so one run
commits the sample's 4 dumps into a fresh index). Only the barrier runs (the runner's
``_decide``, local pool of 2 workers) in a fresh process whose RSS and its workers' are sampled
every 0.05 s. Asserted: the same summary (but seconds and the bytes read from the index), the
same decision files, and with an index the same index contents (each dump's docs in ordinal
order, its fingerprints with their first document and cluster, its clusters, its merges).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import export  # noqa: E402
from scale_simhash import (  # noqa: E402
    PARAMS,
    ROOT,
    collect_sample,
    decisions,
    ladder,
    measured,
)

# method simhash with and without index (without, the default is method minhash, whose
# collected columns the runs with an index could not read)
SIMHASH = {**PARAMS, "method": "simhash"}
BEFORE = "c64f8e5"  # main before the clusters' components moved into tasks (union-find here)
SEARCH_BEFORE_AT = "7ef1145"  # main before the partitioned search (one search task per table)
PARTITIONS = (1, 4, 16)  # the run's partitions: 2^bits search partitions per table

# one search task's memory: Python's traced allocations (numpy's arrays included) at their peak,
# the largest over the round's tasks; today the spill round runs first (untraced)
SEARCH_NOW = """
import json, sys, tracemalloc
from pathlib import Path
from curate.collected import CollectedFiles
from curate.stages import simhash_dedup as sd
paths = sorted(Path(sys.argv[1]).glob("part-*.parquet"))
c = CollectedFiles(paths, Path(sys.argv[2]), None, int(sys.argv[3]))
bits = sd.search_bits(c.partitions, 3)
spill = [sd._spill_fingerprints(c, 3, bits, 1, None, p) for p in enumerate(c.pieces())]
spilled = [s[1] for s in spill]
edges = (str(Path(sys.argv[2]) / "edges"), c.partitions)
peaks, pairs = [], 0
for t in range(4):
    for q in range(1 << bits):
        tracemalloc.start()
        pairs += sd._search_part(c, spilled, 3, bits, [], edges, None, (t, q))[1]
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
print(json.dumps({"peak": max(peaks), "tasks": len(peaks), "pairs": pairs}))
"""
SEARCH_BEFORE = """
import json, sys, tracemalloc
import numpy as np
from pathlib import Path
from curate.collected import CollectedFiles
from curate.stages import simhash_dedup as sd
paths = sorted(Path(sys.argv[1]).glob("part-*.parquet"))
c = CollectedFiles(paths, Path(sys.argv[2]), None, 1)
peaks, found = [], []
for t in range(4):
    tracemalloc.start()
    got = sd._search_table(c, 3, [], t)
    peaks.append(tracemalloc.get_traced_memory()[1])
    tracemalloc.stop()
    found.append(np.stack([got[1], got[2]], 1))
pairs = len(np.unique(np.concatenate(found), axis=0))  # each pair once over the tables
print(json.dumps({"peak": max(peaks), "tasks": len(peaks), "pairs": pairs}))
"""


def search_peak(code: Path, script: str, collect: Path, scratch: Path, partitions: int) -> dict:
    """The largest search task's traced peak (bytes), the tasks, the pairs found (per table)."""
    shutil.rmtree(scratch, ignore_errors=True)
    cmd = [sys.executable, "-c", script, str(collect), str(scratch), str(partitions)]
    env = {"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True, check=True)
    shutil.rmtree(scratch, ignore_errors=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def read_merges(folder: Path) -> pa.Table:
    """A committed dump's merges: ``merges.parquet`` (before) or its cluster tasks' pieces
    (``merges-*.parquet``, now), sorted by cluster."""
    pieces = [pq.read_table(p) for p in sorted(folder.glob("merges*.parquet"))]
    empty = pa.table({"cluster": pa.array([], pa.int64()), "into": pa.array([], pa.int64())})
    return pa.concat_tables([empty, *pieces]).sort_by("cluster")


def index_contents(root: Path) -> list:
    """Each committed dump's entry as values, whatever its pieces (see the module docstring)."""
    out = []
    for d in sorted((root / "dumps").iterdir()):
        meta = json.loads((d / "meta.json").read_text())
        docs = pa.concat_tables(pq.read_table(d / f) for _, _, f in meta["pieces"])
        keys = pa.concat_tables(pq.read_table(d / p[4]) for p in meta["parts"])
        clusters = pa.concat_tables(pq.read_table(p) for p in sorted(d.glob("clusters*.parquet")))
        numbers = {k: meta[k] for k in ("dump", "seq", "docs", "fingerprint", "units")}
        out.append(
            (
                numbers,
                docs.to_pydict(),
                keys.sort_by([("key", "ascending"), ("doc", "ascending")]).to_pydict(),
                clusters.sort_by([("cluster", "ascending")]).to_pydict(),
                read_merges(d).to_pydict(),
            )
        )
    return out


def _same(summary: dict) -> dict:
    out = {k: v for k, v in summary.items() if k != "seconds"}
    if "index" in out:
        out["index"] = {k: v for k, v in out["index"].items() if k not in ("bytes_read", "path")}
    return out


def run(quick: bool) -> str:
    sizes = (1,) if quick else (1, 10)
    tmp = Path(tempfile.mkdtemp(prefix="curate-scale-simhash-index-"))
    rows, searches = [], []
    try:
        old = export(BEFORE, tmp / "before")
        old_search = export(SEARCH_BEFORE_AT, tmp / "before-search")
        collect = collect_sample(tmp / "sample", SIMHASH)
        for n in sizes:
            run_dir = tmp / f"x{n}"
            shards, docs = ladder(collect, run_dir, n)
            for with_index in (False, True):
                got = {}
                for name, code in (("before", old), ("now", ROOT)):
                    params = dict(SIMHASH)
                    if with_index:
                        params["index"] = str(tmp / f"index-{n}-{name}")
                    got[name] = measured(code, run_dir, shards, params)
                    files = decisions(run_dir)
                    contents = index_contents(Path(params["index"])) if with_index else None
                    got[name] = (*got[name], files, contents)
                then, now = got["before"], got["now"]
                assert _same(now[3]) == _same(then[3]), (n, with_index)
                assert now[4].keys() == then[4].keys()
                assert all(now[4][k].equals(then[4][k]) for k in now[4]), (n, with_index)
                assert now[5] == then[5], (n, with_index)
                rows.append((n, docs, shards, with_index, now, then))
            collected = run_dir / "_work" / "pass-0" / "collect"
            before = search_peak(old_search, SEARCH_BEFORE, collected, tmp / "scratch", 1)
            for p in PARTITIONS:
                now_search = search_peak(ROOT, SEARCH_NOW, collected, tmp / "scratch", p)
                assert now_search["pairs"] == before["pairs"], (n, p)  # each pair once
                searches.append((n, docs, p, now_search, before))
            shutil.rmtree(run_dir, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        "## Scale: simhash_dedup's barrier with and without `index:`",
        "",
        "Command: `python benchmarks/run.py --only scale_simhash_index` "
        "(benchmarks/bench_scale_simhash_index.py; the sample's collected keys replicated as in "
        f"scale_simhash, `{json.dumps(SIMHASH)}`, one partition, local pool of 2 workers; with "
        "`index:` one run commits the 4 dumps into a fresh index). Before = "
        f"{BEFORE} (the driver joined the search tasks' near-duplicate pairs and links to "
        "committed dumps by union-find and read the committed dumps' merges and cluster "
        "sizes; today edge files, curate.dedup.components' partitioned rounds and label "
        "tasks), on the same files in the same run; same summary, decision files and index "
        "contents asserted. Driver = peak RSS of the process that runs the barrier, worker = "
        "largest pool worker.",
        "",
        "| corpus | documents | shards | index | units cut | barrier s (before) | "
        "driver peak MB (before) | largest worker MB (before) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n, docs, shards, with_index, now, then in rows:
        lines.append(
            f"| {n}x | {docs:,} | {shards} | {'yes' if with_index else 'no'} | "
            f"{now[3]['units_removed']:,} | {now[0]:,.0f} ({then[0]:,.0f}) | "
            f"{now[1]:,.0f} ({then[1]:,.0f}) | {now[2]:,.0f} ({then[2]:,.0f}) |"
        )
    lines += [
        "",
        "One search task's memory (the largest of the round; Python's traced allocations at "
        "their peak, numpy's arrays included, `tracemalloc`), the same collected keys, no "
        f"index: before ({SEARCH_BEFORE_AT}), one task per permuted table over the run's "
        "distinct fingerprints; "
        "today one per (table, partition), `partitions:` = 1, 4, 16 (2^bits search partitions "
        "per table), each writing its pairs as an edge file; the same distinct pairs "
        "asserted.",
        "",
        "| corpus | documents | partitions | search tasks | largest search task MB (before) |",
        "|---|---|---|---|---|",
    ]
    for n, docs, p, now_search, before in searches:
        lines.append(
            f"| {n}x | {docs:,} | {p} | {now_search['tasks']} ({before['tasks']}) | "
            f"{now_search['peak'] / 2**20:,.1f} ({before['peak'] / 2**20:,.1f}) |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
