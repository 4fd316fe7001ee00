"""Parquet shard discovery, streaming reads that normalise the data model, atomic writes.

Data model: a required ``text`` string column; optional ``id``, ``url``, ``dump``, ``date``,
``domain``, ``language``; any other column is carried through. Hive folders (``dump=X/``) become
columns when the file does not already have them. A missing ``id`` is derived from the file's
path relative to its input root and the row's number in the file, so the same input gets the same
ids on any machine, with any number of workers and any shard size.

A shard, the unit of parallel work, is a range of row groups of one file or several whole small
files (``plan_shards``): one large file keeps every worker busy and many tiny files do not cost a
task each. A row group is never split: a file written as one row group is one shard.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import unquote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from curate import jsonl, storage
from curate.errors import CurateError, InputError, failpoint

TEXT = "text"
KNOWN_COLUMNS = ("id", "text", "url", "dump", "date", "domain", "language")
_HIVE_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_GLOB_CHARS = re.compile(r"[*?\[]")


# shard_rows "auto": about this many shards when the input allows, each at most AUTO_MAX_ROWS rows.
# The plan must not depend on the workers (the output would), so a small input is cut for a
# 64-core box; a large one gets a cluster's worth of shards from the cap.
AUTO_SHARDS = 64
AUTO_MAX_ROWS = 100_000  # ~400 MB of Common Crawl text: 3e9 documents in ~30,000 shards


@dataclass(frozen=True)
class InputFile:
    """One input Parquet file (its path, its path relative to the input root, its hive columns),
    or, with ``row_groups``, the range of its row groups that one shard reads."""

    path: str
    relpath: str
    hive: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    size: int = 0
    row_groups: tuple[int, int] | None = None  # [first, stop); None: the whole file
    first_row: int = 0  # the file's row number of the first row read (ids count from it)
    byte_range: tuple[int, int] | None = None  # a plain JSONL file's part: [start, stop) bytes
    keys: tuple[tuple[str, str], ...] = ()  # JSONL: (column, JSON key) pairs; () the defaults

    @property
    def shown(self) -> str:
        """The path as valid text, for messages, reports and the ``source_file`` column."""
        return shown(self.path)


@dataclass(frozen=True)
class Shard:
    """The unit of parallel work: a range of row groups of one file, or whole files."""

    index: int
    files: tuple[InputFile, ...]

    @property
    def where(self) -> str:
        """The shard's input, for messages."""
        first = self.files[0]
        if first.byte_range is not None:
            return f"{first.shown} (lines from {first.first_row + 1})"
        if first.row_groups is not None:
            return f"{first.shown} (row groups {first.row_groups[0]}-{first.row_groups[1] - 1})"
        more = len(self.files) - 1
        return first.shown + (f" (and {more} more file{'s' * (more > 1)})" if more else "")


def shown(path: str) -> str:
    """``path`` as valid UTF-8 text: bytes of a name that is not UTF-8 (Latin-1 names exist on
    real disks; Python holds them as surrogates) are written ``\\xNN``, as quarantined rows are."""
    return os.fsencode(path).decode("utf-8", "backslashreplace")


def parse_hive(relpath: str) -> tuple[tuple[str, str], ...]:
    """``dump=CC-MAIN-2023-06/part-0.parquet`` -> (("dump", "CC-MAIN-2023-06"),)."""
    parts = []
    for segment in Path(relpath).parts[:-1]:
        if "=" not in segment:
            continue
        key, _, value = segment.partition("=")
        if shown(value) != value:  # a column value must be text; a file name need not be
            raise InputError(
                f"{shown(relpath)}: folder '{shown(segment)}' is a hive partition whose value is "
                "not valid UTF-8 (rename the folder: the value becomes a column)"
            )
        if not _HIVE_KEY.match(key) or not value or "=" in value:
            raise InputError(
                f"{shown(relpath)}: folder '{shown(segment)}' looks like a hive partition but "
                "does not parse as key=value (key: letters, digits, _; value: non-empty, '=' "
                "written as %3D)"
            )
        parts.append((key, unquote(value)))
    return tuple(parts)


