"""The same input gives the same report.json, whatever the process history: one worker or two
(so a worker's caches hold other shards' text), or a run killed and resumed (so they start
empty halfway). Only timings may differ. Driven through the real `curate run` with the bundled
recipe minus remix (every scoring stage and its models), on a slice of the bundled sample."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.reliability.test_crash_resume import DUMPS, subset

REPO = Path(__file__).resolve().parents[2]
ROWS_PER_SHARD = 120


def recipe(root: Path, input: Path) -> Path:
    """pipelines/deepseek.yaml with this input and output, models by absolute path, no remix."""
    body = yaml.safe_load((REPO / "pipelines" / "deepseek.yaml").read_text())
    body["stages"] = [s for s in body["stages"] if "remix" not in s]
    for stage in body["stages"]:
        ((name, params),) = stage.items()
        if name == "domain_classify":
            params["model"] = str(REPO / params["model"])
        if name == "perplexity_filter":
            params["models"] = {k: str(REPO / v) for k, v in params["models"].items()}
    body.update(input=str(input), output=str(root / "out"), batch_size=32)
    path = root / "p.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def run(pipe: Path, *args: str, failpoint: str | None = None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "CURATE_FAILPOINT"}
    if failpoint:
        env["CURATE_FAILPOINT"] = failpoint
    r = subprocess.run(
        [sys.executable, "-m", "curate.cli", "run", str(pipe), *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        start_new_session=True,  # the failpoint kills the session: driver and workers
        timeout=900,
    )
    assert "Traceback" not in r.stderr, r.stderr[-4000:]
    return r.returncode


def without_timings(value):
    """report.json minus what may differ between equal runs: seconds and rates, the executor."""
    if isinstance(value, dict):
        return {
            k: without_timings(v)
            for k, v in value.items()
            if not (k in ("seconds", "timings", "executor") or k.endswith(("_seconds", "_second")))
        }
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def report(root: Path) -> dict:
    return without_timings(json.loads((root / "out" / "report.json").read_text()))


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("determinism")
    pipe = recipe(root, subset(root, ROWS_PER_SHARD, row_group=40))
    out = {}
    assert run(pipe, "--workers", "1") == 0
    out["one worker"] = report(root)
    assert run(pipe, "--workers", "2") == 0
    out["two workers"] = report(root)
    # killed after the 2nd shard of the last pass (pii_scrub's), then resumed by a fresh process
    # whose caches start empty there
    from curate.stages.base import REGISTRY, load_all

    load_all()
    stages = yaml.safe_load(pipe.read_text())["stages"]
    passes = 1 + sum(REGISTRY[next(iter(s))].kind == "global" for s in stages)
    shards = len(DUMPS) * 2
    kill = f"shard_done:{(passes - 1) * shards + 2}"
    assert run(pipe, "--workers", "1", failpoint=kill) != 0
    assert run(pipe, "--workers", "1", "--resume") == 0
    out["killed and resumed"] = report(root)
    return out


@pytest.mark.parametrize("which", ["two workers", "killed and resumed"])
def test_report_does_not_depend_on_process_history(runs, which):
    base, other = runs["one worker"], runs[which]
    assert base["totals"]["docs_in"] == len(DUMPS) * 2 * ROWS_PER_SHARD
    pii = next(s for s in base["stages"] if s["stage"] == "pii_scrub")
    assert pii["extra"]["chars_to_ner"] > 0  # the counter the issue caught is there and counted
    for a, b in zip(base["stages"], other["stages"]):
        assert a == b, a["name"]
    assert base == other
