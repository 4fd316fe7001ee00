"""Scale, simhash_dedup: the driver's peak RSS at the SimHash barrier on a size ladder, today vs
before the barrier's per-document state left the driver (part of bench_scale_keyed's section).

The sample is collected once (`curate run --keep-work` of a simhash-only pipeline, so the keys are
the real stage's: fingerprints, spans, previews, ids, dumps, dates). The ladder replicates those
collect files: replica k of a shard is a new shard with new ids, and half of each document's units
(by a hash of their place) get new fingerprints (fmix64 of the old one and k), the other half keep
theirs, so replicas share half their units with the original document, as soak.py's
half-swapped replicas share half their text. Only the barrier runs: the runner's `_decide` (the
same call a run makes between passes, with the local pool of 2 workers), in a fresh process whose
RSS (and its workers') is sampled every 0.05 s. "Before" is BEFORE, exported with `git archive` and
run on the same files; its decision files and summary are asserted equal to today's.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from common import export, watch  # noqa: E402

BEFORE = "9999ea1"  # the driver held ids, dumps, dates, ranks, unit offsets and a bit per unit
PARAMS = {"level": "sentence", "hamming": 3, "min_docs": 2}
GOLDEN = np.uint64(0x9E3779B97F4A7C15)

DRIVER = """
import json, sys
from pathlib import Path
from types import SimpleNamespace
from curate.config import StageSpec
from curate.executors.local import LocalExecutor
from curate.pipeline import _decide
run, n, params = Path(sys.argv[1]), int(sys.argv[2]), json.loads(sys.argv[3])
stage = StageSpec("simhash_dedup", params, "simhash_dedup").build()
executor = LocalExecutor(2)
summary = _decide(
    run, stage, [("simhash_dedup", "simhash_dedup", params)], 0,
    [SimpleNamespace(index=i) for i in range(n)], 0, False, executor, 1,
)
executor.close()
print(json.dumps(summary))
"""


def collect_sample(where: Path, params: dict | None = None) -> Path:
    """The sample's collect files for simhash_dedup (one per shard), from a real run."""
    body = {
        "name": "scale-simhash",
        "input": str(ROOT / "sample_corpus" / "dump=*"),
        "output": str(where / "out"),
        "stages": [{"simhash_dedup": params or PARAMS}],
    }
    where.mkdir(parents=True, exist_ok=True)
    path = where / "collect.yaml"
    path.write_text(yaml.safe_dump(body))
    cmd = [sys.executable, "-m", "curate.cli", "run", str(path), "--workers", "2", "--keep-work"]
    subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
    return where / "out" / "_work" / "pass-0" / "collect"


def _fmix64(x: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(33))
        x = x * np.uint64(0xFF51AFD7ED558CCD)
        x = x ^ (x >> np.uint64(33))
        x = x * np.uint64(0xC4CEB93FE53A87CB)
        return x ^ (x >> np.uint64(33))


def ladder(collect: Path, run: Path, copies: int) -> tuple[int, int]:
    """``copies`` x the collected keys as a run directory's pass-0 collect files; returns
    (shards, documents)."""
    out = run / "_work" / "pass-0" / "collect"
    out.mkdir(parents=True)
    sources = sorted(collect.glob("part-*.parquet"))
    shard = docs = 0
    for k in range(copies):
        for src in sources:
            table = pq.read_table(src)
            if k:
                fps = table.column("simhash").combine_chunks()
                flat = fps.values.to_numpy()
                place = np.arange(len(flat), dtype=np.uint64)
                swap = (_fmix64(place * GOLDEN + np.uint64(k)) & np.uint64(1)).astype(bool)
                salt = np.uint64((k * int(GOLDEN)) % 2**64)
                new = np.where(swap, _fmix64(flat ^ salt), flat)
                lists = pa.ListArray.from_arrays(fps.offsets, pa.array(new, pa.uint64()))
                table = table.set_column(table.schema.get_field_index("simhash"), "simhash", lists)
                ids = pc.binary_join_element_wise(table.column("id"), f"r{k}", "~")
                table = table.set_column(table.schema.get_field_index("id"), "id", ids)
            table = table.set_column(0, table.schema.field(0), pa.array(
                [shard] * table.num_rows, pa.int32()))  # fmt: skip
            pq.write_table(table, out / f"part-{shard:05d}.parquet")
            shard += 1
            docs += table.num_rows
    return shard, docs


def measured(
    code: Path, run: Path, shards: int, params: dict | None = None
) -> tuple[float, float, float, dict]:
    """Seconds, driver peak MB, largest worker peak MB, the summary."""
    shutil.rmtree(run / "_work" / "decisions", ignore_errors=True)
    cmd = [sys.executable, "-c", DRIVER, str(run), str(shards), json.dumps(params or PARAMS)]
    env = {"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"}
    with tempfile.TemporaryFile(mode="w+") as log, tempfile.TemporaryFile(mode="w+") as err:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=code, stdout=log, stderr=err, env=env, text=True)
        peaks = watch(proc, 0.05)
        seconds = time.perf_counter() - t
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(err.read()[-3000:])
        log.seek(0)
        summary = json.loads(log.read().strip().splitlines()[-1])
    return seconds, peaks.driver, peaks.worker, summary


def decisions(run: Path) -> dict[str, pa.Table]:
    folder = run / "_work" / "decisions" / "simhash_dedup"
    return {p.name: pq.read_table(p) for p in sorted(folder.glob("part-*.parquet"))}


def section(sizes: tuple[int, ...] = (1, 4, 10)) -> str:
    tmp = Path(tempfile.mkdtemp(prefix="curate-scale-simhash-"))
    rows = []
    try:
        old = export(BEFORE, tmp / "before")
        collect = collect_sample(tmp / "sample")
        for n in sizes:
            run = tmp / f"x{n}"
            shards, docs = ladder(collect, run, n)
            then = measured(old, run, shards)
            before = decisions(run)
            now = measured(ROOT, run, shards)
            after = decisions(run)
            same = {k: v for k, v in now[3].items() if k != "seconds"}
            assert same == {k: v for k, v in then[3].items() if k != "seconds"}, n
            assert before.keys() == after.keys() and all(before[k].equals(after[k]) for k in before)
            rows.append((n, docs, shards, now, then, len(after)))
            shutil.rmtree(run, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        "### simhash_dedup's barrier on a size ladder",
        "",
        "Command: `python benchmarks/run.py --only scale_keyed` (benchmarks/scale_simhash.py: the "
        f"sample's real collected keys replicated, half of each replica's units re-fingerprinted; "
        f"the barrier alone, `{json.dumps(PARAMS)}`, no index, local pool of 2 workers). Before = "
        f"{BEFORE} (the driver held each document's id, dump, date, domain, survival rank, unit "
        "offset and counts, and one bit per unit), on the same files; same summary and "
        "byte-equal decision tables asserted. Driver = peak RSS of the process that runs the "
        "barrier (the runner's `_decide`), worker = largest pool worker.",
        "",
        "| corpus | documents | shards | units | units cut | decision files | wall s (before) | "
        "driver peak MB (before) | largest worker MB (before) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for n, docs, shards, now, then, files in rows:
        s = now[3]
        lines.append(
            f"| {n}x | {docs:,} | {shards} | {s['units']:,} | {s['units_removed']:,} | {files} | "
            f"{now[0]:,.0f} ({then[0]:,.0f}) | {now[1]:,.0f} ({then[1]:,.0f}) | "
            f"{now[2]:,.0f} ({then[2]:,.0f}) |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sizes = tuple(int(a) for a in sys.argv[1:]) or (1, 4, 10)
    print(section(sizes))
