"""Shared by the dedup barrier tests."""

from __future__ import annotations


class InTasks:
    """An executor's ``run`` that runs the tasks here, one after another, and is true while one
    runs: what a test needs to tell a task's reads from the driver's."""

    def __init__(self) -> None:
        self.depth = 0

    def __bool__(self) -> bool:
        return self.depth > 0

    def __call__(self, fn, tasks, *, memory=None, cpus=1) -> list:
        out = []
        for t in tasks:
            self.depth += 1
            try:
                out.append(fn(t))
            finally:
                self.depth -= 1
        return out
