"""Keyed barriers decide in reduce tasks, one hash partition each (curate.shuffle): the same
kept and removed documents for any number of partitions, equal to a brute-force grouping."""

from __future__ import annotations

import json
import random
import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from curate.shuffle import (
    PieceWriter,
    held_partitions,
    iter_partition,
    partition_of,
    read_partition,
    write_partitioned,
)
from tests.test_pipeline import ids_in, run, stable

DEDUP = [{"url_dedup": {}}, {"exact_dedup": {}}]


def removed_pairs(out):
    """{stage: sorted (id, duplicate_of)} from the removed/ folder."""
    got = {}
    for folder in sorted((out / "removed").iterdir()):
        table = pa.concat_tables(pq.read_table(f) for f in sorted(folder.glob("*.parquet")))
        got[folder.name] = sorted(zip(table["id"].to_pylist(), table["duplicate_of"].to_pylist()))
    return got


def test_partition_of_is_stable_and_spreads_keys():
    keys = np.arange(100_000, dtype=np.uint64) << np.uint64(20)  # low bits all equal
    part = partition_of(keys, 7)
    assert part.min() == 0 and part.max() == 6
    counts = np.bincount(part, minlength=7)
    assert counts.min() > 0.9 * len(keys) / 7  # a multiplicative hash spreads them
    assert np.array_equal(part, partition_of(keys.copy(), 7))
    assert not partition_of(keys, 1).any()


def test_partitioned_file_round_trip(tmp_path):
    rng = np.random.default_rng(0)
    n = 5_000
    table = pa.table(
        {"key": rng.integers(0, 2**63, n).astype(np.uint64), "v": [str(i) for i in range(n)]}
    )
    part = partition_of(table["key"].to_numpy(), 5)
    counts = write_partitioned(tmp_path / "a.parquet", table, part)
    assert sum(counts.values()) == n
    # a partition with no rows in a file is simply absent
    write_partitioned(tmp_path / "b.parquet", table.slice(0, 3), part[:3])
    for p in range(5):
        got = read_partition([tmp_path / "a.parquet", tmp_path / "b.parquet"], p)
        want = [str(i) for i in np.flatnonzero(part == p)] + [
            str(i) for i in np.flatnonzero(part[:3] == p)
        ]
        assert got["v"].to_pylist() == want
        assert got.schema.field("v").type == pa.large_string()  # 64-bit offsets
    assert read_partition([tmp_path / "missing.parquet"], 0) is None


def test_piece_writer_equals_write_partitioned_of_the_whole(tmp_path):
    """Pieces given one at a time (each spilled at once) make the same partitions, in the same
    row order, as write_partitioned of their concatenation; sets of random hashes included."""
    rng = np.random.default_rng(1)
    pieces, parts = [], []
    for k in range(7):
        n = int(rng.integers(0, 400))
        sizes = rng.integers(0, 30, n)
        pieces.append(
            pa.table(
                {
                    "u": np.arange(n, dtype=np.int64) + 1000 * k,
                    "a": pa.array(
                        [rng.integers(0, 2**32, m).astype(np.uint32) for m in sizes],
                        pa.list_(pa.uint32()),
                    ),
                }
            )
        )
        parts.append(rng.integers(0, 6, n))
    writer = PieceWriter(tmp_path / "pieces.parquet", "none")
    for piece, part in zip(pieces, parts):
        writer.add(piece, part)
    got_counts = writer.close()
    want_counts = write_partitioned(
        tmp_path / "whole.parquet", pa.concat_tables(pieces), np.concatenate(parts), "none"
    )
    assert got_counts == want_counts and sum(got_counts.values()) > 1000
    assert held_partitions(tmp_path / "pieces.parquet") == sorted(want_counts)
    for q in range(6):
        want = read_partition([tmp_path / "whole.parquet"], q)
        got = read_partition([tmp_path / "pieces.parquet"], q)
        assert got.equals(want)
        batches = list(iter_partition([tmp_path / "pieces.parquet"], q))
        assert pa.Table.from_batches(batches).equals(want)
    # nothing added: an empty file of the schema given, which no partition reads
    empty = PieceWriter(tmp_path / "empty.parquet")
    empty.add(pieces[0].slice(0, 0), np.empty(0, np.int64))
    assert empty.empty
    assert empty.close(pieces[0].schema) == {}
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0
    assert read_partition([tmp_path / "empty.parquet"], 0) is None


@pytest.mark.parametrize("partitions", [2, 5])
def test_same_result_for_any_partition_count(corpus, tmp_path, partitions):
    root, _ = corpus
    one = run(root, tmp_path / "one", DEDUP, partitions=1)
    many = run(root, tmp_path / "many", DEDUP, workers=2, partitions=partitions)
    assert stable(one) == stable(many)
    for a, b in zip(one["stages"], many["stages"]):
        assert {k: v for k, v in a["decision"].items() if k != "seconds"} == {
            k: v for k, v in b["decision"].items() if k != "seconds"
        }
    assert sorted(ids_in(tmp_path / "one" / "data")) == sorted(ids_in(tmp_path / "many" / "data"))
    assert removed_pairs(tmp_path / "one") == removed_pairs(tmp_path / "many")


