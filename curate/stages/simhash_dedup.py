"""simhash_dedup: near-duplicate removal of sentences, paragraphs or documents with SimHash.

Boilerplate (cookie notices, navigation, licence footers) repeats with small variations across
otherwise different pages. Each unit gets a 64-bit SimHash (Charikar 2002) of its token n-grams
after normalisation (NFKC, lowercase, digits -> 0, so date stamps and counters do not make a unit
new). Two units are near-duplicates when their fingerprints differ in at most ``hamming`` bits.

Search uses permuted tables (Manku, Jain, Das Sarma 2007): split the 64 bits into ``hamming + 1``
blocks; by pigeonhole, two fingerprints within distance ``hamming`` agree exactly on at least one
block, so grouping by each block in turn (``hamming + 1`` tables) finds every candidate pair, and a
popcount check keeps the true ones. The search is exact, not approximate (tested against all
pairs). Identical fingerprints are collapsed first, so a footer repeated on 10^5 pages costs one
entry, not 10^10 pairs. Near-duplicate pairs are joined into clusters by union-find.

A cluster whose units occur in at least ``min_docs`` documents is boilerplate: its occurrences are
cut from every document but the first (earliest by date, then dump, then input order; or from all
with ``keep_first: false``). A document left with under ``min_chars`` characters or under
``min_fraction`` of its original length goes as a whole with reason ``simhash_boilerplate``;
otherwise it stays with its text shortened. Units under ``min_tokens`` tokens are left alone.

With 64 bits and ``hamming: 3``, near-duplicate means near-identical (cosine of the feature sets
above ~0.99): on short units the normalisation, not the distance, is what absorbs the variation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from curate.stages.base import (
    ROW,
    SHARD,
    RowRemovalStage,
    Verdict,
    register,
    split_rows_by_shard,
)
from curate.text import ngrams, normalize_for_features, split_units, tokens

_MASK = re.compile(r"\S+@\S+|\d{4,}|\+?\d[\d\s-]{6,}\d")


@dataclass
class SimhashDedupConfig:
    level: Literal["sentence", "paragraph", "document"] = "sentence"
    hamming: int = 3  # Manku et al. 2007: k = 3 for 64-bit fingerprints
    ngram: int = 3  # text-dedup's SimHash default
    weights: Literal["binary", "tf"] = "binary"  # tf: a repeated n-gram counts more
    min_tokens: int = 3  # shorter units ("Home", "Next") are left alone
    min_docs: int = 2  # a unit in this many documents is boilerplate
    keep_first: bool = True  # the first occurrence stays, as datatrove/C4 do for exact spans
    keep: Literal["earliest", "latest"] = "earliest"  # which document counts as first
    min_chars: int = 100  # a document left shorter than this goes as a whole
    min_fraction: float = 0.2  # ... or left with less than this share of its text
    preview_chars: int = 60  # characters of each unit kept to show the top boilerplate

    def validate(self) -> None:
        if not 0 <= self.hamming <= 15:
            raise ValueError("hamming must be between 0 and 15 (blocks of >= 4 bits)")
        if self.ngram < 1 or self.min_docs < 1 or self.min_tokens < 1:
            raise ValueError("ngram, min_docs and min_tokens must be >= 1")
        if not 0 <= self.min_fraction <= 1:
            raise ValueError("min_fraction must be between 0 and 1")


# ---------------------------------------------------------------- fingerprints

_BITS = np.arange(64, dtype=np.uint64)


def simhash(features: list[list[str]], weights: str = "binary") -> np.ndarray:
    """64-bit SimHash of each unit's features: xxh3-64 per feature; bit i of the fingerprint is
    set when more than half of the features (counted with multiplicity for ``tf``) have it set."""
    if weights == "binary":
        features = [list(dict.fromkeys(f)) for f in features]
    counts = np.fromiter((len(f) for f in features), np.int64, len(features))
    out = np.zeros(len(features), dtype=np.uint64)
    flat = [g for f in features for g in f]
    if not flat:
        return out
    hashes = np.fromiter((xxhash.xxh3_64_intdigest(g.encode()) for g in flat), np.uint64, len(flat))
    ends = np.cumsum(counts)
    # Chunks of whole units, about 2^18 features each, bound the bit matrix to ~16 MB.
    unit = 0
    while unit < len(features):
        stop = int(np.searchsorted(ends, ends[unit] - counts[unit] + (1 << 18), side="right"))
        stop = max(stop, unit + 1)
        a, b = ends[unit] - counts[unit], ends[stop - 1]
        present = np.flatnonzero(counts[unit:stop]) + unit
        if len(present):
            bits = ((hashes[a:b, None] >> _BITS) & np.uint64(1)).astype(np.uint8)
            starts = (ends[present] - counts[present]) - a
            ones = np.add.reduceat(bits, starts, axis=0, dtype=np.int32)
            majority = (2 * ones > counts[present, None]).astype(np.uint64)
            out[present] = (majority << _BITS).sum(axis=1, dtype=np.uint64)
        unit = stop
    return out


def unit_features(text: str, ngram: int) -> tuple[list[str], int]:
    toks = tokens(normalize_for_features(text))
    return ngrams(toks, ngram), len(toks)


# ---------------------------------------------------------------- near-duplicate search


def block_layout(hamming: int) -> list[tuple[int, int]]:
    """(shift, width) of the hamming + 1 blocks that tile the 64 bits."""
    blocks = hamming + 1
    widths = [64 // blocks + (1 if i < 64 % blocks else 0) for i in range(blocks)]
    shifts = np.concatenate([[0], np.cumsum(widths)[:-1]]).tolist()
    return list(zip(shifts, widths))


def _pairs_within_groups(order: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j) pairs of positions that share a key; ``order`` sorts ``keys``."""
    sorted_keys = keys[order]
    n = len(order)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    ends = np.r_[starts[1:], n]
    group_end = np.repeat(ends, ends - starts)  # for each position, where its group ends
    counts = group_end - np.arange(n) - 1  # partners after it in the group
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    left = np.repeat(np.arange(n), counts)
    offsets = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    right = left + 1 + offsets
    return order[left], order[right]


