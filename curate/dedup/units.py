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

0. keys (per shard): each unit's xxh3 of its sorted shingle set; the shard's units of one key are
   one row (its smallest unit, the shard's local representative, and their count) -> partitions
   of the key, and each other unit with its local representative is kept for the shard's own
   later tasks; distinct (per key partition): the shards' rows of one key are one node from
   here to the components, their smallest, the representative, with the group's size (the
   counts summed) -> shards of the representative, and each other local representative with
   it -> partitions of the representative (a boilerplate line in N pages over S shards costs
   S rows here, then one node, 20 band keys and no star of N edges);
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
   first shards' tasks, 2.8 GB at 1.9 M documents); 7. route (per shard): one row per cluster
   of the shard (its label, the cluster's smallest node): its units and documents there, the
   shard's first document in survival order with its survival columns and its units, the
   smallest unit and the smallest outside that document -> partitions of the label;
8. clusters (per label partition): documents and units per cluster summed over its shards' rows,
   the first document, the units cut and the report's example; each boilerplate cluster's
   verdict (label, first document) -> groups of the shards it is in; 9. decision files (per
   group of shards, ``simhash_dedup.ShardGroups``, a shard at a time): each unit's label again
   (from round 6's files), cut when its cluster has a verdict and it is not in the first
   document, written as ``method: simhash`` writes them. No round holds a cluster's units: a
   line in every page of a dump is one row per shard in round 8 (by units, one partition's task
   held 743 MB at 1.9 M documents), and each unit stays in its shard's tasks.

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
# what a task declares (Ray places it by this; the local pool ends its workers after a round
# that declares over RECYCLE_MEMORY): a fixed part, plus per unit of its shard or per band key
# of its partition (measured: a bucket task grew 290 MB for 5.8 M band keys)
SHARD_UNIT_BYTES = 400
KEY_BYTES = 64
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


def _unit_count(collected: Any, number: int) -> tuple[int, int]:
    """(shard, how many units it has): the driver reads no unit column."""
    batch = collected.take(["start"], np.arange(*collected.pieces()[number]))
    return number, int(pc.sum(pc.list_value_length(batch.column(0))).as_py() or 0)


def _keys(collected: Any, partitions: int, number: int) -> tuple[int, Any, Any]:
    """Round 0: one shard's units grouped by key, the xxh3 of their sorted shingle set (the set
    is all the later rounds see of a unit): each key once, with the shard's smallest unit that
    has it and their count, by partition of the key; and the shard's other units with that
    unit (its local representative), kept for the shard's own later tasks. So a line in every
    page of a dump costs the key's task one row per shard, not one per page."""
    store, node = _shard_sets(collected, collected.pieces()[number])
    data = pa.py_buffer(np.ascontiguousarray(store.values, np.uint32).view(np.uint8))
    offsets = pa.py_buffer((store.offsets * 4).astype(np.int64))
    sets = pa.Array.from_buffers(pa.large_binary(), len(node), [None, offsets, data])
    key = np.asarray(xxh3_64(sets))
    order = np.lexsort((node, key))
    key, node = key[order], node[order]
    new = np.r_[True, key[1:] != key[:-1]] if len(key) else np.empty(0, bool)
    first = np.flatnonzero(new)
    rep = node[first]
    count = np.diff(np.r_[first, len(key)]).astype(np.int64)
    table = pa.table({"key": key[first], "node": rep, "count": count})
    rep_of = rep[np.cumsum(new) - 1] if len(key) else node
    local = pa.table({"node": node[~new], "rep": rep_of[~new]})
    return (
        number,
        collected.spill(f"unit-keys-{number}", table, partition_of(key[first], partitions)),
        collected.spill(f"unit-local-{number}", local, np.full(local.num_rows, number)),
    )


def _distinct(handles: list[Any], starts: np.ndarray, collected: Any, partitions: int,
              part: int) -> tuple[Any, Any]:  # fmt: skip
    """Round 0b: the shards' keys of one key partition grouped by key (identical shingle sets):
    each group's representative (its smallest node) with the group's size (the shards' counts
    summed), by shard of the representative; and every other shard's local representative
    with the group's, by partition of the representative (``partition_of``, as the components'
    labels)."""
    table = read_spilled(handles, part)
    key = node = count = np.empty(0, np.int64)
    if table is not None and table.num_rows:
        key, node, count = (table.column(c).to_numpy() for c in ("key", "node", "count"))
        order = np.lexsort((node, key))
        key, node, count = key[order], node[order], count[order]
    new = np.r_[True, key[1:] != key[:-1]] if len(key) else np.empty(0, bool)
    first = np.flatnonzero(new)
    rep = node[first]
    total = np.add.reduceat(count, first) if len(first) else count
    reps = pa.table({"node": rep, "count": total.astype(np.int64)})
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


SLICE = 1 << 20  # sorted band keys turned into pairs at once (whole buckets)


def _bucket_pairs(key: np.ndarray, node: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, ...]:
    """The candidate pairs of whole buckets (``key`` sorted, then ``node``): every pair of a
    bucket of up to PAIR_ALL units, each member of a larger one with its smallest."""
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
        idx = np.flatnonzero(small & (at + d < size))
        us.append(node[idx])
        vs.append(node[idx + d])
    u, v = np.concatenate(us), np.concatenate(vs)
    u, v = np.minimum(u, v), np.maximum(u, v)
    keep = u != v
    return u[keep], v[keep]


def _buckets(handles: list[Any], starts: np.ndarray, collected: Any, part: int) -> Any:
    """Round 2: candidate pairs of the buckets of one key partition, by shard of the first end.
    A bucket of up to PAIR_ALL members gives all its pairs, a larger one each member with its
    smallest (identical units, repeated boilerplate, make the large buckets). A member stands
    for ``count`` units with its shingle set: a bucket's size counts them all, so the pairs join
    the same units as a bucket of every unit would. The sorted keys are turned into pairs SLICE
    keys at a time (cut between buckets): a dozen arrays the size of the partition, at 5.8 M band
    keys, made the task 733 MB."""
    u = v = np.empty(0, np.int64)
    found = read_spilled(handles, part, ["key"])
    if found is not None and found.num_rows:
        key = found.column(0).to_numpy()
        del found  # a column at a time: never the Arrow table and its NumPy copy at once

        def column(name: str) -> np.ndarray:
            return read_spilled(handles, part, [name]).column(0).to_numpy()

        node = column("node")
        order = np.lexsort((node, key))
        key = key[order]
        node = node[order]
        count = column("count")[order]
        del order
        us, vs, pos = [], [], 0
        while pos < len(key):
            end = min(len(key), pos + SLICE)
            if end < len(key):  # the end of the bucket the slice's last key is in
                end = int(np.searchsorted(key, key[end - 1], "right"))
            pair = _bucket_pairs(key[pos:end], node[pos:end], count[pos:end])
            us.append(pair[0])
            vs.append(pair[1])
            pos = end
        del key, node, count
        u, v = distinct_pairs(np.concatenate(us), np.concatenate(vs))
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


def _shard_labels(
    collected: Any, resolved: list[Any], local: Any, columns: list[str], number: int
) -> tuple[pa.Table, np.ndarray, np.ndarray, np.ndarray]:
    """One shard's ``columns`` (``start`` first) and each of its units' (doc row, node, label):
    its cluster's smallest node, given by ``_resolve`` to the shard's local representatives
    and from them to the units they stand for (``local``, round 0's), or its own node."""
    start, stop = collected.pieces()[number]
    batch = collected.take(columns, np.arange(start, stop))
    doc, k = _units_of(batch, start)
    node = _nodes(doc, k)
    label = node.copy()
    found = read_spilled(resolved, number)
    if found is not None and found.num_rows:
        at = np.searchsorted(node, found.column("node").to_numpy())
        label[at] = found.column("label").to_numpy()
    same = read_spilled([local], number)
    if same is not None and same.num_rows:
        at, rep = (np.searchsorted(node, same.column(c).to_numpy()) for c in ("node", "rep"))
        label[at] = label[rep]
    return batch, doc, node, label


NO_NODE = np.iinfo(np.int64).max


def _route(
    collected: Any, resolved: list[Any], local: list[Any], partitions: int, keep: str,
    number: int,
) -> Any:  # fmt: skip
    """Round 7: one shard's clusters, one row each, by partition of the label: its units and
    documents in the shard, the shard's first document in survival order with its survival
    columns and its units, the smallest unit and the smallest outside that document. A cluster
    in every page of the run costs a row per shard here, not a row per unit."""
    batch, doc, node, label = _shard_labels(
        collected, resolved, local[number], ["start", *SURVIVAL], number
    )
    start = collected.pieces()[number][0]
    lengths = pc.list_value_length(batch.column("start")).to_numpy().astype(np.int64)
    rank = rank_of(survival_order(batch.select(SURVIVAL), keep))
    by = np.lexsort((node, np.repeat(rank, lengths), label))
    label, doc, node = label[by], doc[by], node[by]
    first = np.flatnonzero(np.r_[True, label[1:] != label[:-1]]) if len(label) else by
    head = doc[first]
    in_head = doc == np.repeat(head, np.diff(np.r_[first, len(label)]))
    new_doc = np.r_[True, (label[1:] != label[:-1]) | (doc[1:] != doc[:-1])] if len(label) else by

    def per_cluster(ufunc: Any, values: np.ndarray) -> np.ndarray:
        return ufunc.reduceat(values, first) if len(first) else values[:0]

    table = batch.select(SURVIVAL).take(pa.array(head - start))
    columns = {
        "label": label[first],
        "shard": np.full(len(first), number, np.int64),
        "units": np.diff(np.r_[first, len(label)]),
        "docs": per_cluster(np.add, new_doc.astype(np.int64)),
        "doc": head,
        "head_units": per_cluster(np.add, in_head.astype(np.int64)),
        "smallest": per_cluster(np.minimum, node),
        "other": per_cluster(np.minimum, np.where(in_head, NO_NODE, node)),
    }
    for c, (name, values) in enumerate(columns.items()):
        table = table.add_column(c, name, pa.array(values, pa.int64()))
    return collected.spill(
        f"unit-clusters-{number}", table, partition_of(label[first].view(np.uint64), partitions)
    )


@dataclass
class ClusterPart:
    """One cluster task's counts and the handle of its verdicts (label, first document) for the
    shards of its boilerplate clusters, by group of shards."""

    part: int
    cuts: Any
    clusters: int
    boilerplate: int
    top: tuple[np.ndarray, ...]  # (units cut, label, doc, k of a cut unit, documents)


def _clusters(collected: Any, routed: list[Any], p: Params, groups: Any, part: int) -> ClusterPart:
    """Round 8: the clusters whose label falls in ``part``, from their shards' rows: units and
    documents, the first document (the first of the shards' firsts), the units cut; each
    boilerplate cluster's verdict (label, first document or -1) to the group of every shard it
    is in."""
    table = read_spilled(routed, part)
    names = ("label", "shard", "units", "docs", "doc", "head_units", "smallest", "other")
    if table is None:
        table = pa.table({n: pa.array([], pa.int64()) for n in names})
    label, shard, units, docs, doc, head_units, smallest, other = (
        table.column(c).to_numpy() for c in names
    )
    labels, cluster = np.unique(label, return_inverse=True)
    n = len(labels)
    c_units = np.bincount(cluster, weights=units, minlength=n).astype(np.int64)
    c_docs = np.bincount(cluster, weights=docs, minlength=n).astype(np.int64)
    boiler = (c_docs >= p.min_docs) & (c_units <= p.max_per_doc * c_docs)
    winner = np.full(n, -1, np.int64)
    if p.keep_first and boiler.any():
        heads = table.filter(pa.array(boiler[cluster]))
        heads = heads.take(pc.sort_indices(heads, [("doc", "ascending")]))  # ties: earlier row
        by = survival_order(heads, p.keep)
        h_label = heads.column("label").to_numpy()[by]
        h_doc = heads.column("doc").to_numpy()[by]
        _, at = np.unique(h_label, return_index=True)
        winner[np.searchsorted(labels, h_label[at])] = h_doc[at]
    won = doc == winner[cluster]  # the row of the shard that holds the cluster's first
    kept = np.bincount(cluster[won], weights=head_units[won], minlength=n).astype(np.int64)
    cut = np.where(boiler, c_units - kept, 0)
    # each cluster's example: its cut unit of the smallest (document, unit)
    example = np.full(n, NO_NODE, np.int64)
    np.minimum.at(example, cluster, np.where(won, other, smallest))
    ids = np.flatnonzero(cut > 0)
    best = ids[np.argsort(-cut[ids], kind="stable")[:TOP_UNITS]]
    mask = np.int64((1 << UNIT_BITS) - 1)
    verdicts = pa.table({"shard": shard, "label": label, "winner": winner[cluster]}).filter(
        pa.array(boiler[cluster])
    )
    return ClusterPart(
        part=part,
        cuts=collected.spill(
            f"unit-verdicts-{part}", verdicts,
            groups.group_of_shard(verdicts.column("shard").to_numpy()),
        ),
        clusters=int((c_units > 1).sum()),
        boilerplate=int(boiler.sum()),
        top=(cut[best], labels[best].view(np.uint64), example[best] >> np.int64(UNIT_BITS),
             example[best] & mask, c_docs[best]),
    )  # fmt: skip


def _decisions(
    collected: Any, resolved: list[Any], local: list[Any], verdicts: list[Any], groups: Any,
    group: int,
) -> dict[str, Any]:  # fmt: skip
    """Round 9: the decision files of one group of shards, a shard at a time: a unit is cut
    when its cluster is boilerplate and it is not in the cluster's first document."""
    from curate.stages import simhash_dedup as sd  # the decision files, shared

    table = read_spilled(verdicts, group)
    out = sd._counts(group)
    for number in groups.shards(group):
        keys, doc, _, label = _shard_labels(
            collected, resolved, local[number], sd.DECISION_COLUMNS, number
        )
        mine = label[:0]
        winner = doc[:0]
        if table is not None and table.num_rows:
            rows = table.filter(pc.equal(table.column("shard"), number))
            order = pc.sort_indices(rows, [("label", "ascending")])
            mine = rows.column("label").take(order).to_numpy()
            winner = rows.column("winner").take(order).to_numpy()
        at = np.minimum(np.searchsorted(mine, label), max(len(mine) - 1, 0))
        hit = (mine[at] == label) if len(mine) else np.zeros(len(label), bool)
        cut = hit & (doc != (winner[at] if len(mine) else -1))
        sd.shard_decision(collected, keys, cut, out)
    return out


def partitions_for(units: int) -> int:
    return max(1, -(-units // UNITS_PER_PARTITION))


def barrier(
    collected: Any, run: Any, p: Params, shard_groups: Any
) -> tuple[list[ClusterPart], list[dict], dict[str, Any]]:
    """The rounds; returns the cluster tasks' parts, the decision writers' counts and the
    barrier's own counters. ``shard_groups(pieces, units per shard)`` makes the groups of shards
    whose decision files one task writes (``simhash_dedup.ShardGroups``)."""
    pieces = collected.pieces()
    starts = np.array([a for a, _ in pieces], np.int64)
    tasks = list(range(len(pieces)))
    counted = sorted(run(functools.partial(_unit_count, collected), tasks))  # in any order
    per_shard = [n for _, n in counted]
    units = sum(per_shard)
    groups = shard_groups(pieces, per_shard)
    P = partitions_for(units * p.bands // 8)
    from curate.stages.simhash_dedup import TASK_BASE

    by_shard = {"memory": TASK_BASE + SHARD_UNIT_BYTES * max(per_shard, default=0)}
    by_part = {"memory": TASK_BASE + KEY_BYTES * -(-units * p.bands // P)}
    scratch = getattr(collected, "scratch", None)
    work = storage.path(scratch, "units") if scratch is not None else Path(tempfile.mkdtemp())
    storage.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    try:
        keyed = sorted(
            run(functools.partial(_keys, collected, P), tasks, **by_shard), key=lambda r: r[0]
        )
        local = [r[2] for r in keyed]  # each shard's own, handed to its tasks only
        distinct = functools.partial(_distinct, [r[1] for r in keyed], starts, collected, P)
        grouped = list(run(distinct, list(range(P)), **by_part))
        reps, members = [g[0] for g in grouped], [g[1] for g in grouped]
        bands = list(run(functools.partial(_bands, collected, p, P, reps), tasks, **by_shard))
        buckets = functools.partial(_buckets, bands, starts, collected)
        pairs = list(run(buckets, list(range(P)), **by_part))
        first = functools.partial(_verify_first, pairs, starts, collected)
        half = list(run(first, tasks, **by_shard))
        verify = functools.partial(
            _verify_other, half, starts, collected, p.threshold, str(work), P
        )
        checked = list(run(verify, tasks, **by_shard))
        edges = [storage.path(work, "edges", f"part-{i:05d}.parquet") for i in tasks]
        labels = partitioned_components(edges, work / "components", P, run, P)
        resolve = functools.partial(_resolve, str(labels.labels), members, starts, collected)
        resolved = list(run(resolve, list(range(P)), **by_part))
        route = functools.partial(_route, collected, resolved, local, P, p.keep)
        routed = list(run(route, tasks, **by_shard))
        task = functools.partial(_clusters, collected, routed, p, groups)
        parts = sorted(run(task, list(range(P)), **by_part), key=lambda c: c.part)
        verdicts = [c.cuts for c in parts]
        write = functools.partial(_decisions, collected, resolved, local, verdicts, groups)
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

    parts, counts, own = barrier(collected, run, params(cfg), sd.ShardGroups.of)
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
