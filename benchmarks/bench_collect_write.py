"""Writing collected keys: the runner's Parquet writer (`AtomicParquetWriter`, dictionary
encoding only where `curate.io.dictionary_columns` says it pays) against the same writer with
dictionary encoding on every column (pyarrow's default, what it wrote before).

The keys are minhash_dedup's (verify: exact: row, id, dump, date, length, 14 band keys and the
shingle-hash lists) of the whole sample corpus (24,000 documents), collected in 4,096-row
batches, written as one shard's collect file; best of 3 writes each, the files read back equal.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from curate import io  # noqa: E402
from curate.stages.base import ROW, make_stage  # noqa: E402


def _keys(quick: bool) -> list[pa.Table]:
    files = sorted((ROOT / "sample_corpus").glob("dump=*/*.parquet"))
    docs = pa.concat_tables(pq.read_table(f) for f in files[: 3 if quick else None])
    docs = docs.append_column(ROW, pa.array(np.arange(docs.num_rows, dtype=np.int64)))
    stage = make_stage("minhash_dedup", {"verify": "exact"}, "bench")
    return [stage.collect(b) for b in docs.to_batches(max_chunksize=4096)]


def _write(parts: list[pa.Table], path: Path) -> float:
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        writer = io.AtomicParquetWriter(path)
        for part in parts:
            writer.write(part)
        writer.close()
        best = min(best, time.perf_counter() - t)
    assert pq.read_table(path).equals(pa.concat_tables(parts))
    return best


def run(quick: bool = False) -> str:
    parts = _keys(quick)
    rows = sum(p.num_rows for p in parts)
    shingles = sum(len(p.column("shingles").combine_chunks().flatten()) for p in parts)
    chosen = io.dictionary_columns
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, pick in (
            ("dictionary where it pays (today)", chosen),
            ("dictionary on every column", lambda schema: True),
        ):
            io.dictionary_columns = pick
            try:
                path = Path(tmp) / "part-00000.parquet"
                results[name] = (_write(parts, path), path.stat().st_size)
            finally:
                io.dictionary_columns = chosen
    lines = [
        "## Writing collected keys: dictionary encoding",
        "",
        f"minhash_dedup's collected keys (verify: exact) of {rows:,} documents ({shingles:,} "
        "shingle hashes) written as one collect file by `AtomicParquetWriter` (zstd, page "
        "CRCs), best of 3; `python benchmarks/run.py --only collect_write`.",
        "",
        "| dictionary encoding | write s | file MiB |",
        "|---|---:|---:|",
    ]
    for name, (seconds, size) in results.items():
        lines.append(f"| {name} | {seconds:.3f} | {size / 2**20:.1f} |")
    return "\n".join(lines)
