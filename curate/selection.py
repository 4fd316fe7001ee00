"""Exact order statistics over collected columns, without one process holding a column.

A barrier that needs a percentile per group (perplexity_filter) or a cut in hash order (remix)
runs reduce tasks over spans of the collected rows. Each task returns a small histogram per
group; the driver finds the bin that holds each wanted rank, and the next round fetches only the
values inside those bins, or, beyond ``CAP`` values in a round, splits the fullest bins into
``SPLIT`` narrower bins and looks again. The driver holds O(groups x bins + CAP) numbers, never
a column that grows with the corpus, and the answer is the exact k-th smallest value (no sketch
error).

Finite float values (perplexity; |v| below 1e307) start from ``FINE_EDGES``: 128 log-spaced
bins per factor of two (0.54% wide). A log-normal group with sigma 0.6 (in ln) puts at most 0.36%
of its values in one bin: 1.1e7 of a 3e9-document group, so its windows are split once or twice
before their values are fetched; the sample's bins hold a handful of values, so the answer
takes two reads of the collected keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa

from curate import storage
from curate.collected import CollectedFiles
from curate.executors.base import task_memory

CAP = 1 << 20  # values one round may send back to the driver, all windows (8 MB of float64)
SPLIT = 1024  # sub-bins a window too full to fetch is split into
ROWS_PER_TASK = 1 << 20  # collected rows one reduce task reads (whole files when it can)
PER_OCTAVE = 128
FINE_EDGES = np.concatenate(
    [[-np.inf], np.exp2(np.arange(-40 * PER_OCTAVE, 64 * PER_OCTAVE + 1) / PER_OCTAVE), [np.inf]]
)


def spans(collected: Any, rows: int | None = None) -> list[tuple[int, int]]:
    """Row ranges [start, stop) covering the collected rows, one per reduce task. With files
    (``CollectedFiles.starts``), whole files are grouped so that no file is read twice."""
    rows = rows or ROWS_PER_TASK
    n = int(collected.num_rows)
    starts = getattr(collected, "starts", None)
    if starts is None:
        return [(a, min(a + rows, n)) for a in range(0, n, rows)]
    out, a = [], 0
    for b in (int(s) for s in starts[1:]):
        if b - a >= rows:
            out.append((a, b))
            a = b
    if a < n:
        out.append((a, n))
    return out


def span_memory(collected: Any, spans: list[tuple[int, int]]) -> int | None:
    """What the largest span's task may hold (``executors.base.task_memory`` of its files'
    bytes); None for keys held in memory."""
    if not isinstance(collected, CollectedFiles) or not collected.paths or not spans:
        return None
    starts = np.asarray(collected.starts)
    sizes = np.array([storage.path(p).stat().st_size for p in collected.paths], np.int64)
    first = np.searchsorted(starts[:-1], [a for a, _ in spans], "left")
    stop = np.searchsorted(starts[:-1], [b for _, b in spans], "left")
    largest = max(int(sizes[f:t].sum()) for f, t in zip(first, stop))
    return task_memory(largest)


def read_span(collected: Any, columns: list[str], span: tuple[int, int]) -> pa.Table:
    return collected.take(columns, np.arange(span[0], span[1], dtype=np.int64))


def fine_bins(values: np.ndarray) -> np.ndarray:
    """Index of each value's bin in ``FINE_EDGES`` (bin i holds edges[i] <= v < edges[i + 1])."""
    return np.searchsorted(FINE_EDGES, np.minimum(values, np.finfo(float).max), "right") - 1


def split_edges(lo: float, hi: float) -> np.ndarray:
    """``SPLIT`` + 1 edges over [lo, hi); the same floats in every process."""
    edges = lo + (hi - lo) * (np.arange(SPLIT + 1) / SPLIT)
    edges[0], edges[-1] = lo, hi
    return np.maximum.accumulate(edges)


def window_parts(values: np.ndarray, windows: list[tuple[int, float, float, bool]]) -> dict:
    """Task side: for each window (id, lo, hi, split) of one group, the values in it, or, to
    split it, counts over ``split_edges`` with the smallest and largest value."""
    out: dict[int, tuple] = {}
    for wid, lo, hi, split in windows:
        mine = values[(values >= lo) & (values < hi)]
        if not split:
            out[wid] = ("values", mine)
        elif len(mine):
            bins = np.searchsorted(split_edges(lo, hi), mine, "right") - 1
            counts = np.bincount(bins, minlength=SPLIT)
            out[wid] = ("split", counts, float(mine.min()), float(mine.max()))
        else:
            out[wid] = ("split", np.zeros(SPLIT, np.int64), np.inf, -np.inf)
    return out


