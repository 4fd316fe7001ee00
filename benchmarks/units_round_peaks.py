"""Per-round task memory of simhash_dedup's barrier (method minhash, curate.dedup.units) over a
run's collect files: every task in a fresh process (forked from a forkserver that has imported
curate, two at a time) that reports its peak RSS, as benchmarks/minhash_round_peaks.py does for
the MinHash barrier. So each round's largest task is measured apart from what a pool worker kept.

    cd /tmp && PYTHONPATH=CODE python CODE/benchmarks/units_round_peaks.py WHERE [SHARDS]

WHERE holds `collect/part-*.parquet`: the simhash_dedup collect files of a run kept with
`--keep-work` (`_work/pass-K/collect`, K the pass that collects simhash_dedup; e.g. a hard-linked
copy of the soak ladder's); SHARDS: only the first so many. Run it from outside a checkout: the
forked tasks import curate from the working directory first. Prints one JSON line: per round the
tasks, the largest task's peak RSS and growth (MB), the MB its tasks read and wrote, and the
barrier's units, candidate pairs and clusters (to compare two commits' decisions).
"""

from __future__ import annotations

import functools
import json
import multiprocessing as mp
import shutil
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from minhash_round_peaks import add, label_of, measured  # noqa: E402


def main(where: Path, shards: int | None = None) -> dict[str, Any]:
    from curate.collected import CollectedFiles
    from curate.stages.base import make_stage

    paths = sorted((where / "collect").glob("part-*.parquet"))[:shards]
    for name in ("scratch", "decisions"):
        shutil.rmtree(where / name, ignore_errors=True)
        (where / name).mkdir()
    collected = CollectedFiles(paths, where / "scratch", where / "decisions", 1)
    stage = make_stage("simhash_dedup", {"level": "sentence"}, str(where))
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["curate.dedup.units", "curate.stages.simhash_dedup"])
    rounds: dict[str, dict[str, float]] = {}

    def run(fn: Any, tasks: list[Any], **_: Any) -> list[Any]:
        out = []
        with ctx.Pool(2, maxtasksperchild=1) as pool:
            peaks = pool.imap(functools.partial(measured, fn), tasks, chunksize=1)
            for task, (result, peak) in zip(tasks, peaks):
                add(rounds, label_of(fn, task), peak)
                out.append(result)
        return out

    t = time.perf_counter()
    _, summary = stage.barrier(collected, run)
    return {
        "documents": collected.num_rows,
        "seconds": round(time.perf_counter() - t),
        "rounds": {k: {x: round(y) for x, y in r.items()} for k, r in rounds.items()},
        **{k: summary.get(k) for k in ("units", "candidate_pairs", "clusters", "partitions")},
    }


if __name__ == "__main__":
    args = sys.argv[1:]
    print(json.dumps(main(Path(args[0]), int(args[1]) if len(args) > 1 else None)))
