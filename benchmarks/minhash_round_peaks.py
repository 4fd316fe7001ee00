"""Per-round task memory of minhash_dedup's barrier with `index:`: the pipeline of
benchmarks/minhash_barrier_rss.py (`url_dedup` + `minhash_dedup`, both with `index:`, the sample
replicated N x) run in this process on the local pool, except that every task of the minhash
barrier runs alone in a fresh process (forked from a forkserver that has imported curate, two
at a time) that reports its peak RSS. So each round's largest task is measured apart from what
a pool worker kept from the tasks before it. Per round: tasks, the largest task's peak RSS (MB,
the worker's whole RSS, interpreter and imports included), the largest growth over the RSS the
task started with, Arrow's pool peak, the memory the round declared per task, and the bytes its
tasks read and wrote together (/proc/self/io rchar and wchar: page-cache hits included).

    PYTHONPATH=$PWD python benchmarks/minhash_round_peaks.py N WHERE [TASK_BYTES_MiB] [--pool]
        [--barrier url_dedup] [--partitions K]

``--pool``: the barrier's rounds on the local pool instead, as a run has them (workers reused
across a round's tasks), each round's largest worker RSS sampled every 0.05 s (no growth,
Arrow or bytes then); ``--pool-all``: every map of the run so, the passes and the URL barrier
too, each named by its progress label.

``--barrier url_dedup``: the run stops after url_dedup, whose barrier's tasks are the ones
measured (each alone, or on the pool with ``--pool``); ``--partitions K``: the pipeline's
``partitions`` (default: from the input's size).

WHERE: a scratch folder (its `in` is made once and reused). TASK_BYTES_MiB: the barrier's
budget per task (curate.dedup.lsh_barrier.TASK_BYTES, default 64).
"""

from __future__ import annotations

import functools
import json
import multiprocessing as mp
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from minhash_barrier_rss import barrier_pipeline  # noqa: E402

MB = 2**20


def label_of(fn: Callable[[Any], Any], task: Any) -> str:
    """A round's name: the task function's (the barrier's rounds are ``(fn, plan, i)`` tasks)."""
    if isinstance(task, tuple) and task and callable(task[0]):
        fn = task[0]
    step = ""
    while isinstance(fn, functools.partial):
        step = fn.args[0] if fn.args and isinstance(fn.args[0], str) else step
        fn = fn.func
    name = getattr(fn, "__name__", type(fn).__name__)
    if name == "_task":  # curate.dedup.components' rounds
        name = "components"
    return f"{name} {step}" if step.isidentifier() else name


def measured(fn: Callable[[Any], Any], task: Any) -> tuple[Any, dict[str, float]]:
    import resource

    import numpy as np
    import pyarrow as pa

    def rss() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * resource.getpagesize()

    def io() -> tuple[int, int]:  # bytes through read and write system calls (page cache too)
        with open("/proc/self/io") as f:
            got = dict(line.split(": ") for line in f.read().splitlines())
        return int(got["rchar"]), int(got["wchar"])

    pa.array(np.zeros(1))  # pyarrow's first conversion imports pandas: a library, not the task
    start, arrow, (read, written) = rss(), pa.default_memory_pool().max_memory(), io()
    out = fn(task)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    read_after, written_after = io()
    return out, {
        "peak": peak / MB,
        "growth": max(peak - start, 0) / MB,
        "arrow": (pa.default_memory_pool().max_memory() - arrow) / MB,
        "read": (read_after - read) / MB,
        "written": (written_after - written) / MB,
    }


def add(rounds: dict[str, dict[str, float]], name: str, peak: dict[str, float]) -> dict:
    """Fold one task's figures into its round's: the largest peaks, the summed bytes."""
    r = rounds.setdefault(name, {"tasks": 0, "peak": 0, "growth": 0, "arrow": 0})
    r["tasks"] += 1
    for k in ("peak", "growth", "arrow"):
        r[k] = max(r[k], peak[k])
    for k in ("read", "written"):
        r[k] = r.get(k, 0) + peak[k]
    return r


