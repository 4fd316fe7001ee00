"""Per-stage statistics -> report.json (for machines), report.md and report.html (for people)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from curate import __version__, accounting
from curate.errors import CurateError
from curate.extras import versions
from curate.io import atomic_write_bytes
from curate.report.html import render_html
from curate.report.markdown import render_markdown
from curate.report.summary import render_summary, summary_rows

__all__ = [
    "build_report",
    "check_balance",
    "load_report",
    "render_html",
    "render_markdown",
    "render_summary",
    "summary_rows",
    "write_reports",
]


def build_report(
    config: Any,
    stages: list[Any],
    shards: list[Any],
    files: list[Any],
    results_by_pass: list[list[dict[str, Any]]],
    decisions: dict[str, dict[str, Any]],
    fingerprint: dict[str, Any],
    executor: dict[str, Any],
    timings: list[dict[str, Any]],
    wall_seconds: float,
) -> dict[str, Any]:
    per_stage = {spec.label: accounting.new_stats() for spec in config.stages}
    quarantine: dict[str, Any] = {"docs": 0, "by_error": {}, "files": []}
    docs_read = bytes_read = 0
    for results in results_by_pass:
        for r in results:
            for label, stats in r["stages"].items():
                accounting.merge(per_stage[label], stats)
    for r in results_by_pass[0]:
        docs_read += r["input"]["docs"]
        bytes_read += r["input"]["bytes"]
        quarantine["docs"] += r["quarantine"]["docs"]
        accounting.merge(quarantine["by_error"], r["quarantine"]["by_error"])
        quarantine["files"].extend(r["quarantine"]["files"])
    quarantine["docs_unreadable"] = sum(f.get("rows_unread", 0) for f in quarantine["files"])
    final = results_by_pass[-1]
    docs_out = sum(r["rows_out"] for r in final)
    stage_reports = []
    for spec, stage in zip(config.stages, stages):
        stats = accounting.finish(per_stage[spec.label])
        entry = {"name": spec.label, "stage": spec.name, "kind": stage.kind, "params": spec.params}
        entry.update(stats)
        if spec.label in decisions:
            entry["decision"] = decisions[spec.label]
        stage_reports.append(entry)
    bytes_out = stage_reports[-1]["bytes_out"] if stage_reports else bytes_read
    docs_removed = sum(s["docs_removed"] for s in stage_reports)
    docs_added = sum(s["docs_added"] for s in stage_reports)
    docs_in = docs_read + quarantine["docs"]
    totals = {
        "docs_in": docs_in,
        "docs_out": docs_out,
        "docs_removed": docs_removed,
        "docs_quarantined": quarantine["docs"],
        "docs_added": docs_added,
        "removal_rate": round(docs_removed / docs_in, 6) if docs_in else 0.0,
        "bytes_in": bytes_read,
        "bytes_out": bytes_out,
        "seconds": round(wall_seconds, 3),
        "docs_per_second": round(docs_in / wall_seconds, 1) if wall_seconds else 0.0,
        "mb_per_second": round(bytes_read / 1e6 / wall_seconds, 3) if wall_seconds else 0.0,
    }
    return {
        "curate_version": __version__,
        "versions": versions(),  # the packages that change results, to reproduce a run
        "pipeline": config.name,
        "config": config.to_dict(),
        "input": {
            "paths": config.input,
            "files": len(files),
            "shards": len(shards),
            "fingerprint": fingerprint,
        },
        "executor": executor,
        "stages": stage_reports,
        "quarantine": quarantine,
        "totals": totals,
        "timings": {"passes": timings, "wall_seconds": round(wall_seconds, 3)},
    }


def check_balance(report: dict[str, Any]) -> list[str]:
    """Every way the counts could fail to balance; empty when they all do."""
    problems = []
    chain = None
    for s in report["stages"]:
        if s["docs_in"] + s["docs_added"] != s["docs_out"] + s["docs_removed"]:
            problems.append(f"{s['name']}: docs_in + docs_added != docs_out + docs_removed")
        if chain is not None and s["docs_in"] != chain:
            problems.append(f"{s['name']}: docs_in {s['docs_in']} != previous docs_out {chain}")
        chain = s["docs_out"]
    t = report["totals"]
    if t["docs_in"] + t["docs_added"] != t["docs_out"] + t["docs_removed"] + t["docs_quarantined"]:
        problems.append(
            "totals: docs_in + docs_added != docs_out + docs_removed + docs_quarantined"
        )
    if chain is not None and chain != t["docs_out"]:
        problems.append(f"totals: last stage docs_out {chain} != docs_out {t['docs_out']}")
    return problems


def write_reports(run: Path, report: dict[str, Any]) -> None:
    atomic_write_bytes(run / "report.json", json.dumps(report, indent=2).encode())
    atomic_write_bytes(run / "report.md", render_markdown(report).encode())
    atomic_write_bytes(run / "report.html", render_html(report).encode())


def load_report(run: str | Path) -> dict[str, Any]:
    if not Path(run).is_dir():
        raise CurateError(f"{run}: no such output directory")
    path = Path(run) / "report.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CurateError(f"{path}: no report here (was `curate run` finished?)") from None
    except json.JSONDecodeError as exc:
        raise CurateError(f"{path}: not valid JSON ({exc})") from None
