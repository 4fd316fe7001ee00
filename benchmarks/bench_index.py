"""Index: a url_dedup barrier against a cross-dump index of 1, 4 and 8 committed dumps, with the
index code of this checkout ("after") and of the commit before the streaming store ("before",
d930796, exported with `git archive`), in the same run, each on an index of the same dumps
committed by its own code (index format 2 lists pieces in a manifest; format 1 is refused).

Each committed dump has D documents with 47-character ids (`<urn:uuid:...>`, as in Common Crawl):
half their URLs from a shared pool of 4 D pages (so dumps repeat each other), half their own. The
probe dump (D documents, the same mix) is deduplicated against the index by `UrlDedup.decide`
(the whole barrier: plan, lookups, ids of the survivors, commit of the probe; "after" runs the
barrier's tasks in the process, through their files, so its `rchar` counts those too) in a fresh
Python
process per measurement, on a fresh copy of the index. Reported per measurement: bytes the process
read while deciding (the kernel's `rchar`, so both versions are measured alike; "after" also
reports `index.bytes_read`, counted by the store), peak RSS of the process minus its RSS just
before the barrier (the collected keys are already in memory then), and the wall time. Both
versions must remove the same rows with the same `duplicate_of`: the run fails otherwise.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import export  # noqa: E402

BEFORE = "d930796"  # main before the streaming index store
SIZES = (1, 4, 8)

CHILD = r"""
import hashlib, json, resource, sys, time
import psutil, pyarrow as pa, pyarrow.parquet as pq
import curate
from curate.stages.url_dedup import UrlDedup, UrlDedupConfig
assert curate.__file__.startswith(sys.argv[3]), curate.__file__

def rchar():
    with open("/proc/self/io", "rb", buffering=0) as f:
        return int(f.read(4096).split(b"rchar:")[1].split()[0])

collected = pq.read_table(sys.argv[1])
stage = UrlDedup(UrlDedupConfig(index=sys.argv[2]))
rss = psutil.Process().memory_info().rss
r0, t0 = rchar(), time.perf_counter()
decision, summary = stage.decide(collected)
seconds, read = time.perf_counter() - t0, rchar() - r0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
digest = hashlib.sha256()
for shard in sorted(decision):
    t = decision[shard]
    digest.update(json.dumps([shard, t.column("_row").to_pylist(),
                              t.column("duplicate_of").to_pylist()]).encode())
print(json.dumps({"seconds": seconds, "rchar": read, "rss_before": rss, "peak": peak,
                  "bytes_read": summary["index"].get("bytes_read"),
                  "duplicates": summary["duplicates"],
                  "of_committed": summary["duplicates_of_committed_dumps"],
                  "digest": digest.hexdigest()}))
