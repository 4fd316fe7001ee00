"""simhash_dedup: near-duplicate removal of sentences, paragraphs or documents with SimHash.

``method: minhash`` (the default without ``index:``) finds near-copies by exact Jaccard of short
shingle sets instead, and calls a cluster boilerplate from how many documents carry it: see
curate.dedup.units, where that method lives; this module hands it the collected units. What
follows is ``method: simhash``.

Boilerplate (cookie notices, navigation, licence footers) repeats with small variations across
otherwise different pages. Each unit gets a 64-bit SimHash (Charikar 2002) of its token n-grams
after normalisation (NFKC, lowercase, digits -> 0, so date stamps and counters do not make a unit
new). Two units are near-duplicates when their fingerprints differ in at most ``hamming`` bits.

Search uses permuted tables (Manku, Jain, Das Sarma 2007): split the 64 bits into ``hamming + 1``
blocks; by pigeonhole, two fingerprints within distance ``hamming`` agree exactly on at least one
block, so grouping by each block in turn (``hamming + 1`` tables) finds every candidate pair, and a
popcount check keeps the true ones. The search is exact, not approximate (tested against all
pairs). Identical fingerprints are collapsed first, so a footer repeated on 10^5 pages costs one
entry, not 10^10 pairs. Near-duplicate pairs are joined into clusters by curate.dedup.components.

A cluster whose units occur in at least ``min_docs`` documents is boilerplate: its occurrences are
cut from every document but the first (in curate.index.survivor's order for ``keep``: earliest
dump, then date, then id; or from all with ``keep_first: false``). A document left with under
``min_chars`` characters or under ``min_fraction`` of its original length goes as a whole with
reason ``simhash_boilerplate``; otherwise it stays with its text shortened. Units under
``min_tokens`` tokens are left alone, and so are units of numbers only ("5.1.1.", a row of
prices), which digits -> 0 would make all alike.

The barrier runs as rounds of reduce tasks on the executor (curate.collected), so the driver holds
file names and counters only, no per-document or per-fingerprint state: one task per shard spills
its distinct fingerprints once per permuted table, by the leading bits of that table's block
(2^bits >= the run's ``partitions:``; two fingerprints that agree on a block share its partition,
so the search is still exact), and once by partition of the clusters; one task per (table,
partition) writes that partition's near-duplicate pairs (fingerprint values; a pair by the first
table whose block the two agree on, so each pair once) as an edge file and spills its links to
committed dumps, so a task holds ~1/partitions of the run's distinct fingerprints;
curate.dedup.components labels the edges in partitioned rounds (each fingerprint with a near
neighbour gets the smallest fingerprint of its cluster); one task per partition of the labels sends
each shard the labels of its fingerprints; then one task per shard labels its units with their
cluster and spills them by share of the clusters (a hash of the label), with each cluster's first
document in the shard and that document's survival columns (id, dump, date); one task per share
reads only its units and those firsts, counts the clusters' documents, picks each cluster's first
document (the first of its shards' firsts: the order restricted to a subset is the order), marks
the units to cut and spills them by group of shards; one task per group of shards writes their
decision files (cut spans) and returns their counts by dump and domain, which the driver sums. The
decision is ``DecisionFiles`` (the tasks wrote each shard's file), or in memory
(``CollectedTable``) {shard: cut spans}.

With ``index:`` the run's documents are numbered in their dumps by tasks
(curate.index.ordinals, a distributed sort, which also fingerprints each dump's ids); each
routed unit carries its document's ordinal; each cluster task writes its share of each new
dump's fingerprints (part-00-<share>.parquet) and clusters (clusters-<share>.parquet) into the
staged dump folder, and the committed clusters its clusters joined (merges-<share>.parquet);
one task per ordinal range writes the docs pieces; the driver writes meta.json and renames
(``DedupIndex.commit_pieces``, the commit url_dedup's index path uses). The search tasks read
only their partition of each committed dump's fingerprints, one dump and one row group at a
time (the top table skips row groups by their key range). The links to committed clusters
become edges too, in rounds of tasks: the committed dumps' merges are labelled by
curate.dedup.components (each committed cluster's canonical id: the smallest it was merged
with), their cluster sizes spilled by cluster; one task per partition of the committed clusters
maps links and sizes to canonical ids, one per partition of the canonical ids writes, for each
linked cluster, edges from its smallest linked run fingerprint (its anchor) to the others and
a record (anchor, cluster, committed documents), which the label tasks send, with the anchor's
label, to the cluster task of that label.

Across dumps (``index: DIR``, curate.index.store): each committed dump stores its distinct
fingerprints with their first document and cluster id (partition 0: ``part-00.parquet``, or pieces
``part-00-NNNNN.parquet`` listed in meta.json), its documents per cluster (``clusters*.parquet``)
and the committed clusters its run joined (``merges*.parquet``); about 370 bytes per document on
the sample. A run searches its fingerprints against every committed dump's with the same block
tables, one dump at a time; a cluster that reaches back into committed dumps has its first document
there (already published), and counts their documents towards ``min_docs``. With ``keep: earliest``
and dumps committed in order, dump N through the index cuts exactly what processing dumps 1..N
together cuts from dump N, with one documented exception: when a run joins two committed clusters,
committed documents holding units of both are counted twice, which can only matter with
``min_docs`` >= 3. Earlier dumps are never revised (joint processing could cut more from them when
a later dump links two of their clusters). Re-running a committed dump together with new ones is
allowed but stores the new dumps' clusters apart from the re-run dump's, so later dumps may count
fewer documents for them: commit new dumps in their own run.

With 64 bits and ``hamming: 3``, near-duplicate means near-identical (cosine of the feature sets
above ~0.99): on short units the normalisation, not the distance, is what absorbs the variation.
"""

from __future__ import annotations

import contextlib
import functools
import math
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from curate import arrays, storage
from curate.collected import CollectedTable, Run, load_shared, read_spilled, run_here
from curate.dedup import units
from curate.dedup.components import partitioned_components, write_edges
from curate.errors import CurateError
from curate.index.ordinals import (
    OrdinalJob,
    Survey,
    dump_order,
    dump_ordinals,
    ordinals_of,
    read_ordinals,
)
from curate.index.store import (
    CommittedDump,
    DedupIndex,
    ReadMeter,
    make_handle,
    open_parquet,
    read_parquet,
    write_docs,
    write_file,
    write_partition,
)
from curate.index.survivor import rank_of, survival_order
from curate.minhash import fmix64  # MurmurHash3's 64-bit finaliser
from curate.shuffle import partition_of, read_partition, write_segments
from curate.stages.base import (
    ROW,
    SHARD,
    DecisionFiles,
    RowRemovalStage,
    Verdict,
    column_or_nulls,
    register,
)
from curate.text import SLOT_TOKENS, mask_slots, split_units, token_hashes

_MASK = re.compile(r"\S+@\S+|\d{4,}|\+?\d[\d\s-]{6,}\d")
_PLACEHOLDER = re.compile("|".join(SLOT_TOKENS))
_SPACE_BEFORE = re.compile(r" ([,.;:!?，。；：！？])")
PARTITIONS = 1  # the index's partitions: one of fingerprints per dump (in pieces by cluster share)
# the barrier's second round: tasks of about this many units each (~36 bytes a unit), at least 4
UNITS_PER_TASK = 1 << 20
TOP_UNITS = 10  # the report's most removed boilerplate
CANDIDATES = 1 << 20  # candidate pairs checked at once (~100 MB): bounds a task's memory
SHARDS_PER_GROUP = 16  # shards whose decision files one task writes at most ...
UNITS_PER_GROUP = 1 << 22  # ... and their units at most (or one shard): their cuts in memory
# with an index: shards per input partition of the ordinals' sort (a routing task reads its
# group's ordinals: ~28 bytes a document)
ORDINAL_GROUP = 16


