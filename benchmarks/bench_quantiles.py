"""The perplexity_filter and remix barriers: driver memory per collected row, and decide time.

Synthetic collect files shaped like the runner's (one Parquet file per shard, with _shard and
_row): perplexity (language, domain, a log-normal score, a masked example on 3 rows per group
and 2,048-row batch) and remix (group, 64-bit hash, tokens). Each barrier's
``barrier`` runs in a fresh process over ``CollectedFiles`` with a 2-worker local
pool, as ``curate run`` calls it; reported: that process's peak RSS above its RSS just before
decide (sampled every 10 ms), the reduce workers' peak, rounds and wall time.

    python benchmarks/run.py --only quantiles
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
SHARDS = 64
ROWS_PER_TASK = 1 << 17  # smaller than the default 2^20: every size below runs several tasks

CHILD = r"""
import json, resource, sys, threading, time
from pathlib import Path
from curate import selection
from curate.collected import CollectedFiles
from curate.executors.local import LocalExecutor
from curate.stages.base import make_stage

def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20

kind, folder = sys.argv[1], Path(sys.argv[2])
selection.ROWS_PER_TASK = int(sys.argv[3])  # several tasks, so that they run in the pool
params = {
    "perplexity_filter": {"models": {"en": "models/en.arpa", "zh": "models/zh.arpa"},
                          "thresholds": {"default": {"keep_below": "p90"}, "code": {"skip": True}}},
    "remix": {"temperature": 2.0, "unit": "tokens"},
}[kind]
stage = make_stage(kind, params, kind)
ex = LocalExecutor(2)
collected = CollectedFiles(sorted(folder.glob("*.parquet")), folder / "scratch")
list(ex.map(len, [[1], [2]]))  # start the pool before the baseline
base = rss_mb()
peak, done = [base], threading.Event()

def watch():  # ru_maxrss would include the start-up peak, before decide
    while not done.wait(0.01):
        peak.append(max(peak[-1], rss_mb()))

watcher = threading.Thread(target=watch)
watcher.start()
t = time.perf_counter()
decision, summary = stage.barrier(collected, lambda fn, ts: ex.map(fn, ts))
seconds = time.perf_counter() - t
done.set()
watcher.join()
peak = max(peak[-1], rss_mb())
ex.close()
workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps({"rows": collected.num_rows, "base": base, "peak": peak, "workers": workers,
                  "seconds": seconds, "search": summary["search"],
                  "decision_bytes": len(json.dumps(decision))}))
"""


def _write(folder: Path, kind: str, rows: int, seed: int = 0) -> None:
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    per = rows // SHARDS
    for s in range(SHARDS):
        n = per
        if kind == "perplexity_filter":
            language = rng.choice(["en", "zh"], n, p=[0.7, 0.3])
            domain = rng.choice(["web", "math", "code"], n, p=[0.85, 0.05, 0.10])
            pp = rng.lognormal(6, 0.6, n)
            pp[domain == "code"] = np.nan  # skipped: not scored
            example = np.full(n, None, object)
            example[rng.random(n) < 3 * 6 / 2048] = "masked example text " * 10
            cols = {
                "language": pa.array(language),
                "domain": pa.array(domain),
                "perplexity": pa.array(pp, mask=np.isnan(pp)),
                "example": pa.array(example, pa.string()),
            }
        else:
            cols = {
                "group": pa.array(rng.choice(["web", "code", "math"], n, p=[0.85, 0.1, 0.05])),
                "hash": pa.array(rng.integers(0, 2**64, n, dtype=np.uint64)),
                "tokens": pa.array(np.round(rng.lognormal(6, 1, n) / 0.3) * 0.3),
            }
        cols["_shard"] = pa.array(np.full(n, s, np.int32))
        cols["_row"] = pa.array(np.arange(n, dtype=np.int64))
        pq.write_table(pa.table(cols), folder / f"part-{s:05d}.parquet")


def _measure(kind: str, rows: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "collect"
        _write(folder, kind, rows)
        out = subprocess.run(
            [sys.executable, "-c", CHILD, kind, str(folder), str(ROWS_PER_TASK)],
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> str:
    sizes = [250_000, 500_000] if quick else [500_000, 2_000_000, 8_000_000]
    lines = [
        "## quantiles: perplexity_filter and remix barriers",
        "",
        "Synthetic collect files, 64 shards; `barrier` over `CollectedFiles` with a "
        "2-worker local pool, in a fresh process, 2^17 rows a reduce task. Driver growth = "
        "peak RSS during decide (sampled every 10 ms) minus RSS just before it (it should not "
        "grow with rows: the driver holds per-group bins); worker peak = the largest reduce "
        "worker's RSS (it grows with rows a task, not with rows).",
        "",
        "| barrier | rows | driver growth MB | bytes/row | worker peak MB | tasks | rounds |"
        " decide s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind in ("perplexity_filter", "remix"):
        for rows in sizes:
            m = _measure(kind, rows)
            grow = max(m["peak"] - m["base"], 0.0)
            lines.append(
                f"| {kind} | {m['rows']:,} | {grow:.1f} | {grow * 2**20 / m['rows']:.1f} | "
                f"{m['workers']:.0f} | {m['search']['tasks']} | {m['search']['rounds']} | "
                f"{m['seconds']:.1f} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
