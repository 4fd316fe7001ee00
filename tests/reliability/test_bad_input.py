"""Bad input through the real `curate run`: quarantined with the reason and counted, or a one-line
error naming the file/row/key with exit code 2; never a traceback, never a silently missing row."""

from __future__ import annotations

import collections
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from curate.report import check_balance
from tests.conftest import stdlib_docs
from tests.reliability.bad_input import BIG_BYTES, CORRUPT_ROWS, build_dirty_corpus

REPO = Path(__file__).resolve().parents[2]
STAGES = [{"url_dedup": {}}, {"exact_dedup": {}}, {"minhash_dedup": {"num_perm": 64}}]


def curate(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "curate.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
    )


def pipeline(path: Path, input: Path, output: Path, **top) -> Path:
    body = {"name": "bad", "input": str(input), "output": str(output), "stages": STAGES, **top}
    path.write_text(yaml.safe_dump(body))
    return path


def assert_one_line_error(r: subprocess.CompletedProcess, *needles: str) -> None:
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert "Traceback" not in r.stderr, r.stderr
    lines = [line for line in r.stderr.splitlines() if line.startswith("curate: error:")]
    assert len(lines) == 1, r.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def good_shard(folder: Path, n: int = 40) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    docs = stdlib_docs()[:n]
    path = folder / "good.parquet"
    urls = [f"https://docs.example/{i}" for i in range(n)]
    with open(path, "wb") as f:  # by file: pyarrow cannot encode a folder name that is not UTF-8
        pq.write_table(pa.table({"text": docs, "url": urls}), f)
    return path


def ids_with_errors(folder: Path) -> dict[str, list[str]]:
    found = collections.defaultdict(list)
    for f in sorted(folder.glob("part-*.parquet")):
        t = pq.read_table(f)
        for i, e in zip(t["id"].to_pylist(), t["error"].to_pylist()):
            found[i].append(e)
    return found


def ids_in(folder: Path) -> list[str]:
    """Ids of the rows under ``folder`` (quarantine/_bad_files/ holds file records, not rows)."""
    out = []
    for f in sorted(folder.rglob("part-*.parquet")) if folder.exists() else []:
        if f.parent.name != "_bad_files":
            out += pq.read_table(f, columns=["id"])["id"].to_pylist()
    return out


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    root = tmp_path_factory.mktemp("dirty")
    expect = build_dirty_corpus(root / "in")
    out = root / "out"
    r = curate("run", pipeline(root / "p.yaml", root / "in", out), "--workers", "2")
    return expect, out, r


def test_dirty_corpus_runs_to_the_end_without_a_traceback(dirty):
    _, out, r = dirty
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    # the summary says how many input files were lost, and where their records are
    shards = json.loads((out / "report.json").read_text())["input"]["shards"]
    assert (
        f"unusable input files: 5 of {shards}, 20 rows in them unread "
        "(one record each in quarantine/_bad_files/)" in r.stdout
    ), r.stdout


def test_bad_rows_are_quarantined_with_their_reason(dirty):
    expect, out, _ = dirty
    found = ids_with_errors(out / "quarantine")
    assert set(found) == set(expect["quarantined"])
    for doc_id, reason in expect["quarantined"].items():
        assert len(found[doc_id]) == 1 and reason in found[doc_id][0], (doc_id, found[doc_id])
    q = pq.read_table(next(out.rglob("quarantine/*.parquet")))
    assert {"error", "source_file", "_source_row"} <= set(q.column_names)
    # quarantined invalid bytes stay readable (backslash-escaped), so the folder can be opened
    for f in (out / "quarantine").glob("*.parquet"):
        pq.read_table(f).to_pylist()


def test_unusable_files_are_listed_with_their_reason(dirty):
    expect, out, _ = dirty
    report = json.loads((out / "report.json").read_text())
    files = {f["path"]: f for f in report["quarantine"]["files"]}
    assert set(files) == set(expect["files"])
    for path, (reason, unread) in expect["files"].items():
        assert reason in files[path]["error"] and path in files[path]["error"]
        assert files[path]["rows_unread"] == unread