@dataclass
class SimhashDedupConfig:
    level: Literal["sentence", "paragraph", "document"] = "sentence"
    hamming: int = 3  # Manku et al. 2007: k = 3 for 64-bit fingerprints
    ngram: int = 3  # text-dedup's SimHash default
    weights: Literal["binary", "tf"] = "binary"  # tf: a repeated n-gram counts more
    min_tokens: int = 3  # shorter units ("Home", "Next") are left alone
    min_docs: int | None = None  # a unit in this many documents is boilerplate (null: 2, minhash 4)
    keep_first: bool = True  # the first occurrence stays, as datatrove/C4 do for exact spans
    keep: Literal["earliest", "latest"] = "earliest"  # which document counts as first
    min_chars: int = 100  # a document left shorter than this goes as a whole
    min_fraction: float = 0.2  # ... or left with less than this share of its text
    preview_chars: int = 60  # characters of each unit kept to show the top boilerplate
    mask_slots: bool = True  # numbers, dates, e-mails, URLs, names -> placeholders first
    index: str | None = None  # persistent cross-dump index directory
    # method minhash (curate.dedup.units): near-copies by exact Jaccard of shingle sets
    # null: minhash, or simhash with index: (minhash keeps no cross-dump index yet)
    method: Literal["simhash", "minhash"] | None = None
    threshold: float = 0.5  # minhash: Jaccard of two near-copies' shingle sets
    shingle: int = 2  # minhash: token n-grams (CJK: character n-grams)
    num_perm: int = 60  # minhash: permutations, bands x rows
    bands: int = 20
    max_per_doc: float = 1.2  # minhash: a boilerplate cluster's units per document, at most

    def __post_init__(self) -> None:
        if self.method is None:
            self.method = "simhash" if self.index else "minhash"
        if self.min_docs is None:  # chosen on the boilerplate dev split (benchmarks/)
            self.min_docs = 4 if self.method == "minhash" else 2

    def validate(self) -> None:
        if not 0 <= self.hamming <= 15:
            raise ValueError("hamming must be between 0 and 15 (blocks of >= 4 bits)")
        if self.ngram < 1 or self.min_docs < 1 or self.min_tokens < 1:
            raise ValueError("ngram, min_docs and min_tokens must be >= 1")
        if not 0 <= self.min_fraction <= 1:
            raise ValueError("min_fraction must be between 0 and 1")
        if self.method == "minhash":
            units.validate(self)


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
    """64-bit SimHash of each unit's features, xxh3-64 per feature string (Charikar 2002;
    curate.xxh3's columnar kernel, the values of ``xxhash.xxh3_64_intdigest``)."""
    if weights == "binary":
        features = [list(dict.fromkeys(f)) for f in features]
    from curate.xxh3 import xxh3_64  # numba: loaded by the processes that fingerprint only

    counts = np.fromiter((len(f) for f in features), np.int64, len(features))
    flat = pa.array([g for f in features for g in f], pa.string())
    return simhash_of_hashes(xxh3_64(flat), counts)