def discover_shards(inputs: list[str], shard_rows: int | str | None = None) -> list[Shard]:
    """The shards of the given inputs: one per file with ``shard_rows`` None, else as planned."""
    files = discover_files(inputs)
    if shard_rows is None:
        return [Shard(i, (f,)) for i, f in enumerate(files)]
    return plan_shards(files, [read_footer(f) for f in files], shard_rows)


def discover_files(inputs: list[str], jsonl_keys: dict[str, str] | None = None) -> list[InputFile]:
    """Every ``*.parquet`` and ``*.jsonl[.gz|.zst]`` under the given directories, globs or
    files, in a stable order. ``jsonl_keys``: the JSON key of each column, where not its name."""
    if not inputs:
        raise InputError("no input given: set 'input' in the pipeline or pass --input")
    found: dict[str, tuple[str, str]] = {}
    sizes: dict[str, int] = {}
    for spec in inputs:
        if storage.is_remote(spec):  # s3:// gs:// hf://: listed, or what its manifest lists
            glob_at = _GLOB_CHARS.search(spec)
            root = spec[: glob_at.start()].rsplit("/", 1)[0] if glob_at else spec.rstrip("/")
            listed = storage.list_files(spec)
            if not listed:
                raise InputError(f"{spec}: no objects found")
            for url, size, name in listed:  # name: without a published run's id
                rel = name.rsplit("/", 1)[-1] if name == root else name[len(root) + 1 :]
                if _input_file(rel) and not any(p.startswith((".", "_")) for p in rel.split("/")):
                    found.setdefault(url, (url, rel))
                    sizes[url] = size
        elif _GLOB_CHARS.search(spec):
            root = _glob_root(spec)
            matches = sorted(glob.glob(spec, recursive=True))
            if not matches:
                raise InputError(f"{spec}: the glob matches nothing")
            for m in matches:
                for path in _input_files(m):
                    found.setdefault(os.path.abspath(path), (path, os.path.relpath(path, root)))
        elif os.path.isdir(spec):
            for path in _input_files(spec):
                found.setdefault(os.path.abspath(path), (path, os.path.relpath(path, spec)))
        elif os.path.isfile(spec):
            root = os.path.dirname(spec) or "."
            found.setdefault(os.path.abspath(spec), (spec, os.path.relpath(spec, root)))
        else:
            raise InputError(f"{spec}: no such file or directory")
    if not found:
        raise InputError(f"{', '.join(inputs)}: no *.parquet or *.jsonl[.gz|.zst] files found")
    ordered = sorted(found.values(), key=lambda pr: (pr[1], pr[0]))
    keys = tuple(sorted({**jsonl.default_keys(), **(jsonl_keys or {})}.items()))
    return [
        InputFile(
            path,
            rel,
            parse_hive(rel),
            sizes[path] if path in sizes else os.path.getsize(path),
            keys=keys if jsonl.is_jsonl(path) and dict(keys) != jsonl.default_keys() else (),
        )
        for path, rel in ordered
    ]


def _glob_root(spec: str) -> str:
    parts = Path(spec).parts
    for i, part in enumerate(parts):
        if _GLOB_CHARS.search(part):
            return str(Path(*parts[:i])) if i else "."
    return os.path.dirname(spec) or "."


def _input_file(name: str) -> bool:
    return name.endswith(".parquet") or jsonl.is_jsonl(name)


def _input_files(path: str) -> list[str]:
    if os.path.isfile(path):
        return [path] if _input_file(path) else []
    out = []
    for dirpath, dirnames, filenames in os.walk(path):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
        out.extend(
            os.path.join(dirpath, f)
            for f in sorted(filenames)
            if _input_file(f) and not f.startswith((".", "_"))
        )
    return out


