"""The HTML report's sections, each drawn from report.json alone; a section without data is ''.

Every function takes the whole report and returns an HTML fragment (a heading, charts from
``svg``, small tables). ``html.render_html`` puts them in order.
"""

from __future__ import annotations

import json
from html import escape
from typing import Any

from curate.report import svg
from curate.report.masking import mask_pii

# Document-level dedup: with keep: earliest, what these remove from dump N is what deduplicating
# the first N dumps removes there (DeepSeek LLM, Table 1).
DOC_DEDUP = ("url_dedup", "exact_dedup", "minhash_dedup")


def pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _mb(n: float) -> str:
    return f"{n / 1e6:,.1f} MB"


def table(header: list[str], rows: list[list[Any]], cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    head = f"<tr>{head}</tr>" if any(header) else ""
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(str(v))}</td>" for v in r) + "</tr>" for r in rows
    )
    return f"<table{c}>{head}{body}</table>"


def _section(anchor: str, title: str, *parts: str) -> str:
    return f'<section id="{anchor}"><h2>{escape(title)}</h2>' + "".join(parts) + "</section>"


def _note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def funnel(report: dict[str, Any]) -> str:
    t, stages = report["totals"], report["stages"]
    docs = [("input", t["docs_in"], f"{t['docs_in']:,} docs")]
    size = [("input", t["bytes_in"], _mb(t["bytes_in"]))]
    for s in stages:
        change = f"removed {pct(s['removal_rate'])}"
        if s.get("docs_added"):
            change += f", added {s['docs_added']:,}"
        docs.append((s["name"], s["docs_out"], f"{s['docs_out']:,} docs ({change})"))
        size.append((s["name"], s["bytes_out"], f"{_mb(s['bytes_out'])} ({pct(_kept(s))} kept)"))
    return _section(
        "funnel",
        "Funnel: what is kept after each stage",
        svg.hbar("funnel-docs", "documents kept after each stage", docs),
        svg.hbar("funnel-bytes", "bytes of text kept after each stage", size),
        _note(
            f"{t['docs_in']:,} documents in, {t['docs_out']:,} out "
            f"({t['docs_removed']:,} removed, {t['docs_quarantined']:,} quarantined, "
            f"{t.get('docs_added', 0):,} added by up-sampling)."
        ),
    )


def _kept(stage: dict[str, Any]) -> float:
    return stage["bytes_out"] / stage["bytes_in"] if stage["bytes_in"] else 1.0


def removals(report: dict[str, Any]) -> str:
    parts = []
    for s in report["stages"]:
        if not s["docs_removed"]:
            continue
        name = s["name"]
        parts.append(
            f'<h3 id="stage-{escape(name)}">{escape(name)}: {s["docs_removed"]:,} removed '
            f"({escape(pct(s['removal_rate']))} of {s['docs_in']:,})</h3>"
        )
        reasons = sorted(s["by_reason"].items(), key=lambda kv: -kv[1])
        parts.append(
            svg.hbar(
                f"reason:{name}",
                f"{name}: removed documents by reason",
                [(k, v, f"{v:,}") for k, v in reasons],
            )
        )
        for key, what in (("by_dump", "dump"), ("by_domain", "domain")):
            groups = s.get(key) or {}
            if len(groups) < 2 and what == "dump" or not groups:
                continue
            rows = [
                (k, v["removal_rate"], f"{pct(v['removal_rate'])} of {v['docs_in']:,}")
                for k, v in groups.items()
            ]
            parts.append(svg.hbar(f"{what}:{name}", f"{name}: removal rate by {what}", rows))
    if not parts:
        return ""
    return _section("removals", "Removed, by reason, dump and domain", *parts)


def dedup_across_dumps(report: dict[str, Any]) -> str:
    stages = [s for s in report["stages"] if s.get("stage", s["name"]) in DOC_DEDUP]
    if not stages:
        return ""
    dumps = sorted(stages[0].get("by_dump") or {})
    if len(dumps) < 2:
        return ""
    docs_in = {d: stages[0]["by_dump"][d]["docs_in"] for d in dumps}
    removed = {
        d: sum(s["by_dump"].get(d, {}).get("docs_removed", 0) for s in stages) for d in dumps
    }
    points, rows, cum_in, cum_removed = [], [], 0, 0
    for n, d in enumerate(dumps, 1):
        cum_in += docs_in[d]
        cum_removed += removed[d]
        rate = cum_removed / cum_in if cum_in else 0.0
        points.append((str(n), rate))
        own = removed[d] / docs_in[d] if docs_in[d] else 0.0
        rows.append([n, d, f"{docs_in[d]:,}", f"{removed[d]:,}", pct(own), pct(rate)])
    names = ", ".join(s["name"] for s in stages)
    return _section(
        "dedup-dumps",
        "Deduplication across dumps",
        svg.line(
            "dedup-across-dumps",
            "share of documents removed when deduplicating the first N dumps",
            points,
            pct,
            y_max=max(1e-9, max(v for _, v in points)) * 1.15,
        ),
        table(["N", "dump", "docs in", "removed", "removed in this dump", "first N dumps"], rows),
        _note(
            f"Removed by {names} (keep: earliest), dumps in order: the shape of DeepSeek LLM's "
            "Table 1 (22.2% for 1 dump, 46.7% for 2, 89.8% for 91 on Common Crawl)."
        ),
    )


