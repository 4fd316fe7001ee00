"""Ray without a shared filesystem: a two-node Ray cluster on 127.0.0.1 whose nodes (started
after the S3 endpoint, with its address and credentials in their environment, as a cluster's
nodes have theirs) run a pipeline from s3:// to s3:// and `curate ingest`, with CURATE_STAGING
and HOME pointing below a regular file, where no staging folder can be made. Both nodes are on
one machine, so this shows that no staging folder is used, not that none is shared.

Skip locally with `pytest -m "not ray"`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

pytest.importorskip("ray")
boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

from tests.executors.test_ray import ENV, _free_port  # noqa: E402
from tests.reliability.test_crash_resume import subset  # noqa: E402
from tests.test_storage import counts, curate, local_ids, pipeline, read_back  # noqa: E402

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The S3 endpoint, then `ray start --head` and a second node, 1 CPU each, whose
    environment has the endpoint, the credentials and a CURATE_STAGING that cannot exist."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    root = tmp_path_factory.mktemp("ray-s3")
    blocker = root / "not-a-folder"
    blocker.write_text("a file")
    env = {
        **ENV,
        "AWS_ACCESS_KEY_ID": "curate-test",
        "AWS_SECRET_ACCESS_KEY": "curate-test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "CURATE_STAGING": str(blocker / "staging"),
        "HOME": str(blocker / "home"),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    client = boto3.client("s3")
    client.create_bucket(Bucket="corpus")
    local_in = subset(root)
    for path in sorted(local_in.rglob("*.parquet")):
        client.upload_file(str(path), "corpus", f"in/{path.relative_to(local_in).as_posix()}")
    ray_bin = str(Path(sys.executable).with_name("ray"))
    address = f"127.0.0.1:{_free_port()}"
    common = ["--num-cpus=1", "--disable-usage-stats", "--node-ip-address=127.0.0.1"]
    # `ray start` keeps its session under the temp folder, not HOME
    node_env = {**os.environ}
    try:
        subprocess.run(
            [ray_bin, "start", "--head", f"--port={address.split(':')[1]}",
             "--include-dashboard=false", *common],
            check=True, env=node_env, capture_output=True, timeout=180,
        )  # fmt: skip
        subprocess.run(
            [ray_bin, "start", f"--address={address}", *common],
            check=True, env=node_env, capture_output=True, timeout=180,
        )  # fmt: skip
        yield {"address": address, "client": client, "root": root, "local_in": local_in,
               "blocker": blocker}  # fmt: skip
    finally:
        subprocess.run([ray_bin, "stop", "--force"], env=node_env, capture_output=True,
                       timeout=180)  # fmt: skip
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()


def test_s3_to_s3_on_two_ray_nodes_equals_the_local_run(cluster):
    root = cluster["root"]
    out = root / "local-out"
    r = curate("run", pipeline(root, str(cluster["local_in"]), str(out)), "--workers", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    local = json.loads((out / "report.json").read_text()), local_ids(out)
    pipe = pipeline(root, "s3://corpus/in", "s3://corpus/on-ray")
    r = curate("run", pipe, "--executor", "ray", "--address", cluster["address"])
    assert r.returncode == 0, r.stderr[-3000:]
    report, ids = read_back(cluster["client"], "on-ray")
    assert report["executor"]["name"] == "ray" and report["executor"]["nodes"] == 2
    assert counts(report) == counts(local[0]) and ids == local[1]
    assert not (cluster["blocker"].parent / "staging").exists()


def test_ingest_on_two_ray_nodes_writes_the_same_files_as_local(cluster, tmp_path):
    """`curate ingest` on Ray: local folders give the local executor's files byte for byte;
    from the bucket to the bucket, the same rows."""
    from tests.conftest import stdlib_docs
    from tests.warc_files import html_pages, write_warc, write_wet

    crawl = tmp_path / "crawl" / "CC-MAIN-2024-10"
    crawl.mkdir(parents=True)
    pages = html_pages(30)
    write_warc(crawl / "a.warc.gz", pages, big_mb=0)
    write_warc(crawl / "b.warc", pages[10:], big_mb=0)
    write_wet(crawl / "c.warc.wet", stdlib_docs()[:12])
    outs = {}
    on_ray = ["--executor", "ray", "--address", cluster["address"]]
    for name, args in (("local", ["--workers", "2"]), ("ray", on_ray)):
        r = curate("ingest", tmp_path / "crawl", "--output", tmp_path / name, *args)
        assert r.returncode == 0, r.stderr[-3000:]
        outs[name] = {
            p.relative_to(tmp_path / name).as_posix(): p.read_bytes()
            for p in sorted((tmp_path / name).rglob("*.parquet"))
        }
    assert outs["ray"] == outs["local"] and any(k.startswith("dump=") for k in outs["local"])
    for f in sorted(crawl.iterdir()):
        cluster["client"].upload_file(str(f), "corpus", f"crawl/CC-MAIN-2024-10/{f.name}")
    r = curate("ingest", "s3://corpus/crawl", "--output", "s3://corpus/cc-ray",
               "--executor", "ray", "--address", cluster["address"])  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    manifest = json.loads(
        cluster["client"].get_object(Bucket="corpus", Key="cc-ray/_manifest.json")["Body"].read()
    )
    objects = {o["name"]: o["object"] for o in manifest["objects"]}
    assert {n for n in objects if n.endswith(".parquet")} == set(outs["local"])
    for name, obj in objects.items():
        if name.endswith(".parquet"):
            body = cluster["client"].get_object(Bucket="corpus", Key=f"cc-ray/{obj}")["Body"]
            ours = pq.read_table(pa.BufferReader(body.read()))
            theirs = pq.read_table(tmp_path / "local" / name)
            if "source_file" in ours.column_names:  # names the input: s3://... here
                ours, theirs = (t.drop_columns(["source_file"]) for t in (ours, theirs))
            assert ours.equals(theirs), name


def test_indexes_in_the_bucket_on_two_ray_nodes_equal_local_indexes(cluster):
    """url_dedup, minhash_dedup and simhash_dedup with their cross-dump indexes in the bucket,
    on two Ray nodes: the tasks on either node write the index's pieces straight into the
    bucket (no node has a staging folder it could write), the driver commits; the output and
    every index equal the local run's."""
    import yaml

    from tests.test_storage import INDEXED, index_content, indexed

    root = cluster["root"]
    local = root / "indexed-local"
    pipe = root / "indexed-local.yaml"
    pipe.write_text(yaml.safe_dump(indexed(str(cluster["local_in"]), str(local / "out"),
                                           str(local / "idx"))))  # fmt: skip
    r = curate("run", pipe, "--workers", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    pipe = root / "indexed-ray.yaml"
    pipe.write_text(yaml.safe_dump(indexed("s3://corpus/in", "s3://corpus/indexed-ray",
                                           "s3://corpus/ray-idx")))  # fmt: skip
    r = curate("run", pipe, "--executor", "ray", "--address", cluster["address"])
    assert r.returncode == 0, r.stderr[-3000:]
    report, ids = read_back(cluster["client"], "indexed-ray")
    assert report["executor"]["name"] == "ray" and report["executor"]["nodes"] == 2
    local_report = json.loads((local / "out" / "report.json").read_text())
    assert counts(report) == counts(local_report) and ids == local_ids(local / "out")
    for kind in INDEXED:
        assert index_content(f"s3://corpus/ray-idx/{kind}") == index_content(
            str(local / "idx" / kind)
        ), kind
    assert not (cluster["blocker"].parent / "staging").exists()
