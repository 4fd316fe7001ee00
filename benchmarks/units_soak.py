"""`simhash_dedup` method minhash alone (`level: sentence`) on N x the sample (benchmarks/soak.py's
replicas), 2 workers: barrier seconds (from the last shard of the pass to the barrier's summary),
the largest worker's peak RSS in the barrier, and the stage's counts.

    PYTHONPATH=$PWD .venv/bin/python benchmarks/units_soak.py 1 4
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
from common import watch  # noqa: E402
from soak import phase, planned_shards, replicate  # noqa: E402

KEYS = ("units", "candidate_pairs", "near_duplicate_pairs", "clusters", "boilerplate_clusters",
        "component_rounds", "units_removed", "chars_removed", "docs_cut")  # fmt: skip


def _find(tree: object, key: str) -> dict:
    """The first dict in ``tree`` (a report) holding ``key``."""
    if isinstance(tree, dict):
        if key in tree:
            return tree
        tree = list(tree.values())
    for item in tree if isinstance(tree, list) else []:
        found = _find(item, key)
        if found:
            return found
    return {}


def measure(copies: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        where = Path(tmp)
        docs = replicate(ROOT / "sample_corpus", where / "in", copies)
        body = {"name": "units", "input": str(where / "in" / "dump=*"),
                "output": str(where / "out"),
                "stages": [{"simhash_dedup": {"level": "sentence"}}]}  # fmt: skip
        (where / "soak.yaml").write_text(yaml.safe_dump(body))
        shards = planned_shards(where)
        cmd = [
            sys.executable,
            "-m",
            "curate.cli",
            "run",
            str(where / "soak.yaml"),
            "--workers",
            "2",
        ]
        seen: dict[str, float] = {}

        def now() -> str:
            p = phase(where / "out", shards)
            seen.setdefault(p, time.perf_counter())
            return p

        with tempfile.TemporaryFile(mode="w+") as log:
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
            peaks = watch(proc, 0.1, now).phases
            if proc.returncode != 0:
                log.seek(0)
                raise RuntimeError(log.read()[-2000:])
        report = json.loads((where / "out" / "report.json").read_text())
        summary = _find(report, "candidate_pairs")
        barrier = seen.get("pass 1", seen.get("report", time.perf_counter())) - seen["decide 0"]
        return {"copies": copies, "docs": docs, "barrier_s": round(barrier, 1),
                "worker_mb": round(peaks["decide 0"][1]), "driver_mb": round(peaks["decide 0"][0]),
                **{k: summary.get(k) for k in KEYS}}  # fmt: skip


if __name__ == "__main__":
    for n in sys.argv[1:] or ["1", "4"]:
        print(json.dumps(measure(int(n))), flush=True)
