"""Scale: minhash_dedup's barrier on a size ladder, partitioned tasks (today) vs the driver.

The sample replicated 1x, 4x and 10x (soak.py's replicas: new ids, half-swapped texts, same
shard size), run through `minhash_dedup` alone (defaults: verify exact, keep earliest, no index)
with `--workers 2`. "before" is commit 46b8b62 (16 band tasks, then the driver verified, joined
and chose survivors over every document), exported with `git archive` and run from the same
interpreter on the same files. RSS of the driver and of every worker sampled every 0.1 s; the
barrier phase is from the last collect marker to the barrier's summary.json.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import export, watch  # noqa: E402
from soak import replicate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "46b8b62"  # the last commit whose minhash barrier decided in the driver


def pipeline(where: Path, partitions: int | None) -> Path:
    body = {
        "name": "scale-minhash",
        **({"partitions": partitions} if partitions else {}),
        "input": str(where / "in"),
        "output": str(where / "out"),
        "stages": [{"minhash_dedup": {"keep": "earliest"}}],
    }
    path = where / "scale-minhash.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def measured(where: Path, code: Path, shards: int, partitions: int | None = None) -> dict:
    """Wall and barrier seconds, driver and largest-worker peak MB (over the run and during the
    barrier), and the report."""
    shutil.rmtree(where / "out", ignore_errors=True)
    cmd = [sys.executable, "-m", "curate.cli", "run", str(pipeline(where, partitions))]
    cmd += ["--workers", "2"]
    env = {"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"}
    done = where / "out" / "_work" / "pass-0" / "done"
    summary = where / "out" / "_work" / "decisions" / "minhash_dedup" / "summary.json"

    def phase() -> str:
        barrier = done.exists() and len(list(done.iterdir())) >= shards and not summary.exists()
        return "barrier" if barrier else "other"

    with tempfile.TemporaryFile(mode="w+") as log:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=code, stdout=log, stderr=subprocess.STDOUT, env=env)
        peaks = watch(proc, 0.1, phase)
        seconds = time.perf_counter() - t
        if proc.returncode != 0:
            log.seek(0)
            raise RuntimeError(log.read()[-2000:])
    report = json.loads((where / "out" / "report.json").read_text())
    decide = next(p["decide_seconds"] for p in report["timings"]["passes"] if "decide_seconds" in p)
    barrier = peaks.phases.get("barrier", (0.0, 0.0))
    peak = {"driver": peaks.driver, "worker": peaks.worker}
    peak |= {"barrier driver": barrier[0], "barrier worker": barrier[1]}
    return {"seconds": seconds, "decide": decide, **peak, "report": report}


def shard_count(folder: Path) -> int:
    """How many shards the runner cuts the input into (its own planner, ``shard_rows: auto``)."""
    sys.path.insert(0, str(ROOT))
    from curate.io import discover_files, plan_shards, read_footer

    files = discover_files([str(folder)])
    return len(plan_shards(files, [read_footer(f) for f in files], "auto"))


def outcome(report: dict) -> tuple:
    s = report["stages"][0]
    d = s["decision"]
    return s["docs_out"], s["docs_removed"], d["clusters"], d["candidate_pairs"]


def _line(row: tuple) -> str:
    n, docs, shards, now, then = row

    def pair(key: str, fmt: str) -> str:
        return format(now[key], fmt) + (f" ({format(then[key], fmt)})" if then else "")

    return (
        f"| {n} | {docs:,} | {shards} | {pair('seconds', ',.0f')} | {pair('decide', ',.1f')} | "
        f"{pair('barrier driver', ',.0f')} | {pair('barrier worker', ',.0f')} | "
        f"{pair('driver', ',.0f')} |"
    )


def run(quick: bool = False) -> str:
    sizes = (1, 2) if quick else (1, 4, 10)
    tmp = Path(tempfile.mkdtemp(prefix="curate-scale-minhash-"))
    rows = []
    try:
        old = export(BEFORE, tmp / "src")
        for n in sizes:
            where = tmp / f"x{n}"
            docs = replicate(ROOT / "sample_corpus", where / "in", n)
            shards = shard_count(where / "in")
            now = measured(where, ROOT, shards)
            then = measured(where, old, shards)
            assert outcome(now["report"]) == outcome(then["report"]), n  # the same decisions
            rows.append((f"{n}x", docs, shards, now, then))
            print(_line(rows[-1]), file=sys.stderr, flush=True)  # progress, for a long run
            if n == sizes[-1]:
                eight = measured(where, ROOT, shards, 8)
                rows.append((f"{n}x, partitions: 8", docs, shards, eight, None))
            shutil.rmtree(where, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        "## Scale: the minhash barrier on a size ladder",
        "",
        "Command: `python benchmarks/run.py --only scale_minhash` (`minhash_dedup` alone, "
        "defaults: verify exact, no index; `--workers 2`; default `partitions` (auto, 1 here) "
        "unless stated; the sample replicated as in the soak section). "
        f"'before' is {BEFORE}: 16 band tasks, then the driver held every document's head "
        "columns, ranks, links, candidates' shingle sets, union-find and survivors. Today: "
        "rounds of partitioned tasks (curate/dedup/lsh_barrier.py) that write the decision "
        "files; same kept and removed counts, clusters and candidate pairs asserted. Peaks are "
        "RSS; 'barrier' is from the last collect marker to the barrier's summary.json; worker = "
        "the largest worker.",
        "",
        "| corpus | documents | shards | wall s (before) | barrier s (before) | "
        "driver peak MB in the barrier (before) | largest worker MB in the barrier (before) | "
        "driver peak MB over the run (before) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [_line(row) for row in rows]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
