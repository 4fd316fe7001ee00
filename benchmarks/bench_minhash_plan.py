"""MinHash barrier planning on many shards: what the driver reads to size the rounds.

`minhash_dedup`'s partitioned barrier (curate/dedup/lsh_barrier.py) sizes its rounds from the
collect files' column bytes (Parquet footers). BEFORE read every collect file's footer in the
driver twice per barrier (``plan``, then ``_Sizes``): O(shards) small reads, serial, in the one
process (on a bucket, one ranged GET or more each). Today tasks of SHARDS_PER_GROUP shards read
the footers and return per-column totals and per-shard maxima; the driver reads none.

Measured here: S tiny collect files (5 sample documents each, the stage's own collect on the
sample corpus, real Parquet), then in a fresh interpreter per version: the driver's wall time
of ``plan`` + ``_Sizes`` and the bytes it read (/proc/self/io rchar), with a local pool of 2
workers (today; started, with curate imported, before the clock, as a pipeline's pool is). The
plans must agree (partitions, groups, ranges: asserted).
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
from bench_scale_keyed import export  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "9a71c06"  # main before the footers moved to tasks
PER_SHARD = 5

CHILD = r"""
import inspect, json, sys, time
from pathlib import Path
from curate.dedup import lsh_barrier
from curate.executors.local import LocalExecutor
from curate.stages.minhash_dedup import MinHashDedupConfig

collect, shards, docs = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
pool = LocalExecutor(2)
for _ in pool.map(lsh_barrier.histogram, [{}, {}]):  # workers up with curate imported
    pass  # before the clock, as in a pipeline run
def run(fn, tasks, *, memory=None, cpus=1):
    return pool.map(fn, tasks, memory=memory, cpus=cpus)
def rchar():
    return int(dict(l.split(": ") for l in Path("/proc/self/io").read_text().splitlines())["rchar"])
config = MinHashDedupConfig()
extra = {"run": run} if "run" in inspect.signature(lsh_barrier.plan).parameters else {}
r0, t0 = rchar(), time.perf_counter()
p = lsh_barrier.plan(collect, shards, collect.parent / "w", collect.parent / "d", 1, docs,
                     config, **extra)
t1 = time.perf_counter()
sizes = lsh_barrier._Sizes(p)
t2, r1 = time.perf_counter(), rchar()
pool.close()
print(json.dumps({"plan_s": t1 - t0, "sizes_s": t2 - t1, "read": r1 - r0,
                  "plan": [p.partitions, p.groups, p.ranges],
                  "shard": sizes.shard(["shingles"]),
                  "collect": sizes.collect(["band_"], p.groups)}))
"""


def collect_files(folder: Path, shards: int) -> int:
    """``shards`` collect files of PER_SHARD sample documents each (the stage's collect)."""
    from curate.stages.base import ROW, SHARD
    from curate.stages.minhash_dedup import MinHashDedup, MinHashDedupConfig

    stage = MinHashDedup(MinHashDedupConfig())
    files = sorted((ROOT / "sample_corpus").glob("dump=*/*.parquet"))
    docs = pq.read_table(files[0], columns=["id", "text", "dump", "date"])
    folder.mkdir(parents=True)
    for s in range(shards):
        at = [(s * PER_SHARD + j) % docs.num_rows for j in range(PER_SHARD)]
        rows = docs.take(pa.array(at))
        rows = rows.set_column(0, "id", pa.array([f"{s}-{j}" for j in range(PER_SHARD)]))
        batch = rows.append_column(ROW, pa.array(range(PER_SHARD), pa.int64())).to_batches()[0]
        keys = stage.collect(batch)
        keys = keys.add_column(0, SHARD, pa.array([s] * keys.num_rows, pa.int32()))
        pq.write_table(keys, folder / f"part-{s:05d}.parquet")
    return shards * PER_SHARD


def measure(code: Path, collect: Path, shards: int, docs: int) -> dict:
    env = {"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(collect), str(shards), str(docs)],
        env=env,
        cwd=collect.parent,  # not this checkout: `python -c` puts the folder first on the path
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> str:
    ladder = (200,) if quick else (200, 2000)
    tmp = Path(tempfile.mkdtemp(prefix="curate-plan-"))
    rows = []
    try:
        old = export(BEFORE, tmp)
        for shards in ladder:
            collect = tmp / f"s{shards}" / "collect"
            docs = collect_files(collect, shards)
            then = measure(old, collect, shards, docs)
            now = measure(ROOT, collect, shards, docs)
            assert now["plan"] == then["plan"], (now, then)
            rows.append(
                f"| {shards:,} | {docs:,} | {then['plan_s'] + then['sizes_s']:.2f} "
                f"({then['plan_s']:.2f} + {then['sizes_s']:.2f}) | "
                f"{then['read'] / 2**20:.1f} | {now['plan_s'] + now['sizes_s']:.2f} "
                f"({now['plan_s']:.2f} + {now['sizes_s']:.2f}) | {now['read'] / 2**20:.2f} |"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return "\n".join(
        [
            "## MinHash barrier planning on many shards",
            "",
            "Command: `python benchmarks/run.py --only minhash_plan`. The driver's wall time of "
            "`lsh_barrier.plan` + `_Sizes` (seconds: plan + sizes) and the bytes it read "
            f"(/proc/self/io rchar, MiB) over S collect files of {PER_SHARD} sample documents "
            f"each. Before ({BEFORE}): every footer read in the driver, twice. Today: tasks of "
            "256 shards on a local pool of 2 workers read them once and return per-column "
            "totals. Same plan (partitions, groups, ranges) asserted.",
            "",
            "| shards | documents | before s | before MiB read | today s | today MiB read |",
            "|---|---|---|---|---|---|",
            *rows,
        ]
    )


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
