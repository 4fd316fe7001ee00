"""The runner: plans passes around global stages, runs shards through them, keeps the accounts.

A pipeline is cut into passes at its global stages. Pass k reads each shard (the raw input for
pass 0, pass k-1's output after that), applies the decision of the global stage that closed
pass k-1, runs the streaming stages that follow, and annotates + collects keys for the next
global stage. Between passes the runner calls that stage's ``decide`` once: the barrier.

Every file appears complete or not at all (temporary name, then rename), and a shard's pass is
done when its marker (its counters, as JSON) exists, so ``--resume`` skips finished work and the
final numbers do not depend on where a run was interrupted.
"""

from __future__ import annotations

import json
import math
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate import __version__, accounting, storage
from curate.collected import CollectedFiles
from curate.config import PipelineConfig, StageSpec
from curate.errors import CurateError, InputError, failpoint
from curate.executors import Executor
from curate.executors.base import TASK_BASE_MEMORY, task_memory
from curate.io import (
    AtomicParquetWriter,
    BadFile,
    InputFile,
    Shard,
    atomic_write_bytes,
    discover_files,
    plan_shards,
    read_footer,
    read_input_file,
    read_work_shard,
    shown,
)
from curate.shuffle import (
    gather_decisions,
    partition_of,
    read_partition,
    write_json,
    write_segments,
)
from curate.stages.base import ROW, SHARD, DecisionFiles, KeyedDedup, Stage, merge_counts

WORK = "_work"
# A keyed barrier gets one hash partition per this much input (Parquet bytes) unless the pipeline
# sets ``partitions``: about 750,000 documents of the sample's kind per reduce task, which with
# ``index:`` hold ~460 B each (url_dedup's decide task: 621 MB at 1.2 M documents a partition, 254
# at 300,000, on the sample x 100), so that a task stays below the shard tasks' ~0.5 GB (2 GiB
# before: 1.2 M documents a task at 3.6 GB of input; 4 GiB before that).
PARTITION_INPUT_BYTES = 1 << 30
# What a reduce task of a keyed barrier holds per row of its partition, at most (url_dedup's
# decide task with ``index:``, the largest: the keys, ids and dumps, their ordinals and handles,
# the survivors' sort; ~460 B measured, above)
KEY_ROW_BYTES = 480
# Shards whose decision files one task writes after a keyed barrier.
SHARDS_PER_GROUP = 256
# quarantine/_bad_files/part-*.parquet: one record per input file that could not be used (the
# leading _ keeps dataset readers of quarantine/, curate's own input discovery too, on the rows)
BAD_FILE_SCHEMA = pa.schema(
    [
        ("path", pa.string()),
        ("error", pa.string()),
        ("size_bytes", pa.int64()),
        ("rows", pa.int64()),
        ("rows_unread", pa.int64()),
    ]
)
# what a run (or `curate report --compare`, which writes compare.html) puts in its output dir
OWNED = (
    "data",
    "removed",
    "quarantine",
    WORK,
    "report.json",
    "report.md",
    "report.html",
    "compare.html",
)


@dataclass
class Pass:
    index: int
    apply: int | None = None  # global stage whose decision opens this pass
    streaming: list[int] = field(default_factory=list)
    collect: int | None = None  # global stage annotated and collected at the end of this pass


def plan_passes(kinds: list[str]) -> list[Pass]:
    passes = [Pass(0)]
    for i, kind in enumerate(kinds):
        if kind == "global":
            passes[-1].collect = i
            passes.append(Pass(len(passes), apply=i))
        else:
            passes[-1].streaming.append(i)
    return passes


@dataclass
class ShardTask:
    """Everything a worker needs for one shard in one pass; picklable, no open handles."""

    run_dir: str
    pass_index: int
    final: bool
    shard: Shard
    stages: list[tuple[str, str, dict[str, Any]]]  # (label, name, params) for the whole pipeline
    apply: int | None
    streaming: list[int]
    collect: int | None
    batch_size: int
    on_error: str
    partitions: int = 1  # hash partitions of the collected keys, when the collect stage is keyed


# ---------------------------------------------------------------- worker side

