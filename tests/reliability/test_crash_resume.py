"""Crash harness: SIGKILL `curate run` at many points of every phase, `--resume` until it is done,
and compare everything with one uninterrupted run.

Kill points are failpoints (curate.errors.failpoint): ``CURATE_FAILPOINT=name:n`` makes the run
SIGKILL its whole session (driver and workers, as a dead machine) at the n-th hit of ``name``.
The uninterrupted baseline runs in-process with counting on, so each kill point is placed at a
fraction of that point's real number of hits (the n-th write of 103, the 2nd of 4 index commits)
and stays meaningful when the pipeline changes. Scenarios run two at a time (a module fixture);
each parametrized test checks one.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

import curate.errors
from curate.cli import main as curate_main
from curate.report import check_balance

REPO = Path(__file__).resolve().parents[2]
DUMPS = ("CC-MAIN-2023-06", "CC-MAIN-2023-14")
ROWS_PER_SHARD = 150

# (name, fraction of its hits in the baseline) or several for a resume that is killed again;
# with a "/2" suffix, the killed run has 2 workers (hits count per process).
KILLS = {
    "first output batch": [("write_batch", 0.0)],
    "pass 1 writes": [("write_batch", 0.2)],
    "pass 2 writes": [("write_batch", 0.45)],
    "last pass writes": [("write_batch", 0.95)],
    "first file rename": [("rename_parquet", 0.0)],
    "last rename": [("rename_parquet", 1.0)],
    "renamed, no marker yet": [("shard_done", 0.0)],
    "last marker": [("shard_done", 1.0)],
    "url_dedup decide": [("decide", 0.0)],
    "minhash decide": [("decide", 0.5)],
    "perplexity decide": [("decide", 1.0)],
    # every barrier of this pipeline writes its decision files from tasks: minhash's (with
    # its index) in the rounds of curate.dedup.lsh_barrier, early and late
    "minhash barrier, early task": [("minhash_task", 0.1)],
    "keyed reduce tasks": [("reduce_partition", 0.5)],
    "keyed reduce, all done": [("reduce_partition", 1.0)],
    "minhash barrier, decision files and pieces": [("minhash_task", 0.9)],
    "index part, url": [("index_part", 0.05)],
    "index part, minhash": [("index_part", 0.7)],
    "before an index rename": [("index_commit", 0.4)],
    "one of two dumps committed": [("index_committed", 0.0)],
    "minhash index committed": [("index_committed", 1.0)],
    # the indexed minhash barrier's rounds (ordinals, lookups, verification, pieces): tasks
    "minhash index barrier task": [("minhash_task", 0.6)],
    "minhash index barrier, 2 workers": [("minhash_task/2", 0.3)],
    "removing pass files": [("pass_cleanup", 0.5)],
    "before the report": [("before_report", 1.0)],
    "writing report.json": [("write_bytes", "report.json")],
    "renaming report.html": [("rename_bytes", "report.html")],
    "2 workers, pass writes": [("write_batch/2", 0.3)],
    "2 workers, markers": [("shard_done/2", 0.5)],
    "killed again while resuming": [("write_batch", 0.3), ("decide", 0.4)],
    "killed three times": [("index_part", 0.3), ("write_batch", 0.2), ("rename_bytes", 0.15)],
}


def subset(root: Path, rows: int = ROWS_PER_SHARD, row_group: int = 50) -> Path:
    """Two dumps of the bundled sample, 2 files x ``rows`` rows each, row groups of
    ``row_group``."""
    for dump in DUMPS:
        folder = root / "in" / f"dump={dump}"
        folder.mkdir(parents=True)
        for part in range(2):
            src = REPO / "sample_corpus" / f"dump={dump}" / f"part-{part:05d}.parquet"
            table = pq.read_table(src).slice(0, rows)
            pq.write_table(table, folder / f"part-{part:05d}.parquet", row_group_size=row_group)
    return root / "in"


def pipeline(where: Path, input: Path) -> Path:
    """Cross-dump dedup with indexes, a keyed barrier in 3 partitions, a streaming stage, a KenLM
    percentile threshold."""
    body = {
        "name": "crash",
        "input": str(input),
        "output": str(where / "out"),
        "batch_size": 64,
        "partitions": 3,  # exact_dedup's barrier runs as 3 reduce tasks
        "stages": [
            {"url_dedup": {"index": str(where / "idx" / "url")}},
            {"exact_dedup": {}},
            {"minhash_dedup": {"num_perm": 64, "index": str(where / "idx" / "minhash")}},
            {"domain_classify": {"url_rules": {"github.com": "code"}, "default": "web"}},
            {
                "perplexity_filter": {
                    "models": {"en": str(REPO / "models" / "en_math.arpa")},
                    "thresholds": {"default": {"keep_below": "p90"}},
                }
            },
        ],
    }
    path = where / "p.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def ids(folder: Path) -> list[str]:
    out: list[str] = []
    for f in sorted(folder.glob("part-*.parquet")) if folder.exists() else []:
        out += pq.read_table(f, columns=["id"])["id"].to_pylist()
    return sorted(out)


def snapshot(where: Path) -> dict:
    """Everything a user would compare, minus timings and run-dependent paths."""
    out = where / "out"
    report = json.loads((out / "report.json").read_text())
    stages = []
    for s in report["stages"]:
        s = {k: v for k, v in s.items() if k not in ("seconds", "params")}
        if "decision" in s:  # how the index answered (committed now or before) is not a count
            s["decision"] = {
                k: v for k, v in s["decision"].items() if k not in ("seconds", "index")
            }
        stages.append(s)
    totals = {
        k: v
        for k, v in report["totals"].items()
        if k not in ("seconds", "docs_per_second", "mb_per_second")
    }
    removed = {d.name: ids(d) for d in sorted((out / "removed").iterdir())}
    index = {}
    for kind in ("url", "minhash"):
        for dump in sorted((where / "idx" / kind / "dumps").iterdir()):
            meta = json.loads((dump / "meta.json").read_text())
            meta.pop("committed_at")
            tables = {f.name: pq.read_table(f).to_pydict() for f in sorted(dump.glob("*.parquet"))}
            index[f"{kind}/{dump.name}"] = (meta, tables)
    return {
        "data": ids(out / "data"),
        "removed": removed,
        "quarantine": ids(out / "quarantine"),
        "stages": stages,
        "totals": totals,
        "quarantine_report": report["quarantine"],
        "index": index,
    }


@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """One uninterrupted run (in-process, 1 worker) with every failpoint's hits counted."""
    root = tmp_path_factory.mktemp("crash")
    input = subset(root)
    where = root / "baseline"
    where.mkdir()
    curate.errors._FAILPOINT, curate.errors._HITS = "", {}
    try:
        assert curate_main(["run", str(pipeline(where, input)), "--workers", "1"]) == 0
        hits = dict(curate.errors._HITS)
    finally:
        curate.errors._FAILPOINT, curate.errors._HITS = None, {}
    report = json.loads((where / "out" / "report.json").read_text())
    assert check_balance(report) == []
    assert report["stages"][0]["docs_removed"] and report["stages"][1]["docs_removed"]
    return input, snapshot(where), hits


