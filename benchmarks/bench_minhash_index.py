"""MinHash index: `minhash_dedup` with `index:` over two dumps on a size ladder, today (the barrier
as partitioned tasks, curate/dedup/lsh_barrier.py ``run_indexed``) vs main before it (16 band
tasks, then the driver verified, joined clusters, chose survivors and committed the index).

The sample replicated 1x and 10x (soak.py's replicas), cut in two: run 1 takes dumps
CC-MAIN-2023-06 and -14 and commits them to a fresh index; run 2 takes -23 and -40 and is
deduplicated against them (then commits them). Both with `--workers 2`, defaults (verify exact,
keep earliest, partitions auto). "before" is BEFORE, exported with `git archive` and run from the
same interpreter on the same files. Reported per run: the driver's peak RSS during the barrier
(from the last collect marker to the barrier's summary.json, sampled every 0.1 s) and over the
run, the largest worker's in the barrier, the barrier's seconds, and the bytes the barrier read
from the index (`index.bytes_read`). Both versions must remove the same rows with the same
`duplicate_of` (asserted).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale_minhash import shard_count  # noqa: E402
from common import export  # noqa: E402
from soak import replicate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "7ef1145"  # main before the partitioned index barrier of minhash_dedup
HALVES = (("CC-MAIN-2023-06", "CC-MAIN-2023-14"), ("CC-MAIN-2023-23", "CC-MAIN-2023-40"))


def pipeline(where: Path, half: int, index: Path, partitions: int | None = None) -> Path:
    body = {
        "name": "minhash-index",
        "input": str(where / f"in{half}"),
        "output": str(where / f"out{half}"),
        "stages": [{"minhash_dedup": {"keep": "earliest", "index": str(index)}}],
    }
    if partitions is not None:
        body["partitions"] = partitions
    path = where / f"run{half}.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def measured(path: Path, code: Path, shards: int) -> dict:
    """`curate run PATH --workers 2` with the code at ``code``: wall and barrier seconds, peaks
    in MB (driver over the run; driver and largest worker during the barrier), the report."""
    out = Path(yaml.safe_load(path.read_text())["output"])
    cmd = [sys.executable, "-m", "curate.cli", "run", str(path), "--workers", "2"]
    env = {"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"}
    done = out / "_work" / "pass-0" / "done"
    summary = out / "_work" / "decisions" / "minhash_dedup" / "summary.json"
    peak = {"driver": 0.0, "barrier driver": 0.0, "barrier worker": 0.0}
    with tempfile.TemporaryFile(mode="w+") as log:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=code, stdout=log, stderr=subprocess.STDOUT, env=env)
        parent = psutil.Process(proc.pid)
        while proc.poll() is None:
            try:
                d = parent.memory_info().rss / 2**20
                w = [p.memory_info().rss / 2**20 for p in parent.children(recursive=True)]
            except psutil.Error:
                continue
            barrier = done.exists() and len(list(done.iterdir())) >= shards and not summary.exists()
            peak["driver"] = max(peak["driver"], d)
            if barrier:
                peak["barrier driver"] = max(peak["barrier driver"], d)
                peak["barrier worker"] = max([peak["barrier worker"], *w])
            time.sleep(0.1)
        seconds = time.perf_counter() - t
        if proc.returncode != 0:
            log.seek(0)
            raise RuntimeError(log.read()[-2000:])
    report = json.loads((out / "report.json").read_text())
    decision = report["stages"][0]["decision"]
    return {
        "seconds": seconds,
        "barrier": decision["seconds"],
        "read": decision["index"]["bytes_read"],
        "removed": removed(out),
        **peak,
    }


def removed(out: Path) -> list:
    rows = []
    for f in sorted((out / "removed" / "minhash_dedup").glob("*.parquet")):
        t = pq.read_table(f, columns=["id", "duplicate_of"])
        rows += zip(t["id"].to_pylist(), t["duplicate_of"].to_pylist())
    return sorted(rows)


def two_runs(
    where: Path, code: Path, tag: str, shards: list[int], partitions: int | None = None
) -> list[dict]:
    index = where / f"index-{tag}"
    shutil.rmtree(index, ignore_errors=True)
    out = []
    for half in (0, 1):
        shutil.rmtree(where / f"out{half}", ignore_errors=True)
        out.append(measured(pipeline(where, half, index, partitions), code, shards[half]))
    out[1]["index MB"] = sum(f.stat().st_size for f in index.rglob("*") if f.is_file()) / 2**20
    return out


def run(quick: bool = False) -> str:
    sizes = (1, 2) if quick else (1, 10)
    tmp = Path(tempfile.mkdtemp(prefix="curate-minhash-index-"))
    rows = []
    try:
        old = export(BEFORE, tmp / "src")
        for n in sizes:
            where = tmp / f"x{n}"
            docs, shards = [], []
            for half, dumps in enumerate(HALVES):  # in0/dump=A, in0/dump=B; in1/...
                src = where / f"src{half}"
                src.mkdir(parents=True)
                for d in dumps:
                    (src / f"dump={d}").symlink_to(ROOT / "sample_corpus" / f"dump={d}")
                docs.append(replicate(src, where / f"in{half}", n))
                shards.append(shard_count(where / f"in{half}"))
            now = two_runs(where, ROOT, "after", shards)
            then = two_runs(where, old, "before", shards)
            for a, b in zip(now, then):
                assert a["removed"] == b["removed"], f"{n}x: removed rows differ"
            # the largest size again with `partitions: 8`: does a partition bound the worker?
            split = two_runs(where, ROOT, "p8", shards, 8) if n == sizes[-1] else None
            for a, b in zip(now, split or now):
                assert a["removed"] == b["removed"], f"{n}x: partitions 8 removed other rows"
            rows.append((n, docs, now, then, split))
            peaks = [(a["barrier driver"], b["barrier driver"]) for a, b in zip(now, then)]
            print(n, docs, peaks, file=sys.stderr, flush=True)  # progress
            shutil.rmtree(where, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        "## MinHash index: minhash_dedup with `index:` over two dumps, size ladder",
        "",
        "Command: `python benchmarks/run.py --only minhash_index` (the sample replicated as in "
        "the soak section, cut in two: run 1 = dumps 2023-06 + 2023-14 into a fresh index, run "
        "2 = 2023-23 + 2023-40 against it; `minhash_dedup` only, defaults (verify exact), "
        f"`--workers 2`, default partitions). 'before' = {BEFORE} (16 band tasks, then the "
        "driver verified, joined, chose survivors and committed), same files, same run; the same "
        "removed ids and `duplicate_of` asserted. MB = peak RSS; 'barrier' = from the last "
        "collect marker to the barrier's summary.json; index read = `index.bytes_read` of the "
        "barrier.",
        "",
        "| corpus | documents | run | driver MB in the barrier (before) | driver MB over the run "
        "(before) | largest worker MB in the barrier (before) | barrier s (before) | wall s "
        "(before) | index read MB (before) | removed |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n, docs, now, then, _ in rows:
        for half in (0, 1):
            a, b = now[half], then[half]

            def pair(key: str, fmt: str, scale: float = 1.0, a=a, b=b) -> str:
                return f"{format(a[key] / scale, fmt)} ({format(b[key] / scale, fmt)})"

            lines.append(
                f"| {n}x | {docs[half]:,} | {half + 1} | {pair('barrier driver', ',.0f')} | "
                f"{pair('driver', ',.0f')} | {pair('barrier worker', ',.0f')} | "
                f"{pair('barrier', ',.1f')} | {pair('seconds', ',.1f')} | "
                f"{pair('read', ',.1f', 2**20)} | {len(a['removed']):,} |"
            )
    sizes_line = ", ".join(
        f"{n}x: {now[1]['index MB']:,.0f} MB ({then[1]['index MB']:,.0f} MB)"
        for n, _, now, then, _ in rows
    )
    lines += ["", f"Index after run 2 (four dumps), today (before): {sizes_line}."]
    for n, docs, now, _, split in rows:
        if split is None:
            continue
        runs = "; ".join(
            f"run {h + 1} ({docs[h]:,} documents): largest worker "
            f"{split[h]['barrier worker']:,.0f} MB (default partitions: "
            f"{now[h]['barrier worker']:,.0f}), driver "
            f"{split[h]['barrier driver']:,.0f} MB, barrier {split[h]['barrier']:,.1f} s "
            f"({now[h]['barrier']:,.1f} s)"
            for h in (0, 1)
        )
        lines += ["", f"{n}x with `partitions: 8` (same removed rows): {runs}."]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
