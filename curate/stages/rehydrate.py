"""rehydrate: up-sample the survivors of global dedup by the size of their duplicate cluster.

FineWeb-2 deduplicates each language globally, keeps one document per MinHash cluster with the
cluster's size in ``minhash_cluster_size``, and then "re-hydrates": a document from a cluster of
size N is repeated by a schedule of N (its README: 1 -> 1, 2 -> 2, 3-4 -> 3, 5-99 -> 5,
100-999 -> 8, 1000+ -> 1, since very large clusters are mostly spam and templates). The schedule
maps a cluster size to a number of copies; each size takes the entry of the largest key at or
below it (FineWeb-2's ``bisect``), so the keys must start at 1.

``minhash_dedup`` writes the column (with or without an ``index``); any column of positive integers
will do (``column``), e.g. FineWeb-2's own published ``minhash_cluster_size``. A row repeated k
times stays once as it was (``copy`` = 0) and gains k - 1 copies (``copy`` = 1 .. k - 1) with the
same id, as remix's repeats do: the id names the document, (id, copy) the row. The copies are added
rows in the report (``docs_added``), never removals; the counters give the rows and copies of each
schedule range (``rows:<range>``, ``copies:<range>``). Streaming, vectorised: one ``searchsorted``
and one ``take`` per batch.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.errors import CurateError
from curate.stages.base import Stage, Verdict, register

COPY = "copy"


def _fineweb2() -> dict[int, int]:
    # FineWeb-2 README, "Deduplication": cluster size at least key -> copies
    return {1: 1, 2: 2, 3: 3, 5: 5, 100: 8, 1000: 1}


@dataclass
class RehydrateConfig:
    schedule: dict[int, int] = field(default_factory=_fineweb2)  # FineWeb-2's weights
    column: str = "minhash_cluster_size"  # FineWeb-2's name; minhash_dedup writes it
    copy_column: str = COPY  # 0 for the original row, 1.. for its copies

    def validate(self) -> None:
        try:
            schedule = {int(k): v for k, v in self.schedule.items()}  # JSON keys are strings
        except (TypeError, ValueError):
            raise ValueError(
                f"schedule: keys must be cluster sizes (integers), got {list(self.schedule)}"
            ) from None
        bad = {k: v for k, v in schedule.items() if isinstance(v, bool) or not isinstance(v, int)}
        if bad or any(v < 1 for v in schedule.values()) or any(k < 1 for k in schedule):
            raise ValueError(
                f"schedule: sizes and copies must be integers of 1 or more, got {self.schedule}"
            )
        if 1 not in schedule:
            raise ValueError(
                f"schedule: needs an entry for size 1 (no duplicate), got {self.schedule}"
            )
        self.schedule = dict(sorted(schedule.items()))
        if not self.column or not self.copy_column or self.column == self.copy_column:
            raise ValueError("column and copy_column must be two different column names")


def ranges(schedule: dict[int, int]) -> list[str]:
    """Each schedule entry's range of cluster sizes: "1", "3-4", "1000+"."""
    keys = sorted(schedule)
    out = []
    for lo, hi in zip(keys, [*keys[1:], None]):
        out.append(f"{lo}+" if hi is None else str(lo) if hi == lo + 1 else f"{lo}-{hi - 1}")
    return out


@register
class Rehydrate(Stage):
    name = "rehydrate"
    Config = RehydrateConfig
    kind = "streaming"
    adds_columns = (COPY,)

    def __init__(self, config: RehydrateConfig) -> None:
        super().__init__(config)
        self.keys = np.array(sorted(config.schedule), np.int64)
        self.copies = np.array([config.schedule[k] for k in self.keys], np.int64)
        self.labels = ranges(config.schedule)

    def process(self, batch: pa.RecordBatch) -> Verdict:
        c = self.config
        names = batch.schema.names
        if c.column not in names:
            raise CurateError(
                f"rehydrate: the rows have no column '{c.column}' (minhash_dedup writes "
                f"minhash_cluster_size: run it first, or set column: to another one)"
            )
        if c.copy_column in names:
            raise CurateError(
                f"rehydrate: the rows already have a column '{c.copy_column}'; set copy_column:"
            )
        values = batch.column(c.column)
        if not (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
            raise CurateError(f"rehydrate: column '{c.column}' is {values.type}, not a size")
        size = pc.fill_null(values, 0).to_numpy(zero_copy_only=False)
        bad = np.flatnonzero((size < 1) | (size != np.floor(size)))
        if len(bad):
            row = int(bad[0])
            rid = batch.column("id")[row].as_py() if "id" in names else None
            raise CurateError(
                f"rehydrate: row {row} (id {rid!r}): {c.column} = {values[row].as_py()!r}, "
                f"not a cluster size (an integer of 1 or more); {len(bad)} such rows in the batch"
            )
        entry = np.searchsorted(self.keys, size.astype(np.int64), side="right") - 1
        copies = self.copies[entry]
        more = copies - 1
        n = batch.num_rows
        out = batch.append_column(c.copy_column, pa.array(np.zeros(n, np.int32)))
        added = None
        if more.any():
            take = np.repeat(np.arange(n), more)
            starts = np.repeat(np.cumsum(more) - more, more)
            copy = (np.arange(len(take)) - starts + 1).astype(np.int32)
            added = batch.take(pa.array(take)).append_column(c.copy_column, pa.array(copy))
        rows = np.bincount(entry, minlength=len(self.keys))
        extra = np.bincount(entry, weights=more, minlength=len(self.keys))
        stats: dict[str, float] = {}
        for label, r, e in zip(self.labels, rows, extra):
            if r:
                stats[f"rows:{label}"] = float(r)
                stats[f"copies:{label}"] = float(e)
        return Verdict(out, pa.nulls(n, pa.string()), stats=stats, added=added)
