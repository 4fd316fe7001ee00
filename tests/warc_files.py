"""WARC and WET files written at test time from real HTML pages on this machine (Debian's
python3-doc and debian-reference-en; scripts/install_test_text.sh installs them), with the
damage real crawls carry."""

from __future__ import annotations

import gzip
import uuid
from dataclasses import dataclass, field
from pathlib import Path

PAGE_DIRS = {
    "python3-doc": Path("/usr/share/doc/python3-doc/html/library"),
    "debian-reference": Path("/usr/share/debian-reference"),
}
LATIN1_SENTENCE = "Un café naïve à Zürich: ½ déjà-vu, señor Ærøskøbing."


def html_pages(limit: int = 80) -> list[tuple[str, bytes]]:
    """(name, bytes) of real HTML pages, from both packages, in a stable order."""
    pages: list[tuple[str, bytes]] = []
    for package, folder in PAGE_DIRS.items():
        files = sorted(folder.glob("*.html"))
        assert files, (
            f"no HTML pages in {folder}: the ingest tests need Debian's python3-doc and "
            "debian-reference-en (bash scripts/install_test_text.sh)"
        )
        pages += [(f"{package}/{f.name}", f.read_bytes()) for f in files[: limit // 2]]
    return pages


def warc_record(
    kind: str,
    url: str,
    block: bytes,
    content_type: str,
    extra: dict[str, str] | None = None,
    length_delta: int = 0,
) -> bytes:
    headers = {
        "WARC-Type": kind,
        "WARC-Record-ID": f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, kind + url)}>",
        "WARC-Date": "2024-02-21T10:15:00Z",
        "WARC-Target-URI": url,
        "Content-Type": content_type,
        **(extra or {}),
        "Content-Length": str(len(block) + length_delta),
    }
    head = "WARC/1.0\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode() + block + b"\r\n\r\n"


def response(url: str, payload: bytes, mime: str = "text/html; charset=utf-8", status=200,
             length_delta: int = 0) -> bytes:  # fmt: skip
    reason = {200: "OK", 404: "Not Found"}.get(status, "X")
    http = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {mime}\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload
    return warc_record(
        "response", url, http, "application/http; msgtype=response", length_delta=length_delta
    )


def request(url: str) -> bytes:
    http = f"GET / HTTP/1.1\r\nHost: {url.split('/')[2]}\r\n\r\n".encode()
    return warc_record("request", url, http, "application/http; msgtype=request")


@dataclass
class Crawl:
    """What a test WARC holds and what curate ingest must do with each record."""

    written: list[str] = field(default_factory=list)  # urls of pages that must be written
    non_html: int = 0
    not_ok: int = 0
    empty: int = 0
    quarantined: dict[str, str] = field(default_factory=dict)  # url -> reason's start
    lost_members: int = 0  # damaged gzip members whose record cannot even be named
    other: int = 0  # request / warcinfo records
    latin1_url: str = ""


def write_warc(path: Path, pages: list[tuple[str, bytes]], big_mb: int = 50) -> Crawl:
    """A gzipped WARC (one member per record) of real pages with: a truncated gzip member, a
    record with a wrong Content-Length (too long, and too short), a page in ISO-8859-1, a
    ``big_mb`` MB response, non-HTML records, a 404, an empty page, request and warcinfo
    records. Good pages follow every fault, so "the rest of the file is kept" is checked."""
    crawl = Crawl()
    members: list[bytes] = []
    gzipped = path.name.endswith(".gz")

    def add(record: bytes) -> None:
        members.append(gzip.compress(record, compresslevel=1) if gzipped else record)

    add(warc_record("warcinfo", "", b"software: curate tests\r\n", "application/warc-fields"))
    crawl.other += 1
    for i, (name, html) in enumerate(pages):
        url = f"https://docs.example/{name}"
        add(request(url))
        crawl.other += 1
        if i == 5:  # a truncated gzip member (a cut record, plain), then the file goes on
            record = response(url, html)
            whole = gzip.compress(record, compresslevel=1) if gzipped else record
            members.append(whole[: len(whole) // 2])
            crawl.quarantined[url] = "damaged data" if gzipped else "wrong Content-Length"
            continue
        if i == 9:  # Content-Length too long: swallows part of the next record
            add(response(url, html, length_delta=+300))
            crawl.quarantined[url] = "wrong Content-Length"
            continue
        if i == 13:  # Content-Length too short
            add(response(url, html, length_delta=-500))
            crawl.quarantined[url] = "wrong Content-Length"
            continue
        add(response(url, html))
        crawl.written.append(url)
    # a page in ISO-8859-1, declared in the HTTP header
    latin = (
        pages[0][1]
        .decode("utf-8")
        .replace("<p>", f"<p>{LATIN1_SENTENCE} ", 1)
        .replace('charset="utf-8"', 'charset="iso-8859-1"')
    )
    url = "https://docs.example/latin1.html"
    add(
        response(
            url, latin.encode("iso-8859-1", "xmlcharrefreplace"), "text/html; charset=iso-8859-1"
        )
    )
    crawl.written.append(url)
    crawl.latin1_url = url
    # non-HTML, a 404, an empty page
    add(
        response(
            "https://docs.example/logo.png",
            b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
            "image/png",
        )
    )
    add(response("https://docs.example/paper.pdf", b"%PDF-1.4\n" + b"0" * 4000, "application/pdf"))
    crawl.non_html += 2
    add(response("https://docs.example/missing", pages[1][1], status=404))
    crawl.not_ok += 1
    add(response("https://docs.example/empty.html", b"<html><head></head><body> </body></html>"))
    crawl.empty += 1
    # a big response, then one more good page
    if big_mb:
        filler = pages[2][1]
        body = filler * (big_mb * (1 << 20) // len(filler) + 1)
        url = "https://docs.example/big.html"
        add(response(url, body))
        crawl.quarantined[url] = "record too large"
    url = f"https://docs.example/last/{pages[3][0]}"
    add(response(url, pages[3][1]))
    crawl.written.append(url)
    path.write_bytes(b"".join(members))
    return crawl


def write_wet(path: Path, texts: list[str]) -> list[str]:
    """A plain WET file of conversion records (with Common Crawl's language header); the urls."""
    records = [
        warc_record("warcinfo", "", b"software: curate tests\r\n", "application/warc-fields")
    ]
    urls = []
    for i, text in enumerate(texts):
        url = f"https://wet.example/{i}"
        urls.append(url)
        records.append(
            warc_record(
                "conversion",
                url,
                text.encode(),
                "text/plain",
                {"WARC-Identified-Content-Language": "eng,fra" if i % 2 else "eng"},
            )
        )
    path.write_bytes(b"".join(records))
    return urls