_STAGE_CACHE: dict[str, Stage] = {}
_DECISION_CACHE: dict[str, Any] = {}


def _stage(task: ShardTask | KeyedBarrier, i: int) -> Stage:
    """One instance per stage per worker process: models load once, not once per shard."""
    label, name, params = task.stages[i]
    key = json.dumps([label, name, params], sort_keys=True, default=str)
    if key not in _STAGE_CACHE:
        _STAGE_CACHE[key] = StageSpec(name, params, label).build()
    return _STAGE_CACHE[key]


def shard_part(shard: Shard) -> str:
    return f"part-{shard.index:05d}.parquet"


def run_shard(task: ShardTask) -> dict[str, Any]:
    """Run one shard through one pass. Returns (and persists) the shard's counters."""
    try:
        return _run_shard(task)
    except CurateError:
        raise
    except Exception as exc:  # unexpected: keep the traceback in the run dir, say where it was
        log = storage.path(task.run_dir) / WORK / "errors.log"
        entry = f"--- {task.shard.where} (pass {task.pass_index})\n{traceback.format_exc()}\n"
        try:
            if isinstance(log, storage.RemotePath):  # no append in a bucket: one object each
                log = log.with_name(f"errors-{task.pass_index}-{shard_part(task.shard)}.log")
                log.write_bytes(entry.encode())
            else:
                log.parent.mkdir(parents=True, exist_ok=True)
                with open(log, "a", encoding="utf-8") as f:
                    f.write(entry)
        except (OSError, CurateError):  # a full disk must not hide the error itself
            pass
        raise CurateError(
            f"{task.shard.where}: pass {task.pass_index} failed: {type(exc).__name__}: {exc} "
            f"(traceback in {log})"
        ) from None


def _run_shard(task: ShardTask) -> dict[str, Any]:
    run = storage.path(task.run_dir)
    part = shard_part(task.shard)
    work = run / WORK / f"pass-{task.pass_index}"
    t0 = time.perf_counter()
    result: dict[str, Any] = {"shard": task.shard.index, "stages": {}}
    stats = {task.stages[i][0]: accounting.new_stats() for i in _stage_indices(task)}
    removed_writers: dict[str, AtomicParquetWriter] = {}
    out_path = run / "data" / part if task.final else work / part
    out = AtomicParquetWriter(out_path)
    keyed = task.collect is not None and _keyed(_stage(task, task.collect))
    collect_writer = (
        AtomicParquetWriter(work / "collect" / part)
        if task.collect is not None and not keyed
        else None
    )
    keyed_parts: list[pa.Table] = []  # a keyed stage's keys, partitioned when the shard is done
    quarantine = AtomicParquetWriter(run / "quarantine" / part)
    result["input"] = {"docs": 0, "bytes": 0}
    result["quarantine"] = {"docs": 0, "by_error": {}, "files": []}
    decision = None
    if task.apply is not None:
        decision = _load_decision(run, task)
    rows_in = 0
    last_schema: pa.Schema | None = None
    try:
        for batch in _source_batches(task, result, quarantine):
            if task.apply is not None:
                batch = batch.append_column(
                    ROW, pa.array(range(rows_in, rows_in + batch.num_rows), pa.int64())
                )
            rows_in += batch.num_rows
            if task.apply is not None:
                stage = _stage(task, task.apply)
                batch = _run_stage(
                    task,
                    task.apply,
                    lambda b, s=stage: s.apply(b, decision),
                    batch,
                    stats,
                    removed_writers,
                )
                batch = batch.drop_columns([ROW])
            for i in task.streaming:
                batch = _run_stage(task, i, _stage(task, i).process, batch, stats, removed_writers)
            if task.collect is not None:
                stage = _stage(task, task.collect)
                label = task.stages[task.collect][0]
                t = time.perf_counter()
                batch = stage.annotate(batch)
                with_pos = batch.append_column(
                    ROW, pa.array(range(out.rows, out.rows + batch.num_rows), pa.int64())
                )
                keys = stage.collect(with_pos)
                keys = _with_positions(keys, with_pos, task.shard.index)
                stats[label]["seconds"] += time.perf_counter() - t
                if keyed:
                    keyed_parts.append(keys)
                else:
                    collect_writer.write(keys)
            out.write(batch)
            last_schema = batch.schema
        out.close(schema=last_schema or pa.schema([("id", pa.string()), ("text", pa.string())]))
        if collect_writer is not None:
            collect_writer.close(schema=pa.schema([(SHARD, pa.int32()), (ROW, pa.int64())]))
        if keyed:
            stage = _stage(task, task.collect)
            _write_keyed(
                work / "collect" / part, stage, keyed_parts, task.shard.index, task.partitions
            )
        for w in removed_writers.values():
            w.close()
        quarantine.close()
    except BaseException:
        for w in (out, collect_writer, quarantine, *removed_writers.values()):
            if w is not None:
                w.abort()
        raise
    result["stages"] = stats
    result["rows_out"] = out.rows
    result["seconds"] = time.perf_counter() - t0
    failpoint("shard_done")
    atomic_write_bytes(work / "done" / f"{part}.json", json.dumps(result).encode())
    return result


