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
