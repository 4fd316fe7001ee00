"""hf:// against a Hub endpoint on 127.0.0.1 (tests/hub_server.py: the routes of the Hub's HTTP
API that huggingface_hub's HfFileSystem reads a repository through and HfApi.create_commit
writes it through, served from a local folder, as moto's server is an S3 endpoint), with
``HF_ENDPOINT`` pointing the runs at it and a token it checks (``HF_TOKEN``): a run whose input
is ``hf://datasets/...`` gives the local run's output; a run from hf:// to hf:// equals the
local run and is published by one commit; a killed run publishes nothing and resumes to the
same output; URL, MinHash and SimHash indexes on the Hub, dump by dump, equal the local ones; a
kill in an index commit leaves the lock, another run is refused with one line telling how to
take it over (and ``--break-lock`` does); a second commit of a dump number is refused; a
missing repository, a wrong token or none is one line naming the URL."""

from __future__ import annotations

import json
import shutil

import pyarrow.parquet as pq
import pytest
import yaml

from curate.report import check_balance
from tests.reliability.test_crash_resume import subset
from tests.test_storage import INDEXED, counts, curate, index_content, indexed, local_ids, pipeline

TOKEN = "hf_curate_test_token"
REPO = "curate-test/sample"


@pytest.fixture(scope="module")
def hub(tmp_path_factory):
    pytest.importorskip("huggingface_hub")
    # imported here, not at collection: http.server's imports (email's submodules) would change
    # the docstrings tests.conftest.stdlib_docs reads for other tests' corpora
    from tests.hub_server import Hub

    root = tmp_path_factory.mktemp("hf")
    local_in = subset(root / "local")
    shutil.copytree(local_in, root / "hub" / REPO / "data")
    # parquet files of 64 KiB and more go through the LFS batch API, smaller ones inline
    server = Hub(root / "hub", token=TOKEN).start()
    env = {
        "HF_ENDPOINT": server.url,
        "HF_HOME": str(root / "hf-home"),  # no token of this machine's
        "HF_TOKEN": TOKEN,
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_OFFLINE": "0",
        # LFS files through the LFS batch API, which the endpoint speaks, not Xet, which it does
        # not (huggingface_hub uses Xet whenever hf_xet is installed)
        "HF_HUB_DISABLE_XET": "1",
        "CURATE_HF_STAGING": str(root / "staging"),
    }
    try:
        yield {"server": server, "env": env, "root": root, "local_in": local_in,
               "repo": root / "hub" / REPO}  # fmt: skip
    finally:
        server.stop()