def _keyed(stage: Stage) -> bool:
    return isinstance(stage, KeyedDedup) and stage.keyed()


def _write_keyed(
    path: Path, stage: KeyedDedup, parts: list[pa.Table], shard: int, partitions: int
) -> None:
    """One shard's keys, one row group per partition of the key (``stage.key_partitions``; rows
    without a key are spread by position: they never meet another row)."""
    if parts:
        keys = pa.concat_tables(parts, promote_options="default")
    else:  # an empty shard still gets the schema, so that every reduce task knows it
        keys = pa.table({SHARD: pa.array([], pa.int32()), ROW: pa.array([], pa.int64())})
    if stage.key_column in keys.column_names:
        key = keys.column(stage.key_column)
        spread = np.uint64(shard << 40) + keys.column(ROW).to_numpy().astype(np.uint64)
        values = pc.fill_null(key, 0).to_numpy().astype(np.uint64)
        valid = key.is_valid().to_numpy(zero_copy_only=False)
        part = np.where(
            valid, stage.key_partitions(values, partitions), partition_of(spread, partitions)
        )
    else:
        part = np.zeros(keys.num_rows, np.int64)
    write_segments(path, keys, part)  # each reduce task reads its segment, not the footer


def _stage_indices(task: ShardTask) -> list[int]:
    out = [task.apply] if task.apply is not None else []
    out += task.streaming
    if task.collect is not None:
        out.append(task.collect)
    return out


def _with_positions(keys: pa.Table | pa.RecordBatch, batch: pa.RecordBatch, shard: int) -> pa.Table:
    if isinstance(keys, pa.RecordBatch):
        keys = pa.Table.from_batches([keys])
    if ROW not in keys.column_names:
        keys = keys.append_column(ROW, batch.column(ROW))
    return keys.add_column(0, SHARD, pa.array([shard] * keys.num_rows, pa.int32()))


def _source_batches(task: ShardTask, result: dict[str, Any], quarantine: AtomicParquetWriter):
    """Batches of this pass's input; in pass 0, validate raw input and set bad rows aside."""
    run = storage.path(task.run_dir)
    if task.pass_index > 0:
        prev = run / WORK / f"pass-{task.pass_index - 1}" / shard_part(task.shard)
        yield from read_work_shard(prev, task.batch_size)
        return
    for file in task.shard.files:  # an unusable file is set aside alone, not its shard
        yield from _file_batches(task, file, result, quarantine)


