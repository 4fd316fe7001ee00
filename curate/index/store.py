"""A persistent cross-dump dedup index: every committed dump's keys, so the next dump is
deduplicated against all earlier ones without reading them again.

Layout of ``DIR`` (all Parquet/JSON/NumPy, readable without curate)::

    index.json                  kind (url | minhash | simhash), key parameters, partitions
    .lock                       flock held by a run while it reads and commits
    dumps/000001/               one folder per committed dump, named by commit sequence number
        meta.json               dump name, seq, docs, fingerprint of its ids, commit time, and
                                the manifest of its pieces: ``docs`` [first ordinal, rows, file]
                                and ``parts`` [partition, key min, key max, rows, file]
        docs*.parquet           id (large_string), root: row k of a piece = the document whose
                                *ordinal* in the dump is the piece's first + k; row groups of
                                DOCS_ROW_GROUP rows. One piece (docs.parquet) when the driver
                                commits; one per ordinal range when tasks do (docs-00003.parquet)
        part-00*.parquet ...    (key uint64, doc uint32) sorted by key; a partition is one file
                                (part-00.parquet) or pieces of disjoint key ranges written by
                                tasks (part-00-00007.parquet); row groups of PART_ROW_GROUP rows
                                with key min/max statistics
        signatures.npy          uint32 [docs, num_perm], MinHash with verify: signature
        shingles.npy            uint32, each document's distinct shingle hashes, MinHash with
        shingle_offsets.npy     verify: exact (int64 [docs + 1] offsets into shingles.npy);
                                when tasks commit, one of each per ordinal range
                                (shingles-00003.npy, offsets local to the piece), listed in
                                the manifest's ``arrays`` [kind, first ordinal, rows, file]
        <name>.parquet          a stage's own tables (simhash: clusters, merges)

A document is named by a *handle*, ``seq << 32 | ordinal``; ordinals follow the survival order
(curate.index.survivor) inside the dump, so a smaller handle is always the better survivor. ``root``
is the handle of the document that survived for it (itself if it was kept).

Partitions are the sharding unit: MinHash writes one per LSH band, URL dedup one per key range
(top bits of the key), SimHash one (fingerprints, with a ``cluster`` column next to key/doc).
A distributed executor gives partition p of every dump to one worker, which finds all
collisions of that band alone; only the (doc, candidate) pairs leave the worker.

Size, measured on the bundled sample corpus (`curate index info`, 24,000 documents, 4 dumps):
MinHash with ``verify: exact`` (the default) 1,864 bytes/doc (distinct shingle hashes, 4 bytes
each, ~425 per document here, + offsets 8; 16 band keys + ordinals ~130; id and root ~35); with
``verify: signature`` 676 bytes/doc (signatures 512 instead of the shingles); URL dedup 20
bytes/doc. On paper for 10^9 documents: MinHash ~1.9 TB of disk with exact verification (scales
with page length: ~4 bytes per word), ~680 GB with signature verification, ~170 GB without; URL
~20-30 GB.

Reading streams and keeps nothing between calls but the dumps' meta.json (read once per
DedupIndex, again when ``locked()`` takes the lock). A lookup reads one partition of one dump at a
time and in it only the row groups whose key range holds a key not found in an earlier dump, one
row group at a time (its ``doc`` column only on a hit): memory is the keys asked plus one row
group. ``ids``/``roots`` read only the docs.parquet row groups holding the asked ordinals;
``signatures``/``shingle_sets`` memory-map the arrays per call and gather the asked rows. Every
read is counted at the file (``ReadMeter``; mapped arrays by the distinct pages gathered) and a
barrier reports the total as ``index.bytes_read``. A probe that is dense in key space (a dump
against earlier dumps of the same size) still touches every row group of every committed dump:
its reads grow with the index (benchmarks/bench_index.py), its memory does not. The run's own keys
are in memory for ``decide`` (about the bytes/doc above plus 80 for the row's bookkeeping).
An index of format 1 (one docs.parquet, no manifest, ids fingerprinted in sorted order) is
refused with a request to rebuild it.

Committing a dump writes a hidden temporary folder and renames it to its sequence number: the
rename is the commit (tasks may write the pieces into the staged folder; the driver then writes
only meta.json and renames, ``commit_pieces``), so a crash leaves the index as it was (the next
open removes the debris).
An index in a bucket (``s3://``, ``gs://``) has no rename: its tasks write a dump's pieces once,
under a unique prefix ``dumps/pieces-<id>/``, and the commit is ``dumps/<seq>/meta.json`` (the
same manifest, plus ``folder``: that prefix) created only if no object is there
(``storage.create_once``); readers trust only what a meta.json lists, and the next lock deletes
the pieces no meta.json names. The lock is ``_lock.json``, created the same way and naming its
run (``CURATE_RUN``, its output): the same run resumed takes it over, another run stops with an
error (or, with ``--break-lock``, ``CURATE_BREAK_LOCK``, takes it over). So a bucket index needs
no local or shared folder, on any node.
An index on the Hub (``hf://``) is read in place with the same layout; a dump's pieces are staged
in a local folder (curate.hub.staging) and committed with its meta.json in one commit, made only
if that meta.json is absent at the head the commit is made against (``parent_commit``).
A dump already in the index is recognised by name and not added again; it is then deduplicated
against the dumps committed before it, exactly as the first time, so a re-run is idempotent.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from xxhash import xxh3_64

from curate import storage
from curate.errors import CurateError, failpoint
from curate.storage import RemotePath

FORMAT = 2  # 2: pieces listed in meta.json, order-free id fingerprints
SEQ_SHIFT = 32
NO_HANDLE = -1
# rows per Parquet row group of a partition (12 bytes a row: 192 KiB) and of docs.parquet (id and
# root: ~1 MB at 60-byte ids); a lookup or an id fetch reads only the row groups it needs
PART_ROW_GROUP = 1 << 14
DOCS_ROW_GROUP = 1 << 14
HASH_BYTES = 1 << 22  # bytes of ids hashed at a time
_POLY = np.uint64(0x100000001B3)  # the 64-bit FNV prime, as the base of the id polynomial
PAGE = 4096  # what a read of a memory-mapped array costs: the pages it touches
# committed docs pieces (each with its shingle-set or signature pieces) one task by handle range
# is shipped at most (and the two its range's ends cut): with many dumps committed, more ranges
PIECES_PER_TASK = 256


class ReadMeter:
    """Bytes read from an index's files, counted at the file (Parquet reads through
    ``open_counted``, memory-mapped arrays by the pages a gather touches)."""

    def __init__(self) -> None:
        self.bytes = 0

    def add(self, n: int) -> None:
        self.bytes += int(n)


class _CountedFile(io.RawIOBase):
    """A read-only file that adds every byte it returns to a ReadMeter."""

    def __init__(self, path: Path | RemotePath, meter: ReadMeter):
        super().__init__()
        if isinstance(path, RemotePath):  # an object: each read one ranged GET
            self._file = storage.open_raw(path)
        else:
            self._file = open(path, "rb", buffering=0)  # noqa: SIM115 (closed with this object)
        self._meter = meter

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()

    def readinto(self, buffer: Any) -> int:
        n = self._file.readinto(buffer)
        self._meter.add(n or 0)
        return n

    def close(self) -> None:
        self._file.close()
        super().close()


@contextmanager
def open_parquet(path: Path, meter: ReadMeter) -> Iterator[pq.ParquetFile]:
    """A Parquet file of the index whose reads count in ``meter``. The footer is read by its
    length (pyarrow would read the last 64 KiB, a small file whole), and row groups without
    pre-buffering, so a read costs the column chunks it decodes."""
    if not path.exists():
        raise CurateError(f"{path}: missing from the index (a damaged or older index?)")
    raw = _CountedFile(path, meter)
    try:
        size = raw.seek(0, os.SEEK_END)
        if size < 12:
            raise CurateError(f"{path}: not a Parquet file ({size} bytes; a damaged index?)")
        raw.seek(size - 8)
        tail = raw.read(8)
        length = int.from_bytes(tail[:4], "little")
        if tail[4:] != b"PAR1" or length > size - 12:
            raise CurateError(f"{path}: not a Parquet file (no footer; a damaged index?)")
        raw.seek(size - 8 - length)
        footer = raw.read(length)
        metadata = pq.ParquetFile(pa.BufferReader(footer + tail)).metadata
        yield pq.ParquetFile(pa.PythonFile(raw, mode="r"), metadata=metadata, pre_buffer=False)
    finally:
        raw.close()


def read_parquet(path: Path, meter: ReadMeter, columns: list[str] | None = None) -> pa.Table:
    """A whole (small) table of the index, counted."""
    with open_parquet(path, meter) as f:
        return f.read(columns=columns)


class _Fetched(np.ndarray):
    """An array piece of an index in a bucket, read whole (an object cannot be memory-mapped):
    ``offset`` is its header's length, as a memory map's; its bytes were counted when read."""

    offset = 0


def _load_npy(path: Path | RemotePath, meter: ReadMeter) -> np.ndarray:
    """A memory-mapped array of the index: only its header is read here (counted). An array in
    a bucket is fetched whole (one GET, counted whole)."""
    if isinstance(path, RemotePath):
        raw = path.read_bytes()
        meter.add(len(raw))
        array = np.load(io.BytesIO(raw)).view(_Fetched)
        array.offset = len(raw) - array.nbytes  # the header: the data follows it
        return array
    array = np.load(path, mmap_mode="r")
    meter.add(array.offset)
    return array


def _count_pages(meter: ReadMeter, array: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
    """What a gather from a memory-mapped array cost (an array fetched whole was counted)."""
    if not isinstance(array, _Fetched):
        meter.add(_pages(starts, ends))


def write_file(folder: Path | RemotePath | str, name: str, write: Any) -> None:
    """``write(file)`` into ``folder/name``: a local file, or one object sent whole (a piece of
    a dump being committed, under its staged folder's unique name)."""
    target = storage.path(folder, name)
    if isinstance(target, RemotePath):
        buffer = io.BytesIO()
        write(buffer)
        target.write_bytes(buffer.getvalue())
    else:
        write(target)


def _pages(starts: np.ndarray, ends: np.ndarray) -> int:
    """Bytes of the distinct pages covered by byte ranges [start, end)."""
    keep = ends > starts
    first, last = starts[keep] // PAGE, (ends[keep] - 1) // PAGE
    if not len(first):
        return 0
    order = np.argsort(first, kind="stable")
    first, last = first[order], last[order]
    reach = np.maximum.accumulate(last)
    begin = np.maximum(first, np.r_[-1, reach[:-1]] + 1)  # past what earlier ranges covered
    return int(np.maximum(last - begin + 1, 0).sum()) * PAGE


def make_handle(seq: int | np.ndarray, ordinal: int | np.ndarray) -> np.ndarray:
    """Handle(s) of document ``ordinal`` of the dump committed as ``seq``."""
    return (np.asarray(seq, np.int64) << SEQ_SHIFT) | np.asarray(ordinal, np.int64)


def split_handle(handles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    handles = np.asarray(handles, np.int64)
    return handles >> SEQ_SHIFT, handles & ((1 << SEQ_SHIFT) - 1)


def id_hashes(ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A 64-bit hash of each id (null: of the empty string), vectorised: the polynomial
    sum((byte + 1) * M**position) mod 2**64 of its UTF-8 bytes, with its length, through
    MurmurHash3's finaliser. Chunk by chunk and HASH_BYTES bytes at a time, so a column past
    2 GiB is never concatenated, and 8 bytes per id byte are held for one window only."""
    chunks = ids.chunks if isinstance(ids, pa.ChunkedArray) else [ids]
    return np.concatenate([np.empty(0, np.uint64), *(_hash_chunk(c) for c in chunks)])


def _hash_chunk(values: pa.Array) -> np.ndarray:
    if values.null_count:
        values = pc.fill_null(values, "")
    n = len(values)
    if not n:
        return np.empty(0, np.uint64)
    wide = pa.types.is_large_string(values.type) or pa.types.is_large_binary(values.type)
    kind = np.dtype(np.int64 if wide else np.int32)
    offsets = np.frombuffer(values.buffers()[1], kind, n + 1, values.offset * kind.itemsize)
    offsets = offsets.astype(np.int64)
    data = values.buffers()[2]
    raw = np.frombuffer(data, np.uint8) if data is not None else np.empty(0, np.uint8)
    h = np.zeros(n, np.uint64)
    with np.errstate(over="ignore"):
        for w0 in range(int(offsets[0]), int(offsets[-1]), HASH_BYTES):
            w1 = min(w0 + HASH_BYTES, int(offsets[-1]))
            at = np.arange(w0, w1)
            row = np.searchsorted(offsets, at, "right") - 1
            weight = _powers((at - offsets[row]).astype(np.uint64))
            summed = np.r_[np.uint64(0), np.cumsum((raw[w0:w1] + np.uint64(1)) * weight)]
            first, last = int(row[0]), int(row[-1]) + 1
            lo = np.clip(offsets[first:last] - w0, 0, w1 - w0)
            hi = np.clip(offsets[first + 1 : last + 1] - w0, 0, w1 - w0)
            h[first:last] += summed[hi] - summed[lo]  # mod 2**64
        h = h + np.diff(offsets).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        h = h ^ (h >> np.uint64(33))
        h = h * np.uint64(0xFF51AFD7ED558CCD)
        h = h ^ (h >> np.uint64(33))
        h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def _powers(exponent: np.ndarray) -> np.ndarray:
    """_POLY ** exponent mod 2**64: a table of the low 16 bits' powers times one of the high."""
    low = np.cumprod(np.r_[np.uint64(1), np.full(0xFFFF, _POLY)])
    step = low[-1] * _POLY  # _POLY ** 65536
    high_needed = int(exponent.max(initial=0)) >> 16
    high = np.cumprod(np.r_[np.uint64(1), np.full(high_needed, step)])
    return low[exponent & np.uint64(0xFFFF)] * high[exponent >> np.uint64(16)]


def fingerprint_sums(ids: pa.Array | pa.ChunkedArray) -> tuple[int, int]:
    """(count, sum of ``id_hashes`` mod 2**64): what ``fingerprint_of`` makes a fingerprint of.
    Sums of disjoint parts of a dump add up (mod 2**64) to the whole's, so tasks can each
    fingerprint their rows and the driver add a few numbers."""
    h = id_hashes(ids)
    with np.errstate(over="ignore"):
        return len(h), int(h.sum(dtype=np.uint64))


def fingerprint_of(count: int, total: int) -> str:
    return xxh3_64(f"{count}:{total % (1 << 64):016x}".encode()).hexdigest()


def fingerprint_ids(ids: pa.Array | pa.ChunkedArray) -> str:
    """Order-free fingerprint of a dump's document ids (a re-run must bring the same documents):
    of their count and the sum of their hashes, the same in any order, sharding or chunking."""
    return fingerprint_of(*fingerprint_sums(ids))


def dump_fingerprints(table: pa.Table, stage: str, index: str | Path) -> dict[str, str]:
    """``{dump: fingerprint of its ids}`` for a run's collected rows (columns id, dump), what
    ``DedupIndex.plan`` takes; every row needs a dump to be committed under."""
    dumps = table.column("dump")
    if dumps.null_count:
        raise CurateError(
            f"{stage}: index {index} needs a dump for every document "
            "(a 'dump' column or a dump=NAME folder)"
        )
    return {
        d: fingerprint_ids(table.column("id").filter(pc.equal(dumps, d)))
        for d in pc.unique(dumps).to_pylist()
    }


# a committed dump's manifest: docs pieces (first ordinal, rows, file) in ordinal order, and key
# pieces (partition, key min, key max, rows, file), min/max None when unknown
DocsPiece = tuple[int, int, str]
KeyPiece = tuple[int, "int | None", "int | None", int, str]
# a piece of a per-document array (kind, first ordinal, rows, file): MinHash's shingle sets
# (``shingles`` values and ``shingle_offsets``, rows + 1 offsets local to the piece) and
# signatures, one .npy file per ordinal range
ArrayPiece = tuple[str, int, int, str]


@dataclass(frozen=True)
class CommittedDump:
    name: str
    seq: int
    docs: int
    fingerprint: str
    path: Path
    committed_at: str
    pieces: tuple[DocsPiece, ...] = ()
    parts: tuple[KeyPiece, ...] = ()
    arrays: tuple[ArrayPiece, ...] = ()

    def parts_of(self, partition: int) -> list[KeyPiece]:
        return sorted((p for p in self.parts if p[0] == partition), key=lambda p: p[1] or 0)

    def arrays_of(self, kind: str) -> list[tuple[int, int, str]]:
        """(first ordinal, rows, file) of the pieces of one per-document array (``shingles``,
        ``shingle_offsets``, ``signatures``) in ordinal order; a dump committed without a
        manifest of arrays has one piece, ``<kind>.npy``, of all its documents."""
        if not self.arrays:
            return [(0, self.docs, f"{kind}.npy")]
        return sorted((int(a), int(n), f) for k, a, n, f in self.arrays if k == kind)


# committed dumps as a task is given them (a list, or a tuple in a picklable plan)
Dumps = list[CommittedDump] | tuple[CommittedDump, ...]
Selected = tuple[CommittedDump, ...]  # what for_key_range / for_handle_range give a task


def key_range_part(keys: np.ndarray, partitions: int) -> np.ndarray:
    """The key-range partition (0..partitions-1) of each 64-bit key: its top 32 bits scaled,
    so that partition p holds one contiguous range of keys (monotonic in the key). The reduce
    tasks of the indexed barriers (url_dedup, minhash_dedup) split their keys this way, so a
    task's keys meet one slice of each committed dump's key pieces."""
    top = np.asarray(keys, np.uint64) >> np.uint64(32)
    return ((top * np.uint64(partitions)) >> np.uint64(32)).astype(np.int64)


def for_key_range(dumps: Dumps, part: int, partitions: int, docs: bool = True) -> Selected:
    """The committed dumps as the task of key range ``part`` (of ``partitions``,
    ``key_range_part``) needs them: only the key pieces whose [lo, hi] reaches its range (a
    piece with no key range but rows stays), the docs pieces if ``docs``, no per-document
    arrays. What is shipped to the task then grows with the pieces of its range, not with the
    index. (Only ``lookup_partition`` and, with ``docs``, ``doc_column`` may use the result.)"""

    def keys(d: CommittedDump, lo: int | None, hi: int | None) -> tuple[int, int] | None:
        if lo is None or hi is None:
            return None
        a, b = key_range_part(np.array([lo, hi], np.uint64), partitions)
        return int(a), int(b)

    return _for_range(dumps, part, keys, (lambda *_: None) if docs else None, None)


@dataclass(frozen=True)
class HandleRanges:
    """The committed documents cut into ``count`` ranges of about equal size in handle order
    (the dumps in commit order, each by ordinal, laid end to end): range r holds the positions
    [r * docs / count, (r + 1) * docs / count). Tasks by handle range (``part``) are each
    shipped only the docs and array pieces their range reaches (``for_handle_range``), so what
    a task gets and reads grows with its range, not with the dumps committed. Picklable: two
    numbers per committed dump."""

    seqs: tuple[int, ...]  # the dumps' sequence numbers, in commit order (increasing)
    starts: tuple[int, ...]  # each one's first position
    docs: int  # all their documents
    count: int

    @classmethod
    def of(cls, dumps: Dumps, count: int):
        starts = np.cumsum([0, *(d.docs for d in dumps)])
        return cls(
            tuple(d.seq for d in dumps), tuple(int(x) for x in starts[:-1]), int(starts[-1]), count
        )

    def part(self, handles: np.ndarray) -> np.ndarray:
        """The range of each handle (of one of these dumps)."""
        seq, ordinal = split_handle(handles)
        seqs = np.asarray(self.seqs, np.int64)
        at = np.minimum(np.searchsorted(seqs, seq), max(len(seqs) - 1, 0))
        if len(seq) and (not len(seqs) or not np.array_equal(seqs[at], seq)):
            raise CurateError(f"handles of no committed dump here (sequence numbers {seqs})")
        position = np.asarray(self.starts, np.int64)[at] + ordinal if len(seqs) else ordinal
        return position * self.count // max(self.docs, 1)


def handle_ranges(dumps: Dumps, tasks: int) -> HandleRanges:
    """The handle ranges of the tasks that read committed documents by handle (url_dedup's and
    minhash_dedup's indexed barriers): ``tasks`` of them, more when the dumps have over
    PIECES_PER_TASK docs pieces a range, so that no task is shipped more than that many (and
    the two its range's ends cut), however many dumps are committed."""
    pieces = sum(len(d.pieces) for d in dumps)
    return HandleRanges.of(dumps, max(tasks, -(-pieces // PIECES_PER_TASK)))


def for_handle_range(
    dumps: Dumps, ranges: HandleRanges, part: int, arrays: bool = True
) -> Selected:
    """The committed dumps as the task of handle range ``part`` (``HandleRanges.part``) needs
    them: only the docs pieces (and, if ``arrays``, the shingle-set or signature pieces) whose
    ordinals reach its range, no key pieces; a dump none of whose pieces does is left out.
    (Only ``doc_column`` and, with ``arrays``, ``shingle_sets_of`` / ``signatures_of`` of
    handles in the range may use the result.)"""

    def docs(d: CommittedDump, first: int, rows: int) -> tuple[int, int] | None:
        ends = make_handle(d.seq, np.array([first, first + max(rows, 1) - 1], np.int64))
        a, b = ranges.part(ends)
        return int(a), int(b)

    out = _for_range(dumps, part, None, docs, docs if arrays else None)
    return tuple(d for d in out if d.pieces)


def _for_range(dumps: Dumps, part: int, keys: Any, docs: Any, arrays: Any) -> Selected:
    """The committed dumps with only the pieces whose span reaches range ``part``: ``keys(d,
    lo, hi)``, ``docs(d, first, rows)`` and ``arrays(d, first, rows)`` give a key, docs or array
    piece's first and last range (None: it stays whatever the range); a kind whose function is
    None is left out, and pieces with no rows are. The one selection behind ``for_key_range``
    and ``for_handle_range``."""

    def reaches(span: tuple[int, int] | None) -> bool:
        return span is None or span[0] <= part <= span[1]

    out = []
    for d in dumps:
        parts = () if keys is None else tuple(
            piece for piece in d.parts if piece[3] and reaches(keys(d, piece[1], piece[2]))
        )  # fmt: skip
        pieces = () if docs is None else tuple(
            piece for piece in d.pieces if reaches(docs(d, piece[0], piece[1]))
        )  # fmt: skip
        kept: tuple = ()
        if arrays is not None:
            kept = tuple(a for a in d.arrays if reaches(arrays(d, a[1], a[2])))
        out.append(replace(d, parts=parts, pieces=pieces, arrays=kept))
    return tuple(out)


class DedupIndex:
    """Open (or create) the index at ``root`` for a stage ``kind`` with key ``params``."""

    def __init__(self, root: str | Path, kind: str, params: dict[str, Any], partitions: int):
        self.root = storage.path(root)
        self.kind = kind
        self.params = params
        self.partitions = partitions
        self.meter = ReadMeter()  # what this object read from the index's files
        self._dumps: list[CommittedDump] | None = None  # meta.json read once (and under lock)
        header = {"format": FORMAT, "kind": kind, "params": params, "partitions": partitions}
        meta = self.root / "index.json"
        if self.remote:
            if (self.root / storage.MANIFEST).exists():
                raise CurateError(
                    f"{self.root}: an index published through a local staging folder by an "
                    "older curate; rebuild it: run its dumps again into a new index"
                )
            # the first run creates the header; a run that loses that race reads the winner's
            storage.create_once(meta.url, json.dumps(header, indent=1).encode())
        if meta.exists():
            raw = meta.read_bytes()
            self.meter.add(len(raw))
            found = json.loads(raw)
            if found.get("format", 1) != FORMAT:
                older = found.get("format", 1) < FORMAT
                raise CurateError(
                    f"{self.root}: index format {found.get('format', 1)} was built by "
                    f"{'an older' if older else 'a newer'} curate (this one reads format "
                    f"{FORMAT}); rebuild it: run its dumps again into a new index"
                )
            if found.get("kind") != kind:
                raise CurateError(f"{self.root}: a {found.get('kind')} index, not a {kind} index")
            for key in sorted(set(found.get("params", {})) | set(params)):
                if found["params"].get(key) != params.get(key):
                    raise CurateError(
                        f"{self.root}: built with {key}={found['params'].get(key)!r}, this stage "
                        f"has {key}={params.get(key)!r}; keys would not match (use a new index)"
                    )
        elif not self.remote:
            try:
                (self.root / "dumps").mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CurateError(
                    f"{self.root}: cannot create the index ({exc.strerror})"
                ) from None
            _atomic_text(meta, json.dumps(header, indent=1))

    @property
    def remote(self) -> bool:
        """In a bucket: read and written in place, committed by objects created if absent."""
        return isinstance(self.root, RemotePath)

    @property
    def on_hub(self) -> bool:
        """On the Hugging Face Hub: read in place; a dump's pieces are staged in a local folder
        and committed with its meta.json in one commit (curate.hub)."""
        return self.remote and self.root.url.startswith("hf://")

    # ------------------------------------------------------------ reading
    @property
    def bytes_read(self) -> int:
        """Bytes this object read from the index's files so far (lookups run through it, ids,
        roots, signatures, shingle sets, tables, meta.json)."""
        return self.meter.bytes

    def dumps(self) -> list[CommittedDump]:
        """Committed dumps in commit order (each meta.json is read once per DedupIndex, and
        again when ``locked()`` takes the lock: another run may have committed meanwhile)."""
        if self._dumps is None:
            self._dumps = self._read_dumps()
        return list(self._dumps)

    def _read_dumps(self) -> list[CommittedDump]:
        out = []
        folder = self.root / "dumps"
        found = folder.iterdir() if self.remote else (folder.iterdir() if folder.exists() else [])
        for path in sorted(found):
            # a committed dump: dumps/<seq>/meta.json (in a bucket, naming the folder its pieces
            # were written to: dumps/pieces-<id>/)
            if not path.name.isdigit():
                continue
            try:
                raw = (path / "meta.json").read_bytes()
            except FileNotFoundError:
                continue
            self.meter.add(len(raw))
            m = json.loads(raw)
            out.append(_committed(m, folder / m["folder"] if "folder" in m else path))
        return out

    @contextmanager
    def locked(self) -> Iterator[DedupIndex]:
        """Hold the index for one read-then-commit; removes a crashed commit's debris."""
        if self.remote:
            with self._locked_remote():
                yield self
            return
        with open(self.root / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                for tmp in (self.root / "dumps").glob(".tmp-*"):
                    shutil.rmtree(tmp, ignore_errors=True)
                for tmp in self.root.glob(".*.tmp"):  # a crashed index.json write
                    tmp.unlink(missing_ok=True)
                self._dumps = self._read_dumps()
                yield self
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    @contextmanager
    def _locked_remote(self) -> Iterator[None]:
        """The lock of an index in a bucket: the object ``_lock.json``, created only if absent
        (``storage.create_once``), naming the run that holds it (``CURATE_RUN``: the run's
        output, the same when it is resumed), deleted when the run is done with the index. A run
        killed while holding it leaves it; the same run resumed takes it over, any other run
        stops with an error naming it."""
        import socket

        lock = self.root / "_lock.json"
        owner = os.environ.get("CURATE_RUN") or f"pid {os.getpid()} {uuid.uuid4().hex[:8]}"
        body = {
            "owner": owner,
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "since": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        if not storage.create_once(lock.url, json.dumps(body, indent=1).encode()):
            try:
                held = json.loads(lock.read_bytes())
            except FileNotFoundError:  # released meanwhile: one more try
                held = None
                if not storage.create_once(lock.url, json.dumps(body, indent=1).encode()):
                    held = json.loads(lock.read_bytes())
            if held is not None and held.get("owner") != owner:
                holder = (
                    f"{held.get('owner')}, on {held.get('host')}, pid {held.get('pid')}, since "
                    f"{held.get('since')}"
                )
                if os.environ.get("CURATE_BREAK_LOCK") != "1":
                    raise CurateError(
                        f"{self.root}: the index is locked by another run ({holder}; {lock}): one "
                        "writer at a time. If no run is using it (a run killed and never "
                        f"resumed), resume that run (curate run ... --output {held.get('owner')} "
                        "--resume) or take the lock over (run this one again with --break-lock)"
                    )
                # the user says no run is using it: this run holds it now (a plain write; the
                # commits themselves stay create-once, so two runs never commit one number)
                storage.write_bytes(lock.url, json.dumps(body, indent=1).encode())
                print(f"curate: {self.root}: took over the lock of {holder} (--break-lock)",
                      file=sys.stderr)  # fmt: skip
        try:
            self._dumps = self._read_dumps()
            committed = {d.path.name for d in self._dumps}
            for path in (self.root / "dumps").iterdir():  # a crashed commit's pieces
                if path.name.startswith("pieces-") and path.name not in committed:
                    storage.rmtree(path)
            if self.on_hub:  # pieces staged by a crashed run, never committed
                from curate import hub

                shutil.rmtree(hub.staging(self.root.url), ignore_errors=True)
            yield
        finally:
            if self.on_hub:  # what this run staged and did not commit
                from curate import hub

                shutil.rmtree(hub.staging(self.root.url), ignore_errors=True)
            lock.unlink(missing_ok=True)

    def plan(self, run: dict[str, str]) -> tuple[list[CommittedDump], list[str]]:
        """For the run's dumps ``{name: fingerprint}``: (dumps to deduplicate against, dumps to
        commit). A dump already committed is re-run against the dumps committed before it."""
        committed = self.dumps()
        by_name = {d.name: d for d in committed}
        rerun = [by_name[n] for n in run if n in by_name]
        for d in rerun:
            if d.fingerprint != run[d.name]:
                raise CurateError(
                    f"{self.root}: dump {d.name!r} is already committed with other documents "
                    f"({d.docs} docs, fingerprint {d.fingerprint}); give this dump another name "
                    "or use a new index"
                )
        if rerun:
            first = min(d.seq for d in rerun)
            later = [d.name for d in committed if d.seq > first and d.name not in run]
            if later:
                raise CurateError(
                    f"{self.root}: dump {by_name[min(rerun, key=lambda d: d.seq).name]!r} was "
                    f"committed before {', '.join(later)}; re-running it alone would change "
                    "what those were deduplicated against. Re-run it together with them, or use "
                    "a new index"
                )
            reference = [d for d in committed if d.seq < first]
        else:
            reference = committed
        new = sorted(n for n in run if n not in by_name)
        return reference, new

    def lookup(
        self, reference: list[CommittedDump], partition: int, keys: np.ndarray
    ) -> np.ndarray:
        """For each key, the smallest handle in ``reference`` with that key in ``partition``,
        or NO_HANDLE (see ``lookup_partition``); its reads count in ``bytes_read``."""
        return lookup_partition(reference, partition, keys, self.meter)

    def read(self, dump: CommittedDump, name: str, columns: list[str] | None = None) -> pa.Table:
        """One of a committed dump's tables: ``part-00``, ``docs``, or a stage's own (read
        whole: for the small per-dump tables of a stage, not for a dump's documents)."""
        return read_parquet(dump.path / f"{name}.parquet", self.meter, columns)

    def _dump_by_seq(self, seq: int) -> CommittedDump:
        for d in self.dumps():
            if d.seq == seq:
                return d
        raise CurateError(f"{self.root}: no committed dump with sequence number {seq}")

    def _doc_column(self, handles: np.ndarray, column: str) -> pa.ChunkedArray:
        return doc_column(self.dumps(), handles, column, self.meter)

    def roots(self, handles: np.ndarray) -> np.ndarray:
        """The survivor handle of each document handle."""
        if not len(handles):
            return np.empty(0, np.int64)
        return self._doc_column(handles, "root").to_numpy().astype(np.int64)

    def ids(self, handles: np.ndarray) -> pa.Array:
        """The document id of each handle (``large_string``)."""
        column = self._doc_column(handles, "id").cast(pa.large_string())
        return column.combine_chunks() if column.num_chunks else pa.array([], pa.large_string())

    def signatures(self, handles: np.ndarray) -> np.ndarray:
        """Rows of the committed MinHash signatures (memory-mapped per call: only these rows'
        pages are read, and counted)."""
        return signatures_of(self.dumps(), handles, self.meter)

    def shingle_sets(self, handles: np.ndarray) -> Any:
        """The committed shingle sets of ``handles``, in that order, as a curate.minhash.SetStore
        (memory-mapped per call: only these documents' hashes and offsets are read, counted)."""
        return shingle_sets_of(self.dumps(), handles, self.meter)

    # ------------------------------------------------------------ writing
    def begin_commit(self) -> Path:
        """A hidden folder to stage a dump's files in before ``commit(staged=...)`` (a reduce
        task per partition can write its own ``write_partition`` there). Call under
        ``locked()``: a crashed run's staged folders are removed by the next lock."""
        if self.on_hub:  # a local folder, committed with meta.json in one commit
            from curate import hub

            staged = hub.staging(self.root.url) / f"pieces-{uuid.uuid4().hex[:12]}"
            staged.mkdir(parents=True)
            return staged
        if self.remote:  # objects under a unique prefix, listed by meta.json when committed
            return self.root / "dumps" / f"pieces-{uuid.uuid4().hex[:12]}"
        tmp = self.root / "dumps" / f".tmp-{uuid.uuid4().hex[:12]}"
        tmp.mkdir(parents=True)
        return tmp

    def commit(
        self,
        name: str,
        fingerprint: str,
        ids: pa.Array,
        roots: np.ndarray,
        parts: list[tuple[np.ndarray, np.ndarray]] | None,
        signatures: np.ndarray | None = None,
        stats: dict[str, Any] | None = None,
        tables: dict[str, pa.Table] | None = None,
        shingles: Any = None,
        staged: Path | None = None,
    ) -> CommittedDump:
        """Add one dump from this process: ``ids`` and ``roots`` in ordinal order,
        ``parts[p] = (keys, ordinals)`` or ``(keys, ordinals, {column: values})`` for extra
        columns aligned with the keys; ``tables`` are written as ``<name>.parquet``. Call under
        ``locked()``; the final rename is the commit. With ``staged`` (from ``begin_commit``),
        the partitions are already there (part-NN.parquet) and ``parts`` is None."""
        if staged is None and (parts is None or len(parts) != self.partitions):
            raise ValueError(f"expected {self.partitions} partitions")
        if staged is not None and parts is not None:
            raise ValueError("give parts or staged partitions, not both")
        tmp = staged if staged is not None else self.begin_commit()
        try:
            docs = write_docs(tmp, ids, roots)
            written = []
            for p, (keys, ordinals, *more) in enumerate(parts or []):
                written.append(write_partition(tmp, p, keys, ordinals, more[0] if more else None))
                failpoint("index_part")
            if staged is not None:
                written = _staged_parts(tmp)
                missing = sorted(set(range(self.partitions)) - {w[0] for w in written})
                if missing:
                    raise ValueError(f"{staged}: staged partitions missing: {missing}")
            if signatures is not None:
                sigs = np.ascontiguousarray(signatures)
                write_file(tmp, "signatures.npy", lambda f: np.save(f, sigs))
            if shingles is not None:  # a curate.minhash.SetStore, in ordinal order
                values = np.ascontiguousarray(shingles.values, np.uint32)
                offsets = np.asarray(shingles.offsets, np.int64)
                write_file(tmp, "shingles.npy", lambda f: np.save(f, values))
                write_file(tmp, "shingle_offsets.npy", lambda f: np.save(f, offsets))
            for table_name, extra in (tables or {}).items():
                write_file(tmp, f"{table_name}.parquet",
                       lambda f, t=extra: pq.write_table(t, f, compression="zstd"))  # fmt: skip
        except BaseException:
            storage.rmtree(tmp)
            raise
        return self.commit_pieces(name, fingerprint, tmp, [(0, len(ids), docs)], written, stats)

    def commit_pieces(
        self,
        name: str,
        fingerprint: str,
        staged: Path,
        pieces: list[DocsPiece],
        parts: list[KeyPiece],
        stats: dict[str, Any] | None = None,
        arrays: list[ArrayPiece] | None = None,
    ) -> CommittedDump:
        """Commit a dump whose pieces are in ``staged`` (from ``begin_commit``, written by tasks
        or by ``commit``): docs ``pieces`` (first ordinal, rows, file), key ``parts``
        (partition, key min, key max, rows, file) and per-document ``arrays`` (kind, first
        ordinal, rows, file; each kind's pieces tile the ordinals as the docs pieces do). This
        process writes only meta.json (the manifest) and renames the folder: the commit (in a
        bucket, ``_commit_remote``: meta.json created only if absent is the commit). Call under
        ``locked()``."""
        seq = max((d.seq for d in self.dumps()), default=0) + 1
        pieces = sorted((int(a), int(n), f) for a, n, f in pieces)
        parts = sorted(parts, key=lambda p: (p[0], -1 if p[1] is None else p[1], p[4]))
        arrays = sorted((str(k), int(a), int(n), f) for k, a, n, f in arrays or [])
        staged = storage.path(staged)
        if self.remote:
            return self._commit_remote(name, fingerprint, staged, pieces, parts, stats, arrays)
        try:
            meta = _meta(name, seq, fingerprint, staged, pieces, parts, stats, arrays)
            _atomic_text(staged / "meta.json", json.dumps(meta, indent=1))
            _fsync_dir(staged)
            final = self.root / "dumps" / f"{seq:06d}"
            failpoint("index_commit")
            os.rename(staged, final)  # the commit
            failpoint("index_committed")
            _fsync_dir(final.parent)
        except BaseException:
            shutil.rmtree(staged, ignore_errors=True)
            raise
        return self._entry(meta, final)

    def _commit_remote(
        self,
        name: str,
        fingerprint: str,
        staged: RemotePath,
        pieces: list[DocsPiece],
        parts: list[KeyPiece],
        stats: dict[str, Any] | None,
        arrays: list[ArrayPiece],
    ) -> CommittedDump:
        """The commit of a dump in a bucket: its pieces are objects under ``staged``
        (``dumps/pieces-<id>/``, written once by the tasks that made them); this process writes
        ``dumps/<seq>/meta.json``, naming that folder and listing every piece, created only if
        absent: the commit. Readers trust only what a meta.json lists. When another run
        committed that sequence number meanwhile, nothing of this one is committed."""
        seq = max((d.seq for d in self.dumps()), default=0) + 1
        meta = _meta(name, seq, fingerprint, staged, pieces, parts, stats, arrays)
        final = self.root / "dumps" / f"{seq:06d}"
        body = json.dumps({**meta, "folder": staged.name}, indent=1).encode()
        failpoint("index_commit")
        if self.on_hub:  # the pieces and meta.json in one commit, if meta.json is absent
            from curate import hub

            files = {
                f"dumps/{staged.name}/{p.relative_to(staged).as_posix()}": p
                for p in sorted(staged.rglob("*"))
                if p.is_file()
            }
            done = hub.commit(self.root.url, {**files, f"dumps/{seq:06d}/meta.json": body},
                              absent=[f"dumps/{seq:06d}/meta.json"],
                              message=f"curate: commit dump {name} as {seq}")  # fmt: skip
            shutil.rmtree(staged, ignore_errors=True)
            staged = self.root / "dumps" / staged.name
        else:
            done = storage.create_once((final / "meta.json").url, body)
        if not done:
            storage.rmtree(staged)
            raise CurateError(
                f"{self.root}: another run committed dump {seq} to the index meanwhile (one "
                "writer at a time: was its lock deleted?); nothing of this run was committed "
                "there. Run it again"
            )
        failpoint("index_committed")
        return self._entry(meta, staged)

    def _entry(self, meta: dict[str, Any], path: Path | RemotePath) -> CommittedDump:
        """The dump just committed with manifest ``meta`` (its pieces under ``path``), added to
        this object's list of dumps."""
        entry = _committed(meta, path)
        self._dumps = [*self.dumps(), entry]
        return entry


def _committed(meta: dict[str, Any], path: Path | RemotePath) -> CommittedDump:
    """A committed dump from its meta.json (``meta``), its pieces under ``path``."""
    return CommittedDump(
        meta["dump"],
        meta["seq"],
        meta["docs"],
        meta["fingerprint"],
        path,
        meta["committed_at"],
        tuple(tuple(x) for x in meta.get("pieces", [])),
        tuple(tuple(x) for x in meta.get("parts", [])),
        tuple(tuple(x) for x in meta.get("arrays", [])),
    )


def _meta(
    name: str,
    seq: int,
    fingerprint: str,
    staged: Path | RemotePath,
    pieces: list[DocsPiece],
    parts: list[KeyPiece],
    stats: dict[str, Any] | None,
    arrays: list[ArrayPiece],
) -> dict[str, Any]:
    """A dump's meta.json (its manifest), after checking that its pieces tile the ordinals and
    are all in ``staged``."""
    ends = np.cumsum([n for _, n, _ in pieces])
    if [a for a, _, _ in pieces] != [0, *ends[:-1].tolist()]:
        raise ValueError(f"{staged}: docs pieces do not tile the ordinals: {pieces}")
    for kind in sorted({k for k, *_ in arrays}):
        tiles = [(a, n) for k, a, n, _ in arrays if k == kind]
        if [a for a, _ in tiles] != [a for a, _, _ in pieces] or [n for _, n in tiles] != [
            n for _, n, _ in pieces
        ]:
            raise ValueError(f"{staged}: {kind} pieces do not tile the ordinals")
    there = {p.name for p in staged.iterdir()}  # one listing (in a bucket: no HEAD per piece)
    absent = [f for *_, f in [*pieces, *parts, *arrays] if f not in there]
    if absent:  # a partition without a piece holds no key of this dump
        raise ValueError(f"{staged}: pieces missing: {absent}")
    return {
        "dump": name,
        "seq": seq,
        "docs": int(ends[-1]) if len(ends) else 0,
        "fingerprint": fingerprint,
        "committed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **(stats or {}),
        "pieces": [list(piece) for piece in pieces],
        "parts": [list(part) for part in parts],
        **({"arrays": [list(a) for a in arrays]} if arrays else {}),
    }


def doc_column(
    dumps: list[CommittedDump], handles: np.ndarray, column: str, meter: ReadMeter
) -> pa.ChunkedArray:
    """``column`` (id or root) of the docs pieces at each handle, in handle order: per dump, only
    the pieces and in them the row groups holding the asked ordinals are read, one at a time."""
    by_seq = {d.seq: d for d in dumps}
    seqs, ords = split_handle(handles)
    pieces, where = [], []
    for seq in np.unique(seqs):
        d = by_seq.get(int(seq))
        if d is None:
            raise CurateError(f"no committed dump with sequence number {seq} (a damaged index?)")
        at = np.flatnonzero(seqs == seq)
        if ords[at].max() >= d.docs:
            raise CurateError(
                f"{d.path}: {d.docs} documents, asked for ordinal {int(ords[at].max())} "
                "(a damaged index?)"
            )
        firsts = np.array([piece[0] for piece in d.pieces], np.int64)
        piece_of = np.searchsorted(firsts, ords[at], "right") - 1
        for k in np.unique(piece_of):
            first, _, name = d.pieces[int(k)]
            in_piece = at[piece_of == k]
            with open_parquet(d.path / name, meter) as f:
                md = f.metadata
                rows = [md.row_group(g).num_rows for g in range(md.num_row_groups)]
                starts = np.cumsum([0, *rows])
                local = ords[in_piece] - first
                if local.max() >= starts[-1]:
                    raise CurateError(f"{d.path / name}: fewer rows than its manifest says")
                group = np.searchsorted(starts, local, "right") - 1
                for g in np.unique(group):
                    sel = group == g
                    values = f.read_row_group(int(g), columns=[column]).column(0)
                    pieces.append(values.take(pa.array(local[sel] - starts[g])))
                    where.append(in_piece[sel])
    if not pieces:
        return pa.chunked_array([], pa.large_string() if column == "id" else pa.int64())
    back = np.argsort(np.concatenate(where), kind="stable")
    joined = pa.chunked_array([p.cast(pieces[0].type) for p in pieces])
    return joined.take(pa.array(back))


def _array_rows(
    dumps: list[CommittedDump], handles: np.ndarray, kind: str
) -> Iterator[tuple[CommittedDump, str, int, np.ndarray, np.ndarray]]:
    """For each piece of array ``kind`` holding some of ``handles``: (dump, file, first
    ordinal of the piece, positions in ``handles``, ordinals local to the piece)."""
    by_seq = {d.seq: d for d in dumps}
    seqs, ords = split_handle(handles)
    for seq in np.unique(seqs):
        d = by_seq.get(int(seq))
        if d is None:
            raise CurateError(f"no committed dump with sequence number {seq} (a damaged index?)")
        at = np.flatnonzero(seqs == seq)
        pieces = d.arrays_of(kind)
        firsts = np.array([p[0] for p in pieces], np.int64)
        piece_of = np.searchsorted(firsts, ords[at], "right") - 1
        for k in np.unique(piece_of):
            first, rows, name = pieces[int(k)]
            sel = at[piece_of == k]
            if k < 0 or (ords[sel] - first).max() >= rows:
                raise CurateError(f"{d.path}: no {kind} piece holds ordinal {ords[sel].max()}")
            yield d, name, first, sel, ords[sel] - first


def signatures_of(dumps: list[CommittedDump], handles: np.ndarray, meter: ReadMeter) -> np.ndarray:
    """Rows of the committed MinHash signatures at ``handles`` (each piece memory-mapped per
    call: only these rows' pages are read, and counted in ``meter``)."""
    handles = np.asarray(handles, np.int64)
    out = None
    for d, name, _, sel, local in _array_rows(dumps, handles, "signatures"):
        sigs = _load_npy(d.path / name, meter)
        if out is None:
            out = np.empty((len(handles), sigs.shape[1]), sigs.dtype)
        out[sel] = sigs[local]
        row = sigs.strides[0]
        start = sigs.offset + local * row
        _count_pages(meter, sigs, start, start + row)
        del sigs  # unmapped: nothing of the index stays open between calls
    return out if out is not None else np.empty((0, 0), np.uint32)


def shingle_sets_of(dumps: list[CommittedDump], handles: np.ndarray, meter: ReadMeter) -> Any:
    """The committed shingle sets of ``handles``, in that order, as a curate.minhash.SetStore
    (each piece memory-mapped per call: only these documents' hashes and offsets are read,
    counted in ``meter``)."""
    from curate.minhash import SetStore

    handles = np.asarray(handles, np.int64)
    sizes = np.zeros(len(handles), np.int64)
    parts: list[tuple[np.ndarray, np.ndarray]] = []
    offsets_of = {
        (d.seq, first): name
        for d in dumps
        for first, _, name in (d.arrays_of("shingle_offsets") if d.arrays else [])
    }
    for d, name, first, sel, local in _array_rows(dumps, handles, "shingles"):
        offsets_name = offsets_of.get((d.seq, first), "shingle_offsets.npy")
        values = _load_npy(d.path / name, meter)
        offsets = _load_npy(d.path / offsets_name, meter)
        store = SetStore(values, offsets)
        sizes[sel] = store.sizes(local)
        parts.append((sel, store.gather(local)))
        at = offsets.offset + local * 8
        _count_pages(meter, offsets, at, at + 16)
        begin = values.offset + np.asarray(offsets[local], np.int64) * 4
        _count_pages(meter, values, begin, begin + sizes[sel] * 4)
        del store, values, offsets
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    values = np.empty(int(offsets[-1]), np.uint32)
    for sel, vals in parts:
        # the rows of one piece, in handle order, land at their own offsets
        within = np.arange(len(vals)) - np.repeat(np.cumsum(sizes[sel]) - sizes[sel], sizes[sel])
        values[np.repeat(offsets[sel], sizes[sel]) + within] = vals
    return SetStore(values, offsets)


def write_sets(folder: Path, piece: int, sets: Any, first: int) -> list[ArrayPiece]:
    """One ordinal range's shingle sets (a curate.minhash.SetStore in ordinal order) of a dump
    being committed: values and local offsets; returns their manifest entries."""
    rows = len(sets.offsets) - 1
    names = (f"shingles-{piece:05d}.npy", f"shingle_offsets-{piece:05d}.npy")
    offsets = np.asarray(sets.offsets, np.int64)
    values = np.ascontiguousarray(sets.values[offsets[0] : offsets[-1]], np.uint32)
    write_file(folder, names[0], lambda f: np.save(f, values))
    write_file(folder, names[1], lambda f: np.save(f, offsets - offsets[0]))
    return [("shingles", first, rows, names[0]), ("shingle_offsets", first, rows, names[1])]


def write_signatures(folder: Path, piece: int, signatures: np.ndarray, first: int) -> ArrayPiece:
    """One ordinal range's signatures (uint32 [rows, num_perm], ordinal order)."""
    name = f"signatures-{piece:05d}.npy"
    sigs = np.ascontiguousarray(signatures, np.uint32)
    write_file(folder, name, lambda f: np.save(f, sigs))
    return ("signatures", first, len(signatures), name)


def _part(partition: int) -> str:
    return f"part-{partition:02d}.parquet"


def lookup_partition(
    reference: list[CommittedDump],
    partition: int,
    keys: np.ndarray,
    meter: ReadMeter | None = None,
) -> np.ndarray:
    """For each key, the smallest handle in ``reference`` with that key in ``partition``, or
    NO_HANDLE. Streams: one dump at a time, in commit order, and in each dump's partition only
    the pieces (by their key range in the manifest) and in them the row groups whose key range
    holds a key still unfound, one row group at a time
    (its ``doc`` column only if a key hit). Memory: the keys asked + one row group; reads are
    counted in ``meter``. A reduce task for one partition needs nothing else of the index."""
    meter = meter if meter is not None else ReadMeter()
    keys = np.asarray(keys, np.uint64)
    found = np.full(len(keys), NO_HANDLE, np.int64)
    order = np.argsort(keys, kind="stable")
    for d in reference:  # commit order: a handle found in an earlier dump is the smaller one
        todo = order[found[order] == NO_HANDLE]
        if not len(todo):
            break
        for _, lo_key, hi_key, rows_in, name in d.parts_of(partition):
            # pieces hold disjoint key ranges: open only those the keys still unfound reach
            todo = order[found[order] == NO_HANDLE]
            want = keys[todo]  # sorted
            lo = 0 if lo_key is None else int(np.searchsorted(want, np.uint64(lo_key), "left"))
            hi = (
                len(want)
                if hi_key is None
                else int(np.searchsorted(want, np.uint64(hi_key), "right"))
            )
            if not rows_in or lo >= hi:
                continue
            _lookup_piece(d, d.path / name, want[lo:hi], todo[lo:hi], found, meter)
    return found


def _lookup_piece(
    d: CommittedDump,
    path: Path,
    want: np.ndarray,
    todo: np.ndarray,
    found: np.ndarray,
    meter: ReadMeter,
) -> None:
    """The keys ``want`` (sorted; rows ``todo`` of ``found``) in one key piece of dump ``d``."""
    with open_parquet(path, meter) as f:
        md = f.metadata
        key_at = md.schema.to_arrow_schema().get_field_index("key")
        for g in range(md.num_row_groups):
            if not md.row_group(g).num_rows:
                continue
            stats = md.row_group(g).column(key_at).statistics
            lo, hi = 0, len(want)
            if stats is not None and stats.has_min_max:
                lo = int(np.searchsorted(want, np.uint64(stats.min), "left"))
                hi = int(np.searchsorted(want, np.uint64(stats.max), "right"))
            if lo >= hi:
                continue
            idx_keys = f.read_row_group(g, columns=["key"]).column(0).to_numpy()
            ask, rows = want[lo:hi], todo[lo:hi]
            pos = np.minimum(np.searchsorted(idx_keys, ask), len(idx_keys) - 1)
            # leftmost in the first row group holding the key: its smallest ordinal
            hit = (idx_keys[pos] == ask) & (found[rows] == NO_HANDLE)
            if hit.any():
                docs = f.read_row_group(g, columns=["doc"]).column(0).to_numpy()
                found[rows[hit]] = make_handle(d.seq, docs[pos[hit]].astype(np.int64))


def write_partition(
    folder: Path,
    partition: int,
    keys: np.ndarray,
    docs: np.ndarray,
    extra: dict[str, Any] | None = None,
    piece: int | None = None,
) -> KeyPiece:
    """One partition (or, with ``piece``, one key range of it) of a dump being committed:
    (key, doc ordinal[, extra columns]) by key. Returns its manifest entry."""
    keys = np.asarray(keys, np.uint64)
    order = np.lexsort((docs, keys))
    columns = {
        "key": pa.array(keys[order], pa.uint64()),
        "doc": pa.array(np.asarray(docs)[order], pa.uint32()),
    }
    for column, values in (extra or {}).items():
        columns[column] = pa.array(np.asarray(values)[order])
    name = _part(partition) if piece is None else f"part-{partition:02d}-{piece:05d}.parquet"
    # keys are uniformly random: dictionary/compression gain little, plain is faster
    table = pa.table(columns)
    write_file(folder, name, lambda f: pq.write_table(
        table,
        f,
        compression="zstd",
        use_dictionary=False,
        row_group_size=PART_ROW_GROUP,  # with key statistics: lookups skip row groups by range
    ))  # fmt: skip
    lo, hi = (int(keys.min()), int(keys.max())) if len(keys) else (None, None)
    return (partition, lo, hi, len(keys), name)


def write_docs(folder: Path, ids: pa.Array, roots: np.ndarray, piece: int | None = None) -> str:
    """A piece of a dump's docs (id, root) in ordinal order; returns its file name."""
    name = "docs.parquet" if piece is None else f"docs-{piece:05d}.parquet"
    table = pa.table({"id": ids.cast(pa.large_string()), "root": pa.array(roots, pa.int64())})
    write_file(folder, name, lambda f: pq.write_table(
        table,
        f,
        compression="zstd",
        row_group_size=DOCS_ROW_GROUP,
        write_statistics=False,  # read by ordinal, never filtered by value
        use_dictionary=False,  # ids are distinct: a dictionary only grows the file
    ))  # fmt: skip
    return name


def _staged_parts(folder: Path) -> list[KeyPiece]:
    """Manifest entries of the whole partitions tasks staged (part-NN.parquet)."""
    out = []
    for path in sorted(storage.path(folder).glob("part-[0-9][0-9].parquet")):
        md = pq.read_metadata(storage.source(path))
        key_at = md.schema.to_arrow_schema().get_field_index("key")
        lo = hi = None
        if md.num_rows:
            stats = [md.row_group(g).column(key_at).statistics for g in range(md.num_row_groups)]
            if all(st is not None and st.has_min_max for st in stats):
                lo, hi = min(int(st.min) for st in stats), max(int(st.max) for st in stats)
        out.append((int(path.name[5:7]), lo, hi, md.num_rows, path.name))
    return out


def index_info(root: str | Path) -> dict[str, Any]:
    """What `curate index info DIR` prints: kind, parameters, dumps, sizes."""
    root = storage.path(root)
    meta = root / "index.json"
    if not meta.exists():
        raise CurateError(f"{root}: not a curate dedup index (no index.json)")
    header = json.loads(meta.read_text())
    index = DedupIndex.__new__(DedupIndex)
    index.root, index.meter, index._dumps = root, ReadMeter(), None
    dumps = []
    for d in index.dumps():
        size = sum(f.stat().st_size for f in d.path.iterdir())
        dumps.append(
            {
                "seq": d.seq,
                "dump": d.name,
                "docs": d.docs,
                "bytes": size,
                "committed_at": d.committed_at,
            }
        )
    docs = sum(d["docs"] for d in dumps)
    size = sum(d["bytes"] for d in dumps)
    return {
        **header,
        "dumps": dumps,
        "docs": docs,
        "bytes": size,
        "bytes_per_doc": round(size / docs, 1) if docs else None,
    }


def _atomic_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