@pytest.fixture(scope="module")
def local_run(hub):
    out = hub["root"] / "local-out"
    r = curate("run", pipeline(hub["root"], str(hub["local_in"]), str(out)), "--workers", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads((out / "report.json").read_text()), local_ids(out)


def read_back(repo, prefix: str) -> tuple[dict, dict[str, list[str]]]:
    """The published report and the ids of every folder, read through the manifest only (from
    the repository's files as the endpoint holds them)."""
    manifest = json.loads((repo / prefix / "_manifest.json").read_text())
    objects = {o["name"]: o["object"] for o in manifest["objects"]}
    report = json.loads((repo / prefix / objects["report.json"]).read_text())
    ids: dict[str, list[str]] = {}
    for name, obj in objects.items():
        if name.endswith(".parquet") and "_bad_files" not in name:
            table = pq.read_table(repo / prefix / obj, columns=["id"])
            ids.setdefault(name.rsplit("/", 1)[0], []).extend(table["id"].to_pylist())
    return report, {k: sorted(v) for k, v in ids.items()}


def files_under(repo, prefix: str) -> list[str]:
    base = repo / prefix
    return sorted(p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())


def one_error_line(r) -> str:
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    line = [x for x in r.stderr.splitlines() if x.startswith("curate: error:")]
    assert len(line) == 1, r.stderr[-2000:]
    return line[0]


def test_hf_input_equals_the_local_run(hub, local_run, tmp_path):
    out = tmp_path / "out"
    hub["server"].requests.clear()
    url = f"hf://datasets/{REPO}/data"
    r = curate("run", pipeline(tmp_path, url, str(out)), "--workers", "2", env=hub["env"])
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    assert check_balance(report) == []
    assert counts(report) == counts(local_run[0]) and local_ids(out) == local_run[1]
    assert report["input"]["paths"] == [url]
    # it went over the Hub's API: the repository, its tree, and ranged reads of the files
    paths = [p for _, p in hub["server"].requests]
    assert any(p.startswith(f"/api/datasets/{REPO}/tree/main") for p in paths)
    assert any(p.startswith(f"/datasets/{REPO}/resolve/main/data/") for p in paths)


def test_hf_to_hf_equals_the_local_run_in_one_commit(hub, local_run):
    """Output on the Hub: the run is staged locally and published by one commit (its files
    under their plain names, and _manifest.json); a second run into it replaces the first in
    one commit that also deletes what only the first wrote; a run reading the published
    folder reads what the manifest lists."""
    server, repo = hub["server"], hub["repo"]
    server.requests.clear()
    before = len(server.commits)
    url = f"hf://datasets/{REPO}/out"
    pipe = pipeline(hub["root"], f"hf://datasets/{REPO}/data", url)
    r = curate("run", pipe, "--workers", "2", env=hub["env"])
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"to {url} (in one commit)" in r.stdout
    report, ids = read_back(repo, "out")
    assert check_balance(report) == []
    assert counts(report) == counts(local_run[0]) and ids == local_run[1]
    commits = server.commits[before:]
    assert len(commits) == 1 and commits[0]["summary"].startswith("curate: publish run")
    manifest = json.loads((repo / "out" / "_manifest.json").read_text())
    names = sorted(o["name"] for o in manifest["objects"])
    assert files_under(repo, "out") == sorted([*names, "_manifest.json"])
    assert not any(n.startswith("_work/") for n in names)
    # big files went through the LFS batch API and an upload, small ones inline
    paths = [p for _, p in server.requests]
    assert f"/datasets/{REPO}.git/info/lfs/objects/batch" in paths
    assert any(p.startswith("/lfs/") for p in paths)
    assert not list((hub["root"] / "staging").iterdir())  # the staging folder is gone

    # a file only the first run wrote (as if the pipeline had changed) is deleted by the next
    (repo / "out" / "data" / "part-99999.parquet").write_bytes(b"stale")
    manifest["objects"].append({"name": "data/part-99999.parquet", "object":
                                "data/part-99999.parquet", "size": 5})  # fmt: skip
    (repo / "out" / "_manifest.json").write_text(json.dumps(manifest))
    before = len(server.commits)
    r = curate("run", pipe, "--workers", "1", env=hub["env"])
    assert r.returncode == 0, r.stderr[-3000:]
    (commit,) = server.commits[before:]
    assert commit["deleted"] == ["out/data/part-99999.parquet"]
    assert read_back(repo, "out")[1] == local_run[1]

    # the published folder as input: what its manifest lists
    again = hub["root"] / "again"
    r = curate("run", pipeline(hub["root"], f"{url}/data", str(again)), env=hub["env"])
    assert r.returncode == 0, r.stderr[-3000:]
    assert local_ids(again)["data"] == local_run[1]["data"]


KILLS = {
    "pass 1 writes": ["write_batch:9"],
    "url_dedup decide": ["decide:1"],
    "before the commit": ["publish_manifest:1"],
    "killed twice": ["write_batch:12", "decide:2"],
}


@pytest.mark.parametrize("scenario", sorted(KILLS))
def test_a_killed_hf_run_resumes_to_the_same_output(hub, local_run, scenario):
    """Killed anywhere before its commit, the run left nothing on the Hub (no commit, no file
    under its output); resumed, it publishes the local run's output."""
    server, repo = hub["server"], hub["repo"]
    prefix = "killed-" + scenario.replace(" ", "-")
    pipe = pipeline(hub["root"], f"hf://datasets/{REPO}/data", f"hf://datasets/{REPO}/{prefix}")
    before = len(server.commits)
    for i, point in enumerate(KILLS[scenario]):
        args = ["--resume"] if i else []
        r = curate("run", pipe, "--workers", "1", *args,
                   env={**hub["env"], "CURATE_FAILPOINT": point})  # fmt: skip
        assert r.returncode == -9, (point, r.returncode, r.stderr[-2000:])
        assert len(server.commits) == before and not (repo / prefix).exists()
    r = curate("run", pipe, "--workers", "1", "--resume", env=hub["env"])
    assert r.returncode == 0, r.stderr[-3000:]
    assert len(server.commits) == before + 1
    report, ids = read_back(repo, prefix)
    assert counts(report) == counts(local_run[0]) and ids == local_run[1]


def test_indexes_on_hf_equal_local_indexes_run_after_run(hub, tmp_path):
    """url_dedup, minhash_dedup and simhash_dedup with their cross-dump indexes on the Hub,
    dump by dump: each run equals the local one, and so does each index (every dump's manifest,
    docs rows and keys, as the repository holds them). Each index changes by a few commits per
    run: its lock, one commit per dump (its pieces and meta.json together), the unlock."""
    server, repo = hub["server"], hub["repo"]
    results = {}
    for attempt, dump in ((1, "CC-MAIN-2023-06"), (2, "CC-MAIN-2023-14")):
        local_pipe = tmp_path / f"local-{attempt}.yaml"
        out = tmp_path / f"local-out-{attempt}"
        body = indexed(str(hub["local_in"] / f"dump={dump}"), str(out), str(tmp_path / "idx"))
        local_pipe.write_text(yaml.safe_dump(body))
        r = curate("run", local_pipe, "--workers", "1")
        assert r.returncode == 0, r.stderr[-3000:]
        local = (json.loads((out / "report.json").read_text()), local_ids(out))

        hf_pipe = tmp_path / f"hf-{attempt}.yaml"
        hf_out = tmp_path / f"hf-out-{attempt}"
        body = indexed(f"hf://datasets/{REPO}/data/dump={dump}", str(hf_out),
                       f"hf://datasets/{REPO}/idx")  # fmt: skip
        hf_pipe.write_text(yaml.safe_dump(body))
        before = len(server.commits)
        r = curate("run", hf_pipe, "--workers", "2", env=hub["env"])
        assert r.returncode == 0, r.stderr[-3000:]
        report = json.loads((hf_out / "report.json").read_text())
        assert counts(report) == counts(local[0]), attempt
        assert local_ids(hf_out) == local[1], attempt
        for at in (0, 2, 3):
            decision = report["stages"][at]["decision"]
            local_decision = local[0]["stages"][at]["decision"]
            for key in ("duplicates", "duplicates_of_committed_dumps", "removed"):
                assert decision.get(key) == local_decision.get(key), (attempt, at, key)
            assert decision["index"]["committed"] == local_decision["index"]["committed"]
        results[attempt] = report["stages"][0]["decision"]
        commits = server.commits[before:]
        for kind in INDEXED:
            hub_index = repo / "idx" / kind
            assert index_content(str(hub_index)) == index_content(str(tmp_path / "idx" / kind))
            assert len(index_content(str(hub_index))) == attempt
            assert not (hub_index / "_lock.json").exists()
            meta = json.loads((hub_index / "dumps" / f"{attempt:06d}" / "meta.json").read_text())
            assert meta["folder"].startswith("pieces-")
            mine = [c for c in commits if any(p.startswith(f"idx/{kind}/") for p in
                                              c["added"] + c["deleted"])]  # fmt: skip
            # (the first run also creates index.json) the lock, the dump, the unlock
            assert len(mine) == (4 if attempt == 1 else 3), (kind, mine)
            (dump_commit,) = [c for c in mine if f"idx/{kind}/dumps/{attempt:06d}/meta.json"
                              in c["added"]]  # fmt: skip
            assert all(p.startswith(f"idx/{kind}/dumps/{meta['folder']}/")
                       for p in dump_commit["added"] if not p.endswith("meta.json"))  # fmt: skip
    assert results[1]["duplicates_of_committed_dumps"] == 0
    assert results[2]["duplicates_of_committed_dumps"] > 0
    assert results[2]["index"]["deduplicated_against"] == ["CC-MAIN-2023-06"]
    # read through hf://: curate index info
    r = curate("index", "info", f"hf://datasets/{REPO}/idx/url", "--json", env=hub["env"])
    assert r.returncode == 0, r.stderr[-2000:]
    assert [d["dump"] for d in json.loads(r.stdout)["dumps"]] == [
        "CC-MAIN-2023-06",
        "CC-MAIN-2023-14",
    ]


INDEX_KILLS = {"before a commit": "index_commit:1", "after a commit": "index_committed:1"}


@pytest.fixture(scope="module")
def local_indexed_run(hub, tmp_path_factory):
    root = tmp_path_factory.mktemp("local-indexed")
    pipe = root / "p.yaml"
    pipe.write_text(yaml.safe_dump(indexed(str(hub["local_in"]), str(root / "out"),
                                           str(root / "idx"))))  # fmt: skip
    r = curate("run", pipe, "--workers", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    indexes = {kind: index_content(str(root / "idx" / kind)) for kind in INDEXED}
    return json.loads((root / "out" / "report.json").read_text()), local_ids(root / "out"), indexes


@pytest.mark.parametrize("scenario", sorted(INDEX_KILLS))
def test_a_run_killed_in_an_hf_index_commit_resumes_to_the_same_indexes(
    hub, local_indexed_run, tmp_path, scenario
):
    """Killed in the commit of its index on the Hub (output on the Hub too), the run leaves the
    index's lock: another run stops with one line telling how to take it over; the run resumed
    takes it over and ends with the output and indexes of the uninterrupted local run."""
    repo = hub["repo"]
    name = "ikill-" + scenario.replace(" ", "-")
    idx = f"hf://datasets/{REPO}/{name}-idx"
    output = f"hf://datasets/{REPO}/{name}"
    pipe = tmp_path / "p.yaml"
    pipe.write_text(yaml.safe_dump(indexed(f"hf://datasets/{REPO}/data", output, idx)))
    env = {**hub["env"], "CURATE_FAILPOINT": INDEX_KILLS[scenario]}
    r = curate("run", pipe, "--workers", "1", env=env)
    assert r.returncode == -9, (r.returncode, r.stderr[-2000:])
    assert (repo / f"{name}-idx" / "url" / "_lock.json").exists()
    committed = list((repo / f"{name}-idx" / "url" / "dumps").glob("*/meta.json"))
    assert len(committed) == (scenario == "after a commit")
    assert not (repo / name).exists()  # the output: nothing published
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(indexed(f"hf://datasets/{REPO}/data", str(tmp_path / "o"),
                                            idx)))  # fmt: skip
    line = one_error_line(curate("run", other, "--workers", "1", env=hub["env"]))
    assert "locked by another run" in line and f"{idx}/url/_lock.json" in line
    assert f"--output {output} --resume" in line and "--break-lock" in line
    r = curate("run", pipe, "--workers", "1", "--resume", env=hub["env"])
    assert r.returncode == 0, r.stderr[-3000:]
    report, ids = read_back(repo, name)
    local_report, local_out, local_indexes = local_indexed_run
    assert counts(report) == counts(local_report) and ids == local_out
    for kind in INDEXED:
        assert index_content(str(repo / f"{name}-idx" / kind)) == local_indexes[kind], kind
        assert not (repo / f"{name}-idx" / kind / "_lock.json").exists()
    assert not list((hub["root"] / "staging").iterdir())


def test_break_lock_takes_over_a_lock_nobody_will_resume(hub, local_indexed_run, tmp_path):
    """A lock left by a run that will never be resumed: the next run is refused with one line
    naming both ways out; run again with --break-lock, it takes the lock over, says so, and
    commits; the lock is gone after."""
    repo = hub["repo"]
    idx = f"hf://datasets/{REPO}/stale-idx"
    pipe = tmp_path / "p.yaml"
    pipe.write_text(yaml.safe_dump(indexed(f"hf://datasets/{REPO}/data", str(tmp_path / "a"),
                                           idx)))  # fmt: skip
    env = {**hub["env"], "CURATE_FAILPOINT": "index_commit:1"}
    assert curate("run", pipe, "--workers", "1", env=env).returncode == -9
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(indexed(f"hf://datasets/{REPO}/data", str(tmp_path / "b"),
                                            idx)))  # fmt: skip
    line = one_error_line(curate("run", other, "--workers", "1", env=hub["env"]))
    assert "--break-lock" in line and f"--output {tmp_path / 'a'} --resume" in line
    r = curate("run", other, "--workers", "1", "--break-lock", env=hub["env"])
    assert r.returncode == 0, r.stderr[-3000:]
    assert f"{idx}/url: took over the lock of {tmp_path / 'a'}" in r.stderr
    local_report, local_out, local_indexes = local_indexed_run
    assert local_ids(tmp_path / "b") == local_out
    for kind in INDEXED:
        assert index_content(str(repo / "stale-idx" / kind)) == local_indexes[kind], kind
        assert not (repo / "stale-idx" / kind / "_lock.json").exists()