def test_unusable_files_have_a_record_in_quarantine(dirty):
    """Someone (or a tool) reading only quarantine/ learns every file that was lost: its path,
    the error, its size and, when its footer is readable, how many rows it declared."""
    expect, out, _ = dirty
    records = pq.read_table(out / "quarantine" / "_bad_files").to_pylist()
    by_path = {r["path"]: r for r in records}
    assert len(records) == len(by_path) == len(expect["files"])
    assert set(by_path) == set(expect["files"])
    declared = {
        "truncated.parquet": None,  # footer cut off: nothing to read the count from
        "not-parquet.parquet": None,
        "no-text.parquet": 3,
        "int-text.parquet": 2,
        "corrupt-page.parquet": CORRUPT_ROWS[0] * CORRUPT_ROWS[1],
    }
    for path, (reason, unread) in expect["files"].items():
        r = by_path[path]
        assert reason in r["error"] and path in r["error"]
        assert r["size_bytes"] == Path(path).stat().st_size > 0
        assert r["rows"] == declared[Path(path).name]
        assert r["rows_unread"] == unread
    report = json.loads((out / "report.json").read_text())
    assert {f["path"]: f for f in report["quarantine"]["files"]} == by_path  # the same records


def test_every_row_is_accounted_for_exactly_once(dirty):
    expect, out, _ = dirty
    report = json.loads((out / "report.json").read_text())
    assert check_balance(report) == []
    t = report["totals"]
    assert t["docs_in"] == expect["rows_in"]
    kept, removed = ids_in(out / "data"), ids_in(out / "removed")
    quarantined = ids_in(out / "quarantine")
    assert (len(kept), len(removed), len(quarantined)) == (
        t["docs_out"],
        t["docs_removed"],
        t["docs_quarantined"],
    )
    # duplicate ids across shards: each copy is a row of its own, none lost, none doubled
    everything = collections.Counter(kept + removed + quarantined)
    assert everything["dup-1"] == everything["dup-2"] == 2
    assert sum(everything.values()) == t["docs_in"]
    assert expect["kept_or_removed"] <= set(kept) | set(removed)
    # the mid-file corruption: rows of intact groups processed, the damaged group counted unread
    groups, per_group = CORRUPT_ROWS
    page_rows = {i for i in everything if i.startswith("page-")}
    assert len(page_rows) == (groups - 1) * per_group
    assert report["quarantine"]["docs_unreadable"] == per_group


def test_a_20_mb_document_goes_through_whole(dirty):
    _, out, _ = dirty
    for f in (out / "data").glob("*.parquet"):
        t = pq.read_table(f)
        rows = [r for r in t.select(["id", "text"]).to_pylist() if r["id"] == "big"]
        if rows:
            assert len(rows[0]["text"].encode()) >= BIG_BYTES
            return
    pytest.fail("the 20 MB document is not in data/")


FILE_CASES = {
    "truncated.parquet": "not a readable Parquet file",
    "not-parquet.parquet": "not a readable Parquet file",
    "no-text.parquet": "no 'text' column",
    "int-text.parquet": "column 'text' has type int64, expected string",
    "corrupt-page.parquet": "row group 6 unreadable after row 120, 20 rows lost",
}


@pytest.mark.parametrize("name", sorted(FILE_CASES))
def test_on_error_fail_stops_at_the_bad_file(name, dirty, tmp_path):
    src = next(Path(p) for p in dirty[0]["files"] if p.endswith(name))
    good_shard(tmp_path / "in" / "dump=A")
    shutil.copy(src, tmp_path / "in" / "dump=A" / name)
    p = pipeline(tmp_path / "p.yaml", tmp_path / "in", tmp_path / "out", on_error="fail")
    assert_one_line_error(curate("run", p), name, FILE_CASES[name])


@pytest.mark.parametrize("folder", ["dump=", "dump=a=b", "=CC-MAIN"])
def test_a_hive_folder_that_does_not_parse_stops_the_run(folder, tmp_path):
    good_shard(tmp_path / "in" / folder)
    p = pipeline(tmp_path / "p.yaml", tmp_path / "in", tmp_path / "out")
    assert_one_line_error(curate("run", p), f"folder '{folder}'", "does not parse")
    assert not (tmp_path / "out").exists()  # stopped before writing anything


