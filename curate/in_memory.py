"""One stage over in-memory shards, by the runner's protocol, for tests and quick checks.

A streaming stage processes every batch. A global stage goes through the runner's two passes:
every shard's batches are annotated, ``_row`` (the row's position in its shard) is added and the
stage collects its keys with ``_shard`` and ``_row`` (``pipeline._with_positions``, as a shard
task does); the barrier decides over every shard's keys at once (``decide``; the keys of shards
without rows are left out, as ``CollectedFiles`` skips their files); each shard then gets its
part of the decision (a JSON decision makes the round trip the runner's decision file makes)
and the stage applies it to the annotated batches, which carry ``_row`` again. The verdicts are
split into kept and removed rows as the runner does (removed rows carry ``reason`` and the
verdict's extra columns; added rows follow the kept ones).

The runner itself (``run_pipeline``) adds files, executors and resume to this; tests that need
those run it on Parquet in a temporary folder.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from curate.stages.base import ROW, Stage, Verdict


@dataclass
class InMemoryRun:
    """What one stage did to each shard (lists indexed by shard)."""

    kept: list[pa.Table] = field(default_factory=list)
    removed: list[pa.Table] = field(default_factory=list)  # with reason and the extra columns
    added: list[pa.Table] = field(default_factory=list)
    verdicts: list[list[tuple[pa.RecordBatch, Verdict]]] = field(default_factory=list)
    decisions: list[Any] = field(default_factory=list)  # each shard's part, as apply got it
    decision: Any = None
    summary: dict[str, Any] | None = None  # the barrier's (global stages)

    def removed_rows(self) -> list[dict[str, Any]]:
        """Every removed row, shard by shard, as dicts."""
        return [row for table in self.removed for row in table.to_pylist()]


def run_in_memory(
    stage: Stage,
    shards: Sequence[pa.Table | pa.RecordBatch],
    batch_size: int | None = None,
    partitions: int | None = None,
) -> InMemoryRun:
    """Run ``stage`` over ``shards`` (one table each, read in batches of ``batch_size`` rows,
    default: as the table is chunked). ``partitions``: the run's hash partitions, as the
    runner's ``partitions:`` gives the barrier (default: ``decide``'s own)."""
    parts = [pa.Table.from_batches([s]) if isinstance(s, pa.RecordBatch) else s for s in shards]
    batches = [list(p.to_batches(max_chunksize=batch_size)) for p in parts]
    out = InMemoryRun()
    if stage.kind != "global":
        for part in batches:
            out.verdicts.append([(b, stage.process(b)) for b in part])
    else:
        from curate.pipeline import _with_positions

        annotated: list[list[pa.RecordBatch]] = []
        keys: list[pa.Table] = []
        for s, part in enumerate(batches):
            annotated.append([])
            shard_keys = []
            start = 0
            for batch in part:  # annotated, then _row added, as a shard task does
                batch = stage.annotate(batch)
                rows = pa.array(range(start, start + batch.num_rows), pa.int64())
                batch = batch.append_column(ROW, rows)
                start += batch.num_rows
                annotated[-1].append(batch)
                shard_keys.append(_with_positions(stage.collect(batch), batch, s))
            if shard_keys:
                keys.append(pa.concat_tables(shard_keys, promote_options="default"))
        keys = [k for k in keys if k.num_rows] or keys[:1]
        table = pa.concat_tables(keys, promote_options="default")
        if partitions is None:
            decision, out.summary = stage.decide(table)
        else:
            from curate.collected import CollectedTable, run_here

            collected = CollectedTable(table)
            collected.partitions = partitions
            decision, out.summary = stage.barrier(collected, run_here)
        if not stage.decision_per_shard and decision is not None:
            decision = json.loads(json.dumps(decision))  # as the runner stores it
        out.decision = decision
        for s, part in enumerate(annotated):
            mine = stage.decision_for_shard(decision, s)
            out.decisions.append(mine)
            out.verdicts.append([(b, stage.apply(b, mine)) for b in part])
    for part, verdicts in zip(parts, out.verdicts):
        kept, removed, added = _split(part, verdicts)
        out.kept.append(kept)
        out.removed.append(removed)
        out.added.append(added)
    return out


def _split(
    part: pa.Table, verdicts: list[tuple[pa.RecordBatch, Verdict]]
) -> tuple[pa.Table, pa.Table, pa.Table]:
    kept, removed, added = [], [], []
    for _, verdict in verdicts:
        gone = pc.is_valid(verdict.reason)
        batch = verdict.batch
        if ROW in batch.schema.names:
            batch = batch.drop_columns([ROW])
        kept.append(pa.Table.from_batches([batch.filter(pc.invert(gone))]))
        rows = batch.filter(gone).append_column("reason", verdict.reason.filter(gone))
        for name, column in verdict.extra.items():
            rows = rows.append_column(name, column.filter(gone))
        removed.append(pa.Table.from_batches([rows]))
        if verdict.added is not None:
            more = verdict.added
            if ROW in more.schema.names:
                more = more.drop_columns([ROW])
            added.append(pa.Table.from_batches([more]))

    def joined(tables: list[pa.Table]) -> pa.Table:
        # a shard without rows: its own (empty) columns
        return pa.concat_tables(tables, promote_options="default") if tables else part.slice(0, 0)

    return joined(kept), joined(removed), joined(added)
