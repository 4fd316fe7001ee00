"""WARC to text: `curate ingest` against datatrove's WarcReader + Trafilatura on the same files.

The WARC files are written here from real HTML pages on this machine (Debian's python3-doc
library reference and debian-reference-en, one gzip member per record as Common Crawl writes
them, a request record before each response). Every run uses one worker process, so the
figures are per core. MB/s counts the gzipped WARC bytes read, docs/s the response records.
The reader-only rows time the WARC parsing alone (no extraction): curate's own reader, fastwarc
and warcio (which datatrove's WarcReader uses).
"""

from __future__ import annotations

import gzip
import io
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
from common import run_measured  # noqa: E402

DUMP = "CC-MAIN-2024-10"
DATATROVE = """
import sys, time
from datatrove.pipeline.readers import WarcReader
from datatrove.pipeline.extractors import Trafilatura
t = time.perf_counter()
reader = WarcReader(sys.argv[1], glob_pattern="*.warc.gz")
docs = sum(1 for _ in Trafilatura(favour_precision=True).run(reader.run()))
print("DOCS", docs, time.perf_counter() - t)
"""


def _write_warcs(folder: Path, quick: bool) -> tuple[int, int]:
    from tests.warc_files import PAGE_DIRS, request, response

    pages = []
    for package, pages_dir in PAGE_DIRS.items():
        pages += [(f"{package}/{f.name}", f.read_bytes()) for f in sorted(pages_dir.glob("*.html"))]
    if quick:
        pages = pages[:80]
    half = len(pages) // 2
    for k, part in enumerate((pages[:half], pages[half:])):
        members = []
        for name, html in part:
            url = f"https://docs.example/{name}"
            members.append(gzip.compress(request(url), compresslevel=6))
            members.append(gzip.compress(response(url, html), compresslevel=6))
        (folder / f"part-{k}.warc.gz").write_bytes(b"".join(members))
    size = sum(p.stat().st_size for p in folder.glob("*.warc.gz"))
    return len(pages), size


def _reader_only(folder: Path) -> list[tuple[str, float, int]]:
    from curate.warc import read_records

    files = sorted(folder.glob("*.warc.gz"))
    out = []
    t = time.perf_counter()
    n = 0
    for f in files:
        with open(f, "rb") as raw:
            n += sum(1 for r in read_records(raw, True) if r.type == "response")
    out.append(("curate.warc reader", time.perf_counter() - t, n))
    try:
        from fastwarc.warc import ArchiveIterator, WarcRecordType

        t = time.perf_counter()
        n = 0
        for f in files:
            for r in ArchiveIterator(
                io.BytesIO(f.read_bytes()), record_types=WarcRecordType.response
            ):
                r.reader.read()
                n += 1
        out.append(("fastwarc 2.0 (strict)", time.perf_counter() - t, n))
    except ImportError:
        pass
    try:
        from warcio.archiveiterator import ArchiveIterator as WarcioIterator

        t = time.perf_counter()
        n = 0
        for f in files:
            with open(f, "rb") as raw:
                for r in WarcioIterator(raw):
                    if r.rec_type == "response":
                        r.content_stream().read()
                        n += 1
        out.append(("warcio (datatrove's reader)", time.perf_counter() - t, n))
    except ImportError:
        pass
    return out


def run(quick: bool = False) -> str:
    tmp = Path(tempfile.mkdtemp(prefix="curate-bench-ingest-"))
    try:
        folder = tmp / DUMP
        folder.mkdir()
        docs, size = _write_warcs(folder, quick)
        mb = size / 1e6
        rows = []
        for extractor in ("resiliparse", "trafilatura"):
            out = tmp / f"out-{extractor}"
            cmd = [sys.executable, "-m", "curate.cli", "ingest", str(folder), "--output", str(out)]
            cmd += ["--workers", "1", "--extractor", extractor]
            m = run_measured(cmd, cwd=str(ROOT))
            if m.returncode != 0:
                return f"## WARC ingest\n\nFAILED ({extractor}):\n```\n{m.output[-2000:]}\n```\n"
            t = json.loads((out / "ingest_report.json").read_text())["totals"]
            rows.append(
                (f"curate ingest --extractor {extractor}", m.seconds, t["written"], m.peak_rss_mb)
            )
        m = run_measured([sys.executable, "-c", DATATROVE, str(folder)], cwd=str(tmp))
        if m.returncode == 0:
            line = [x for x in m.output.splitlines() if x.startswith("DOCS")][-1].split()
            rows.append(
                ("datatrove WarcReader + Trafilatura", m.seconds, int(line[1]), m.peak_rss_mb)
            )
        else:
            rows.append(
                ("datatrove WarcReader + Trafilatura (failed)", m.seconds, 0, m.peak_rss_mb)
            )
        lines = [
            "## WARC ingest: curate ingest vs datatrove WarcReader + Trafilatura",
            "",
            f"{docs} real HTML pages (python3-doc, debian-reference-en) in 2 gzipped WARC files "
            f"({mb:.1f} MB, one member per record), one worker. Wall time of the whole command "
            "(interpreter start included); docs/s counts response records read.",
            "",
            "| run | seconds | docs/s | MB/s | documents written | peak RSS MB |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, seconds, written, rss in rows:
            lines.append(
                f"| {name} | {seconds:.1f} | {docs / seconds:,.1f} | {mb / seconds:.2f} | "
                f"{written} | {rss:.0f} |"
            )
        lines += ["", "Reading alone (no extraction), in one process:", ""]
        lines += ["| reader | seconds | records/s | MB/s |", "|---|---:|---:|---:|"]
        for name, seconds, n in _reader_only(folder):
            lines.append(f"| {name} | {seconds:.2f} | {n / seconds:,.0f} | {mb / seconds:.1f} |")
        lines += [
            "",
            "`PYTHONPATH=$PWD .venv/bin/python benchmarks/run.py --only ingest`",
        ]
        return "\n".join(lines) + "\n"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