def run(pipe: Path, workers: int, resume: bool, failpoint: str | None) -> int:
    env = {k: v for k, v in os.environ.items() if k != "CURATE_FAILPOINT"}
    if failpoint:
        env["CURATE_FAILPOINT"] = failpoint
    args = ["run", str(pipe), "--workers", str(workers)] + (["--resume"] if resume else [])
    with tempfile.TemporaryDirectory(prefix="curate-hits-") as counts:
        # the n-th hit of the run, over its processes (the pool's workers end between phases)
        env["CURATE_FAILPOINT_COUNTS"] = counts
        r = subprocess.run(
            [sys.executable, "-m", "curate.cli", *args],
            capture_output=True,
            text=True,
            cwd=REPO,
            env=env,
            start_new_session=True,  # the failpoint kills the session: driver and workers
            timeout=300,
        )
    assert "Traceback" not in r.stderr, (failpoint, resume, r.returncode, r.stderr[-8000:])
    return r.returncode


def nth_hit(hits: dict[str, int], name: str, where: float | str) -> int:
    total = hits[name]
    if isinstance(where, str):  # the report files are the last atomic writes, in this order
        order = ["report.json", "report.md", "report.html"]
        return total - len(order) + 1 + order.index(where)
    return max(1, min(total, round(where * total)))


