"""Bytes a barrier with ``index:`` reads from its index, dump by dump through the sample's 4
dumps into a fresh index, with ``partitions:`` P, in process (the runner's collect files, 4
shards per dump, tasks run here); prints JSON per P and dump: documents, index bytes read,
duplicates (of committed dumps), seconds and a digest of the decision files (shard, row,
duplicate_of and, for minhash_dedup, cluster of every row they name). STAGE: minhash_dedup
(the default; its partitioned barrier, curate.dedup.lsh_barrier) or url_dedup (its keyed
barrier, curate.index.keyed).

    PYTHONPATH=CODE python benchmarks/minhash_index_bytes.py CODE 1,8 [STAGE]

(CODE: the checkout to measure, e.g. a ``git archive`` of an older commit; the sample corpus
is read from CODE/sample_corpus.)
"""

from __future__ import annotations

import glob
import hashlib
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curate.collected import CollectedFiles, run_here
from curate.pipeline import decide_keyed_here
from curate.stages.base import ROW, SHARD
from curate.stages.minhash_dedup import MinHashDedup, MinHashDedupConfig
from curate.stages.url_dedup import UrlDedup, UrlDedupConfig

SHARDS = 4


def barrier(stage: Any, table: pa.Table, where: Path, partitions: int) -> tuple:
    """The runner's collect files of ``table`` in SHARDS shards, then the barrier."""
    collect = where / "collect"
    collect.mkdir(parents=True)
    n, paths, shards = table.num_rows, [], []
    for s in range(SHARDS):
        part = table.slice(s * n // SHARDS, (s + 1) * n // SHARDS - s * n // SHARDS)
        rows = part.append_column(ROW, pa.array(range(part.num_rows), pa.int64()))
        keys = stage.collect(rows.combine_chunks().to_batches()[0])  # one batch, as a shard's
        keys = keys.add_column(0, SHARD, pa.array([s] * keys.num_rows, pa.int32()))
        paths.append(collect / f"part-{s:05d}.parquet")
        pq.write_table(keys, paths[-1])
        shards.append(keys)
    decisions = where / "decisions"
    columns = [ROW, "duplicate_of"]
    if isinstance(stage, UrlDedup):  # a keyed barrier: the keys written partitioned by key
        decision, summary = decide_keyed_here(stage, pa.concat_tables(shards), partitions)
        decisions.mkdir()
        for s, t in decision.items():
            pq.write_table(t, decisions / f"part-{s:05d}.parquet")
    else:
        collected = CollectedFiles(paths, where / "scratch", decisions, partitions)
        _, summary = stage.barrier(collected, run_here)
        columns.append("cluster")
    digest = hashlib.sha256()
    for f in sorted(decisions.glob("part-*.parquet")):
        t = pq.read_table(f, columns=columns).sort_by(ROW)
        digest.update(f.name.encode() + json.dumps(t.to_pydict(), sort_keys=True).encode())
    return summary, digest.hexdigest()[:16]


def main() -> None:
    root = Path(sys.argv[1])
    make = {
        "minhash_dedup": lambda **c: MinHashDedup(MinHashDedupConfig(**c)),
        "url_dedup": lambda **c: UrlDedup(UrlDedupConfig(**c)),
    }[sys.argv[3] if len(sys.argv) > 3 else "minhash_dedup"]
    out = {}
    dumps = sorted(glob.glob(str(root / "sample_corpus" / "dump=*")))
    for p in [int(x) for x in sys.argv[2].split(",")]:
        tmp = Path(tempfile.mkdtemp(prefix="minhash-index-bytes-"))
        rows = []
        try:
            for k, d in enumerate(dumps):
                table = pa.concat_tables(
                    pq.read_table(f) for f in sorted(glob.glob(d + "/*.parquet"))
                )
                name = d.split("=")[-1]
                if "dump" not in table.column_names:
                    table = table.append_column("dump", pa.array([name] * table.num_rows))
                keep = [c for c in ("id", "text", "url", "date", "dump") if c in table.column_names]
                stage = make(index=str(tmp / "index"))
                t = time.perf_counter()
                s, digest = barrier(stage, table.select(keep), tmp / f"d{k}", p)
                rows.append(
                    {
                        "dump": name,
                        "docs": table.num_rows,
                        "bytes_read": s["index"]["bytes_read"],
                        "duplicates": s["duplicates"],
                        "of_committed": s["duplicates_of_committed_dumps"],
                        "seconds": round(time.perf_counter() - t, 1),
                        "decisions": digest,
                    }
                )
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        out[p] = rows
    print(json.dumps(out))


if __name__ == "__main__":
    main()
