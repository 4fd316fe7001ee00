"""`curate ingest` on WARC and WET files written from real HTML pages (tests/warc_files.py): every
document record is written, counted (not HTML, HTTP not 2xx, empty) or quarantined with its
reason, the rest of a damaged file is kept, and a killed ingest resumes to the same output."""

from __future__ import annotations

import gzip
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.ingest import check_ingest_balance
from curate.report import check_balance
from curate.warc import read_records
from tests.conftest import stdlib_docs
from tests.warc_files import LATIN1_SENTENCE, html_pages, response, write_warc, write_wet

REPO = Path(__file__).resolve().parents[1]
DUMP = "CC-MAIN-2024-10"


def curate(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in {**os.environ, **(env or {})}.items() if v is not None}
    return subprocess.run(
        [sys.executable, "-m", "curate.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
        start_new_session=True,
        timeout=600,
    )


def data(out: Path) -> list[dict]:
    rows = pq.read_table(out / f"dump={DUMP}").to_pylist()
    return sorted(rows, key=lambda r: r["id"])


@pytest.fixture(scope="module")
def crawl(tmp_path_factory):
    root = tmp_path_factory.mktemp("crawl")
    folder = root / "crawl" / DUMP
    folder.mkdir(parents=True)
    pages = html_pages(40)
    expect = write_warc(folder / "a.warc.gz", pages)
    b = write_warc(folder / "b.warc", pages[20:], big_mb=0)  # plain, other faults' positions
    texts = stdlib_docs()[:30]
    wet = folder / "c.warc.wet.gz"
    write_wet(root / "c.wet", texts)
    wet.write_bytes(gzip.compress((root / "c.wet").read_bytes()))
    out = root / "out"
    r = curate("ingest", root / "crawl", "--output", out, "--workers", "2")
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((out / "ingest_report.json").read_text())
    return {"root": root, "out": out, "a": expect, "b": b, "texts": texts, "report": report}


def test_every_document_is_written_counted_or_quarantined(crawl):
    report = crawl["report"]
    assert check_ingest_balance(report) == []
    files = {Path(f["file"]).name: f for f in report["files"]}
    for name in ("a.warc.gz", "b.warc"):
        got, want = files[name], crawl[name[0]]
        assert got["written"] == len(want.written), name
        assert got["non_html"] == want.non_html and got["not_ok"] == want.not_ok, name
        assert got["empty"] == want.empty, name
        assert got["quarantined"] == len(want.quarantined), name
    assert files["c.warc.wet.gz"]["written"] == len(crawl["texts"])
    assert report["totals"]["non_html_types"] == {"image/png": 2, "application/pdf": 2}
    assert report["totals"]["other_records"]["request"] > 0


def test_bad_records_are_quarantined_with_their_reason_and_bytes(crawl):
    q = pq.read_table(crawl["out"] / "_quarantine").to_pylist()
    by_url = {(Path(r["source_file"]).name, r["url"]): r for r in q}
    for name in ("a.warc.gz", "b.warc"):
        for url, reason in crawl[name[0]].quarantined.items():
            row = by_url[(name, url)]
            assert row["error"].startswith(reason), (url, row["error"])
            assert row["block"], url  # the bytes are kept, for a later look
    big = by_url[("a.warc.gz", "https://docs.example/big.html")]
    assert len(big["block"]) > 50 << 20 and "over --max-record-mb 32" in big["error"]
    assert len(q) == len(crawl["a"].quarantined) + len(crawl["b"].quarantined)


def test_the_rest_of_a_damaged_file_is_kept(crawl):
    rows = data(crawl["out"])
    urls = {(r["url"]) for r in rows}
    for name in ("a", "b"):
        assert set(crawl[name].written) <= urls, set(crawl[name].written) - urls
    # the page after the 50 MB record and the ones after each damaged record are there
    assert any(u.startswith("https://docs.example/last/") for u in urls)
    assert not {u for u in crawl["a"].quarantined} & urls - set(crawl["b"].written)


def test_text_columns_and_a_non_utf8_charset(crawl):
    rows = data(crawl["out"])
    latin = [r for r in rows if r["url"] == crawl["a"].latin1_url]
    assert latin and all(LATIN1_SENTENCE in r["text"] for r in latin)
    assert {r["charset"] for r in latin} == {"iso-8859-1"}
    html = [r for r in rows if r["url"].startswith("https://docs.example/")]
    assert all(r["content_type"] == "text/html" and r["content_length"] > 0 for r in html)
    assert all(r["id"].startswith("urn:uuid:") and r["dump"] == DUMP for r in rows)
    assert all(r["date"] == "2024-02-21T10:15:00Z" for r in rows)
    # the extracted text is the page's text, not its markup
    assert not any("<div" in r["text"] or "<script" in r["text"] for r in html)
    wet = {r["url"]: r for r in rows if r["url"].startswith("https://wet.example/")}
    assert [wet[f"https://wet.example/{i}"]["text"] for i in range(30)] == crawl["texts"]
    assert {r["language"] for r in wet.values()} == {"en"}  # CC's "eng,fra": the first, 639-1


def test_curate_run_reads_the_ingested_folder(crawl, tmp_path):
    pipe = tmp_path / "p.yaml"
    body = {"name": "cc", "input": str(crawl["out"]), "output": str(tmp_path / "run")}
    pipe.write_text(yaml.safe_dump({**body, "stages": [{"url_dedup": {}}, {"exact_dedup": {}}]}))
    r = curate("run", pipe, "--workers", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert check_balance(report) == []
    assert report["totals"]["docs_in"] == crawl["report"]["totals"]["written"]
    # b.warc re-crawls pages of a.warc.gz: url_dedup finds them
    assert report["stages"][0]["docs_removed"] > 0


def test_a_killed_ingest_resumes_to_the_same_output(crawl, tmp_path):
    out = tmp_path / "out"
    args = ["ingest", crawl["root"] / "crawl", "--output", out, "--workers", "1"]
    r = curate(*args, env={"CURATE_FAILPOINT": "ingest_file_done:2"})
    assert r.returncode == -9, (r.returncode, r.stderr[-2000:])
    assert len(list((out / "_ingest" / "done").glob("*.json"))) == 1
    r = curate(*args, "--resume")
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((out / "ingest_report.json").read_text())
    assert report["totals"]["files_run"] == 2
    want = crawl["report"]["totals"]
    for key in ("documents", "written", "non_html", "not_ok", "empty", "quarantined", "by_error"):
        assert report["totals"][key] == want[key], key
    assert data(out) == data(crawl["out"])
    assert not list(out.rglob(".*.tmp"))


def test_trafilatura_extracts_the_same_pages(tmp_path):
    folder = tmp_path / DUMP
    folder.mkdir()
    pages = html_pages(12)
    want = write_warc(folder / "t.warc.gz", pages, big_mb=0)
    out = tmp_path / "out"
    r = curate("ingest", folder, "--output", out, "--extractor", "trafilatura")
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((out / "ingest_report.json").read_text())
    assert check_ingest_balance(report) == []
    assert report["totals"]["written"] + report["totals"]["empty"] == len(want.written) + want.empty
    rows = data(out)
    latin = [r for r in rows if r["url"] == want.latin1_url]
    assert latin and LATIN1_SENTENCE in latin[0]["text"]


def test_errors_name_the_file_or_folder(tmp_path):
    (tmp_path / "x.warc").write_bytes(response("https://e/", b"<html><p>hello there</p></html>"))
    r = curate("ingest", tmp_path / "x.warc", "--output", tmp_path / "out")
    assert r.returncode == 2 and "CC-MAIN-YYYY-WW" in r.stderr and "x.warc" in r.stderr
    assert "Traceback" not in r.stderr
    foreign = tmp_path / "busy"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    r = curate("ingest", tmp_path / "x.warc", "--output", foreign, "--dump", DUMP)
    assert r.returncode == 2 and "did not write" in r.stderr and (foreign / "notes.txt").exists()
    r = curate("ingest", tmp_path / "nothing-here", "--output", tmp_path / "o2", "--dump", DUMP)
    assert r.returncode == 2 and "no such file" in r.stderr


def test_fastwarc_quirks_mode_loses_records_this_reader_reports():
    """Why curate has its own reader: fastwarc (2.0.1) in quirks mode lets a record with a
    Content-Length too long swallow the next one without a word."""
    fastwarc = pytest.importorskip("fastwarc.warc")
    pages = [b"<html><body><p>page %d</p></body></html>" % i for i in range(4)]
    records = [response(f"https://e/{i}", p, length_delta=300 if i == 1 else 0)
               for i, p in enumerate(pages)]  # fmt: skip
    stream = b"".join(records)
    seen = [
        r.headers.get("WARC-Target-URI")
        for r in fastwarc.ArchiveIterator(
            io.BytesIO(stream), record_types=fastwarc.WarcRecordType.response, quirks_mode=True
        )
    ]
    ours = [
        (r.headers.get("warc-target-uri"), r.error) for r in read_records(io.BytesIO(stream), False)
    ]
    assert len(seen) < 4  # one record gone, no error
    assert [u for u, _ in ours] == [f"https://e/{i}" for i in range(4)]
    assert ours[1][1].startswith("wrong Content-Length") and ours[2][1] is None


def test_records_per_shard_cuts_the_output(crawl, tmp_path):
    out = tmp_path / "out"
    a = crawl["root"] / "crawl" / DUMP / "a.warc.gz"
    r = curate("ingest", a, "--output", out, "--records-per-shard", "7")
    assert r.returncode == 0, r.stderr[-3000:]
    parts = sorted((out / f"dump={DUMP}").glob("a-*.parquet"))
    sizes = [pq.ParquetFile(p).metadata.num_rows for p in parts]
    written = len(crawl["a"].written)
    assert sum(sizes) == written and len(parts) == -(-written // 7)
    assert all(n == 7 for n in sizes[:-1]) and 0 < sizes[-1] <= 7


record_plan = st.lists(
    st.tuples(
        st.sampled_from(["good", "good", "good", "long", "short", "cut"]),
        st.binary(min_size=0, max_size=3000),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(plan=record_plan, gzipped=st.booleans())
def test_reader_reports_every_record_whatever_the_damage(plan, gzipped):
    """Property: with a good record after each damaged one, every record written comes back
    once, in order: a good one whole, a damaged one (wrong Content-Length, a cut gzip member
    or a cut record) with its error; nothing else."""
    members, want = [], []
    for i, (fault, payload) in enumerate(plan):
        url = f"https://p/{i}"
        html = b"<html><p>" + payload.replace(b"WARC/1.", b"warc/1.") + b"</p></html>"
        delta = {"long": 17, "short": -5}.get(fault, 0)
        record = response(url, html, length_delta=delta)
        data = gzip.compress(record, compresslevel=1) if gzipped else record
        if fault == "cut":
            data = data[: max(1, len(data) // 2)]
        members.append(data)
        want.append((url, fault))
        if fault != "good":  # a good record after each damaged one
            url = f"https://p/{i}-after"
            members.append(
                gzip.compress(response(url, b"ok"), 1) if gzipped else response(url, b"ok")
            )
            want.append((url, "good"))
    got = list(read_records(io.BytesIO(b"".join(members)), gzipped))
    assert len(got) == len(want), ([(r.headers.get("warc-target-uri"), r.error) for r in got], want)
    for record, (url, fault) in zip(got, want):
        if fault == "good":
            assert record.error is None and record.headers["warc-target-uri"] == url
        else:
            assert record.error is not None, (url, fault)
            if record.headers:  # a cut gzip member may lose the header too
                assert record.headers["warc-target-uri"] == url