def test_an_empty_input_directory_stops_the_run(tmp_path):
    (tmp_path / "in" / "dump=A").mkdir(parents=True)
    p = pipeline(tmp_path / "p.yaml", tmp_path / "in", tmp_path / "out")
    assert_one_line_error(
        curate("run", p), str(tmp_path / "in"), "no *.parquet or *.jsonl[.gz|.zst] files found"
    )


def test_output_below_a_file_stops_the_run(tmp_path):
    # root ignores permission bits, so "not writable" is made by the filesystem's structure:
    # the output's parent is a regular file
    good_shard(tmp_path / "in" / "dump=A")
    (tmp_path / "occupied").write_text("a file, not a directory")
    p = pipeline(tmp_path / "p.yaml", tmp_path / "in", tmp_path / "occupied" / "out")
    assert_one_line_error(curate("run", p), "occupied/out", "cannot write the output directory")
    p = pipeline(tmp_path / "p2.yaml", tmp_path / "in", tmp_path / "occupied")
    assert_one_line_error(curate("run", p), "occupied: output path exists and is not a directory")


def mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


def test_read_only_output_directory_stops_the_run(tmp_path):
    # a read-only bind mount refuses writes even to root (EROFS), unlike chmod
    good_shard(tmp_path / "in" / "dump=A")
    target = tmp_path / "ro"
    target.mkdir()
    if not mount("--bind", str(target), str(target)):
        pytest.skip("mount is not permitted here")
    try:
        if not mount("-o", "remount,bind,ro", str(target)):
            pytest.skip("read-only remount is not permitted here")
        p = pipeline(tmp_path / "p.yaml", tmp_path / "in", target / "out")
        assert_one_line_error(curate("run", p), "ro/out", "Read-only file system")
    finally:
        subprocess.run(["umount", str(target)], capture_output=True)


def bulky_input(folder: Path) -> None:
    """~1 MB of distinct real text in 4 shards: more than a 256 KiB disk holds once written."""
    docs = stdlib_docs()
    folder.mkdir(parents=True)
    for part in range(4):
        texts = [f"{part}-{i} {doc}" for i, doc in enumerate(docs)]
        pq.write_table(pa.table({"text": texts}), folder / f"part-{part}.parquet")


def test_a_full_disk_stops_the_run_and_resume_finishes_it(tmp_path):
    bulky_input(tmp_path / "in" / "dump=A")
    disk = tmp_path / "disk"
    disk.mkdir()
    if not mount("-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)):
        pytest.skip("mounting a tmpfs is not permitted here (see the failpoint test below)")
    try:
        p = pipeline(tmp_path / "p.yaml", tmp_path / "in", disk / "out")
        r = curate("run", p, "--workers", "1")
        assert_one_line_error(r, str(disk / "out"), "cannot write", "No space left on device")
        assert not list(disk.rglob("*.tmp"))  # the failed write left no debris
        # the disk grows (an operator frees space): --resume finishes the same run
        assert mount("-o", "remount,size=64m", str(disk))
        r = curate("run", p, "--workers", "1", "--resume")
        assert r.returncode == 0, r.stderr[-2000:]
        report = json.loads((disk / "out" / "report.json").read_text())
        assert check_balance(report) == []
        assert report["totals"]["docs_in"] == 4 * len(stdlib_docs())
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def outputs(out: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(out)): p.read_bytes()
        for sub in ("data", "removed", "quarantine")
        for p in sorted((out / sub).rglob("*.parquet"))
    }


