"""Bytes simhash_dedup (method simhash) reads from its index per barrier, dump by dump through
the sample's 4 dumps into a fresh index, with ``partitions:`` P (2^bits search partitions per
permuted table), in process (curate.in_memory, 4 shards per dump); prints JSON per P and dump:
documents, index bytes read, units removed, pairs, run fingerprints near a committed one.

    PYTHONPATH=CODE python benchmarks/simhash_index_bytes.py CODE 1,16

(CODE: the checkout to measure, e.g. a ``git archive`` of an older commit; the sample corpus
is read from CODE/sample_corpus.)
"""

from __future__ import annotations

import glob
import json
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curate.in_memory import run_in_memory
from curate.stages.simhash_dedup import SimhashDedup, SimhashDedupConfig


def main() -> None:
    root = Path(sys.argv[1])
    out = {}
    dumps = sorted(glob.glob(str(root / "sample_corpus" / "dump=*")))
    for p in [int(x) for x in sys.argv[2].split(",")]:
        index = tempfile.mkdtemp(prefix="simhash-index-bytes-")
        rows = []
        for d in dumps:
            table = pa.concat_tables(pq.read_table(f) for f in sorted(glob.glob(d + "/*.parquet")))
            name = d.split("=")[-1]
            if "dump" not in table.column_names:
                table = table.append_column("dump", pa.array([name] * table.num_rows))
            keep = [c for c in ("id", "text", "url", "date", "dump") if c in table.column_names]
            table = table.select(keep)
            n = table.num_rows
            parts = [table.slice(s * n // 4, (s + 1) * n // 4 - s * n // 4) for s in range(4)]
            stage = SimhashDedup(SimhashDedupConfig(index=index))
            t = time.perf_counter()
            s = run_in_memory(stage, parts, partitions=p).summary
            rows.append(
                {
                    "dump": name,
                    "docs": n,
                    "bytes_read": s["index"]["bytes_read"],
                    "units_removed": s["units_removed"],
                    "pairs": s["near_duplicate_pairs"],
                    "near_committed": s["near_committed_fingerprints"],
                    "seconds": round(time.perf_counter() - t, 1),
                }
            )
        out[p] = rows
    print(json.dumps(out))


if __name__ == "__main__":
    main()
