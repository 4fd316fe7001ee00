"""The local process pool: tasks declare what they need, as on Ray."""

from __future__ import annotations

import os
import time

import psutil
import pytest

from curate.executors.base import concurrency
from curate.executors.local import LocalExecutor


def _interval(seconds: float) -> tuple[int, float, float]:
    start = time.monotonic()
    time.sleep(seconds)
    return os.getpid(), start, time.monotonic()


def _overlaps(intervals: list[tuple[int, float, float]]) -> int:
    """The most tasks that ran at the same moment."""
    events = sorted([(a, 1) for _, a, _ in intervals] + [(b, -1) for _, _, b in intervals])
    most = now = 0
    for _, step in events:
        now += step
        most = max(most, now)
    return most


def test_concurrency_is_bounded_by_workers_cores_and_memory():
    gib = 1 << 30
    assert concurrency(8, 64 * gib, None, 1) == 8
    assert concurrency(8, 64 * gib, 16 * gib, 1) == 4
    assert concurrency(8, 64 * gib, 100 * gib, 1) == 1  # more than the machine: one at a time
    assert concurrency(8, 64 * gib, None, 3) == 2
    assert concurrency(8, 64 * gib, 4 * gib, 2) == 4


def test_tasks_that_need_the_machine_run_one_at_a_time():
    """Two workers run two 0.5 s tasks side by side; the same tasks declaring more memory than
    the machine has free run one after the other, in the same pool."""
    executor = LocalExecutor(2)
    try:
        list(executor.map(_interval, [0.2] * 4))  # both worker processes started
        free = list(executor.map(_interval, [0.5] * 4))
        big = psutil.virtual_memory().total
        heavy = list(executor.map(_interval, [0.5] * 4, memory=big))
    finally:
        executor.close()
    assert _overlaps(free) == 2
    assert _overlaps(heavy) == 1
    assert len(heavy) == 4


def _pid(_: int) -> int:
    return os.getpid()


def test_workers_end_between_phases_and_after_big_rounds():
    """A worker keeps its largest task's peak, so the pool's workers end on ``release()`` (the
    runner calls it after each pass and each barrier) and after a round whose tasks declare
    more than RECYCLE_MEMORY; small rounds keep them (no start-up cost per round)."""
    from curate.executors.local import RECYCLE_MEMORY

    ex = LocalExecutor(2)
    try:
        first = set(ex.map(_pid, range(4)))
        kept = set(ex.map(_pid, range(4), memory=RECYCLE_MEMORY))
        assert kept & first  # the same workers
        ex.release()
        second = set(ex.map(_pid, range(4)))
        assert not second & (first | kept)
        big = set(ex.map(_pid, range(4), memory=RECYCLE_MEMORY + 1))
        assert not set(ex.map(_pid, range(4))) & (first | kept | second | big)
    finally:
        ex.close()


def _held_then_freed(n: int) -> tuple[int, float]:
    """In a pool worker: allocate ~n MB in many Arrow arrays and Python objects, free them all;
    the worker's RSS (MB) once they are gone (run_task gives back after this returns)."""
    import gc

    import numpy as np
    import pyarrow as pa

    held = [pa.array(np.arange(1_000 + i % 7)) for i in range(n * 128)]
    objects = [[i, str(i)] for i in range(n * 2_000)]
    del held, objects
    gc.collect()
    return os.getpid(), psutil.Process().memory_info().rss / 2**20


def _rss(_: int) -> tuple[int, float]:
    return os.getpid(), psutil.Process().memory_info().rss / 2**20


def test_a_worker_gives_back_what_its_task_freed():
    """Arrow's pool and glibc's malloc keep freed memory for later allocations, so a pool worker
    used to carry its largest task's peak into every later task: after each task the worker
    now hands it back (curate.executors.base.give_back). Measured in the same worker: its RSS
    when the task had freed everything, and at the start of its next task."""
    from curate.executors.base import _TRIM

    if _TRIM is None:
        pytest.skip("no glibc malloc_trim here")
    ex = LocalExecutor(2)
    try:
        pid, freed = next(ex.map(_held_then_freed, [600]))
        after = dict(ex.map(_rss, range(8)))  # both workers; the one that ran it among them
        assert pid in after
        assert freed > after[pid] + 200, (freed, after[pid])
    finally:
        ex.close()
