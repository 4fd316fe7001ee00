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


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(exclude_categories=["Cs"])), max_size=30))
def test_fingerprint_is_that_of_the_sorted_ids_joined(ids):
    """Arrow's sort and join give the fingerprint of the plain definition, in any chunking."""
    import pyarrow as pa
    from xxhash import xxh3_64_hexdigest

    from curate.index.store import fingerprint_ids

    want = xxh3_64_hexdigest("\n".join(sorted(ids)).encode())
    assert fingerprint_ids(pa.array(ids, pa.string())) == want
    half = len(ids) // 2
    chunked = pa.chunked_array([ids[:half], ids[half:]], pa.string())
    assert fingerprint_ids(chunked) == want