def _file_batches(
    task: ShardTask, file: InputFile, result: dict[str, Any], quarantine: AtomicParquetWriter
):
    try:
        for rb in read_input_file(file, task.batch_size):
            if rb.quarantined is not None:
                _quarantine_rows(result, quarantine, rb.quarantined)
            result["input"]["docs"] += rb.batch.num_rows
            result["input"]["bytes"] += accounting.text_bytes(rb.batch)
            if rb.batch.num_rows:
                yield rb.batch
    except BadFile as exc:
        if task.on_error == "fail":
            raise
        record = {
            "path": file.shown,
            "error": str(exc),
            "size_bytes": file.size,
            "rows": exc.rows,  # what its footer declares, None when the footer is unreadable
            "rows_unread": exc.rows_unread,
        }
        result["quarantine"]["files"].append(record)
        # quarantine/ names every file it lost, as Spark's badRecordsPath/bad_files/ does; one
        # record file per input file of the shard (a shard may group several files)
        k = task.shard.files.index(file)
        name = shard_part(task.shard).replace(".parquet", f"-{k:04d}.parquet")
        bad_files = storage.path(task.run_dir, "quarantine", "_bad_files")
        writer = AtomicParquetWriter(bad_files / name)
        writer.write(pa.Table.from_pylist([record], schema=BAD_FILE_SCHEMA))
        writer.close()
        if exc.table is not None and exc.table.num_rows:
            table = exc.table
            table = table.append_column(
                "_source_row", pa.array(range(table.num_rows), pa.int64())
            ).append_column("error", pa.array([str(exc)] * table.num_rows, pa.string()))
            table = table.append_column(
                "source_file", pa.array([file.shown] * table.num_rows, pa.string())
            )
            _quarantine_rows(result, quarantine, table, file_level=True)


def _quarantine_rows(
    result: dict[str, Any], writer: AtomicParquetWriter, rows: pa.Table, file_level: bool = False
) -> None:
    q = result["quarantine"]
    q["docs"] += rows.num_rows
    if not file_level:
        for err in rows["error"].to_pylist():
            kind = err.split(" (")[0]
            q["by_error"][kind] = q["by_error"].get(kind, 0) + 1
    else:
        q["by_error"]["unusable file"] = q["by_error"].get("unusable file", 0) + rows.num_rows
    writer.write(rows)


def _run_stage(task, i, fn, batch, stats, removed_writers) -> pa.RecordBatch:
    label = task.stages[i][0]
    t = time.perf_counter()
    verdict = fn(batch)
    stats[label]["seconds"] += time.perf_counter() - t
    out_batch = verdict.batch
    removed_mask = pc.is_valid(verdict.reason)
    kept = out_batch.filter(pc.invert(removed_mask))
    accounting.count_verdict(stats[label], batch, kept, removed_mask, verdict.reason)
    accounting.add_extra(stats[label], verdict.stats)
    if kept.num_rows != out_batch.num_rows:
        removed = out_batch.filter(removed_mask)
        if ROW in removed.schema.names:
            removed = removed.drop_columns([ROW])
        removed = removed.append_column("reason", verdict.reason.filter(removed_mask))
        for name, column in verdict.extra.items():
            removed = removed.append_column(name, column.filter(removed_mask))
        if label not in removed_writers:
            removed_writers[label] = AtomicParquetWriter(
                storage.path(task.run_dir) / "removed" / label / shard_part(task.shard)
            )
        removed_writers[label].write(removed)
    if verdict.added is not None and verdict.added.num_rows:
        added = verdict.added
        if ROW in added.schema.names:
            added = added.drop_columns([ROW])
        if ROW in kept.schema.names:
            added = added.append_column(ROW, pa.nulls(added.num_rows, pa.int64()))
        stats[label]["docs_added"] += added.num_rows
        stats[label]["docs_out"] += added.num_rows
        stats[label]["bytes_added"] += accounting.text_bytes(added)
        stats[label]["bytes_out"] += accounting.text_bytes(added)
        kept = pa.Table.from_batches([kept, added.select(kept.schema.names)]).combine_chunks()
        kept = kept.to_batches()[0]
    return kept


def _decision_dir(run: Path, label: str) -> Path:
    return run / WORK / "decisions" / label


def _load_decision(run: Path, task: ShardTask) -> Any:
    """This shard's part of the decision that opens the pass: its Parquet table of rows (None
    when the decision names none of its rows), or the stage's one JSON document."""
    stage = _stage(task, task.apply)  # type: ignore[arg-type]
    ddir = _decision_dir(run, task.stages[task.apply][0])  # type: ignore[index]
    if not stage.decision_per_shard:
        path = ddir / "decision.json"
        if str(path) not in _DECISION_CACHE:
            _DECISION_CACHE.clear()  # one decision at a time per worker
            _DECISION_CACHE[str(path)] = json.loads(path.read_text())
        return _DECISION_CACHE[str(path)]
    path = ddir / f"part-{task.shard.index:05d}.parquet"
    if not path.exists():
        if not (ddir / "summary.json").exists():
            raise CurateError(f"{ddir}: the decision is incomplete (no summary.json)")
        return None
    return pq.read_table(storage.source(path))


