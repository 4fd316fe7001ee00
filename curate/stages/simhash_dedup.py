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
cut from every document but the first (in curate.index.survivor's order for ``keep``: earliest
dump, then date, then id; or from all with ``keep_first: false``). A document left with under
``min_chars`` characters or under ``min_fraction`` of its original length goes as a whole with
reason ``simhash_boilerplate``; otherwise it stays with its text shortened. Units under
``min_tokens`` tokens are left alone.

Across dumps (``index: DIR``, curate.index.store): each committed dump stores its distinct
fingerprints with their first document and cluster id (``part-00``), its documents per cluster
(``clusters``) and the committed clusters its run joined (``merges``); about 370 bytes per
document on the sample. A run searches its fingerprints against every committed dump's with the
same block tables, one dump at a time; a cluster that reaches back into committed dumps has its
first document there (already published), and counts their documents towards ``min_docs``. With
``keep: earliest`` and dumps committed in order, dump N through the index cuts exactly what
processing dumps 1..N together cuts from dump N, with one documented exception: when a run joins
two committed clusters, committed documents holding units of both are counted twice, which can
only matter with ``min_docs`` >= 3. Earlier dumps are never revised (joint processing could cut
more from them when a later dump links two of their clusters). Re-running a committed dump
together with new ones is allowed but stores the new dumps' clusters apart from the re-run
dump's, so later dumps may count fewer documents for them: commit new dumps in their own run.

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

from curate import arrays
from curate.errors import CurateError
from curate.index.store import (
    CommittedDump,
    DedupIndex,
    dump_fingerprints,
    fingerprint_ids,
    make_handle,
)
from curate.index.survivor import rank_of, survival_order
from curate.minhash import fmix64  # MurmurHash3's 64-bit finaliser
from curate.stages.base import (
    ROW,
    SHARD,
    RowRemovalStage,
    Verdict,
    column_or_nulls,
    register,
    split_rows_by_shard,
)
from curate.text import split_units, token_hashes

_MASK = re.compile(r"\S+@\S+|\d{4,}|\+?\d[\d\s-]{6,}\d")
PARTITIONS = 1  # one table of fingerprints per dump; the search tables are built in memory


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
    index: str | None = None  # persistent cross-dump index directory

    def validate(self) -> None:
        if not 0 <= self.hamming <= 15:
            raise ValueError("hamming must be between 0 and 15 (blocks of >= 4 bits)")
        if self.ngram < 1 or self.min_docs < 1 or self.min_tokens < 1:
            raise ValueError("ngram, min_docs and min_tokens must be >= 1")
        if not 0 <= self.min_fraction <= 1:
            raise ValueError("min_fraction must be between 0 and 1")


# ---------------------------------------------------------------- fingerprints

# n-gram hash: fmix64(sum_k xxh3_64(token_k) * GRAM_BASE^k mod 2^64), from the token hashes alone
GRAM_BASE = 0x9E3779B97F4A7C15  # odd: the golden-ratio constant of Fibonacci hashing


