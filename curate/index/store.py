"""A persistent cross-dump dedup index: every committed dump's keys, so the next dump is
deduplicated against all earlier ones without reading them again.

Layout of ``DIR`` (all Parquet/JSON/NumPy, readable without curate)::

    index.json                  kind (url | minhash | simhash), key parameters, partitions
    .lock                       flock held by a run while it reads and commits
    dumps/000001/               one folder per committed dump, named by commit sequence number
        meta.json               dump name, seq, docs, fingerprint of its ids, commit time
        docs.parquet            id, root: row = the document's *ordinal* in the dump
        part-00.parquet ...     (key uint64, doc uint32) sorted by key; one file per partition
        signatures.npy          uint32 [docs, num_perm], MinHash with verify: signature
        shingles.npy            uint32, each document's distinct shingle hashes, MinHash with
        shingle_offsets.npy     verify: exact (int64 [docs + 1] offsets into shingles.npy)
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
~20-30 GB. Memory: a lookup reads one band of one committed dump at a time (12 bytes x that
dump's documents) plus the rows it matches, and memory-maps the shingles/signatures of the
documents it verifies; the run's own keys are in memory for ``decide`` (about the bytes/doc above
plus 80 for the row's bookkeeping, so a 10^8-document dump needs ~200 GB on one node with exact
verification, or the per-band sharding above).

Committing a dump writes a hidden temporary folder and renames it to its sequence number: the
rename is the commit, so a crash leaves the index as it was (the next open removes the debris).
A dump already in the index is recognised by name and not added again; it is then deduplicated
against the dumps committed before it, exactly as the first time, so a re-run is idempotent.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from xxhash import xxh3_64_hexdigest

from curate.errors import CurateError, failpoint

FORMAT = 1
SEQ_SHIFT = 32
NO_HANDLE = -1


def make_handle(seq: int | np.ndarray, ordinal: int | np.ndarray) -> np.ndarray:
    """Handle(s) of document ``ordinal`` of the dump committed as ``seq``."""
    return (np.asarray(seq, np.int64) << SEQ_SHIFT) | np.asarray(ordinal, np.int64)


def split_handle(handles: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    handles = np.asarray(handles, np.int64)
    return handles >> SEQ_SHIFT, handles & ((1 << SEQ_SHIFT) - 1)


def fingerprint_ids(ids: pa.Array | pa.ChunkedArray) -> str:
    """Order-free fingerprint of a dump's document ids (a re-run must bring the same documents)."""
    # the ids sorted (UTF-8 byte order = code point order) and joined by newlines, in Arrow
    ids = ids.combine_chunks() if isinstance(ids, pa.ChunkedArray) else ids
    ordered = ids.take(pc.sort_indices(ids)).cast(pa.string())
    bounds = pa.array([0, len(ordered)], pa.int32())
    joined = pc.binary_join(pa.ListArray.from_arrays(bounds, ordered), "\n")[0].as_buffer()
    return xxh3_64_hexdigest(joined if joined is not None else b"")


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


@dataclass(frozen=True)
class CommittedDump:
    name: str
    seq: int
    docs: int
    fingerprint: str
    path: Path
    committed_at: str


