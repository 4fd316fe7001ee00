"""curate.xxh3 against the xxhash package, value by value."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from xxhash import xxh3_64_intdigest

from curate.xxh3 import xxh3_64

SAMPLE = Path(__file__).resolve().parents[1] / "sample_corpus"
# every length class of XXH3: 0, 1-3, 4-8, 9-16, 17-128, 129-240, and > 240 (partial and
# whole 1,024-byte blocks, a stripe boundary)
LENGTHS = [*range(0, 260), 1023, 1024, 1025, 2047, 2048, 2049, 4161, 70000]
SEEDS = [0, 1, 7, 123456789, 2**63 + 5, 2**64 - 1]


def _oracle(values: list[bytes], seed: int) -> np.ndarray:
    return np.array([xxh3_64_intdigest(v, seed) for v in values], np.uint64)


@pytest.mark.parametrize("seed", SEEDS)
def test_every_length_class_matches_xxhash(seed):
    rng = random.Random(seed % 1000)
    values = [rng.randbytes(n) for n in LENGTHS]
    assert (xxh3_64(pa.array(values, pa.binary()), seed) == _oracle(values, seed)).all()


def test_string_layouts_match_xxhash():
    """Strings (UTF-8 bytes), large_string, slices, chunks and nulls (hashed as empty)."""
    words = ["", "a", "ab", "naïve", "中文文本", "x" * 300, None, "dump=CC-MAIN-2023-06/part-1"]
    want = _oracle([(w or "").encode() for w in words], 3)
    arr = pa.array(words, pa.string())
    assert (xxh3_64(arr, 3) == want).all()
    assert (xxh3_64(arr.cast(pa.large_string()), 3) == want).all()
    assert (xxh3_64(arr.slice(2, 4), 3) == want[2:6]).all()
    assert (xxh3_64(pa.chunked_array([arr[:3], arr[3:], arr[:0]]), 3) == want).all()
    assert xxh3_64(pa.chunked_array([], pa.string()), 3).dtype == np.uint64


def test_sample_ids_match_the_per_row_hash():
    """What remix.id_hashes computed row by row before (xxh3_64_intdigest of the UTF-8 id)."""
    from curate.stages.remix import id_hashes

    files = sorted(SAMPLE.glob("dump=*/*.parquet"))
    ids = pa.chunked_array([pq.read_table(f, columns=["id"]).column("id") for f in files])
    for seed in (0, 42):
        want = _oracle([i.encode("utf-8") for i in ids.to_pylist()], seed)
        assert len(want) > 10000
        assert (id_hashes(ids, seed) == want).all()


def test_the_stages_hashes_are_xxhash_values():
    """exact_dedup's content hash, url_filter's domain hashes and minhash_dedup's cluster
    numbers use the kernel: the values the per-row xxhash calls gave (chunked, sliced, large)."""
    from curate.dedup.lsh_barrier import cluster_number
    from curate.stages.exact_dedup import content_hash
    from curate.stages.url_filter import hash_strings

    rng = random.Random(3)
    values = ["", "a", "héllo wörld 中文"] + [
        "".join(rng.choice("abcé中 ") for _ in range(rng.randint(0, 600))) for _ in range(2000)
    ]
    want = _oracle([v.encode() for v in values], 0)
    arr = pa.array(values)
    assert (np.asarray(content_hash(arr)) == want).all()
    assert (hash_strings(arr) == want).all() and (hash_strings(values) == want).all()
    chunked = pa.chunked_array([arr.slice(0, 100), arr.slice(100)]).cast(pa.large_string())
    number = (want >> np.uint64(1)).astype(np.int64)
    assert (np.asarray(cluster_number(chunked)) == number).all()
    assert (np.asarray(cluster_number(arr.slice(5, 50))) == number[5:55]).all()