def test_a_full_disk_under_a_barrier_partition_stops_the_run_and_resume_finishes_it(tmp_path):
    """The disk that holds exact_dedup's reduce files is full (a tmpfs mounted there while the
    run stood at the barrier, filled to the last byte): the reduce task's partition write stops
    the run with one line naming that partition's file, and leaves no temporary file; space is
    freed, and --resume (with 2 workers) finishes with the bytes of an uninterrupted run."""
    folder = tmp_path / "in" / "dump=A"
    folder.mkdir(parents=True)
    docs = stdlib_docs()
    for part in range(4):  # the same pages in every file: 3 of 4 rows are exact duplicates
        pq.write_table(pa.table({"text": docs}), folder / f"part-{part}.parquet")
    stages = {"stages": [{"exact_dedup": {}}], "partitions": 3}
    want = pipeline(tmp_path / "want.yaml", tmp_path / "in", tmp_path / "want", **stages)
    assert curate("run", want, "--workers", "2").returncode == 0
    expected = outputs(tmp_path / "want")
    assert len(pq.read_table(tmp_path / "want" / "removed")) >= 3 * len(docs)

    out = tmp_path / "out"
    p = pipeline(tmp_path / "p.yaml", tmp_path / "in", out, **stages)
    r = curate("run", p, "--workers", "1", env={"CURATE_FAILPOINT": "decide:1"})  # SIGKILL
    assert r.returncode == -9, r.stderr[-2000:]
    disk = out / "_work" / "decisions" / "exact_dedup" / "reduce"
    disk.mkdir(parents=True)
    if not mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)):
        pytest.skip("mounting a tmpfs is not permitted here (the failpoint test below)")
    filler = disk / "filler"
    try:
        with pytest.raises(OSError, match="No space left"), open(filler, "wb") as f:
            while True:
                f.write(b"x" * 4096)
                f.flush()
        r = curate("run", p, "--workers", "2", "--resume")
        assert_one_line_error(r, str(disk / "part-0000"), ".parquet: cannot write", "No space")
        assert not [f for f in out.rglob("*") if f.name.endswith(".tmp")]
        filler.unlink()
        r = curate("run", p, "--workers", "2", "--resume")
        assert r.returncode == 0, r.stderr[-2000:]
        assert outputs(out) == expected
        report = json.loads((out / "report.json").read_text())
        assert check_balance(report) == []
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def test_an_injected_full_disk_in_a_barrier_partition_resumes_to_the_same_output(tmp_path):
    """Where mounting is not permitted: ENOSPC injected into the 2nd partition file written
    (a shard's keys for url_dedup's barrier), then --resume gives an uninterrupted run's files."""
    bulky_input(tmp_path / "in" / "dump=A")
    want = pipeline(tmp_path / "want.yaml", tmp_path / "in", tmp_path / "want", partitions=3)
    assert curate("run", want, "--workers", "1").returncode == 0
    p = pipeline(tmp_path / "p.yaml", tmp_path / "in", tmp_path / "out", partitions=3)
    r = curate("run", p, "--workers", "1", env={"CURATE_FAILPOINT": "write_partition:2:enospc"})
    assert_one_line_error(r, str(tmp_path / "out"), "cannot write", "No space left on device")
    assert "/_work/pass-0/collect/part-" in r.stderr
    assert not [f for f in (tmp_path / "out").rglob("*") if f.name.endswith(".tmp")]
    r = curate("run", p, "--workers", "1", "--resume")
    assert r.returncode == 0, r.stderr[-2000:]
    assert outputs(tmp_path / "out") == outputs(tmp_path / "want")


@pytest.mark.parametrize("point", ["write_batch:3", "write_bytes:2", "rename_parquet:2"])
def test_an_injected_write_error_stops_the_run_with_the_file_named(point, tmp_path):
    # the same as a full disk where mounting is not permitted: CURATE_FAILPOINT=name:n:enospc
    bulky_input(tmp_path / "in" / "dump=A")
    p = pipeline(tmp_path / "p.yaml", tmp_path / "in", tmp_path / "out")
    r = curate("run", p, "--workers", "1", env={"CURATE_FAILPOINT": f"{point}:enospc"})
    assert_one_line_error(r, str(tmp_path / "out"), "cannot write", "No space left on device")
    assert not list((tmp_path / "out").rglob("*.tmp"))


def test_a_corrupt_page_loses_only_its_row_group(tmp_path):
    from curate.io import BadFile, discover_shards, read_input_shard
    from tests.reliability.bad_input import CORRUPT_GROUP, write_corrupt_page_file

    groups, per_group = CORRUPT_ROWS
    path = tmp_path / "corrupt.parquet"
    docs = stdlib_docs()  # long texts: the flipped bytes land inside a value, not a length
    write_corrupt_page_file(path, [docs[i % len(docs)] for i in range(groups * per_group)])
    (shard,) = discover_shards([str(path)])
    seen = []
    with pytest.raises(BadFile, match=f"row group {CORRUPT_GROUP} unreadable") as err:
        for rb in read_input_shard(shard, batch_size=7):
            seen += rb.batch["id"].to_pylist()
    lost = range(CORRUPT_GROUP * per_group, (CORRUPT_GROUP + 1) * per_group)
    assert seen == [f"page-{i}" for i in range(groups * per_group) if i not in lost]
    assert err.value.rows_unread == per_group


