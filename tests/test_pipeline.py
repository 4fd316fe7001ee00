from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.config import parse_pipeline
from curate.errors import CurateError
from curate.executors.local import LocalExecutor
from curate.pipeline import plan_passes, run_pipeline
from curate.report import check_balance

STAGES = [{"exact_dedup": {}}, {"quality_filter": {}}]


def run(corpus_root, out, stages=STAGES, workers=1, resume=False, keep_work=False, **top):
    config = parse_pipeline(
        {
            "name": "t",
            "input": str(corpus_root),
            "output": str(out),
            "stages": stages,
            "batch_size": 16,
            **top,
        }
    )
    ex = LocalExecutor(workers)
    try:
        return run_pipeline(config, ex, resume=resume, keep_work=keep_work)
    finally:
        ex.close()


def stable(report):
    """A report's stage numbers without the timings, which differ from run to run."""
    drop = ("seconds", "decision")
    return [{k: v for k, v in s.items() if k not in drop} for s in report["stages"]]


def ids_in(path):
    files = sorted(path.rglob("part-*.parquet")) if path.exists() else []
    out = []
    for f in files:
        out += pq.read_table(f, columns=["id"])["id"].to_pylist()
    return out


def test_plan_passes():
    passes = plan_passes(["global", "streaming", "streaming", "global", "streaming"])
    assert [(p.apply, p.streaming, p.collect) for p in passes] == [
        (None, [], 0),
        (0, [1, 2], 3),
        (3, [4], None),
    ]
    assert [(p.apply, p.streaming, p.collect) for p in plan_passes(["streaming"])] == [
        (None, [0], None)
    ]


def test_end_to_end_accounts_for_every_document(corpus, tmp_path):
    root, truth = corpus
    out = tmp_path / "out"
    report = run(root, out)
    assert check_balance(report) == []
    t = report["totals"]
    assert t["docs_in"] == truth["rows"]
    assert t["docs_quarantined"] == truth["bad_rows"]
    dedup = report["stages"][0]
    assert dedup["docs_removed"] >= truth["duplicates"]
    assert set(dedup["by_reason"]) == {"exact_duplicate"}
    assert sum(v["docs_in"] for v in dedup["by_dump"].values()) == dedup["docs_in"]
    # nothing lost: kept + removed + quarantined ids are exactly the input's rows
    kept, removed = ids_in(out / "data"), ids_in(out / "removed")
    quarantined = ids_in(out / "quarantine")
    assert len(kept) == t["docs_out"] and len(removed) == t["docs_removed"]
    assert len(set(kept) | set(removed) | set(quarantined)) == t["docs_in"]
    # removed rows say why, and dedup removals say of what
    dups = pq.read_table(out / "removed" / "exact_dedup")
    assert set(dups["reason"].to_pylist()) == {"exact_duplicate"}
    assert set(dups["duplicate_of"].to_pylist()) <= set(kept) | set(removed)
    # a later dump's recrawl goes, the first crawl stays
    assert dedup["by_dump"]["CC-MAIN-2023-00"]["docs_removed"] == 0
    for name in ("report.json", "report.md", "report.html"):
        assert (out / name).stat().st_size > 0
    assert not list(out.rglob("*.tmp"))


def test_workers_do_not_change_the_result(corpus, tmp_path):
    root, _ = corpus
    one = run(root, tmp_path / "one", workers=1)
    two = run(root, tmp_path / "two", workers=2)
    assert stable(one) == stable(two)
    assert ids_in(tmp_path / "one" / "data") == ids_in(tmp_path / "two" / "data")


def test_resume_after_interruption_gives_same_result(corpus, tmp_path):
    root, _ = corpus
    reference = run(root, tmp_path / "ref")
    out = tmp_path / "out"
    run(root, out, keep_work=True)
    # simulate a crash in the middle of pass 2: drop its outputs and some markers
    work = out / "_work"
    for marker in sorted((work / "pass-1" / "done").glob("*.json"))[1:]:
        marker.unlink()
        part = marker.name.removesuffix(".json")
        (out / "data" / part).unlink()
        (out / "removed" / "quality_filter" / part).unlink(missing_ok=True)
    (out / "report.json").unlink()
    (out / "data" / ".part-00009.parquet.1234.tmp").write_bytes(b"partial")
    resumed = run(root, out, resume=True)
    assert not list(out.rglob("*.tmp"))
    assert stable(resumed) == stable(reference)
    for sub in ("data", "removed"):
        assert sorted(ids_in(out / sub)) == sorted(ids_in(tmp_path / "ref" / sub))


