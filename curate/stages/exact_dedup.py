"""exact_dedup: remove documents whose normalised text is identical to another's.

Normalisation: Unicode NFKC, lowercase, runs of whitespace collapsed to one space, trimmed; so
copies that differ only in case, full-width forms or line wrapping count as one text. The
fingerprint is the 64-bit xxh3 hash of the normalised UTF-8 bytes (a collision among 10^9
documents has probability ~3%; dedup at that scale should use MinHash anyway).

Which copy survives follows ``keep``, in the order every dedup stage shares
(curate.index.survivor): ``earliest`` (by dump, then date, then id) keeps the first crawl of a
page, as cross-dump dedup does; ``latest`` keeps the freshest; ``longest`` the longest text.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.index.survivor import Keep, group_survivor, rank_of, survival_order
from curate.shuffle import take_rows
from curate.stages.base import (
    ROW,
    SHARD,
    KeyedDedup,
    column_or_nulls,
    register,
)
from curate.xxh3 import xxh3_64


@dataclass
class ExactDedupConfig:
    keep: Keep = "earliest"  # DeepSeek: a later dump's copy goes
    normalize: bool = True  # NFKC + lowercase + collapsed whitespace before hashing


def normalize_text(text: pa.Array) -> pa.Array:
    text = pc.utf8_normalize(text, "NFKC")
    text = pc.utf8_lower(text)
    text = pc.replace_substring_regex(text, r"\s+", " ")
    return pc.utf8_trim_whitespace(text)


def content_hash(text: pa.Array) -> pa.Array:
    """xxh3-64 of each text's UTF-8 bytes, columnar (curate.xxh3: xxhash's values)."""
    return pa.array(xxh3_64(text), pa.uint64())


def survivors(keys: pa.Table, group_column: str, keep: str) -> pa.Table:
    """Removal table (_shard, _row, duplicate_of) for every row that is not its group's best, in
    the survival order every dedup stage shares (curate.index.survivor)."""
    rank = rank_of(survival_order(keys, keep))
    survivor = group_survivor(keys.column(group_column).to_numpy(), rank)
    gone = np.flatnonzero(survivor != np.arange(len(survivor)))
    # in the order of their survivors: the ids are then taken chunk by chunk, only the
    # survivors' (take_rows), never a copy of the whole id column (every consumer sorts)
    gone = gone[np.argsort(survivor[gone], kind="stable")]
    return pa.table(
        {
            SHARD: pa.array(keys.column(SHARD).to_numpy()[gone]),
            ROW: pa.array(keys.column(ROW).to_numpy()[gone]),
            "duplicate_of": take_rows(keys.select(["id"]), survivor[gone]).column("id"),
            "_survivor": pa.array(survivor[gone]),  # its row in ``keys`` (counts the groups)
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
        cols = {
            "hash": content_hash(normalize_text(text) if self.config.normalize else text),
            "id": batch.column("id"),
            "date": column_or_nulls(batch, "date"),
            "dump": column_or_nulls(batch, "dump"),
            ROW: batch.column(ROW),
        }
        if self.config.keep == "longest":
            cols["length"] = pc.utf8_length(text)
        return pa.table(cols)

    def reduce(self, keys: pa.Table) -> tuple[pa.Table, dict[str, Any]]:
        removals = survivors(keys, "hash", self.config.keep)
        # groups with a removal: their distinct survivor rows (no hash table of the ids)
        groups = len(np.unique(removals.column("_survivor").to_numpy()))
        removals = removals.drop_columns(["_survivor"])
        removals = removals.append_column(
            "reason", pa.array(["exact_duplicate"] * removals.num_rows, pa.string())
        )
        summary = {
            "documents": keys.num_rows,
            "duplicate_groups": groups,
            "duplicates": removals.num_rows,
        }
        return removals, summary