RACE = """
import json, sys
import numpy as np
import pyarrow as pa
from curate.errors import CurateError
from curate.index.store import DedupIndex, fingerprint_ids
from curate.storage import create_once

url, root = sys.argv[1], sys.argv[2]
# the branch moves under the first two commits (the test queued two other writers' commits):
# an unrelated file, then the very file this one creates
out = {"moved": [create_once(url + "-moved", b"mine"), create_once(url + "-taken", b"mine")]}
out["created"] = [create_once(url, b"1"), create_once(url, b"2")]

def dump(n):
    ids = pa.array([f"d{n}-{i}" for i in range(5)])
    keys = np.arange(5, dtype=np.uint64) + np.uint64(10 * n)
    return ids, np.arange(5) | (1 << 32), [(keys, np.arange(5))]

first = DedupIndex(root, "url", {"a": 1}, 1)
second = DedupIndex(root, "url", {"a": 1}, 1)
out["empty"] = first.dumps() == second.dumps() == []
ids, roots, parts = dump(1)
first.commit("A", fingerprint_ids(ids), ids, roots, parts)
ids, roots, parts = dump(2)
print("second", flush=True)
try:
    second.commit("B", fingerprint_ids(ids), ids, roots, parts)
except CurateError as exc:
    out["refused"] = str(exc)
again = DedupIndex(root, "url", {"a": 1}, 1)
out["dumps"] = [d.name for d in again.dumps()]
out["folder"] = again.dumps()[0].path.name
print(json.dumps(out))
"""