def test_resume_refuses_a_changed_pipeline(corpus, tmp_path):
    root, _ = corpus
    run(root, tmp_path / "out", stages=[{"exact_dedup": {}}])
    with pytest.raises(CurateError, match="cannot --resume: the pipeline changed"):
        run(root, tmp_path / "out", stages=[{"exact_dedup": {"keep": "latest"}}], resume=True)


def test_refuses_to_clobber_foreign_output(corpus, tmp_path):
    root, _ = corpus
    out = tmp_path / "out"
    out.mkdir()
    (out / "precious.txt").write_text("mine")
    with pytest.raises(CurateError, match="holds files curate did not write .precious.txt"):
        run(root, out)


def test_a_run_after_report_compare_reuses_its_output(corpus, tmp_path):
    """`curate report OUT --compare OTHER` writes OUT/compare.html: a curate file, so the
    walkthrough's next `make demo` into OUT must not refuse."""
    from curate.cli import main

    root, _ = corpus
    run(root, tmp_path / "a")
    run(root, tmp_path / "b", stages=[{"exact_dedup": {}}])
    assert main(["report", str(tmp_path / "a"), "--compare", str(tmp_path / "b")]) == 0
    assert (tmp_path / "a" / "compare.html").exists()
    again = run(root, tmp_path / "a")
    assert again["totals"]["docs_in"] > 0
    assert not (tmp_path / "a" / "compare.html").exists()


def test_bad_files_are_quarantined_or_fail(corpus, tmp_path):
    root, truth = corpus
    (root / "dump=CC-MAIN-2023-01" / "zz-corrupt.parquet").write_bytes(b"garbage")
    pq.write_table(
        pa.table({"body": ["no text column"] * 3}),
        root / "dump=CC-MAIN-2023-01" / "zz-notext.parquet",
    )
    report = run(root, tmp_path / "q")
    q = report["quarantine"]
    assert {f["path"].rsplit("/", 1)[1] for f in q["files"]} == {
        "zz-corrupt.parquet",
        "zz-notext.parquet",
    }
    assert q["docs"] == truth["bad_rows"] + 3  # the three rows without text are kept aside
    assert check_balance(report) == []
    with pytest.raises(CurateError, match="zz-corrupt.parquet: not a readable Parquet file"):
        run(root, tmp_path / "f", on_error="fail")


def test_report_json_shape(corpus, tmp_path):
    root, _ = corpus
    report = run(root, tmp_path / "out")
    on_disk = json.loads((tmp_path / "out" / "report.json").read_text())
    assert on_disk == report
    for s in report["stages"]:
        for key in (
            "name",
            "docs_in",
            "docs_out",
            "docs_removed",
            "removal_rate",
            "bytes_in",
            "bytes_out",
            "by_reason",
            "by_dump",
            "by_domain",
            "seconds",
        ):
            assert key in s
    assert set(report["totals"]) >= {
        "docs_in",
        "docs_out",
        "docs_removed",
        "removal_rate",
        "bytes_in",
        "bytes_out",
        "seconds",
    }


