"""The executor interface: map a picklable function over tasks, yield results as they finish.

A call declares what one of its tasks needs (``memory`` in bytes, ``cpus``); Ray schedules by
it, so large reduce tasks spread over nodes, and the local pool runs no more tasks at once than
the machine's CPUs and memory hold. Stage code passes the same numbers to either executor.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import pyarrow as pa


class Executor(Protocol):
    name: str

    def map(
        self,
        fn: Callable[[Any], Any],
        tasks: Sequence[Any],
        desc: str = "",
        memory: int | None = None,
        cpus: float = 1,
    ) -> Iterator[Any]:
        """Run ``fn(task)`` for every task; yield results in completion order. ``memory``: bytes
        one task may need; ``cpus``: the cores one task keeps busy."""
        ...

    def describe(self) -> dict[str, Any]:
        """What the report records about where the run happened."""
        ...

    def release(self) -> None:
        """Between phases of a run (after a pass, after a barrier): let the worker processes
        give back what their tasks took; the next ``map`` starts afresh where that applies."""
        ...

    def close(self) -> None: ...


def concurrency(workers: int, capacity: int, memory: int | None, cpus: float) -> int:
    """How many tasks needing ``memory`` bytes and ``cpus`` cores each may run at once on
    ``workers`` worker slots and ``capacity`` bytes: at least one, whatever they ask."""
    slots = int(workers // max(cpus, 1))
    if memory:
        slots = min(slots, capacity // int(memory))
    return max(1, slots)


# room for the interpreter and the imported modules of one worker
TASK_BASE_MEMORY = 256 << 20


def task_memory(stored_bytes: int) -> int:
    """What a task that reads ``stored_bytes`` of zstd Parquet may hold: in Arrow the columns
    take a few times their stored bytes (ids compress, hashes do not; 6x leaves room for a sort
    or a take), plus the worker's base."""
    return TASK_BASE_MEMORY + 6 * int(stored_bytes)


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim`` (None elsewhere: musl, macOS)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


_TRIM = _malloc_trim()


def give_back() -> None:
    """Return the memory a finished task freed to the system: Arrow's pool (mimalloc) and
    glibc's malloc keep freed pages for the next allocation, so a worker process carried about
    its largest task's peak into every later task (a process that held 2,179 MB: 1,370 MB after
    freeing everything, 886 after Arrow's release, 82 after glibc's trim as well)."""
    pa.default_memory_pool().release_unused()
    if _TRIM is not None:
        _TRIM(0)


def run_task(fn: Callable[[Any], Any], task: Any) -> Any:
    """``fn(task)`` in a worker, then ``give_back`` (both executors run every task so)."""
    try:
        return fn(task)
    finally:
        give_back()
