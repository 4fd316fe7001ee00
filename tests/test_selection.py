"""curate.selection: the k-th smallest values found by histogram, then window by window, equal
np.sort's, whatever the spans, the round budget, ties and magnitudes."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from curate import selection

finite = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False, allow_infinity=False)
values = st.one_of(
    st.lists(finite, min_size=1, max_size=300),
    st.lists(st.sampled_from([1.0, 2.0, 2.0000000000000004, 1e-30, 5e20]), min_size=1),
    st.lists(st.floats(min_value=100, max_value=101), min_size=1, max_size=300),
)


def search(groups: dict[str, np.ndarray], ranks: dict[str, list[int]], cap: int, parts: int):
    """Drive a RankSearch as a stage does: each group's values cut into ``parts`` spans."""
    found = selection.RankSearch(cap)
    for key, v in groups.items():
        counts = np.bincount(selection.fine_bins(v), minlength=len(selection.FINE_EDGES) - 1)
        found.start(key, counts, float(v.min()), float(v.max()), ranks[key])
    while not found.done:
        request, merged = found.request(), {}
        for key, v in groups.items():
            for span in np.array_split(v, parts):
                if key in request:
                    selection.merge_parts(merged, selection.window_parts(span, request[key]))
        found.update(merged)
        assert found.largest_round <= cap
    return found


@settings(max_examples=150, deadline=None)
@given(
    a=values,
    b=values,
    cap=st.integers(1, 64),
    parts=st.integers(1, 5),
    data=st.data(),
)
def test_rank_search_equals_sorting(a, b, cap, parts, data):
    groups = {"a": np.array(a), "b": np.array(b)}
    ranks = {
        k: data.draw(st.lists(st.integers(0, len(v) - 1), min_size=1, max_size=6))
        for k, v in groups.items()
    }
    found = search(groups, ranks, cap, parts)
    for key, v in groups.items():
        ordered = np.sort(v)
        for r in ranks[key]:
            value, at_or_below = found.found[key][r]
            assert value == ordered[r]
            assert at_or_below == int((v <= ordered[r]).sum())


def test_spans_group_whole_files():
    class Files:  # the shape of CollectedFiles: row offsets of its files
        starts = np.array([0, 100, 150, 400, 410, 1000])
        num_rows = 1000

    assert selection.spans(Files(), rows=200) == [(0, 400), (400, 1000)]
    assert selection.spans(Files(), rows=10_000) == [(0, 1000)]

    class Table:
        num_rows = 450

    assert selection.spans(Table(), rows=200) == [(0, 200), (200, 400), (400, 450)]


def test_span_memory_is_what_the_largest_span_reads(tmp_path):
    """A span's task declares the stored bytes of its files, decompressed (task_memory); keys
    held in memory declare nothing."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curate.collected import CollectedFiles, CollectedTable
    from curate.executors.base import task_memory

    paths = []
    for i, rows in enumerate([300, 50, 700]):
        paths.append(tmp_path / f"part-{i:05d}.parquet")
        scores = np.random.default_rng(i).random(rows)
        pq.write_table(
            pa.table({"_shard": pa.array([i] * rows, pa.int32()), "s": scores}), paths[-1]
        )
    collected = CollectedFiles(paths, tmp_path / "scratch")
    spans = selection.spans(collected, rows=320)
    assert spans == [(0, 350), (350, 1050)]
    size = [p.stat().st_size for p in paths]
    assert selection.span_memory(collected, spans) == task_memory(max(size[0] + size[1], size[2]))
    assert selection.span_memory(collected, spans[:1]) == task_memory(size[0] + size[1])
    table = CollectedTable(pq.read_table(paths[0]))
    assert selection.span_memory(table, selection.spans(table)) is None