class RoundPeaks:
    """An executor: the barrier's tasks ("minhash_dedup decide") each in a fresh process, the
    rest on a LocalExecutor."""

    name = "local"

    def __init__(
        self, workers: int = 2, pool: bool | str = False, barrier: str = "minhash_dedup"
    ) -> None:
        from curate.executors.local import LocalExecutor

        self.local = LocalExecutor(workers)
        self.pool = pool
        self.barrier = barrier
        self.workers = workers
        self.rounds: dict[str, dict[str, float]] = {}
        self.order: list[str] = []
        self._ctx = mp.get_context("forkserver")
        self._ctx.set_forkserver_preload(
            ["curate.dedup.lsh_barrier", "curate.stages.minhash_dedup", "curate.index.keyed"]
        )

    def map(
        self,
        fn: Callable[[Any], Any],
        tasks: Sequence[Any],
        desc: str = "",
        memory: int | None = None,
        cpus: float = 1,
    ) -> Iterator[Any]:
        if not tasks:
            return
        if self.pool == "all":  # every map of the run, passes and both barriers
            yield from self._in_pool(fn, tasks, desc, memory, cpus)
            return
        if not desc.startswith(f"{self.barrier} "):
            yield from self.local.map(fn, tasks, desc, memory, cpus)
            return
        if self.pool:
            yield from self._in_pool(fn, tasks, desc, memory, cpus)
            return
        with self._ctx.Pool(self.workers, maxtasksperchild=1) as pool:
            for task, (out, peak) in zip(
                tasks, pool.imap(functools.partial(measured, fn), tasks, chunksize=1)
            ):
                name = label_of(fn, task)
                if name not in self.rounds:
                    self.order.append(name)
                r = add(self.rounds, name, peak)
                r["declared"] = max(r.get("declared", 0), (memory or 0) / MB)
                yield out

    def _in_pool(
        self, fn: Callable[[Any], Any], tasks: Sequence[Any], desc: str, memory: Any, cpus: float
    ) -> Iterator[Any]:
        """``--pool``: the round on the local pool as a run has it (workers reused across its
        tasks and kept between rounds that declare little), its workers' largest RSS sampled
        every 0.05 s."""
        import threading

        import psutil

        name = label_of(fn, tasks[0])
        if self.pool == "all":
            name = f"{desc}: {name}"
        if name not in self.rounds:
            self.order.append(name)
        r = self.rounds.setdefault(name, {"tasks": 0, "peak": 0, "growth": 0, "arrow": 0})
        r["declared"] = max(r.get("declared", 0), (memory or 0) / MB)
        me, stop = psutil.Process(), threading.Event()

        def sample() -> None:
            while not stop.is_set():
                for child in me.children(recursive=True):
                    try:
                        r["peak"] = max(r["peak"], child.memory_info().rss / MB)
                    except psutil.Error:
                        continue
                stop.wait(0.05)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        try:
            for out in self.local.map(fn, tasks, desc, memory, cpus):
                r["tasks"] += 1
                yield out
        finally:
            stop.set()
            sampler.join()

    def describe(self) -> dict[str, Any]:
        return self.local.describe()

    def release(self) -> None:
        self.local.release()

    def close(self) -> None:
        self.local.close()


def main(
    n: int,
    where: Path,
    task_mib: int = 64,
    pool: bool | str = False,
    barrier: str = "minhash_dedup",
    partitions: int | None = None,
) -> dict[str, Any]:
    from curate.config import load_pipeline
    from curate.dedup import lsh_barrier
    from curate.pipeline import run_pipeline

    code = Path(__file__).resolve().parent.parent
    barrier_pipeline(code, n, where, "minhash-round-peaks", barrier, partitions)
    lsh_barrier.TASK_BYTES = task_mib << 20  # (the forked tasks get the plan, not this)
    executor = RoundPeaks(2, pool, barrier)
    t = time.perf_counter()
    try:
        run_pipeline(load_pipeline(where / "p.yaml"), executor)
    finally:
        executor.close()
    summary = json.loads(
        (where / "out" / "_work" / "decisions" / barrier / "summary.json").read_text()
    )
    return {
        "n": n,
        "task_mib": task_mib,
        "seconds": round(time.perf_counter() - t, 1),
        "documents": summary.get("documents"),
        "partitions": summary.get("partitions", partitions),
        "groups": summary.get("groups"),
        "duplicates": summary.get("duplicates"),
        "rounds": {k: {x: round(y) for x, y in executor.rounds[k].items()} for k in executor.order},
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"N={result['n']} documents={result['documents']} partitions={result['partitions']} "
        f"groups={result['groups']} budget={result['task_mib']} MiB {result['seconds']} s",
        "",
        "| round | tasks | largest task peak MB | growth MB | Arrow MB | declared MB "
        "| read MB | written MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in result["rounds"].items():
        lines.append(
            f"| {name} | {r['tasks']} | {r['peak']} | {r['growth']} | {r['arrow']} | "
            f"{r.get('declared', 0)} | {r.get('read', 0)} | {r.get('written', 0)} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    argv = sys.argv[1:]
    pool: bool | str = "all" if "--pool-all" in argv else "--pool" in argv
    options = {}
    for flag in ("--barrier", "--partitions"):
        if flag in argv:
            at = argv.index(flag)
            options[flag[2:]] = argv[at + 1]
            del argv[at : at + 2]
    args = [a for a in argv if not a.startswith("--pool")]
    out = main(
        int(args[0]),
        Path(args[1]),
        int(args[2]) if len(args) > 2 else 64,
        pool,
        options.get("barrier", "minhash_dedup"),
        int(options["partitions"]) if "partitions" in options else None,
    )
    print(json.dumps(out))
    print(markdown(out))
