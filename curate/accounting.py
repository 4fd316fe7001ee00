"""Per-stage counters: documents and bytes in/out, removals by reason, dump and domain.

Counters are plain dicts so that they travel between processes (and Ray workers) as JSON and
merge by addition. The invariant every stage keeps:
docs_in + docs_added == docs_out + docs_removed, where only a stage that adds copies (remix) has
docs_added > 0.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

UNKNOWN = "unknown"


def new_stats() -> dict[str, Any]:
    return {
        "docs_in": 0,
        "docs_out": 0,
        "docs_removed": 0,
        "docs_added": 0,  # copies a stage adds (remix's repeats), not counted in docs_in
        "bytes_in": 0,
        "bytes_out": 0,
        "bytes_added": 0,
        "by_reason": {},
        "by_dump": {},
        "by_domain": {},
        "seconds": 0.0,
        "extra": {},
    }


def text_bytes(batch: pa.RecordBatch | pa.Table) -> int:
    if batch.num_rows == 0:
        return 0
    return int(pc.sum(pc.binary_length(batch.column("text"))).as_py() or 0)


def _labels(batch: pa.RecordBatch, column: str) -> pa.Array:
    if column not in batch.schema.names:
        return pa.array([UNKNOWN] * batch.num_rows, pa.string())
    values = pc.cast(batch.column(column), pa.string())
    return pc.fill_null(values, UNKNOWN)


def _count(values: pa.Array) -> dict[str, int]:
    if len(values) == 0:
        return {}
    counts = pc.value_counts(values)
    return {
        str(v): int(c) for v, c in zip(counts.field(0).to_pylist(), counts.field(1).to_pylist())
    }


def count_verdict(
    stats: dict[str, Any],
    batch_in: pa.RecordBatch,
    batch_out: pa.RecordBatch,
    removed_mask: pa.Array,
    reasons: pa.Array,
) -> None:
    """Add one batch's numbers: ``batch_in`` before the stage, ``batch_out`` the kept rows."""
    n_removed = int(pc.sum(removed_mask).as_py() or 0)
    stats["docs_in"] += batch_in.num_rows
    stats["docs_out"] += batch_out.num_rows
    stats["docs_removed"] += n_removed
    stats["bytes_in"] += text_bytes(batch_in)
    stats["bytes_out"] += text_bytes(batch_out)
    for column, key in (("dump", "by_dump"), ("domain", "by_domain")):
        labels = _labels(batch_in, column)
        group = stats[key]
        for label, n in _count(labels).items():
            group.setdefault(label, {"docs_in": 0, "docs_removed": 0})["docs_in"] += n
        if n_removed:
            for label, n in _count(labels.filter(removed_mask)).items():
                group[label]["docs_removed"] += n
    if n_removed:
        for reason, n in _count(reasons.filter(removed_mask)).items():
            stats["by_reason"][reason] = stats["by_reason"].get(reason, 0) + n


def add_extra(stats: dict[str, Any], extra: dict[str, float]) -> None:
    for key, value in extra.items():
        stats["extra"][key] = stats["extra"].get(key, 0) + value


def merge(into: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """Add ``other`` into ``into`` (nested dicts of numbers add key by key)."""
    for key, value in other.items():
        if isinstance(value, dict):
            merge(into.setdefault(key, {}), value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            into[key] = into.get(key, 0) + value
        else:
            into[key] = value
    return into


def finish(stats: dict[str, Any]) -> dict[str, Any]:
    """Rates, sorted keys and rounded seconds, for a stable report."""
    out = dict(stats)
    out["removal_rate"] = _rate(stats["docs_removed"], stats["docs_in"])
    for key in ("by_dump", "by_domain"):
        out[key] = {
            k: {**v, "removal_rate": _rate(v["docs_removed"], v["docs_in"])}
            for k, v in sorted(stats[key].items())
        }
    out["by_reason"] = dict(sorted(stats["by_reason"].items(), key=lambda kv: (-kv[1], kv[0])))
    out["seconds"] = round(stats["seconds"], 3)
    out["extra"] = dict(sorted(stats["extra"].items()))
    return out


def _rate(part: int, whole: int) -> float:
    return round(part / whole, 6) if whole else 0.0
