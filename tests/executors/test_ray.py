"""The Ray executor on a real two-node Ray cluster on 127.0.0.1 (no mocks).

Skip locally with `pytest -m "not ray"`; `make test` and CI run them.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import pytest

pytest.importorskip("ray")

from curate.config import parse_pipeline  # noqa: E402
from curate.executors.local import LocalExecutor  # noqa: E402
from curate.executors.ray import RayExecutor  # noqa: E402
from curate.pipeline import run_pipeline  # noqa: E402
from curate.report import check_balance  # noqa: E402
from tests.conftest import write_corpus  # noqa: E402
from tests.test_pipeline import ids_in, stable  # noqa: E402

pytestmark = pytest.mark.ray

# Loopback-only test cluster: Ray's token authentication is off for it.
ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
STAGES = [
    {"exact_dedup": {}},
    {"minhash_dedup": {}},
    {"simhash_dedup": {}},
    {"quality_filter": {}},
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster():
    """`ray start --head` plus a second `ray start --address` node, 1 CPU each."""
    ray_bin = str(Path(sys.executable).with_name("ray"))
    env = {**os.environ, **ENV}
    os.environ.update(ENV)
    port = _free_port()
    address = f"127.0.0.1:{port}"
    common = ["--num-cpus=1", "--disable-usage-stats", "--node-ip-address=127.0.0.1"]
    subprocess.run(
        [ray_bin, "start", "--head", f"--port={port}", "--include-dashboard=false", *common],
        check=True,
        env=env,
        capture_output=True,
        timeout=180,
    )
    try:
        subprocess.run(
            [ray_bin, "start", f"--address={address}", *common],
            check=True,
            env=env,
            capture_output=True,
            timeout=180,
        )
        yield address
    finally:
        import ray

        if ray.is_initialized():
            ray.shutdown()
        subprocess.run([ray_bin, "stop", "--force"], env=env, capture_output=True, timeout=180)


def _run(root: Path, out: Path, executor, stages=STAGES) -> dict:
    config = parse_pipeline(
        {
            "name": "t",
            "input": str(root),
            "output": str(out),
            "stages": stages,
            "batch_size": 16,
            "partitions": 3,  # exact_dedup decides in 3 reduce tasks
        }
    )
    try:
        return run_pipeline(config, executor)
    finally:
        executor.close()


def test_ray_gives_the_same_result_as_local(ray_cluster, tmp_path):
    root = tmp_path / "corpus"
    write_corpus(root, dumps=3)
    local = _run(root, tmp_path / "local", LocalExecutor(2))
    on_ray = _run(root, tmp_path / "ray", RayExecutor(address=ray_cluster))
    assert check_balance(on_ray) == []
    assert on_ray["executor"]["nodes"] == 2 and on_ray["executor"]["cpus"] == 2
    assert stable(on_ray) == stable(local)
    for sub in ("data", "removed", "quarantine"):
        assert ids_in(tmp_path / "ray" / sub) == ids_in(tmp_path / "local" / sub)


def test_minhash_band_tasks_on_ray_write_the_same_index_as_local(ray_cluster, tmp_path):
    """minhash_dedup's barrier runs one reduce task per band on the cluster; each writes its
    band's partition of the index. Same removals and byte-identical index files as local."""
    root = tmp_path / "corpus"
    write_corpus(root, dumps=3)

    def stages(name):
        return [{"minhash_dedup": {"index": str(tmp_path / name)}}]

    local = _run(root, tmp_path / "local", LocalExecutor(2), stages("index-local"))
    on_ray = _run(root, tmp_path / "ray", RayExecutor(address=ray_cluster), stages("index-ray"))

    def numbers(report):  # the index path differs, the counts must not
        return [{k: v for k, v in s.items() if k != "params"} for s in stable(report)]

    assert numbers(on_ray) == numbers(local)
    assert local["stages"][0]["docs_removed"] >= 20  # the recrawled pages
    assert ids_in(tmp_path / "ray" / "removed") == ids_in(tmp_path / "local" / "removed")
    files = sorted(
        p.relative_to(tmp_path / "index-local")
        for p in (tmp_path / "index-local" / "dumps").rglob("*")
        if p.is_file() and p.name != "meta.json"  # meta.json holds the commit time
    )
    assert len(files) >= 3 * 16
    for rel in files:
        ours, theirs = tmp_path / "index-local" / rel, tmp_path / "index-ray" / rel
        assert ours.read_bytes() == theirs.read_bytes(), rel


