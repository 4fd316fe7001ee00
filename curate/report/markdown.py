"""report.json -> report.md: the summary table, then each stage's reasons, dumps, domains."""

from __future__ import annotations

import json
from typing import Any

from curate.report.masking import mask_pii
from curate.report.summary import pct as _pct
from curate.report.summary import summary_rows


def render_markdown(report: dict[str, Any]) -> str:
    out = [f"# curate report: {report['pipeline']}", ""]
    rows = summary_rows(report)
    out.append("| " + " | ".join(rows[0]) + " |")
    out.append("|" + "---|" * len(rows[0]))
    out.extend("| " + " | ".join(r) + " |" for r in rows[1:])
    out.append("")
    t = report["totals"]
    out.append(
        f"Input: {_files(report['input'])}{report['input']['shards']} shards, "
        f"{t['docs_in']:,} documents, "
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
            out.append("Decision: `" + json.dumps(_masked(s["decision"]), sort_keys=True) + "`")
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


def _masked(decision: dict[str, Any]) -> dict[str, Any]:
    """The decision with SimHash's removed boilerplate samples masked of PII."""
    top = decision.get("top_removed")
    if not top:
        return decision
    return {**decision, "top_removed": [{**u, "text": mask_pii(u["text"])} for u in top]}


def _files(inputs: dict) -> str:
    """'12 files in ' (reports written before shards could group or cut files have no count)."""
    return f"{inputs['files']:,} files in " if "files" in inputs else ""
