"""Helpers shared by benchmarks: run a command and watch its process tree's memory.

``watch`` is the one RSS sampler: every benchmark that reports a peak RSS of a child process
tree (the whole tree, the driver, the largest worker, or those by phase of a run) takes it from
here."""

from __future__ import annotations

import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

MB = 2**20
ROOT = Path(__file__).resolve().parent.parent


def export(commit: str, dest: Path, *paths: str) -> Path:
    """The tree of ``commit`` (or only ``paths`` of it), extracted into ``dest`` with ``git
    archive``: the "before" code a benchmark runs beside today's, on the same files."""
    dest.mkdir(parents=True, exist_ok=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit, *paths], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


@dataclass
class Peaks:
    """Peak resident memory (MB) of a process tree, over the samples taken while it ran."""

    tree: float = 0.0  # the whole tree's sum at one sample
    driver: float = 0.0  # the process started
    worker: float = 0.0  # its largest descendant
    phases: dict[str, tuple[float, float]] = field(default_factory=dict)  # (driver, worker)


def tree_rss(proc: psutil.Process) -> tuple[float, list[float]]:
    """RSS (MB) of ``proc`` and of each of its descendants now; a process that ends while it
    is read counts 0."""
    try:
        children = proc.children(recursive=True)
    except psutil.Error:
        children = []
    sizes = []
    for p in [proc, *children]:
        try:
            sizes.append(p.memory_info().rss / MB)
        except psutil.Error:
            sizes.append(0.0)
    return sizes[0], sizes[1:]


def watch(
    proc: subprocess.Popen, poll: float = 0.1, phase: Callable[[], str] | None = None
) -> Peaks:
    """Sample ``proc``'s tree every ``poll`` seconds until it exits; with ``phase`` (a function
    naming the run's phase at each sample), the driver and worker peaks by phase too."""
    peaks = Peaks()
    parent = psutil.Process(proc.pid)
    while proc.poll() is None:
        driver, workers = tree_rss(parent)
        peaks.tree = max(peaks.tree, driver + sum(workers))
        peaks.driver = max(peaks.driver, driver)
        peaks.worker = max([peaks.worker, *workers])
        if phase is not None:
            now = phase()
            d, w = peaks.phases.get(now, (0.0, 0.0))
            peaks.phases[now] = (max(d, driver), max([w, *workers]))
        time.sleep(poll)
    return peaks


@dataclass
class Measured:
    seconds: float
    peak_rss_mb: float
    returncode: int
    output: str


def run_measured(cmd: list[str], cwd: str | None = None, poll: float = 0.05) -> Measured:
    """Wall time and peak resident memory summed over the whole process tree."""
    # Output goes to a file, not a pipe: a chatty child would fill the pipe and block forever.
    with tempfile.TemporaryFile(mode="w+") as log:
        t = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=log, stderr=subprocess.STDOUT, text=True)
        peaks = watch(proc, poll)
        seconds = time.perf_counter() - t
        log.seek(0)
        return Measured(seconds, peaks.tree, proc.returncode, log.read())


# ------------------------------------------------- one method of a comparison in a fresh process
# A comparison benchmark runs each method in a fresh process (so imports and interpreter start
# count, and one method's memory never shows in another's peak): the parent calls
# ``run_method(script, ...)``, which starts ``script --method M ...``; the script's ``main`` is
# ``method_main(run, methods, decide)``, which either runs one method (the child) or the whole
# section (``run(quick)``, printed).


def run_method(script: str, method: str, corpus, tmp) -> dict:
    """Run ``decide(method, corpus, work)`` of ``script`` in a fresh process; its result (the
    removed ids and seconds) with the peak RSS of its process tree, sampled every 50 ms."""
    import json
    import shutil
    import sys

    work, out = tmp / f"work-{method}", tmp / f"{method}.json"
    args = ["--method", method, "--corpus", str(corpus), "--work", str(work), "--out", str(out)]
    child = subprocess.Popen([sys.executable, script, *args])
    peak = watch(child, 0.05).tree * MB
    if child.returncode:
        raise RuntimeError(f"{method} failed with exit code {child.returncode}")
    shutil.rmtree(work, ignore_errors=True)
    return {**json.loads(out.read_text()), "rss_bytes": peak}


def method_main(run: Callable[[bool], str], methods, decide: Callable) -> None:
    """A comparison script's entry point: ``--method M`` runs one method (the child of
    ``run_method``) and writes what it removed and its seconds; otherwise the whole section."""
    import argparse
    import json
    import os
    import sys
    from pathlib import Path

    parser = argparse.ArgumentParser()
    parser.add_argument("--method", choices=sorted(methods))
    parser.add_argument("--corpus")
    parser.add_argument("--work")
    parser.add_argument("--out")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.method:
        t = time.perf_counter()
        removed = decide(args.method, Path(args.corpus), Path(args.work))
        seconds = time.perf_counter() - t
        Path(args.out).write_text(json.dumps({"removed": removed, "seconds": seconds}))
    else:
        print(run(args.quick))
    sys.stdout.flush()
    os._exit(0)
