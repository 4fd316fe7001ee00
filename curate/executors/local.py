"""Local executor: a process pool over shards (or inline with one worker).

A task whose worker process dies (killed, out of memory) is run again in a new pool, up to
``max_retries`` times, as the Ray executor does; a task that raises is not retried. The pipeline
calls ``release`` between phases (after each pass and each barrier), which ends the workers, so
a phase's workers start without what the last phase's tasks left in them; a round of tasks that
declare more than ``RECYCLE_MEMORY`` each ends its workers too (a barrier's big rounds).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import platform
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import psutil

from curate.errors import CurateError
from curate.executors.base import concurrency, run_task
from curate.progress import progress

# a map whose tasks declare more than this ends its workers when it is done: a worker process
# keeps about its largest task's peak (the allocators return little), into the next round
RECYCLE_MEMORY = 512 << 20


class LocalExecutor:
    name = "local"

    def __init__(self, workers: int | None = None, max_retries: int = 3) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.max_retries = max_retries  # runs of a task whose worker died, after the first
        self._pool: ProcessPoolExecutor | None = None

    def _get_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # spawn, not fork: forking a process that holds Arrow/OpenMP threads can deadlock.
            self._pool = ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"))
        return self._pool

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
        # as many at once as the workers, the cores and the memory free now hold (at least one)
        running = concurrency(self.workers, psutil.virtual_memory().available, memory, cpus)
        with progress(total=len(tasks), desc=desc) as bar:
            # Inline only when asked for one worker: a lone task of a larger run (a barrier's
            # only reduce task) must not grow the driver, which lives through the whole run.
            if self.workers == 1:
                for task in tasks:
                    yield run_task(fn, task)
                    bar.update(1)
                return
            # Keep at most 2x workers in flight so that results stream back in bounded memory;
            # tasks that declare more than a worker's share of the machine, fewer.
            in_flight = 2 * self.workers if running >= self.workers else running
            pending: dict[Future, int] = {}
            tries = [0] * len(tasks)
            queue = list(reversed(range(len(tasks))))
            while queue or pending:
                pool = self._get_pool()
                while queue and len(pending) < in_flight:
                    i = queue.pop()
                    tries[i] += 1
                    pending[pool.submit(run_task, fn, tasks[i])] = i
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                    # a worker died (killed, or out of memory) and took the pool with it: what
                    # was in flight finishes or fails now, and the failed tasks run again in a
                    # new pool, as Ray retries a task whose worker died (safe: a task writes
                    # only under temporary names and renames at the end)
                    done, _ = wait(pending)
                    self._drop_pool()
                for fut in sorted(done, key=pending.__getitem__):
                    i = pending.pop(fut)
                    if isinstance(fut.exception(), BrokenProcessPool):
                        if tries[i] > self.max_retries:
                            raise CurateError(
                                f"{desc or 'run'}: a worker process died {tries[i]} times "
                                "running the same task (killed, or out of memory); finished "
                                "shards are kept, continue with --resume"
                            ) from None
                        queue.append(i)
                        continue
                    result = fut.result()
                    bar.update(1)
                    yield result
            if memory and memory > RECYCLE_MEMORY:
                self._drop_pool()  # big tasks: their workers end, the next round starts fresh

    def _drop_pool(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def release(self) -> None:
        """End the pool's workers: a worker process keeps what its largest task took (the
        allocators give little back to the system), so a barrier's reduce tasks would leave
        their peak in the workers that run the next pass's shards. The next map starts a new
        pool (~1 s of imports per worker, in parallel)."""
        self._drop_pool()

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "workers": self.workers,
            "nodes": 1,
            "cpus": os.cpu_count(),
            "host": platform.node(),
        }

    def close(self) -> None:
        self._drop_pool()
