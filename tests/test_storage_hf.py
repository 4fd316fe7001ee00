"""hf:// against a Hub endpoint on 127.0.0.1 (tests/hub_server.py: the routes of the Hub's HTTP
API that huggingface_hub's HfFileSystem reads a dataset through, served from a local folder, as
moto's server is an S3 endpoint), with ``HF_ENDPOINT`` pointing the runs at it: a run whose
input is ``hf://datasets/...`` gives the local run's output; an ``hf://`` output or index is
refused with one line (the Hub is commit-based: curate does not write there)."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from curate.report import check_balance
from tests.reliability.test_crash_resume import subset
from tests.test_storage import counts, curate, local_ids, pipeline


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    pytest.importorskip("huggingface_hub")
    # imported here, not at collection: http.server's imports (email's submodules) would change
    # the docstrings tests.conftest.stdlib_docs reads for other tests' corpora
    from tests.hub_server import Hub

    root = tmp_path_factory.mktemp("hf")
    local_in = subset(root / "local")
    shutil.copytree(local_in, root / "hub" / "curate-test" / "sample" / "data")
    server = Hub(root / "hub").start()
    env = {
        "HF_ENDPOINT": server.url,
        "HF_HOME": str(root / "hf-home"),  # no token of this machine's
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_OFFLINE": "0",
    }
    try:
        yield {"server": server, "env": env, "root": root, "local_in": local_in}
    finally:
        server.stop()


def test_hf_input_equals_the_local_run(hub, tmp_path):
    local = tmp_path / "local"
    r = curate("run", pipeline(tmp_path, str(hub["local_in"]), str(local)), "--workers", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    out = tmp_path / "out"
    hub["server"].requests.clear()
    url = "hf://datasets/curate-test/sample/data"
    r = curate("run", pipeline(tmp_path, url, str(out)), "--workers", "2", env=hub["env"])
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    local_report = json.loads((local / "report.json").read_text())
    assert check_balance(report) == []
    assert counts(report) == counts(local_report) and local_ids(out) == local_ids(local)
    assert report["input"]["paths"] == [url]
    # it went over the Hub's API: the repository, its tree, and ranged reads of the files
    paths = [p for _, p in hub["server"].requests]
    assert any(p.startswith("/api/datasets/curate-test/sample/tree/main") for p in paths)
    assert any(p.startswith("/datasets/curate-test/sample/resolve/main/data/") for p in paths)


def test_hf_output_and_index_are_refused_with_one_line(hub, tmp_path):
    input = str(hub["local_in"])
    for output, stages in (
        ("hf://datasets/curate-test/sample/out", None),
        (str(tmp_path / "o"), [{"url_dedup": {"index": "hf://datasets/curate-test/sample/idx"}}]),
    ):
        pipe = pipeline(tmp_path, input, output)
        if stages:
            body = yaml.safe_load(pipe.read_text())
            pipe.write_text(yaml.safe_dump({**body, "stages": stages}))
        r = curate("run", pipe, env=hub["env"])
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
        line = [x for x in r.stderr.splitlines() if x.startswith("curate: error:")]
        assert len(line) == 1 and "hf://" in line[0], r.stderr[-2000:]
        assert "commit" in line[0] or "write-if-absent" in line[0], line[0]


def test_a_missing_hf_repository_is_one_clear_line(hub, tmp_path):
    url = "hf://datasets/curate-test/no-such-repo"
    r = curate("run", pipeline(tmp_path, url, str(tmp_path / "o")), env=hub["env"])
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    line = [x for x in r.stderr.splitlines() if x.startswith("curate: error:")]
    assert len(line) == 1 and url in line[0], r.stderr[-2000:]
