"""exact_dedup: remove documents whose normalised text is identical to another's.

Normalisation: Unicode NFKC, lowercase, runs of whitespace collapsed to one space, trimmed; so
copies that differ only in case, full-width forms or line wrapping count as one text. The
fingerprint is the 64-bit xxh3 hash of the normalised UTF-8 bytes (a collision among 10^9
documents has probability ~3%; dedup at that scale should use MinHash anyway).

Which copy survives follows ``keep``: ``earliest`` (by date, then dump, then input order) keeps
the first crawl of a page, as cross-dump dedup does; ``latest`` keeps the freshest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from xxhash import xxh3_64_intdigest

from curate.stages.base import (
    ROW,
    SHARD,
    KeyedDedup,
    column_or_nulls,
    register,
)


@dataclass
class ExactDedupConfig:
    keep: Literal["earliest", "latest"] = "earliest"  # DeepSeek: a later dump's copy goes
    normalize: bool = True  # NFKC + lowercase + collapsed whitespace before hashing


def normalize_text(text: pa.Array) -> pa.Array:
    text = pc.utf8_normalize(text, "NFKC")
    text = pc.utf8_lower(text)
    text = pc.replace_substring_regex(text, r"\s+", " ")
    return pc.utf8_trim_whitespace(text)


def content_hash(text: pa.Array) -> pa.Array:
    return pa.array([xxh3_64_intdigest(s.encode("utf-8")) for s in text.to_pylist()], pa.uint64())


def survivors(keys: pa.Table, group_column: str, keep: str) -> pa.Table:
    """Removal table (_shard, _row, duplicate_of) for every row that is not its group's first.

    The survivor is the earliest (or latest) by date, then dump, then input order; a row with no
    date or dump sorts after every dated one either way.
    """
    direction = "ascending" if keep == "earliest" else "descending"
    missing = "\uffff" if keep == "earliest" else ""  # sorts last in the chosen direction
    sortable = pa.table(
        {
            "group": keys.column(group_column),
            "date": pc.fill_null(keys.column("date"), missing),
            "dump": pc.fill_null(keys.column("dump"), missing),
            SHARD: keys.column(SHARD),
            ROW: keys.column(ROW),
        }
    )
    order = pc.sort_indices(
        sortable,
        sort_keys=[
            ("group", "ascending"),
            ("date", direction),
            ("dump", direction),
            (SHARD, "ascending"),
            (ROW, "ascending"),
        ],
    )
    keys = keys.take(order)
    groups = keys.column(group_column).to_numpy()
    n = len(groups)
    is_first = np.ones(n, dtype=bool)
    is_first[1:] = groups[1:] != groups[:-1]
    first_pos = np.maximum.accumulate(np.where(is_first, np.arange(n), 0))
    dup = ~is_first
    survivor_ids = pc.take(keys.column("id"), pa.array(first_pos[dup]))
    return pa.table(
        {
            SHARD: keys.column(SHARD).filter(pa.array(dup)),
            ROW: keys.column(ROW).filter(pa.array(dup)),
            "duplicate_of": survivor_ids,
        }
    )


@register
class ExactDedup(KeyedDedup):
    name = "exact_dedup"
    Config = ExactDedupConfig
    kind = "global"
    key_column = "hash"

    def collect(self, batch: pa.RecordBatch) -> pa.Table:
        text = batch.column("text")
        if self.config.normalize:
            text = normalize_text(text)
        cols = {
            "hash": content_hash(text),
            "id": batch.column("id"),
            "date": column_or_nulls(batch, "date"),
            "dump": column_or_nulls(batch, "dump"),
            ROW: batch.column(ROW),
        }
        return pa.table(cols)

    def reduce(self, keys: pa.Table) -> tuple[pa.Table, dict[str, Any]]:
        removals = survivors(keys, "hash", self.config.keep)
        removals = removals.append_column(
            "reason", pa.array(["exact_duplicate"] * removals.num_rows, pa.string())
        )
        summary = {
            "documents": keys.num_rows,
            "duplicate_groups": pc.count_distinct(removals.column("duplicate_of")).as_py(),
            "duplicates": removals.num_rows,
        }
        return removals, summary