def simhash_of_hashes(hashes: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """64-bit SimHash per unit from its feature hashes (``counts[u]`` consecutive values each):
    bit i is set when more than half of the unit's features have bit i set."""
    counts = np.asarray(counts, np.int64)
    out = np.zeros(len(counts), np.uint64)
    ends = np.cumsum(counts)
    unit = 0
    while unit < len(counts):  # chunks of ~2^18 features bound the bit matrix to ~16 MB
        stop = int(np.searchsorted(ends, ends[unit] - counts[unit] + (1 << 18), side="right"))
        stop = max(stop, unit + 1)
        a, b = ends[unit] - counts[unit], ends[stop - 1]
        present = np.flatnonzero(counts[unit:stop]) + unit
        if len(present):
            octets = np.ascontiguousarray(hashes[a:b], dtype="<u8").view(np.uint8).reshape(-1, 8)
            # bit planes: row i holds bit i of every feature, so the sums run over contiguous memory
            planes = np.unpackbits(np.ascontiguousarray(octets.T), axis=0, bitorder="little")
            starts = (ends[present] - counts[present]) - a
            ones = np.add.reduceat(planes, starts, axis=1, dtype=np.int32)  # [bit, unit]
            majority = (2 * ones > counts[present]).astype(np.uint8)
            packed = np.packbits(majority, axis=0, bitorder="little")  # [octet, unit]
            out[present] = np.ascontiguousarray(packed.T).view("<u8")[:, 0]
        unit = stop
    return out


def simhash(features: list[list[str]], weights: str = "binary") -> np.ndarray:
    """64-bit SimHash of each unit's features, xxh3-64 per feature string (Charikar 2002)."""
    if weights == "binary":
        features = [list(dict.fromkeys(f)) for f in features]
    counts = np.fromiter((len(f) for f in features), np.int64, len(features))
    flat = (g.encode() for f in features for g in f)
    hashes = np.fromiter((xxhash.xxh3_64_intdigest(g) for g in flat), np.uint64, counts.sum())
    return simhash_of_hashes(hashes, counts)


def unit_fingerprints(
    units: list[str], ngram: int, min_tokens: int, weights: str = "binary"
) -> tuple[np.ndarray, np.ndarray]:
    """(SimHash, number of tokens) of each unit over its token ``ngram``-grams (one shorter gram
    for a unit of fewer tokens) after ``normalize_for_features``; 0 for units under
    ``min_tokens`` tokens. Vectorised: one tokeniser pass for all units, each distinct token
    hashed once, each distinct token sequence (repeated boilerplate) fingerprinted once."""
    token_hash, counts = token_hashes(units)
    starts = np.cumsum(counts) - counts
    powers = _powers(int(counts.max(initial=0)) + ngram)
    long = np.flatnonzero(counts >= min_tokens)
    seq = _sequence_hashes(token_hash, starts, counts, powers)[long]
    _, rep, back = np.unique(seq, return_index=True, return_inverse=True)
    todo = long[rep]
    grams = np.maximum(counts[todo] - ngram + 1, 1)  # n-grams per unit
    total = int(grams.sum())
    gram_unit = np.repeat(np.arange(len(todo)), grams)
    within = np.arange(total) - np.repeat(np.cumsum(grams) - grams, grams)
    pos = np.repeat(starts[todo], grams) + within
    width = np.minimum(counts[todo][gram_unit], ngram)
    acc = np.zeros(total, np.uint64)
    last = max(len(token_hash) - 1, 0)
    for k in range(ngram if len(token_hash) else 0):
        term = token_hash[np.minimum(pos + k, last)] * powers[k]
        acc += np.where(k < width, term, np.uint64(0))
    feats = fmix64(acc)
    if weights == "binary":  # each distinct n-gram of a unit counts once
        # one sort of a (unit, n-gram) hash; a 2^-64 collision would drop one n-gram of a unit
        key = feats + gram_unit.astype(np.uint64) * np.uint64(GRAM_BASE)
        keep = np.sort(np.unique(key, return_index=True)[1])
        gram_unit, feats = gram_unit[keep], feats[keep]
    out = np.zeros(len(units), np.uint64)
    out[long] = simhash_of_hashes(feats, np.bincount(gram_unit, minlength=len(todo)))[back]
    return out, counts


def _powers(n: int) -> np.ndarray:
    """GRAM_BASE^k mod 2^64 for k < n."""
    out = np.ones(max(n, 1), np.uint64)
    out[1:] = np.uint64(GRAM_BASE)
    return np.cumprod(out, dtype=np.uint64)


def _sequence_hashes(
    token_hash: np.ndarray, starts: np.ndarray, counts: np.ndarray, powers: np.ndarray
) -> np.ndarray:
    """A 64-bit hash of each unit's whole token sequence (equal sequences, equal hashes)."""
    out = np.zeros(len(counts), np.uint64)
    filled = np.flatnonzero(counts)
    if len(filled):
        pos = np.arange(len(token_hash)) - np.repeat(starts, counts)
        out[filled] = np.add.reduceat(token_hash * powers[pos], starts[filled], dtype=np.uint64)
    return fmix64(out ^ counts.astype(np.uint64))


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
    code = arrays.distinct(lo.astype(np.int64) * len(fps) + hi)
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
        """One row per document: its ids and labels, and list columns of its units."""
        cfg = self.config
        spans, units, doc = [], [], []
        for row, text in enumerate(batch.column("text").to_pylist()):
            for start, end in split_units(text, cfg.level):
                spans.append((start, end))
                units.append(text[start:end])
                doc.append(row)
        fps, n_tokens = unit_fingerprints(units, cfg.ngram, cfg.min_tokens, cfg.weights)
        keep = np.flatnonzero(n_tokens >= cfg.min_tokens)  # short units collide by chance
        span = np.array(spans, np.int32).reshape(-1, 2)[keep]
        per_doc = np.bincount(np.array(doc, np.int64)[keep], minlength=batch.num_rows)
        offsets = pa.array(np.r_[0, np.cumsum(per_doc)].astype(np.int32))
        previews = [units[k][: cfg.preview_chars] for k in keep.tolist()]

        def lists(values: Any, type_: pa.DataType) -> pa.ListArray:
            return pa.ListArray.from_arrays(offsets, pa.array(values, type_))

        return pa.table(
            {
                ROW: batch.column(ROW),
                "id": batch.column("id"),
                "dump": column_or_nulls(batch, "dump"),
                "date": column_or_nulls(batch, "date"),
                "domain": column_or_nulls(batch, "domain"),
                "start": lists(span[:, 0], pa.int32()),
                "end": lists(span[:, 1], pa.int32()),
                "simhash": lists(fps[keep], pa.uint64()),
                "preview": lists(previews, pa.string()),
            }
        )

    def decide(self, collected: pa.Table) -> tuple[Any, dict[str, Any]]:
        if not self.config.index:
            return self._decide(collected, None)
        index = DedupIndex(self.config.index, "simhash", self._index_params(), PARTITIONS)
        with index.locked():
            return self._decide(collected, index)

    def _index_params(self) -> dict[str, Any]:
        c = self.config
        return {
            "level": c.level,
            "hamming": c.hamming,
            "ngram": c.ngram,
            "weights": c.weights,
            "min_tokens": c.min_tokens,
            "keep": c.keep,
            "features": "nfkc-lower-digits0/xxh3-64",
        }

    def _decide(self, collected: pa.Table, index: DedupIndex | None) -> tuple[Any, dict[str, Any]]:
        cfg = self.config
        collected = collected.combine_chunks()
        n_docs = collected.num_rows
        summary: dict[str, Any] = {"documents": n_docs}
        if n_docs == 0:
            return {}, summary | {"units": 0, "units_removed": 0, "chars_removed": 0}
        units = Units.of(collected, cfg.keep)
        reference, new, run_dumps = [], [], {}
        if index is not None:
            run_dumps = dump_fingerprints(collected, self.name, cfg.index)
            reference, new = index.plan(run_dumps)
        graph = _cluster(units, cfg.hamming, cfg.min_docs, index, reference)
        remove = graph.seen & ~graph.first if cfg.keep_first else graph.seen
        summary |= graph.summary(units, remove)
        summary |= {
            "by_dump": _breakdown(units, remove, collected.column("dump")),
            "by_domain": _breakdown(units, remove, collected.column("domain")),
            "top_removed": _top_units(units, graph, remove),
        }
        if index is not None:
            _commit(index, collected, units, graph, new)
            summary["index"] = {
                "path": str(cfg.index),
                "deduplicated_against": [d.name for d in reference],
                "committed": new,
                "already_committed": sorted(set(run_dumps) - set(new)),
            }
        cuts = pa.table(
            {
                SHARD: collected.column(SHARD).take(pa.array(units.doc[remove])),
                ROW: collected.column(ROW).take(pa.array(units.doc[remove])),
                "start": pa.array(units.start[remove], pa.int32()),
                "end": pa.array(units.end[remove], pa.int32()),
            }
        )
        return split_rows_by_shard(cuts), summary

    def apply(self, batch: pa.RecordBatch, decision: Any) -> Verdict:
        """Cut the decided units; a page left too short goes as ``simhash_boilerplate``."""
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
            chars += sum(end - start for start, end in spans)  # as the decision counts them
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


@dataclass
class Units:
    """The run's units, flattened: document (row of ``collected``), span, fingerprint."""

    doc: np.ndarray
    start: np.ndarray
    end: np.ndarray
    fps: np.ndarray
    preview: pa.Array
    rank: np.ndarray  # survival rank of each unit's document (0 = the first document)

    @classmethod
    def of(cls, collected: pa.Table, keep: str) -> Units:
        doc = pc.list_parent_indices(collected.column("simhash").chunk(0)).to_numpy()
        doc = doc.astype(np.int64)
        doc_rank = rank_of(survival_order(collected, keep))

        def flat(name: str) -> pa.Array:
            return pc.list_flatten(collected.column(name).chunk(0))

        return cls(
            doc=doc,
            start=flat("start").to_numpy(),
            end=flat("end").to_numpy(),
            fps=flat("simhash").to_numpy(),
            preview=flat("preview"),
            rank=doc_rank[doc],
        )


@dataclass
class Clusters:
    """Near-duplicate clusters over the run's distinct fingerprints and the committed clusters
    they touch: per run unit its cluster, whether it is boilerplate, whether it is in the
    cluster's first document."""

    unit_cluster: np.ndarray  # cluster (component) of each unit
    seen: np.ndarray  # the unit's cluster is in >= min_docs documents
    first: np.ndarray  # the unit is in its cluster's first document (never for committed ones)
    docs: np.ndarray  # documents per cluster (committed + run)
    committed: np.ndarray  # committed cluster id per component, or -1
    linked_ids: np.ndarray  # committed clusters the run's units are near (canonical ids)
    linked_cluster: np.ndarray  # ... and the component each joined
    distinct: int
    pairs: int
    linked: int  # distinct fingerprints near one already committed

    def summary(self, units: Units, remove: np.ndarray) -> dict[str, Any]:
        lengths = units.end[remove] - units.start[remove]
        return {
            "units": len(units.fps),
            "distinct_fingerprints": self.distinct,
            "near_duplicate_pairs": self.pairs,
            "near_committed_fingerprints": self.linked,
            "boilerplate_clusters": int(len(arrays.distinct(self.unit_cluster[self.seen]))),
            "units_removed": int(remove.sum()),
            "chars_removed": int(lengths.sum()),
            "docs_cut": int(len(arrays.distinct(units.doc[remove]))),
        }


def _cluster(
    units: Units,
    hamming: int,
    min_docs: int,
    index: DedupIndex | None = None,
    reference: list[CommittedDump] | tuple = (),
) -> Clusters:
    """Nodes: the run's distinct fingerprints (0..m-1), then the committed clusters they are near
    (m..m+k-1); edges: near-duplicate pairs. Components are the clusters."""
    distinct, inverse = np.unique(units.fps, return_inverse=True)
    m = len(distinct)
    i, j = near_duplicate_pairs(distinct, hamming)
    link_u, link_c, ids, id_docs = _committed_links(distinct, hamming, index, reference)
    k = len(ids)
    comp = connected_components(
        m + k, np.r_[i, link_u].astype(np.int64), np.r_[j, m + np.searchsorted(ids, link_c)]
    )
    unit_cluster = comp[inverse]
    # documents per cluster: committed ones (stored counts) + the run's distinct documents
    docs = np.bincount(comp[m:], weights=id_docs, minlength=m + k).astype(np.int64)
    width = int(units.doc.max(initial=0)) + 1
    pair = arrays.distinct(unit_cluster * width + units.doc)
    docs += np.bincount(pair // width, minlength=m + k)
    none = np.iinfo(np.int64).max
    committed = np.full(m + k, none, np.int64)
    np.minimum.at(committed, comp[m:], ids)  # the oldest committed cluster names the component
    committed[committed == none] = -1
    first_rank = np.full(m + k, none, np.int64)
    np.minimum.at(first_rank, unit_cluster, units.rank)
    # a committed document always comes first: it is already published
    first = (committed[unit_cluster] < 0) & (units.rank == first_rank[unit_cluster])
    return Clusters(
        unit_cluster=unit_cluster,
        seen=docs[unit_cluster] >= min_docs,
        first=first,
        docs=docs,
        committed=committed,
        linked_ids=ids,
        linked_cluster=comp[m:],
        distinct=m,
        pairs=len(i),
        linked=int(len(arrays.distinct(link_u))),
    )


def near_pairs_between(a: np.ndarray, b: np.ndarray, hamming: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j) with ``a[i]`` within ``hamming`` bits of ``b[j]``, by the same block tables."""
    found_i, found_j = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
    for shift, width in block_layout(hamming):
        mask = np.uint64((1 << width) - 1)
        ka, kb = (a >> np.uint64(shift)) & mask, (b >> np.uint64(shift)) & mask
        order = np.argsort(kb, kind="stable")
        sorted_b = kb[order]
        lo = np.searchsorted(sorted_b, ka, "left")
        counts = np.searchsorted(sorted_b, ka, "right") - lo
        i = np.repeat(np.arange(len(a)), counts)
        offsets = np.arange(len(i)) - np.repeat(np.cumsum(counts) - counts, counts)
        j = order[np.repeat(lo, counts) + offsets]
        close = np.bitwise_count(a[i] ^ b[j]) <= hamming
        found_i.append(i[close])
        found_j.append(j[close])
    code = arrays.distinct(np.concatenate(found_i) * max(len(b), 1) + np.concatenate(found_j))
    return code // max(len(b), 1), code % max(len(b), 1)


def _committed_links(
    distinct: np.ndarray, hamming: int, index: DedupIndex | None, reference
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(run fingerprint, canonical committed cluster) links, the sorted linked cluster ids and
    their committed document counts. Committed dumps are read one at a time."""
    empty = np.empty(0, np.int64)
    if index is None or not reference:
        return empty, empty, empty, np.empty(0)
    canonical = _canonical(np.concatenate([_merges(index, d) for d in reference]))
    link_u, link_c = [empty], [empty]
    for d in reference:
        part = index.read(d, "part-00")
        u, c = near_pairs_between(distinct, part.column("key").to_numpy(), hamming)
        link_u.append(u)
        link_c.append(canonical(part.column("cluster").to_numpy()[c]))
    link_u, link_c = np.concatenate(link_u), np.concatenate(link_c)
    ids = arrays.distinct(link_c)
    docs = np.zeros(len(ids))
    for d in reference:
        clusters = index.read(d, "clusters")
        cid = canonical(clusters.column("cluster").to_numpy())
        pos = np.minimum(np.searchsorted(ids, cid), max(len(ids) - 1, 0))
        hit = (ids[pos] == cid) if len(ids) else np.zeros(len(cid), bool)
        np.add.at(docs, pos[hit], clusters.column("docs").to_numpy()[hit])
    return link_u, link_c, ids, docs


def _merges(index: DedupIndex, dump: CommittedDump) -> np.ndarray:
    merges = index.read(dump, "merges")
    return np.stack([merges.column("cluster").to_numpy(), merges.column("into").to_numpy()], 1)


def _canonical(merges: np.ndarray):
    """A function mapping committed cluster ids to the smallest id they were merged with."""
    nodes = arrays.distinct(merges)
    if not len(nodes):
        return lambda ids: np.asarray(ids, np.int64)
    label = connected_components(
        len(nodes), np.searchsorted(nodes, merges[:, 0]), np.searchsorted(nodes, merges[:, 1])
    )

    def canonical(ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, np.int64)
        pos = np.minimum(np.searchsorted(nodes, ids), len(nodes) - 1)
        return np.where(nodes[pos] == ids, nodes[label[pos]], ids)

    return canonical


def _commit(
    index: DedupIndex, collected: pa.Table, units: Units, graph: Clusters, new: list[str]
) -> None:
    """Commit each new dump: its distinct fingerprints with their first document and cluster id,
    the documents per cluster in this dump, and the committed clusters this run merged."""
    dumps = np.array(collected.column("dump").to_pylist(), object)
    order = survival_order(collected, index.params["keep"])
    seq_of = {d.name: d.seq for d in index.dumps()}
    top = max(seq_of.values(), default=0)
    seq_of.update({name: top + 1 + i for i, name in enumerate(new)})
    ordinal = np.empty(len(order), np.int64)  # a document's position in its dump's order
    for name in seq_of:
        rows = order[dumps[order] == name]
        ordinal[rows] = np.arange(len(rows))
    # a new cluster is named by this run's first sequence number and its number in the run
    comp = graph.unit_cluster
    name = make_handle(top + 1, np.arange(len(graph.docs)))
    name = np.where(graph.committed >= 0, graph.committed, name)
    merges = pa.table({"cluster": pa.array([], pa.int64()), "into": pa.array([], pa.int64())})
    merged = _merged(graph)
    if len(merged):
        merges = pa.table({"cluster": merged[:, 0], "into": merged[:, 1]})
    unit_dump = dumps[units.doc]
    for dump in new:
        sel = np.flatnonzero(unit_dump == dump)
        keys, ords, cid = units.fps[sel], ordinal[units.doc[sel]], name[comp[sel]]
        by = np.lexsort((ords, keys))
        keep = np.r_[True, keys[by][1:] != keys[by][:-1]] if len(by) else np.empty(0, bool)
        parts = [(keys[by][keep], ords[by][keep], {"cluster": cid[by][keep]})]
        pairs = np.unique(np.stack([cid, units.doc[sel]], 1), axis=0) if len(sel) else None
        cl, n = np.unique(pairs[:, 0], return_counts=True) if pairs is not None else ([], [])
        clusters = pa.table({"cluster": pa.array(cl, pa.int64()), "docs": pa.array(n, pa.int32())})
        rows = order[dumps[order] == dump]
        ids = collected.column("id").take(pa.array(rows))
        entry = index.commit(
            dump,
            fingerprint_ids(ids),
            ids,
            make_handle(seq_of[dump], np.arange(len(rows))),
            parts,
            stats={"units": len(sel), "fingerprints": int(keep.sum())},
            tables={"clusters": clusters, "merges": merges},
        )
        if entry.seq != seq_of[dump]:
            raise CurateError(f"{index.root}: another run committed to the index meanwhile")


def _merged(graph: Clusters) -> np.ndarray:
    """(committed id, id it merged into) for committed clusters this run joined together."""
    ids = graph.linked_ids
    if not len(ids):
        return np.empty((0, 2), np.int64)
    into = graph.committed[graph.linked_cluster]
    moved = into != ids
    return np.stack([ids[moved], into[moved]], 1)


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


def _breakdown(units: Units, remove: np.ndarray, labels: pa.Array) -> dict[str, dict[str, int]]:
    """Per label (dump or domain): units seen, units and characters removed, documents cut."""
    codes = pc.dictionary_encode(pc.fill_null(labels, "unknown")).chunk(0)
    names = codes.dictionary.to_pylist()
    doc_code = codes.indices.to_numpy()
    unit_code = doc_code[units.doc]
    n = len(names)
    cut_docs = arrays.distinct(units.doc[remove])
    counts = {
        "units": np.bincount(unit_code, minlength=n),
        "units_removed": np.bincount(unit_code[remove], minlength=n),
        "chars_removed": np.bincount(
            unit_code[remove], weights=units.end[remove] - units.start[remove], minlength=n
        ),
        "docs_cut": np.bincount(doc_code[cut_docs], minlength=n),
    }
    out = {name: {key: int(v[c]) for key, v in counts.items()} for c, name in enumerate(names)}
    return dict(sorted(out.items()))


def mask_pii(text: str) -> str:
    """E-mail addresses, phone-like and other long digit runs -> ``***`` (for the report)."""
    return _MASK.sub("***", text)


def _top_units(units: Units, graph: Clusters, remove: np.ndarray, top: int = 10) -> list[dict]:
    """The most often removed boilerplate, masked of PII, with the documents it is in."""
    if not remove.any():
        return []
    ids, first, counts = np.unique(
        graph.unit_cluster[remove], return_index=True, return_counts=True
    )
    best = np.argsort(-counts, kind="stable")[:top]
    example = np.flatnonzero(remove)[first[best]]
    previews = units.preview.take(pa.array(example)).to_pylist()
    return [
        {"text": mask_pii(text), "removed": int(counts[b]), "documents": int(graph.docs[ids[b]])}
        for text, b in zip(previews, best)
    ]