@dataclass(frozen=True)
class Footer:
    """What the driver learns from one read of a file's footer."""

    fingerprint: str  # size plus a hash of the footer: row counts, offsets, sizes, statistics
    group_rows: tuple[int, ...] = ()  # rows per row group; () when the footer is unreadable
    # more than one row group and a usable text column (an unusable file stays whole: its
    # quarantined rows number from 0)
    splittable: bool = False
    schema: pa.Schema | None = None  # files are grouped only with files of the same schema
    offsets: tuple[int, ...] = ()  # plain JSONL: byte offset of each block, then the size
    alone: bool = False  # a shard of its own, never cut (compressed JSONL: rows unknown)


_FOOTER_READ = 64 << 10  # one read gets most footers whole; a bigger one costs a second read


def read_footer(file: InputFile) -> Footer:
    """Fingerprint and row groups of ``file`` from one read of its tail (two if the footer is
    longer than 64 KiB). An unreadable footer is no error here: the shard that reads the file
    quarantines it, and its fingerprint is that of its tail. A JSONL file's blocks of lines
    play its row groups (curate.jsonl)."""
    if jsonl.is_jsonl(file.path):
        return _jsonl_footer(file)
    with storage.open_raw(file.path) as f:
        f.seek(max(0, file.size - _FOOTER_READ))
        tail = f.read()
        n = int.from_bytes(tail[-8:-4], "little") if len(tail) >= 12 else -1
        if tail[-4:] != b"PAR1" or not 0 < n <= file.size - 12:
            return Footer(f"{file.size}:{xxhash.xxh3_64_hexdigest(tail)}")
        if n + 8 > len(tail):
            f.seek(file.size - 8 - n)
            tail = f.read(n + 8)
    footer = tail[-8 - n :]
    fingerprint = f"{file.size}:{xxhash.xxh3_64_hexdigest(footer)}"
    try:  # the footer alone, framed as a _metadata file, parses without touching the data
        meta = pq.read_metadata(pa.BufferReader(b"PAR1" + footer))
        schema = meta.schema.to_arrow_schema()
    except (pa.ArrowException, OSError):
        return Footer(fingerprint)
    rows = tuple(meta.row_group(g).num_rows for g in range(meta.num_row_groups))
    return Footer(fingerprint, rows, len(rows) > 1 and _text_problem(schema) is None, schema)


def _jsonl_footer(file: InputFile) -> Footer:
    try:
        if jsonl.compressed(file.path):
            return Footer(
                jsonl.fingerprint_compressed(file.path, file.size), schema=jsonl.SCHEMA, alone=True
            )
        fingerprint, rows, offsets = jsonl.scan_plain(file.path)
    except (OSError, InputError) as exc:  # the shard that reads it quarantines it
        reason = getattr(exc, "strerror", None) or str(exc)[:100]
        return Footer(f"{file.size}:unreadable ({reason})", schema=jsonl.SCHEMA, alone=True)
    return Footer(fingerprint, rows, len(rows) > 1, jsonl.SCHEMA, offsets)