def perplexity(report: dict[str, Any]) -> str:
    parts = []
    for s in report["stages"]:
        d = s.get("decision") or {}
        edges = d.get("histogram_edges")
        if s.get("stage", s["name"]) != "perplexity_filter" or not edges:
            continue
        for group, g in sorted(d.get("groups", {}).items()):
            if not g.get("histogram"):
                continue
            markers = [(v, f"{k} {v:,.0f}") for k, v in (g.get("bucket_edges") or {}).items()]
            if g.get("threshold") is not None:
                markers.append((g["threshold"], f"threshold {g['threshold']:,.0f}"))
            title = (
                f"{group}: {g['scored']:,} scored, {g['removed']:,} removed "
                f"({g.get('rule', '')}, model {g.get('model')})"
            )
            parts.append(
                svg.histogram(f"perplexity:{group}", title, edges, g["histogram"], markers)
            )
        skipped = [
            [k, g.get("rule", ""), f"{g['documents']:,}"]
            for k, g in sorted(d.get("groups", {}).items())
            if not g.get("histogram")
        ]
        if skipped:
            parts.append(table(["language/domain", "not scored because", "docs"], skipped))
    if not parts:
        return ""
    return _section("perplexity", "Perplexity by language and domain", *parts)


def pii(report: dict[str, Any]) -> str:
    parts = []
    for s in report["stages"]:
        extra = s.get("extra") or {}
        found = {k[len("found_") :]: v for k, v in extra.items() if k.startswith("found_")}
        if s.get("stage", s["name"]) != "pii_scrub" or not found:
            continue
        rows = [(k, v, f"{v:,}") for k, v in sorted(found.items(), key=lambda kv: -kv[1])]
        parts.append(svg.hbar(f"pii:{s['name']}", f"{s['name']}: PII found by entity type", rows))
        parts.append(
            _note(
                f"{extra.get('docs_with_pii', 0):,} of {s['docs_in']:,} documents had PII; "
                f"{extra.get('chars_scrubbed', 0):,} characters replaced."
            )
        )
    if not parts:
        return ""
    return _section("pii", "PII found, per entity type", *parts)


def boilerplate(report: dict[str, Any]) -> str:
    parts = []
    for s in report["stages"]:
        top = (s.get("decision") or {}).get("top_removed")
        if not top:
            continue
        rows = [(mask_pii(u["text"]), u["removed"], f"{u['removed']:,}") for u in top]
        parts.append(svg.hbar(f"boilerplate:{s['name']}", f"{s['name']}: most removed units", rows))
        parts.append(
            table(
                ["unit (PII masked)", "times removed", "documents"],
                [[mask_pii(u["text"]), f"{u['removed']:,}", f"{u['documents']:,}"] for u in top],
                cls="left",
            )
        )
    if not parts:
        return ""
    return _section("boilerplate", "Most frequent removed boilerplate", *parts)


def mixture(report: dict[str, Any]) -> str:
    parts = []
    for s in report["stages"]:
        d = s.get("decision") or {}
        mix = d.get("mixture")
        if not mix:
            continue
        cats = sorted(mix)
        series = [
            ("before", [mix[c]["share_before"] for c in cats]),
            ("target", [mix[c].get("target_share") or 0.0 for c in cats]),
            ("after", [mix[c]["share_after"] for c in cats]),
        ]
        unit = d.get("unit", "docs")
        parts.append(
            svg.grouped_hbar(
                f"mixture:{s['name']}", f"share of {unit} per domain", cats, series, pct
            )
        )
        rows = [
            [
                c,
                f"{mix[c]['docs_before']:,}",
                f"{mix[c]['docs_after']:,}",
                pct(mix[c]["share_before"]),
                pct(mix[c].get("target_share") or 0.0),
                pct(mix[c]["share_after"]),
                f"{mix[c].get('epochs', 0):.2f}",
            ]
            for c in cats
        ]
        parts.append(
            table(
                ["domain", "docs before", "docs after", "before", "target", "after", "epochs"], rows
            )
        )
        how = f"temperature {d['temperature']}" if d.get("mode") == "temperature" else "targets"
        parts.append(_note(f"Shares in {unit}; sampling rates from {how}."))
    if not parts:
        return ""
    return _section("mixture", "Domain mixture before and after remixing", *parts)


