"""Largest worker during minhash_dedup's barrier: `url_dedup` + `minhash_dedup` (both with
`index:`), `--workers 2`, on the sample replicated N x (soak.replicate). The barrier phase runs
from pass 1's last shard marker to minhash_dedup's summary.json; RSS sampled every 0.1 s.

    PYTHONPATH=$PWD python benchmarks/minhash_barrier_rss.py CODE N WHERE

CODE: a checkout to run (this one, or a `git archive` of another commit); WHERE: a scratch
folder (its `in` is made once and reused).
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
from common import watch  # noqa: E402
from soak import replicate  # noqa: E402


def barrier_pipeline(
    code: Path,
    n: int,
    where: Path,
    name: str,
    last: str = "minhash_dedup",
    partitions: int | None = None,
) -> Path:
    """``where``/p.yaml: url_dedup + minhash_dedup (up to the stage ``last``), each with a fresh
    ``index:``, over the sample replicated ``n`` times (made once in ``where``/in), with
    ``partitions`` if given; the previous run's output gone."""
    if not (where / "in").exists():
        replicate(code / "sample_corpus", where / "in", n)
    shutil.rmtree(where / "out", ignore_errors=True)
    shutil.rmtree(where / "index", ignore_errors=True)
    stages = [
        {"url_dedup": {"index": str(where / "index" / "url")}},
        {"minhash_dedup": {"index": str(where / "index" / "minhash")}},
    ]
    body = {
        "name": name,
        "input": str(where / "in" / "dump=*"),
        "output": str(where / "out"),
        "stages": stages[: 1 + [next(iter(s)) for s in stages].index(last)],
        **({"partitions": partitions} if partitions else {}),
    }
    (where / "p.yaml").write_text(yaml.safe_dump(body))
    return where / "p.yaml"


def main(code: Path, n: int, where: Path) -> dict:
    barrier_pipeline(code, n, where, "minhash-barrier-rss")
    work = where / "out" / "_work"
    summary = work / "decisions" / "minhash_dedup" / "summary.json"

    def phase() -> str:
        if summary.exists():
            return "after"
        if not (work / "decisions" / "url_dedup" / "summary.json").exists():
            return "before"
        shards = len(list((work / "pass-0" / "done").glob("*")))
        return "barrier" if len(list((work / "pass-1" / "done").glob("*"))) >= shards else "pass1"

    cmd = [sys.executable, "-m", "curate.cli", "run", str(where / "p.yaml"), "--workers", "2"]
    env = {"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"}
    with tempfile.TemporaryFile(mode="w+") as log:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=code, stdout=log, stderr=subprocess.STDOUT, env=env)
        peaks = watch(proc, 0.1, phase)
        seconds = time.perf_counter() - t
        if proc.returncode:
            log.seek(0)
            raise RuntimeError(log.read()[-3000:])
    found = json.loads(summary.read_text())
    return {
        "n": n,
        "seconds": round(seconds, 1),
        "phases (driver, largest worker MB)": {
            k: [round(x) for x in v] for k, v in peaks.phases.items()
        },
        **{k: found.get(k) for k in ("documents", "partitions", "groups", "duplicates")},
    }


if __name__ == "__main__":
    print(json.dumps(main(Path(sys.argv[1]).resolve(), int(sys.argv[2]), Path(sys.argv[3]))))