def near_duplicate_pairs(fps: np.ndarray, hamming: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i < j) of fingerprints within ``hamming`` bits, by permuted tables."""
    fps = np.asarray(fps, dtype=np.uint64)
    found_i, found_j = [], []
    for shift, width in block_layout(hamming):
        keys = (fps >> np.uint64(shift)) & np.uint64((1 << width) - 1)
        order = np.argsort(keys, kind="stable")
        i, j = _pairs_within_groups(order, keys)
        close = np.bitwise_count(fps[i] ^ fps[j]) <= hamming
        found_i.append(i[close])
        found_j.append(j[close])
    i = np.concatenate(found_i) if found_i else np.empty(0, np.int64)
    j = np.concatenate(found_j) if found_j else np.empty(0, np.int64)
    lo, hi = np.minimum(i, j), np.maximum(i, j)
    code = np.unique(lo.astype(np.int64) * len(fps) + hi)
    return code // len(fps), code % len(fps)


def connected_components(n: int, i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """Union-find by vectorised min-label propagation with pointer jumping: label per node."""
    labels = np.arange(n)
    if len(i) == 0:
        return labels
    while True:
        low = np.minimum(labels[i], labels[j])
        before = labels.copy()
        np.minimum.at(labels, i, low)
        np.minimum.at(labels, j, low)
        while True:  # pointer jumping: follow labels to their roots
            jumped = labels[labels]
            if np.array_equal(jumped, labels):
                break
            labels = jumped
        if np.array_equal(labels, before):
            return labels


# ---------------------------------------------------------------- the stage


@register
class SimhashDedup(RowRemovalStage):
    name = "simhash_dedup"
    Config = SimhashDedupConfig
    kind = "global"

    def collect(self, batch: pa.RecordBatch) -> pa.Table:
        cfg = self.config
        rows, starts, ends, feats, previews = [], [], [], [], []
        for row, text in zip(batch.column(ROW).to_pylist(), batch.column("text").to_pylist()):
            for start, end in split_units(text, cfg.level):
                unit = text[start:end]
                grams, n_tokens = unit_features(unit, cfg.ngram)
                if n_tokens < cfg.min_tokens:
                    continue
                rows.append(row)
                starts.append(start)
                ends.append(end)
                feats.append(grams)
                previews.append(unit[: cfg.preview_chars])
        n_docs = batch.num_rows
        index = pc.index_in(pa.array(rows, pa.int64()), value_set=batch.column(ROW))
        return pa.table(
            {
                ROW: pa.array(rows, pa.int64()),
                "start": pa.array(starts, pa.int32()),
                "end": pa.array(ends, pa.int32()),
                "simhash": pa.array(simhash(feats, cfg.weights), pa.uint64()),
                "date": _take(batch, "date", index, n_docs),
                "dump": _take(batch, "dump", index, n_docs),
                "domain": _take(batch, "domain", index, n_docs),
                "preview": pa.array(previews, pa.string()),
            }
        )

    def decide(self, collected: pa.Table) -> tuple[Any, dict[str, Any]]:
        cfg = self.config
        n = collected.num_rows
        summary: dict[str, Any] = {"units": n}
        if n == 0:
            return {}, summary | {"units_removed": 0}
        fps = collected.column("simhash").to_numpy()
        distinct, inverse = np.unique(fps, return_inverse=True)
        i, j = near_duplicate_pairs(distinct, cfg.hamming)
        cluster = connected_components(len(distinct), i, j)[inverse]
        # A document is (shard, row); rank documents in survivor order.
        doc = collected.column(SHARD).to_numpy().astype(np.int64) << 40
        doc |= collected.column(ROW).to_numpy().astype(np.int64)
        missing = "\uffff" if cfg.keep == "earliest" else ""
        date = pc.fill_null(collected.column("date"), missing).to_numpy(zero_copy_only=False)
        dump = pc.fill_null(collected.column("dump"), missing).to_numpy(zero_copy_only=False)
        if cfg.keep == "earliest":
            rank_order = np.lexsort((doc, dump, date))
        else:  # newest first; ties by input order
            rank_order = np.lexsort((doc, _desc(dump), _desc(date)))
        doc_rank = np.empty(n, np.int64)
        doc_rank[rank_order] = np.arange(n)
        # Per cluster: how many distinct documents, and the first one's rank.
        doc_first = _group_min(doc, doc_rank)  # rank of a document = rank of its first unit
        by_cluster = np.lexsort((doc_first, cluster))
        c_sorted, d_sorted = cluster[by_cluster], doc_first[by_cluster]
        new_cluster = np.r_[True, c_sorted[1:] != c_sorted[:-1]]
        new_doc = new_cluster | np.r_[True, d_sorted[1:] != d_sorted[:-1]]
        cluster_ids = c_sorted[new_cluster]
        docs_per_cluster = np.add.reduceat(new_doc, np.flatnonzero(new_cluster))
        first_rank = d_sorted[new_cluster]
        pos = np.searchsorted(cluster_ids, cluster)
        seen = docs_per_cluster[pos] >= cfg.min_docs
        later = doc_first > first_rank[pos]
        remove = seen & (later if cfg.keep_first else True)
        removed = collected.filter(pa.array(remove))
        lengths = removed.column("end").to_numpy() - removed.column("start").to_numpy()
        summary |= {
            "distinct_fingerprints": int(len(distinct)),
            "near_duplicate_pairs": int(len(i)),
            "boilerplate_clusters": int((docs_per_cluster >= cfg.min_docs).sum()),
            "units_removed": int(remove.sum()),
            "chars_removed": int(lengths.sum()),
            "by_dump": _breakdown(removed, "dump", lengths),
            "by_domain": _breakdown(removed, "domain", lengths),
            "top_removed": _top_units(collected, cluster, remove, docs_per_cluster, pos),
        }
        cuts = removed.select([SHARD, ROW, "start", "end"])
        return split_rows_by_shard(cuts), summary

    def apply(self, batch: pa.RecordBatch, decision: Any) -> Verdict:
        cfg = self.config
        n = batch.num_rows
        if decision is None or decision.num_rows == 0:
            return Verdict.keep_all(batch, {"units_removed": 0, "chars_removed": 0})
        cuts: dict[int, list[tuple[int, int]]] = {}
        for row, start, end in zip(
            *(decision.column(c).to_pylist() for c in (ROW, "start", "end"))
        ):
            cuts.setdefault(row, []).append((start, end))
        texts = batch.column("text").to_pylist()
        reasons: list[str | None] = [None] * n
        units = chars = shortened = 0
        for k, row in enumerate(batch.column(ROW).to_pylist()):
            spans = cuts.get(row)
            if not spans:
                continue
            original = texts[k]
            kept = cut_spans(original, spans)
            units += len(spans)
            chars += len(original) - len(kept)
            if len(kept) < cfg.min_chars or len(kept) < cfg.min_fraction * len(original):
                reasons[k] = "simhash_boilerplate"
            else:
                texts[k] = kept
                shortened += 1
        batch = batch.set_column(
            batch.schema.get_field_index("text"), "text", pa.array(texts, pa.string())
        )
        stats = {"units_removed": units, "chars_removed": chars, "docs_shortened": shortened}
        return Verdict(batch, pa.array(reasons, pa.string()), stats=stats)


def cut_spans(text: str, spans: list[tuple[int, int]]) -> str:
    """``text`` without the given spans and the whitespace that followed each of them."""
    pieces = []
    pos = 0
    for start, end in sorted(spans):
        if start < pos:
            continue
        pieces.append(text[pos:start])
        pos = end
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos < len(text) and text[pos] == "\n" and (not pieces[-1] or pieces[-1][-1] == "\n"):
            pos += 1  # a line that held only the unit goes with it
    pieces.append(text[pos:])
    return "".join(pieces).strip()


def _take(batch: pa.RecordBatch, name: str, index: pa.Array, n: int) -> pa.Array:
    if name not in batch.schema.names:
        return pa.nulls(len(index), pa.string())
    return pc.take(pc.cast(batch.column(name), pa.string()), index)


def _desc(values: np.ndarray) -> np.ndarray:
    """Integer codes that sort strings in descending order."""
    _, codes = np.unique(values, return_inverse=True)
    return -codes


def _group_min(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
    """For each element, the minimum of ``values`` over elements with the same key."""
    uniq, inverse = np.unique(keys, return_inverse=True)
    mins = np.full(len(uniq), np.iinfo(np.int64).max)
    np.minimum.at(mins, inverse, values)
    return mins[inverse]


def _breakdown(removed: pa.Table, column: str, lengths: np.ndarray) -> dict[str, dict[str, int]]:
    labels = pc.fill_null(removed.column(column), "unknown").to_pylist()
    out: dict[str, dict[str, int]] = {}
    for label, length in zip(labels, lengths.tolist()):
        entry = out.setdefault(label, {"units_removed": 0, "chars_removed": 0})
        entry["units_removed"] += 1
        entry["chars_removed"] += length
    return dict(sorted(out.items()))


def _top_units(collected, cluster, remove, docs_per_cluster, pos, top: int = 10) -> list[dict]:
    """The most often removed boilerplate, with digits, emails and phone-like runs masked."""
    if not remove.any():
        return []
    ids, counts = np.unique(cluster[remove], return_counts=True)
    best = np.argsort(-counts, kind="stable")[:top]
    previews = collected.column("preview")
    out = []
    for b in best:
        first = int(np.flatnonzero(cluster == ids[b])[0])
        out.append(
            {
                "text": _MASK.sub("***", previews[first].as_py()),
                "removed": int(counts[b]),
                "documents": int(docs_per_cluster[pos[first]]),
            }
        )
    return out