def merge_parts(into: dict, parts: dict) -> None:
    """Driver side: add one task's ``window_parts`` into the running merge."""
    for wid, part in parts.items():
        if wid not in into:
            into[wid] = (part[0], [part[1]]) if part[0] == "values" else part
        elif part[0] == "values":
            into[wid][1].append(part[1])
        else:
            _, counts, lo, hi = into[wid]
            into[wid] = ("split", counts + part[1], min(lo, part[2]), max(hi, part[3]))


def fetch_within(cap: int, counts: dict[Any, int]) -> set[Any]:
    """The windows whose values one round fetches: smallest first, at most ``cap`` values in
    all; the others are split (``SPLIT`` times narrower each round)."""
    out, total = set(), 0
    for key, count in sorted(counts.items(), key=lambda kv: kv[1]):
        if total + count > cap:
            break
        out.add(key)
        total += count
    return out


@dataclass
class Window:
    key: str
    lo: float
    hi: float
    offset: int  # values of the group below lo
    count: int
    ranks: list[int] = field(default_factory=list)


class RankSearch:
    """Driver side of the search: the exact k-th smallest value (0-based rank) of each group,
    with the number of the group's values at or below it."""

    def __init__(self, cap: int | None = None):
        self.cap = cap or CAP
        self.pending: dict[int, Window] = {}
        self.found: dict[str, dict[int, tuple[float, int]]] = {}
        self.rounds = 0
        self.fetched = 0  # values sent to the driver, all rounds
        self.largest_round = 0  # values sent to the driver in one round, at most ``cap``
        self._next = 0

    def start(self, key: str, counts: np.ndarray, vmin: float, vmax: float, ranks: Iterable[int]):
        """``counts`` over ``FINE_EDGES``; windows are clipped to [vmin, vmax] so that every
        split is over finite bounds."""
        self.found.setdefault(key, {})
        hi = float(np.nextafter(vmax, np.inf))
        self._locate(key, counts, FINE_EDGES, 0, sorted(set(ranks)), vmin, hi)

    def _locate(self, key, counts, edges, offset, ranks, vmin, vmax) -> None:
        cum = np.cumsum(counts)
        by_bin: dict[int, list[int]] = {}
        for r in ranks:
            by_bin.setdefault(int(np.searchsorted(cum, r - offset, "right")), []).append(r)
        for b, rs in by_bin.items():
            below = offset + (int(cum[b - 1]) if b else 0)
            lo, hi = max(float(edges[b]), vmin), min(float(edges[b + 1]), vmax)
            self.pending[self._next] = Window(key, lo, hi, below, int(counts[b]), rs)
            self._next += 1

    def request(self) -> dict[str, list[tuple[int, float, float, bool]]]:
        """What the next round's tasks look for, per group: the smallest windows' values while
        they fit in ``cap`` (one round's budget, over all groups), the others split."""
        fetch = fetch_within(self.cap, {wid: w.count for wid, w in self.pending.items()})
        out: dict[str, list] = {}
        for wid, w in self.pending.items():
            out.setdefault(w.key, []).append((wid, w.lo, w.hi, wid not in fetch))
        return out

    def update(self, merged: dict) -> None:
        """Take a round's merged ``window_parts``; split windows give narrower ones."""
        self.rounds += 1
        this_round = sum(sum(map(len, p[1])) for p in merged.values() if p[0] == "values")
        self.largest_round = max(self.largest_round, this_round)
        pending, self.pending = self.pending, {}
        for wid, w in pending.items():
            part = merged.get(wid)
            if part is None or part[0] == "values":
                vals = np.sort(np.concatenate(part[1])) if part else np.empty(0)
                self.fetched += len(vals)
                if len(vals) != w.count:
                    raise RuntimeError(f"{w.key}: {len(vals)} values in a bin of {w.count}")
                for r in w.ranks:
                    v = vals[r - w.offset]
                    at_or_below = w.offset + int(np.searchsorted(vals, v, "right"))
                    self.found[w.key][r] = (float(v), at_or_below)
            else:
                _, counts, lo, hi = part
                if lo == hi:  # one value fills the window
                    for r in w.ranks:
                        self.found[w.key][r] = (lo, w.offset + w.count)
                    continue
                self._locate(w.key, counts, split_edges(w.lo, w.hi), w.offset, w.ranks, w.lo, w.hi)

    @property
    def done(self) -> bool:
        return not self.pending
