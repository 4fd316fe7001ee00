"""`curate ingest`: Common Crawl WARC (HTML responses) and WET (extracted text) files into
curate's Parquet layout, one task per input file.

Output, ready for ``curate run --input OUT``::

    OUT/dump=<dump>/<file>-<k>.parquet   id text url date dump language content_type charset
                                         content_length
    OUT/_quarantine/<file>.parquet       records that could not be used, with the reason and
                                         their bytes (``block``)
    OUT/ingest_report.json, .md          the counts
    OUT/_ingest/                         the run's fingerprint and one marker per finished file

Every document record (a WARC ``response`` or a WET ``conversion``, and any record too damaged
to tell) ends in exactly one place: written; counted as not HTML, as an HTTP status other than
2xx, or as empty after extraction; or quarantined with its reason. ``documents`` equals their
sum in the report. Other records (request, metadata, warcinfo) are counted by type.

A file's outputs appear under their final names only when whole (temporary name, rename) and
its marker is written last, so ``--resume`` skips finished files and redoes the rest, with
the same names and the same bytes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import xxhash

from curate import __version__, storage
from curate.errors import CurateError, InputError, failpoint
from curate.io import AtomicParquetWriter, atomic_write_bytes, shown
from curate.warc import ReadStats, Record, parse_http, read_records

SUFFIXES = (".warc", ".warc.gz", ".wet", ".wet.gz")
_STEMS = (".warc.wet.gz", ".warc.wet", ".warc.gz", ".wet.gz", ".warc", ".wet")
EXTRACTORS = ("resiliparse", "trafilatura")
HTML_TYPES = ("text/html", "application/xhtml+xml")
DUMP_IN_PATH = re.compile(r"CC-MAIN-\d{4}-\d{2}")
# Common Crawl truncates a response at 1 MiB; a record far over that is no page
MAX_RECORD_BYTES = 32 << 20
FLUSH_ROWS = 1000
SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("url", pa.string()),
        ("date", pa.string()),
        ("dump", pa.string()),
        ("language", pa.string()),
        ("content_type", pa.string()),
        ("charset", pa.string()),
        ("content_length", pa.int64()),
    ]
)
QUARANTINE_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("url", pa.string()),
        ("date", pa.string()),
        ("dump", pa.string()),
        ("warc_type", pa.string()),
        ("offset", pa.int64()),
        ("error", pa.string()),
        ("source_file", pa.string()),
        ("block", pa.large_binary()),
    ]
)
OWNED_PREFIXES = ("dump=", "_quarantine", "_ingest", "ingest_report.")
COUNTERS = ("records", "documents", "written", "non_html", "not_ok", "empty", "quarantined")


@dataclass(frozen=True)
class IngestTask:
    path: str
    name: str  # the output's file stem: unique in the run
    out: str
    dump: str
    extractor: str = "resiliparse"
    records_per_shard: int | None = None
    max_record_bytes: int = MAX_RECORD_BYTES
    size: int = 0


def discover_warc(inputs: list[str]) -> dict[str, int]:
    """Every WARC/WET file under the given directories, globs, files or object-store prefixes,
    sorted, with its size."""
    import glob

    found: dict[str, int] = {}
    for spec in inputs:
        if storage.is_remote(spec):
            listed = [(u, n) for u, n, name in storage.list_files(spec) if name.endswith(SUFFIXES)]
            if not listed:
                raise InputError(f"{spec}: no WARC or WET objects found ({', '.join(SUFFIXES)})")
            found.update(listed)
            continue
        matches = sorted(glob.glob(spec, recursive=True)) if re.search(r"[*?\[]", spec) else [spec]
        if not matches:
            raise InputError(f"{spec}: the glob matches nothing")
        for m in matches:
            if os.path.isdir(m):
                for dirpath, dirnames, files in os.walk(m):
                    dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
                    for f in files:
                        if f.endswith(SUFFIXES):
                            path = os.path.join(dirpath, f)
                            found[path] = os.path.getsize(path)
            elif os.path.isfile(m):
                if not m.endswith(SUFFIXES):
                    raise InputError(f"{m}: not a WARC or WET file ({', '.join(SUFFIXES)})")
                found[m] = os.path.getsize(m)
            else:
                raise InputError(f"{m}: no such file or directory")
    if not found:
        raise InputError(f"{', '.join(inputs)}: no WARC or WET files found ({', '.join(SUFFIXES)})")
    return dict(sorted(found.items()))


def stem(path: str) -> str:
    name = os.path.basename(path)
    for suffix in _STEMS:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def dump_of(path: str, flag: str | None) -> str:
    if flag:
        return flag
    found = DUMP_IN_PATH.findall(path if storage.is_remote(path) else os.path.abspath(path))
    if not found:
        raise InputError(
            f"{shown(path)}: no Common Crawl dump name (CC-MAIN-YYYY-WW) in the path; pass --dump"
        )
    return found[-1]


# ---------------------------------------------------------------- one file (worker side)


def ingest_file(task: IngestTask) -> dict[str, Any]:
    """Read one WARC/WET file into its Parquet parts; return (and persist) its counters."""
    t0 = time.perf_counter()
    out = storage.path(task.out)
    counts: dict[str, Any] = {c: 0 for c in COUNTERS}
    counts.update(
        file=shown(task.path),
        bytes_in=task.size,
        payload_bytes=0,
        text_bytes=0,
        by_error={},
        non_html_types={},
        other_records={},
        parts=[],
    )
    extract = _extractor(task.extractor)
    folder = out / f"dump={task.dump}"
    writer: AtomicParquetWriter | None = None
    quarantine = AtomicParquetWriter(out / "_quarantine" / f"{task.name}.parquet")
    rows: dict[str, list] = {f.name: [] for f in SCHEMA}
    bad: dict[str, list] = {f.name: [] for f in QUARANTINE_SCHEMA}
    writers: list[AtomicParquetWriter] = []

    def flush() -> None:
        nonlocal writer
        if not rows["id"]:
            return
        if writer is None:
            writer = AtomicParquetWriter(folder / f"{task.name}-{len(writers):05d}.parquet")
            writers.append(writer)
        writer.write(pa.table(rows, schema=SCHEMA))
        for v in rows.values():
            v.clear()
        if task.records_per_shard and writer.rows >= task.records_per_shard:
            writer = None  # the next rows start a new part

    def set_aside(record: Record, error: str) -> None:
        h = record.headers
        counts["quarantined"] += 1
        kind = error.split(" (")[0].split(": ")[0]
        counts["by_error"][kind] = counts["by_error"].get(kind, 0) + 1
        for name, value in (
            ("id", _record_id(h) or f"{task.name}@{record.offset}"),
            ("url", h.get("warc-target-uri")),
            ("date", h.get("warc-date")),
            ("dump", task.dump),
            ("warc_type", h.get("warc-type")),
            ("offset", record.offset),
            ("error", error),
            ("source_file", shown(task.path)),
            ("block", record.block),
        ):
            bad[name].append(value)
        if len(bad["id"]) >= 16 or len(record.block) > (1 << 20):
            quarantine.write(pa.table(bad, schema=QUARANTINE_SCHEMA))
            for v in bad.values():
                v.clear()

    stats = ReadStats()
    gzipped = task.path.endswith(".gz")
    try:
        opened = task.path if storage.is_remote(task.path) else os.fsencode(task.path)
        with storage.open_raw(opened) as raw:
            for record in read_records(raw, gzipped, stats):
                counts["records"] += 1
                kind = record.type
                if kind not in ("response", "conversion", "resource") and record.error is None:
                    counts["other_records"][kind] = counts["other_records"].get(kind, 0) + 1
                    continue
                counts["documents"] += 1
                if record.error is not None:
                    set_aside(record, record.error)
                    continue
                if len(record.block) > task.max_record_bytes:
                    set_aside(
                        record,
                        f"record too large ({len(record.block):,} bytes, over --max-record-mb "
                        f"{task.max_record_bytes >> 20})",
                    )
                    continue
                try:
                    row, skip = _document(record, task.dump, extract)
                except Exception as exc:  # an extractor bug must not lose the file
                    set_aside(record, f"extraction failed ({type(exc).__name__}: {exc})")
                    continue
                if skip is not None:
                    counts[skip[0]] += 1
                    if skip[0] == "non_html":
                        types = counts["non_html_types"]
                        types[skip[1]] = types.get(skip[1], 0) + 1
                    continue
                counts["written"] += 1
                counts["payload_bytes"] += row["content_length"] or 0
                counts["text_bytes"] += len(row["text"].encode("utf-8", "surrogatepass"))
                for name, value in row.items():
                    rows[name].append(value)
                room = FLUSH_ROWS
                if task.records_per_shard:  # a part holds at most records_per_shard rows
                    room = min(room, task.records_per_shard - (writer.rows if writer else 0))
                if len(rows["id"]) >= room:
                    flush()
        flush()
        for w in writers:
            w.close()
        if bad["id"]:
            quarantine.write(pa.table(bad, schema=QUARANTINE_SCHEMA))
        quarantine.close()
    except OSError as exc:
        for w in (*writers, quarantine):
            w.abort()
        raise CurateError(f"{shown(task.path)}: cannot read ({exc.strerror or exc})") from None
    except BaseException:
        for w in (*writers, quarantine):
            w.abort()
        raise
    counts["junk_bytes"] = stats.junk_bytes
    counts["damaged_gzip_members"] = stats.damaged_members
    counts["parts"] = [str(w.path.relative_to(out)) for w in writers]
    counts["seconds"] = round(time.perf_counter() - t0, 3)
    failpoint("ingest_file_done")
    atomic_write_bytes(out / "_ingest" / "done" / f"{task.name}.json", json.dumps(counts).encode())
    return counts


def _record_id(headers: dict[str, str]) -> str | None:
    rid = headers.get("warc-record-id")
    return rid.strip("<>") if rid else None


def _document(record: Record, dump: str, extract) -> tuple[dict[str, Any], tuple[str, str] | None]:
    """(the output row, None) or (None, (counter, detail)) for a record that is not written."""
    h = record.headers
    row: dict[str, Any] = {
        "id": _record_id(h) or f"@{record.offset}",
        "url": h.get("warc-target-uri"),
        "date": h.get("warc-date"),
        "dump": dump,
        "language": None,
    }
    if record.type == "conversion":  # WET: the text is the block, in UTF-8
        text = record.block.decode("utf-8", "replace")
        language = h.get("warc-identified-content-language")
        row.update(
            text=text,
            language=_iso639_1(language.split(",")[0]) if language else None,
            content_type=h.get("content-type", "text/plain"),
            charset="utf-8",
            content_length=len(record.block),
        )
        return (row, None) if text.strip() else (row, ("empty", ""))
    status, http, payload = parse_http(record.block)
    if status is not None and not 200 <= status < 300:
        return row, ("not_ok", str(status))
    mime, charset = _content_type(http.get("content-type") or h.get("warc-identified-payload-type"))
    if not mime and payload.lstrip()[:15].lower().startswith((b"<!doctype html", b"<html")):
        mime = "text/html"
    if mime not in HTML_TYPES:
        return row, ("non_html", mime or "(none)")
    payload = _decoded_payload(payload, http.get("content-encoding", ""))
    html, charset = _decode(payload, charset)
    text = extract(html)
    row.update(text=text or "", content_type=mime, charset=charset, content_length=len(payload))
    return (row, None) if text and text.strip() else (row, ("empty", ""))


# Common Crawl's WET language header is ISO 639-3 (CLD2); curate's stages use ISO 639-1
_ISO639_1 = {
    "eng": "en", "zho": "zh", "fra": "fr", "deu": "de", "rus": "ru", "jpn": "ja", "spa": "es",
    "por": "pt", "ita": "it", "nld": "nl", "pol": "pl", "kor": "ko", "ara": "ar", "tur": "tr",
    "vie": "vi", "ces": "cs", "swe": "sv", "ind": "id", "fas": "fa", "ukr": "uk", "hin": "hi",
}  # fmt: skip


def _iso639_1(code: str) -> str:
    return _ISO639_1.get(code.strip().lower(), code.strip().lower())


def _content_type(value: str | None) -> tuple[str, str | None]:
    if not value:
        return "", None
    mime, _, params = value.partition(";")
    charset = None
    for param in params.split(";"):
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset" and val.strip():
            charset = val.strip().strip("\"'").lower()
    return mime.strip().lower(), charset


def _decoded_payload(payload: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("gzip", "x-gzip", "deflate"):
        try:
            return zlib.decompress(payload, 47 if encoding != "deflate" else 15)
        except zlib.error:
            return payload  # Common Crawl stores most payloads decoded already
    return payload


def _decode(payload: bytes, declared: str | None) -> tuple[str, str]:
    """The HTML as text: the declared charset when it decodes, else the detected one."""
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    if declared:
        try:
            return payload.decode(declared), declared
        except (LookupError, UnicodeDecodeError):
            pass
    detected = detect_encoding(payload)
    return bytes_to_str(payload, detected, errors="replace"), detected


def _extractor(name: str):
    if name == "resiliparse":
        from resiliparse.extract.html2text import extract_plain_text

        def resiliparse(html: str) -> str:
            return extract_plain_text(html, main_content=True, alt_texts=False)

        return resiliparse
    if name == "trafilatura":
        import trafilatura

        def trafilatura_text(html: str) -> str | None:
            # datatrove's Trafilatura defaults: precision first, no comments, dedup lines
            return trafilatura.extract(
                html, favor_precision=True, include_comments=False, deduplicate=True
            )

        return trafilatura_text
    raise CurateError(f"--extractor {name}: choose one of {', '.join(EXTRACTORS)}")


# ---------------------------------------------------------------- the run (driver side)


def run_ingest(
    inputs: list[str],
    output: str,
    executor,
    extractor: str = "resiliparse",
    dump: str | None = None,
    records_per_shard: int | None = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
    resume: bool = False,
) -> dict[str, Any]:
    from curate.extras import require

    require("warc", "curate ingest")
    _extractor(extractor)  # an unknown name fails before any work
    sizes = discover_warc(inputs)
    paths = list(sizes)
    names: dict[str, str] = {}
    for path in paths:
        name = stem(path)
        if name in names:
            raise InputError(
                f"{shown(path)} and {shown(names[name])}: two inputs named {name}; their outputs "
                "would collide (ingest them into separate --output folders)"
            )
        names[name] = path
    url = output if storage.is_remote(output) else None
    # an object-store output: straight into the bucket, under this run's prefix; manifest last
    out = storage.path(storage.begin_run(url, resume)) if url is not None else Path(output)
    tasks = [
        IngestTask(
            path, stem(path), str(out), dump_of(path, dump), extractor, records_per_shard,
            max_record_bytes, sizes[path],
        )
        for path in paths
    ]  # fmt: skip
    fingerprint = {
        "curate_version": __version__,
        "options": {
            "extractor": extractor,
            "dump": dump,
            "records_per_shard": records_per_shard,
            "max_record_bytes": max_record_bytes,
        },
        "inputs": [[shown(p), _file_fingerprint(p, sizes[p])] for p in paths],
    }
    _prepare(out, fingerprint, resume)
    t0 = time.perf_counter()
    results, todo = [], []
    for task in tasks:
        marker = out / "_ingest" / "done" / f"{task.name}.json"
        if resume and marker.exists():
            results.append(json.loads(marker.read_text()))
        else:
            todo.append(task)
    results.extend(executor.map(ingest_file, todo, desc="ingest"))
    results.sort(key=lambda r: r["file"])
    report = _report(results, fingerprint, time.perf_counter() - t0, len(todo))
    atomic_write_bytes(out / "ingest_report.json", json.dumps(report, indent=1).encode())
    atomic_write_bytes(out / "ingest_report.md", render_ingest(report).encode())
    if url is not None:
        storage.publish_run(url, str(out), work="_ingest")
    return report


def _file_fingerprint(path: str, size: int) -> str:
    with storage.open_raw(path) as f:
        head = f.read(64 << 10)
        f.seek(max(0, size - (64 << 10)))
        tail = f.read()
    return f"{size}:{xxhash.xxh3_64_hexdigest(head + tail)}"


def _prepare(out: Path, fingerprint: dict[str, Any], resume: bool) -> None:
    marker = out / "_ingest" / "run.json"
    if isinstance(out, storage.RemotePath):  # this run's own prefix in the bucket
        if resume and marker.exists() and json.loads(marker.read_text()) != fingerprint:
            raise CurateError(
                f"{out}: cannot --resume: the inputs or options changed since that ingest "
                f"started (fingerprint in {marker}); run without --resume to start over"
            )
        if not (resume and marker.exists()):
            storage.rmtree(out)
            atomic_write_bytes(marker, json.dumps(fingerprint, indent=1).encode())
        return
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: output path exists and is not a directory")
    if resume and marker.exists():
        if json.loads(marker.read_text()) != fingerprint:
            raise CurateError(
                f"{out}: cannot --resume: the inputs or options changed since that ingest "
                f"started (fingerprint in {marker}); run without --resume to start over"
            )
        for tmp in out.rglob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        return
    if out.exists():
        entries = list(out.iterdir())
        foreign = [p.name for p in entries if not p.name.startswith(OWNED_PREFIXES)]
        if foreign or (entries and not marker.exists()):
            raise CurateError(
                f"{out}: output directory holds files curate ingest did not write "
                f"({', '.join(sorted(foreign or [p.name for p in entries])[:5])}); choose an "
                "empty or new directory"
            )
        for p in entries:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink()
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_bytes(marker, json.dumps(fingerprint, indent=1).encode())


def _report(
    results: list[dict[str, Any]], fingerprint: dict[str, Any], seconds: float, ran: int
) -> dict[str, Any]:
    totals: dict[str, Any] = {c: sum(r[c] for r in results) for c in COUNTERS}
    for key in ("bytes_in", "payload_bytes", "text_bytes", "junk_bytes"):
        totals[key] = sum(r[key] for r in results)
    merged: dict[str, dict[str, int]] = {"by_error": {}, "non_html_types": {}, "other_records": {}}
    for r in results:
        for key, into in merged.items():
            for k, v in r[key].items():
                into[k] = into.get(k, 0) + v
    work = sum(r["seconds"] for r in results)
    return {
        "curate_version": __version__,
        "options": fingerprint["options"],
        "totals": {
            **totals,
            **merged,
            "files": len(results),
            "files_run": ran,
            "seconds": round(seconds, 3),
            "worker_seconds": round(work, 3),
            "docs_per_worker_second": round(totals["documents"] / work, 1) if work else None,
            "mb_per_worker_second": round(totals["bytes_in"] / 1e6 / work, 2) if work else None,
        },
        "files": [
            {k: r[k] for k in ("file", *COUNTERS, "bytes_in", "damaged_gzip_members", "parts")}
            for r in results
        ],
    }


def check_ingest_balance(report: dict[str, Any]) -> list[str]:
    """documents = written + non_html + not_ok + empty + quarantined, per file and in total."""
    problems = []
    for entry in [report["totals"], *report["files"]]:
        parts = sum(entry[c] for c in ("written", "non_html", "not_ok", "empty", "quarantined"))
        if entry["documents"] != parts:
            problems.append(
                f"{entry.get('file', 'totals')}: documents {entry['documents']} != written + "
                f"non_html + not_ok + empty + quarantined ({parts})"
            )
    return problems


def render_ingest(report: dict[str, Any]) -> str:
    t = report["totals"]
    lines = [
        "# curate ingest",
        "",
        f"{t['files']} files, {t['bytes_in'] / 1e6:,.1f} MB read, extractor "
        f"{report['options']['extractor']}",
        "",
        "| records | documents | written | not HTML | HTTP not 2xx | empty after extraction "
        "| quarantined |",
        "|---:|---:|---:|---:|---:|---:|---:|",
        f"| {t['records']:,} | {t['documents']:,} | {t['written']:,} | {t['non_html']:,} | "
        f"{t['not_ok']:,} | {t['empty']:,} | {t['quarantined']:,} |",
        "",
    ]
    if t["by_error"]:
        lines += ["Quarantined (rows in _quarantine/, with their bytes):", ""]
        lines += [f"- {k}: {v:,}" for k, v in sorted(t["by_error"].items(), key=lambda kv: -kv[1])]
        lines.append("")
    if t["non_html_types"]:
        top = sorted(t["non_html_types"].items(), key=lambda kv: -kv[1])[:10]
        lines += ["Not HTML, by type: " + ", ".join(f"{k} {v:,}" for k, v in top), ""]
    if t["other_records"]:
        lines += [
            "Other records: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(t["other_records"].items())),
            "",
        ]
    if t["worker_seconds"]:
        lines.append(
            f"{t['docs_per_worker_second']:,} documents/s and {t['mb_per_worker_second']:,} MB/s "
            f"per worker; {t['seconds']:,} s in all"
        )
    return "\n".join(lines) + "\n"


def summary_line(report: dict[str, Any]) -> str:
    t = report["totals"]
    return (
        f"{t['documents']:,} documents in {t['files']} files: {t['written']:,} written, "
        f"{t['non_html']:,} not HTML, {t['not_ok']:,} HTTP not 2xx, {t['empty']:,} empty after "
        f"extraction, {t['quarantined']:,} quarantined"
    )