def test_exact_dedup_equals_brute_force(tmp_path):
    """Random texts with planted copies (case, width and spacing changed) in 6 shards: the removed
    rows are exactly every text whose normalised form came earlier (by dump, date, id)."""
    rng = random.Random(3)
    words = ["alpha", "beta", "gamma", "delta", "ＡＢＣ", "数据", "curate", "shard"]
    base = [" ".join(rng.choices(words, k=8)) for _ in range(300)]
    rows = []
    for i in range(900):
        t = rng.choice(base)
        t = rng.choice([t, t.upper(), "  " + t.replace(" ", "\n ")])
        rows.append((f"doc-{i:04d}", t, f"CC-{rng.randint(1, 3)}", f"2023-0{rng.randint(1, 9)}"))
    (tmp_path / "in").mkdir()
    for s in range(6):
        part = rows[s::6]
        pq.write_table(
            pa.table(
                {
                    "id": [r[0] for r in part],
                    "text": [r[1] for r in part],
                    "dump": [r[2] for r in part],
                    "date": [r[3] for r in part],
                }
            ),
            tmp_path / "in" / f"in-{s}.parquet",
        )

    def norm(t: str) -> str:
        return " ".join(unicodedata.normalize("NFKC", t).lower().split())

    best: dict[str, tuple] = {}
    for r in rows:
        key = (r[2], r[3], r[0])  # the survival order of every dedup stage: dump, date, id
        if norm(r[1]) not in best or key < best[norm(r[1])][0]:
            best[norm(r[1])] = (key, r[0])
    want = sorted((r[0], best[norm(r[1])][1]) for r in rows if best[norm(r[1])][1] != r[0])
    out = tmp_path / "out"
    report = run(tmp_path / "in", out, [{"exact_dedup": {}}], workers=2, partitions=4)
    assert removed_pairs(out)["exact_dedup"] == want
    assert report["stages"][0]["decision"]["duplicate_groups"] == len({d for _, d in want})


def test_decisions_are_parquet_and_json_never_pickles(corpus, tmp_path):
    root, _ = corpus
    stages = [*DEDUP, {"remix": {"temperature": 2.0}}]
    run(root, tmp_path / "out", stages, partitions=3, keep_work=True)
    work = tmp_path / "out" / "_work" / "decisions"
    assert not list(work.rglob("*.pkl"))
    assert list((work / "exact_dedup").glob("part-*.parquet"))
    assert json.loads((work / "remix" / "decision.json").read_text())


def test_partitions_setting_is_validated(corpus, tmp_path):
    from curate.errors import ConfigError

    root, _ = corpus
    with pytest.raises(ConfigError, match="partitions must be a positive integer"):
        run(root, tmp_path / "out", DEDUP, partitions=0)


def test_keyed_barrier_over_more_than_2_gib_of_ids(tmp_path):
    """23,000 documents with 100,000-character ids: the id column at the barrier holds 2.3e9
    bytes, past the 2^31 that 32-bit offsets can address (pyarrow's take and concatenation then
    raise 'offset overflow'). Every second document repeats the one before."""
    n, width = 23_000, 100_000
    (tmp_path / "in").mkdir()
    writer = pq.ParquetWriter(
        tmp_path / "in" / "big.parquet",
        pa.schema([("id", pa.string()), ("text", pa.string())]),
        compression="zstd",
    )
    for start in range(0, n, 1_000):
        rows = range(start, start + 1_000)
        writer.write_table(
            pa.table(
                {
                    # padded by Arrow (utf8_rpad), not a Python string per row
                    "id": pc.utf8_rpad(pa.array([f"{i:08d}" for i in rows]), width, "x"),
                    "text": [f"page number {i // 2} of the corpus" for i in rows],
                }
            )
        )
    writer.close()
    assert n * width > 2**31
    out = tmp_path / "out"
    report = run(tmp_path / "in", out, [{"exact_dedup": {}}], batch_size=1_000)
    decision = report["stages"][0]["decision"]
    assert decision["documents"] == n and decision["duplicates"] == n // 2
    removed = pq.read_table(out / "removed" / "exact_dedup", columns=["id", "duplicate_of"])
    assert removed.num_rows == n // 2
    first = removed.slice(0, 1).to_pylist()[0]
    assert first["id"][:8] == "00000001" and first["duplicate_of"][:8] == "00000000"


def test_a_barrier_with_no_rows_reports_zero_counters(tmp_path):
    """Every row quarantined: the keyed barriers still state their counters, at zero."""
    (tmp_path / "in").mkdir()
    pq.write_table(
        pa.table({"text": pa.array([None, ""], pa.string()), "url": ["http://a", "http://b"]}),
        tmp_path / "in" / "a.parquet",
    )
    report = run(tmp_path / "in", tmp_path / "out", DEDUP, workers=2, partitions=3)
    url, exact = (s["decision"] for s in report["stages"])
    assert url["documents"] == url["duplicates"] == url["without_url"] == 0
    assert exact["documents"] == exact["duplicates"] == exact["duplicate_groups"] == 0
    assert report["totals"]["docs_quarantined"] == 2
