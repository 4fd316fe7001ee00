"""Two runs side by side (e.g. two thresholds): per stage, documents kept and removal rate."""

from __future__ import annotations

from typing import Any

from curate.report import svg
from curate.report.html import page
from curate.report.sections import pct, table
from curate.report.summary import text_table


def compare_rows(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per stage name in either run (A's order, then B's extra stages), and the totals.

    A stage missing from one run has None for that run's numbers and for the differences.
    """
    sa = {s["name"]: s for s in a["stages"]}
    sb = {s["name"]: s for s in b["stages"]}
    names = list(sa) + [n for n in sb if n not in sa]
    rows = []
    for name, x, y in [(n, sa.get(n), sb.get(n)) for n in names] + [
        ("total", a["totals"], b["totals"])
    ]:
        row: dict[str, Any] = {"stage": name}
        for key in ("docs_out", "removal_rate"):
            row[f"{key}_a"] = x[key] if x else None
            row[f"{key}_b"] = y[key] if y else None
            row[f"{key}_diff"] = y[key] - x[key] if x and y else None
        rows.append(row)
    return rows


def _cells(r: dict[str, Any]) -> list[str]:
    def n(v: int | None, sign: bool = False) -> str:
        return "-" if v is None else (f"{v:+,}" if sign else f"{v:,}")

    def p(v: float | None, sign: bool = False) -> str:
        return "-" if v is None else (f"{100 * v:+.2f}" if sign else f"{100 * v:.2f}%")

    return [
        r["stage"],
        n(r["docs_out_a"]),
        n(r["docs_out_b"]),
        n(r["docs_out_diff"], True),
        p(r["removal_rate_a"]),
        p(r["removal_rate_b"]),
        p(r["removal_rate_diff"], True),
    ]


HEADER = ["stage", "out A", "out B", "B - A", "removed A", "removed B", "B - A (points)"]


def render_compare_text(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str]) -> str:
    rows = [HEADER] + [_cells(r) for r in compare_rows(a, b)]
    lines = [f"A: {names[0]}", f"B: {names[1]}", ""]
    lines += text_table(rows, (0, len(rows) - 2))
    return "\n".join(lines)


def render_compare_html(a: dict[str, Any], b: dict[str, Any], names: tuple[str, str]) -> str:
    rows = compare_rows(a, b)
    stages = [r for r in rows if r["stage"] != "total"]
    cats = [r["stage"] for r in stages]
    docs = svg.grouped_hbar(
        "compare-docs-out",
        "documents kept after each stage",
        cats,
        [
            ("A", [r["docs_out_a"] or 0 for r in stages]),
            ("B", [r["docs_out_b"] or 0 for r in stages]),
        ],
        lambda v: f"{v:,.0f}",
    )
    rates = svg.grouped_hbar(
        "compare-removal-rate",
        "removal rate of each stage",
        cats,
        [
            ("A", [r["removal_rate_a"] for r in stages]),
            ("B", [r["removal_rate_b"] for r in stages]),
        ],
        pct,
    )
    runs = table(["", "run", "pipeline", "docs in", "docs out"], [
        [k, path, r["pipeline"], f"{r['totals']['docs_in']:,}", f"{r['totals']['docs_out']:,}"]
        for k, path, r in (("A", names[0], a), ("B", names[1], b))
    ], cls="left")  # fmt: skip
    body = runs + table(HEADER, [_cells(r) for r in rows]) + docs + rates + _param_changes(a, b)
    return page(f"curate compare: {names[0]} vs {names[1]}", body)


def _param_changes(a: dict[str, Any], b: dict[str, Any]) -> str:
    pa_ = {s["name"]: s.get("params", {}) for s in a["stages"]}
    pb = {s["name"]: s.get("params", {}) for s in b["stages"]}
    rows = []
    for name in [n for n in pa_ if n in pb]:
        for key in sorted(set(pa_[name]) | set(pb[name])):
            if pa_[name].get(key) != pb[name].get(key):
                rows.append([name, key, str(pa_[name].get(key)), str(pb[name].get(key))])
    if not rows:
        return ""
    return "<h2>Parameters that differ</h2>" + table(["stage", "parameter", "A", "B"], rows)