def test_a_commit_of_a_number_another_run_took_is_refused(hub):
    """Two writers that bypass the lock: the second commit of the same sequence number is
    refused (meta.json is committed only if absent at the head the commit is made against, a
    parent_commit the endpoint checks) and commits nothing."""
    import os
    import subprocess
    import sys

    from tests.test_storage import REPO as CHECKOUT

    server = hub["server"]
    server.interleave = [{"once/unrelated": b"x"}, {"once/a-taken": b"theirs"}]
    refused = server.refused
    r = subprocess.run(
        [sys.executable, "-c", RACE, f"hf://datasets/{REPO}/once/a",
         f"hf://datasets/{REPO}/race-idx"],
        capture_output=True, text=True, cwd=CHECKOUT, env={**os.environ, **hub["env"]},
        timeout=300,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.splitlines()[-1])
    assert out["created"] == [True, False]
    assert (hub["repo"] / "once" / "a").read_bytes() == b"1"
    # a commit refused because the head moved is planned again against the new head: created
    # when the other writer's commit did not touch the path, not created when it did
    assert server.interleave == [] and server.refused == refused + 2
    assert out["moved"] == [True, False]
    assert (hub["repo"] / "once" / "a-moved").read_bytes() == b"mine"
    assert (hub["repo"] / "once" / "a-taken").read_bytes() == b"theirs"
    assert out["empty"] and out["dumps"] == ["A"]
    assert "another run committed dump 1" in out["refused"]
    # nothing of B's reached the repository: A's meta.json and pieces only
    race = [c for c in server.commits if any(p.startswith("race-idx/dumps/") for p in c["added"])]
    assert len(race) == 1
    folders = sorted(p.name for p in (hub["repo"] / "race-idx" / "dumps").iterdir())
    assert folders == sorted(["000001", out["folder"]])


