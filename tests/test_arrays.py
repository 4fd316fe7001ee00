from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from curate.arrays import distinct


@given(
    hnp.arrays(
        st.sampled_from([np.int64, np.uint64, np.uint32]),
        hnp.array_shapes(min_dims=1, max_dims=2, max_side=40),
        elements=st.integers(0, 50),
    )
)
def test_distinct_is_np_unique(values):
    assert np.array_equal(distinct(values), np.unique(values))
