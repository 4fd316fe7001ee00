"""Helpers shared by benchmarks: run a command and watch its process tree's memory."""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass

import psutil


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
        parent = psutil.Process(proc.pid)
        peak = 0
        while proc.poll() is None:
            try:
                procs = [parent, *parent.children(recursive=True)]
                rss = sum(p.memory_info().rss for p in procs if p.is_running())
            except psutil.Error:
                rss = 0
            peak = max(peak, rss)
            time.sleep(poll)
        seconds = time.perf_counter() - t
        log.seek(0)
        return Measured(seconds, peak / 2**20, proc.returncode, log.read())