# ---------------------------------------------------------------- driver side


def run_pipeline(
    config: PipelineConfig,
    executor: Executor,
    resume: bool = False,
    keep_work: bool = False,
) -> dict[str, Any]:
    """Run ``config`` over its input into its output directory; return the report dict."""
    from curate.report import build_report, write_reports

    t_start = time.perf_counter()
    run = storage.path(config.output)
    files = discover_files(config.input, config.jsonl)
    _check_apart(run, config.input, files)
    footers = [read_footer(f) for f in files]  # one read of each footer: fingerprint and plan
    shards = plan_shards(files, footers, config.shard_rows)
    stages = [spec.build() for spec in config.stages]
    passes = plan_passes([s.kind for s in stages])
    fingerprint = {
        "curate_version": __version__,
        "config": config.fingerprint(),
        "inputs": [[shown(f.relpath), footer.fingerprint] for f, footer in zip(files, footers)],
    }
    _prepare_output(run, fingerprint, resume)
    stage_triples = [(s.label, s.name, s.params) for s in config.stages]
    partitions = config.partitions or max(
        1, math.ceil(sum(f.size for f in files) / PARTITION_INPUT_BYTES)
    )
    timings: list[dict[str, Any]] = []
    results_by_pass: list[list[dict[str, Any]]] = []
    decisions: dict[str, dict[str, Any]] = {}
    for p in passes:
        t_pass = time.perf_counter()
        final = p.index == len(passes) - 1
        done_dir = run / WORK / f"pass-{p.index}" / "done"
        results: list[dict[str, Any]] = []
        todo: list[ShardTask] = []
        for shard in shards:
            marker = done_dir / f"{shard_part(shard)}.json"
            if resume and marker.exists():
                results.append(json.loads(marker.read_text()))
                continue
            todo.append(
                ShardTask(
                    str(run),
                    p.index,
                    final,
                    shard,
                    stage_triples,
                    p.apply,
                    p.streaming,
                    p.collect,
                    config.batch_size,
                    config.on_error,
                    partitions,
                )
            )
        names = [
            stage_triples[i][0]
            for i in ([p.apply] if p.apply is not None else [])
            + p.streaming
            + ([p.collect] if p.collect is not None else [])
        ]
        desc = f"pass {p.index + 1}/{len(passes)} " + (", ".join(names) or "read")
        results.extend(executor.map(run_shard, todo, desc=desc))
        executor.release()  # each phase's workers start without the last phase's peak
        results.sort(key=lambda r: r["shard"])
        results_by_pass.append(results)
        entry: dict[str, Any] = {"pass": p.index, "stages": names, "shards_run": len(todo)}
        if p.collect is not None:
            label = stage_triples[p.collect][0]
            t = time.perf_counter()
            decisions[label] = _decide(
                run, stages[p.collect], stage_triples, p.collect, shards, p.index, resume,
                executor, partitions, sum(r.get("rows_out", 0) for r in results),
            )  # fmt: skip
            executor.release()
            entry["decide_seconds"] = round(time.perf_counter() - t, 3)
        if p.index > 0 and not keep_work:
            storage.rmtree(run / WORK / f"pass-{p.index - 1}" / "collect")
            failpoint("pass_cleanup")
            for shard in shards:
                (run / WORK / f"pass-{p.index - 1}" / shard_part(shard)).unlink(missing_ok=True)
        entry["seconds"] = round(time.perf_counter() - t_pass, 3)
        timings.append(entry)
    if not keep_work:  # decision summaries stay: a resumed run reports from them
        for ddir in (run / WORK / "decisions").glob("*"):
            for path in [*ddir.glob("part-*.parquet"), ddir / "decision.json"]:
                path.unlink(missing_ok=True)
            storage.rmtree(ddir / "reduce")
        for p in passes[:-1]:
            storage.rmtree(run / WORK / f"pass-{p.index}" / "collect")
    # a task killed mid-way and run again (a worker that died) leaves its temporary files
    _clean_temporaries(run)
    failpoint("before_report")
    report = build_report(
        config,
        stages,
        shards,
        files,
        results_by_pass,
        decisions,
        fingerprint,
        executor.describe(),
        timings,
        time.perf_counter() - t_start,
    )
    write_reports(run, report)
    return report


