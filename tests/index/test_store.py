from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.cli import main
from curate.errors import CurateError
from curate.index import DedupIndex, index_info
from curate.stages.minhash_dedup import MinHashDedup, MinHashDedupConfig
from curate.stages.url_dedup import UrlDedup, UrlDedupConfig
from tests.stages.test_minhash_dedup import near_duplicate_rows, run_global


def url_rows():
    rows = []
    for d, dump in enumerate(["CC-2023-06", "CC-2023-14", "CC-2023-23"]):
        for i in range(30):
            page = (i * 7 + d * 3) % 45  # pages recur across dumps
            rows.append(
                {
                    "id": f"{dump}-{i}",
                    "text": f"page {page} " * (1 + i % 3),
                    "url": f"https://www.example.org/p/{page}?utm_source=x&a={page % 4}",
                    "dump": dump,
                    "date": f"2023-{d + 1:02d}-01",
                }
            )
    return rows


def by_dump(rows, *names):
    return [r for r in rows if r["dump"] in names]


STAGES = {
    "minhash": (
        lambda index=None: MinHashDedup(MinHashDedupConfig(index=index)),
        lambda: near_duplicate_rows(seed=4, base=120, dumps=("d1", "d2", "d3")),
    ),
    "minhash-signature": (
        lambda index=None: MinHashDedup(MinHashDedupConfig(index=index, verify="signature")),
        lambda: near_duplicate_rows(seed=4, base=120, dumps=("d1", "d2", "d3")),
    ),
    "url": (lambda index=None: UrlDedup(UrlDedupConfig(index=index)), url_rows),
}


@pytest.mark.parametrize("kind", sorted(STAGES))
def test_dump_by_dump_through_the_index_equals_all_dumps_together(kind, tmp_path):
    """Dump N through the index removes from dump N exactly what deduplicating dumps 1..N
    together removes from it (a later dump can still bridge two earlier documents into one
    cluster, so the comparison is with 1..N, not with every dump)."""
    make, data = STAGES[kind]
    rows = data()
    dumps = sorted({r["dump"] for r in rows})
    index = str(tmp_path / "index")
    seen, together = {}, {}
    for n, dump in enumerate(dumps):
        so_far, _, _ = run_global(make(), by_dump(rows, *dumps[: n + 1]))
        in_dump = {r["id"] for r in by_dump(rows, dump)}
        together.update({k: v for k, v in so_far.items() if k in in_dump})
        removed, _, summary = run_global(make(index), by_dump(rows, dump))
        assert summary["index"]["committed"] == [dump]
        seen.update(removed)
    assert seen == together
    assert len(together) > 10
    assert any(r["dump"] == dumps[-1] for r in rows if r["id"] in together)
    info = index_info(index)
    assert [d["dump"] for d in info["dumps"]] == dumps
    assert info["docs"] == len(rows)


@pytest.mark.parametrize("kind", sorted(STAGES))
def test_rerun_of_a_committed_dump_is_idempotent(kind, tmp_path):
    make, data = STAGES[kind]
    rows = data()
    index = str(tmp_path / "index")
    run_global(make(index), by_dump(rows, "d1" if kind.startswith("minhash") else "CC-2023-06"))
    last = by_dump(rows, "d2" if kind.startswith("minhash") else "CC-2023-14")
    first, _, s1 = run_global(make(index), last)
    again, _, s2 = run_global(make(index), last, shards=2)
    assert again == first and first
    assert s2["index"]["committed"] == [] and s2["index"]["already_committed"] == [last[0]["dump"]]
    assert len(index_info(index)["dumps"]) == 2


def test_a_crash_while_committing_leaves_the_index_as_it_was(tmp_path, monkeypatch):
    rows = near_duplicate_rows(seed=5, base=60, dumps=("d1", "d2"))
    index = str(tmp_path / "index")
    run_global(MinHashDedup(MinHashDedupConfig(index=index)), by_dump(rows, "d1"))
    before = index_info(index)

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        run_global(MinHashDedup(MinHashDedupConfig(index=index)), by_dump(rows, "d2"))
    monkeypatch.undo()
    assert index_info(index) == before
    removed, _, _ = run_global(MinHashDedup(MinHashDedupConfig(index=index)), by_dump(rows, "d2"))
    assert [d["dump"] for d in index_info(index)["dumps"]] == ["d1", "d2"]
    assert not list((tmp_path / "index" / "dumps").glob(".tmp-*"))