def test_lm_train_with_a_full_or_missing_temp_dir_is_a_clear_error(tmp_path):
    """`curate lm train` spools lines, tokens and n-gram runs to --temp-dir: a full disk there
    (a real 256 KiB tmpfs) or a missing directory is one line naming it, and no debris."""
    bulky_input(tmp_path / "in")
    args = ["lm", "train", "--input", tmp_path / "in", "--lang", "en", "--sentencepiece", "none"]
    missing = tmp_path / "nope"
    r = curate(*args, "--out", tmp_path / "a.arpa", "--temp-dir", missing)
    assert_one_line_error(r, str(missing), "No such file or directory")
    disk = tmp_path / "disk"
    disk.mkdir()
    if not mount("-t", "tmpfs", "-o", "size=256k", "tmpfs", str(disk)):
        pytest.skip("mounting a tmpfs is not permitted here")
    try:
        r = curate(*args, "--out", tmp_path / "a.arpa", "--temp-dir", disk)
        assert_one_line_error(r, str(disk), "No space left on device")
        assert not list(disk.iterdir()) and not (tmp_path / "a.arpa").exists()
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)


def latin1(folder: Path, name: bytes) -> Path:
    """A path under ``folder`` whose last part is ``name``, bytes that are not UTF-8."""
    return folder / os.fsdecode(name)


def test_file_names_that_are_not_utf8_are_read_like_any_other(tmp_path):
    """Latin-1 names exist on real disks: such a file is read (its rows kept, removed or
    quarantined), named with \\xNN escapes in quarantine/ and the report; never a traceback."""
    docs = stdlib_docs()
    dump = tmp_path / "in" / "dump=A"
    good_shard(dump)
    folder = latin1(dump, b"r\xe9sum\xe9s")  # a folder that is not UTF-8 either (not hive)
    folder.mkdir()
    with open(latin1(folder, b"caf\xe9.parquet"), "wb") as f:
        pq.write_table(
            pa.table({"id": ["l1-0", "l1-1", "l1-2"], "text": [docs[50], "", docs[51]]}), f
        )
    latin1(dump, b"na\xefve.parquet").write_bytes(b"not parquet at all")
    out = tmp_path / "out"
    r = curate("run", pipeline(tmp_path / "p.yaml", tmp_path / "in", out), "--workers", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    assert "Traceback" not in r.stderr
    assert {"l1-0", "l1-2"} <= set(ids_in(out / "data")) | set(ids_in(out / "removed"))
    shown_file = str(dump / "r\\xe9sum\\xe9s" / "caf\\xe9.parquet")
    assert ids_with_errors(out / "quarantine") == {"l1-1": ["text is empty"]}
    (row,) = pq.read_table(out / "quarantine", columns=["source_file"]).to_pylist()
    assert row["source_file"] == shown_file
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))  # valid UTF-8 JSON
    assert check_balance(report) == []
    assert report["totals"]["docs_in"] == 40 + 3
    (bad,) = pq.read_table(out / "quarantine" / "_bad_files").to_pylist()
    assert bad["path"] == str(dump / "na\\xefve.parquet")
    assert bad["error"].startswith(bad["path"] + ": not a readable Parquet file")
    assert [f["path"] for f in report["quarantine"]["files"]] == [bad["path"]]
    for name in ("report.md", "report.html"):
        (out / name).read_text(encoding="utf-8")
    # the same run resumed: the fingerprint of a Latin-1 name compares equal to itself
    r = curate("run", tmp_path / "p.yaml", "--workers", "1", "--resume")
    assert r.returncode == 0, r.stderr[-3000:]


def test_a_hive_value_that_is_not_utf8_stops_the_run(tmp_path):
    # the value would become a column of text: refused with one line naming the folder
    good_shard(latin1(tmp_path / "in", b"dump=caf\xe9"))
    p = pipeline(tmp_path / "p.yaml", tmp_path / "in", tmp_path / "out")
    assert_one_line_error(curate("run", p), "folder 'dump=caf\\xe9'", "not valid UTF-8")
    assert not (tmp_path / "out").exists()