def auto_shard_rows(total_rows: int) -> int:
    """The rows per shard of ``shard_rows: auto`` for an input of ``total_rows`` rows."""
    return max(1, min(AUTO_MAX_ROWS, -(-total_rows // AUTO_SHARDS)))


def plan_shards(
    files: list[InputFile], footers: list[Footer], shard_rows: int | str
) -> list[Shard]:
    """Cut the input into shards of at most ``shard_rows`` rows, in input order.

    A file of more rows is cut at row-group boundaries (a row group of more rows is a shard of
    its own); smaller files are packed together, whole, when their schemas are the same (a
    shard's output is one Parquet file; an unreadable file joins any group, it adds no rows).
    Shard k then holds the rows right after shard k-1's, so (shard, row) orders rows as
    (file, row) does, whatever the shard size.
    """
    target = (
        auto_shard_rows(sum(sum(f.group_rows) for f in footers))
        if shard_rows == "auto"
        else int(shard_rows)
    )
    shards: list[Shard] = []
    group: list[InputFile] = []
    group_rows = 0
    group_schema: pa.Schema | None = None
    for file, footer in zip(files, footers):
        rows = sum(footer.group_rows)
        if footer.alone:
            if group:
                shards.append(Shard(len(shards), tuple(group)))
                group, group_rows, group_schema = [], 0, None
            shards.append(Shard(len(shards), (file,)))
            continue
        if rows <= target or not footer.splittable:
            other = (
                footer.schema is not None
                and group_schema is not None
                and not footer.schema.equals(group_schema)
            )
            if group and (group_rows + rows > target or other):
                shards.append(Shard(len(shards), tuple(group)))
                group, group_rows, group_schema = [], 0, None
            group.append(file)
            group_rows += rows
            group_schema = group_schema or footer.schema
            continue
        if group:
            shards.append(Shard(len(shards), tuple(group)))
            group, group_rows, group_schema = [], 0, None
        start = first_row = taken = 0
        for g, n in enumerate(footer.group_rows):
            if taken and taken + n > target:
                part = _part(file, footer, start, g, first_row)
                shards.append(Shard(len(shards), (part,)))
                start, first_row, taken = g, first_row + taken, 0
            taken += n
        part = _part(file, footer, start, len(footer.group_rows), first_row)
        shards.append(Shard(len(shards), (part,)))
    if group:
        shards.append(Shard(len(shards), tuple(group)))
    return shards


def _part(file: InputFile, footer: Footer, start: int, stop: int, first_row: int) -> InputFile:
    """Row groups [start, stop) of ``file``; for a JSONL file, the bytes of those blocks."""
    span = (footer.offsets[start], footer.offsets[stop]) if footer.offsets else None
    return replace(file, row_groups=(start, stop), first_row=first_row, byte_range=span)


class BadFile(InputError):
    """A whole file is unusable; ``table`` holds its rows when they could still be read."""

    def __init__(
        self,
        message: str,
        table: pa.Table | None = None,
        rows_unread: int = 0,
        rows: int | None = None,
    ) -> None:
        super().__init__(message)
        self.table = table
        self.rows_unread = rows_unread  # rows the file claims but that could not be read
        self.rows = rows  # rows its footer declares; None when the footer is unreadable


@dataclass
class ReadBatch:
    """A normalised batch, plus the rows set aside from it with their errors."""

    batch: pa.RecordBatch
    quarantined: pa.Table | None = None


def read_input_shard(shard: Shard, batch_size: int) -> Iterator[ReadBatch]:
    """Stream every file of ``shard`` (see read_input_file); the first unusable one raises."""
    for file in shard.files:
        yield from read_input_file(file, batch_size)


def read_input_file(file: InputFile, batch_size: int) -> Iterator[ReadBatch]:
    """Stream a raw input file (its ``row_groups`` when set) as normalised record batches.

    Rows whose text is null, empty or not valid UTF-8 come back in ``quarantined`` with an
    ``error`` column; a file that cannot be read or lacks a usable ``text`` column raises
    BadFile naming the file.
    """
    if jsonl.is_jsonl(file.path):
        yield from _read_jsonl(file, batch_size)
        return
    source = open_source(file)
    try:
        yield from _read_source(file, source, batch_size)
    finally:
        source.close()


def open_source(file: InputFile) -> pa.NativeFile:
    """A random-access reader of an input file, local or remote (s3://, gs://, hf://); one that
    cannot be opened is a BadFile naming it."""
    try:
        if storage.is_remote(file.path):
            return storage.open_input(file.path)
        # opened by its bytes: pyarrow encodes str paths as UTF-8, a Latin-1 name is not
        return pa.OSFile(os.fsencode(file.path))
    except (pa.ArrowException, OSError, InputError) as exc:
        raise BadFile(f"{file.shown}: cannot open ({_short(exc)})") from None


def _read_source(file: InputFile, source: pa.NativeFile, batch_size: int) -> Iterator[ReadBatch]:
    try:
        # page CRCs are checked when the writer stored them: a flipped byte is an error, not text
        pf = pq.ParquetFile(source, page_checksum_verification=True)
        schema = pf.schema_arrow
    except (pa.ArrowException, OSError) as exc:
        raise BadFile(f"{file.shown}: not a readable Parquet file ({_short(exc)})") from None
    first, stop = file.row_groups or (0, pf.num_row_groups)
    declared = pf.metadata.num_rows  # the file's, as its footer says (a shard may read a part)
    problem = _text_problem(schema)
    if problem:
        raise BadFile(
            f"{file.shown}: {problem}", _read_all_or_none(pf, range(first, stop)), rows=declared
        )
    id_prefix = xxhash.xxh3_64_hexdigest(os.fsencode(file.relpath.replace(os.sep, "/")))[:12]
    # Row group by row group: a corrupt one loses its unread rows, not the rest of the file.
    # Each group's compressed column chunks are read whole, then decoded one batch at a time.
    offset = file.first_row
    lost: list[str] = []
    unread = 0
    for group in range(first, stop):
        group_rows = pf.metadata.row_group(group).num_rows
        read = 0
        try:
            for batch in pf.iter_batches(batch_size=batch_size, row_groups=[group]):
                yield _normalise(batch, file, id_prefix, offset + read)
                read += batch.num_rows
        except (pa.ArrowException, OSError) as exc:
            unread += group_rows - read
            lost.append(
                f"row group {group} unreadable after row {offset + read}, "
                f"{group_rows - read} rows lost ({_short(exc)})"
            )
        offset += group_rows
    if lost:
        raise BadFile(f"{file.shown}: " + "; ".join(lost), rows_unread=unread, rows=declared)


def _read_jsonl(file: InputFile, batch_size: int) -> Iterator[ReadBatch]:
    """A JSONL file (its ``byte_range`` when set), a batch of lines at a time: bad lines go to
    quarantine with their number; a read error keeps every line before it (BadFile)."""
    keys = dict(file.keys) or jsonl.default_keys()
    id_prefix = xxhash.xxh3_64_hexdigest(os.fsencode(file.relpath.replace(os.sep, "/")))[:12]
    try:
        path = file.path if storage.is_remote(file.path) else os.fsencode(file.path)
        stream = jsonl.open_lines(path, file.byte_range)
    except (OSError, InputError) as exc:
        raise BadFile(f"{file.shown}: cannot open ({_short(exc)})") from None
    number = file.first_row
    try:
        for number, lines in jsonl.line_batches(stream, file.first_row, batch_size):
            table, rows, bad = jsonl.parse_lines(lines, number, keys)
            derived = pa.array([f"{id_prefix}-{r}" for r in rows.to_pylist()], pa.string())
            table = table.set_column(0, "id", pc.coalesce(table["id"], derived))
            read = _normalise(_to_batch(table), file, id_prefix, number, rows)
            if bad:
                read.quarantined = _bad_lines(bad, file, id_prefix, read.quarantined)
            yield read
            number += len(lines)
    except jsonl.ReadError as exc:
        raise BadFile(
            f"{file.shown}: unreadable after line {number} ({_short(exc)}); the lines before "
            "it are kept"
        ) from None
    finally:
        stream.close()


def _bad_lines(
    bad: list[tuple[int, str, str]], file: InputFile, id_prefix: str, more: pa.Table | None
) -> pa.Table:
    """Quarantine rows for lines that did not parse: the line itself as ``text``."""
    n = len(bad)
    columns = {c: pa.nulls(n, pa.string()) for c in jsonl.COLUMNS}
    columns["id"] = pa.array([f"{id_prefix}-{b[0]}" for b in bad], pa.string())
    columns["text"] = pa.array([b[2] for b in bad], pa.string())
    for key, value in file.hive:
        if key not in columns:
            columns[key] = pa.array([value] * n, pa.string())
    columns["_source_row"] = pa.array([b[0] for b in bad], pa.int64())
    columns["error"] = pa.array([b[1] for b in bad], pa.string())
    columns["source_file"] = pa.array([file.shown] * n, pa.string())
    table = pa.table(columns)
    if more is None:
        return table
    return pa.concat_tables([more, table.cast(more.schema)]).sort_by("_source_row")


def _text_problem(schema: pa.Schema) -> str | None:
    """Why a file with this schema has no usable text column, or None."""
    if TEXT not in schema.names:
        return f"no '{TEXT}' column (columns: {', '.join(schema.names)})"
    text_type = schema.field(TEXT).type
    if not (
        pa.types.is_string(text_type)
        or pa.types.is_large_string(text_type)
        or pa.types.is_binary(text_type)
        or pa.types.is_large_binary(text_type)
    ):
        return f"column '{TEXT}' has type {text_type}, expected string"
    return None


def _normalise(
    batch: pa.RecordBatch,
    file: InputFile,
    id_prefix: str,
    offset: int,
    source_rows: pa.Array | None = None,
) -> ReadBatch:
    """Ids, hive columns, UTF-8 and empty-text checks. ``source_rows``: each row's number in
    the file, when the rows are not ``offset``, ``offset + 1``, ... (JSONL: blank and bad lines)."""
    n = batch.num_rows
    table = pa.Table.from_batches([batch])
    if "id" not in table.column_names:
        ids = pa.array([f"{id_prefix}-{offset + i}" for i in range(n)], pa.string())
        table = table.add_column(0, "id", ids)
    elif pa.types.is_binary(table.schema.field("id").type):
        table = table.set_column(
            table.column_names.index("id"), "id", table["id"].combine_chunks().view(pa.string())
        )
    elif not pa.types.is_string(table.schema.field("id").type):
        table = table.set_column(
            table.column_names.index("id"), "id", pc.cast(table["id"], pa.string())
        )
    for key, value in file.hive:
        if key not in table.column_names:
            table = table.append_column(key, pa.array([value] * n, pa.string()))
        elif source_rows is not None:  # JSONL: the fixed schema has the column, maybe null
            at = table.column_names.index(key)
            table = table.set_column(at, key, pc.coalesce(table[key], pa.scalar(value)))
    errors: list[str | None] = [None] * n
    text = table[TEXT].combine_chunks()
    if pa.types.is_binary(text.type) or pa.types.is_large_binary(text.type):
        text = text.cast(pa.large_binary()).view(pa.large_string())
    # Parquet readers do not check UTF-8: bad bytes (lone surrogates too) would break a stage
    for name in table.column_names:
        values = text if name == TEXT else table[name].combine_chunks()
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            continue
        bad = _invalid_utf8(values)
        for i, byte in bad.items():
            errors[i] = errors[i] or f"{name} is not valid UTF-8 (byte {byte})"
        if bad:  # quarantined rows keep a readable rendering of the bytes
            values = _backslash_replaced(values)
        if name == TEXT:
            text = values
        elif bad:
            table = table.set_column(table.column_names.index(name), name, values)
    if pa.types.is_large_string(text.type):
        text = pc.cast(text, pa.string())
    nulls = pc.is_null(text).to_pylist()
    empty = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0).to_pylist()
    for i in range(n):
        if errors[i] is None and nulls[i]:
            errors[i] = "text is null"
        elif errors[i] is None and empty[i]:
            errors[i] = "text is empty"
    table = table.set_column(table.column_names.index(TEXT), TEXT, text)
    if source_rows is None:
        source_rows = pa.array(range(offset, offset + n), pa.int64())
    table = table.append_column("_source_row", source_rows)
    if not any(e is not None for e in errors):
        return ReadBatch(_to_batch(table.drop_columns(["_source_row"])))
    bad = pa.array([e is not None for e in errors])
    quarantined = table.filter(bad)
    quarantined = quarantined.append_column(
        "error", pa.array([e for e in errors if e is not None], pa.string())
    ).append_column("source_file", pa.array([file.shown] * quarantined.num_rows, pa.string()))
    good = table.filter(pc.invert(bad)).drop_columns(["_source_row"])
    return ReadBatch(_to_batch(good), quarantined)


def _invalid_utf8(values: pa.Array) -> dict[int, int]:
    """Row -> offset of the first bad byte, for every value that is not valid UTF-8."""
    try:
        values.validate(full=True)
        return {}
    except pa.ArrowInvalid:
        pass
    bad = {}
    raw_values = values.view(
        pa.large_binary() if pa.types.is_large_string(values.type) else pa.binary()
    )
    for i, raw in enumerate(raw_values.to_pylist()):
        if raw is None:
            continue
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            bad[i] = exc.start
    return bad


def _backslash_replaced(values: pa.Array) -> pa.Array:
    binary = pa.large_binary() if pa.types.is_large_string(values.type) else pa.binary()
    decoded = [
        None if raw is None else raw.decode("utf-8", "backslashreplace")
        for raw in values.view(binary).to_pylist()
    ]
    return pa.array(decoded, values.type)


def _to_batch(table: pa.Table) -> pa.RecordBatch:
    return (
        table.combine_chunks().to_batches()[0]
        if table.num_rows
        else pa.RecordBatch.from_pylist([], schema=table.schema)
    )


def _read_all_or_none(pf: pq.ParquetFile, groups: range) -> pa.Table | None:
    try:
        return pf.read_row_groups(list(groups))
    except (pa.ArrowException, OSError):
        return None


def _short(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__


def read_work_shard(path: str | Path, batch_size: int) -> Iterator[pa.RecordBatch]:
    """Stream an intermediate shard written by an earlier pass."""
    pf = pq.ParquetFile(storage.source(path), page_checksum_verification=True)
    yield from pf.iter_batches(batch_size=batch_size)


def dictionary_columns(schema: pa.Schema) -> list[str]:
    """The Parquet leaf columns worth dictionary-encoding: all but the values of lists (shingle
    sets, signatures) and 64-bit integers (hashes, band keys, row numbers), whose values hardly
    repeat; there a dictionary only costs time and, once it overflows, space. On the sample's
    MinHash keys (verify: exact) a write takes 0.27 s instead of 0.74 s and 40 MiB instead of 55
    (benchmarks/bench_collect_write.py)."""
    out: list[str] = []

    def walk(path: str, t: pa.DataType) -> None:
        if pa.types.is_struct(t):
            for i in range(t.num_fields):
                walk(f"{path}.{t.field(i).name}", t.field(i).type)
        elif pa.types.is_map(t):
            walk(f"{path}.key_value.key", t.key_type)
            walk(f"{path}.key_value.value", t.item_type)
        elif not (
            pa.types.is_list(t)
            or pa.types.is_large_list(t)
            or pa.types.is_fixed_size_list(t)
            or pa.types.is_list_view(t)
            or pa.types.is_large_list_view(t)
            or t in (pa.int64(), pa.uint64())
        ):
            out.append(path)

    for f in schema:
        walk(f.name, f.type)
    return out


class AtomicParquetWriter:
    """Writes batches to ``path`` under a temporary name; the file appears only on close().

    Pages carry CRCs, checked when curate reads its own intermediate files back. A failed write
    (full disk, read-only filesystem) is a CurateError naming the file. Dictionary encoding is
    left off where it does not pay (``dictionary_columns``).
    """

    def __init__(self, path: str | Path | storage.RemotePath, compression: str = "zstd") -> None:
        self.path = storage.path(path)
        self.remote = isinstance(self.path, storage.RemotePath)
        tmp = f".{self.path.name}.{uuid.uuid4().hex[:8]}.tmp"
        # in a bucket: spooled to a local temporary file, sent as one object on close
        self.tmp = Path(tempfile.gettempdir(), tmp) if self.remote else self.path.with_name(tmp)
        self.compression = compression
        self._writer: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None
        self.rows = 0

    def write(self, batch: pa.RecordBatch | pa.Table) -> None:
        with _writing(self.path):
            if self._writer is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._schema = batch.schema
                self._writer = pq.ParquetWriter(
                    self.tmp,
                    batch.schema,
                    compression=self.compression,
                    write_page_checksum=True,
                    use_dictionary=dictionary_columns(batch.schema),
                )
            elif batch.schema != self._schema:
                batch = _conform(batch, self._schema)
            failpoint("write_batch")
            if isinstance(batch, pa.RecordBatch):
                self._writer.write_batch(batch)
            else:
                self._writer.write_table(batch)
        self.rows += batch.num_rows

    def close(self, schema: pa.Schema | None = None) -> None:
        """Finish the file; with no rows written, an empty file with ``schema`` if given."""
        with _writing(self.path):
            if self._writer is None:
                if schema is None:
                    return
                self.path.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(schema.empty_table(), self.tmp, compression=self.compression)
            else:
                self._writer.close()
            failpoint("rename_parquet")
            if self.remote:
                try:
                    storage.upload_file(self.tmp, self.path)
                finally:
                    self.tmp.unlink(missing_ok=True)
            else:
                os.replace(self.tmp, self.path)

    def abort(self) -> None:
        """Drop the temporary file; never raises (it runs while another error is on its way)."""
        try:
            if self._writer is not None:
                self._writer.close()
        except (OSError, pa.ArrowException):
            pass
        self.tmp.unlink(missing_ok=True)


@contextmanager
def _writing(path: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or _short(exc)
        raise CurateError(f"{path}: cannot write ({reason})") from None


def _conform(batch: pa.RecordBatch | pa.Table, schema: pa.Schema) -> pa.Table:
    """Make a later batch match the first one's schema (a stage may add a column only to some)."""
    table = batch if isinstance(batch, pa.Table) else pa.Table.from_batches([batch])
    columns = []
    for f in schema:
        if f.name in table.column_names:
            columns.append(pc.cast(table[f.name], f.type))
        else:
            columns.append(pa.nulls(table.num_rows, f.type))
    extra = [c for c in table.column_names if c not in schema.names]
    if extra:
        raise ValueError(f"batch has columns {extra} that the first batch of the file lacked")
    return pa.Table.from_arrays(columns, schema=schema)


@contextmanager
def atomic_file(path: str | Path | storage.RemotePath) -> Iterator[Path]:
    """A local file to write into; when the block ends without error it becomes ``path`` (a
    rename, or in a bucket one upload), otherwise it is dropped."""
    path = storage.path(path)
    remote = isinstance(path, storage.RemotePath)
    tmp = f".{path.name}.{uuid.uuid4().hex[:8]}.tmp"
    tmp = Path(tempfile.gettempdir(), tmp) if remote else path.with_name(tmp)
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            yield tmp
            if remote:
                storage.upload_file(tmp, path)
            else:
                os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | Path | storage.RemotePath, data: bytes) -> None:
    """A file that appears whole or not at all: a temporary name, then a rename; in a bucket,
    one PUT of the object (a store shows an object whole or not at all)."""
    path = storage.path(path)
    if isinstance(path, storage.RemotePath):
        failpoint("write_bytes")
        failpoint("rename_bytes")
        path.write_bytes(data)
        return
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(tmp, "wb") as f:
                failpoint("write_bytes")
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
            failpoint("rename_bytes")
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