def test_a_shards_decision_carries_only_its_own_rows():
    """Decision files are pickles of split_rows_by_shard's tables: a zero-copy slice would
    pickle the buffers of every shard's rows (each file as big as all of them)."""
    import pickle

    import numpy as np

    from curate.stages.base import split_rows_by_shard

    n = 100_000
    removals = pa.table(
        {
            "_shard": np.repeat(np.arange(100), n // 100)[::-1].copy(),
            "_row": np.arange(n),
            "reason": pa.array(["duplicate"] * n),
        }  # fmt: skip
    )
    parts = split_rows_by_shard(removals)
    assert sorted(parts) == list(range(100))
    assert parts[7].column("_row").to_pylist() == list(range(92_000, 93_000))
    whole = len(pickle.dumps(removals, protocol=5))
    assert len(pickle.dumps(parts[7], protocol=5)) < whole / 20


# ---------------------------------------------------------------- shards: ranges and groups

SAMPLE = Path(__file__).resolve().parent.parent / "sample_corpus"
DEDUP = [
    {"url_dedup": {}},
    {"exact_dedup": {}},
    {"minhash_dedup": {}},
    {"simhash_dedup": {"level": "sentence"}},
    {"quality_filter": {}},
]


def outcome(out):
    """Every row of the run's output, removed rows (per stage) and quarantine, in file order."""

    def rows(path):
        parts = sorted(path.glob("part-*.parquet")) if path.exists() else []
        return [row for p in parts for row in pq.read_table(p).to_pylist()]

    removed = {d.name: rows(d) for d in sorted((out / "removed").iterdir())}
    return rows(out / "data"), removed, rows(out / "quarantine")


def test_one_file_cut_into_shards_gives_the_same_result_as_one_shard(tmp_path):
    """Real sample text from four dumps in one file, no ids (they are generated), row groups of
    100 rows: one shard, shards of two row groups, and one shard per row group (auto) keep and
    remove the same documents, row for row."""
    tables = []
    for dump in sorted(SAMPLE.glob("dump=*")):
        t = pq.read_table(dump / "part-00000.parquet").slice(0, 300)
        tables.append(t.select(["text", "url", "dump", "date"]))
    root = tmp_path / "in"
    root.mkdir()
    pq.write_table(pa.concat_tables(tables), root / "all.parquet", row_group_size=100)
    results = {}
    for shard_rows, workers in ((10**6, 1), (250, 2), ("auto", 2)):
        out = tmp_path / f"out-{shard_rows}"
        report = run(root, out, DEDUP, workers=workers, shard_rows=shard_rows)
        assert check_balance(report) == []
        assert report["input"]["files"] == 1
        results[shard_rows] = report, outcome(out)
    assert [results[k][0]["input"]["shards"] for k in results] == [1, 6, 12]
    assert results[250][0]["timings"]["passes"][0]["shards_run"] == 6
    (one, (kept, removed, quarantined)), *others = results.values()
    assert len(kept) + sum(map(len, removed.values())) + len(quarantined) == 1200
    assert all(removed.get(s) for s in ("url_dedup", "exact_dedup", "minhash_dedup"))
    for report, result in others:
        assert result == (kept, removed, quarantined)
        assert stable(report) == stable(one)


def test_many_tiny_files_are_grouped(corpus, tmp_path):
    root, truth = corpus
    for path in sorted(root.rglob("*.parquet")):  # 18 files of at most 8 rows, one row group
        table = pq.read_table(path)
        path.unlink()
        for k in range(0, table.num_rows, 8):
            pq.write_table(table.slice(k, 8), path.with_name(f"{path.stem}-{k:03d}.parquet"))
    files = sorted(root.rglob("*.parquet"))
    whole = run(root, tmp_path / "one-per-file", shard_rows=1)
    grouped = run(root, tmp_path / "grouped", shard_rows=10**6)
    assert whole["input"]["shards"] == len(files) > 1
    assert grouped["input"]["shards"] == 1
    assert grouped["input"]["files"] == len(files)
    assert [len(list((tmp_path / d / "data").iterdir())) for d in ("one-per-file", "grouped")] == [
        len(files),
        1,
    ]
    assert grouped["totals"]["docs_in"] == whole["totals"]["docs_in"] == truth["rows"]
    assert stable(grouped) == stable(whole)
    assert outcome(tmp_path / "grouped") == outcome(tmp_path / "one-per-file")


def test_a_bad_file_in_a_group_is_quarantined_alone(corpus, tmp_path):
    root, truth = corpus
    folder = sorted(root.glob("dump=*"))[0]
    (folder / "part-0a-corrupt.parquet").write_bytes(b"PAR1 not parquet at all PAR1")
    pq.write_table(pa.table({"body": ["no text column"] * 3}), folder / "part-0b-notext.parquet")
    report = run(root, tmp_path / "out", shard_rows=10**6)
    files = [f.name for f in sorted(root.rglob("*.parquet"))]
    # the unreadable file rides in its neighbours' shard; the one of another schema has its own
    assert files[:4] == [
        "part-0.parquet",
        "part-0a-corrupt.parquet",
        "part-0b-notext.parquet",
        "part-1.parquet",
    ]
    assert report["input"]["shards"] == 3
    q = report["quarantine"]
    assert sorted(f["path"].rsplit("/", 1)[1] for f in q["files"]) == [
        "part-0a-corrupt.parquet",
        "part-0b-notext.parquet",
    ]
    assert q["docs"] == truth["bad_rows"] + 3
    assert report["totals"]["docs_in"] == truth["rows"] + 3  # every good file's rows were read
    assert check_balance(report) == []
    kept, removed, quarantined = outcome(tmp_path / "out")
    assert len(kept) + sum(map(len, removed.values())) == truth["rows"] - truth["bad_rows"]