def _decide(
    run: Path,
    stage: Stage,
    stage_triples: list[tuple[str, str, dict[str, Any]]],
    index: int,
    shards: list[Shard],
    pass_index: int,
    resume: bool,
    executor: Executor,
    partitions: int,
    rows: int = 0,
) -> dict[str, Any]:
    """The barrier of the global stage ``index`` over the ``rows`` its pass collected: its
    decision files, and its summary."""
    label = stage_triples[index][0]
    ddir = _decision_dir(run, label)
    summary_path = ddir / "summary.json"
    if resume and summary_path.exists():
        return json.loads(summary_path.read_text())
    collect_dir = run / WORK / f"pass-{pass_index}" / "collect"
    t = time.perf_counter()
    failpoint("decide")
    if _keyed(stage):
        spec = KeyedBarrier(
            str(run), stage_triples, index, str(collect_dir), len(shards), partitions, rows=rows
        )
        summary = _keyed_barrier(spec, resume, executor)
    else:
        paths = [collect_dir / shard_part(s) for s in shards]
        scratch = ddir / "scratch"

        def run_tasks(fn: Any, tasks: Any, *, memory: int | None = None, cpus: float = 1) -> Any:
            return executor.map(fn, tasks, desc=f"{label} decide", memory=memory, cpus=cpus)

        decision, summary = stage.barrier(
            CollectedFiles(paths, scratch, ddir, partitions), run_tasks
        )
        storage.rmtree(scratch)
        if isinstance(decision, DecisionFiles):  # the barrier's tasks wrote them
            pass
        elif stage.decision_per_shard:
            for shard in shards:
                part = stage.decision_for_shard(decision, shard.index)
                if part is not None and part.num_rows:
                    _write_decision(ddir / f"part-{shard.index:05d}.parquet", part)
                failpoint("decision_file")
        else:
            write_json(ddir / "decision.json", decision)
    summary = {**summary, "seconds": round(time.perf_counter() - t, 3)}
    atomic_write_bytes(summary_path, json.dumps(summary).encode())
    return summary


def _write_decision(path: Path, table: pa.Table) -> None:
    writer = AtomicParquetWriter(path)
    writer.write(table)
    writer.close()


# ---------------------------------------------------------------- keyed barrier (reduce tasks)


@dataclass
class KeyedBarrier:
    """What the reduce and gather tasks of one keyed barrier need; small and picklable: paths
    are derived from the run directory and the shard count, never listed."""

    run_dir: str
    stages: list[tuple[str, str, dict[str, Any]]]
    index: int
    collect_dir: str
    shards: int
    partitions: int
    part: int = -1  # the partition (reduce) or shard group (gather) of one task
    rows: int = 0  # the rows the shard tasks collected (0: not known)

    @property
    def decisions(self) -> Path:
        return _decision_dir(storage.path(self.run_dir), self.stages[self.index][0])

    def collect_files(self) -> list[Path]:
        folder = storage.path(self.collect_dir)
        return [folder / f"part-{i:05d}.parquet" for i in range(self.shards)]

    def reduce_file(self, p: int) -> Path:
        return self.decisions / "reduce" / f"part-{p:05d}.parquet"


