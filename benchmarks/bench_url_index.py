"""URL index: `url_dedup` with `index:` over two dumps on a size ladder, today vs before #17's
partitioned index barrier.

The sample replicated 1x, 4x and 10x (soak.py's replicas), cut in two: run 1 takes dumps
CC-MAIN-2023-06 and -14 and commits them to a fresh index; run 2 takes -23 and -40 and is
deduplicated against them (then commits them). Both with `--workers 2`. "before" is 46b8b62
(the index barrier decided in the driver over every row: ordinals, lookups, commit), exported
with `git archive` and run from the same interpreter on the same files. Reported per run: driver
peak RSS (sampled every 0.1 s), the largest worker's, wall time, and the bytes run 2's barrier
read from the index (`index.bytes_read` of the summary). The two versions must remove the same
rows with the same `duplicate_of` (asserted).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_scale_keyed import measured_cmd  # noqa: E402
from common import export  # noqa: E402
from soak import replicate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "46b8b62"  # main before the partitioned index barrier
HALVES = (("CC-MAIN-2023-06", "CC-MAIN-2023-14"), ("CC-MAIN-2023-23", "CC-MAIN-2023-40"))


def pipeline(where: Path, half: int, index: Path) -> Path:
    body = {
        "name": "url-index",
        "input": str(where / f"in{half}"),
        "output": str(where / f"out{half}"),
        "stages": [{"url_dedup": {"keep": "earliest", "index": str(index)}}],
    }
    path = where / f"run{half}.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def removed(out: Path) -> list:
    rows = []
    for f in sorted((out / "removed" / "url_dedup").glob("*.parquet")):
        t = pq.read_table(f, columns=["id", "duplicate_of"])
        rows += zip(t["id"].to_pylist(), t["duplicate_of"].to_pylist())
    return sorted(rows)


def two_runs(where: Path, code: Path, tag: str) -> list[tuple]:
    index = where / f"index-{tag}"
    shutil.rmtree(index, ignore_errors=True)
    out = []
    for half in (0, 1):
        shutil.rmtree(where / f"out{half}", ignore_errors=True)
        seconds, driver, worker, report = measured_cmd(pipeline(where, half, index), code)
        read = report["stages"][0]["decision"]["index"]["bytes_read"]
        out.append((seconds, driver, worker, read, removed(where / f"out{half}")))
    return out


def run(quick: bool = False) -> str:
    sizes = (1, 2) if quick else (1, 4, 10)
    tmp = Path(tempfile.mkdtemp(prefix="curate-url-index-"))
    rows = []
    try:
        old = export(BEFORE, tmp / "src")
        for n in sizes:
            where = tmp / f"x{n}"
            docs = 0
            for half, dumps in enumerate(HALVES):  # in0/dump=A, in0/dump=B; in1/...
                src = where / f"src{half}"
                src.mkdir(parents=True)
                for d in dumps:
                    (src / f"dump={d}").symlink_to(ROOT / "sample_corpus" / f"dump={d}")
                docs += replicate(src, where / f"in{half}", n)
            then = two_runs(where, old, "before")
            now = two_runs(where, ROOT, "after")
            for a, b in zip(now, then):
                assert a[4] == b[4], f"{n}x: removed rows differ"
            rows.append((n, docs, now, then))
            shutil.rmtree(where, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    lines = [
        "## URL index: url_dedup with `index:` over two dumps, size ladder",
        "",
        "Command: `python benchmarks/run.py --only url_index` (the sample replicated as in the "
        "soak section, cut in two: run 1 = dumps 2023-06 + 2023-14 into a fresh index, run 2 = "
        "2023-23 + 2023-40 against it; `url_dedup` only, `--workers 2`, default partitions). "
        f"'before' = {BEFORE} (the index barrier in the driver), same files, same run; the same "
        "removed ids and `duplicate_of` asserted. Driver / worker = peak RSS MB; index read = "
        "bytes run 2's barrier read from the index.",
        "",
        "| corpus | documents | run | wall s (before) | driver peak MB (before) | "
        "largest worker MB (before) | index read KB (before) | removed |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n, docs, now, then in rows:
        for half in (0, 1):
            a, b = now[half], then[half]
            lines.append(
                f"| {n}x | {docs:,} | {half + 1} | {a[0]:,.1f} ({b[0]:,.1f}) | "
                f"{a[1]:,.0f} ({b[1]:,.0f}) | {a[2]:,.0f} ({b[2]:,.0f}) | "
                f"{a[3] / 1024:,.0f} ({b[3] / 1024:,.0f}) | {len(a[4]):,} |"
            )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
