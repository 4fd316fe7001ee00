"""JSON Lines input: ``.jsonl``, ``.jsonl.gz``, ``.jsonl.zst``, one JSON object per line.

Each line becomes one row of the fixed JSONL schema (``id``, ``text``, ``url``, ``date``,
``dump``, ``language``, all strings, null when the line lacks the key); the pipeline's
``jsonl:`` mapping names the JSON key of each column (``jsonl: {text: content}``). Other keys
are not carried. Blank lines are not documents and are skipped.

A plain file is planned like a Parquet file whose row groups are blocks of BLOCK_LINES lines:
``scan_plain`` reads it once (newlines counted with numpy; 208 MB/s in bench_jsonl) for the
byte offset of every block, so one large file is cut into several shards on line boundaries
and every line keeps its number whatever the shard size. A compressed file cannot be entered
in the middle: it is one shard, and is not read when planning.

Parsing is compiled (pyarrow's JSON reader) a batch at a time; a batch it refuses is parsed
line by line to find the bad lines, which are quarantined with their line number and reason.
"""

from __future__ import annotations

import io
import json
import zlib
from collections.abc import Iterator
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.json as pj
import xxhash

from curate.storage import open_raw

COLUMNS = ("id", "text", "url", "date", "dump", "language")
SUFFIXES = (".jsonl", ".jsonl.gz", ".jsonl.zst")
SCHEMA = pa.schema([(c, pa.string()) for c in COLUMNS])
BLOCK_LINES = 1024  # the planning unit of a plain file: a shard holds whole blocks
_CHUNK = 8 << 20
_HEAD = 64 << 10


class ReadError(Exception):
    """The stream broke off (truncated or corrupt compression)."""


def is_jsonl(path: str) -> bool:
    return path.endswith(SUFFIXES)


def compressed(path: str) -> bool:
    return path.endswith((".gz", ".zst"))


def default_keys() -> dict[str, str]:
    return {c: c for c in COLUMNS}


def scan_plain(path: str) -> tuple[str, tuple[int, ...], tuple[int, ...]]:
    """(fingerprint, lines per block, byte offset where each block starts + the file's size)."""
    digest = xxhash.xxh3_64()
    offsets = [0]
    lines = pos = 0
    last = b""
    with open_raw(path) as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            ends = np.flatnonzero(np.frombuffer(chunk, np.uint8) == 10)
            # line n (0-based) starts after newline n-1: a block starts at lines BLOCK_LINES*m
            numbers = lines + np.arange(1, len(ends) + 1)
            cuts = ends[numbers % BLOCK_LINES == 0]
            offsets.extend((pos + cuts + 1).tolist())
            lines += len(ends)
            pos += len(chunk)
            last = chunk[-1:]
    if pos and last != b"\n":
        lines += 1  # a last line without its newline
    if offsets[-1] == pos and len(offsets) > 1:
        offsets.pop()  # the file ends on a block boundary
    blocks = len(offsets)
    rows = [BLOCK_LINES] * (blocks - 1) + [lines - BLOCK_LINES * (blocks - 1)]
    return f"{pos}:{digest.hexdigest()}", tuple(rows) if pos else (), (*offsets, pos)


def fingerprint_compressed(path: str, size: int) -> str:
    """Size and a hash of the first and last 64 KiB: the file is not read whole to plan."""
    with open_raw(path) as f:
        head = f.read(_HEAD)
        f.seek(max(0, size - _HEAD))
        tail = f.read()
    return f"{size}:{xxhash.xxh3_64_hexdigest(head + tail)}"


def open_lines(path: bytes | str, byte_range: tuple[int, int] | None = None) -> IO[bytes]:
    """A binary stream of the file's (decompressed) bytes, or of ``byte_range`` of a plain file."""
    raw = open_raw(path)
    name = path.decode(errors="replace") if isinstance(path, bytes) else path
    if name.endswith((".gz", ".zst")):
        return _Decompressed(raw, "zst" if name.endswith(".zst") else "gz")
    if byte_range is not None:
        raw.seek(byte_range[0])
        return _Window(raw, byte_range[1] - byte_range[0])
    return raw


