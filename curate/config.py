"""Pipeline YAML -> a typed, validated PipelineConfig.

Every error names the file and the key (``deepseek.yaml: stages[1].quality_filter.rule``) and,
where a near miss is likely, the closest valid key.

YAML is data: the safe loader builds no Python objects, and anchors and aliases are counted
while the document is composed, before anything is built: a document whose aliases expand to
more than MAX_ALIAS_VALUES values ("billion laughs"), that nests deeper than MAX_DEPTH or whose
alias refers to its own anchor is refused with the line and key, in milliseconds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn

import yaml

from curate.errors import ConfigError, did_you_mean
from curate.stages.base import Stage, make_stage

TOP_KEYS = {
    "name": "pipeline name, shown in the report",
    "description": "free text",
    "input": "path, directory or glob of Parquet or JSONL (.jsonl, .jsonl.gz, .jsonl.zst) files "
    "(or a list of them)",
    "output": "output directory",
    "stages": "ordered list of {stage_name: {parameters}}",
    "batch_size": "rows per Arrow record batch (default 2048)",
    "shard_rows": "rows per shard, the unit of parallel work (default auto: the input in about "
    "64 shards of at most 100,000 rows); files are cut at row-group boundaries or grouped",
    "on_error": "quarantine (bad rows/files set aside, run goes on) or fail",
    "workers": "default number of worker processes",
    "partitions": "hash partitions of a keyed barrier (default: one per 1 GiB of input)",
    "jsonl": "JSONL input: the JSON key of each column where it differs from the column's name, "
    "e.g. {text: content, url: metadata_url} (columns: id, text, url, date, dump, language)",
}


@dataclass
class StageSpec:
    name: str
    params: dict[str, Any]
    label: str  # unique within the pipeline: the name, or name-2 for a second use
    where: str = ""  # where it was written, for error messages

    def build(self) -> Stage:
        from curate.storage import localize_models

        # a model named by s3:// (gs://, hf://) is fetched once per machine, here: on the
        # driver to validate, on every worker (of any node) that builds the stage
        params = localize_models(self.params)
        return make_stage(self.name, params, self.where or self.label)


@dataclass
class PipelineConfig:
    name: str
    stages: list[StageSpec]
    input: list[str] = field(default_factory=list)
    output: str = ""
    batch_size: int = 2048
    shard_rows: int | str = "auto"
    on_error: str = "quarantine"
    workers: int | None = None
    partitions: int | None = None  # None: from the input's size (curate.pipeline)
    jsonl: dict[str, str] = field(default_factory=dict)  # column -> JSON key, where not the same
    description: str = ""
    source: str = "<dict>"

    def fingerprint(self) -> str:
        """Stable hash of what decides the output (not the executor, workers or paths)."""
        body = {
            "stages": [[s.name, s.params] for s in self.stages],
            "batch_size": self.batch_size,
            "shard_rows": self.shard_rows,  # shard k's files, markers and decisions
            "on_error": self.on_error,
        }
        if self.partitions is not None:  # resuming with another count would mix layouts
            body["partitions"] = self.partitions
        if self.jsonl:  # which JSON keys are read decides the rows
            body["jsonl"] = self.jsonl
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "input": self.input,
            "output": self.output,
            "batch_size": self.batch_size,
            "shard_rows": self.shard_rows,
            "on_error": self.on_error,
            **({"partitions": self.partitions} if self.partitions is not None else {}),
            **({"jsonl": self.jsonl} if self.jsonl else {}),
            "stages": [{s.name: s.params} for s in self.stages],
        }


# Values that aliases may add to a pipeline, counted as if every alias were written out. A
# recipe that reuses a parameter block in every stage adds a few hundred; a "billion laughs"
# document (nine anchors, each nine aliases of the one before) adds 9^9 and would hang
# whatever walks it (fingerprint, report, error messages).
MAX_ALIAS_VALUES = 100_000
# Nesting deeper than this is no pipeline; PyYAML's composer recurses once per level.
MAX_DEPTH = 100


class _BoundedLoader(yaml.SafeLoader):
    """SafeLoader that counts what aliases expand to while composing, before anything is built,
    and refuses a document whose aliases add more than MAX_ALIAS_VALUES values, whose nesting
    passes MAX_DEPTH, or whose alias sits inside its own anchor (a cycle)."""

    def __init__(self, stream: str, source: str) -> None:
        super().__init__(stream)
        self.source = source
        self.path: list[Any] = []  # the key or index of each open node: stages[3].pii_scrub
        self.values = 0  # values composed so far, aliases counted at their expanded size
        self.aliased = 0  # of which added by aliases
        self.sizes: dict[str, int] = {}  # anchor -> expanded size, once its node is complete

    def compose_node(self, parent: Any, index: Any) -> Any:
        self.path.append(index)
        try:
            event = self.peek_event()
            if len(self.path) > MAX_DEPTH:
                self.fail(event, f"nested more than {MAX_DEPTH} levels deep")
            if isinstance(event, yaml.AliasEvent) and event.anchor in self.anchors:
                size = self.sizes.get(event.anchor)
                if size is None:
                    self.fail(event, f"alias *{event.anchor} is inside its own anchor")
                self.values += size
                self.aliased += size
                if self.aliased > MAX_ALIAS_VALUES:
                    self.fail(
                        event,
                        f"aliases expand to more than {MAX_ALIAS_VALUES:,} values (alias "
                        f"*{event.anchor} adds {size:,}); a pipeline needs far fewer: write "
                        "them out or alias less",
                    )
                return super().compose_node(parent, index)
            before = self.values
            self.values += 1
            node = super().compose_node(parent, index)
            anchor = getattr(event, "anchor", None)
            if anchor is not None:
                self.sizes[anchor] = self.values - before
            return node
        finally:
            self.path.pop()

    def fail(self, event: yaml.Event, what: str) -> NoReturn:
        key = ""
        for index in self.path[1:]:
            if isinstance(index, int):
                key += f"[{index}]"
            elif isinstance(index, yaml.ScalarNode):
                key += f".{index.value}" if key else str(index.value)
            else:  # a mapping key being composed
                key += " (a key)"
        if len(key) > 80:
            key = key[:77] + "..."
        where = f"line {event.start_mark.line + 1}" + (f", {key}" if key else "")
        raise ConfigError(f"{self.source}: {where}: {what}")


def _load_yaml(text: str, source: str) -> Any:
    loader = _BoundedLoader(text, source)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


def load_pipeline(path: str | Path) -> PipelineConfig:
    path = Path(path)
    try:
        raw = _load_yaml(path.read_text(encoding="utf-8"), str(path))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such pipeline file") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    config = parse_pipeline(raw, source=str(path))
    # Relative input/output paths in a YAML file are relative to the working directory, as in
    # every make-driven tool; nothing to rewrite here.
    return config


def parse_pipeline(raw: Any, source: str = "<dict>") -> PipelineConfig:
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: a pipeline is a mapping with 'name' and 'stages'")
    for key in raw:
        if key not in TOP_KEYS:
            raise ConfigError(
                f"{source}: unknown key '{key}'{did_you_mean(str(key), TOP_KEYS)}; "
                f"valid: {', '.join(TOP_KEYS)}"
            )
    stages_raw = raw.get("stages")
    if not isinstance(stages_raw, list) or not stages_raw:
        raise ConfigError(f"{source}: 'stages' must be a non-empty list of {{stage: {{...}}}}")
    specs: list[StageSpec] = []
    seen: dict[str, int] = {}
    for i, item in enumerate(stages_raw):
        if isinstance(item, str):
            item = {item: {}}
        if not isinstance(item, dict) or len(item) != 1:
            raise ConfigError(
                f"{source}: stages[{i}] must be a single 'stage_name: {{parameters}}' mapping"
            )
        ((name, params),) = item.items()
        params = params if params is not None else {}
        seen[name] = seen.get(name, 0) + 1
        label = name if seen[name] == 1 else f"{name}-{seen[name]}"
        spec = StageSpec(str(name), params, label, f"{source}: stages[{i}].{name}")
        spec.build()  # validate now, before any shard is read
        specs.append(spec)
    inputs = raw.get("input", [])
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not all(isinstance(p, str) for p in inputs):
        raise ConfigError(f"{source}: 'input' must be a path or a list of paths")
    on_error = raw.get("on_error", "quarantine")
    if on_error not in ("quarantine", "fail"):
        raise ConfigError(
            f"{source}: on_error: {on_error!r} is not 'quarantine' or 'fail'"
            f"{did_you_mean(str(on_error), ['quarantine', 'fail'])}"
        )
    batch_size = raw.get("batch_size", 2048)
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ConfigError(f"{source}: batch_size must be a positive integer, got {batch_size!r}")
    shard_rows = raw.get("shard_rows", "auto")
    if shard_rows != "auto" and (
        not isinstance(shard_rows, int) or isinstance(shard_rows, bool) or shard_rows < 1
    ):
        raise ConfigError(
            f"{source}: shard_rows must be 'auto' or a positive integer, got {shard_rows!r}"
        )
    workers = raw.get("workers")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"{source}: workers must be a positive integer, got {workers!r}")
    partitions = raw.get("partitions")
    if partitions is not None and (
        not isinstance(partitions, int) or isinstance(partitions, bool) or partitions < 1
    ):
        raise ConfigError(f"{source}: partitions must be a positive integer, got {partitions!r}")
    jsonl_keys = _jsonl_keys(raw.get("jsonl", {}), source)
    output = raw.get("output", "")
    if not isinstance(output, str):
        raise ConfigError(f"{source}: 'output' must be a path")
    return PipelineConfig(
        name=str(raw.get("name", Path(source).stem)),
        description=str(raw.get("description", "")),
        stages=specs,
        input=inputs,
        output=output,
        batch_size=batch_size,
        shard_rows=shard_rows,
        on_error=on_error,
        workers=workers,
        partitions=partitions,
        jsonl=jsonl_keys,
        source=source,
    )


def _jsonl_keys(raw: Any, source: str) -> dict[str, str]:
    from curate.jsonl import COLUMNS

    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: jsonl must be a mapping column: JSON key, got {raw!r}")
    for column, key in raw.items():
        if column not in COLUMNS:
            raise ConfigError(
                f"{source}: jsonl.{column}: not a column curate reads from JSONL"
                f"{did_you_mean(str(column), COLUMNS)}; columns: {', '.join(COLUMNS)}"
            )
        if not isinstance(key, str) or not key:
            raise ConfigError(f"{source}: jsonl.{column} must be a JSON key (a string)")
    return {c: k for c, k in raw.items() if k != c}
