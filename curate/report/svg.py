"""Chart primitives: small inline SVG drawn from plain numbers, no JavaScript, no network.

Every chart is one ``<svg data-chart="NAME">`` element in a ``<figure>`` with its title;
colours come from CSS classes (``bar``, ``bar-2``, ``bar-3``, ``marker``) that the page's
stylesheet defines. All text is escaped here, so callers pass raw labels.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from html import escape

WIDTH = 720
ROW = 18  # height of one horizontal bar
LABEL_W = 230  # room for category labels at the left
FONT = 11


def _svg(chart: str, title: str, width: float, height: float, body: list[str]) -> str:
    return (
        f"<figure><figcaption>{escape(title)}</figcaption>"
        f'<svg data-chart="{escape(chart)}" role="img" aria-label="{escape(title)}" '
        f'xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-size="{FONT}">'
        f"<title>{escape(title)}</title>" + "".join(body) + "</svg></figure>"
    )


def _text(x: float, y: float, s: str, anchor: str = "start", cls: str = "") -> str:
    c = f' class="{cls}"' if cls else ""
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}"{c}>{escape(s)}</text>'


def _clip(label: str, n: int = 36) -> str:
    return label if len(label) <= n else label[: n - 1] + "\u2026"


def hbar(
    chart: str,
    title: str,
    rows: Sequence[tuple[str, float, str]],
    *,
    scale_max: float | None = None,
) -> str:
    """Horizontal bars: (label, value, annotation printed after the bar) per row."""
    top = 6
    height = top + ROW * len(rows) + 6
    vmax = scale_max or max((v for _, v, _ in rows), default=0) or 1
    span = WIDTH - LABEL_W - 150
    body = []
    for i, (label, value, note) in enumerate(rows):
        y = top + i * ROW
        w = max(0.0, span * value / vmax)
        body.append(_text(LABEL_W - 6, y + 12, _clip(label), "end"))
        body.append(
            f'<rect class="bar" x="{LABEL_W}" y="{y + 2}" width="{w:.1f}" height="{ROW - 4}">'
            f"<title>{escape(f'{label}: {note}')}</title></rect>"
        )
        body.append(_text(LABEL_W + w + 4, y + 12, note))
    return _svg(chart, title, WIDTH, height, body)


def grouped_hbar(
    chart: str,
    title: str,
    categories: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None]]],
    fmt: Callable[[float], str],
    *,
    scale_max: float | None = None,
) -> str:
    """One group of bars per category, one bar per series (at most 3), with a legend on top.

    A None value (e.g. a stage one of two compared runs lacks) draws no bar and reads '-'.
    """
    per = ROW - 4
    group_h = per * len(series) + 8
    top = 22
    height = top + group_h * len(categories) + 4
    values = [v for _, vs in series for v in vs if v is not None]
    vmax = scale_max or max(values, default=0) or 1
    span = WIDTH - LABEL_W - 110
    classes = ["bar", "bar-2", "bar-3"]
    body = []
    x = LABEL_W
    for j, (name, _) in enumerate(series):
        body.append(f'<rect class="{classes[j]}" x="{x}" y="4" width="10" height="10"/>')
        body.append(_text(x + 14, 13, name))
        x += 30 + 7 * len(name)
    for i, cat in enumerate(categories):
        y0 = top + i * group_h
        body.append(_text(LABEL_W - 6, y0 + group_h / 2 + 2, _clip(cat), "end"))
        for j, (name, vs) in enumerate(series):
            y = y0 + j * per
            w = max(0.0, span * (vs[i] or 0.0) / vmax)
            note = "-" if vs[i] is None else fmt(vs[i])
            body.append(
                f'<rect class="{classes[j]}" x="{LABEL_W}" y="{y}" width="{w:.1f}" '
                f'height="{per - 2}"><title>{escape(f"{cat}, {name}: {note}")}</title></rect>'
            )
            body.append(_text(LABEL_W + w + 4, y + per - 4, note))
    return _svg(chart, title, WIDTH, height, body)


def histogram(
    chart: str,
    title: str,
    edges: Sequence[float],
    counts: Sequence[int],
    markers: Sequence[tuple[float, str]] = (),
    *,
    log_x: bool = True,
) -> str:
    """Bars over ``edges`` (len(counts) + 1) and labelled vertical lines at ``markers``."""
    if len(edges) != len(counts) + 1:
        raise ValueError(f"{chart}: {len(edges)} edges for {len(counts)} bins")
    left, right, top, bottom = 50, 20, 24, 34
    height = 200
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    f = math.log10 if log_x else float
    lo, hi = f(edges[0]), f(edges[-1])

    def x_of(v: float) -> float:
        v = min(max(v, edges[0]), edges[-1])
        return left + plot_w * (f(v) - lo) / ((hi - lo) or 1)

    cmax = max(counts, default=0) or 1
    body = [
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
        f'y2="{top + plot_h}"/>',
        _text(left - 4, top + 8, f"{cmax:,}", "end"),
        _text(left - 4, top + plot_h, "0", "end"),
    ]
    for i, c in enumerate(counts):
        x0, x1 = x_of(edges[i]), x_of(edges[i + 1])
        h = plot_h * c / cmax
        body.append(
            f'<rect class="bar" x="{x0:.1f}" y="{top + plot_h - h:.1f}" '
            f'width="{max(x1 - x0 - 1, 0.5):.1f}" height="{h:.1f}">'
            f"<title>{escape(f'{edges[i]:,.4g} to {edges[i + 1]:,.4g}: {c:,}')}</title></rect>"
        )
    for t in _ticks(edges[0], edges[-1], log_x):
        body.append(_text(x_of(t), top + plot_h + 14, f"{t:,.4g}", "middle"))
    for k, (value, label) in enumerate(markers):
        x = x_of(value)
        body.append(
            f'<line class="marker" x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{top + plot_h}">'
            f"<title>{escape(label)}</title></line>"
        )
        body.append(_text(x + 3, top - 8 + 10 * (k % 2), label, cls="marker-label"))
    body.append(_text(left + plot_w / 2, height - 4, "perplexity (log scale)", "middle"))
    return _svg(chart, title, WIDTH, height, body)


def line(
    chart: str,
    title: str,
    points: Sequence[tuple[str, float]],
    fmt: Callable[[float], str],
    *,
    y_max: float = 1.0,
) -> str:
    """A line over categorical x positions (e.g. 'first N dumps'), values labelled."""
    left, right, top, bottom = 50, 30, 16, 34
    height = 180
    plot_w, plot_h = WIDTH - left - right, height - top - bottom
    n = len(points)
    step = plot_w / max(n - 1, 1)
    xy = [
        (left + (i * step if n > 1 else plot_w / 2), top + plot_h * (1 - v / (y_max or 1)))
        for i, (_, v) in enumerate(points)
    ]
    body = [
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" '
        f'y2="{top + plot_h}"/>',
        _text(left - 4, top + 8, fmt(y_max), "end"),
        _text(left - 4, top + plot_h, fmt(0), "end"),
        '<polyline class="curve" points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in xy) + '"/>',
    ]
    for (label, v), (x, y) in zip(points, xy):
        body.append(f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="3"/>')
        body.append(_text(x, y - 6, fmt(v), "middle"))
        body.append(_text(x, top + plot_h + 14, label, "middle"))
    return _svg(chart, title, WIDTH, height, body)


def _ticks(lo: float, hi: float, log_x: bool) -> list[float]:
    if log_x and lo > 0:
        out = []
        for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1):
            for m in (1, 3):
                t = m * 10.0**e
                if lo <= t <= hi:
                    out.append(t)
        return out
    return [lo + (hi - lo) * k / 4 for k in range(5)]
