"""The executor interface: map a picklable function over tasks, yield results as they finish."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol


class Executor(Protocol):
    name: str

    def map(
        self,
        fn: Callable[[Any], Any],
        tasks: Sequence[Any],
        desc: str = "",
        memory: int | None = None,
    ) -> Iterator[Any]:
        """Run ``fn(task)`` for every task; yield results in completion order. ``memory``: bytes
        one task may need (a cluster scheduler places tasks by it)."""
        ...

    def describe(self) -> dict[str, Any]:
        """What the report records about where the run happened."""
        ...

    def close(self) -> None: ...