def blocklists(report: dict[str, Any]) -> str:
    """url_filter's hits per list and per UT1 category (a row may hit several)."""
    parts = []
    for s in report["stages"]:
        if s.get("stage", s["name"]) != "url_filter":
            continue
        extra = s.get("extra") or {}
        for prefix, what in (("category:", "UT1 category"), ("list:", "list")):
            rows = [
                [k[len(prefix) :], f"{v:,.0f}"] for k, v in extra.items() if k.startswith(prefix)
            ]
            if rows:
                parts.append(table([what, "rows matched"], sorted(rows, key=lambda r: r[0])))
    if not parts:
        return ""
    return _section("blocklists", "URL blocklists: rows matched per list and category", *parts)


def rehydration(report: dict[str, Any]) -> str:
    """rehydrate's up-sampling: rows and copies per range of duplicate-cluster size."""
    parts = []
    for s in report["stages"]:
        if s.get("stage", s["name"]) != "rehydrate":
            continue
        extra, rows = s.get("extra") or {}, []
        column = s["params"].get("column", "minhash_cluster_size")
        for key, n in extra.items():
            if key.startswith("rows:"):
                label = key[len("rows:") :]
                added = extra.get(f"copies:{label}", 0)
                each = 1 + added / n if n else 1
                rows.append([label, f"{each:g}", f"{n:,.0f}", f"{n + added:,.0f}"])
        rows.sort(key=lambda r: int(r[0].split("-")[0].rstrip("+")))
        parts.append(
            table(["cluster size", "copies each", "rows in", "rows out"], rows)
            + _note(
                f"{s['name']}: {s['docs_in']:,} rows in, {s['docs_added']:,} copies added "
                f"({s['docs_out']:,} out), by column {column}."
            )
        )
    if not parts:
        return ""
    return _section("rehydration", "Rehydration: up-sampling by duplicate-cluster size", *parts)


def timings(report: dict[str, Any]) -> str:
    rows, bars = [], []
    for s in report["stages"]:
        sec = s.get("seconds") or 0.0
        docs_s = f"{s['docs_in'] / sec:,.0f}" if sec else "-"
        mb_s = f"{s['bytes_in'] / 1e6 / sec:,.2f}" if sec else "-"
        rows.append([s["name"], s["kind"], f"{sec:,.1f}", docs_s, mb_s])
        bars.append((s["name"], sec, f"{sec:,.1f} s ({docs_s} docs/s)"))
    t = report["totals"]
    rows.append(
        ["total (wall)", "", f"{t['seconds']:,.1f}", f"{t['docs_per_second']:,.0f}",
         f"{t['mb_per_second']:,.2f}"]
    )  # fmt: skip
    passes = report.get("timings", {}).get("passes", [])
    pass_rows = [
        [p["pass"], ", ".join(p["stages"]), p.get("shards_run", ""), f"{p['seconds']:,.1f}",
         f"{p['decide_seconds']:,.2f}" if "decide_seconds" in p else "-"]
        for p in passes
    ]  # fmt: skip
    return _section(
        "timings",
        "Timings and throughput",
        svg.hbar("stage-seconds", "seconds in each stage, summed over workers", bars),
        table(["stage", "kind", "seconds", "docs/s", "MB/s"], rows),
        _note("Stage seconds are summed over workers; the total is wall-clock time."),
        table(["pass", "stages", "shards run", "seconds", "decide seconds"], pass_rows, "left")
        if pass_rows
        else "",
    )


def run_info(report: dict[str, Any]) -> str:
    ex = report.get("executor", {})
    fp = report.get("input", {}).get("fingerprint", {})
    params = [
        [s["name"], s["kind"], json.dumps(s.get("params", {}), sort_keys=True)]
        for s in report["stages"]
    ]
    inputs = [[p, f] for p, f in fp.get("inputs", [])]
    q = report.get("quarantine", {})
    quarantine = [[k, f"{v:,}"] for k, v in sorted(q.get("by_error", {}).items())]
    quarantine += [[f"file {f['path']}", f["error"]] for f in q.get("files", [])]
    return _section(
        "run",
        "Run",
        table(
            ["", ""],
            [
                ["pipeline", report["pipeline"]],
                ["curate", report.get("curate_version", "")],
                ["input", ", ".join(report.get("input", {}).get("paths", []))],
                ["files", report.get("input", {}).get("files", "")],
                ["shards", report.get("input", {}).get("shards", "")],
                ["config fingerprint", fp.get("config", "")],
                ["executor", ", ".join(f"{k} {v}" for k, v in ex.items())],
                ["quarantined", f"{q.get('docs', 0):,} docs, {len(q.get('files', []))} files"],
            ],
            cls="left",
        ),
        "<h3>Parameters</h3>",
        table(["stage", "kind", "parameters"], params, cls="left"),
        "<h3>Quarantine</h3>" + table(["error", "docs"], quarantine, cls="left")
        if quarantine
        else "",
        "<details><summary>Input fingerprint (size:hash of each file's footer)</summary>"
        + table(["file", "size:hash"], inputs, cls="left")
        + "</details>"
        if inputs
        else "",
    )