def test_a_missing_repository_or_a_bad_token_is_one_clear_line(hub, tmp_path):
    input = str(hub["local_in"])
    url = "hf://datasets/curate-test/no-such-repo"
    line = one_error_line(curate("run", pipeline(tmp_path, url, str(tmp_path / "o")),
                                 env=hub["env"]))  # fmt: skip
    assert url in line and "does not exist" in line
    out = f"{url}/out"
    line = one_error_line(curate("run", pipeline(tmp_path, input, out), env=hub["env"]))
    assert out in line and "does not exist" in line and "hf repo create" in line
    out = f"hf://datasets/{REPO}/denied"
    bad = {**hub["env"], "HF_TOKEN": "hf_wrong"}
    line = one_error_line(curate("run", pipeline(tmp_path, input, out), env=bad))
    assert out in line and "access denied" in line and "HF_TOKEN" in line
    no_token = {**hub["env"], "HF_TOKEN": ""}
    line = one_error_line(curate("run", pipeline(tmp_path, input, out), env=no_token))
    assert out in line and "needs a token" in line
    idx = f"hf://datasets/{REPO}/denied-idx"
    pipe = tmp_path / "i.yaml"
    body = yaml.safe_load(pipeline(tmp_path, input, str(tmp_path / "x")).read_text())
    pipe.write_text(yaml.safe_dump({**body, "stages": [{"url_dedup": {"index": idx}}]}))
    r = curate("run", pipe, env=bad)
    line = one_error_line(r)
    assert idx in line and "access denied" in line
    assert "writing" not in r.stderr and not (tmp_path / "x").exists()  # before any work
    assert not (hub["repo"] / "denied").exists() and not (hub["repo"] / "denied-idx").exists()