class _Decompressed(io.RawIOBase):
    """The decompressed bytes of a gzip (every member) or zstd (every frame) file. Unlike
    GzipFile, a truncated or corrupt file gives every byte that decompressed before the damage,
    and only then raises ReadError."""

    def __init__(self, raw: IO[bytes], kind: str) -> None:
        self.raw, self.kind = raw, kind
        self.inner = self._new()
        self.error: str | None = None
        self.started = False  # the current member or frame has input

    def _new(self):
        if self.kind == "gz":
            return zlib.decompressobj(wbits=31)
        import zstandard

        return zstandard.ZstdDecompressor().decompressobj()

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        if self.error:
            raise ReadError(self.error)
        while True:
            data = self.raw.read(_CHUNK // 4)
            if not data:
                if self.started:
                    self.error = f"{self.kind} stream ends in the middle of a member"
                    raise ReadError(self.error)
                return b""
            out = []
            try:
                while data:
                    self.started = True
                    out.append(self.inner.decompress(data))
                    if not self.inner.eof:
                        break
                    data = self.inner.unused_data  # the next member / frame
                    self.inner, self.started = self._new(), False
            except (zlib.error, ValueError) as exc:  # zstandard.ZstdError is a ValueError
                self.error = f"corrupt {self.kind} data ({exc})"
            chunk = b"".join(out)
            if chunk or self.error:
                return chunk

    def close(self) -> None:
        self.raw.close()
        super().close()


class _Window(io.RawIOBase):
    """At most ``length`` bytes of ``raw`` from where it stands."""

    def __init__(self, raw: IO[bytes], length: int) -> None:
        self.raw, self.left = raw, length

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.raw.read(n)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.raw.close()
        super().close()


def line_batches(
    stream: IO[bytes], first_line: int, batch_lines: int
) -> Iterator[tuple[int, list[bytes]]]:
    """(number of the first line, lines without their newline), ``batch_lines`` lines at a time.
    A read error (a truncated gzip member, a corrupt zstd frame) propagates after every whole
    line before it was yielded."""
    pending: list[bytes] = []
    rest = b""
    number = first_line
    error: str | None = None
    while True:
        try:
            chunk = stream.read(_CHUNK)
        except ReadError as exc:
            error = str(exc)
            break
        except OSError as exc:
            error = str(exc).strip() or type(exc).__name__
            break
        if not chunk:
            break
        body = rest + chunk
        cut = body.rfind(b"\n")
        if cut < 0:
            rest = body
            continue
        rest = body[cut + 1 :]
        pending.extend(body[:cut].split(b"\n"))
        while len(pending) >= batch_lines:
            yield number, pending[:batch_lines]
            number += batch_lines
            pending = pending[batch_lines:]
    if error is not None:  # every whole line before the damage, then the error
        while pending:
            yield number, pending[:batch_lines]
            number += len(pending[:batch_lines])
            pending = pending[batch_lines:]
        lost = f"; a partial line {number + 1} of {len(rest)} bytes is lost" if rest else ""
        raise ReadError(f"{error}{lost}")
    if rest:
        pending.append(rest)
    if pending:
        yield number, pending


def parse_lines(
    lines: list[bytes], first_line: int, keys: dict[str, str]
) -> tuple[pa.Table, pa.Array, list[tuple[int, str, str]]]:
    """Parse a batch of lines into (rows of SCHEMA with ``id`` null when the line has none,
    their 0-based line numbers, and (line number, error, raw line) for every bad line)."""
    numbers = [first_line + i for i, line in enumerate(lines) if line.strip()]
    kept = [line for line in lines if line.strip()]
    if not kept:
        return SCHEMA.empty_table(), pa.array([], pa.int64()), []
    schema = pa.schema([(keys[c], pa.string()) for c in COLUMNS if c in keys])
    try:
        table = pj.read_json(
            io.BytesIO(b"\n".join(kept)),
            read_options=pj.ReadOptions(
                use_threads=False, block_size=max(1 << 20, 2 * sum(len(x) + 1 for x in kept))
            ),
            parse_options=pj.ParseOptions(
                explicit_schema=schema, unexpected_field_behavior="ignore"
            ),
        )
        if table.num_rows == len(kept):
            columns = [
                table.column(keys[c]) if c in keys else pa.nulls(table.num_rows, pa.string())
                for c in COLUMNS
            ]
            return pa.Table.from_arrays(columns, schema=SCHEMA), pa.array(numbers, pa.int64()), []
    except (pa.ArrowException, ValueError):
        pass  # a bad line somewhere: find it line by line
    return _parse_slowly(kept, numbers, keys)


def _parse_slowly(
    lines: list[bytes], numbers: list[int], keys: dict[str, str]
) -> tuple[pa.Table, pa.Array, list[tuple[int, str, str]]]:
    rows: dict[str, list[str | None]] = {c: [] for c in COLUMNS}
    good: list[int] = []
    bad: list[tuple[int, str, str]] = []
    for number, raw in zip(numbers, lines):
        error, values = _parse_line(raw, number, keys)
        if error is not None:
            bad.append((number, error, raw.decode("utf-8", "backslashreplace")))
            continue
        good.append(number)
        for c in COLUMNS:
            rows[c].append(values.get(c))
    table = pa.Table.from_pydict(rows, schema=SCHEMA)
    return table, pa.array(good, pa.int64()), bad


def _parse_line(
    raw: bytes, number: int, keys: dict[str, str]
) -> tuple[str | None, dict[str, str | None]]:
    where = f"line {number + 1}"
    try:
        line = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"line is not valid UTF-8 ({where}, byte {exc.start})", {}
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return f"line is not valid JSON ({where}: {exc.msg} at column {exc.colno})", {}
    except RecursionError:
        return f"line is not valid JSON ({where}: nested too deeply)", {}
    if not isinstance(obj, dict):
        return f"line is not a JSON object ({where}: a {type(obj).__name__})", {}
    values: dict[str, str | None] = {}
    for column in COLUMNS:
        key = keys.get(column)
        value = obj.get(key) if key is not None else None
        if value is None or isinstance(value, str):
            values[column] = value
        elif column == "text":
            return f"text is not a string ({where}: key '{key}' holds a {_kind(value)})", {}
        elif isinstance(value, dict | list):
            values[column] = json.dumps(value, ensure_ascii=False)
        else:  # numbers and booleans: ids and dates are often numbers
            values[column] = json.dumps(value)
    for column, value in values.items():
        if value is not None and not _encodable(value):
            return f"{column} is not valid UTF-8 ({where}: a lone surrogate escape)", {}
    return None, values


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _kind(value: object) -> str:
    return {bool: "boolean", int: "number", float: "number", dict: "object", list: "array"}.get(
        type(value), type(value).__name__
    )
