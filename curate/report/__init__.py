"""Per-stage statistics -> report.json (for machines), report.md and report.html (for people)."""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from curate import __version__, accounting
from curate.errors import CurateError
from curate.io import atomic_write_bytes


def build_report(
    config: Any,
    stages: list[Any],
    shards: list[Any],
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
        "pipeline": config.name,
        "config": config.to_dict(),
        "input": {
            "paths": config.input,
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
    path = Path(run) / "report.json"
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise CurateError(f"{path}: no report here (was `curate run` finished?)") from None
    except json.JSONDecodeError as exc:
        raise CurateError(f"{path}: not valid JSON ({exc})") from None


def _pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def summary_rows(report: dict[str, Any]) -> list[list[str]]:
    """Stage, in, out, removed, removed %, [added,] seconds: added only when a stage adds copies."""
    added = any(s.get("docs_added") for s in report["stages"])

    def row(name: str, c: dict[str, Any]) -> list[str]:
        cells = [name, f"{c['docs_in']:,}", f"{c['docs_out']:,}", f"{c['docs_removed']:,}"]
        cells.append(_pct(c["removal_rate"]))
        if added:
            cells.append(f"{c.get('docs_added', 0):,}")
        return [*cells, f"{c['seconds']:.1f}"]

    header = ["stage", "in", "out", "removed", "removed %", *(["added"] if added else [])]
    rows = [[*header, "seconds"]]
    rows += [row(s["name"], s) for s in report["stages"]]
    rows.append(row("total", report["totals"]))
    return rows


def render_summary(report: dict[str, Any]) -> str:
    """The one-screen table printed at the end of `curate run`."""
    rows = summary_rows(report)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for j, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells))
        if j == 0 or j == len(rows) - 2:
            lines.append("  ".join("-" * w for w in widths))
    q = report["quarantine"]
    if q["docs"] or q["files"]:
        lines.append(
            f"quarantined: {q['docs']:,} docs, {len(q['files'])} unusable files "
            f"(see quarantine/ and report.md)"
        )
    t = report["totals"]
    lines.append(
        f"{t['docs_per_second']:,.0f} docs/s, {t['mb_per_second']:.2f} MB/s, "
        f"executor {report['executor']['name']} x{report['executor'].get('workers', '?')}"
    )
    return "\n".join(lines)


def render_markdown(report: dict[str, Any]) -> str:
    out = [f"# curate report: {report['pipeline']}", ""]
    rows = summary_rows(report)
    out.append("| " + " | ".join(rows[0]) + " |")
    out.append("|" + "---|" * len(rows[0]))
    out.extend("| " + " | ".join(r) + " |" for r in rows[1:])
    out.append("")
    t = report["totals"]
    out.append(
        f"Input: {report['input']['shards']} shards, {t['docs_in']:,} documents, "
        f"{t['bytes_in'] / 1e6:.1f} MB of text; output {t['docs_out']:,} documents, "
        f"{t['bytes_out'] / 1e6:.1f} MB. Quarantined: {t['docs_quarantined']:,}."
    )
    out.append("")
    for s in report["stages"]:
        out.append(f"## {s['name']} ({s['kind']})")
        out.append("")
        out.append(f"Parameters: `{json.dumps(s['params'], sort_keys=True)}`")
        out.append("")
        if s["by_reason"]:
            out.append("| reason | docs |")
            out.append("|---|---|")
            out.extend(f"| {k} | {v:,} |" for k, v in s["by_reason"].items())
            out.append("")
        for key, title in (("by_dump", "dump"), ("by_domain", "domain")):
            if s[key]:
                out.append(f"| {title} | in | removed | removed % |")
                out.append("|---|---|---|---|")
                for k, v in s[key].items():
                    rate = _pct(v["removal_rate"])
                    out.append(f"| {k} | {v['docs_in']:,} | {v['docs_removed']:,} | {rate} |")
                out.append("")
        if s.get("extra"):
            out.append("Counters: " + ", ".join(f"{k} = {v:,}" for k, v in s["extra"].items()))
            out.append("")
        if s.get("decision"):
            out.append("Decision: `" + json.dumps(s["decision"], sort_keys=True) + "`")
            out.append("")
    q = report["quarantine"]
    out.append("## quarantine")
    out.append("")
    out.append(f"{q['docs']:,} documents set aside.")
    for k, v in sorted(q["by_error"].items()):
        out.append(f"- {k}: {v:,}")
    if q.get("docs_unreadable"):
        out.append(
            f"- rows that corrupt files claim but could not be read: {q['docs_unreadable']:,}"
        )
    for f in q["files"]:
        out.append(f"- file `{f['path']}`: {f['error']}")
    out.append("")
    ex = report["executor"]
    out.append(
        f"Executor: {ex['name']}, {ex.get('workers')} workers; wall time "
        f"{report['timings']['wall_seconds']:.1f} s."
    )
    return "\n".join(out) + "\n"


def render_html(report: dict[str, Any]) -> str:
    esc = html.escape
    rows = summary_rows(report)
    head = "".join(f"<th>{esc(c)}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows[1:])
    reasons = "".join(
        f"<tr><td>{esc(s['name'])}</td><td>{esc(k)}</td><td>{v:,}</td></tr>"
        for s in report["stages"]
        for k, v in s["by_reason"].items()
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>curate report: {esc(report['pipeline'])}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}"
        "td:first-child,th:first-child{text-align:left}</style></head><body>"
        f"<h1>curate report: {esc(report['pipeline'])}</h1>"
        f"<h2>Stages</h2><table><tr>{head}</tr>{body}</table>"
        f"<h2>Removed by reason</h2><table><tr><th>stage</th><th>reason</th><th>docs</th></tr>"
        f"{reasons}</table>"
        f"<h2>Raw report</h2><pre>{esc(json.dumps(report, indent=2))}</pre>"
        "</body></html>\n"
    )
