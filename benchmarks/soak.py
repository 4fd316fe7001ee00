"""Soak: the demo pipeline (minus pii_scrub) on N x the sample, peak RSS by phase (the pieces
`make bench` section `scale`, benchmarks/bench_scale.py, runs on its size ladder).

The N x corpus keeps the shard size and adds shards: replica k of a shard has new ids, new hosts
and new texts (the first half of each document joined to the second half of another, so the
replicas are real text and not near-duplicates of each other). url_dedup and minhash_dedup get
an `index:`. A sampler reads the RSS of the driver and of the largest worker every 0.1 s and
attributes it to the phase the run is in, from the run directory: `pass k` while pass k's shards
run, `decide k` between the last shard of pass k and the first of pass k+1 (the barrier of a
global stage, which holds every key), `report` at the end. Every phase, barriers included, should
cost the same memory per process at any corpus size (#17's target).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
from common import watch  # noqa: E402


def replicate(src: Path, dst: Path, copies: int) -> int:
    """``copies`` x the corpus under ``dst``, same dumps, same shard size; returns documents."""
    docs = 0
    for shard in sorted(src.glob("dump=*/*.parquet")):
        table = pq.read_table(shard)
        (dst / shard.parent.name).mkdir(parents=True, exist_ok=True)
        for k in range(copies):
            out = table if k == 0 else _replica(table, k)
            pq.write_table(out, dst / shard.parent.name / f"{shard.stem}-r{k:03d}.parquet")
            docs += out.num_rows
    return docs


def _replica(table: pa.Table, k: int) -> pa.Table:
    texts = table["text"].to_pylist()
    partner = list(range(len(texts)))
    random.Random(k).shuffle(partner)
    mixed = []
    for i, text in enumerate(texts):
        other = texts[partner[i]]
        mixed.append(text[: len(text) // 2] + other[len(other) // 2 :])
    columns = {name: table[name] for name in table.column_names}
    columns["text"] = pa.array(mixed, pa.string())
    columns["id"] = pa.array([f"{i}~r{k}" for i in table["id"].to_pylist()], pa.string())
    if "url" in columns:
        urls = table["url"].to_pylist()
        columns["url"] = pa.array(
            [u.replace("://", f"://r{k}.", 1) if u else u for u in urls], pa.string()
        )
    return pa.table(columns)


def soak_pipeline(where: Path) -> Path:
    demo = yaml.safe_load((ROOT / "pipelines" / "deepseek.yaml").read_text())
    stages = []
    for item in demo["stages"]:
        ((name, params),) = item.items()
        if name == "pii_scrub":
            continue
        if name in ("url_dedup", "minhash_dedup"):
            params = {**params, "index": str(where / "index" / name)}
        stages.append({name: params})
    body = {**demo, "stages": stages, "input": str(where / "in"), "output": str(where / "out")}
    path = where / "soak.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def planned_shards(where: Path) -> int:
    """The run's units of work (ranges of row groups, small files grouped), as curate plans
    them from ``where``/soak.yaml."""
    from curate.config import load_pipeline
    from curate.io import discover_files, plan_shards, read_footer

    config = load_pipeline(where / "soak.yaml")
    files = discover_files(config.input, config.jsonl)
    return len(plan_shards(files, [read_footer(f) for f in files], config.shard_rows))


def phase(out: Path, shards: int) -> str:
    """The run's phase now: `pass k` while pass k's shards run, `decide k` from pass k's last
    shard marker until the barrier writes its summary (`_work/decisions/<stage>/summary.json`,
    the last thing `_decide` writes), `report` once report.json exists. Every pass of the soak
    pipeline but the last ends in a barrier, so k = the number of summaries written."""
    work = out / "_work"
    if (out / "report.json").exists():
        return "report"
    if not work.exists():
        return "start"
    k = len(list((work / "decisions").glob("*/summary.json")))
    done = len(list((work / f"pass-{k}" / "done").glob("*.json")))
    return f"pass {k}" if done < shards else f"decide {k}"


def measured_run(where: Path, shards: int) -> tuple[float, dict[str, tuple[float, float]], dict]:
    """Wall seconds; per phase, the peak RSS (MB) of the driver and of the largest worker."""
    cmd = [sys.executable, "-m", "curate.cli", "run", str(soak_pipeline(where)), "--workers", "2"]
    with tempfile.TemporaryFile(mode="w+") as log:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True)
        peaks = watch(proc, 0.1, lambda: phase(where / "out", shards)).phases
        seconds = time.perf_counter() - t
        if proc.returncode != 0:
            log.seek(0)
            raise RuntimeError(log.read()[-2000:])
    report = json.loads((where / "out" / "report.json").read_text())
    return seconds, peaks, report


def index_bytes(where: Path) -> dict[str, int]:
    return {
        d.name: sum(f.stat().st_size for f in d.rglob("*") if f.is_file())
        for d in sorted((where / "index").iterdir())
    }
