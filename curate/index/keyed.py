"""A keyed dedup barrier through the cross-dump index, as tasks (url_dedup with ``index:``).

No process holds a dump. Under the index lock the driver runs, on the executor:

1. ordinals (curate.index.ordinals): every run row's ordinal in its dump, by a distributed sort;
   the same rounds give each dump's size and id fingerprint, which ``DedupIndex.plan`` needs;
2. decide, one task per key partition (the collect files' row groups: key ranges, so that a
   task's keys meet a narrow slice of the index): the stage's ``reduce_indexed`` looks the keys
   up in the committed dumps (one index partition and piece at a time), picks survivors, returns
   its removals and each row's root handle; the task writes the removals (as any keyed barrier)
   but those whose survivor is a committed document, which it sends by handle range of that
   document (curate.index.store.HandleRanges), its key pieces of each new dump into the staged
   dump folder, and (ordinal, id, root) of the new dumps' rows by ordinal range;
3. with committed dumps, one task per handle range reads its survivors' ids (the docs pieces
   its range reaches, those rows only) and writes those removals with ``duplicate_of``;
4. the decision files per group of shards, and the docs pieces, one task per ordinal range,
   each writing its range of each new dump's (id, root) in ordinal order;
5. the driver writes each new dump's meta.json (its manifest of pieces) and renames: the commit.

A task is shipped only its share of the index's manifest: a key range's task the key pieces
that reach its range (``for_key_range``, no docs pieces), a handle range's task the docs pieces
that reach its range (``for_handle_range``), as minhash_dedup's barrier does
(curate.dedup.lsh_barrier); so what a task is shipped and reads grows with its range, not with
the dumps committed. The driver holds the sample of splitter rows, ranges x dumps counts and
the pieces' names. A run interrupted inside the barrier redoes it (the next lock removes the
staged folders).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate import storage
from curate.errors import CurateError, failpoint
from curate.index.ordinals import OrdinalJob, dump_ordinals, ordinals_of, read_ordinals
from curate.index.store import (
    CommittedDump,
    HandleRanges,
    ReadMeter,
    doc_column,
    for_handle_range,
    for_key_range,
    handle_ranges,
    make_handle,
    write_docs,
    write_partition,
)
from curate.shuffle import gather_decisions, read_partition, write_json, write_segments
from curate.stages.base import SHARD, SURVIVOR

INDEX_PARTITION_SHIFT = np.uint64(60)  # a key's index partition: its top 4 bits (16 partitions)


@dataclass
class IndexedBarrier:
    """What the decide and docs tasks need (picklable; paths, names and small lists)."""

    barrier: Any  # curate.pipeline.KeyedBarrier
    ordinals: OrdinalJob
    reference: list[CommittedDump]
    seq_of: dict[str, int]  # every run dump's handle sequence number (new ones: as planned)
    staged: dict[str, str]  # new dump -> its staged folder in the index
    part: int = -1
    first: dict[str, Any] = field(default_factory=dict)  # dump -> {range: first ordinal}
    # the committed documents by handle range (None: no dump committed before the run's)
    handles: HandleRanges | None = None

    def docs_file(self, p: int) -> Path:
        return storage.path(self.ordinals.work, "docs", f"part-{p:05d}.parquet")

    def wanted_file(self, p: int) -> Path:
        """Key partition ``p``'s removals whose survivor is committed, by handle range."""
        return storage.path(self.ordinals.work, "wanted", f"part-{p:05d}.parquet")

    def committed_file(self, r: int) -> Path:
        """Handle range ``r``'s removals with their survivors' ids, by group of shards."""
        return storage.path(self.ordinals.work, "committed", f"part-{r:05d}.parquet")


