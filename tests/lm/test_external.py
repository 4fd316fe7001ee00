"""The external-memory estimator against the in-memory one: the same ARPA, byte for byte, for
every budget, from one chunk for everything down to a few dozen elements per chunk (dozens of
sorted runs, k-way merges, several ranges for the random accesses)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curate.lm.arpa import write_arpa
from curate.lm.external import Budget, Column, estimate_external, sort_with_order
from curate.lm.kneser_ney import SPECIALS, estimate


def both_arpas(
    ids: np.ndarray, lengths: np.ndarray, vocab_size: int, order: int, memory: int, tmp: Path
) -> tuple[bytes, bytes, list[str]]:
    """(in-memory ARPA, external ARPA, files the external estimator left in its workdir)."""
    vocab = [*SPECIALS, *(f"w{i}" for i in range(len(SPECIALS), vocab_size))]
    write_arpa(estimate(ids, lengths, vocab_size, order), vocab, tmp / "memory.arpa")
    ids_column, lengths_column = Column(tmp / "ids", np.int32), Column(tmp / "lengths", np.int64)
    ids_column.append(ids)
    lengths_column.append(lengths)
    work = tmp / "work"
    work.mkdir()
    model = estimate_external(ids_column, lengths_column, vocab_size, order, work, memory)
    write_arpa(model, vocab, tmp / "external.arpa")
    left = sorted(p.name for p in work.iterdir())
    return (tmp / "memory.arpa").read_bytes(), (tmp / "external.arpa").read_bytes(), left


def zipf_corpus(seed: int, sentences: int, vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 30, sentences)  # empty sentences included
    ids = rng.zipf(1.3, int(lengths.sum())) % (vocab_size - 3) + 3
    return ids.astype(np.int32), lengths


@pytest.mark.parametrize("order", [1, 2, 3, 5])
@pytest.mark.parametrize("memory", [6_000, 200_000, 1 << 30])
def test_same_arpa_as_in_memory_for_any_budget(order, memory, tmp_path):
    ids, lengths = zipf_corpus(order, 700, 200)
    budget = Budget(memory)
    positions = int(lengths.sum()) + 2 * len(lengths)
    if memory == 6_000:  # the budget really forces dozens of runs and ranges
        assert positions // budget.positions > 100
    in_memory, external, left = both_arpas(ids, lengths, 200, order, memory, tmp_path)
    assert external == in_memory
    # only the model's arrays stay: no run, rank, per-position or scratch file
    assert not [name for name in left if "run" in name or "index" in name or "interp" in name]
    assert not [name for name in left if name.startswith(("seq", "left"))]


def test_context_with_more_words_than_a_chunk(tmp_path):
    """One context followed by every word of a 300-word vocabulary: more n-grams than the
    64-entry chunks of a tiny budget, so a chunk must stretch to the end of the context."""
    vocab_size = 303
    sentences = [[3, w] for w in range(4, vocab_size)] * 2 + [[w, 3, w] for w in range(5, 40)]
    ids = np.array([w for s in sentences for w in s], np.int32)
    lengths = np.array([len(s) for s in sentences])
    in_memory, external, _ = both_arpas(ids, lengths, vocab_size, 3, 1, tmp_path)
    assert Budget(1).entries < vocab_size - 4
    assert external == in_memory


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sentences=st.lists(st.lists(st.integers(3, 12), max_size=12), min_size=1, max_size=60),
    order=st.integers(1, 4),
    memory=st.sampled_from([1, 3_000, 1 << 20]),
)
def test_same_arpa_on_any_small_corpus(sentences, order, memory):
    ids = np.array([w for s in sentences for w in s], np.int32)
    lengths = np.array([len(s) for s in sentences])
    with tempfile.TemporaryDirectory() as tmp:
        in_memory, external, _ = both_arpas(ids, lengths, 13, order, memory, Path(tmp))
    assert external == in_memory


@settings(max_examples=60, deadline=None)
@given(
    keys=st.lists(st.integers(0, 2**40 - 1), max_size=300),
    wide=st.booleans(),
)
def test_sort_with_order_against_argsort(keys, wide):
    """Packed key+position sort (and the argsort fallback when they do not fit in 64 bits)."""
    values = np.array(keys, dtype=np.uint64)
    limit = 2**62 if wide else 2**40  # 62 bits + the position's bits: the fallback
    ordered, order = sort_with_order(values, limit)
    assert ordered.tolist() == sorted(keys)
    assert values[order].tolist() == sorted(keys)
    assert sorted(order.tolist()) == list(range(len(keys)))
