"""Boilerplate units by MinHash: ``simhash_dedup`` with ``method: minhash``.

A template's occurrences differ by their slots (names, dates, sites) and by small edits (a word
dropped or replaced, punctuation, case), so two of them often share under half of their word bigrams
and a 64-bit SimHash at Hamming <= 3 sees them as unrelated. Here each unit (sentence or paragraph)
becomes a set of short shingles after slot masking (curate.text.mask_slots, plus ``mask_cjk``'s
Chinese dates and the items of labelled lists): token ``shingle``-grams, where a token is a word of
a spaced script or one CJK character (so Chinese gets character n-grams), punctuation and case gone.
Two units are near-copies when the Jaccard similarity of their sets is at least ``threshold``
(exact, on the sets, after MinHash LSH proposes the pairs). Near-copies are joined into clusters
(connected components); a cluster is boilerplate when its units are in at least ``min_docs``
distinct documents and it has at most ``max_per_doc`` units per document on average (a template
appears once a page; a family of look-alike lines of one manual page does not), and its occurrences
are cut from every document but the first. The defaults (Jaccard >= 0.5 over token bigrams, >= 4
documents, <= 1.2 units per document, the list masking) were chosen on the dev split of
benchmarks/boilerplate_heldout.py; its held-out split measures them.

The building blocks are the MinHash barrier's (curate.minhash signatures, band keys and exact
Jaccard; curate.shuffle partitions; curate.dedup.components) and, for the last rounds, the ones
``method: simhash`` uses to route units by cluster and write the decision files.

The barrier is rounds of tasks over partitions, no per-unit state in the driver:

0. keys (per shard): each unit's xxh3 of its sorted shingle set -> partitions of the key; distinct
   (per key partition): the units of one set are one node from here to the components, their
   smallest, the representative, with the group's size -> shards of the representative, and
   each other member with its representative -> partitions of the representative (a
   boilerplate line in N pages costs N rows here, then one node, 20 band keys and no star of N
   edges);
1. bands (one task per shard): each representative's MinHash signature and its LSH band keys
   (with its group's size) -> partitions of the key (the collect step keeps only the shingle
   sets: 4 bytes a shingle);
2. buckets (one task per key partition): units sharing a band key are candidates: every pair of a
   bucket of up to PAIR_ALL units (counted with their groups), each member with the bucket's
   smallest beyond -> shards of the first member;
3. verify, first end (per shard): the distinct pairs, and each first member's shingle set once
   per shard it goes to -> shards of the second member; 4. other end (per shard): its set,
   exact Jaccard, verified edges;
5. connected components of the verified edges (curate.dedup.components, partitioned rounds);
6. resolve (per partition of the representatives, the components' label partitions): each
   group's members take their representative's label -> shards of the unit (by partition, not
   by shard of the representative: a group's smallest unit is in the earliest shard that has
   it, so the shards of the representatives held nearly every duplicate unit of the run in the
   first shards' tasks, 2.8 GB at 1.9 M documents); 7. route (per shard): each unit with its
   cluster's label -> partitions of the label, with the shard's first document per cluster and
   its survival columns;
8. clusters (per label partition): documents and units per cluster, the first document, the units
   to cut -> groups of shards; 9. decision files (per group of shards, bounded by their units:
   ``simhash_dedup.ShardGroups``), as ``method: simhash`` writes them.

A representative is its group's smallest node, and a bucket's size counts every unit of its
members' groups, so a bucket links the units it linked when every unit was its own node (a star's
head, the bucket's smallest node, is a representative) and a cluster's label is its smallest node
as before. The clusters are the same but in one case, where they are now closer to brute force:
identical units every one of whose buckets was a star to a head unlike them were left apart, and
are one cluster now. The candidate and verified pair counts shrink (pairs of distinct sets only).

A node is ``row << UNIT_BITS | k``: the document's row in the collected keys and the unit's place
in it, so nothing is numbered globally.
"""

from __future__ import annotations