def indexed_barrier(spec: Any, executor: Any) -> dict[str, Any]:
    """The barrier of ``spec`` (a curate.pipeline.KeyedBarrier whose stage has an index)."""
    from curate.pipeline import SHARDS_PER_GROUP, _reduce_memory, _stage, zero_counts

    stage = _stage(spec, spec.index)
    label = spec.stages[spec.index][0]
    index = stage.open_index()
    work = spec.decisions / "index"
    storage.rmtree(work)  # an interrupted barrier is redone whole
    storage.rmtree(spec.decisions / "reduce")
    memory = _reduce_memory(spec)

    def run(fn: Any, tasks: list[Any]) -> Any:
        return executor.map(fn, tasks, desc=f"{label} {fn.__name__.strip('_')}", memory=memory)

    job = OrdinalJob(
        spec.collect_dir,
        spec.shards,
        spec.partitions,
        spec.partitions,
        stage.config.keep,
        str(work / "ordinals"),
        what=label,
    )
    with index.locked():
        survey = dump_ordinals(job, run)
        reference, new, seq_of, staged = plan_commit(index, survey.fingerprints)
        handles = handle_ranges(reference, spec.partitions) if reference else None
        task = IndexedBarrier(spec, job, reference, seq_of, staged, handles=handles)
        # each task gets only what it needs of the index: a key range's decide task the key
        # pieces reaching its range, a handle range's task the docs pieces reaching its
        # range, an ordinal range's docs task none
        decide = [
            replace(
                task,
                part=p,
                reference=list(for_key_range(reference, p, spec.partitions, docs=False)),
            )
            for p in range(spec.partitions)
        ]
        results = list(run(_decide, decide))
        bytes_read = 0
        for n in run(
            _committed_ids,
            [
                replace(
                    task,
                    part=r,
                    reference=list(for_handle_range(reference, handles, r, arrays=False)),
                )
                for r in range(handles.count if handles is not None else 0)
            ],
        ):
            bytes_read += n
        groups = math.ceil(spec.shards / SHARDS_PER_GROUP)
        for _ in executor.map(
            _gather,
            [replace(task, part=g, reference=[]) for g in range(groups)],
            desc=f"{label} files",
        ):
            pass
        pieces: dict[str, list] = {name: [] for name in new}
        for found in run(
            _docs,
            [
                replace(
                    task,
                    part=r,
                    reference=[],
                    first={name: {r: f[r]} for name, f in survey.first.items()},
                )
                for r in range(job.ranges)
            ],
        ):
            for name, piece in found.items():
                pieces[name].append(piece)
        summary: dict[str, Any] = _merge([r["summary"] for r in results]) or zero_counts(spec)
        bytes_read += summary.pop("index_bytes_read", 0)
        removed = summary.pop("removed_in_new_dumps", {})
        commit_dumps(
            index,
            new,
            survey,
            staged,
            seq_of,
            pieces,
            {name: [tuple(p) for r in results for p in r["parts"].get(name, [])] for name in new},
            {name: {"removed": int(removed.get(name, 0))} for name in new},
        )
    storage.rmtree(work)
    summary["index"] = {
        "path": str(stage.config.index),
        "deduplicated_against": [d.name for d in reference],
        "committed": new,
        "already_committed": sorted(set(survey.docs) - set(new)),
        "bytes_read": int(bytes_read) + index.bytes_read,
    }
    return summary


def plan_commit(
    index: Any, fingerprints: dict[str, str]
) -> tuple[list[Any], list[str], dict[str, int], dict[str, str]]:
    """Under the index's lock, for a run whose dumps have these fingerprints: the committed dumps
    it is deduplicated against, the new dumps it commits, every dump's sequence number (the new
    ones after the index's last) and a staged folder per new dump (``commit_dumps`` commits
    them)."""
    reference, new = index.plan(fingerprints)
    seq_of = {d.name: d.seq for d in index.dumps()}
    top = max(seq_of.values(), default=0)
    seq_of.update({name: top + 1 + i for i, name in enumerate(new)})
    staged = {name: str(index.begin_commit()) for name in new}
    return reference, new, seq_of, staged