def assert_no_partial_files(where: Path) -> None:
    """What a reader can see (names not starting with '.') is always whole."""
    for path in where.rglob("*"):
        if any(part.startswith(".") for part in path.relative_to(where).parts):
            continue
        if path.suffix == ".parquet":
            pq.read_table(path)
        elif path.suffix == ".json":
            json.loads(path.read_text())


def debris(where: Path) -> list[Path]:
    return [p for p in where.rglob("*") if p.name.endswith(".tmp") or ".tmp-" in p.name]


def play(scenario: str, input: Path, hits: dict[str, int], where: Path) -> dict:
    """Kill the run at each point of ``scenario`` in turn, resume to the end; its snapshot, and
    whether a killed run left temporary files behind."""
    pipe = pipeline(where, input)
    resume, workers, left = False, 1, False
    for point, at in KILLS[scenario]:
        name, _, w = point.partition("/")
        workers = int(w or 1)
        n = nth_hit(hits, name, at)  # a resumed run hits less: later kills use small fractions
        code = run(pipe, workers, resume, f"{name}:{n}")
        assert code == -9, f"{name}:{n} did not kill the run (exit {code})"
        assert_no_partial_files(where)
        left = left or bool(debris(where))
        resume = True
    assert run(pipe, workers, resume=True, failpoint=None) == 0
    assert debris(where) == []
    return {**snapshot(where), "debris_left_by_the_kill": left}


@pytest.fixture(scope="module")
def outcomes(request, baseline, tmp_path_factory):
    """Every selected scenario, two at a time (each run is one process or a small pool)."""
    input, _, hits = baseline
    wanted = [  # this test's items only (other files parametrize a "scenario" too)
        item.callspec.params["scenario"]
        for item in request.session.items
        if getattr(item, "originalname", "")
        == test_killed_and_resumed_run_equals_an_uninterrupted_one.__name__
        and item.module is sys.modules[__name__]
    ]

    def one(scenario: str) -> dict | AssertionError:
        where = tmp_path_factory.mktemp("scenario")
        try:
            return play(scenario, input, hits, where)
        except AssertionError as exc:
            return exc

    with ThreadPoolExecutor(2) as pool:
        return dict(zip(wanted, pool.map(one, wanted)))


@pytest.mark.parametrize("scenario", sorted(KILLS))
def test_killed_and_resumed_run_equals_an_uninterrupted_one(scenario, baseline, outcomes):
    got = outcomes[scenario]
    if isinstance(got, AssertionError):
        raise got
    expected = baseline[1]
    if scenario in ("first output batch", "index part, url"):  # mid-write: cleanup is tested
        assert got["debris_left_by_the_kill"]
    got.pop("debris_left_by_the_kill")
    for a, b in zip(got.pop("stages"), expected["stages"]):
        assert a == b, a["name"]
    for key in expected:
        if key != "stages":
            assert got[key] == expected[key], key


# ---------------------------------------------------------------- minhash's partitioned barrier

# kill points among the hits of "minhash_task" (each task of the barrier's rounds, after its
# file is written): the first, the middle, the last decision file; "/2": two workers
MINHASH_KILLS = [("minhash_task", 0.0), ("minhash_task", 0.5), ("minhash_task", 1.0),
                 ("minhash_task/2", 0.4)]  # fmt: skip


def minhash_pipeline(where: Path, input: Path) -> Path:
    """minhash_dedup with no index: its barrier is rounds of partitioned tasks (3 partitions)."""
    body = {
        "name": "crash-minhash",
        "input": str(input),
        "output": str(where / "out"),
        "batch_size": 64,
        "partitions": 3,
        "stages": [{"minhash_dedup": {"num_perm": 64}}],
    }
    path = where / "p.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def minhash_outcome(where: Path) -> dict:
    out = where / "out"
    report = json.loads((out / "report.json").read_text())
    decision = {k: v for k, v in report["stages"][0]["decision"].items() if k != "seconds"}
    removed = pq.read_table(out / "removed" / "minhash_dedup").sort_by("id").to_pylist()
    return {"data": ids(out / "data"), "removed": removed, "decision": decision}