import functools
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from curate import arrays, storage
from curate.collected import read_spilled
from curate.dedup.components import distinct_pairs, partitioned_components
from curate.errors import CurateError
from curate.index.survivor import rank_of, survival_order
from curate.minhash import SetStore, band_keys, fmix64, jaccard_at_least, minhash
from curate.shuffle import partition_of, read_partition, write_partitioned
from curate.text import SLOT_TOKENS, mask_slots, token_hashes
from curate.xxh3 import xxh3_64

UNIT_BITS = 24  # units of one document: a node is row << UNIT_BITS | k
PAIR_ALL = 8  # buckets up to this size link every pair; larger ones link each to the smallest
UNITS_PER_PARTITION = 1 << 20  # key and label partitions: about this many units each
SURVIVAL = ["id", "dump", "date"]
TOP_UNITS = 10
MASKED_WORDS = 2  # a masked unit needs this many words left, or it is taken as written
GRAM_BASE = np.uint64(0x9E3779B97F4A7C15)

# Chinese dates and times: the digits are already _num_; 年 月 日 号 时 分 秒 between them are part
# of the slot (2024年3月5日 14:05 -> one _num_), as are the units of a count (3条, 12次, 5分钟)
_CJK_DATE = re.compile(r"_num_(?:\s*[年月日号时点分秒]\s*(?:_num_)?)+")


# a labelled list: "Tags: a, b, c", "Home > tag > title", "相关文章：甲；乙": the label stays, the
# items (short, between list separators) are slots
_LABEL = re.compile(r"^([^:;|>/：；｜、]{1,24}?)\s*([:|>/：｜])\s*(.+)$")
_ITEM_SEP = re.compile(r"\s*[;,|>/：；，、｜:]\s*")
LIST_ITEMS = 2  # a labelled list has at least this many items
ITEM_CHARS = 40  # ... each at most this long


def _mask_list(unit: str) -> str:
    m = _LABEL.match(unit)
    if m is None:
        return unit
    items = [i for i in _ITEM_SEP.split(m.group(3)) if i]
    if len(items) < LIST_ITEMS or max(map(len, items)) > ITEM_CHARS:
        return unit
    return f"{m.group(1)} {m.group(2)} " + " ".join("_item_" for _ in items)


def mask_cjk(units: list[str]) -> list[str]:
    """curate.text.mask_slots, then the Chinese shapes of a date (2024年3月5日 -> one slot) and
    the items of a labelled list."""
    out = [_CJK_DATE.sub(" _num_ ", u) if "_num_" in u else u for u in mask_slots(units)]
    return [_mask_list(u) for u in out] if LIST_ITEMS else out


# ---------------------------------------------------------------- features

_NOT_WORDS = np.array(
    [xxhash.xxh3_64_intdigest(t.encode()) for t in (*SLOT_TOKENS, "_item_")]
    + [xxhash.xxh3_64_intdigest(b"0" * k) for k in range(1, 257)],
    np.uint64,
)