def commit_dumps(
    index: Any,
    new: list[str],
    survey: Any,
    staged: dict[str, str],
    seq_of: dict[str, int],
    pieces: dict[str, list],
    parts: dict[str, list],
    stats: dict[str, dict[str, Any]],
    arrays: dict[str, list] | None = None,
) -> None:
    """Commit each new dump whose pieces tasks wrote into its staged folder (docs ``pieces``,
    key ``parts``, per-document ``arrays``): its manifest in meta.json, then the rename
    (``DedupIndex.commit_pieces``), in the planned order. The one commit path of the barriers
    that run as tasks (url_dedup, minhash_dedup). Call under the index lock."""
    for name in new:
        if sum(p[1] for p in pieces.get(name, [])) != survey.docs[name]:
            raise CurateError(f"{index.root}: dump {name!r}: docs pieces incomplete")
        entry = index.commit_pieces(
            name,
            survey.fingerprints[name],
            storage.path(staged[name]),
            pieces.get(name, []),
            parts.get(name, []),
            stats=stats.get(name),
            arrays=(arrays or {}).get(name),
        )
        if entry.seq != seq_of[name]:
            raise CurateError(f"{index.root}: another run committed to the index meanwhile")


def _merge(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    from curate.stages.base import merge_counts

    return merge_counts([s for s in summaries if s])


def _decide(task: IndexedBarrier) -> dict[str, Any]:
    """Key partition ``task.part``: decide its rows through the index; write its removals, its
    key pieces of each new dump, and (dump, ordinal, id, root) of the new dumps' rows by range."""
    from curate.pipeline import SHARDS_PER_GROUP, _stage

    spec, p = task.barrier, task.part
    stage = _stage(spec, spec.index)
    rows = read_partition(spec.collect_files(), p)
    out = spec.reduce_file(p)
    result: dict[str, Any] = {"part": p, "summary": {}, "parts": {}}
    docs_schema = pa.schema(
        [
            ("dump", pa.large_string()),
            ("ordinal", pa.int64()),
            ("id", pa.large_string()),
            ("root", pa.int64()),
        ]
    )
    if rows is None or not rows.num_rows:
        write_segments(task.docs_file(p), docs_schema.empty_table(), np.zeros(0, np.int64))
        write_json(out.with_suffix(".json"), {})
        return result
    ordinal, ranges = ordinals_of(rows, read_ordinals(task.ordinals, p))
    enc = pc.dictionary_encode(rows.column("dump")).combine_chunks()
    names = enc.dictionary.to_pylist()
    code = enc.indices.to_numpy()
    handle = make_handle(np.array([task.seq_of[n] for n in names], np.int64)[code], ordinal)
    meter = ReadMeter()
    removals, root, summary = stage.reduce_indexed(rows, task.reference, handle, meter)
    is_removed = np.zeros(rows.num_rows, bool)
    is_removed[_removed_rows(rows, removals)] = True
    survivor = removals.column(SURVIVOR).to_numpy()
    of_committed = survivor >= 0
    if of_committed.any():  # their survivors' ids: by handle range (``_committed_ids``)
        assert task.handles is not None
        wanted = removals.filter(pa.array(of_committed))
        write_segments(task.wanted_file(p), wanted, task.handles.part(survivor[of_committed]))
    removals = removals.filter(pa.array(~of_committed)).drop_columns([SURVIVOR])
    if removals.num_rows:
        shard = removals.column(SHARD).to_numpy()
        write_segments(out, removals, shard // SHARDS_PER_GROUP)
    key = rows.column(stage.key_column)
    has_key = key.is_valid().to_numpy(zero_copy_only=False)
    keys = pc.fill_null(key, 0).to_numpy().astype(np.uint64)
    new_rows, removed_new = [], {}
    for c, name in enumerate(names):
        if name not in task.staged:
            continue
        mine = code == c
        sel = mine & has_key
        part_of = keys[sel] >> INDEX_PARTITION_SHIFT
        pieces = []
        for q in np.unique(part_of):
            at = part_of == q
            folder = storage.path(task.staged[name])
            pieces.append(write_partition(folder, int(q), keys[sel][at], ordinal[sel][at], piece=p))
            failpoint("index_part")
        result["parts"][name] = [list(x) for x in pieces]
        removed_new[name] = int(is_removed[mine].sum())
        new_rows.append(np.flatnonzero(mine))
    at = np.concatenate([np.empty(0, np.int64), *new_rows])
    docs = pa.table(
        {
            "dump": rows.column("dump").take(pa.array(at)).cast(pa.large_string()),
            "ordinal": pa.array(ordinal[at], pa.int64()),
            "id": rows.column("id").take(pa.array(at)).cast(pa.large_string()),
            "root": pa.array(root[at], pa.int64()),
        },
        schema=docs_schema,
    )
    write_segments(task.docs_file(p), docs, ranges[at])
    summary = {**summary, "index_bytes_read": meter.bytes, "removed_in_new_dumps": removed_new}
    failpoint("reduce_partition")
    write_json(out.with_suffix(".json"), summary)
    result["summary"] = summary
    return result


def _committed_ids(task: IndexedBarrier) -> int:
    """Handle range ``task.part``: the removals whose survivor is a committed document of that
    range, from every key partition, with ``duplicate_of`` = that document's id (read from the
    docs pieces this task was shipped, only the rows asked), by group of shards. Returns the
    bytes read from the index."""
    from curate.pipeline import SHARDS_PER_GROUP

    spec = task.barrier
    rows = read_partition([task.wanted_file(p) for p in range(spec.partitions)], task.part)
    if rows is None or not rows.num_rows:
        return 0
    handle = rows.column(SURVIVOR).to_numpy()
    distinct, which = np.unique(handle, return_inverse=True)
    meter = ReadMeter()
    ids = doc_column(task.reference, distinct, "id", meter).take(pa.array(which))
    at = rows.schema.get_field_index("duplicate_of")
    rows = rows.drop_columns([SURVIVOR]).set_column(
        at, "duplicate_of", ids.cast(rows.schema.field(at).type)
    )
    shard = rows.column(SHARD).to_numpy()
    write_segments(task.committed_file(task.part), rows, shard // SHARDS_PER_GROUP)
    return meter.bytes


def _gather(task: IndexedBarrier) -> None:
    """The decision files of group of shards ``task.part``: that group's removals from every
    key partition and every handle range (as curate.pipeline's gather does for a keyed
    barrier without an index)."""
    spec = task.barrier
    count = task.handles.count if task.handles is not None else 0
    files = [spec.reduce_file(p) for p in range(spec.partitions)]
    files += [task.committed_file(r) for r in range(count)]
    gather_decisions(files, task.part, spec.decisions)
    write_json(spec.decisions / "reduce" / f"group-{task.part:05d}.json", {"group": task.part})


def _removed_rows(rows: pa.Table, removals: pa.Table) -> np.ndarray:
    from curate.index.ordinals import row_keys

    if not removals.num_rows:
        return np.empty(0, np.int64)
    have = row_keys(rows)
    order = np.argsort(have, kind="stable")
    return order[np.searchsorted(have[order], row_keys(removals))]


def _docs(task: IndexedBarrier) -> dict[str, list]:
    """Ordinal range ``task.part``: each new dump's (id, root) of that range, in ordinal order,
    as one docs piece; returns {dump: [first ordinal, rows, file]}."""
    files = [task.docs_file(p) for p in range(task.barrier.partitions)]
    rows = read_partition(files, task.part)
    found: dict[str, list] = {}
    if rows is None or not rows.num_rows:
        return found
    rows = rows.sort_by([("dump", "ascending"), ("ordinal", "ascending")])
    enc = pc.dictionary_encode(rows.column("dump")).combine_chunks()
    code = enc.indices.to_numpy()
    ordinal = rows.column("ordinal").to_numpy()
    for c, name in enumerate(enc.dictionary.to_pylist()):
        at = np.flatnonzero(code == c)
        first = task.first[name][task.part]
        if not np.array_equal(ordinal[at], np.arange(first, first + len(at))):
            raise CurateError(f"{name}: ordinals of range {task.part} are not contiguous")
        piece = rows.take(pa.array(at))
        file = write_docs(
            storage.path(task.staged[name]),
            piece.column("id").combine_chunks(),
            piece.column("root").to_numpy(),
            piece=task.part,
        )
        found[name] = [first, len(at), file]
    return found