def test_a_minhash_barrier_task_killed_midway_is_redone_on_resume(tmp_path):
    """SIGKILL the run inside the partitioned minhash barrier (one of its tasks, with 1 and 2
    workers), --resume: the same kept rows, removed rows (duplicate_of, cluster) and counters."""
    input = subset(tmp_path, rows=100)
    where = tmp_path / "baseline"
    where.mkdir()
    curate.errors._FAILPOINT, curate.errors._HITS = "", {}
    try:
        assert curate_main(["run", str(minhash_pipeline(where, input)), "--workers", "1"]) == 0
        hits = dict(curate.errors._HITS)
    finally:
        curate.errors._FAILPOINT, curate.errors._HITS = None, {}
    expected = minhash_outcome(where)
    assert expected["decision"]["duplicates"] > 0 and expected["decision"]["partitions"] == 3
    assert hits["minhash_task"] > 20  # rounds x tasks

    def one(kill: tuple[str, float]) -> dict:
        point, at = kill
        name, _, w = point.partition("/")
        scenario = tmp_path / f"{name}-{w or 1}-{at}"
        scenario.mkdir()
        pipe = minhash_pipeline(scenario, input)
        code = run(pipe, int(w or 1), False, f"{name}:{nth_hit(hits, name, at)}")
        assert code == -9, (kill, code)
        assert_no_partial_files(scenario)
        assert run(pipe, int(w or 1), resume=True, failpoint=None) == 0
        assert debris(scenario) == []
        return minhash_outcome(scenario)

    with ThreadPoolExecutor(2) as pool:
        for kill, got in zip(MINHASH_KILLS, pool.map(one, MINHASH_KILLS)):
            assert got == expected, kill


# ---------------------------------------------------------------- a worker dies, the run goes on

# points hit only inside worker processes: a keyed reduce task after its partition's removals
# are written, a task of minhash's partitioned barrier after its file is written
WORKER_DEATHS = ["reduce_partition", "minhash_task"]


def files_of(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for sub in ("data", "removed", "quarantine")
        for p in sorted((out / sub).rglob("*.parquet"))
    }


def test_a_worker_killed_mid_task_is_retried_and_the_output_is_the_same(tmp_path):
    """SIGKILL one worker process (not the run) on its first hit of a point inside a task, with
    2 workers: the local pool runs the lost tasks again in a new pool, the run finishes in one
    go, and its data, removed and quarantine files are byte for byte an uninterrupted run's,
    with no temporary file left behind."""
    input = subset(tmp_path, rows=100)
    body = {
        "name": "worker-death",
        "input": str(input),
        "batch_size": 64,
        "partitions": 3,
        "stages": [{"exact_dedup": {}}, {"minhash_dedup": {"num_perm": 64}}],
    }

    def pipe(where: Path) -> Path:
        where.mkdir()
        path = where / "p.yaml"
        path.write_text(yaml.safe_dump({**body, "output": str(where / "out")}))
        return path

    assert curate_main(["run", str(pipe(tmp_path / "baseline")), "--workers", "2"]) == 0
    expected = files_of(tmp_path / "baseline" / "out")
    assert any(name.startswith("removed/exact_dedup") for name in expected)
    assert any(name.startswith("removed/minhash_dedup") for name in expected)

    def one(point: str) -> tuple[int, bool, dict[str, bytes], list[Path]]:
        flag = tmp_path / f"{point}.killed"
        p = pipe(tmp_path / point)
        code = run(p, 2, False, f"{point}:1:die-once:{flag}")
        out = tmp_path / point / "out"
        return code, flag.exists(), files_of(out) if code == 0 else {}, debris(out)

    with ThreadPoolExecutor(2) as pool:
        for point, (code, killed, got, left) in zip(WORKER_DEATHS, pool.map(one, WORKER_DEATHS)):
            assert code == 0 and killed, (point, code, killed)
            assert got == expected, point
            assert left == [], point