def unit_fingerprints(
    units: list[str], ngram: int, min_tokens: int, weights: str = "binary", mask: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """(SimHash, number of tokens) of each unit over its token ``ngram``-grams (one shorter gram
    for a unit of fewer tokens) after ``normalize_for_features``; 0 for units under
    ``min_tokens`` tokens. A unit of numbers only ("5.1.1.", a row of prices) counts 0 tokens:
    after digits -> 0 all such units look alike. Vectorised: one tokeniser pass for all units,
    each distinct token hashed once, each distinct token sequence (repeated boilerplate)
    fingerprinted once. With ``mask``, slots are replaced by placeholders first
    (curate.text.mask_slots), which count as tokens but not as words; a unit left with fewer
    than MASKED_WORDS words is mostly slots ("rev 2023.9.27", a bare URL) and is taken as
    written: all such units would otherwise look alike."""
    masked = mask_slots(units) if mask else units
    token_hash, counts, words = _tokens(masked)
    if mask and (words < MASKED_WORDS).any():
        units = [u if w < MASKED_WORDS else m for u, m, w in zip(units, masked, words.tolist())]
        token_hash, counts, words = _tokens(units)
    eligible = np.where(words > 0, counts, 0)
    starts = np.cumsum(counts) - counts
    powers = _powers(int(counts.max(initial=0)) + ngram)
    long = np.flatnonzero(eligible >= min_tokens)
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
    return out, eligible


# the hashes of the tokens made of digits only, which normalise to 0, 00, 000, ... (a run of
# over 256 digits counts as a word)
NUMBER_HASHES = np.array([xxhash.xxh3_64_intdigest(b"0" * k) for k in range(1, 257)], np.uint64)
SLOT_HASHES = np.array([xxhash.xxh3_64_intdigest(t.encode()) for t in SLOT_TOKENS], np.uint64)
NOT_WORDS = np.r_[NUMBER_HASHES, SLOT_HASHES]
MASKED_WORDS = 2  # a masked unit needs this many words left, or it is fingerprinted as written


def _tokens(units: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token hashes and tokens per unit (curate.text.token_hashes), and words per unit: tokens
    that are neither numbers nor slot placeholders."""
    token_hash, counts = token_hashes(units)
    words = np.bincount(
        np.repeat(np.arange(len(units)), counts)[~np.isin(token_hash, NOT_WORDS)],
        minlength=len(units),
    )
    return token_hash, counts, words


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


def _block(fps: np.ndarray, shift: int, width: int) -> np.ndarray:
    return (fps >> np.uint64(shift)) & np.uint64((1 << width) - 1)


def search_bits(partitions: int, hamming: int) -> int:
    """Leading bits of each table's block that pick its search partition: 2^bits partitions,
    at least ``partitions``, at most the narrowest block's width allows."""
    widths = [w for _, w in block_layout(hamming)]
    return min(max(0, math.ceil(math.log2(max(partitions, 1)))), min(widths))


def search_partition(fps: np.ndarray, hamming: int, table: int, bits: int) -> np.ndarray:
    """The search partition of each fingerprint in permuted table ``table``: the leading
    ``bits`` of its block. Fingerprints that agree on the block share it, so a table's pairs
    are found partition by partition; the top table's block holds the fingerprint's own
    leading bits, so its partitions are ranges of the values."""
    if not bits:
        return np.zeros(len(fps), np.int64)
    shift, width = block_layout(hamming)[table]
    mask = np.uint64((1 << bits) - 1)
    return ((np.asarray(fps, np.uint64) >> np.uint64(shift + width - bits)) & mask).astype(np.int64)


def table_pairs(fps: np.ndarray, hamming: int, table: int) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (i < j) of fingerprints within ``hamming`` bits that agree on block ``table``
    (one permuted table); each pair once. Candidates are checked CANDIDATES at a time."""
    keys = _block(fps, *block_layout(hamming)[table])
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    n = len(order)
    starts = np.flatnonzero(np.r_[True, sorted_keys[1:] != sorted_keys[:-1]])
    ends = np.r_[starts[1:], n]
    partners = np.repeat(ends, ends - starts) - np.arange(n) - 1  # later positions, same key
    found = [(np.empty(0, np.int64), np.empty(0, np.int64))]
    for lo, hi in _spans(partners):
        left = np.repeat(np.arange(lo, hi), partners[lo:hi])
        right = left + 1 + _within(partners[lo:hi])
        i, j = order[left], order[right]
        close = np.bitwise_count(fps[i] ^ fps[j]) <= hamming
        found.append((np.minimum(i, j)[close], np.maximum(i, j)[close]))
    return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])


def _spans(counts: np.ndarray) -> Iterator[tuple[int, int]]:
    """Consecutive [lo, hi) ranges of positions with about CANDIDATES counts each."""
    ends = np.cumsum(counts)
    lo = 0
    while lo < len(counts):
        hi = int(np.searchsorted(ends, ends[lo] - counts[lo] + CANDIDATES, "right"))
        hi = max(hi, lo + 1)
        yield lo, hi
        lo = hi


def _within(counts: np.ndarray) -> np.ndarray:
    """0, 1, ..., counts[0] - 1, 0, 1, ..., counts[1] - 1, ..."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


def near_duplicate_pairs(fps: np.ndarray, hamming: int) -> tuple[np.ndarray, np.ndarray]:
    """Every pair (i < j) of fingerprints within ``hamming`` bits, by permuted tables."""
    fps = np.asarray(fps, dtype=np.uint64)
    found = [table_pairs(fps, hamming, t) for t in range(hamming + 1)]
    i = np.concatenate([f[0] for f in found]).astype(np.int64)
    j = np.concatenate([f[1] for f in found]).astype(np.int64)
    code = arrays.distinct(i * len(fps) + j)
    return code // len(fps), code % len(fps)


def table_pairs_between(
    a: np.ndarray, b: np.ndarray, hamming: int, table: int
) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j) with ``a[i]`` within ``hamming`` bits of ``b[j]`` that agree on block
    ``table``; each pair once."""
    block = block_layout(hamming)[table]
    ka, kb = _block(a, *block), _block(b, *block)
    order = np.argsort(kb, kind="stable")
    sorted_b = kb[order]
    first = np.searchsorted(sorted_b, ka, "left")
    counts = np.searchsorted(sorted_b, ka, "right") - first
    found = [(np.empty(0, np.int64), np.empty(0, np.int64))]
    for lo, hi in _spans(counts):
        i = np.repeat(np.arange(lo, hi), counts[lo:hi])
        j = order[np.repeat(first[lo:hi], counts[lo:hi]) + _within(counts[lo:hi])]
        close = np.bitwise_count(a[i] ^ b[j]) <= hamming
        found.append((i[close], j[close]))
    return np.concatenate([f[0] for f in found]), np.concatenate([f[1] for f in found])


def near_pairs_between(a: np.ndarray, b: np.ndarray, hamming: int) -> tuple[np.ndarray, np.ndarray]:
    """Every (i, j) with ``a[i]`` within ``hamming`` bits of ``b[j]``, by the same block tables."""
    found = [table_pairs_between(a, b, hamming, t) for t in range(hamming + 1)]
    i = np.concatenate([f[0] for f in found]).astype(np.int64)
    j = np.concatenate([f[1] for f in found]).astype(np.int64)
    code = arrays.distinct(i * max(len(b), 1) + j)
    return code // max(len(b), 1), code % max(len(b), 1)


# ---------------------------------------------------------------- the stage


@register
class SimhashDedup(RowRemovalStage):
    name = "simhash_dedup"
    Config = SimhashDedupConfig
    kind = "global"

    def collect(self, batch: pa.RecordBatch) -> pa.Table:
        """One row per document: its ids and labels, and list columns of its units."""
        cfg = self.config
        spans, texts, doc = [], [], []
        for row, text in enumerate(batch.column("text").to_pylist()):
            for start, end in split_units(text, cfg.level):
                spans.append((start, end))
                texts.append(text[start:end])
                doc.append(row)
        if cfg.method == "minhash":
            keep, extra = units.collect_columns(texts, np.array(doc, np.int64), cfg, batch.num_rows)
        else:
            fps, n_tokens = unit_fingerprints(
                texts, cfg.ngram, cfg.min_tokens, cfg.weights, cfg.mask_slots
            )
            keep = np.flatnonzero(n_tokens >= cfg.min_tokens)  # short units collide by chance
        span = np.array(spans, np.int32).reshape(-1, 2)[keep]
        per_doc = np.bincount(np.array(doc, np.int64)[keep], minlength=batch.num_rows)
        offsets = pa.array(np.r_[0, np.cumsum(per_doc)].astype(np.int32))
        previews = [texts[k][: cfg.preview_chars] for k in keep.tolist()]

        def lists(values: Any, type_: pa.DataType) -> pa.ListArray:
            return pa.ListArray.from_arrays(offsets, pa.array(values, type_))

        columns = {
            ROW: batch.column(ROW),
            "id": batch.column("id"),
            "dump": column_or_nulls(batch, "dump"),
            "date": column_or_nulls(batch, "date"),
            "domain": column_or_nulls(batch, "domain"),
            "start": lists(span[:, 0], pa.int32()),
            "end": lists(span[:, 1], pa.int32()),
            "preview": lists(previews, pa.string()),
        }
        if cfg.method == "minhash":
            return pa.table(columns | extra)
        return pa.table(columns | {"simhash": lists(fps[keep], pa.uint64())})

    def decide(self, collected: pa.Table) -> tuple[Any, dict[str, Any]]:
        return self.barrier(CollectedTable(collected), run_here)

    def barrier(self, collected: Any, run: Run) -> tuple[Any, dict[str, Any]]:
        """The barrier as rounds of reduce tasks: one per shard spills its distinct
        fingerprints by search partition; one per (permuted table, partition) finds its
        near-duplicate pairs (and links to committed dumps) and writes them as edge files;
        partitioned rounds (curate.dedup.components) label the clusters, one task per partition
        of the labels sends them to the shards; one task per shard routes its units to the task
        of their cluster; one task per share of the clusters counts their documents, finds
        their first and marks the units to cut (and stages its share of the index entries); one
        task per group of shards writes their decision files and counts. This process holds
        file names and counters, no per-document or per-fingerprint state. Returns
        ``DecisionFiles`` when ``collected`` has a decision folder, else {shard: cut spans}."""
        if collected.num_rows == 0:
            return {}, {"documents": 0, "units": 0, "units_removed": 0, "chars_removed": 0}
        if self.config.method == "minhash":
            summary = units.decide(self.config, collected, run)
            if collected.decisions is not None:  # the tasks wrote the decision files
                return DecisionFiles(str(collected.decisions)), summary
            return dict(collected.written), summary
        if not self.config.index:
            return self._decide(collected, run, None)
        index = DedupIndex(self.config.index, "simhash", self._index_params(), PARTITIONS)
        with index.locked():
            return self._decide(collected, run, index)

    def _index_params(self) -> dict[str, Any]:
        c = self.config
        return {
            "level": c.level,
            "hamming": c.hamming,
            "ngram": c.ngram,
            "weights": c.weights,
            "min_tokens": c.min_tokens,
            "keep": c.keep,
            "features": "nfkc-lower-digits0/xxh3-64" + ("/slots" if c.mask_slots else ""),
        }

    def _decide(
        self, collected: Any, run: Run, index: DedupIndex | None
    ) -> tuple[Any, dict[str, Any]]:
        cfg = self.config
        n_docs = collected.num_rows
        pieces = collected.pieces()
        bits = search_bits(getattr(collected, "partitions", 1), cfg.hamming)
        # the clusters' partitions (curate.dedup.components, and the labels sent back)
        P = max(1, getattr(collected, "partitions", 1))
        with contextlib.ExitStack() as stack:
            scratch = getattr(collected, "scratch", None)
            if scratch is None:  # in memory: the edge and label files in a folder of our own
                scratch = Path(stack.enter_context(tempfile.TemporaryDirectory()))
            comp_work = storage.path(scratch) / "simhash-clusters"
            storage.rmtree(comp_work)
            work = None
            if index is not None:  # the ordinals' files: under the barrier's scratch
                work = storage.path(scratch) / "simhash-index"
                storage.rmtree(work)
            # round 0: each shard's distinct fingerprints spilled by search partition of each
            # table and by partition of the clusters (and, with an index, its rows' survival
            # columns for the ordinals)
            spill = functools.partial(
                _spill_fingerprints, collected, cfg.hamming, bits, P, work and str(work / "input")
            )
            spilled = sorted(run(spill, list(enumerate(pieces))), key=lambda r: r[0])
            units = sum(r[2] for r in spilled)
            reference: list[CommittedDump] = []
            new: list[str] = []
            survey = job = None
            if index is not None:  # each dump's documents numbered by tasks (distributed sort)
                job = OrdinalJob(
                    str(work / "input"),
                    len(pieces),
                    _ordinal_groups(len(pieces)),
                    max(1, getattr(collected, "partitions", 1)),
                    cfg.keep,
                    str(work / "ordinals"),
                    what=self.name,
                )
                survey = dump_ordinals(job, run)
                reference, new = index.plan(survey.fingerprints)
            # round 1: one task per (permuted table, partition of its block's leading bits)
            # writes its near-duplicate pairs as an edge file (each pair by the first table
            # that finds it) and returns its links to committed dumps
            edge_dir = storage.path(comp_work, "edges")
            search = functools.partial(
                _search_part,
                collected,
                [r[1] for r in spilled],
                cfg.hamming,
                bits,
                reference,
                (str(edge_dir), P),
            )
            keys = [(t, q) for t in range(cfg.hamming + 1) for q in range(1 << bits)]
            search_memory = _search_memory(units, 1 << bits)
            committed, spill_bytes = None, 0
            if reference and bits:  # each committed piece read once, not once per partition
                pieces_c = [(d, p[4]) for d in reference for p in d.parts_of(0) if p[3]]
                task = functools.partial(_spill_committed, collected, cfg.hamming, bits)
                out = list(run(task, list(enumerate(pieces_c)), memory=search_memory))
                committed = [o[0] for o in out]  # any order: links are grouped later
                spill_bytes = sum(o[1] for o in out)
            search = functools.partial(search, committed)
            found = sorted(run(search, keys, memory=search_memory), key=lambda r: r[0])
            edges = [edge_dir / f"part-{t:02d}-{q:05d}.parquet" for t, q in keys]
            # links to committed dumps (with an index only): rounds of tasks write edge files
            # that join the run's fingerprints near one committed cluster
            linked = Linked([], [], [])
            if index is not None and reference:
                linked = _link_rounds(collected, run, reference, found, comp_work / "links", P)
                edges += linked.edges
            # round 2: the clusters, in partitioned rounds (curate.dedup.components); one task
            # per partition of the labels sends them to the shards that hold their fingerprints
            labels = partitioned_components(edges, comp_work / "components", P, run, P)
            n_tasks = max(4, -(-units // UNITS_PER_TASK))
            back = functools.partial(
                _labels_by_piece,
                collected,
                str(labels.labels),
                [r[3] for r in spilled],
                linked,
                n_tasks,
            )
            label_memory = _shard_memory(units, P)  # a partition's fingerprints and labels
            by_piece = sorted(run(back, list(range(P)), memory=label_memory), key=lambda r: r[0])
            top = [f for f in found if f[0][0] == cfg.hamming]  # range partitions of the values
            distinct = ([f[4] for f in top], np.r_[0, np.cumsum([f[2] for f in top])])
            staged: list[str] = []
            top_seq = 0
            if index is not None:
                top_seq = max((d.seq for d in index.dumps()), default=0)
                staged = [str(index.begin_commit()) for _ in new]
            # round 3a: each shard's units go to the task of their cluster (a hash of its
            # label), with each cluster's first document in the shard and its survival columns
            ordinals = (job, new, ORDINAL_GROUP) if new else None
            route = functools.partial(
                _route_units, collected, [b[1] for b in by_piece], n_tasks, cfg.keep, ordinals
            )
            per_shard = _shard_memory(units, len(pieces))
            routed = sorted(
                run(route, list(enumerate(pieces)), memory=per_shard), key=lambda r: r[0]
            )
            # round 3b: one task per share of the clusters, reading only its own units
            groups = ShardGroups.of(pieces, [r[2] for r in spilled])
            task = functools.partial(
                _reduce_clusters,
                collected,
                [r[1] for r in routed],
                [r[2] for r in routed],
                groups,
                (staged, top_seq, cfg.hamming, bits),
                distinct,
                (n_docs, cfg.min_docs, cfg.keep_first, cfg.keep),
                [b[2] for b in by_piece],
            )
            share_memory = _shard_memory(units, n_tasks)
            parts = sorted(
                run(task, list(range(n_tasks)), memory=share_memory), key=lambda p: p.part
            )
            # round 4: one task per group of shards writes their decision files and counts
            write = functools.partial(_write_decisions, collected, [p.cuts for p in parts], groups)
            counts = sorted(
                run(write, list(range(len(groups))), memory=groups.memory()),
                key=lambda c: c["group"],
            )
            summary: dict[str, Any] = {
                "documents": n_docs,
                "units": sum(c["units"] for c in counts),
                "distinct_fingerprints": sum(p.distinct for p in parts),
                "near_duplicate_pairs": sum(f[1] for f in found),
                "near_committed_fingerprints": sum(b[3] for b in by_piece),
                "boilerplate_clusters": sum(p.boilerplate for p in parts),
                "units_removed": sum(c["units_removed"] for c in counts),
                "chars_removed": sum(c["chars_removed"] for c in counts),
                "docs_cut": sum(c["docs_cut"] for c in counts),
                "by_dump": _merge_breakdowns([c["by_dump"] for c in counts]),
                "by_domain": _merge_breakdowns([c["by_domain"] for c in counts]),
                "top_removed": _top_units(collected, parts, cfg.mask_slots),
            }
            if index is not None:
                _commit(index, job, survey, new, staged, top_seq, parts, run)
                summary["index"] = {
                    "path": str(cfg.index),
                    "deduplicated_against": [d.name for d in reference],
                    "committed": new,
                    "already_committed": sorted(set(survey.docs) - set(new)),
                    "bytes_read": index.bytes_read
                    + sum(f[3] for f in found)
                    + linked.bytes_read
                    + spill_bytes,
                }
                storage.rmtree(work)
            storage.rmtree(comp_work)
        if collected.decisions is not None:  # the tasks wrote the decision files
            return DecisionFiles(str(collected.decisions)), summary
        return dict(collected.written), summary

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


# ---------------------------------------------------------------- the barrier's tasks


def _ordinal_groups(shards: int) -> int:
    return max(1, -(-shards // ORDINAL_GROUP))


TASK_BASE = 256 << 20  # a reduce task's interpreter, libraries and Arrow buffers


def _search_memory(units: int, partitions: int) -> int:
    """What a search task declares: its partition's fingerprints (at most the run's units over
    the partitions, 8 bytes each, a few copies while it sorts) and the CANDIDATES checked at
    once (~100 bytes each)."""
    return TASK_BASE + 64 * -(-units // max(partitions, 1)) + 100 * CANDIDATES


def _shard_memory(units: int, tasks: int) -> int:
    """What a routing, cluster or decision-writing task declares: its share of the units
    (~200 bytes each while it sorts and joins them: fingerprint, label, document, spans)."""
    return TASK_BASE + 200 * -(-units // max(tasks, 1))


@dataclass(frozen=True)
class ShardGroups:
    """Consecutive shards whose decision files one task writes: at most SHARDS_PER_GROUP shards
    and UNITS_PER_GROUP units (a larger shard alone), so the cuts a task holds grow with a
    shard, not with the run (16 shards of 36,000 documents held 1.4 GB at 1.9 M documents)."""

    starts: np.ndarray  # each shard's first row
    bounds: np.ndarray  # each group's first shard, then the number of shards
    units: int  # the units of the largest group

    @classmethod
    def of(cls, pieces: list[tuple[int, int]], units: list[int]) -> ShardGroups:
        bounds, total, size, largest = [0], 0, 0, 0
        for i, n in enumerate(units):  # one step per shard, in the driver
            if size and (size == SHARDS_PER_GROUP or total + n > UNITS_PER_GROUP):
                bounds.append(i)
                total = size = 0
            total, size = total + n, size + 1
            largest = max(largest, total)
        bounds.append(len(pieces))
        starts = np.array([a for a, _ in pieces], np.int64)
        return cls(starts, np.array(bounds, np.int64), largest)

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def group_of(self, doc: np.ndarray) -> np.ndarray:
        """The group of each document (a row of the collected keys)."""
        return self.group_of_shard(np.searchsorted(self.starts, doc, "right") - 1)

    def group_of_shard(self, shard: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.bounds, shard, "right") - 1

    def shards(self, group: int) -> range:
        return range(int(self.bounds[group]), int(self.bounds[group + 1]))

    def memory(self) -> int:
        """What a decision-writing task declares (as ``_shard_memory``)."""
        return TASK_BASE + 200 * self.units


def _spill_fingerprints(
    collected: Any,
    hamming: int,
    bits: int,
    partitions: int,
    ordinal_dir: str | None,
    piece: tuple,
) -> tuple[int, Any, int, Any]:
    """One shard's distinct fingerprints, spilled once per permuted table by that table's
    search partition (``t << bits | q``), and once with the shard's number by partition of the
    clusters' labels (curate.shuffle.partition_of, as curate.dedup.components); with
    ``ordinal_dir``, its rows' survival columns as the ordinals' input (partition: the shard's
    group of ORDINAL_GROUP). Returns (piece number, the search handle, the shard's units, the
    labels' handle)."""
    number, (start, stop) = piece
    columns = ["simhash", *([SHARD, ROW, *SURVIVAL] if ordinal_dir else [])]
    batch = collected.take(columns, np.arange(start, stop))
    fps = pc.list_flatten(batch.column("simhash")).to_numpy()
    distinct = arrays.distinct(fps)
    part = np.concatenate(
        [(t << bits) + search_partition(distinct, hamming, t, bits) for t in range(hamming + 1)]
    )
    spilled = pa.table({"fp": pa.array(np.tile(distinct, hamming + 1), pa.uint64())})
    handle = collected.spill(f"fps-{number:05d}", spilled, part)
    mine = pa.table({"fp": distinct, "piece": np.full(len(distinct), number, np.int32)})
    lookup = collected.spill(f"fp-labels-{number:05d}", mine, partition_of(distinct, partitions))
    if ordinal_dir:
        rows = batch.select([SHARD, ROW, *SURVIVAL])
        storage.path(ordinal_dir).mkdir(parents=True, exist_ok=True)
        group = np.full(rows.num_rows, number // ORDINAL_GROUP, np.int64)
        write_segments(storage.path(ordinal_dir, f"part-{number:05d}.parquet"), rows, group)
    return number, handle, len(fps), lookup


def _search_part(
    collected: Any,
    spilled: list[Any],
    hamming: int,
    bits: int,
    reference: list[CommittedDump],
    edges: tuple[str, int],
    committed: list[Any] | None,
    key: tuple[int, int],
) -> tuple:
    """Partition ``q`` of permuted table ``t``: the run's distinct fingerprints whose block
    ``t`` starts with the bits ``q`` (near neighbours that agree on block ``t`` share it).
    Writes its near-duplicate pairs (fingerprint values u < v) as an edge file
    (``edges``: the folder and the clusters' partitions, curate.dedup.components' layout),
    only those whose first agreeing block is ``t``, so each pair is written and counted once
    over the tables. Returns ((t, q), pairs written, the partition's distinct fingerprints,
    bytes read from the index, for the top table (whose partitions are ranges of the values)
    the shared distinct fingerprints, which name the new clusters, and the handles of its
    links (run fingerprint, committed cluster id as stored) to the committed dumps'
    fingerprints of the same partition, spilled by partition of the cluster, and of the linked
    fingerprints by their partition (None: no link)). The committed fingerprints: for the top
    table, read from the index one dump and one row group at a time (row groups outside the
    partition's range skipped); for the others, from ``committed`` (each committed piece's
    fingerprints spilled by search partition, ``_spill_committed``) one piece at a time, or
    with None (one search partition per table) from the index as the top table's."""
    t, q = key
    table = read_spilled(spilled, (t << bits) + q)
    fps = np.empty(0, np.uint64)
    if table is not None:
        fps = arrays.distinct(table.column("fp").to_numpy())
    del table
    handle = collected.share(f"distinct-{q:05d}", fps) if t == hamming else None
    i, j = table_pairs(fps, hamming, t)
    u, v = fps[i], fps[j]  # fps sorted and i < j: u < v
    first = np.ones(len(u), bool)
    for s in range(t):  # found by an earlier table too: that table writes it
        first &= _block(u, *block_layout(hamming)[s]) != _block(v, *block_layout(hamming)[s])
    u, v = u[first], v[first]
    folder, partitions = edges
    path = storage.path(folder, f"part-{t:02d}-{q:05d}.parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_edges(path, u, v, partition_of(u, partitions))
    link_fp, link_cluster = [np.empty(0, np.uint64)], [np.empty(0, np.int64)]
    meter = ReadMeter()
    if committed is not None and t < hamming:  # spilled: one piece's partition at a time
        for piece in committed:
            table = read_spilled([piece], (t << bits) + q)
            if table is None:
                continue
            keys, clusters = table.column("key").to_numpy(), table.column("cluster").to_numpy()
            a, c = table_pairs_between(fps, keys, hamming, t)
            link_fp.append(fps[a])
            link_cluster.append(clusters[c])
    else:
        for d in reference:  # one committed dump at a time, its partition q of table t
            keys, clusters = _committed_fingerprints(d, hamming, bits, key, meter)
            a, c = table_pairs_between(fps, keys, hamming, t)
            link_fp.append(fps[a])
            link_cluster.append(clusters[c])
    link_fp, link_cluster = np.concatenate(link_fp), np.concatenate(link_cluster)
    links = linked = None
    if len(link_fp):  # by partition of the committed cluster, and the fingerprints by their own
        table = pa.table({"fp": link_fp, "cluster": link_cluster})
        where = partition_of(link_cluster.view(np.uint64), partitions)
        links = collected.spill(f"links-{t:02d}-{q:05d}", table, where)
        near = arrays.distinct(link_fp)
        where = partition_of(near, partitions)
        linked = collected.spill(f"linked-{t:02d}-{q:05d}", pa.table({"fp": near}), where)
    return key, len(u), len(fps), meter.bytes, handle, links, linked


def _spill_committed(
    collected: Any, hamming: int, bits: int, item: tuple[int, tuple[CommittedDump, str]]
) -> tuple[Any, int]:
    """One committed fingerprint piece, read once (a row group at a time), spilled by search
    partition (``t << bits | q``) of every table but the top one (whose partitions are ranges
    of the values: its search tasks skip row groups of the index by their statistics), so
    a search task reads its partition of it, not the whole piece. Returns (the handle, bytes
    read from the index)."""
    number, (d, name) = item
    meter = ReadMeter()
    keys, clusters = [np.empty(0, np.uint64)], [np.empty(0, np.int64)]
    with open_parquet(d.path / name, meter) as f:
        for g in range(f.metadata.num_row_groups):
            group = f.read_row_group(g, columns=["key", "cluster"])
            keys.append(group.column("key").to_numpy())
            clusters.append(group.column("cluster").to_numpy().astype(np.int64))
    k, c = np.concatenate(keys), np.concatenate(clusters)
    del keys, clusters
    part = np.concatenate(
        [(t << bits) + search_partition(k, hamming, t, bits) for t in range(hamming)]
    )
    table = pa.table({"key": np.tile(k, hamming), "cluster": np.tile(c, hamming)})
    return collected.spill(f"committed-fps-{number:05d}", table, part), meter.bytes


def _committed_fingerprints(
    d: CommittedDump, hamming: int, bits: int, key: tuple[int, int], meter: ReadMeter
) -> tuple[np.ndarray, np.ndarray]:
    """(fingerprint, cluster) of a committed dump in search partition ``key``, read one row
    group at a time; for the top table, row groups outside the partition's range of values
    (their key statistics) are skipped."""
    t, q = key
    lo = hi = None
    if t == hamming and bits:
        lo, hi = q << (64 - bits), ((q + 1) << (64 - bits)) - 1
    keys, clusters = [np.empty(0, np.uint64)], [np.empty(0, np.int64)]
    for _, first, last, rows, name in d.parts_of(0):
        if not rows or (lo is not None and first is not None and (last < lo or first > hi)):
            continue
        with open_parquet(d.path / name, meter) as f:
            md = f.metadata
            at = md.schema.to_arrow_schema().get_field_index("key")
            for g in range(md.num_row_groups):
                st = md.row_group(g).column(at).statistics
                known = lo is not None and st is not None and st.has_min_max
                if known and (int(st.max) < lo or int(st.min) > hi):
                    continue
                group = f.read_row_group(g, columns=["key", "cluster"])
                k = group.column("key").to_numpy()
                mine = search_partition(k, hamming, t, bits) == q
                keys.append(k[mine])
                clusters.append(group.column("cluster").to_numpy()[mine])
    return np.concatenate(keys), np.concatenate(clusters)


@dataclass
class Linked:
    """What the rounds over the run's links to committed dumps left (file names and counters):
    the edge files that join the run fingerprints near one committed cluster (from its
    smallest linked fingerprint, its anchor), the anchors' records (anchor, canonical cluster,
    its committed documents) spilled by partition of the anchor, and the bytes they read."""

    edges: list[Path]
    records: list[Any]
    linked: list[Any]  # the linked fingerprints, spilled by their partition
    bytes_read: int = 0


def _link_rounds(
    collected: Any,
    run: Run,
    reference: list[CommittedDump],
    found: list[tuple],
    work: Path,
    partitions: int,
) -> Linked:
    """Rounds of tasks, with an index: the committed dumps' merges as edge files (one task
    per dump) and their components (curate.dedup.components: each committed cluster's
    canonical id, the smallest it was merged with); the dumps' cluster sizes spilled by
    partition of the cluster (one task per clusters file); one task per partition of the
    clusters maps the links and sizes to canonical ids; one per partition of the canonical
    ids writes each linked cluster's edges from its anchor and its record."""
    links = [f[5] for f in found if f[5] is not None]
    linked = [f[6] for f in found if f[6] is not None]
    if not links:
        return Linked([], [], linked)
    P = partitions
    meter = 0
    merge_edges = list(run(functools.partial(_merge_edges, str(work / "merges"), P), reference))
    meter += sum(m[1] for m in merge_edges)
    canonical = None
    if any(m[0] for m in merge_edges):
        files = [m[0] for m in merge_edges if m[0]]
        canonical = str(partitioned_components(files, work / "canonical", P, run, P).labels)
    files = [(d, str(f)) for d in reference for f in sorted(d.path.glob("clusters*.parquet"))]
    sizes = list(run(functools.partial(_cluster_sizes, collected, P), list(enumerate(files))))
    meter += sum(s[1] for s in sizes)
    sized = [s[0] for s in sizes]
    task = functools.partial(_canonical_links, collected, P, links, sized, canonical)
    memory = TASK_BASE + 64 * -(-sum(f[2] for f in found) // P)  # ~ a partition's links
    mapped = list(run(task, list(range(P)), memory=memory))
    task = functools.partial(_anchor_edges, collected, mapped, str(work / "edges"), P)
    anchored = list(run(task, list(range(P)), memory=memory))
    edges = [storage.path(work, "edges", f"part-anchors-{p:05d}.parquet") for p in range(P)]
    return Linked(edges, anchored, linked, meter)


def _merge_edges(folder: str, partitions: int, d: CommittedDump) -> tuple[str | None, int]:
    """A committed dump's merges (cluster -> the cluster it went into: ``merges-*.parquet``,
    one piece per cluster task that joined some, or ``merges.parquet`` in older indexes) as an
    edge file; None when it has none. Returns (the file, bytes read)."""
    meter = ReadMeter()
    pieces = [read_parquet(p, meter) for p in sorted(d.path.glob("merges*.parquet"))]
    merges = pa.concat_tables(pieces) if pieces else None
    if merges is None or not merges.num_rows:
        return None, meter.bytes
    u, v = (merges.column(c).to_numpy().astype(np.int64) for c in ("cluster", "into"))
    path = storage.path(folder, f"part-{d.seq:06d}.parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_edges(path, u, v, partition_of(u.view(np.uint64), partitions))
    return str(path), meter.bytes


def _cluster_sizes(collected: Any, partitions: int, item: tuple) -> tuple[Any, int]:
    """One clusters file of a committed dump, a row group at a time: (cluster, documents)
    spilled by partition of the cluster. Returns (the handle, bytes read)."""
    number, (_, path) = item
    meter = ReadMeter()
    parts = [pa.table({"cluster": np.empty(0, np.int64), "docs": np.empty(0, np.int64)})]
    with open_parquet(storage.path(path), meter) as f:
        for g in range(f.metadata.num_row_groups):
            rows = f.read_row_group(g, columns=["cluster", "docs"])
            cid = rows.column("cluster").to_numpy().astype(np.int64)
            docs = rows.column("docs").to_numpy().astype(np.int64)
            parts.append(pa.table({"cluster": cid, "docs": docs}))
    table = pa.concat_tables(parts)
    where = partition_of(table.column("cluster").to_numpy().view(np.uint64), partitions)
    return collected.spill(f"cluster-sizes-{number:05d}", table, where), meter.bytes


def _canonical_of(canonical: str | None, part: int, ids: np.ndarray) -> np.ndarray:
    """Committed cluster ids of partition ``part`` -> the smallest id they were merged with."""
    if canonical is None or not len(ids):
        return ids
    table = read_partition([storage.path(canonical, f"part-{part:05d}.parquet")], part)
    if table is None:
        return ids
    node, label = (table.column(c).to_numpy().astype(np.int64) for c in ("node", "label"))
    pos = np.minimum(np.searchsorted(node, ids), len(node) - 1)
    return np.where(node[pos] == ids, label[pos], ids)


def _canonical_links(
    collected: Any,
    partitions: int,
    links: list[Any],
    sizes: list[Any],
    canonical: str | None,
    part: int,
) -> tuple[Any, Any]:
    """Partition ``part`` of the committed clusters: the links and the cluster sizes with
    canonical cluster ids, spilled by partition of the canonical id."""
    out = []
    for name, handles in (("links", links), ("sizes", sizes)):
        table = read_spilled(handles, part)
        if table is None:
            out.append(None)
            continue
        cid = _canonical_of(canonical, part, table.column("cluster").to_numpy().astype(np.int64))
        table = table.set_column(table.schema.get_field_index("cluster"), "cluster", pa.array(cid))
        where = partition_of(cid.view(np.uint64), partitions)
        out.append(collected.spill(f"canonical-{name}-{part:05d}", table, where))
    return out[0], out[1]


def _anchor_edges(
    collected: Any, mapped: list[tuple[Any, Any]], folder: str, partitions: int, part: int
) -> Any:
    """Partition ``part`` of the canonical committed clusters: each linked cluster's anchor
    (its smallest linked run fingerprint) and an edge from it to each other linked
    fingerprint (an edge file), and its record (anchor, cluster, its committed documents),
    spilled by partition of the anchor."""
    table = read_spilled([m[0] for m in mapped if m[0] is not None], part)
    fp, cid = np.empty(0, np.uint64), np.empty(0, np.int64)
    if table is not None:
        fp, cid = table.column("fp").to_numpy(), table.column("cluster").to_numpy()
    by = np.lexsort((fp, cid))
    fp, cid = fp[by], cid[by]
    head = np.flatnonzero(np.r_[True, cid[1:] != cid[:-1]]) if len(cid) else np.empty(0, int)
    ids, anchors = cid[head], fp[head]
    anchor = np.repeat(anchors, np.diff(np.r_[head, len(cid)]))
    other = anchor != fp
    u, v = np.minimum(anchor, fp)[other], np.maximum(anchor, fp)[other]
    path = storage.path(folder, f"part-anchors-{part:05d}.parquet")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_edges(path, u, v, partition_of(u, partitions))
    docs = np.zeros(len(ids), np.int64)
    sizes = read_spilled([m[1] for m in mapped if m[1] is not None], part)
    if sizes is not None and len(ids):
        s_id, s_docs = (sizes.column(c).to_numpy().astype(np.int64) for c in ("cluster", "docs"))
        pos = np.minimum(np.searchsorted(ids, s_id), len(ids) - 1)
        hit = ids[pos] == s_id
        docs = np.bincount(pos[hit], weights=s_docs[hit], minlength=len(ids)).astype(np.int64)
    records = pa.table({"anchor": anchors, "cluster": ids, "docs": docs})
    return collected.spill(f"anchors-{part:05d}", records, partition_of(anchors, partitions))


@dataclass
class ClusterPart:
    """What one cluster task returns for its share of the clusters: counts and the handle of the
    units it cuts (written by group of shards), so the driver's memory grows with tasks, not with
    the units cut."""

    part: int
    cuts: Any  # spilled (doc, k) of the units cut, one partition per group of shards
    distinct: int  # distinct fingerprints
    boilerplate: int  # clusters in >= min_docs documents
    top: tuple[np.ndarray, ...]  # most cut clusters: (units cut, label, doc, k of a cut unit, docs)
    commit: list[tuple[Any, int, int]]  # per new dump: (its key piece or None, units, keys)
    merges: int  # committed clusters joined (written as merges-<part>.parquet when staged)


SURVIVAL = ["id", "dump", "date"]  # the columns curate.index.survivor orders by for `keep`


def _labels_by_piece(
    collected: Any,
    labels: str,
    lookups: list[Any],
    linked: Linked,
    n_tasks: int,
    part: int,
) -> tuple[int, Any, Any, int]:
    """Partition ``part`` of the clusters' labels (node: a fingerprint with a near neighbour,
    label: the smallest fingerprint of its cluster), joined with the shards' distinct
    fingerprints of the same partition (``lookups``, spilled by ``_spill_fingerprints``) and
    spilled by shard: (fp, label) of each shard's fingerprints that have one; with links to
    committed dumps, the anchors' records of this partition with their label, spilled by the
    cluster task of the label. Returns (part, the two handles, the distinct run fingerprints
    of this partition near a committed one)."""
    table = read_partition([storage.path(labels, f"part-{part:05d}.parquet")], part)
    node = label = np.empty(0, np.uint64)
    if table is not None:  # sorted by node
        node, label = (table.column(c).to_numpy().astype(np.uint64) for c in ("node", "label"))
    del table

    def label_of(fps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos = np.minimum(np.searchsorted(node, fps), max(len(node) - 1, 0))
        hit = node[pos] == fps if len(node) else np.zeros(len(fps), bool)
        return np.where(hit, label[pos] if len(node) else fps, fps), hit

    mine = read_spilled(lookups, part)
    fp, piece = np.empty(0, np.uint64), np.empty(0, np.int32)
    if mine is not None:
        fp, piece = mine.column("fp").to_numpy(), mine.column("piece").to_numpy()
    del mine
    found, hit = label_of(fp)
    handle = collected.spill(f"labels-{part:05d}", pa.table({"fp": fp, "label": found})
                             .filter(pa.array(hit)), piece[hit])  # fmt: skip
    committed = None
    records = read_spilled(linked.records, part)
    if records is not None and records.num_rows:
        anchor_label, _ = label_of(records.column("anchor").to_numpy())
        records = records.drop_columns(["anchor"]).add_column(0, "label", pa.array(anchor_label))
        where = (fmix64(anchor_label) % np.uint64(n_tasks)).astype(np.int64)
        committed = collected.spill(f"committed-{part:05d}", records, where)
    near = read_spilled(linked.linked, part)
    n_near = 0 if near is None else len(arrays.distinct(near.column("fp").to_numpy()))
    return part, handle, committed, n_near


def _route_units(
    collected: Any,
    labels: list[Any],
    n_tasks: int,
    keep: str,
    ordinals: tuple[OrdinalJob, list[str], int] | None,
    piece: tuple[int, tuple[int, int]],
) -> tuple[int, Any, Any]:
    """One shard's units, each with its cluster's label (``labels``: spilled by shard by
    ``_labels_by_piece``), spilled by the cluster task that owns the label; and per cluster,
    the shard's first document in survival order with its survival columns: (piece number,
    the units' handle, the firsts' handle). With ``ordinals`` (the ordinals' job, the dumps to
    commit, shards per ordinals partition), each unit also carries its document's ordinal in
    its dump and the number of its new dump (-1: none)."""
    number, (start, stop) = piece
    g_fps = g_label = np.empty(0, np.uint64)
    found = read_spilled(labels, number)
    if found is not None and found.num_rows:
        g_fps, g_label = (found.column(c).to_numpy() for c in ("fp", "label"))
        by = np.argsort(g_fps, kind="stable")
        g_fps, g_label = g_fps[by], g_label[by]
    del found
    columns = ["simhash", *SURVIVAL, *([SHARD, ROW] if ordinals else [])]
    batch = collected.take(columns, np.arange(start, stop))
    lengths = pc.list_value_length(batch.column("simhash")).to_numpy().astype(np.int64)
    fps = pc.list_flatten(batch.column("simhash")).to_numpy()
    pos = np.minimum(np.searchsorted(g_fps, fps), max(len(g_fps) - 1, 0))
    near = g_fps[pos] == fps if len(g_fps) else np.zeros(len(fps), bool)
    label = fps.copy()  # a fingerprint without near neighbours is a cluster of its own
    label[near] = g_label[pos[near]]
    doc = np.repeat(np.arange(start, stop, dtype=np.int64), lengths)
    first = np.repeat(np.cumsum(lengths) - lengths, lengths)
    units = pa.table(
        {
            "doc": doc,
            "k": (np.arange(len(fps)) - first).astype(np.int32),  # the unit's place in its doc
            "fps": fps,
            "label": label,
        }
    )
    if ordinals is not None:
        job, new, group = ordinals
        ordinal, _ = ordinals_of(batch.select([SHARD, ROW]), read_ordinals(job, number // group))
        enc = pc.dictionary_encode(batch.column("dump")).combine_chunks()
        code = {name: c for c, name in enumerate(new)}
        lookup = np.array([code.get(n, -1) for n in enc.dictionary.to_pylist()], np.int32)
        new_code = lookup[enc.indices.to_numpy()] if len(lookup) else np.empty(0, np.int32)
        units = units.append_column("ordinal", pa.array(np.repeat(ordinal, lengths)))
        units = units.append_column("new", pa.array(np.repeat(new_code, lengths)))
    part = (fmix64(label) % np.uint64(n_tasks)).astype(np.int64)
    # the order restricted to one shard (ties: the earlier row, as over the whole run)
    rank = rank_of(survival_order(batch.select(SURVIVAL), keep))
    by = np.lexsort((np.repeat(rank, lengths), label))
    head = by[np.r_[True, label[by][1:] != label[by][:-1]]] if len(by) else by
    row = doc[head] - start
    firsts = batch.select(SURVIVAL).take(pa.array(row)).add_column(0, "doc", pa.array(doc[head]))
    firsts = firsts.add_column(0, "label", pa.array(label[head]))
    handles = (
        collected.spill(f"units-{number:05d}", units, part),
        collected.spill(f"firsts-{number:05d}", firsts, part[head]),
    )
    return number, *handles


def _reduce_clusters(
    collected: Any,
    spilled: list[Any],
    firsts: list[Any],
    groups: ShardGroups,
    new: tuple[list[str], int, int, int],
    distinct: tuple[list[Any], np.ndarray],
    params: tuple[int, int, bool, str],
    committed_by_label: list[Any],
    part: int,
) -> ClusterPart:
    """The clusters whose label hashes to ``part``: their documents (committed + the run's),
    their first document, and so which of their units go (spilled by group of shards for
    ``_write_decisions``); and for each new dump (``new``: its staged index folders, the index's
    last sequence number, hamming and search bits), this share's piece of its index entry:
    its distinct fingerprints with their first document's ordinal and cluster name
    (part-00-<part>.parquet) and its documents per cluster (clusters-<part>.parquet), written
    into the staged folder. Reads only this share's units and each shard's first document per
    cluster (spilled by ``_route_units``)."""
    n_docs, min_docs, keep_first, keep = params
    c_label, c_committed, c_docs, merged = _committed_by_label(committed_by_label, part)
    table = read_spilled(spilled, part)
    staged, top_seq, hamming, bits = new
    cols = ("doc", "k", "fps", "label", "ordinal", "new")
    if table is None:
        doc, k, fps, label, ordinal, new_code = (np.empty(0, np.int64) for _ in cols)
        fps, label = fps.astype(np.uint64), label.astype(np.uint64)
    else:
        doc, k, fps, label = (table.column(c).to_numpy() for c in cols[:4])
        if staged:
            ordinal, new_code = (table.column(c).to_numpy() for c in cols[4:])
    del table
    labels, cluster = np.unique(label, return_inverse=True)
    n_clusters = len(labels)
    # the clusters that reach committed dumps: their oldest committed cluster and documents
    pos = np.minimum(np.searchsorted(c_label, labels), max(len(c_label) - 1, 0))
    near = c_label[pos] == labels if len(c_label) else np.zeros(n_clusters, bool)
    committed = np.where(near, c_committed[pos] if len(c_label) else -1, -1).astype(np.int64)
    docs = np.where(near, c_docs[pos] if len(c_label) else 0, 0).astype(np.int64)
    pair = arrays.distinct(cluster * n_docs + doc)  # the run's distinct documents per cluster
    docs += np.bincount(pair // max(n_docs, 1), minlength=n_clusters)
    # each cluster's first document over the run: the first of its shards' firsts
    winner = np.full(n_clusters, -1, np.int64)
    heads = read_spilled(firsts, part)
    if heads is not None and keep_first:  # only boilerplate clusters need their first
        need = labels[docs >= min_docs]
        heads = heads.filter(pa.array(np.isin(heads.column("label").to_numpy(), need)))
    if heads is not None and heads.num_rows and keep_first:
        heads = heads.take(pc.sort_indices(heads, [("doc", "ascending")]))  # ties: earlier row
        by = survival_order(heads, keep)
        h_label = heads.column("label").to_numpy()[by]
        h_doc = heads.column("doc").to_numpy()[by]
        _, at = np.unique(h_label, return_index=True)  # sorted labels, as ``labels``
        winner[np.searchsorted(labels, h_label[at])] = h_doc[at]
    # a committed document always comes first: it is already published
    first = (committed[cluster] < 0) & (doc == winner[cluster])
    seen = docs[cluster] >= min_docs
    cut = seen & ~first if keep_first else seen
    ids, at, counts = np.unique(cluster[cut], return_index=True, return_counts=True)
    best = np.argsort(-counts, kind="stable")[:TOP_UNITS]
    group = groups.group_of(doc[cut])
    cuts = pa.table({"doc": doc[cut], "k": k[cut]})
    commit = []
    if staged:
        # a new cluster is named by this run's first sequence number and its number in the run
        number = _distinct_rank(labels, distinct, hamming, bits)
        name = np.where(committed >= 0, committed, make_handle(top_seq + 1, number))
        for c, folder in enumerate(staged):
            keys, ords, cid, clusters, n, units = _dump_entry(
                fps, doc, ordinal, name[cluster], new_code == c
            )
            piece = None
            if len(keys):
                piece = write_partition(folder, 0, keys, ords, {"cluster": cid}, piece=part)
                by = np.argsort(clusters, kind="stable")
                table = pa.table(
                    {
                        "cluster": pa.array(clusters[by], pa.int64()),
                        "docs": pa.array(n[by], pa.int32()),
                    }
                )
                write_file(
                    folder, f"clusters-{part:05d}.parquet", lambda f, t=table: pq.write_table(t, f)
                )
            commit.append((piece, units, len(keys)))
        if len(merged[0]):  # the committed clusters this share joined, by id
            by = np.argsort(merged[0], kind="stable")
            table = pa.table(
                {
                    "cluster": pa.array(merged[0][by], pa.int64()),
                    "into": pa.array(merged[1][by], pa.int64()),
                }
            )
            for folder in staged:
                write_file(
                    folder, f"merges-{part:05d}.parquet", lambda f, t=table: pq.write_table(t, f)
                )
    return ClusterPart(
        part=part,
        cuts=collected.spill(f"cuts-{part:05d}", cuts, group),
        distinct=int(len(arrays.distinct(fps))),
        boilerplate=int((docs >= min_docs).sum()),
        top=(
            counts[best],
            labels[ids[best]],
            doc[cut][at[best]],
            k[cut][at[best]],
            docs[ids[best]],
        ),
        commit=commit,
        merges=len(merged[0]),
    )


def _committed_by_label(
    handles: list[Any], part: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray]]:
    """This share's clusters that reach committed dumps (the anchors' records, spilled by
    ``_labels_by_piece``): per label (sorted) its oldest committed cluster and the documents
    of its committed clusters; and the committed clusters the run joined into an older one
    (cluster, into)."""
    table = read_spilled([h for h in handles if h is not None], part)
    if table is None or not table.num_rows:
        empty = np.empty(0, np.int64)
        return np.empty(0, np.uint64), empty, empty, (empty, empty)
    label = table.column("label").to_numpy()
    cid, docs = (table.column(c).to_numpy().astype(np.int64) for c in ("cluster", "docs"))
    labels, at = np.unique(label, return_inverse=True)
    committed = np.full(len(labels), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(committed, at, cid)
    total = np.bincount(at, weights=docs, minlength=len(labels)).astype(np.int64)
    moved = committed[at] != cid
    return labels, committed, total, (cid[moved], committed[at][moved])


DECISION_COLUMNS = ["start", SHARD, ROW, "end", "dump", "domain"]  # what a shard's decision needs


def _counts(group: int) -> dict[str, Any]:
    """A decision task's counts, before its first shard."""
    out: dict[str, Any] = {"group": group, "units": 0, "units_removed": 0, "chars_removed": 0}
    return out | {"docs_cut": 0, "by_dump": {}, "by_domain": {}}


def shard_decision(collected: Any, keys: pa.Table, cut: np.ndarray, out: dict[str, Any]) -> None:
    """One shard's decision file (its cut spans: _row, start, end), from ``keys`` (the shard's
    DECISION_COLUMNS) and ``cut`` (one flag per unit, in unit order), and its counts added to
    ``out``: units seen, removed, characters removed, documents cut, by dump and domain."""
    count = pc.list_value_length(keys.column("start")).to_numpy().astype(np.int64)
    s_, e_ = (pc.list_flatten(keys.column(c)).to_numpy() for c in ("start", "end"))
    d = np.repeat(np.arange(len(count)), count)[cut]
    per_doc = {
        "units": count,
        "removed": np.bincount(d, minlength=len(count)),
        "chars": np.bincount(d, weights=(e_ - s_)[cut], minlength=len(count)).astype(np.int64),
    }
    out["units"] += int(count.sum())
    out["units_removed"] += len(d)
    out["chars_removed"] += int(per_doc["chars"].sum())
    out["docs_cut"] += int((per_doc["removed"] > 0).sum())
    for name in ("dump", "domain"):
        out[f"by_{name}"] = _merge_breakdowns(
            [out[f"by_{name}"], _breakdown(keys.column(name), per_doc)]
        )
    if cut.any():
        spans = pa.table(
            {
                ROW: np.repeat(keys.column(ROW).to_numpy(), count)[cut],
                "start": s_[cut],
                "end": e_[cut],
            }
        )
        spans = spans.take(pc.sort_indices(spans, [(ROW, "ascending")]))
        collected.write_decision(int(keys.column(SHARD)[0].as_py()), spans)


def _write_decisions(
    collected: Any, cuts: list[Any], groups: ShardGroups, group: int
) -> dict[str, Any]:
    """The decision files of one group of shards and their counts (``shard_decision``), from
    the units the cluster tasks cut (doc, k), spilled by group."""
    pieces = collected.pieces()
    table = read_spilled(cuts, group)
    if table is None:
        doc, k = (np.empty(0, np.int64) for _ in range(2))
    else:
        table = table.take(pc.sort_indices(table, [("doc", "ascending"), ("k", "ascending")]))
        doc, k = (table.column(c).to_numpy() for c in ("doc", "k"))
    out = _counts(group)
    for start, stop in (pieces[i] for i in groups.shards(group)):
        keys = collected.take(DECISION_COLUMNS, np.arange(start, stop))
        a, b = np.searchsorted(doc, [start, stop])
        count = pc.list_value_length(keys.column("start")).to_numpy().astype(np.int64)
        cut = np.zeros(int(count.sum()), bool)
        cut[(np.cumsum(count) - count)[doc[a:b] - start] + k[a:b]] = True
        shard_decision(collected, keys, cut, out)
    return out


def _distinct_rank(
    labels: np.ndarray, distinct: tuple[list[Any], np.ndarray], hamming: int, bits: int
) -> np.ndarray:
    """Each label's place among the run's distinct fingerprints: the top table's search
    partitions are ranges of the values, so its place in its partition plus the partitions
    before it (``distinct``: each partition's shared fingerprints, and their offsets)."""
    handles, offsets = distinct
    q = search_partition(labels, hamming, hamming, bits)
    out = np.zeros(len(labels), np.int64)
    for p in np.unique(q):
        at = q == p
        out[at] = offsets[p] + np.searchsorted(load_shared(handles[p]), labels[at])
    return out


def _dump_entry(
    keys: np.ndarray, doc: np.ndarray, ordinal: np.ndarray, cid: np.ndarray, sel: np.ndarray
) -> tuple[Any, ...]:
    """One new dump's share of its index entry: distinct fingerprints with their first document
    (ordinal; ``ordinal`` is per unit) and cluster name; clusters with their number of
    documents; the units seen."""
    keys, doc, cid, ords = keys[sel], doc[sel], cid[sel], ordinal[sel]
    by = np.lexsort((ords, keys))
    keep = np.r_[True, keys[by][1:] != keys[by][:-1]] if len(by) else np.empty(0, bool)
    pairs = np.unique(np.stack([cid, doc], 1), axis=0)
    clusters, docs = np.unique(pairs[:, 0], return_counts=True)
    return keys[by][keep], ords[by][keep], cid[by][keep], clusters, docs, len(keys)


def _commit(
    index: DedupIndex,
    job: OrdinalJob,
    survey: Survey,
    new: list[str],
    staged: list[str],
    top_seq: int,
    parts: list[ClusterPart],
    run: Run,
) -> None:
    """Commit each new dump, whose key and cluster pieces the cluster tasks staged: one task per
    ordinal range writes its docs piece (each document is its own root), this process writes
    the committed clusters this run merged and each dump's meta.json, and renames
    (``DedupIndex.commit_pieces``)."""
    seq_of = {name: top_seq + 1 + c for c, name in enumerate(new)}
    task = functools.partial(_docs_piece, job, dict(zip(new, staged)), seq_of, survey.first)
    pieces: dict[str, list] = {name: [] for name in new}
    for found in run(task, list(range(job.ranges))):
        for name, piece in found.items():
            pieces[name].append(piece)
    for code, (dump, folder) in enumerate(zip(new, staged)):
        if sum(p[1] for p in pieces[dump]) != survey.docs[dump]:
            raise CurateError(f"{index.root}: dump {dump!r}: docs pieces incomplete")
        written = [p.commit[code] for p in parts]
        entry = index.commit_pieces(
            dump,
            survey.fingerprints[dump],
            storage.path(folder),
            pieces[dump],
            [w[0] for w in written if w[0] is not None],
            stats={"units": sum(w[1] for w in written), "fingerprints": sum(w[2] for w in written)},
        )
        if entry.seq != seq_of[dump]:
            raise CurateError(f"{index.root}: another run committed to the index meanwhile")


def _docs_piece(
    job: OrdinalJob,
    staged: dict[str, str],
    seq_of: dict[str, int],
    first: dict[str, list[int]],
    r: int,
) -> dict[str, list]:
    """Ordinal range ``r``: each new dump's ids there in ordinal order, each its own root, as
    one docs piece; returns {dump: [first ordinal, rows, file]}."""
    rows = read_partition([job.spread_file(p) for p in range(job.partitions)], r)
    found: dict[str, list] = {}
    if rows is None or not rows.num_rows:
        return found
    keys = [(k, o, "at_end") for k, o in dump_order(job.keep)]
    rows = rows.take(pc.sort_indices(rows, sort_keys=keys))  # as the ordinals' rank task
    enc = pc.dictionary_encode(rows.column("dump")).combine_chunks()
    code = enc.indices.to_numpy()
    for c, name in enumerate(enc.dictionary.to_pylist()):
        if name not in staged:
            continue
        at = np.flatnonzero(code == c)
        start = first[name][r]
        roots = make_handle(seq_of[name], np.arange(start, start + len(at)))
        ids = rows.column("id").take(pa.array(at)).combine_chunks()
        file = write_docs(storage.path(staged[name]), ids, roots, piece=r)
        found[name] = [start, len(at), file]
    return found


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


def _breakdown(labels: pa.ChunkedArray, per_doc: dict[str, np.ndarray]) -> dict[str, dict]:
    """Per label (dump or domain): units seen, units and characters removed, documents cut."""
    codes = pc.dictionary_encode(pc.fill_null(labels, "unknown").combine_chunks())
    names = codes.dictionary.to_pylist()
    doc_code = codes.indices.to_numpy()
    n = len(names)
    counts = {
        "units": np.bincount(doc_code, weights=per_doc["units"], minlength=n),
        "units_removed": np.bincount(doc_code, weights=per_doc["removed"], minlength=n),
        "chars_removed": np.bincount(doc_code, weights=per_doc["chars"], minlength=n),
        "docs_cut": np.bincount(doc_code[per_doc["removed"] > 0], minlength=n),
    }
    out = {name: {key: int(v[c]) for key, v in counts.items()} for c, name in enumerate(names)}
    return dict(sorted(out.items()))


def _merge_breakdowns(parts: list[dict[str, dict]]) -> dict[str, dict]:
    """``_breakdown``s of disjoint sets of documents, summed label by label."""
    out: dict[str, dict] = {}
    for part in parts:
        for name, counts in part.items():
            into = out.setdefault(name, dict.fromkeys(counts, 0))
            for key, v in counts.items():
                into[key] += v
    return dict(sorted(out.items()))


def mask_pii(text: str, slots: bool = False) -> str:
    """E-mail addresses, phone-like and other long digit runs -> ``***`` (for the report); with
    ``slots``, every slot mask_slots finds too (names, dates, URLs): the template is shown."""
    if slots:
        text = _PLACEHOLDER.sub(" *** ", mask_slots([text])[0])
        text = _SPACE_BEFORE.sub(r"\1", " ".join(text.split()))
    return _MASK.sub("***", text)


def _top_units(collected: Any, parts: list[ClusterPart], slots: bool) -> list[dict]:
    """The most often removed boilerplate, masked of PII, with the documents it is in (ties:
    the cluster of the smallest fingerprint first)."""
    removed, label, doc, k, docs = (np.concatenate([p.top[f] for p in parts]) for f in range(5))
    best = np.lexsort((label, -removed))[:TOP_UNITS]
    lists = collected.take(["preview"], doc[best]).column(0).to_pylist()
    previews = [units[j] for units, j in zip(lists, k[best].tolist())]
    return [
        {"text": mask_pii(text, slots), "removed": int(removed[b]), "documents": int(docs[b])}
        for text, b in zip(previews, best)
    ]
