"""report.json -> report.html: one self-contained page (inline CSS and SVG, no script)."""

from __future__ import annotations

from html import escape
from typing import Any

from curate.report import sections
from curate.report.summary import summary_rows

STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222}
h1{font-size:1.5em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
h3{font-size:1em;margin:1.4em 0 .4em}nav a{margin-right:1em}
table{border-collapse:collapse;margin:.6em 0;font-size:13px}
td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}
td:first-child,th:first-child{text-align:left}
table.left td,table.left th{text-align:left}
table.left td:last-child{overflow-wrap:anywhere}td{vertical-align:top}
figure{margin:.8em 0}figcaption{font-size:13px;color:#444}
svg{display:block;margin:.2em 0}svg text{fill:#333}
.bar{fill:#4e79a7}.bar-2{fill:#f28e2b}.bar-3{fill:#59a14f}
.axis{stroke:#888}.marker{stroke:#e15759;stroke-width:1.5;stroke-dasharray:4 2}
svg text.marker-label{fill:#e15759}.curve{fill:none;stroke:#4e79a7;stroke-width:2}
.dot{fill:#4e79a7}.note{color:#555;font-size:13px}
"""

# In page order; each returns '' when its data is absent.
SECTIONS = (
    ("funnel", "Funnel", sections.funnel),
    ("removals", "Removed", sections.removals),
    ("blocklists", "Blocklists", sections.blocklists),
    ("dedup-dumps", "Across dumps", sections.dedup_across_dumps),
    ("perplexity", "Perplexity", sections.perplexity),
    ("pii", "PII", sections.pii),
    ("boilerplate", "Boilerplate", sections.boilerplate),
    ("rehydration", "Rehydration", sections.rehydration),
    ("mixture", "Mixture", sections.mixture),
    ("timings", "Timings", sections.timings),
    ("run", "Run", sections.run_info),
)


def page(title: str, body: str) -> str:
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>\n"
    )


def render_html(report: dict[str, Any]) -> str:
    rows = summary_rows(report)
    parts = [(anchor, label, fn(report)) for anchor, label, fn in SECTIONS]
    nav = "".join(f'<a href="#{a}">{escape(label)}</a>' for a, label, html in parts if html)
    summary = sections.table(rows[0], rows[1:])
    body = f"<nav>{nav}</nav>{summary}" + "".join(html for _, _, html in parts)
    return page(f"curate report: {report['pipeline']}", body)