def test_refusals(tmp_path):
    rows = near_duplicate_rows(seed=6, base=40, dumps=("d1", "d2"))
    index = str(tmp_path / "index")
    run_global(MinHashDedup(MinHashDedupConfig(index=index)), by_dump(rows, "d1"))
    run_global(MinHashDedup(MinHashDedupConfig(index=index)), by_dump(rows, "d2"))
    with pytest.raises(CurateError, match="was committed before d2"):
        run_global(MinHashDedup(MinHashDedupConfig(index=index)), by_dump(rows, "d1"))
    changed = by_dump(rows, "d2")[1:]
    with pytest.raises(CurateError, match="already committed with other documents"):
        run_global(MinHashDedup(MinHashDedupConfig(index=index)), changed)
    with pytest.raises(CurateError, match="built with bands=16, this stage has bands=10"):
        run_global(MinHashDedup(MinHashDedupConfig(index=index, num_perm=64)), rows)
    with pytest.raises(CurateError, match="a minhash index, not a url index"):
        run_global(UrlDedup(UrlDedupConfig(index=index)), rows)
    no_dump = [{**r, "dump": None} for r in rows[:5]]
    with pytest.raises(CurateError, match="needs a dump for every document"):
        run_global(MinHashDedup(MinHashDedupConfig(index=str(tmp_path / "other"))), no_dump)


def test_store_lookup_returns_the_smallest_handle(tmp_path):
    import pyarrow as pa

    index = DedupIndex(tmp_path / "i", "test", {"p": 1}, partitions=1)
    with index.locked():
        keys = np.array([5, 3, 5, 9], np.uint64)
        index.commit(
            "a", "f", pa.array(["a0", "a1", "a2", "a3"]), np.arange(4), [(keys, np.arange(4))]
        )
        index.commit(
            "b",
            "g",
            pa.array(["b0", "b1"]),
            np.arange(2) + (2 << 32),
            [(np.array([3, 7], np.uint64), np.arange(2))],
        )
    found = index.lookup(index.dumps(), 0, np.array([5, 3, 7, 1], np.uint64))
    assert found.tolist() == [(1 << 32) | 0, (1 << 32) | 1, (2 << 32) | 1, -1]
    assert index.ids(found[:3]).to_pylist() == ["a0", "a1", "b1"]


def test_cli_index_info(tmp_path, capsys):
    rows = near_duplicate_rows(seed=7, base=30, dumps=("d1",))
    index = str(tmp_path / "index")
    run_global(MinHashDedup(MinHashDedupConfig(index=index)), rows)
    assert main(["index", "info", index]) == 0
    out = capsys.readouterr().out
    assert "d1" in out and "bytes/doc" in out
    assert main(["index", "info", index, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["docs"] == len(rows)
    assert main(["index", "info", str(tmp_path / "nothing")]) == 2


def _plain_fingerprint(ids: list[str]) -> str:
    """The fingerprint's definition, one id at a time in plain Python."""
    from xxhash import xxh3_64_hexdigest

    mask, total = (1 << 64) - 1, 0
    for text in ids:
        data = text.encode()
        h = sum((b + 1) * pow(0x100000001B3, i, 1 << 64) for i, b in enumerate(data)) & mask
        h = (h + len(data) * 0x9E3779B97F4A7C15) & mask
        for mul in (0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53):
            h = ((h ^ (h >> 33)) * mul) & mask
        total = (total + (h ^ (h >> 33))) & mask
    return xxh3_64_hexdigest(f"{len(ids)}:{total:016x}".encode())


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(exclude_categories=["Cs"])), max_size=30))
def test_fingerprint_is_its_plain_definition_in_any_order_and_chunking(ids):
    """Vectorised hashes give the plain definition's fingerprint, in any order and chunking (so
    tasks can fingerprint parts of a dump and the driver add them up)."""
    import pyarrow as pa

    from curate.index.store import fingerprint_ids, fingerprint_of, fingerprint_sums

    want = _plain_fingerprint(ids)
    assert fingerprint_ids(pa.array(ids, pa.string())) == want
    half = len(ids) // 2
    chunked = pa.chunked_array([ids[half:][::-1], ids[:half]], pa.string())
    assert fingerprint_ids(chunked) == want
    (n1, s1), (n2, s2) = (
        fingerprint_sums(pa.array(ids[:half])),
        fingerprint_sums(pa.array(ids[half:])),
    )
    assert fingerprint_of(n1 + n2, s1 + s2) == want


