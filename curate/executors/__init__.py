"""Executors decide where shard tasks run; stage code never knows which one it is under."""

from __future__ import annotations

from curate.errors import ConfigError
from curate.executors.base import Executor


def make_executor(name: str, workers: int | None, address: str | None = None) -> Executor:
    if name == "local":
        from curate.executors.local import LocalExecutor

        return LocalExecutor(workers)
    if name == "ray":
        from curate.executors.ray import RayExecutor

        return RayExecutor(workers, address)
    raise ConfigError(f"--executor {name}: unknown executor; choose 'local' or 'ray'")


__all__ = ["Executor", "make_executor"]