class DedupIndex:
    """Open (or create) the index at ``root`` for a stage ``kind`` with key ``params``."""

    def __init__(self, root: str | Path, kind: str, params: dict[str, Any], partitions: int):
        self.root = Path(root)
        self.kind = kind
        self.params = params
        self.partitions = partitions
        self._cache: dict[tuple[int, str], Any] = {}
        header = {"format": FORMAT, "kind": kind, "params": params, "partitions": partitions}
        meta = self.root / "index.json"
        if meta.exists():
            found = json.loads(meta.read_text())
            if found.get("kind") != kind:
                raise CurateError(f"{self.root}: a {found.get('kind')} index, not a {kind} index")
            for key in sorted(set(found.get("params", {})) | set(params)):
                if found["params"].get(key) != params.get(key):
                    raise CurateError(
                        f"{self.root}: built with {key}={found['params'].get(key)!r}, this stage "
                        f"has {key}={params.get(key)!r}; keys would not match (use a new index)"
                    )
        else:
            try:
                (self.root / "dumps").mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise CurateError(
                    f"{self.root}: cannot create the index ({exc.strerror})"
                ) from None
            _atomic_text(meta, json.dumps(header, indent=1))

    # ------------------------------------------------------------ reading
    def dumps(self) -> list[CommittedDump]:
        """Committed dumps in commit order."""
        out = []
        folder = self.root / "dumps"
        for path in sorted(folder.iterdir()) if folder.exists() else []:
            if path.name.startswith(".") or not (path / "meta.json").exists():
                continue
            m = json.loads((path / "meta.json").read_text())
            out.append(
                CommittedDump(
                    m["dump"], m["seq"], m["docs"], m["fingerprint"], path, m["committed_at"]
                )
            )
        return out

    @contextmanager
    def locked(self) -> Iterator[DedupIndex]:
        """Hold the index for one read-then-commit; removes a crashed commit's debris."""
        with open(self.root / ".lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                for tmp in (self.root / "dumps").glob(".tmp-*"):
                    shutil.rmtree(tmp, ignore_errors=True)
                for tmp in self.root.glob(".*.tmp"):  # a crashed index.json write
                    tmp.unlink(missing_ok=True)
                yield self
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

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
        or NO_HANDLE (see ``lookup_partition``)."""
        return lookup_partition(reference, partition, keys)

    def read(self, dump: CommittedDump, name: str) -> pa.Table:
        """One of a committed dump's tables: ``part-00``, ``docs``, or a stage's own."""
        path = dump.path / f"{name}.parquet"
        if not path.exists():
            raise CurateError(f"{path}: missing from the index (a damaged or older index?)")
        return pq.read_table(path)

    def _dump_by_seq(self, seq: int) -> CommittedDump:
        for d in self.dumps():
            if d.seq == seq:
                return d
        raise CurateError(f"{self.root}: no committed dump with sequence number {seq}")

    def _docs(self, seq: int) -> pa.Table:
        key = (seq, "docs")
        if key not in self._cache:
            self._cache[key] = pq.read_table(self._dump_by_seq(seq).path / "docs.parquet")
        return self._cache[key]

    def roots(self, handles: np.ndarray) -> np.ndarray:
        """The survivor handle of each document handle."""
        out = np.empty(len(handles), np.int64)
        seqs, ords = split_handle(handles)
        for seq in np.unique(seqs):
            sel = seqs == seq
            out[sel] = self._docs(int(seq)).column("root").to_numpy()[ords[sel]]
        return out

    def ids(self, handles: np.ndarray) -> pa.Array:
        """The document id of each handle."""
        seqs, ords = split_handle(handles)
        out: list[str | None] = [None] * len(handles)
        for seq in np.unique(seqs):
            where = np.flatnonzero(seqs == seq)
            ids = self._docs(int(seq)).column("id").take(pa.array(ords[where])).to_pylist()
            for i, v in zip(where, ids):
                out[i] = v
        return pa.array(out, pa.string())

    def signatures(self, handles: np.ndarray) -> np.ndarray:
        """Rows of the committed MinHash signatures (memory-mapped: only these rows are read)."""
        seqs, ords = split_handle(handles)
        out = None
        for seq in np.unique(seqs):
            key = (int(seq), "sig")
            if key not in self._cache:
                path = self._dump_by_seq(int(seq)).path / "signatures.npy"
                self._cache[key] = np.load(path, mmap_mode="r")
            sigs = self._cache[key]
            if out is None:
                out = np.empty((len(handles), sigs.shape[1]), sigs.dtype)
            sel = seqs == seq
            out[sel] = sigs[ords[sel]]
        return out if out is not None else np.empty((0, 0), np.uint32)

    def shingle_sets(self, handles: np.ndarray) -> Any:
        """The committed shingle sets of ``handles``, in that order, as a curate.minhash.SetStore
        (memory-mapped: only these documents' hashes are read)."""
        from curate.minhash import SetStore

        seqs, ords = split_handle(handles)
        sizes = np.zeros(len(handles), np.int64)
        parts: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        for seq in np.unique(seqs):
            key = (int(seq), "shingles")
            if key not in self._cache:
                path = self._dump_by_seq(int(seq)).path
                self._cache[key] = SetStore(
                    np.load(path / "shingles.npy", mmap_mode="r"),
                    np.load(path / "shingle_offsets.npy", mmap_mode="r"),
                )
            sel = np.flatnonzero(seqs == seq)
            store = self._cache[key]
            sizes[sel] = store.sizes(ords[sel])
            parts[int(seq)] = (sel, store.gather(ords[sel]))
        offsets = np.concatenate([[0], np.cumsum(sizes)])
        values = np.empty(int(offsets[-1]), np.uint32)
        for sel, vals in parts.values():
            # the rows of one dump, in handle order, land at their own offsets
            within = np.arange(len(vals)) - np.repeat(
                np.cumsum(sizes[sel]) - sizes[sel], sizes[sel]
            )
            values[np.repeat(offsets[sel], sizes[sel]) + within] = vals
        return SetStore(values, offsets)

    # ------------------------------------------------------------ writing
    def begin_commit(self) -> Path:
        """A hidden folder to stage a dump's files in before ``commit(staged=...)`` (a reduce
        task per partition can write its own ``write_partition`` there). Call under
        ``locked()``: a crashed run's staged folders are removed by the next lock."""
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
        """Add one dump: ``ids`` and ``roots`` in ordinal order, ``parts[p] = (keys, ordinals)``
        or ``(keys, ordinals, {column: values})`` for extra columns aligned with the keys;
        ``tables`` are written as ``<name>.parquet``. Call under ``locked()``; the final rename is
        the commit. With ``staged`` (from ``begin_commit``), the partitions are already there and
        ``parts`` is None."""
        if staged is None and (parts is None or len(parts) != self.partitions):
            raise ValueError(f"expected {self.partitions} partitions")
        if staged is not None:
            if parts is not None:
                raise ValueError("give parts or staged partitions, not both")
            missing = [p for p in range(self.partitions) if not (staged / _part(p)).exists()]
            if missing:
                raise ValueError(f"{staged}: staged partitions missing: {missing}")
        seq = max((d.seq for d in self.dumps()), default=0) + 1
        tmp = staged if staged is not None else self.begin_commit()
        try:
            pq.write_table(
                pa.table({"id": ids, "root": pa.array(roots, pa.int64())}),
                tmp / "docs.parquet",
                compression="zstd",
            )
            for p, (keys, docs, *more) in enumerate(parts or []):
                write_partition(tmp, p, keys, docs, more[0] if more else None)
                failpoint("index_part")
            if signatures is not None:
                np.save(tmp / "signatures.npy", np.ascontiguousarray(signatures))
            if shingles is not None:  # a curate.minhash.SetStore, in ordinal order
                np.save(tmp / "shingles.npy", np.ascontiguousarray(shingles.values, np.uint32))
                np.save(tmp / "shingle_offsets.npy", np.asarray(shingles.offsets, np.int64))
            for table_name, extra in (tables or {}).items():
                pq.write_table(extra, tmp / f"{table_name}.parquet", compression="zstd")
            meta = {
                "dump": name,
                "seq": seq,
                "docs": len(ids),
                "fingerprint": fingerprint,
                "committed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                **(stats or {}),
            }
            _atomic_text(tmp / "meta.json", json.dumps(meta, indent=1))
            _fsync_dir(tmp)
            final = self.root / "dumps" / f"{seq:06d}"
            failpoint("index_commit")
            os.rename(tmp, final)  # the commit
            failpoint("index_committed")
            _fsync_dir(final.parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return self._dump_by_seq(seq)


def _part(partition: int) -> str:
    return f"part-{partition:02d}.parquet"


def lookup_partition(
    reference: list[CommittedDump], partition: int, keys: np.ndarray
) -> np.ndarray:
    """For each key, the smallest handle in ``reference`` with that key in ``partition``, or
    NO_HANDLE. Reads only that partition's file of each dump, one dump at a time, in commit
    order: a reduce task for one partition needs nothing else of the index."""
    found = np.full(len(keys), NO_HANDLE, np.int64)
    if not len(keys):
        return found
    for d in reference:
        part = pq.read_table(d.path / _part(partition))
        idx_keys = part.column("key").to_numpy()
        if not len(idx_keys):
            continue
        pos = np.searchsorted(idx_keys, keys)  # leftmost: the smallest ordinal of that key
        pos_c = np.minimum(pos, len(idx_keys) - 1)
        hit = (found == NO_HANDLE) & (idx_keys[pos_c] == keys)
        docs = part.column("doc").to_numpy().astype(np.int64)
        found[hit] = make_handle(np.full(hit.sum(), d.seq), docs[pos_c[hit]])
    return found


def write_partition(
    folder: Path,
    partition: int,
    keys: np.ndarray,
    docs: np.ndarray,
    extra: dict[str, Any] | None = None,
) -> None:
    """One partition of a dump being committed: (key, doc ordinal[, extra columns]) by key."""
    order = np.lexsort((docs, keys))
    columns = {
        "key": pa.array(keys[order], pa.uint64()),
        "doc": pa.array(docs[order], pa.uint32()),
    }
    for column, values in (extra or {}).items():
        columns[column] = pa.array(np.asarray(values)[order])
    # keys are uniformly random: dictionary/compression gain little, plain is faster
    pq.write_table(
        pa.table(columns), Path(folder) / _part(partition), compression="zstd", use_dictionary=False
    )


def index_info(root: str | Path) -> dict[str, Any]:
    """What `curate index info DIR` prints: kind, parameters, dumps, sizes."""
    root = Path(root)
    meta = root / "index.json"
    if not meta.exists():
        raise CurateError(f"{root}: not a curate dedup index (no index.json)")
    header = json.loads(meta.read_text())
    index = DedupIndex.__new__(DedupIndex)
    index.root = root
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