def test_partitioned_minhash_barrier_on_ray_writes_the_same_bytes_as_local(ray_cluster, tmp_path):
    """minhash_dedup without an index: every round of its barrier runs as Ray tasks (3
    partitions, 2 nodes); the decision files written by tasks give byte-identical output."""
    root = tmp_path / "corpus"
    write_corpus(root, dumps=3)
    stages = [{"minhash_dedup": {}}]
    local = _run(root, tmp_path / "local", LocalExecutor(2), stages)
    on_ray = _run(root, tmp_path / "ray", RayExecutor(address=ray_cluster), stages)
    assert stable(on_ray) == stable(local)
    assert local["stages"][0]["decision"]["partitions"] == 3
    assert local["stages"][0]["docs_removed"] >= 20
    for sub in ("data", "removed/minhash_dedup"):
        files = sorted(p.name for p in (tmp_path / "local" / sub).glob("*.parquet"))
        assert files == sorted(p.name for p in (tmp_path / "ray" / sub).glob("*.parquet"))
        for name in files:
            ours = (tmp_path / "local" / sub / name).read_bytes()
            assert ours == (tmp_path / "ray" / sub / name).read_bytes(), (sub, name)


def test_url_index_tasks_on_ray_commit_the_same_index_as_local(ray_cluster, tmp_path):
    """url_dedup with an index decides in 3 partitions on the cluster: ordinals, decisions, key
    and docs pieces all written by tasks. Same removals and byte-identical index files."""
    import pyarrow.compute as pc

    root = tmp_path / "corpus"
    write_corpus(root, dumps=3)
    for path in root.rglob("*.parquet"):  # page i of every dump at one URL: recrawls
        table = pq.read_table(path)
        urls = pc.replace_substring_regex(table["url"], r"/3/\d+/", "/3/")
        pq.write_table(table.set_column(table.schema.get_field_index("url"), "url", urls), path)

    def stages(name):
        return [{"url_dedup": {"index": str(tmp_path / name)}}]

    local = _run(root, tmp_path / "local", LocalExecutor(2), stages("index-local"))
    on_ray = _run(root, tmp_path / "ray", RayExecutor(address=ray_cluster), stages("index-ray"))

    def numbers(report):  # the index path differs, the counts must not
        return [{k: v for k, v in s.items() if k != "params"} for s in stable(report)]

    assert numbers(on_ray) == numbers(local)
    assert local["stages"][0]["docs_removed"] >= 20
    assert ids_in(tmp_path / "ray" / "removed") == ids_in(tmp_path / "local" / "removed")
    files = sorted(
        p.relative_to(tmp_path / "index-local")
        for p in (tmp_path / "index-local" / "dumps").rglob("*")
        if p.is_file() and p.name != "meta.json"  # meta.json holds the commit time
    )
    assert len(files) >= 3 * 2  # docs and key pieces of 3 dumps
    for rel in files:
        ours, theirs = tmp_path / "index-local" / rel, tmp_path / "index-ray" / rel
        assert ours.read_bytes() == theirs.read_bytes(), rel


def _placed(seconds: float) -> tuple[str, dict, float, float]:
    """Where a task ran, what Ray gave it, and when (CLOCK_MONOTONIC is machine-wide)."""
    import ray

    context = ray.get_runtime_context()
    start = time.monotonic()
    time.sleep(seconds)
    return context.get_node_id(), context.get_assigned_resources(), start, time.monotonic()


