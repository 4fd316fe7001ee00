"""Scale: the keyed barriers (url_dedup, exact_dedup) on a size ladder, today vs before #17.

The sample replicated 1x, 10x, 40x and 100x (soak.py's replicas: new ids, hosts and
half-swapped texts, same shard size), run through `url_dedup` + `exact_dedup` with `--workers 2`.
"before" is commit bc811e4 (both barriers decided in the driver over every shard's keys),
exported with `git archive` and run from the same interpreter on the same files, up to 40x. RSS of
the driver (which runs the barriers) and of the largest worker, sampled every 0.1 s.
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
from scale_simhash import section as simhash_section  # noqa: E402
from soak import replicate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "bc811e4"  # the last commit whose url/exact barriers decided in the driver


def pipeline(where: Path, partitions: int | None = None) -> Path:
    body = {
        "name": "scale",
        **({"partitions": partitions} if partitions else {}),
        "input": str(where / "in"),
        "output": str(where / "out"),
        "stages": [{"url_dedup": {"keep": "earliest"}}, {"exact_dedup": {"keep": "earliest"}}],
    }
    path = where / "scale.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def measured(where: Path, code: Path, partitions: int | None = None) -> tuple:
    """Wall seconds, driver peak MB, largest worker peak MB, the report. The driver runs the
    barriers (before #17 it held every key there); the shard tasks and reduce tasks run in the
    workers."""
    shutil.rmtree(where / "out", ignore_errors=True)
    seconds, driver, worker, _ = measured_cmd(pipeline(where, partitions), code)
    return seconds, driver, worker, json.loads((where / "out" / "report.json").read_text())


def measured_cmd(path: Path, code: Path) -> tuple:
    """`curate run PATH --workers 2` with the code at ``code``: wall seconds, driver peak MB,
    largest worker peak MB, the report."""
    cmd = [sys.executable, "-m", "curate.cli", "run", str(path), "--workers", "2"]
    env = {"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"}
    with tempfile.TemporaryFile(mode="w+") as log:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=code, stdout=log, stderr=subprocess.STDOUT, env=env)
        peaks = watch(proc, 0.1)
        seconds = time.perf_counter() - t
        if proc.returncode != 0:
            log.seek(0)
            raise RuntimeError(log.read()[-2000:])
    output = Path(yaml.safe_load(path.read_text())["output"])
    return seconds, peaks.driver, peaks.worker, json.loads((output / "report.json").read_text())


def run(quick: bool = False) -> str:
    sizes = (1, 2) if quick else (1, 10, 40, 100)
    before_up_to = 2 if quick else 40
    tmp = Path(tempfile.mkdtemp(prefix="curate-scale-"))
    rows = []
    try:
        old = export(BEFORE, tmp / "src")
        for n in sizes:
            where = tmp / f"x{n}"
            docs = replicate(ROOT / "sample_corpus", where / "in", n)
            files = len(list((where / "in").rglob("*.parquet")))
            then = measured(where, old) if n <= before_up_to else None
            now = measured(where, ROOT)
            if then is not None:  # the same decisions: kept and removed counts per stage
                a = [(s["docs_out"], s["docs_removed"]) for s in now[3]["stages"]]
                b = [(s["docs_out"], s["docs_removed"]) for s in then[3]["stages"]]
                assert a == b, (n, a, b)
            rows.append((f"{n}x", docs, files, now, then))
            if n == sizes[-1]:  # the reduce tasks' memory is the partition's, not the corpus's
                rows.append((f"{n}x, partitions: 8", docs, files, measured(where, ROOT, 8), None))
            shutil.rmtree(where, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        "## Scale (keyed): url_dedup + exact_dedup on a size ladder",
        "",
        "Command: `python benchmarks/run.py --only scale_keyed` (`url_dedup` + `exact_dedup`, "
        "no index, `--workers 2`, default `partitions` (auto: one per 1 GiB of input Parquet); "
        f"the sample replicated as in the soak section; 'before' is {BEFORE}, where both "
        "barriers decided in the driver over every shard's keys, on the same files in the same "
        "run; same kept and removed counts asserted). Driver = peak RSS of the driver process "
        "over the run (it runs the barriers); worker = largest worker process (shard and "
        "reduce tasks); shards = the units of work (today: ranges of row groups, `shard_rows: "
        "auto`; before: one per file).",
        "",
        "| corpus | documents | files | shards (before) | wall s (before) | docs/s (before) | "
        "driver peak MB (before) | largest worker MB (before) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n, docs, files, now, then in rows:

        def pair(i: int, fmt: str, now=now, then=then) -> str:
            return format(now[i], fmt) + (f" ({format(then[i], fmt)})" if then else "")

        rate = f"{docs / now[0]:,.0f}" + (f" ({docs / then[0]:,.0f})" if then else "")
        shards = str(now[3]["input"]["shards"])
        shards += f" ({then[3]['input']['shards']})" if then else ""
        lines.append(
            f"| {n} | {docs:,} | {files} | {shards} | {pair(0, ',.0f')} | {rate} | "
            f"{pair(1, ',.0f')} | {pair(2, ',.0f')} |"
        )
    # simhash_dedup's barrier on its own ladder (benchmarks/scale_simhash.py)
    lines += ["", simhash_section((1,) if quick else (1, 4, 10))]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
