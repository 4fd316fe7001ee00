"""Pipeline YAML -> a typed, validated PipelineConfig.

Every error names the file and the key (``deepseek.yaml: stages[1].quality_filter.rule``) and,
where a near miss is likely, the closest valid key.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from curate.errors import ConfigError, did_you_mean
from curate.stages.base import Stage, make_stage

TOP_KEYS = {
    "name": "pipeline name, shown in the report",
    "description": "free text",
    "input": "path, directory or glob of Parquet shards (or a list of them)",
    "output": "output directory",
    "stages": "ordered list of {stage_name: {parameters}}",
    "batch_size": "rows per Arrow record batch (default 2048)",
    "on_error": "quarantine (bad rows/files set aside, run goes on) or fail",
    "workers": "default number of worker processes",
}


@dataclass
class StageSpec:
    name: str
    params: dict[str, Any]
    label: str  # unique within the pipeline: the name, or name-2 for a second use
    where: str = ""  # where it was written, for error messages

    def build(self) -> Stage:
        return make_stage(self.name, self.params, self.where or self.label)


@dataclass
class PipelineConfig:
    name: str
    stages: list[StageSpec]
    input: list[str] = field(default_factory=list)
    output: str = ""
    batch_size: int = 2048
    on_error: str = "quarantine"
    workers: int | None = None
    description: str = ""
    source: str = "<dict>"

    def fingerprint(self) -> str:
        """Stable hash of what decides the output (not the executor, workers or paths)."""
        body = {
            "stages": [[s.name, s.params] for s in self.stages],
            "batch_size": self.batch_size,
            "on_error": self.on_error,
        }
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:16]

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "input": self.input,
            "output": self.output,
            "batch_size": self.batch_size,
            "on_error": self.on_error,
            "stages": [{s.name: s.params} for s in self.stages],
        }


def load_pipeline(path: str | Path) -> PipelineConfig:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
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
    workers = raw.get("workers")
    if workers is not None and (not isinstance(workers, int) or workers < 1):
        raise ConfigError(f"{source}: workers must be a positive integer, got {workers!r}")
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
        on_error=on_error,
        workers=workers,
        source=source,
    )
