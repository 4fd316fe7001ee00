"""Exchange: what a reduce task reads from one map file to get its partition, Parquet with one
row group per partition (`write_partitioned`, how keyed barriers' map files were written before)
against one segment per partition (`write_segments`, today).

One map file of 5,000 collected url_dedup rows (the columns a keyed barrier collects) cut into
P = 16, 256 and 1,000 partitions, copied to 100 files; `read_partition` of the first, middle and
last partition over the 100 files. Bytes are the kernel's count of bytes the process read
(`rchar`); a keyed barrier's reduce tasks together do this S x P times (S map files, P reduce
tasks).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from curate.shuffle import read_partition, write_partitioned, write_segments  # noqa: E402


def _rchar() -> int:
    with open("/proc/self/io", "rb", buffering=0) as f:
        return int(f.read(4096).split(b"rchar:")[1].split()[0])


def run(quick: bool = False) -> str:
    n, files = 5_000, 20 if quick else 100
    rng = np.random.default_rng(0)
    table = pa.table(
        {
            "_shard": pa.array(np.zeros(n, np.int32)),
            "_row": pa.array(np.arange(n)),
            "id": pa.array([f"<urn:uuid:{i:032d}>" for i in range(n)]),
            "dump": pa.array(["CC-MAIN-2023-06"] * n),
            "date": pa.array(["2023-01-01T00:00:00Z"] * n),
            "length": pa.array(rng.integers(0, 9_999, n)),
            "key": pa.array(rng.integers(0, 2**63, n, dtype=np.uint64)),
            "malformed": pa.array(np.zeros(n, bool)),
        }
    )
    tmp = Path(tempfile.mkdtemp(prefix="curate-exchange-"))
    lines = [
        "## Exchange: bytes a reduce task reads per map file",
        "",
        "Command: `python benchmarks/run.py --only exchange` (one map file of 5,000 collected "
        f"url_dedup rows cut into P partitions, {files} copies; `read_partition` of the first, "
        "middle and last partition; per map file and partition: bytes read (`rchar`) and "
        "time). Before: Parquet with one row group per partition (every reader parses the "
        "whole footer, ~870 B per partition); now: one segment per partition and an offset table.",
        "",
        "| partitions | row groups: KB read | ms | segments: KB read | ms |",
        "|---|---|---|---|---|",
    ]
    try:
        for parts in (16, 256, 1_000):
            found = []
            for name, write in (("rg", write_partitioned), ("seg", write_segments)):
                paths = [tmp / f"{name}{parts}-{k}.parquet" for k in range(files)]
                write(paths[0], table, np.arange(n) % parts)
                for path in paths[1:]:
                    shutil.copyfile(paths[0], path)
                r0, t0 = _rchar(), time.perf_counter()
                rows = sum(read_partition(paths, p).num_rows for p in (0, parts // 2, parts - 1))
                reads = 3 * files
                found.append(((_rchar() - r0) / reads, (time.perf_counter() - t0) / reads, rows))
            assert found[0][2] == found[1][2]
            (b0, s0, _), (b1, s1, _) = found
            lines.append(
                f"| {parts:,} | {b0 / 1024:,.1f} | {s0 * 1e3:.2f} | {b1 / 1024:,.1f} | "
                f"{s1 * 1e3:.2f} |"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