def test_tasks_declare_memory_and_cpus_so_large_ones_spread_over_nodes(ray_cluster):
    """Tasks of half a CPU that need 60% of a node's memory: by CPU two would share a node,
    by memory they may not, so no node runs two at once and both nodes work. A task that asks
    for more than any node has runs (on the largest node's worth) instead of waiting forever."""
    import ray

    from tests.executors.test_local import _overlaps

    executor = RayExecutor(address=ray_cluster)
    try:
        # the earlier tests' leases must be back first: a node still holding one has no room
        # for a task of 60% of its memory, and the scheduler rightly keeps all four on the other
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            free, total = ray.available_resources(), ray.cluster_resources()
            if all(abs(free.get(k, 0) - total[k]) < 1e6 for k in ("CPU", "memory")):
                break
            time.sleep(0.5)
        memory = [n["Resources"]["memory"] for n in ray.nodes() if n["Alive"]]
        need = int(min(memory) * 0.6)
        placed = list(executor.map(_placed, [2.0] * 4, memory=need, cpus=0.5))
        (huge,) = executor.map(_placed, [0.0], memory=10 * int(max(memory)))
    finally:
        executor.close()
    for _, given, _, _ in placed:
        assert given["CPU"] == 0.5 and abs(given["memory"] - need) < 1e6, given
    nodes = {node for node, _, _, _ in placed}
    assert len(nodes) == 2
    for node in nodes:
        assert _overlaps([(0, a, b) for n, _, a, b in placed if n == node]) == 1
    assert abs(huge[1]["memory"] - max(memory)) < 1e6


def _kill_one_worker_mid_task(stop: threading.Event, killed: list[int]) -> None:
    """SIGKILL the first Ray worker seen executing a shard task."""
    while not stop.is_set() and not killed:
        for proc in psutil.process_iter(["pid", "cmdline"]):
            cmd = " ".join(proc.info["cmdline"] or [])
            if "ray::run_shard" in cmd:
                try:
                    os.kill(proc.info["pid"], signal.SIGKILL)
                    killed.append(proc.info["pid"])
                except ProcessLookupError:
                    continue
                return
        time.sleep(0.05)


def test_a_killed_worker_is_retried_and_the_result_is_unchanged(ray_cluster, tmp_path):
    root = tmp_path / "corpus"
    write_corpus(root, dumps=3, per_dump=120)
    reference = _run(root, tmp_path / "local", LocalExecutor(2))
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_one_worker_mid_task, args=(stop, killed))
    killer.start()
    try:
        on_ray = _run(root, tmp_path / "ray", RayExecutor(address=ray_cluster))
    finally:
        stop.set()
        killer.join()
    assert killed, "no worker was caught running a shard task"
    assert stable(on_ray) == stable(reference)
    assert ids_in(tmp_path / "ray" / "data") == ids_in(tmp_path / "local" / "data")
    shutil.rmtree(tmp_path / "ray")


def test_a_reduce_task_whose_worker_dies_is_retried_with_the_same_bytes(ray_cluster, tmp_path):
    """The worker running the first keyed reduce task SIGKILLs itself after writing its
    partition's removals (CURATE_FAILPOINT=reduce_partition:1:die-once:<flag>, given to this
    job's workers through Ray's runtime_env): Ray runs the task again and the run's data and
    removed files are byte for byte the local pool's."""
    import ray

    from tests.reliability.test_crash_resume import files_of

    root = tmp_path / "corpus"
    write_corpus(root, dumps=3)
    stages = [{"exact_dedup": {}}, {"minhash_dedup": {}}]
    _run(root, tmp_path / "local", LocalExecutor(2), stages)
    flag = tmp_path / "killed"
    env = {"CURATE_FAILPOINT": f"reduce_partition:1:die-once:{flag}"}
    ray.init(
        address=ray_cluster,
        runtime_env={"env_vars": env},
        include_dashboard=False,
        logging_level="warning",
        log_to_driver=False,
    )
    try:
        _run(root, tmp_path / "ray", RayExecutor(address=ray_cluster), stages)
    finally:
        ray.shutdown()
    assert flag.exists(), "no reduce task was killed"
    local = files_of(tmp_path / "local")
    assert any(name.startswith("removed/exact_dedup") for name in local)
    assert files_of(tmp_path / "ray") == local
    assert not [p for p in (tmp_path / "ray").rglob("*") if p.name.endswith(".tmp")]