def test_ingest_to_hf_then_run_from_it(hub, tmp_path):
    """`curate ingest --output hf://...`: staged locally, published by one commit with its
    manifest; a run reading that folder from the Hub reads every document written."""
    from tests.warc_files import html_pages, write_warc

    (tmp_path / "CC-MAIN-2024-10").mkdir()
    crawl = write_warc(tmp_path / "CC-MAIN-2024-10" / "a.warc.gz", html_pages(12), big_mb=0)
    before = len(hub["server"].commits)
    url = f"hf://datasets/{REPO}/cc"
    r = curate("ingest", tmp_path / "CC-MAIN-2024-10", "--output", url, "--workers", "1",
               env=hub["env"])  # fmt: skip
    assert r.returncode == 0, r.stderr[-3000:]
    assert len(hub["server"].commits) == before + 1
    manifest = json.loads((hub["repo"] / "cc" / "_manifest.json").read_text())
    names = {o["name"] for o in manifest["objects"]}
    assert "dump=CC-MAIN-2024-10/a-00000.parquet" in names and "ingest_report.json" in names
    assert not any(n.startswith("_ingest/") for n in names)
    report = json.loads((hub["repo"] / "cc" / "ingest_report.json").read_text())
    assert report["totals"]["written"] == len(crawl.written)
    out = tmp_path / "run"
    r = curate("run", pipeline(tmp_path, url, str(out)), "--workers", "1", env=hub["env"])
    assert r.returncode == 0, r.stderr[-3000:]
    assert json.loads((out / "report.json").read_text())["totals"]["docs_in"] == len(crawl.written)
