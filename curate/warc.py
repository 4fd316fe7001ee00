"""A WARC record reader that accounts for every record, damaged ones included.

Common Crawl's WARC and WET files are gzip members of one record each (a plain file works the
same, and so does one gzip stream around the whole file). This reader yields every record it
finds, whole or not:

- a gzip member that is truncated or corrupt: the bytes it decompressed so far end as a damaged
  record (``error`` set), and reading resumes at the next gzip member;
- a Content-Length that does not match the record (the block is not followed by CRLF CRLF):
  the record ends where the next ``WARC/1.x`` record begins, and comes back with ``error`` set;
- bytes between records that are not a record are counted (``junk_bytes``), never parsed.

Why not fastwarc: in strict mode its iterator raises at the first malformed record and the rest
of the file is lost; in quirks mode a record with a Content-Length too long swallows the next
record without a word, and one too short comes back truncated as if it were whole (measured
with fastwarc 2.0.1, see tests/test_ingest.py). The parsing here is a few header lines per
record; the time of an ingest goes to HTML extraction.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

_READ = 1 << 20
_SLICE = 64 << 10
_GZIP_MAGIC = b"\x1f\x8b\x08"
_MAX_HEADER = 1 << 20  # a WARC header block longer than this is no header
# where a record starts: anywhere, since the bytes before it may be a record cut mid-line
_NEXT_RECORD = re.compile(rb"(WARC/1\.[01]\r\n)")


@dataclass
class Record:
    """One WARC record: its headers, its block (the HTTP response, or the WET text), where it
    starts in the (decompressed) stream, and what was wrong with it."""

    headers: dict[str, str]
    block: bytes
    offset: int
    error: str | None = None

    @property
    def type(self) -> str:
        return self.headers.get("warc-type", "")


@dataclass
class ReadStats:
    junk_bytes: int = 0  # bytes between records that were not a record
    damaged_members: list[str] = field(default_factory=list)  # gzip members that broke off


def _chunks(raw: IO[bytes], gzipped: bool, stats: ReadStats) -> Iterator[bytes | None]:
    """Decompressed bytes; ``None`` marks where damaged data was skipped."""
    if not gzipped:
        while chunk := raw.read(_READ):
            yield chunk
        return
    buf, at, buf_pos, file_pos = b"", 0, 0, 0  # compressed bytes, where we are, their offset
    # the current member's first bytes (None past 4 MB), and its offset
    window: bytearray | None = bytearray()
    member_pos = 0
    d, started = zlib.decompressobj(wbits=31), False
    while True:
        if at >= len(buf):
            buf, at, buf_pos = raw.read(_READ), 0, file_pos
            file_pos += len(buf)
            if not buf:
                if started:
                    stats.damaged_members.append(f"gzip member at byte {member_pos} is truncated")
                    yield None
                return
        # a slice at a time: a corrupt member loses the output of one slice, not of a read
        data = memoryview(buf)[at : at + _SLICE]
        data_pos = buf_pos + at
        saved = d.copy()
        try:
            out = d.decompress(data)
            started = True
        except zlib.error as exc:
            pieces = []  # what the slice holds before the damage, a KiB at a time
            for k in range(0, len(data), 1024):
                try:
                    pieces.append(saved.decompress(data[k : k + 1024]))
                except zlib.error:
                    break
            if any(pieces):
                yield b"".join(pieces)
            stats.damaged_members.append(f"gzip member at byte {member_pos} is corrupt ({exc})")
            yield None
            # resynchronise at the next gzip member after the damaged one's start
            if window is not None and window:
                search, search_pos = bytes(window) + buf[at:], member_pos
            else:
                search, search_pos = buf[at:], data_pos
            i = search.find(_GZIP_MAGIC, max(0, member_pos + 1 - search_pos))
            while i < 0:
                more = raw.read(_READ)
                file_pos += len(more)
                if not more:
                    return
                search_pos += len(search) - 2
                search = search[-2:] + more
                i = search.find(_GZIP_MAGIC)
            buf, at, buf_pos = search, i, search_pos
            window, member_pos = bytearray(), search_pos + i
            d, started = zlib.decompressobj(wbits=31), False
            continue
        if out:
            yield out
        if d.eof:
            at += len(data) - len(d.unused_data)
            window, member_pos = bytearray(), buf_pos + at
            d, started = zlib.decompressobj(wbits=31), False
        else:
            at += len(data)
            if window is not None and len(window) < (4 << 20):
                window += data  # the first 4 MB of a member: the next one is looked for there
            else:
                window = None


def read_records(raw: IO[bytes], gzipped: bool, stats: ReadStats | None = None) -> Iterator[Record]:
    """Every record of a WARC/WET stream, damaged ones with ``error`` set."""
    stats = stats if stats is not None else ReadStats()
    buf = bytearray()
    base = 0  # stream offset of buf[0]
    source = _chunks(raw, gzipped, stats)
    done = False
    breaks = 0  # damaged stretches not yet reported with a record

    def fill() -> bool:
        """More bytes into buf; False at the end, or at damaged data (``None`` from source)."""
        nonlocal done, breaks
        if done:
            return False
        chunk = next(source, b"")
        if chunk is None:
            breaks += 1
            return False
        if not chunk:
            done = True
            return False
        buf.extend(chunk)
        return True

    while True:
        # the start of a record: anything before it is junk
        while not buf.startswith(b"WARC/") or breaks:
            while breaks:  # a damaged member no record was reading: its records are lost
                lost = stats.damaged_members[-breaks]
                yield Record({}, b"", base, f"damaged data ({lost}): its record is lost")
                breaks -= 1
            if buf.startswith(b"WARC/"):
                break
            m = _NEXT_RECORD.search(buf)
            if m:
                stats.junk_bytes += len(bytes(buf[: m.start(1)]).strip())
                base += m.start(1)
                del buf[: m.start(1)]
                break
            keep = min(len(buf), 16)  # a record start may straddle two chunks
            stats.junk_bytes += len(bytes(buf[: len(buf) - keep]).strip())
            base += len(buf) - keep
            del buf[: len(buf) - keep]
            if not fill() and done:
                stats.junk_bytes += len(bytes(buf).strip())
                return
        # its header block
        end = buf.find(b"\r\n\r\n")
        while end < 0 and len(buf) < _MAX_HEADER and fill():
            end = buf.find(b"\r\n\r\n")
        if end < 0:
            nxt = _next_record(buf, 1)
            reason = "the file ends inside a WARC header"
            if not done:
                reason = f"damaged data ({stats.damaged_members[-breaks]}) in a WARC header"
                breaks -= 1
            yield Record(_parse_headers(bytes(buf[:nxt])), b"", base, reason)
            base += nxt
            del buf[:nxt]
            if done and not buf:
                return
            continue
        inner = _NEXT_RECORD.search(buf, 1, end + 2)
        if inner:  # another record starts inside this header: this one is cut short
            cut = inner.start(1)
            yield Record(_parse_headers(bytes(buf[:cut])), b"", base, "a WARC header is cut short")
            base += cut
            del buf[:cut]
            continue
        headers = _parse_headers(bytes(buf[:end]))
        start = end + 4
        try:
            length = int(headers.get("content-length", ""))
            if length < 0:
                raise ValueError
        except ValueError:
            nxt = _next_record(buf, start)
            yield Record(headers, bytes(buf[start:nxt]), base, "no valid Content-Length")
            base += nxt
            del buf[:nxt]
            continue
        need = start + length + 4
        broken = False
        while len(buf) < need and not broken:
            if not fill():
                broken = not done
                if done:
                    break
        if len(buf) >= need and buf[start + length : need] == b"\r\n\r\n":
            yield Record(headers, bytes(buf[start : start + length]), base)
            base += need
            del buf[:need]
            continue
        # the block is not where Content-Length says: the record ends where the next begins
        nxt = _next_record(buf, start)
        while nxt == len(buf) and not broken and fill():
            nxt = _next_record(buf, start)
        broken = broken or (breaks > 0)
        block = bytes(buf[start:nxt]).rstrip(b"\r\n")
        if broken:
            reason = (
                f"damaged data ({stats.damaged_members[-breaks]}): {len(block)} of {length} bytes"
            )
            breaks -= 1
        elif nxt < len(buf):
            reason = f"wrong Content-Length (declared {length}, the record has {len(block)} bytes)"
        else:
            reason = f"the file ends inside the record ({len(block)} of {length} bytes)"
        yield Record(headers, block, base, reason)
        base += nxt
        del buf[:nxt]
        if done and not buf:
            return


def _next_record(buf: bytearray, start: int) -> int:
    m = _NEXT_RECORD.search(buf, start)
    return m.start(1) if m else len(buf)


def _parse_headers(raw: bytes) -> dict[str, str]:
    """WARC (or HTTP) headers after the first line, names lowercased; bytes as Latin-1."""
    headers: dict[str, str] = {}
    for line in raw.decode("latin-1").split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return headers


def parse_http(block: bytes) -> tuple[int | None, dict[str, str], bytes]:
    """(status, headers, payload) of an HTTP response block; status None when it is not one."""
    end = block.find(b"\r\n\r\n")
    sep = 4
    if end < 0:
        end, sep = block.find(b"\n\n"), 2
    if end < 0 or not block.startswith(b"HTTP/"):
        return None, {}, block
    head = block[:end].replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    try:
        status = int(status_line[1])
    except (IndexError, ValueError):
        status = None
    return status, _parse_headers(head), block[end + sep :]
