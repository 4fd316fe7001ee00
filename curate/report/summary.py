"""The per-stage summary table, shared by the terminal, report.md and report.html."""

from __future__ import annotations

from typing import Any


def pct(x: float) -> str:
    return f"{100 * x:.2f}%"


def summary_rows(report: dict[str, Any]) -> list[list[str]]:
    """Stage, in, out, removed, removed %, [added,] seconds: added only when a stage adds copies."""
    added = any(s.get("docs_added") for s in report["stages"])

    def row(name: str, c: dict[str, Any]) -> list[str]:
        cells = [name, f"{c['docs_in']:,}", f"{c['docs_out']:,}", f"{c['docs_removed']:,}"]
        cells.append(pct(c["removal_rate"]))
        if added:
            cells.append(f"{c.get('docs_added', 0):,}")
        return [*cells, f"{c['seconds']:.1f}"]

    header = ["stage", "in", "out", "removed", "removed %", *(["added"] if added else [])]
    rows = [[*header, "seconds"]]
    rows += [row(s["name"], s) for s in report["stages"]]
    rows.append(row("total", report["totals"]))
    return rows


def text_table(rows: list[list[str]], rule_after: tuple[int, ...] = (0,)) -> list[str]:
    """Left-aligned first column, right-aligned others; a rule after the listed row numbers."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    for j, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [c.rjust(w) for c, w in zip(row[1:], widths[1:])]
        lines.append("  ".join(cells))
        if j in rule_after:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def render_summary(report: dict[str, Any]) -> str:
    """The one-screen table printed at the end of `curate run`."""
    rows = summary_rows(report)
    lines = text_table(rows, (0, len(rows) - 2))
    q = report["quarantine"]
    if q["docs"]:
        lines.append(f"quarantined: {q['docs']:,} docs (rows in quarantine/, reasons in report.md)")
    if q["files"]:
        unread = q.get("docs_unreadable", 0)
        lines.append(
            f"unusable input files: {len(q['files'])} of {report['input']['shards']}"
            + (f", {unread:,} rows in them unread" if unread else "")
            + " (one record each in quarantine/_bad_files/)"
        )
    t = report["totals"]
    lines.append(
        f"{t['docs_per_second']:,.0f} docs/s, {t['mb_per_second']:.2f} MB/s, "
        f"executor {report['executor']['name']} x{report['executor'].get('workers', '?')}"
    )
    return "\n".join(lines)