def test_simhash_tasks_on_ray_give_the_same_cuts_and_index_as_local(ray_cluster, tmp_path):
    """simhash_dedup's barrier runs as reduce tasks on the cluster (one per permuted table, then
    one per share of the clusters). Two dumps, then a third through the index: the same cut
    texts, report numbers and byte-identical index files as local."""
    root = tmp_path / "corpus"
    write_corpus(root, dumps=3)
    reports = {}
    for name, make in (
        ("local", lambda: LocalExecutor(2)),
        ("ray", lambda: RayExecutor(address=ray_cluster)),
    ):
        index = str(tmp_path / f"index-{name}")
        for step, dumps in enumerate(("0[01]", "0[2]")):  # globs keep dump=NAME
            config = parse_pipeline(
                {
                    "name": "t",
                    "input": str(root / f"dump=CC-MAIN-2023-{dumps}"),
                    "output": str(tmp_path / f"{name}-{step}"),
                    "stages": [{"simhash_dedup": {"index": index}}],
                    "batch_size": 16,
                }
            )
            executor = make()
            try:
                reports[name, step] = run_pipeline(config, executor)
            finally:
                executor.close()

    def texts(path):
        return sorted(pq.read_table(path / "data").column("text").to_pylist())

    for step in (0, 1):
        local, on_ray = reports["local", step], reports["ray", step]
        assert check_balance(on_ray) == []
        decided = [r["stages"][0]["decision"] for r in (local, on_ray)]
        for d in decided:
            d.pop("seconds")
            d["index"].pop("path")
        assert decided[0] == decided[1] and decided[0]["units_removed"] > 0
        numbers = [
            [{k: v for k, v in s.items() if k != "params"} for s in stable(r)]
            for r in (local, on_ray)
        ]
        assert numbers[0] == numbers[1]  # the index path differs, the counts must not
        assert texts(tmp_path / f"ray-{step}") == texts(tmp_path / f"local-{step}")
    assert reports["local", 1]["stages"][0]["decision"]["near_committed_fingerprints"] > 0

    def index_files(name):
        return sorted(
            p.relative_to(tmp_path / name)
            for p in (tmp_path / name / "dumps").rglob("*")
            if p.is_file() and p.name != "meta.json"  # meta.json holds the commit time
        )

    files = index_files("index-local")
    assert files == index_files("index-ray")
    # per dump: docs pieces (by ordinal range), fingerprint and cluster pieces (by cluster
    # share, written by the cluster tasks; so are merges-<share>, when a run joins committed
    # clusters)
    for dump in ("000001", "000002", "000003"):
        names = [f.name for f in files if f.parent.name == dump]
        for kind in ("docs-", "part-00-", "clusters-"):
            assert any(n.startswith(kind) for n in names), (dump, kind)
    for rel in files:
        ours, theirs = tmp_path / "index-local" / rel, tmp_path / "index-ray" / rel
        assert ours.read_bytes() == theirs.read_bytes(), rel
    for meta in (tmp_path / "index-local" / "dumps").glob("*/meta.json"):
        other = tmp_path / "index-ray" / meta.relative_to(tmp_path / "index-local")
        ours, theirs = (json.loads(m.read_text()) for m in (meta, other))
        assert ours.pop("committed_at") and theirs.pop("committed_at")
        assert ours == theirs
