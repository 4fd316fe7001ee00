"""The stage protocol: what a stage sees (Arrow record batches) and what it returns (a Verdict).

Two kinds of stage:

* streaming: ``process(batch) -> Verdict``, one batch at a time, on any worker;
* global: needs a view of the whole corpus before it can decide (dedup, percentiles). The runner
  calls ``annotate(batch)`` and ``collect(batch)`` on every shard, then the barrier, then
  ``apply(batch, decision)`` on every shard in the next pass. The barrier is declared by the
  stage's class: a ``KeyedDedup`` decides rows that share a key together, so reduce tasks decide
  one hash partition of the keys each and no process holds the corpus (curate.shuffle); any other
  global stage runs ``barrier(collected, run)``, which may start reduce tasks of its own
  (MinHash, SimHash) or, by default, calls ``decide`` on every shard's keys at once.

Stage code never opens files or knows which executor runs it: the runner plans passes, the
executor places shards. Scoring (annotate) is kept apart from deciding (a threshold, a survivor).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa

from curate.errors import ConfigError, did_you_mean

# Column the runner gives global stages: the row's position in its shard for this pass.
ROW = "_row"
SHARD = "_shard"
# with a cross-dump index, a removal's survivor when it is a committed document: its handle
# (curate.index.store; -1 when the survivor is a row of the run), ``duplicate_of`` then null
SURVIVOR = "_survivor"


@dataclass
class Verdict:
    """A stage's answer for one batch.

    ``batch`` is the input batch, possibly with columns added or ``text`` rewritten; ``reason`` is
    null for rows that stay and names why for rows that go. ``extra`` holds columns written only
    for removed rows (e.g. ``duplicate_of``). ``stats`` are counters the runner sums over shards.
    ``added`` holds new rows (e.g. remix's repeated copies, same schema as the kept rows) that
    follow the kept rows; the report counts them as ``docs_added``, apart from docs_in/docs_out.
    """

    batch: pa.RecordBatch
    reason: pa.Array
    extra: dict[str, pa.Array] = field(default_factory=dict)
    stats: dict[str, float] = field(default_factory=dict)
    added: pa.RecordBatch | None = None

    @classmethod
    def keep_all(cls, batch: pa.RecordBatch, stats: dict[str, float] | None = None) -> Verdict:
        return cls(batch, pa.nulls(batch.num_rows, pa.string()), stats=stats or {})


@dataclass(frozen=True)
class DecisionFiles:
    """A barrier's decision when its own tasks wrote each shard's decision file
    (``collected.decisions``/part-<shard>.parquet, a shard with no row to change has none):
    the runner writes nothing more, and no process held the whole decision."""

    folder: str


class Stage:
    """Base class for stages. Subclasses set ``name``, ``Config`` and ``kind``."""

    name: ClassVar[str]
    Config: ClassVar[type]
    kind: ClassVar[str] = "streaming"  # or "global"
    # Columns the stage adds to kept rows; listed by `curate stages`.
    adds_columns: ClassVar[tuple[str, ...]] = ()
    # The optional install extra (curate.extras.EXTRAS) whose packages the stage imports;
    # extra_for() names one that only some parameters need.
    extra: ClassVar[str | None] = None

    @classmethod
    def extra_for(cls, config: Any) -> str | None:
        """The extra this configuration needs (a stage whose model is optional may need none)."""
        return cls.extra

    def __init__(self, config: Any) -> None:
        self.config = config

    # streaming stages
    def process(self, batch: pa.RecordBatch) -> Verdict:
        raise NotImplementedError

    # global stages
    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """Add score columns before collection; they travel with the rows (default: none)."""
        return batch

    def collect(self, batch: pa.RecordBatch) -> pa.Table:
        """Keys this stage needs from the batch to decide; the runner adds _shard and _row."""
        raise NotImplementedError

    # How the runner stores a decision: False, one JSON document for every shard (thresholds,
    # rates); True, a Parquet table per shard from ``decision_for_shard`` (rows to remove).
    decision_per_shard: ClassVar[bool] = False

    def decide(self, collected: pa.Table) -> tuple[Any, dict[str, Any]]:
        """Return (decision, summary) from every shard's keys, held in memory."""
        raise NotImplementedError

    def barrier(self, collected: Any, run: Any) -> tuple[Any, dict[str, Any]]:
        """The barrier over ``collected`` (curate.collected.CollectedFiles); ``run(fn, tasks)``
        is the executor's map for reduce tasks. Returns (decision, summary): the decision in
        memory (the runner writes it, per shard or as JSON), or ``DecisionFiles`` when the
        barrier's tasks wrote every shard's file in ``collected.decisions`` themselves.
        Default: every shard's keys in this process."""
        return self.decide(collected.read(collected.column_names))

    def decision_for_shard(self, decision: Any, shard: int) -> Any:
        """The part of the decision one shard needs (a table when ``decision_per_shard``)."""
        return decision

    def apply(self, batch: pa.RecordBatch, decision: Any) -> Verdict:
        """Turn the decision into a verdict for one batch; ``batch`` carries the _row column."""
        raise NotImplementedError


REGISTRY: dict[str, type[Stage]] = {}

# Names fixed by the foundation issue, implemented by later ones.
PLANNED: dict[str, str] = {
    "url_dedup": "URL normalisation + dedup across dumps",
    "minhash_dedup": "MinHash-LSH near-duplicate removal across dumps",
    "simhash_dedup": "SimHash sentence/paragraph boilerplate removal",
    "perplexity_filter": "KenLM perplexity filter, thresholds per domain",
    "pii_scrub": "presidio PII scrubbing, English and Chinese",
    "language_id": "fastText language identification",
    "domain_classify": "domain classification from hints, URL rules and fastText",
    "remix": "domain remixing by target weights or temperature",
}


def register(cls: type[Stage]) -> type[Stage]:
    REGISTRY[cls.name] = cls
    return cls


def _check_type(value: Any, annotation: Any, where: str) -> Any:
    """Light type check of a YAML value against a dataclass field annotation."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if annotation is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        for arg in args:
            try:
                return _check_type(value, arg, where)
            except ConfigError:
                continue
        names = " or ".join(getattr(a, "__name__", str(a)) for a in args)
        raise ConfigError(f"{where}: expected {names}, got {value!r}")
    if origin is typing.Literal:
        if value not in args:
            options = ", ".join(repr(a) for a in args)
            raise ConfigError(f"{where}: {value!r} is not one of {options}{_suggest(value, args)}")
        return value
    if annotation is type(None):
        if value is not None:
            raise ConfigError(f"{where}: expected null, got {value!r}")
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        inner = args[0] if args else Any
        return [_check_type(v, inner, f"{where}[{i}]") for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return value
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if annotation in (int, str, bool):
        if isinstance(value, bool) and annotation is not bool:
            raise ConfigError(f"{where}: expected {annotation.__name__}, got {value!r}")
        if not isinstance(value, annotation):
            raise ConfigError(f"{where}: expected {annotation.__name__}, got {value!r}")
        return value
    return value


def _suggest(value: Any, options: Any) -> str:
    return did_you_mean(value, [str(o) for o in options]) if isinstance(value, str) else ""


def build_config(stage: type[Stage], params: dict[str, Any] | None, where: str) -> Any:
    """Typed config for ``stage`` from YAML ``params``; unknown keys name the closest valid one."""
    params = params or {}
    if not isinstance(params, dict):
        raise ConfigError(f"{where}: parameters must be a mapping, got {params!r}")
    fields = {f.name: f for f in dataclasses.fields(stage.Config)}
    hints = typing.get_type_hints(stage.Config)
    values = {}
    for key, value in params.items():
        if key not in fields:
            raise ConfigError(
                f"{where}: unknown parameter '{key}'{did_you_mean(str(key), fields)}; "
                f"valid: {', '.join(fields)}"
            )
        values[key] = _check_type(value, hints[key], f"{where}.{key}")
    try:
        config = stage.Config(**values)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: {exc}") from None
    validate = getattr(config, "validate", None)
    if validate is not None:
        try:
            validate()
        except ValueError as exc:
            raise ConfigError(f"{where}: {exc}") from None
    return config


def make_stage(name: str, params: dict[str, Any] | None, where: str) -> Stage:
    """Instantiate a registered stage by its YAML name (module curate/stages/<name>.py)."""
    if name not in REGISTRY:
        _import_stage_module(name)
    if name not in REGISTRY:
        available = ", ".join(sorted(set(REGISTRY) | set(stage_modules())))
        if name in PLANNED:
            raise ConfigError(
                f"{where}: stage '{name}' ({PLANNED[name]}) is not implemented yet in this "
                f"version; available: {available}"
            )
        known = set(REGISTRY) | set(PLANNED) | set(stage_modules())
        raise ConfigError(
            f"{where}: unknown stage '{name}'{did_you_mean(name, known)}; available: {available}"
        )
    cls = REGISTRY[name]
    # a missing extra is named before any work, not an ImportError deep in a worker: the
    # stage's own one before its parameters are checked (that may import it too), then the
    # one its parameters ask for
    from curate.extras import require

    if cls.extra is not None:
        require(cls.extra, f"{where}: stage '{name}'")
    config = build_config(cls, params, where)
    extra = cls.extra_for(config)
    if extra is not None and extra != cls.extra:
        require(extra, f"{where}: stage '{name}'")
    return cls(config)


def _import_stage_module(name: str) -> None:
    """Import only the module a pipeline names: heavy dependencies load only when used."""
    import importlib
    import importlib.util

    if not name.isidentifier() or name == "base":
        return
    if importlib.util.find_spec(f"curate.stages.{name}") is not None:
        importlib.import_module(f"curate.stages.{name}")


def stage_modules() -> list[str]:
    """Names of the stage modules in curate/stages (a stage's name is its module's name)."""
    import pkgutil

    import curate.stages

    return sorted(
        info.name
        for info in pkgutil.iter_modules(curate.stages.__path__)
        if info.name != "base" and not info.name.startswith("_")
    )


def load_all() -> None:
    """Import every stage module so that the registry is complete (for `curate stages`)."""
    import importlib

    for name in stage_modules():
        importlib.import_module(f"curate.stages.{name}")


# ---------------------------------------------------------------- row decisions
# Dedup stages decide per row: "shard s, row r goes, as a duplicate of id X". These helpers let
# them split such a table by shard and apply it to a batch, vectorised.


def split_rows_by_shard(removals: pa.Table) -> dict[int, pa.Table]:
    """{shard: table of (_row, reason, duplicate_of)} from a table with a _shard column."""
    import numpy as np

    if removals.num_rows == 0:
        return {}
    removals = removals.sort_by([(SHARD, "ascending"), (ROW, "ascending")])
    shards = removals.column(SHARD).to_numpy()
    bounds = np.flatnonzero(np.diff(shards)) + 1
    starts = np.concatenate([[0], bounds])
    ends = np.concatenate([bounds, [len(shards)]])
    removals = removals.drop_columns([SHARD])
    # take, not slice: a slice pickles its whole buffers, so every shard's decision file would
    # carry every shard's rows (simhash's were 140 MB each at 240,000 documents)
    return {int(shards[a]): removals.take(np.arange(a, b)) for a, b in zip(starts, ends)}


def column_or_nulls(batch: pa.RecordBatch, name: str) -> pa.Array:
    """``batch[name]`` as strings, or nulls when the batch has no such column."""
    import pyarrow.compute as pc

    if name in batch.schema.names:
        return pc.cast(batch.column(name), pa.string())
    return pa.nulls(batch.num_rows, pa.string())


class RowRemovalStage(Stage):
    """A global stage whose decision is {shard: table of (_row, reason, duplicate_of, ...)}, as
    made by ``split_rows_by_shard``: each shard gets its own rows, applied vectorised; or
    ``DecisionFiles`` when the barrier's tasks wrote each shard's table themselves."""

    kind = "global"
    decision_per_shard = True

    def decision_for_shard(self, decision: Any, shard: int) -> Any:
        """The shard's table in memory; None when it is on disk (``DecisionFiles``)."""
        return None if isinstance(decision, DecisionFiles) else decision.get(shard)

    def apply(self, batch: pa.RecordBatch, decision: Any) -> Verdict:
        return apply_row_removals(batch, decision)


def apply_row_removals(batch: pa.RecordBatch, removals: pa.Table | None) -> Verdict:
    """Verdict for a batch (which carries _row) from its shard's (_row, reason, ...) table."""
    import pyarrow.compute as pc

    if removals is None or removals.num_rows == 0:
        return Verdict.keep_all(batch)
    where = pc.index_in(batch.column(ROW), value_set=removals.column(ROW))
    extra = {}
    for name in removals.column_names:
        if name in (ROW, "reason"):
            continue
        extra[name] = pc.take(removals.column(name), where).combine_chunks()
    reason = pc.take(removals.column("reason"), where).combine_chunks()
    return Verdict(batch, reason, extra)


class KeyedDedup(RowRemovalStage):
    """Dedup where duplicates share a key (a content hash, a normalised URL): rows with different
    keys never decide each other, so the barrier splits by hash partitions of ``key_column`` and
    each reduce task runs ``reduce`` on one partition. ``decide`` is the same over all rows."""

    key_column: ClassVar[str] = "key"  # uint64 column of ``collect``'s table; null: no key

    def keyed(self) -> bool:
        """Whether this configuration decides per key."""
        return True

    def key_partitions(self, keys: np.ndarray, partitions: int) -> np.ndarray:
        """The partition (0..partitions-1) of each key: a hash, unless the stage wants ranges."""
        from curate.shuffle import partition_of

        return partition_of(keys, partitions)

    def indexed(self) -> bool:
        """Whether this configuration deduplicates through a cross-dump index."""
        return False

    def open_index(self) -> Any:
        """The stage's cross-dump index (curate.index.DedupIndex), or None. With one, the
        barrier runs curate.index.keyed's rounds and calls ``reduce_indexed``."""
        return None

    def reduce_indexed(
        self, keys: pa.Table, reference: list[Any], handles: Any, meter: Any
    ) -> tuple[pa.Table, Any, dict[str, Any]]:
        """Like ``reduce``, against the committed dumps ``reference`` (their key pieces only;
        reads counted in ``meter``), given each row's index handle: (removals, root handle per
        row, summary). A removal whose survivor is a committed document has that document's
        handle in ``SURVIVOR`` and a null ``duplicate_of`` (the barrier reads its id by handle
        range, curate.index.keyed); the others have ``SURVIVOR`` -1."""
        raise NotImplementedError

    def reduce(self, keys: pa.Table) -> tuple[pa.Table, dict[str, Any]]:
        """(removals with _shard, _row, reason, duplicate_of; summary counters) for the rows of
        one or more whole keys. Counters are numbers or {name: number} maps: the runner sums them
        over partitions (``merge_counts``)."""
        raise NotImplementedError

    def decide(self, collected: pa.Table) -> tuple[Any, dict[str, Any]]:
        removals, summary = self.reduce(collected)
        return split_rows_by_shard(removals), summary


def merge_counts(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    """Sum partition summaries: numbers add, maps of numbers add key by key (sorted)."""
    out: dict[str, Any] = {}
    for summary in summaries:
        for key, value in summary.items():
            if isinstance(value, dict):
                merged = out.setdefault(key, {})
                for k, v in value.items():
                    merged[k] = merged.get(k, 0) + v
            else:
                out[key] = out.get(key, 0) + value
    return {k: dict(sorted(v.items())) if isinstance(v, dict) else v for k, v in out.items()}
