"""Object storage against a real S3 endpoint on 127.0.0.1 (moto's ThreadedMotoServer, started
here; no mock of curate's storage layer): a pipeline from s3:// to s3:// equals the local run, a
killed run resumes to the same output, readers trust only what the manifest lists, and a
missing bucket or wrong credentials give one clear line naming the URL."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from curate.report import check_balance
from tests.reliability.test_crash_resume import subset

boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")

REPO = Path(__file__).resolve().parents[1]
STAGES = [{"url_dedup": {}}, {"exact_dedup": {}}, {"minhash_dedup": {"num_perm": 64}}]


@pytest.fixture(scope="module")
def s3(tmp_path_factory):
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    env = {
        "AWS_ACCESS_KEY_ID": "curate-test",
        "AWS_SECRET_ACCESS_KEY": "curate-test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "CURATE_STAGING": str(tmp_path_factory.mktemp("staging")),
    }
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    client = boto3.client("s3")
    client.create_bucket(Bucket="corpus")
    root = tmp_path_factory.mktemp("s3")
    local_in = subset(root)
    for path in sorted(local_in.rglob("*.parquet")):
        client.upload_file(str(path), "corpus", f"in/{path.relative_to(local_in).as_posix()}")
    try:
        yield {"env": env, "client": client, "local_in": local_in, "root": root}
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.stop()


def curate(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "curate.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        start_new_session=True,
        timeout=600,
    )


def pipeline(where: Path, input: str, output: str) -> Path:
    path = where / f"p-{abs(hash(output))}.yaml"
    body = {"name": "s3", "input": input, "output": output, "batch_size": 64, "stages": STAGES}
    path.write_text(yaml.safe_dump(body))
    return path


def get_json(client, key: str) -> dict:
    return json.loads(client.get_object(Bucket="corpus", Key=key)["Body"].read())


def read_back(client, prefix: str) -> tuple[dict, dict[str, list[str]]]:
    """The published report and the ids of every folder, read through the manifest only."""
    manifest = get_json(client, f"{prefix}/_manifest.json")
    objects = {o["name"]: o["object"] for o in manifest["objects"]}
    report = get_json(client, f"{prefix}/{objects['report.json']}")
    ids: dict[str, list[str]] = {}
    for name, obj in objects.items():
        if name.endswith(".parquet") and "_bad_files" not in name:
            body = client.get_object(Bucket="corpus", Key=f"{prefix}/{obj}")["Body"].read()
            folder = name.rsplit("/", 1)[0]
            table = pq.read_table(pa.BufferReader(body), columns=["id"])
            ids.setdefault(folder, []).extend(table["id"].to_pylist())
    return report, {k: sorted(v) for k, v in ids.items()}


def local_ids(out: Path) -> dict[str, list[str]]:
    ids: dict[str, list[str]] = {}
    for f in sorted(out.rglob("*.parquet")):
        rel = f.relative_to(out).as_posix()
        if rel.startswith("_work") or "_bad_files" in rel:
            continue
        table = pq.read_table(f, columns=["id"])
        ids.setdefault(rel.rsplit("/", 1)[0], []).extend(table["id"].to_pylist())
    return {k: sorted(v) for k, v in ids.items()}


def counts(report: dict) -> dict:
    timing = ("seconds", "docs_per_second", "mb_per_second")
    t = {k: v for k, v in report["totals"].items() if k not in timing}
    stages = [
        {k: v for k, v in s.items() if k not in ("seconds", "params", "decision")}
        for s in report["stages"]
    ]
    return {"totals": t, "stages": stages}


@pytest.fixture(scope="module")
def local_run(s3):
    out = s3["root"] / "local-out"
    r = curate("run", pipeline(s3["root"], str(s3["local_in"]), str(out)), "--workers", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    return json.loads((out / "report.json").read_text()), local_ids(out)


def test_s3_to_s3_equals_the_local_run(s3, local_run):
    r = curate("run", pipeline(s3["root"], "s3://corpus/in", "s3://corpus/out"), "--workers", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "published" in r.stdout
    report, ids = read_back(s3["client"], "out")
    assert check_balance(report) == []
    assert counts(report) == counts(local_run[0])
    assert ids == local_run[1]
    # the input was read from the bucket: the report names s3:// files
    assert report["input"]["paths"] == ["s3://corpus/in"]


# Kill points in every phase, as tests/reliability/test_crash_resume.py does locally: shard
# writes (the upload of a finished file), markers, each barrier (keyed reduce tasks, the MinHash
# rounds' files), cleanup, the report and the manifest; several kills in a row.
KILLS = {
    "pass 1 writes": ["write_batch:9"],
    "an upload": ["upload_object:7"],
    "a marker": ["shard_done:5"],
    "url_dedup decide": ["decide:1"],
    "keyed reduce task": ["reduce_partition:1"],
    "minhash decide": ["decide:3"],
    "pass cleanup": ["pass_cleanup:1"],
    "before the report": ["before_report:1"],
    "before the manifest": ["publish_manifest:1"],
    "2 workers, writes": ["write_batch:6/2"],
    "killed twice": ["write_batch:12", "decide:2"],
}


@pytest.mark.parametrize("scenario", sorted(KILLS))
def test_a_killed_s3_run_resumes_to_the_same_output(s3, local_run, scenario):
    from curate.errors import InputError
    from curate.io import discover_files

    prefix = "killed-" + scenario.replace(" ", "-").replace(",", "")
    pipe = pipeline(s3["root"], "s3://corpus/in", f"s3://corpus/{prefix}")
    for i, point in enumerate(KILLS[scenario]):
        point, _, workers = point.partition("/")
        args = ["--resume"] if i else []
        r = curate("run", pipe, "--workers", workers or "1", *args,
                   env={"CURATE_FAILPOINT": point})  # fmt: skip
        assert r.returncode == -9, (point, r.returncode, r.stderr[-2000:])
        # the workers wrote straight into the bucket, and a reader sees none of it: the
        # manifest (written first, empty) lists nothing until the run is whole
        keys = [o["Key"] for o in s3["client"].list_objects_v2(
            Bucket="corpus", Prefix=f"{prefix}/_runs/")["Contents"]]  # fmt: skip
        assert any("/_work/" in k for k in keys)
        assert get_json(s3["client"], f"{prefix}/_manifest.json")["objects"] == []
        with pytest.raises(InputError, match="no objects found"):
            discover_files([f"s3://corpus/{prefix}"])
    r = curate("run", pipe, "--workers", "1", "--resume")
    assert r.returncode == 0, r.stderr[-3000:]
    report, ids = read_back(s3["client"], prefix)
    assert counts(report) == counts(local_run[0]) and ids == local_run[1]


def test_readers_trust_only_the_manifest(s3, local_run):
    from curate.io import discover_files

    client = s3["client"]
    pipe = pipeline(s3["root"], "s3://corpus/in", "s3://corpus/again")
    assert curate("run", pipe, "--workers", "1").returncode == 0
    # an object no manifest lists (a half-written later run, say) is not read
    client.put_object(Bucket="corpus", Key="again/data/part-00000-stray.parquet", Body=b"junk")
    files = discover_files(["s3://corpus/again/data"])
    assert "stray" not in " ".join(f.path for f in files)
    assert [f.relpath for f in files] == sorted(f.relpath for f in files)
    assert all(f.relpath.startswith("part-") and f.relpath.count("-") == 1 for f in files)
    # a second run replaces the first: a new manifest, the old objects deleted after it
    first = get_json(client, "again/_manifest.json")
    assert curate("run", pipe, "--workers", "1").returncode == 0
    second = get_json(client, "again/_manifest.json")
    assert first["run_id"] != second["run_id"]
    listed = client.list_objects_v2(Bucket="corpus", Prefix="again/")["Contents"]
    keys = {o["Key"] for o in listed if not o["Key"].endswith("/")}  # pyarrow's folder markers
    work = f"again/_runs/{second['run_id']}/_work/"  # markers and summaries, as a local run's
    published = {f"again/{o['object']}" for o in second["objects"]}
    assert {k for k in keys if not k.startswith(work)} == published | {
        "again/_manifest.json",
        "again/_run.json",
    }
    assert not any(first["run_id"] in k for k in keys)  # the first run's objects are gone
    # and curate run reads the published output as its input
    r = curate("run", pipeline(s3["root"], "s3://corpus/again/data", str(s3["root"] / "from-out")))
    assert r.returncode == 0, r.stderr[-2000:]
    rerun = json.loads((s3["root"] / "from-out" / "report.json").read_text())
    assert rerun["totals"]["docs_in"] == local_run[0]["totals"]["docs_out"]


def test_a_missing_bucket_is_one_clear_line(s3):
    r = curate("run", pipeline(s3["root"], "s3://no-such-bucket/in", str(s3["root"] / "o")))
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    line = [x for x in r.stderr.splitlines() if x.startswith("curate: error:")]
    assert len(line) == 1 and "s3://no-such-bucket/in" in line[0] and "does not exist" in line[0]


def test_wrong_credentials_are_one_clear_line(tmp_path):
    """A second S3 endpoint that checks credentials (moto with IAM auth on from the first
    request): a key it does not know is refused, and curate says so naming the URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = (
        "import time; from moto.server import ThreadedMotoServer; "
        f"s = ThreadedMotoServer(ip_address='127.0.0.1', port={port}); s.start(); time.sleep(600)"
    )
    server = subprocess.Popen(
        [sys.executable, "-c", code],
        env={**os.environ, "INITIAL_NO_AUTH_ACTION_COUNT": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.1)
        env = {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_ACCESS_KEY_ID": "WRONGKEY",
               "AWS_SECRET_ACCESS_KEY": "wrong"}  # fmt: skip
        for input, output in (("s3://corpus/in", str(tmp_path / "o")),
                              (str(tmp_path), "s3://corpus/out")):  # fmt: skip
            (tmp_path / "x.jsonl").write_text('{"text": "a document"}\n')
            r = curate("run", pipeline(tmp_path, input, output), env=env)
            assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
            line = [x for x in r.stderr.splitlines() if x.startswith("curate: error:")]
            url = input if input.startswith("s3://") else output
            assert len(line) == 1 and url in line[0], r.stderr
            assert "access denied: check the credentials" in line[0], line[0]
            assert not (tmp_path / "o").exists()  # before any work
    finally:
        server.kill()
        server.wait()


def test_ingest_from_s3_to_s3_then_run_from_it(s3, tmp_path):
    from tests.warc_files import html_pages, write_warc

    crawl = write_warc(tmp_path / "a.warc.gz", html_pages(12), big_mb=0)
    # a prefix of its own: moto keeps one bucket store per process, so the Ray storage tests'
    # crawl/ objects may be there already
    s3["client"].upload_file(
        str(tmp_path / "a.warc.gz"), "corpus", "s3-crawl/CC-MAIN-2024-10/a.warc.gz"
    )
    r = curate("ingest", "s3://corpus/s3-crawl", "--output", "s3://corpus/cc", "--workers", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    manifest = get_json(s3["client"], "cc/_manifest.json")
    names = {o["name"] for o in manifest["objects"]}
    assert "dump=CC-MAIN-2024-10/a-00000.parquet" in names and "ingest_report.json" in names
    obj = {o["name"]: o["object"] for o in manifest["objects"]}["ingest_report.json"]
    report = get_json(s3["client"], f"cc/{obj}")
    assert report["totals"]["written"] == len(crawl.written)
    assert report["totals"]["quarantined"] == len(crawl.quarantined)
    out = tmp_path / "run"
    r = curate("run", pipeline(tmp_path, "s3://corpus/cc", str(out)), "--workers", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    run = json.loads((out / "report.json").read_text())
    assert run["totals"]["docs_in"] == len(crawl.written)
    dumps = set(pq.read_table(out / "data", columns=["dump"])["dump"].to_pylist())
    removed = out / "removed"
    if removed.exists():
        dumps |= set(pq.read_table(removed, columns=["dump"])["dump"].to_pylist())
    assert dumps == {"CC-MAIN-2024-10"}


def test_a_model_named_by_s3_url_is_fetched_with_its_companions(s3, tmp_path):
    """perplexity_filter with its KenLM model (and the SentencePiece model and the model of
    negatives beside it) in the bucket: the same output as with the local files."""
    companions = ("en_math.arpa", "en_math.negatives.arpa", "en_math.sp.model")
    for name in companions:
        s3["client"].upload_file(str(REPO / "models" / name), "corpus", f"models/{name}")
    outs = {}
    for where, model in (("local", str(REPO / "models" / "en_math.arpa")),
                         ("s3", "s3://corpus/models/en_math.arpa")):  # fmt: skip
        body = {
            "name": "lm",
            "input": str(s3["local_in"]),
            "output": str(tmp_path / where),
            "stages": [
                {"perplexity_filter": {"models": {"en": model},
                                       "thresholds": {"default": {"keep_below": "p80"}}}}
            ],
        }  # fmt: skip
        pipe = tmp_path / f"{where}.yaml"
        pipe.write_text(yaml.safe_dump(body))
        env = {"CURATE_MODEL_CACHE": str(tmp_path / "cache")}
        r = curate("run", pipe, "--workers", "2", env=env)
        assert r.returncode == 0, r.stderr[-3000:]
        outs[where] = local_ids(tmp_path / where)
    assert outs["s3"] == outs["local"] and outs["local"].get("removed/perplexity_filter")
    cached = sorted(p.name for p in (tmp_path / "cache").rglob("*") if p.is_file())
    assert cached == sorted(companions)


INDEXED = ("url", "minhash", "simhash")


def indexed(input: str, output: str, idx: str) -> dict:
    """url_dedup, minhash_dedup and simhash_dedup, each with its cross-dump index under idx."""
    return {
        "name": "idx",
        "input": input,
        "output": output,
        "batch_size": 64,
        "stages": [
            {"url_dedup": {"index": f"{idx}/url"}},
            {"exact_dedup": {}},
            {"minhash_dedup": {"num_perm": 64, "index": f"{idx}/minhash"}},
            {"simhash_dedup": {"index": f"{idx}/simhash"}},
        ],
    }


def index_content(root: str) -> list[dict]:
    """Every committed dump of the index at ``root`` (a folder or an s3:// URL), read through
    curate's own reader: its meta.json (less commit time and where its pieces are), the rows of
    its docs pieces and of each partition's key pieces, and its stage tables."""
    from curate.index.store import DedupIndex, index_info, read_parquet

    info = index_info(root)
    index = DedupIndex(root, info["kind"], info["params"], info["partitions"])
    out = []
    for d in index.dumps():
        docs = pa.concat_tables(read_parquet(d.path / f, index.meter) for _, _, f in d.pieces)
        parts = {}
        for p in range(info["partitions"]):
            tables = [read_parquet(d.path / f, index.meter) for *_, f in d.parts_of(p)]
            if tables:
                parts[p] = pa.concat_tables(tables).sort_by([("key", "ascending")]).to_pydict()
        tables = sorted(
            (str(f).rsplit("/", 1)[1], read_parquet(f, index.meter).to_pydict())
            for f in d.path.iterdir()
            if str(f).endswith(".parquet")
            and str(f).rsplit("/", 1)[1].startswith(("merges", "clusters"))
        )
        out.append(
            {
                "dump": d.name,
                "seq": d.seq,
                "docs": d.docs,
                "fingerprint": d.fingerprint,
                "pieces": d.pieces,
                "parts": d.parts,
                "arrays": d.arrays,
                "rows": docs.to_pydict(),
                "keys": parts,
                "tables": tables,
            }
        )
    return out


def bucket_keys(client, prefix: str) -> list[str]:
    pages = client.get_paginator("list_objects_v2").paginate(Bucket="corpus", Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def test_indexes_on_s3_equal_local_indexes_run_after_run(s3, tmp_path):
    """url_dedup, minhash_dedup and simhash_dedup with their cross-dump indexes in the bucket,
    input and output too, dump by dump: each run equals the local one, and so does each index
    (every dump's manifest and rows). No local staging folder: CURATE_STAGING is an empty
    folder and stays empty; the tasks write the index's pieces straight into the bucket."""
    staging = tmp_path / "staging"
    staging.mkdir()
    results = {}
    for attempt, dump in ((1, "CC-MAIN-2023-06"), (2, "CC-MAIN-2023-14")):  # dump by dump
        local_pipe = tmp_path / f"local-{attempt}.yaml"
        out = tmp_path / f"local-out-{attempt}"
        body = indexed(str(s3["local_in"] / f"dump={dump}"), str(out), str(tmp_path / "idx"))
        local_pipe.write_text(yaml.safe_dump(body))
        r = curate("run", local_pipe, "--workers", "1")
        assert r.returncode == 0, r.stderr[-3000:]
        local = (json.loads((out / "report.json").read_text()), local_ids(out))

        s3_pipe = tmp_path / f"s3-{attempt}.yaml"
        body = indexed(f"s3://corpus/in/dump={dump}", f"s3://corpus/idx-out-{attempt}",
                       "s3://corpus/idx")  # fmt: skip
        s3_pipe.write_text(yaml.safe_dump(body))
        r = curate("run", s3_pipe, "--workers", "2", env={"CURATE_STAGING": str(staging)})
        assert r.returncode == 0, r.stderr[-3000:]
        assert list(staging.iterdir()) == []
        report, ids = read_back(s3["client"], f"idx-out-{attempt}")
        assert counts(report) == counts(local[0]), attempt
        assert ids == local[1], attempt
        for at in (0, 2, 3):
            decision = report["stages"][at]["decision"]
            local_decision = local[0]["stages"][at]["decision"]
            for key in ("duplicates", "duplicates_of_committed_dumps", "removed"):
                assert decision.get(key) == local_decision.get(key), (attempt, at, key)
            assert decision["index"]["committed"] == local_decision["index"]["committed"]
        results[attempt] = report["stages"][0]["decision"]
        for kind in INDEXED:
            remote = index_content(f"s3://corpus/idx/{kind}")
            assert remote == index_content(str(tmp_path / "idx" / kind)), (attempt, kind)
            assert len(remote) == attempt
            keys = bucket_keys(s3["client"], f"idx/{kind}/")
            # committed dumps' manifests, their pieces under unique prefixes; no lock left
            assert f"idx/{kind}/index.json" in keys
            assert f"idx/{kind}/dumps/{attempt:06d}/meta.json" in keys
            assert f"idx/{kind}/_lock.json" not in keys
            folder = get_json(s3["client"], f"idx/{kind}/dumps/{attempt:06d}/meta.json")["folder"]
            assert folder.startswith("pieces-")
            assert any(k.startswith(f"idx/{kind}/dumps/{folder}/") for k in keys)
    # the second dump was deduplicated against the first through the index in the bucket
    assert results[1]["duplicates_of_committed_dumps"] == 0
    assert results[2]["duplicates_of_committed_dumps"] > 0
    assert results[2]["index"]["deduplicated_against"] == ["CC-MAIN-2023-06"]


# a run committing two dumps to each index, killed at the commit of the first (before its
# meta.json: nothing committed) or after it (one of the two committed)
INDEX_KILLS = {"before a commit": "index_commit:1", "after a commit": "index_committed:1"}


@pytest.fixture(scope="module")
def local_indexed_run(s3, tmp_path_factory):
    root = tmp_path_factory.mktemp("local-indexed")
    pipe = root / "p.yaml"
    pipe.write_text(yaml.safe_dump(indexed(str(s3["local_in"]), str(root / "out"),
                                           str(root / "idx"))))  # fmt: skip
    r = curate("run", pipe, "--workers", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    indexes = {kind: index_content(str(root / "idx" / kind)) for kind in INDEXED}
    return json.loads((root / "out" / "report.json").read_text()), local_ids(root / "out"), indexes


@pytest.mark.parametrize("scenario", sorted(INDEX_KILLS))
def test_a_run_killed_in_an_index_commit_resumes_to_the_same_indexes(
    s3, local_indexed_run, tmp_path, scenario
):
    """Killed in the commit of its index in the bucket, the run leaves the index's lock: another
    run stops with one line naming it; the run resumed takes it over and ends with the output
    and the indexes of the uninterrupted local run."""
    name = "ikill-" + scenario.replace(" ", "-")
    idx = f"s3://corpus/{name}-idx"
    pipe = tmp_path / "p.yaml"
    pipe.write_text(yaml.safe_dump(indexed("s3://corpus/in", f"s3://corpus/{name}", idx)))
    staging = tmp_path / "staging"
    staging.mkdir()
    env = {"CURATE_STAGING": str(staging)}
    r = curate(
        "run", pipe, "--workers", "1", env={**env, "CURATE_FAILPOINT": INDEX_KILLS[scenario]}
    )
    assert r.returncode == -9, (r.returncode, r.stderr[-2000:])
    assert f"{name}-idx/url/_lock.json" in bucket_keys(s3["client"], f"{name}-idx/")
    committed = [
        k for k in bucket_keys(s3["client"], f"{name}-idx/url/") if k.endswith("meta.json")
    ]
    assert len(committed) == (scenario == "after a commit")
    # another run (another output) into the same index: refused, naming the lock
    other = tmp_path / "other.yaml"
    other.write_text(yaml.safe_dump(indexed("s3://corpus/in", f"s3://corpus/{name}-2", idx)))
    r = curate("run", other, "--workers", "1", env=env)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    line = [x for x in r.stderr.splitlines() if x.startswith("curate: error:")]
    assert len(line) == 1 and "locked by another run" in line[0], r.stderr[-2000:]
    assert f"{idx}/url/_lock.json" in line[0]
    # how to get out: resume the run that holds it (named by its output), or --break-lock
    assert f"--output s3://corpus/{name} --resume" in line[0] and "--break-lock" in line[0]
    # the killed run, resumed
    r = curate("run", pipe, "--workers", "1", "--resume", env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    report, ids = read_back(s3["client"], name)
    local_report, local_out, local_indexes = local_indexed_run
    assert counts(report) == counts(local_report) and ids == local_out
    for kind in INDEXED:
        assert index_content(f"{idx}/{kind}") == local_indexes[kind], kind
        assert f"{name}-idx/{kind}/_lock.json" not in bucket_keys(s3["client"], f"{name}-idx/")
    assert list(staging.iterdir()) == []


def test_a_stale_lock_is_refused_then_broken_with_break_lock(s3, monkeypatch, capsys):
    """A lock left by a run that will never come back: another run is refused with one line
    naming the lock and both ways out; with --break-lock (CURATE_BREAK_LOCK) it takes the lock
    over, says whose, and releases it when done."""
    from curate.errors import CurateError
    from curate.index.store import DedupIndex

    root = "s3://corpus/stale-idx"
    index = DedupIndex(root, "url", {"a": 1}, 1)
    held = {"owner": "s3://corpus/gone", "host": "h", "pid": 1, "since": "2026-01-01T00:00:00Z"}
    s3["client"].put_object(Bucket="corpus", Key="stale-idx/_lock.json", Body=json.dumps(held))
    monkeypatch.setenv("CURATE_RUN", "s3://corpus/mine")
    monkeypatch.delenv("CURATE_BREAK_LOCK", raising=False)
    with pytest.raises(CurateError) as refused, index.locked():
        pass
    message = str(refused.value)
    assert "locked by another run (s3://corpus/gone" in message
    assert f"{root}/_lock.json" in message and "--output s3://corpus/gone --resume" in message
    assert "--break-lock" in message
    assert get_json(s3["client"], "stale-idx/_lock.json") == held  # left as it was
    monkeypatch.setenv("CURATE_BREAK_LOCK", "1")
    with index.locked():
        assert get_json(s3["client"], "stale-idx/_lock.json")["owner"] == "s3://corpus/mine"
    assert "took over the lock of s3://corpus/gone" in capsys.readouterr().err
    assert "stale-idx/_lock.json" not in bucket_keys(s3["client"], "stale-idx/")


def test_a_commit_of_a_number_another_run_took_is_refused(s3):
    """Two writers that bypass the lock: the second commit of the same sequence number is
    refused by the store (meta.json is created only if absent) and commits nothing."""
    from curate.errors import CurateError
    from curate.index.store import DedupIndex, fingerprint_ids
    from curate.storage import create_once

    assert create_once("s3://corpus/once/a", b"1") is True
    assert create_once("s3://corpus/once/a", b"2") is False
    assert s3["client"].get_object(Bucket="corpus", Key="once/a")["Body"].read() == b"1"

    import numpy as np

    def dump(n):
        ids = pa.array([f"d{n}-{i}" for i in range(5)])
        keys = np.arange(5, dtype=np.uint64) + np.uint64(10 * n)
        return ids, np.arange(5) | (1 << 32), [(keys, np.arange(5))]

    first = DedupIndex("s3://corpus/race-idx", "url", {"a": 1}, 1)
    second = DedupIndex("s3://corpus/race-idx", "url", {"a": 1}, 1)
    assert first.dumps() == second.dumps() == []
    ids, roots, parts = dump(1)
    first.commit("A", fingerprint_ids(ids), ids, roots, parts)
    ids, roots, parts = dump(2)
    with pytest.raises(CurateError, match="another run committed dump 1"):
        second.commit("B", fingerprint_ids(ids), ids, roots, parts)
    again = DedupIndex("s3://corpus/race-idx", "url", {"a": 1}, 1)
    assert [d.name for d in again.dumps()] == ["A"]
    keys = bucket_keys(s3["client"], "race-idx/dumps/")
    prefixes = {k.split("/")[2] for k in keys if not k.endswith("/")}  # less pyarrow's markers
    assert prefixes == {"000001", again.dumps()[0].path.name}  # B's pieces were removed


def test_no_local_staging_folder_is_used(s3, local_run, tmp_path):
    """CURATE_STAGING and HOME point below a regular file, where no folder can be made, and
    TMPDIR is a fresh folder: the run still works, every file of the run (markers, collect
    files, the barriers' exchange files, decisions) is an object in the bucket, and the
    temporary folder is empty afterwards (an upload's spool file lives only until it is sent)."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file")
    spool = tmp_path / "tmp"
    spool.mkdir()
    env = {"CURATE_STAGING": str(blocker / "staging"), "HOME": str(blocker / "home"),
           "TMPDIR": str(spool)}  # fmt: skip
    pipe = pipeline(s3["root"], "s3://corpus/in", "s3://corpus/direct")
    r = curate("run", pipe, "--workers", "2", "--keep-work", env=env)
    assert r.returncode == 0, r.stderr[-3000:]
    report, ids = read_back(s3["client"], "direct")
    assert counts(report) == counts(local_run[0]) and ids == local_run[1]
    run_id = get_json(s3["client"], "direct/_manifest.json")["run_id"]
    paginator = s3["client"].get_paginator("list_objects_v2")
    pages = paginator.paginate(Bucket="corpus", Prefix=f"direct/_runs/{run_id}/")
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    work = [k.split("/_work/", 1)[1] for k in keys if "/_work/" in k]
    assert any(k.startswith("pass-0/collect/part-") for k in work)  # shard tasks' keys
    assert any(k.startswith("pass-0/done/") for k in work)  # markers
    assert any(k.startswith("decisions/exact_dedup/reduce/") for k in work)  # reduce tasks'
    assert any(k.startswith("decisions/minhash_dedup/part-") for k in work)  # decision files
    assert list(spool.iterdir()) == []
    assert not (blocker.parent / "staging").exists()


def test_a_run_killed_before_its_manifest_reads_as_the_previous_run(s3, local_run):
    """A second run into a published folder, killed after every object and before the
    manifest: readers still see the first run's output, whole; --resume publishes the second."""
    from curate.io import discover_files

    pipe = pipeline(s3["root"], "s3://corpus/in", "s3://corpus/twice")
    assert curate("run", pipe, "--workers", "1").returncode == 0
    first = get_json(s3["client"], "twice/_manifest.json")
    before = sorted(f.path for f in discover_files(["s3://corpus/twice/data"]))
    r = curate("run", pipe, "--workers", "1", env={"CURATE_FAILPOINT": "publish_manifest:1"})
    assert r.returncode == -9, (r.returncode, r.stderr[-2000:])
    assert get_json(s3["client"], "twice/_manifest.json") == first
    assert sorted(f.path for f in discover_files(["s3://corpus/twice/data"])) == before
    assert all(first["run_id"] in p for p in before)
    r = curate("run", pipe, "--workers", "1", "--resume")
    assert r.returncode == 0, r.stderr[-3000:]
    second = get_json(s3["client"], "twice/_manifest.json")
    assert second["run_id"] != first["run_id"]
    report, ids = read_back(s3["client"], "twice")
    assert counts(report) == counts(local_run[0]) and ids == local_run[1]


def test_jsonl_inputs_in_the_bucket_read_like_local_ones(s3, tmp_path):
    """Plain JSONL (cut into shards by byte ranges, read with ranged reads) and .jsonl.gz from
    s3:// give the local run's output."""
    import gzip

    from tests.conftest import stdlib_docs

    docs = stdlib_docs()
    local = tmp_path / "jsonl" / "dump=CC-MAIN-2024-10"
    local.mkdir(parents=True)
    plain = "".join(
        json.dumps({"text": f"{docs[i % len(docs)]} #{i}", "url": f"https://j/{i}"}) + "\n"
        for i in range(3000)
    )
    (local / "a.jsonl").write_text(plain + '{"text": broken\n')
    head = "".join(plain.splitlines(keepends=True)[:1000])
    (local / "b.jsonl.gz").write_bytes(gzip.compress(head.encode()))
    for f in sorted(local.iterdir()):
        s3["client"].upload_file(str(f), "corpus", f"jsonl/dump=CC-MAIN-2024-10/{f.name}")
    outs = {}
    for where, input in (("local", str(tmp_path / "jsonl")), ("s3", "s3://corpus/jsonl")):
        body = {"name": "j", "input": input, "output": str(tmp_path / f"out-{where}"),
                "shard_rows": 1024, "stages": [{"exact_dedup": {}}]}  # fmt: skip
        pipe = tmp_path / f"{where}.yaml"
        pipe.write_text(yaml.safe_dump(body))
        r = curate("run", pipe, "--workers", "2")
        assert r.returncode == 0, r.stderr[-3000:]
        report = json.loads((tmp_path / f"out-{where}" / "report.json").read_text())
        assert check_balance(report) == [] and report["totals"]["docs_quarantined"] == 1
        outs[where] = (counts(report), local_ids(tmp_path / f"out-{where}"))
    assert outs["s3"] == outs["local"]
    assert len(list((tmp_path / "out-s3" / "data").glob("*.parquet"))) > 2  # a.jsonl was cut


def test_simhash_perplexity_and_remix_barriers_in_the_bucket_equal_local(s3, tmp_path):
    """The other barriers (SimHash tables, exact percentiles, remix's hash cuts) with the run's
    work folder in the bucket: their collect, spill and decision files are objects."""
    model = str(REPO / "models" / "en_math.arpa")
    stages = [
        {"simhash_dedup": {}},
        {"perplexity_filter": {"models": {"en": model},
                               "thresholds": {"default": {"keep_below": "p80"}}}},
        {"remix": {"temperature": 2.0}},
    ]  # fmt: skip
    for where, input, output in (("local", str(s3["local_in"]), str(tmp_path / "local")),
                                 ("s3", "s3://corpus/in", "s3://corpus/barriers")):  # fmt: skip
        pipe = tmp_path / f"{where}.yaml"
        body = {"name": "b", "input": input, "output": output, "batch_size": 64, "stages": stages}
        pipe.write_text(yaml.safe_dump(body))
        r = curate("run", pipe, "--workers", "2")
        assert r.returncode == 0, r.stderr[-3000:]
    local = json.loads((tmp_path / "local" / "report.json").read_text())
    report, ids = read_back(s3["client"], "barriers")
    assert counts(report) == counts(local) and ids == local_ids(tmp_path / "local")
    assert all(ids.get(f"removed/{s}") for s in ("simhash_dedup", "perplexity_filter", "remix"))
