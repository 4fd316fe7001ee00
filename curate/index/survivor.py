"""Which copy of a duplicate survives: one total order of documents, shared by the dedup stages.

``keep`` names the order; the survivor of a group or cluster is its first document in it:

* ``earliest``: dump ascending, then date ascending (the first crawl of a page stays);
* ``latest``: date descending, then dump descending (the freshest copy stays);
* ``longest``: text length descending, then as ``earliest``.

Ties are broken by the smallest id, so the order depends only on the documents, never on shard
order or worker count: a dump deduplicated through an index gets the same survivors as the same
dumps deduplicated together. Missing dates or dumps sort after every present one.

Restricted to one dump, the order is the same whichever other dumps are present; the index relies
on this to number a dump's documents once (their *ordinal*) and refer to them forever after.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Keep = Literal["earliest", "latest", "longest"]


def survival_order(table: pa.Table, keep: str) -> np.ndarray:
    """Row indices of ``table`` (columns id, dump, date, and length for ``longest``), best first."""
    keys = sort_keys(keep)
    cols = {name: table.column(name) for name, _ in keys}
    order = pc.sort_indices(pa.table(cols), sort_keys=[(k, o, "at_end") for k, o in keys])
    return order.to_numpy()


def sort_keys(keep: str) -> list[tuple[str, str]]:
    """The survival order as Arrow sort keys (nulls at the end), ties broken by the id."""
    if keep == "earliest":
        keys = [("dump", "ascending"), ("date", "ascending")]
    elif keep == "latest":
        keys = [("date", "descending"), ("dump", "descending")]
    elif keep == "longest":
        keys = [("length", "descending"), ("dump", "ascending"), ("date", "ascending")]
    else:
        raise ValueError(f"keep must be earliest, latest or longest, got {keep!r}")
    keys.append(("id", "ascending"))
    return keys


def rank_of(order: np.ndarray) -> np.ndarray:
    """rank[i] = position of row i in ``order``."""
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return rank


def group_survivor(group: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """For each row, the row (an index into ``group``) that survives its group: the one of
    smallest ``rank``. Rows of a group of one survive themselves."""
    by = np.lexsort((rank, group))
    first = np.ones(len(by), bool)
    first[1:] = group[by][1:] != group[by][:-1]
    survivor = np.empty(len(by), np.int64)
    survivor[by] = by[np.maximum.accumulate(np.where(first, np.arange(len(by)), 0))]
    return survivor