def _tokens(units: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Token hashes, tokens per unit and words per unit (tokens that are neither numbers nor
    slot placeholders)."""
    token_hash, counts = token_hashes(units)
    word = ~np.isin(token_hash, _NOT_WORDS)
    unit = np.repeat(np.arange(len(units)), counts)
    return token_hash, counts, np.bincount(unit[word], minlength=len(units))


def unit_shingles(
    units: list[str], ngram: int, mask: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(distinct 32-bit shingle hashes of every unit, concatenated and sorted within a unit;
    their number per unit; tokens and words per unit). Shingles are token ``ngram``-grams (a unit
    shorter than ``ngram`` tokens: its one shorter gram) of the unit after ``mask_cjk``
    (``mask``); a unit left with under MASKED_WORDS words (a bare URL, a date) is taken as
    written."""
    if not units:
        empty = np.empty(0, np.int64)
        return np.empty(0, np.uint32), empty, empty, empty
    masked = mask_cjk(units) if mask else units
    token_hash, counts, words = _tokens(masked)
    if mask and (words < MASKED_WORDS).any():
        masked = [u if w < MASKED_WORDS else m for u, m, w in zip(units, masked, words.tolist())]
        token_hash, counts, words = _tokens(masked)
    starts = np.cumsum(counts) - counts
    grams = np.where(counts >= ngram, counts - ngram + 1, np.minimum(counts, 1))
    total = int(grams.sum())
    gram_unit = np.repeat(np.arange(len(units)), grams)
    pos = np.repeat(starts, grams) + (np.arange(total) - np.repeat(np.cumsum(grams) - grams, grams))
    width = np.minimum(counts[gram_unit], ngram).astype(np.uint64)
    acc = np.zeros(total, np.uint64)
    last = max(len(token_hash) - 1, 0)
    power = np.uint64(1)
    with np.errstate(over="ignore"):
        for k in range(ngram if len(token_hash) else 0):
            term = token_hash[np.minimum(pos + k, last)] * power
            acc += np.where(np.uint64(k) < width, term, np.uint64(0))
            power = power * GRAM_BASE
    h = (fmix64(acc ^ width) & np.uint64(0xFFFFFFFF)).astype(np.uint64)
    keyed = arrays.distinct((gram_unit.astype(np.uint64) << np.uint64(32)) | h)
    sizes = np.bincount((keyed >> np.uint64(32)).astype(np.int64), minlength=len(units))
    values = (keyed & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    return values, sizes.astype(np.int64), counts, words


@dataclass(frozen=True)
class Params:
    """What the barrier's tasks need of the stage's config (small, picklable)."""

    threshold: float
    num_perm: int
    bands: int
    rows: int
    seed: int
    min_docs: int
    max_per_doc: float
    keep_first: bool
    keep: str


def unit_sets(
    units: list[str], ngram: int, mask: bool, min_tokens: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(which units are fingerprinted: ``min_tokens`` tokens, a word and a shingle; their
    shingle sets as values and sizes)."""
    values, sizes, token_count, words = unit_shingles(units, ngram, mask)
    keep = (words > 0) & (token_count >= min_tokens) & (sizes > 0)
    return keep, values[np.repeat(keep, sizes)], sizes[keep]


def sketch_bands(values: np.ndarray, sizes: np.ndarray, p: Params) -> np.ndarray:
    """uint64 [units, bands]: the LSH band keys of each set's MinHash signature."""
    return band_keys(minhash(values, sizes, p.num_perm, p.seed), p.bands, p.rows)


# ---------------------------------------------------------------- the barrier


def _nodes(doc: np.ndarray, k: np.ndarray) -> np.ndarray:
    return (np.asarray(doc, np.int64) << np.int64(UNIT_BITS)) | np.asarray(k, np.int64)


def _piece_of(node: np.ndarray, starts: np.ndarray) -> np.ndarray:
    return np.searchsorted(starts, node >> np.int64(UNIT_BITS), "right") - 1


def _units_of(batch: pa.Table, start: int) -> tuple[np.ndarray, np.ndarray]:
    """(doc row, k) of every unit of a piece whose first row is ``start``."""
    lengths = pc.list_value_length(batch.column("start")).to_numpy().astype(np.int64)
    doc = np.repeat(np.arange(start, start + len(lengths), dtype=np.int64), lengths)
    k = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    return doc, k


def _shard_sets(collected: Any, piece: tuple[int, int]) -> tuple[SetStore, np.ndarray]:
    """The shingle sets of one shard's units (in node order) and their nodes."""
    start, stop = piece
    batch = collected.take(["start", "shingles", "n_shingles"], np.arange(start, stop))
    doc, k = _units_of(batch, start)
    sizes = pc.list_flatten(batch.column("n_shingles")).to_numpy().astype(np.int64)
    values = pc.list_flatten(batch.column("shingles")).to_numpy()
    return SetStore(values, np.r_[0, np.cumsum(sizes)]), _nodes(doc, k)


def _unit_count(collected: Any, piece: tuple[int, int]) -> int:
    """How many units one shard has (the driver sums them: it reads no unit column)."""
    batch = collected.take(["start"], np.arange(*piece))
    return int(pc.sum(pc.list_value_length(batch.column(0))).as_py() or 0)


def _keys(collected: Any, partitions: int, piece: tuple[int, int]) -> Any:
    """Round 0: (key, node) of every unit of one shard, the key the xxh3 of its sorted shingle
    set (the set is all the later rounds see of a unit), by partition of the key."""
    store, node = _shard_sets(collected, piece)
    data = pa.py_buffer(np.ascontiguousarray(store.values, np.uint32).view(np.uint8))
    offsets = pa.py_buffer((store.offsets * 4).astype(np.int64))
    sets = pa.Array.from_buffers(pa.large_binary(), len(node), [None, offsets, data])
    keys = xxh3_64(sets)
    table = pa.table({"key": keys, "node": node})
    return collected.spill(f"unit-keys-{piece[0]}", table, partition_of(keys, partitions))


def _distinct(handles: list[Any], starts: np.ndarray, collected: Any, partitions: int,
              part: int) -> tuple[Any, Any]:  # fmt: skip
    """Round 0b: the units of one key partition grouped by key (identical shingle sets): each
    group's representative (its smallest node) with the group's size, by shard of the
    representative; and every other member with its representative, by partition of the
    representative (``partition_of``, as the components' labels)."""
    table = read_spilled(handles, part)
    key = node = np.empty(0, np.int64)
    if table is not None and table.num_rows:
        key, node = table.column("key").to_numpy(), table.column("node").to_numpy()
        order = np.lexsort((node, key))
        key, node = key[order], node[order]
    new = np.r_[True, key[1:] != key[:-1]] if len(key) else np.empty(0, bool)
    first = np.flatnonzero(new)
    rep = node[first]
    count = np.diff(np.r_[first, len(key)]).astype(np.int64)
    reps = pa.table({"node": rep, "count": count})
    rep_of = rep[np.cumsum(new) - 1] if len(key) else node
    members = pa.table({"node": node[~new], "rep": rep_of[~new]})
    return (
        collected.spill(f"unit-reps-{part}", reps, _piece_of(rep, starts)),
        collected.spill(
            f"unit-members-{part}", members, partition_of(rep_of[~new].view(np.uint64), partitions)
        ),
    )


def _bands(collected: Any, p: Params, partitions: int, reps: list[Any], number: int) -> Any:
    """Round 1: (key, node, count) of every band of every representative of one shard (MinHash
    of its shingle set; count: the units with its set), by partition of the key."""
    store, own = _shard_sets(collected, collected.pieces()[number])
    table = read_spilled(reps, number)
    node = count = np.empty(0, np.int64)
    if table is not None and table.num_rows:
        node, count = table.column("node").to_numpy(), table.column("count").to_numpy()
    rows = np.searchsorted(own, node)
    keys = sketch_bands(store.gather(rows), store.sizes(rows), p).reshape(-1)
    table = pa.table(
        {"key": keys, "node": np.repeat(node, p.bands), "count": np.repeat(count, p.bands)}
    )
    return collected.spill(f"unit-bands-{number}", table, partition_of(keys, partitions))


def _buckets(handles: list[Any], starts: np.ndarray, collected: Any, part: int) -> Any:
    """Round 2: candidate pairs of the buckets of one key partition, by shard of the first end.
    A bucket of up to PAIR_ALL members gives all its pairs, a larger one each member with its
    smallest (identical units, repeated boilerplate, make the large buckets). A member stands
    for ``count`` units with its shingle set: a bucket's size counts them all, so the pairs join
    the same units as a bucket of every unit would."""
    table = read_spilled(handles, part)
    u = v = np.empty(0, np.int64)
    if table is not None and table.num_rows:
        key, node = table.column("key").to_numpy(), table.column("node").to_numpy()
        count = table.column("count").to_numpy()
        order = np.lexsort((node, key))
        key, node, count = key[order], node[order], count[order]
        new = np.r_[True, key[1:] != key[:-1]]
        bucket = np.cumsum(new) - 1
        first = np.flatnonzero(new)
        size = np.diff(np.r_[first, len(key)])[bucket]
        units = np.add.reduceat(count, first)[bucket]
        at = np.arange(len(key)) - first[bucket]
        head = node[first[bucket]]
        star = (units > PAIR_ALL) & (at > 0)
        us, vs = [head[star]], [node[star]]
        small = units <= PAIR_ALL
        for d in range(1, int(size[small].max(initial=1))):  # member i with member i + d
            sel = small & (at + d < size)
            idx = np.flatnonzero(sel)
            us.append(node[idx])
            vs.append(node[idx + d])
        u, v = np.concatenate(us), np.concatenate(vs)
        u, v = np.minimum(u, v), np.maximum(u, v)
        keep = u != v
        u, v = distinct_pairs(u[keep], v[keep])
    return collected.spill(f"unit-pairs-{part}", pa.table({"u": u, "v": v}), _piece_of(u, starts))


def _sets(collected: Any, piece: tuple[int, int], nodes: np.ndarray) -> tuple[SetStore, np.ndarray]:
    """The shingle sets of one shard's units and the row of each of ``nodes`` in them."""
    store, own = _shard_sets(collected, piece)  # own: sorted, rows in order, k in order
    return store, np.searchsorted(own, nodes)


def _verify_first(
    handles: list[Any], starts: np.ndarray, collected: Any, number: int
) -> tuple[Any, Any]:
    """Round 3: this shard's candidate pairs (by shard of the other end), and each first end's
    shingle set once per shard it goes to (not once per pair: a star bucket's head, the
    smallest unit, is in the first shards and in every one of its bucket's pairs)."""
    pieces = collected.pieces()
    table = read_spilled(handles, number)
    u = table.column("u").to_numpy() if table is not None else np.empty(0, np.int64)
    v = table.column("v").to_numpy() if table is not None else np.empty(0, np.int64)
    u, v = distinct_pairs(u, v)  # a pair met in several partitions' buckets is one pair
    dest = _piece_of(v, starts)
    sent, node = distinct_pairs(dest, u)  # (shard, first end), each once
    store, rows = _sets(collected, pieces[number], node)
    sizes = store.sizes(rows)
    sets = pa.LargeListArray.from_arrays(
        pa.array(np.r_[0, np.cumsum(sizes)].astype(np.int64)),
        pa.array(store.gather(rows), pa.uint32()),
    )
    return (
        collected.spill(f"unit-half-{number}", pa.table({"u": u, "v": v}), dest),
        collected.spill(f"unit-halfsets-{number}", pa.table({"node": node, "a": sets}), sent),
    )


def _verify_other(
    handles: list[tuple[Any, Any]], starts: np.ndarray, collected: Any, threshold: float,
    work: str, partitions: int, number: int,
) -> tuple[int, int]:  # fmt: skip
    """Round 4: the other ends' sets, exact Jaccard; verified edges (for the components) by
    partition of their first node. Returns (candidate pairs, verified)."""
    table = read_spilled([h[0] for h in handles], number)
    u = v = np.empty(0, np.int64)
    candidates = 0
    if table is not None and table.num_rows:
        u, v = table.column("u").to_numpy(), table.column("v").to_numpy()
        candidates = len(u)
        firsts = read_spilled([h[1] for h in handles], number)
        node = firsts.column("node").to_numpy()
        order = np.argsort(node, kind="stable")
        a = SetStore.from_arrow(firsts.column("a"))
        rows_a = order[np.searchsorted(node[order], u)]
        b, rows = _sets(collected, collected.pieces()[number], v)
        ok = jaccard_at_least(a, rows_a, b, rows, threshold)
        u, v = u[ok], v[ok]
    path = storage.path(work, "edges", f"part-{number:05d}.parquet")
    write_partitioned(path, pa.table({"u": u, "v": v}), partition_of(u.view(np.uint64), partitions))
    return candidates, len(u)


def _resolve(labels: str, members: list[Any], starts: np.ndarray, collected: Any,
             part: int) -> Any:  # fmt: skip
    """Round 6: one partition of the representatives (``partition_of``: the components' label
    partition ``part`` and the members spilled to it) gives its labels to every unit they stand
    for (a representative without a near-copy is its units' label), by shard of the unit. A
    task holds its partition's labels and the members of its representatives: the largest set
    of identical units bounds it, not the run's duplicates."""
    found = read_partition([storage.path(labels, f"part-{part:05d}.parquet")], part)
    rep = label = np.empty(0, np.int64)
    if found is not None and found.num_rows:
        rep = found.column("node").to_numpy().astype(np.int64)
        label = found.column("label").to_numpy().astype(np.int64)
        order = np.argsort(rep)
        rep, label = rep[order], label[order]
    table = read_spilled(members, part)
    node = of = np.empty(0, np.int64)
    if table is not None and table.num_rows:
        node, of = table.column("node").to_numpy(), table.column("rep").to_numpy()
    at = np.minimum(np.searchsorted(rep, of), max(len(rep) - 1, 0))
    has = (rep[at] == of) if len(rep) else np.zeros(len(of), bool)
    node = np.r_[rep, node].astype(np.int64)
    label = np.r_[label, np.where(has, label[at] if len(rep) else of, of)].astype(np.int64)
    table = pa.table({"node": node, "label": label})
    return collected.spill(f"unit-resolved-{part}", table, _piece_of(node, starts))


def _route(
    collected: Any, labels: list[Any], partitions: int, keep: str, number: int
) -> tuple[Any, Any]:
    """Round 7: one shard's units with their cluster's label (its smallest node; a unit without
    a near-copy is its own), by partition of the label; and per cluster, the shard's first
    document in survival order with its survival columns."""
    start, stop = collected.pieces()[number]
    batch = collected.take(["start", "end", *SURVIVAL], np.arange(start, stop))
    doc, k = _units_of(batch, start)
    node = _nodes(doc, k)
    label = node.copy()
    found = read_spilled(labels, number)
    if found is not None and found.num_rows:
        at = np.searchsorted(node, found.column("node").to_numpy())
        label[at] = found.column("label").to_numpy()
    s_, e_ = (pc.list_flatten(batch.column(c)).to_numpy() for c in ("start", "end"))
    units = pa.table(
        {"doc": doc, "k": k.astype(np.int32), "label": label, "length": (e_ - s_).astype(np.int64)}
    )
    part = partition_of(label.view(np.uint64), partitions)
    rank = rank_of(survival_order(batch.select(SURVIVAL), keep))
    lengths = pc.list_value_length(batch.column("start")).to_numpy().astype(np.int64)
    by = np.lexsort((np.repeat(rank, lengths), label))
    head = by[np.r_[True, label[by][1:] != label[by][:-1]]] if len(by) else by
    firsts = batch.select(SURVIVAL).take(pa.array(doc[head] - start))
    firsts = firsts.add_column(0, "doc", pa.array(doc[head]))
    firsts = firsts.add_column(0, "label", pa.array(label[head]))
    return (
        collected.spill(f"unit-units-{number}", units, part),
        collected.spill(f"unit-firsts-{number}", firsts, part[head]),
    )


@dataclass
class ClusterPart:
    """One cluster task's counts and the handle of the units it cuts (as method simhash's)."""

    part: int
    cuts: Any
    clusters: int
    boilerplate: int
    top: tuple[np.ndarray, ...]  # (units cut, label, doc, k of a cut unit, documents)


def _clusters(
    collected: Any, routed: list[tuple[Any, Any]], p: Params, group_of: Any, part: int,
) -> ClusterPart:  # fmt: skip
    """Round 8: the clusters whose label falls in ``part``: documents, units per document, the
    first document, the units to cut (by group of shards)."""
    table = read_spilled([r[0] for r in routed], part)
    if table is None:
        doc = k = label = length = np.empty(0, np.int64)
    else:
        doc, k, label, length = (
            table.column(c).to_numpy() for c in ("doc", "k", "label", "length")
        )
    labels, cluster = np.unique(label, return_inverse=True)
    n = len(labels)
    units = np.bincount(cluster, minlength=n)
    pair = arrays.distinct(cluster.astype(np.int64) * (1 << 40) + doc)
    docs = np.bincount(pair >> 40, minlength=n)
    boiler = (docs >= p.min_docs) & (units <= p.max_per_doc * docs)
    winner = np.full(n, -1, np.int64)
    heads = read_spilled([r[1] for r in routed], part)
    if heads is not None and p.keep_first:
        heads = heads.filter(pa.array(np.isin(heads.column("label").to_numpy(), labels[boiler])))
    if heads is not None and heads.num_rows and p.keep_first:
        heads = heads.take(pc.sort_indices(heads, [("doc", "ascending")]))  # ties: earlier row
        by = survival_order(heads, p.keep)
        h_label = heads.column("label").to_numpy()[by]
        h_doc = heads.column("doc").to_numpy()[by]
        _, at = np.unique(h_label, return_index=True)
        winner[np.searchsorted(labels, h_label[at])] = h_doc[at]
    cut = boiler[cluster] & (doc != winner[cluster]) if p.keep_first else boiler[cluster]
    # each cluster's example: its cut unit of the smallest (document, unit) (the rows' order
    # here depends on which routing task finished first)
    by = np.lexsort((k[cut], doc[cut], cluster[cut]))
    ids, first, counts = np.unique(cluster[cut][by], return_index=True, return_counts=True)
    at = by[first]
    best = np.argsort(-counts, kind="stable")[:TOP_UNITS]
    cuts = pa.table({"doc": doc[cut], "k": k[cut].astype(np.int64), "length": length[cut]})
    return ClusterPart(
        part=part,
        cuts=collected.spill(f"unit-cuts-{part}", cuts, group_of(doc[cut])),
        clusters=int((units > 1).sum()),
        boilerplate=int(boiler.sum()),
        top=(counts[best], labels[ids[best]].view(np.uint64), doc[cut][at[best]],
             k[cut][at[best]], docs[ids[best]]),
    )  # fmt: skip


def partitions_for(units: int) -> int:
    return max(1, -(-units // UNITS_PER_PARTITION))


def barrier(
    collected: Any, run: Any, p: Params, write_decisions: Any, shard_groups: Any
) -> tuple[list[ClusterPart], list[dict], dict[str, Any]]:
    """The rounds; returns the cluster tasks' parts, the decision writers' counts and the
    barrier's own counters. ``shard_groups(pieces, units per shard)`` makes the groups of shards
    (``len``, ``group_of(doc)``, ``memory()``) and ``write_decisions(collected, cuts, groups,
    group)`` writes one group's decision files (method simhash's last round)."""
    pieces = collected.pieces()
    starts = np.array([a for a, _ in pieces], np.int64)
    per_shard = list(run(functools.partial(_unit_count, collected), pieces))
    units = sum(per_shard)
    groups = shard_groups(pieces, per_shard)
    P = partitions_for(units * p.bands // 8)
    scratch = getattr(collected, "scratch", None)
    work = storage.path(scratch, "units") if scratch is not None else Path(tempfile.mkdtemp())
    storage.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    try:
        tasks = list(range(len(pieces)))
        keyed = list(run(functools.partial(_keys, collected, P), pieces))
        distinct = functools.partial(_distinct, keyed, starts, collected, P)
        grouped = list(run(distinct, list(range(P))))
        reps, members = [g[0] for g in grouped], [g[1] for g in grouped]
        bands = list(run(functools.partial(_bands, collected, p, P, reps), tasks))
        pairs = list(run(functools.partial(_buckets, bands, starts, collected), list(range(P))))
        half = list(run(functools.partial(_verify_first, pairs, starts, collected), tasks))
        verify = functools.partial(
            _verify_other, half, starts, collected, p.threshold, str(work), P
        )
        checked = list(run(verify, tasks))
        edges = [storage.path(work, "edges", f"part-{i:05d}.parquet") for i in tasks]
        labels = partitioned_components(edges, work / "components", P, run, P)
        resolve = functools.partial(_resolve, str(labels.labels), members, starts, collected)
        resolved = list(run(resolve, list(range(P))))
        routed = list(run(functools.partial(_route, collected, resolved, P, p.keep), tasks))
        task = functools.partial(_clusters, collected, routed, p, groups.group_of)
        parts = sorted(run(task, list(range(P))), key=lambda c: c.part)
        write = functools.partial(write_decisions, collected, [c.cuts for c in parts], groups)
        counts = sorted(
            run(write, list(range(len(groups))), memory=groups.memory()),
            key=lambda c: c["group"],
        )
    finally:
        storage.rmtree(work)
    return (
        parts,
        counts,
        {
            "candidate_pairs": sum(c for c, _ in checked),
            "near_duplicate_pairs": sum(v for _, v in checked),
            "clusters": sum(c.clusters for c in parts),
            "boilerplate_clusters": sum(c.boilerplate for c in parts),
            "partitions": P,
            "component_rounds": len(labels.rounds),
        },
    )


# ---------------------------------------------------------------- the stage's hook


def validate(cfg: Any) -> None:
    """method minhash's parameters (SimhashDedupConfig)."""
    if not 0 < cfg.threshold <= 1:
        raise ValueError("threshold must be in (0, 1]")
    if cfg.shingle < 1 or cfg.bands < 1 or cfg.num_perm % cfg.bands:
        raise ValueError("shingle and bands must be >= 1, num_perm a multiple of bands")
    if cfg.max_per_doc < 1:
        raise ValueError("max_per_doc must be >= 1")
    if cfg.index:
        raise ValueError("index: is not supported with method: minhash yet")


def params(cfg: Any) -> Params:
    return Params(
        threshold=cfg.threshold,
        num_perm=cfg.num_perm,
        bands=cfg.bands,
        rows=cfg.num_perm // cfg.bands,
        seed=1,
        min_docs=cfg.min_docs,
        max_per_doc=cfg.max_per_doc,
        keep_first=cfg.keep_first,
        keep=cfg.keep,
    )


def collect_columns(
    texts: list[str], doc: np.ndarray, cfg: Any, rows: int
) -> tuple[np.ndarray, dict[str, pa.Array]]:
    """(the fingerprinted units, list columns per document: ``shingles`` (each unit's set, in
    unit order), ``n_shingles`` (the sets' sizes)). The MinHash signatures are made in the
    barrier's first round: 4 bytes per shingle here, not 8 per band."""
    keep, values, sizes = unit_sets(texts, cfg.shingle, cfg.mask_slots, cfg.min_tokens)
    doc = doc[keep]
    per_doc = np.bincount(doc, minlength=rows)
    if len(per_doc) and per_doc.max() >> UNIT_BITS:
        raise CurateError(
            f"simhash_dedup: row {int(per_doc.argmax())} of a batch has {int(per_doc.max()):,} "
            f"units; method minhash takes at most {1 << UNIT_BITS:,} a document"
        )
    shingles_per_doc = np.bincount(doc, weights=sizes, minlength=rows).astype(np.int64)

    def lists(lengths: np.ndarray, values: np.ndarray, type_: pa.DataType) -> pa.Array:
        offsets = pa.array(np.r_[0, np.cumsum(lengths)].astype(np.int64))
        return pa.LargeListArray.from_arrays(offsets, pa.array(values, type_))

    return np.flatnonzero(keep), {
        "shingles": lists(shingles_per_doc, values, pa.uint32()),
        "n_shingles": lists(per_doc, sizes.astype(np.int32), pa.int32()),
    }


def decide(cfg: Any, collected: Any, run: Any) -> dict[str, Any]:
    """The barrier and the stage's summary (as method simhash reports it)."""
    from curate.stages import simhash_dedup as sd  # the decision files and report, shared

    parts, counts, own = barrier(
        collected, run, params(cfg), sd._write_decisions, sd.ShardGroups.of
    )
    return {
        "documents": collected.num_rows,
        "method": "minhash",
        "units": sum(c["units"] for c in counts),
        **own,
        "units_removed": sum(c["units_removed"] for c in counts),
        "chars_removed": sum(c["chars_removed"] for c in counts),
        "docs_cut": sum(c["docs_cut"] for c in counts),
        "by_dump": sd._merge_breakdowns([c["by_dump"] for c in counts]),
        "by_domain": sd._merge_breakdowns([c["by_domain"] for c in counts]),
        "top_removed": sd._top_units(collected, parts, cfg.mask_slots),
    }