def _keyed_barrier(spec: KeyedBarrier, resume: bool, executor: Executor) -> dict[str, Any]:
    """Reduce tasks decide one hash partition each; gather tasks then write each shard's
    decision file from one row group per partition. The driver only sums small summaries.
    A stage with a cross-dump index runs curate.index.keyed's rounds instead."""
    label = spec.stages[spec.index][0]
    if _stage(spec, spec.index).indexed():
        from curate.index.keyed import indexed_barrier

        return indexed_barrier(spec, executor)
    summaries, todo = [], []
    for p in range(spec.partitions):
        done = spec.reduce_file(p).with_suffix(".json")
        if resume and done.exists():
            summaries.append(json.loads(done.read_text()))
        else:
            todo.append(_with_part(spec, p))
    memory = _reduce_memory(spec)
    summaries.extend(executor.map(_reduce_partition, todo, desc=f"{label} reduce", memory=memory))
    groups = math.ceil(spec.shards / SHARDS_PER_GROUP)
    todo = [
        _with_part(spec, g)
        for g in range(groups)
        if not (resume and (spec.decisions / "reduce" / f"group-{g:05d}.json").exists())
    ]
    for _ in executor.map(_gather_group, todo, desc=f"{label} decision files"):
        pass
    return merge_counts(summaries) or zero_counts(spec)


def zero_counts(spec: KeyedBarrier) -> dict[str, Any]:
    """The stage's counters at zero (no shard had a row)."""
    stage = _stage(spec, spec.index)
    empty = pa.record_batch(
        {
            "id": pa.array([], pa.string()),
            "text": pa.array([], pa.string()),
            ROW: pa.array([], pa.int64()),
        }
    )
    keys = stage.collect(empty)
    keys = keys.append_column(SHARD, pa.array([], pa.int32()))
    return stage.reduce(keys)[1]


class InProcess:
    """An executor that runs tasks one after another in this process."""

    def map(
        self, fn: Any, tasks: Any, desc: str = "", memory: int | None = None, cpus: float = 1
    ) -> Any:
        return (fn(t) for t in tasks)

    def release(self) -> None:
        pass


def decide_keyed_here(
    stage: KeyedDedup, collected: pa.Table, partitions: int = 3, executor: Executor | None = None
) -> tuple[dict[int, pa.Table], dict[str, Any]]:
    """A keyed barrier over ``collected`` (collect's rows with _shard, _row) in this process
    (or on ``executor``), through the same files and tasks as a run: each shard's keys written
    partitioned, the barrier, the decision files read back as {shard: removals}."""
    import dataclasses
    import tempfile

    with tempfile.TemporaryDirectory(prefix="curate-decide-") as tmp:
        run = Path(tmp)
        collect_dir = run / WORK / "pass-0" / "collect"
        shard_of = collected.column(SHARD).to_numpy() if collected.num_rows else np.zeros(0)
        shards = int(shard_of.max()) + 1 if len(shard_of) else 0
        for s in range(shards):
            rows = collected.filter(pa.array(shard_of == s))
            _write_keyed(collect_dir / f"part-{s:05d}.parquet", stage, [rows], s, partitions)
        params = dataclasses.asdict(stage.config)
        triples = [(stage.name, stage.name, params)]
        spec = KeyedBarrier(
            str(run), triples, 0, str(collect_dir), shards, partitions, rows=collected.num_rows
        )
        summary = _keyed_barrier(spec, False, executor or InProcess())
        decision = {
            s: pq.read_table(path)
            for s in range(shards)
            if (path := spec.decisions / f"part-{s:05d}.parquet").exists()
        }
        return decision, summary


