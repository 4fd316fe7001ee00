"""Ray executor: shard tasks run as Ray tasks on a cluster (or a local Ray instance).

The same picklable shard function the local pool runs is submitted with ``ray.remote``; Ray
retries a task whose worker died, which is safe because a shard task writes only under
temporary names and renames at the end (a retried task overwrites the same files with the same
bytes). Ray reuses worker processes, so a stage that loads a model (KenLM, fastText, spaCy)
loads it once per worker, not once per shard (the stage cache lives in the worker process).

Input and output paths must be visible to every node: a shared filesystem, or the same path
mounted everywhere.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from curate.errors import ConfigError, CurateError
from curate.executors.base import run_task
from curate.progress import progress


class RayExecutor:
    name = "ray"

    def __init__(
        self, workers: int | None = None, address: str | None = None, max_retries: int = 3
    ) -> None:
        try:
            import ray
        except ImportError:
            from curate.extras import install_hint

            raise ConfigError(f"--executor ray needs Ray: {install_hint('ray')}") from None
        self._ray = ray
        self.address = address
        self.max_retries = max_retries
        self._started_here = False
        if not ray.is_initialized():
            kwargs: dict[str, Any] = {
                "include_dashboard": False,
                "logging_level": "warning",
                "log_to_driver": False,
                # workers import curate from the driver's environment; no runtime_env upload
            }
            if address:
                kwargs["address"] = address
            else:
                kwargs["num_cpus"] = workers or os.cpu_count()
            try:
                ray.init(**kwargs)
            except ConnectionError as exc:
                raise ConfigError(f"--address {address}: cannot connect to Ray ({exc})") from None
            self._started_here = True
        self.workers = workers or int(ray.cluster_resources().get("CPU", 1))

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
        ray = self._ray
        # every task through run_task (it gives back what the task freed: Ray reuses workers),
        # named for its own function (a worker's process title is ray::<name>)
        inner = fn.func if isinstance(fn, functools.partial) else fn
        name = getattr(inner, "__name__", "task")
        remote = ray.remote(**self.options(memory, cpus))(run_task).options(name=name)

        def submit(task: Any) -> Any:
            return remote.remote(fn, task)

        queue = list(reversed(tasks))
        pending: list[Any] = []
        with progress(total=len(tasks), desc=desc) as bar:
            while queue or pending:
                while queue and len(pending) < 2 * self.workers:
                    pending.append(submit(queue.pop()))
                # one blocking wait, then every other finished task without waiting: a round
                # of completions costs two scans of the pending list, not one per completion
                done, pending = ray.wait(pending, num_returns=1)
                if pending:
                    more, pending = ray.wait(pending, num_returns=len(pending), timeout=0)
                    done += more
                for ref in done:
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayTaskError as exc:
                        # The task's own exception: a CurateError that names the shard.
                        cause = getattr(exc, "cause", None)
                        if isinstance(cause, CurateError):
                            raise cause from None
                        raise CurateError(f"a Ray task failed: {cause or exc}") from None
                    bar.update(1)
                    yield result

    def options(self, memory: int | None, cpus: float) -> dict[str, Any]:
        """The Ray task options for tasks that need ``memory`` bytes and ``cpus`` cores: Ray
        places a task only on a node with that much unreserved, so large reduce tasks spread
        over nodes. A task that asks for more than any one node has asks for the largest node
        (it runs there alone) instead of waiting forever as infeasible."""
        nodes = [n.get("Resources", {}) for n in self._ray.nodes() if n.get("Alive")]
        options: dict[str, Any] = {
            "num_cpus": min(cpus, max((n.get("CPU", 1) for n in nodes), default=1)),
            "max_retries": self.max_retries,
            "retry_exceptions": False,
        }
        if memory:
            largest = max((int(n.get("memory", 0)) for n in nodes), default=0)
            options["memory"] = min(int(memory), largest) if largest else int(memory)
        return options

    def release(self) -> None:
        """Nothing: Ray's workers belong to the cluster (they are not this run's to end)."""

    def describe(self) -> dict[str, Any]:
        ray = self._ray
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        return {
            "name": self.name,
            "workers": self.workers,
            "nodes": len(nodes),
            "cpus": int(ray.cluster_resources().get("CPU", 0)),
            "address": self.address or "local",
        }

    def close(self) -> None:
        if self._started_here and self._ray.is_initialized():
            self._ray.shutdown()