"""


def _dump_rows(name: str, docs: int, pool: int, rng: np.random.Generator) -> pa.RecordBatch:
    shared = rng.integers(0, pool, docs // 2)
    urls = [f"https://site{p % 997}.example.com/page/{p}?utm_source=feed" for p in shared]
    urls += [f"https://{name}.example.net/only/{i}" for i in range(docs - len(urls))]
    ids = [f"<urn:uuid:{uuid.UUID(int=int(x))}>" for x in rng.integers(0, 2**63, docs)]
    return pa.RecordBatch.from_pydict(
        {
            "_row": pa.array(np.arange(docs), pa.int64()),
            "id": ids,
            "url": urls,
            "text": ["x"] * docs,
            "dump": [name] * docs,
            "date": ["2024-01-01"] * docs,
        }
    )


def _collected(batch: pa.RecordBatch) -> pa.Table:
    from curate.stages.url_dedup import UrlDedup, UrlDedupConfig

    keys = UrlDedup(UrlDedupConfig()).collect(batch)
    return keys.add_column(0, "_shard", pa.array(np.zeros(keys.num_rows, np.int32)))


def _child(code: Path, collected: Path, index: Path) -> dict:
    env = {"PYTHONPATH": str(code), "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(collected), str(index), str(code)],
        env=env,
        cwd=collected.parent,  # not the checkout: `-c` puts the working folder first on the path
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode:
        raise RuntimeError(f"bench_index child failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(quick: bool = False) -> str:
    docs = 50_000 if quick else 300_000
    rng = np.random.default_rng(11)
    with tempfile.TemporaryDirectory(prefix="bench_index_") as tmp:
        tmp = Path(tmp)
        old = export(BEFORE, tmp / "before", "curate")
        # the same dumps committed by each version's code (index formats differ: 2 lists
        # pieces in a manifest); snapshots after 1, 4 and 8 dumps
        for k in range(1, max(SIZES) + 1):
            dump = tmp / f"dump-{k}.parquet"
            pq.write_table(_collected(_dump_rows(f"CC-{k:02d}", docs, 4 * docs, rng)), dump)
            for label, code in (("before", old), ("after", ROOT)):
                _child(code, dump, tmp / f"index-{label}")
                if k in SIZES:
                    shutil.copytree(tmp / f"index-{label}", tmp / f"index-{label}-{k}")
        probe = tmp / "probe.parquet"
        pq.write_table(_collected(_dump_rows("CC-probe", docs, 4 * docs, rng)), probe)
        rows, results = [], {}
        for k in SIZES:
            for label, code in (("before", old), ("after", ROOT)):
                built = tmp / f"index-{label}-{k}"
                size = sum(f.stat().st_size for f in built.rglob("*") if f.is_file())
                scratch = tmp / f"scratch-{label}-{k}"
                shutil.copytree(built, scratch)
                r = _child(code, probe, scratch)
                shutil.rmtree(scratch)
                results[label, k] = r
                rows.append(
                    f"| {k} | {size / 2**20:.1f} | {label} | {r['rchar'] / 2**20:.2f} | "
                    + (f"{r['bytes_read'] / 2**20:.2f}" if r["bytes_read"] is not None else "-")
                    + f" | {(r['peak'] - r['rss_before']) / 2**20:.0f} | "
                    f"{r['peak'] / 2**20:.0f} | {r['seconds']:.2f} | {r['of_committed']:,} |"
                )
            if results["before", k]["digest"] != results["after", k]["digest"]:
                raise AssertionError(f"{k} dumps: before and after removed different rows")
        lo, hi = min(SIZES), max(SIZES)
        growth = []
        for label in ("before", "after"):
            a, z = results[label, lo], results[label, hi]
            rss = ((z["peak"] - z["rss_before"]) - (a["peak"] - a["rss_before"])) / (hi - lo)
            growth.append(
                f"`{label}`: {(z['rchar'] - a['rchar']) / (hi - lo) / 2**20:.2f} MiB read and "
                f"{rss / 2**20:+.0f} MiB of barrier RSS per committed dump added"
            )
    return "\n".join(
        [
            "## Index: url_dedup barrier against 1, 4 and 8 committed dumps",
            "",
            f"Each committed dump and the probe dump: {docs:,} documents (half their URLs from a "
            f"shared pool of {4 * docs:,} pages). `before` = index code of {BEFORE} (whole "
            "partitions read, every referenced dump's docs table cached), `after` = this checkout "
            "(row groups, no caches, the barrier as tasks in the process). The same dumps "
            "committed by each version's code, same probe, a fresh process and index copy "
            "per line; both versions removed the same rows with the same `duplicate_of` (checked). "
            "Read = the process's `rchar` during `decide` (after: with the barrier's own work "
            "files); `index.bytes_read` = the store's own "
            "count; barrier RSS = peak minus RSS before the barrier.",
            "",
            "| dumps | index MiB | code | read MiB (rchar) | index.bytes_read MiB | "
            "barrier RSS MiB | peak RSS MiB | decide s | duplicates of committed |",
            "|---|---|---|---|---|---|---|---|---|",
            *rows,
            "",
            f"From {lo} to {hi} dumps: {'; '.join(growth)}. The reads grow with the dumps in both: "
            "half the probe's URLs are in no dump, so every row group of every dump holds a key "
            "still unfound (a dense probe; a sparse one skips row groups, tests/index).",
            "",
            "Command: `PYTHONPATH=$PWD .venv/bin/python benchmarks/run.py --only index`.",
        ]
    )


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