def _reduce_memory(spec: KeyedBarrier) -> int:
    """What one reduce task may hold: its share of the collected keys, decompressed, or
    ``KEY_ROW_BYTES`` per row of its share, whichever is more (hashes and numbered ids compress
    to ~20 B a row on disk, so the bytes alone said 365 MB for a task that took 621)."""
    collected = sum(p.stat().st_size for p in spec.collect_files() if p.exists())
    share = -(-spec.rows // spec.partitions)
    return max(task_memory(collected // spec.partitions), TASK_BASE_MEMORY + KEY_ROW_BYTES * share)


def _with_part(spec: KeyedBarrier, part: int) -> KeyedBarrier:
    return KeyedBarrier(**{**spec.__dict__, "part": part})


def _reduce_partition(spec: KeyedBarrier) -> dict[str, Any]:
    """One partition: its keys from every shard, the stage's ``reduce``, the removals written
    by group of shards."""
    stage = _stage(spec, spec.index)
    keys = read_partition(spec.collect_files(), spec.part)
    if keys is None:  # no shard has keys in this partition
        removals, summary = None, {}
    else:
        removals, summary = stage.reduce(keys)
    out = spec.reduce_file(spec.part)
    if removals is not None and removals.num_rows:
        shard = removals.column(SHARD).to_numpy()
        write_segments(out, removals, shard // SHARDS_PER_GROUP)
    failpoint("reduce_partition")
    write_json(out.with_suffix(".json"), summary)
    return summary


def _gather_group(spec: KeyedBarrier) -> None:
    """The decision files of one group of shards, from that group's row group of every
    partition's removals."""
    files = [spec.reduce_file(p) for p in range(spec.partitions)]
    gather_decisions(files, spec.part, spec.decisions)
    write_json(spec.decisions / "reduce" / f"group-{spec.part:05d}.json", {"group": spec.part})


def _same_run(run: Path, marker: Path, fingerprint: dict[str, Any]) -> None:
    """A resumed run continues only the run whose pipeline and input made ``marker``."""
    previous = json.loads(marker.read_text())
    if previous != fingerprint:
        what = "pipeline" if previous.get("config") != fingerprint["config"] else "input"
        raise CurateError(
            f"{run}: cannot --resume: the {what} changed since that run started "
            f"(fingerprint in {marker}); run without --resume to start over"
        )


def _prepare_output(run: Path, fingerprint: dict[str, Any], resume: bool) -> None:
    """Make ``run`` ready: refuse to clobber foreign files, check a resumed run is the same run.
    In a bucket, ``run`` is this run's own prefix (``curate.storage.RunFolder``), new or its own
    from before a kill: nothing to clear."""
    marker = run / WORK / "run.json"
    if isinstance(run, storage.RemotePath):
        if resume and marker.exists():
            _same_run(run, marker, fingerprint)
            return
        storage.rmtree(run)  # a fresh run under a prefix that was used: start it empty
        atomic_write_bytes(marker, json.dumps(fingerprint, indent=1).encode())
        return
    if run.exists() and not run.is_dir():
        raise InputError(f"{run}: output path exists and is not a directory")
    if resume and marker.exists():
        _same_run(run, marker, fingerprint)
        _clean_temporaries(run)
        return
    if run.exists():
        foreign = [p.name for p in run.iterdir() if p.name not in OWNED]
        if foreign:
            raise CurateError(
                f"{run}: output directory holds files curate did not write "
                f"({', '.join(sorted(foreign)[:5])}); choose an empty or new directory"
            )
        for name in OWNED:
            target = run / name
            if target.is_symlink():  # remove the link, never what it points to
                target.unlink()
            elif target.is_dir():
                shutil.rmtree(target)
            elif target.exists():
                target.unlink()
    try:
        run.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(marker, json.dumps(fingerprint, indent=1).encode())
    except OSError as exc:
        raise CurateError(f"{run}: cannot write the output directory ({exc.strerror})") from None


def _check_apart(run: Path, inputs: list[str], files: list[InputFile]) -> None:
    """Input and output never overlap: a fresh run clears its output, and a later run must not
    read an earlier run's output as input."""
    if isinstance(run, storage.RemotePath):  # its own prefix, which no input names
        return
    out = run.resolve()
    for spec in inputs:
        if Path(spec).is_dir() and out.is_relative_to(Path(spec).resolve()):
            raise InputError(
                f"{run}: the output directory is inside the input directory {spec}; a later run "
                "would read this run's output as input (choose an output outside it)"
            )
    for file in files:
        if Path(file.path).resolve().is_relative_to(out):
            raise InputError(
                f"{file.shown}: this input lies inside the output directory {run}, which a run "
                "clears (choose an output outside the input)"
            )


def _clean_temporaries(run: Path) -> None:
    """A killed run may leave .tmp files behind; a resumed run removes them (in a bucket there
    are none: a file is written locally, then uploaded whole)."""
    if storage.is_remote(run):
        return
    for path in run.rglob(".*.tmp"):
        path.unlink(missing_ok=True)