def test_fingerprint_changes_with_any_id():
    import pyarrow as pa

    from curate.index.store import fingerprint_ids

    ids = [f"<urn:uuid:{i:08d}-0000>" for i in range(2_000)]
    base = fingerprint_ids(pa.array(ids))
    variants = [ids[1:], ids + [ids[0]], [ids[0] + "x", *ids[1:]], ["", *ids[1:]]]
    variants.append(["<urn:uuid:00000001-0000>", "<urn:uuid:00000000-0000>", *ids[2:]][::-1])
    assert [fingerprint_ids(pa.array(v)) == base for v in variants] == [False] * 4 + [True]


# ---------------------------------------------------------------- streaming reads, bytes read


def _rchar(since: int | None = None) -> int:
    """The kernel's count of bytes this process has read (read(2) and the like) right after this
    call's own read of /proc/self/io; with ``since``, the bytes read since that count."""
    with open("/proc/self/io", "rb", buffering=0) as f:
        text = f.read(4096)  # one read(2)
    before = int(text.split(b"rchar:")[1].split()[0])  # this read not yet counted
    return before - since if since is not None else before + len(text)


def _two_dumps(tmp_path, monkeypatch, n=5_000):
    """Two committed dumps of ``n`` keys each in 1 partition, in row groups of 100 rows; keys
    repeat (within and across dumps, also across row-group boundaries)."""
    import pyarrow as pa

    from curate.index import store

    monkeypatch.setattr(store, "PART_ROW_GROUP", 100)
    monkeypatch.setattr(store, "DOCS_ROW_GROUP", 100)
    rng = np.random.default_rng(3)
    index = DedupIndex(tmp_path / "i", "test", {"p": 1}, partitions=1)
    keys = []
    with index.locked():
        for seq, name in enumerate(["a", "b"], 1):
            k = rng.integers(0, n // 2, n, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
            ids = pa.array([f"{name}{i}" for i in range(n)], pa.string())
            roots = np.arange(n) + (seq << 32) + 7
            index.commit(name, "f" + name, ids, roots, [(k, np.arange(n))])
            keys.append(k)
    return DedupIndex(tmp_path / "i", "test", {"p": 1}, partitions=1), keys


def _brute_lookup(keys_by_dump, asked):
    out = []
    for key in asked:
        hit = -1
        for seq, keys in enumerate(keys_by_dump, 1):
            where = np.flatnonzero(keys == key)
            if len(where):
                hit = (seq << 32) | int(where.min())
                break
        out.append(hit)
    return out


def test_lookup_reads_only_the_row_groups_it_needs(tmp_path, monkeypatch):
    index, keys = _two_dumps(tmp_path, monkeypatch)
    part = index.dumps()[0].path / "part-00.parquet"
    import pyarrow.parquet as pq

    assert pq.ParquetFile(part).metadata.num_row_groups == 50
    rng = np.random.default_rng(4)
    edges = np.array([5, 2**64 - 1], np.uint64)
    asked = np.concatenate([rng.choice(keys[0], 300), rng.choice(keys[1], 300), edges])
    found = index.lookup(index.dumps(), 0, asked)
    assert found.tolist() == _brute_lookup(keys, asked)
    # a few keys: a few row groups of each file, far from the whole partitions
    before, rchar = index.bytes_read, _rchar()
    few = index.lookup(index.dumps(), 0, asked[:3])
    read = index.bytes_read - before
    assert _rchar(since=rchar) == read  # counted at the file: what the kernel handed over
    assert few.tolist() == found[:3].tolist()
    sizes = sum((d.path / "part-00.parquet").stat().st_size for d in index.dumps())
    assert 0 < read < sizes / 4
    # nothing asked, nothing read; every key asked: at most the files, once each
    before = index.bytes_read
    assert index.lookup(index.dumps(), 0, np.empty(0, np.uint64)).tolist() == []
    assert index.bytes_read == before
    everything = index.lookup(index.dumps(), 0, np.concatenate(keys))
    assert everything.tolist() == _brute_lookup(keys, np.concatenate(keys))
    assert index.bytes_read - before <= sizes


def test_ids_and_roots_read_only_the_rows_asked(tmp_path, monkeypatch):
    index, _ = _two_dumps(tmp_path, monkeypatch)
    handles = np.array([(2 << 32) | 4_321, (1 << 32) | 17, (2 << 32) | 0, (1 << 32) | 17])
    index.dumps()  # the meta.json reads, once
    before, rchar = index.bytes_read, _rchar()
    assert index.ids(handles).to_pylist() == ["b4321", "a17", "b0", "a17"]
    assert index.roots(handles).tolist() == (handles + 7).tolist()
    read = index.bytes_read - before
    assert _rchar(since=rchar) == read
    # per call and dump: the footer (by its length) and the asked row groups' column chunk
    import pyarrow.parquet as pq

    want = 0
    for at in (0, 1):  # id, root
        for seq, groups in ((1, {0}), (2, {0, 43})):
            path = index.dumps()[seq - 1].path / "docs.parquet"
            md = pq.ParquetFile(path).metadata
            want += 8 + int.from_bytes(path.read_bytes()[-8:-4], "little")  # footer length
            want += sum(md.row_group(g).column(at).total_compressed_size for g in groups)
    assert read == want
    docs = sum((d.path / "docs.parquet").stat().st_size for d in index.dumps())
    assert read < docs
    assert index.ids(np.empty(0, np.int64)).to_pylist() == []
    assert index.roots(np.empty(0, np.int64)).tolist() == []
    # nothing read from the index stays in the object between calls but the dumps' meta.json
    assert set(vars(index)) == {"root", "kind", "params", "partitions", "meter", "_dumps"}


def test_dump_metadata_is_read_once(tmp_path, monkeypatch):
    index, keys = _two_dumps(tmp_path, monkeypatch)
    calls = []
    read = type(index)._read_dumps
    monkeypatch.setattr(type(index), "_read_dumps", lambda self: calls.append(1) or read(self))
    for _ in range(3):
        index.lookup(index.dumps(), 0, keys[1][:10])
        index.ids(np.array([(1 << 32) | 3, (2 << 32) | 3]))
        index.roots(np.array([(1 << 32) | 3, (2 << 32) | 3]))
    assert len(calls) == 1
    with index.locked():  # another run may have committed meanwhile: read again under the lock
        pass
    assert len(calls) == 2


@pytest.mark.parametrize("kind", sorted(STAGES))
def test_barriers_report_the_bytes_they_read_from_the_index(kind, tmp_path):
    """``index.bytes_read`` in the summary: what the store read from the index's files (the
    kernel's count of the process's reads agrees), 0 when nothing is committed yet."""
    make, data = STAGES[kind]
    rows = data()
    dumps = sorted({r["dump"] for r in rows})
    index = str(tmp_path / "index")
    read = []
    for dump in dumps:
        rchar = _rchar()
        _, _, summary = run_global(make(index), by_dump(rows, dump))
        read.append(summary["index"]["bytes_read"])
        if kind == "url":  # + its run's own files (keys, ordinals); minhash maps arrays
            assert _rchar(since=rchar) >= read[-1]
    assert read[0] == 0 and 0 < read[1] < read[2]
    assert read[2] <= index_info(index)["bytes"]


def test_fingerprint_in_slices_is_that_of_the_whole(monkeypatch):
    import pyarrow as pa

    from curate.index import store

    ids = [f"doc-{i * 7919 % 1000}" * (1 + i % 5) for i in range(1000)] + ["", "é", "z"]
    want = _plain_fingerprint(ids)
    for window in (1, 7, 1_000, 1 << 22):
        monkeypatch.setattr(store, "HASH_BYTES", window)
        assert store.fingerprint_ids(pa.array(ids, pa.string())) == want


def test_fingerprint_over_more_than_2_gib_of_ids():
    """2,200 ids of 1 MiB (2.3e9 bytes, past what 32-bit offsets address) in string chunks of
    1,000 ids, as a barrier hands them over: hashed chunk by chunk, never concatenated; the
    fingerprint is the same for the ids in another order and chunking, and changes with one
    byte of one id."""
    import pyarrow as pa

    from curate.index.store import fingerprint_ids

    n, width = 2_200, 1 << 20
    data = np.full(n * width, ord("x"), np.uint8)
    rng = np.random.default_rng(5)
    data.reshape(n, width)[:, :12] = rng.integers(ord("a"), ord("z") + 1, (n, 12), np.uint8)
    assert n * width > 2**31
    buffer = pa.py_buffer(data)

    def chunked(starts_counts):
        chunks = []
        for start, count in starts_counts:
            offsets = (np.arange(count + 1, dtype=np.int32) * width).astype(np.int32)
            piece = buffer.slice(start * width, count * width)
            chunks.append(pa.StringArray.from_buffers(count, pa.py_buffer(offsets), piece))
        return pa.chunked_array(chunks, pa.string())

    got = fingerprint_ids(chunked([(a, min(1_000, n - a)) for a in range(0, n, 1_000)]))
    assert got == fingerprint_ids(chunked([(a, min(700, n - a)) for a in range(0, n, 700)][::-1]))
    data[5 * width + 100] = ord("y")
    assert got != fingerprint_ids(chunked([(a, min(1_000, n - a)) for a in range(0, n, 1_000)]))


def test_signatures_and_shingle_sets_read_the_pages_of_their_rows(tmp_path):
    """Memory-mapped per call: the bytes counted are the .npy headers plus the distinct 4 KiB
    pages under the rows gathered, and the rows are the committed ones."""
    import pyarrow as pa

    from curate.minhash import SetStore

    n, rng = 2_000, np.random.default_rng(8)
    sigs = rng.integers(0, 2**32, (n, 128), dtype=np.uint32)  # 512-byte rows
    sizes = rng.integers(0, 300, n)
    offsets = np.r_[0, np.cumsum(sizes)].astype(np.int64)
    values = rng.integers(0, 2**32, int(offsets[-1]), dtype=np.uint32)
    index = DedupIndex(tmp_path / "i", "test", {"p": 1}, partitions=1)
    ids = pa.array([f"d{i}" for i in range(n)])
    with index.locked():
        index.commit(
            "a",
            "f",
            ids,
            np.arange(n) + (1 << 32),
            [(np.arange(n, dtype=np.uint64), np.arange(n))],
            signatures=sigs,
        )
    index2 = DedupIndex(tmp_path / "j", "test", {"p": 1}, partitions=1)
    with index2.locked():
        index2.commit(
            "a",
            "f",
            ids,
            np.arange(n) + (1 << 32),
            [(np.arange(n, dtype=np.uint64), np.arange(n))],
            shingles=SetStore(values, offsets),
        )
    rows = np.array([900, 5, 6, 1_999])
    handles = (1 << 32) | rows
    folder = index.dumps()[0].path
    header = np.load(folder / "signatures.npy", mmap_mode="r").offset
    before = index.bytes_read
    assert np.array_equal(index.signatures(handles), sigs[rows])
    pages = {(header + r * 512) // 4096 for r in rows} | {
        (header + r * 512 + 511) // 4096 for r in rows
    }
    assert index.bytes_read - before == header + 4096 * len(pages)
    before = index2.bytes_read
    got = index2.shingle_sets(handles)
    for k, r in enumerate(rows):
        assert np.array_equal(
            got.values[got.offsets[k] : got.offsets[k + 1]], values[offsets[r] : offsets[r + 1]]
        )
    folder = index2.dumps()[0].path
    h_val = np.load(folder / "shingles.npy", mmap_mode="r").offset
    h_off = np.load(folder / "shingle_offsets.npy", mmap_mode="r").offset
    off_pages = {(h_off + r * 8 + b) // 4096 for r in rows for b in (0, 15)}
    val_pages = {
        (h_val + 4 * int(x)) // 4096 for r in rows for x in range(offsets[r], offsets[r + 1])
    }
    assert index2.bytes_read - before == h_val + h_off + 4096 * (len(off_pages) + len(val_pages))
