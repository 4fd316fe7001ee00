"""Compiled kernels of curate.minhash (numba): one pass over the UTF-8 bytes of a batch cuts
tokens, one pass over token hashes makes shingle hashes and signatures. Loaded on first use.
Each is checked against the NumPy/Arrow path it replaces (tests/stages/test_minhash_dedup.py)."""

from __future__ import annotations

import numpy as np
from numba import njit

SEP, WORD, OWN = 0, 1, 2  # character classes: separator, part of a word, a token of its own


_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


@njit(cache=True, nogil=True, inline="always")
def _slot(h, mask):
    return np.int64((h * _GOLDEN) >> np.uint64(32)) & mask


@njit(cache=True, nogil=True, inline="always")
def _find(data, start, length, h, slots, v_start, v_len, v_hash):
    """(id, slot) of the token ``data[start:start + length]`` with FNV-1a hash ``h``; id -1 and
    the free slot where it goes when it is new."""
    mask = len(slots) - 1
    slot = _slot(h, mask)
    while True:
        v = slots[slot]
        if v < 0:
            return -1, slot
        if v_hash[v] == h and v_len[v] == length:
            s0 = v_start[v]
            k = 0
            while k < length and data[s0 + k] == data[start + k]:
                k += 1
            if k == length:
                return v, slot
        slot = (slot + 1) & mask


@njit(cache=True, nogil=True)
def _grow(cap, nv, slots, v_start, v_len, v_hash):
    """The table with ``cap`` slots (room for cap / 2 distinct tokens), the first ``nv`` kept."""
    grown = np.full(cap, -1, np.int32)
    starts = np.empty(cap // 2, np.int64)
    lengths = np.empty(cap // 2, np.int64)
    hashes = np.empty(cap // 2, np.uint64)
    starts[:nv] = v_start[:nv]
    lengths[:nv] = v_len[:nv]
    hashes[:nv] = v_hash[:nv]
    for u in range(nv):
        slot = _slot(hashes[u], cap - 1)
        while grown[slot] >= 0:
            slot = (slot + 1) & (cap - 1)
        grown[slot] = u
    return grown, starts, lengths, hashes


@njit(cache=True, nogil=True, inline="always")
def _intern(data, start, length, h, nv, slots, v_start, v_len, v_hash):
    """(id of the token, distinct tokens now): a new token is added (the table has room)."""
    v, slot = _find(data, start, length, h, slots, v_start, v_len, v_hash)
    if v >= 0:
        return v, nv
    slots[slot] = nv
    v_start[nv] = start
    v_len[nv] = length
    v_hash[nv] = h
    return nv, nv + 1


@njit(cache=True, nogil=True)
def _cut(data, i, end, classes, ids, ntok, nv, slots, v_start, v_len, v_hash):
    """The tokens of one document ``data[i:end]`` into ``ids[ntok:]``: (tokens, distinct)."""
    tok = -1  # first byte of the word being read
    h = _FNV_OFFSET
    while i <= end:  # one step past the end closes the last word
        c = SEP
        n = 1
        if i < end:
            b0 = data[i]
            if b0 < 0x80:
                cp = np.int64(b0)
            elif b0 < 0xE0:
                cp = ((np.int64(b0) & 0x1F) << 6) | (np.int64(data[i + 1]) & 0x3F)
                n = 2
            elif b0 < 0xF0:
                cp = (
                    ((np.int64(b0) & 0x0F) << 12)
                    | ((np.int64(data[i + 1]) & 0x3F) << 6)
                    | (np.int64(data[i + 2]) & 0x3F)
                )
                n = 3
            else:
                cp = (
                    ((np.int64(b0) & 0x07) << 18)
                    | ((np.int64(data[i + 1]) & 0x3F) << 12)
                    | ((np.int64(data[i + 2]) & 0x3F) << 6)
                    | (np.int64(data[i + 3]) & 0x3F)
                )
                n = 4
            c = classes[cp]
        if c == WORD:
            if tok < 0:
                tok = i
                h = _FNV_OFFSET
            for k in range(n):
                h = (h ^ np.uint64(data[i + k])) * _FNV_PRIME
            i += n
            continue
        if tok >= 0:  # the word ends here
            ids[ntok], nv = _intern(data, tok, i - tok, h, nv, slots, v_start, v_len, v_hash)
            ntok += 1
            tok = -1
        if c == OWN:  # a token of its own
            h = _FNV_OFFSET
            for k in range(n):
                h = (h ^ np.uint64(data[i + k])) * _FNV_PRIME
            ids[ntok], nv = _intern(data, i, n, h, nv, slots, v_start, v_len, v_hash)
            ntok += 1
        i += n
    return ntok, nv


@njit(cache=True, nogil=True)
def token_ids(data, offsets, classes, ids, counts):
    """Cut the tokens of every document (UTF-8 ``data[offsets[d]:offsets[d + 1]]``): maximal runs
    of WORD characters, and each OWN character alone. Each token gets the id of its distinct
    bytes (``ids``, in order; ``counts``: tokens per document), found in an open-addressing table
    keyed by FNV-1a. Returns (tokens, first byte and length of each distinct token)."""
    cap = 1 << 16
    slots, v_start, v_len, v_hash = _grow(
        cap,
        0,
        np.empty(0, np.int32),
        np.empty(0, np.int64),
        np.empty(0, np.int64),
        np.empty(0, np.uint64),
    )
    nv = 0
    ntok = 0
    for d in range(len(offsets) - 1):
        # a document adds at most one distinct token per two bytes (plus one): keep the table
        # under half full without growing it inside the per-byte loop
        room = (offsets[d + 1] - offsets[d]) // 2 + 1
        while 2 * (nv + room) > cap:
            cap *= 2
            slots, v_start, v_len, v_hash = _grow(cap, nv, slots, v_start, v_len, v_hash)
        first = ntok
        ntok, nv = _cut(
            data, offsets[d], offsets[d + 1], classes, ids, ntok, nv, slots, v_start, v_len, v_hash
        )
        counts[d] = ntok - first
    return ntok, v_start[:nv], v_len[:nv]


@njit(cache=True, nogil=True, inline="always")
def _fmix64(h):
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


@njit(cache=True, nogil=True)
def sketch(ids, vocab_hashes, counts, ngram, base, a, b, sigs, shingles, distinct):
    """Signatures and shingle sets from token ids (``counts`` per document). A shingle's hash is
    the polynomial in ``base`` of its ``ngram`` token hashes (``vocab_hashes[id]``), fmix64, low
    32 bits; signature value k is the minimum over the document's shingles of
    ``a[k] * fmix32(h) + b[k]`` mod 2^32 (rows of documents without shingles keep their initial
    all-ones). Each distinct shingle hash of a document is written once to ``shingles`` (in order
    of first occurrence; a repeated shingle cannot lower the minimum and is skipped), their number
    per document to ``distinct``. Returns the number written."""
    num_perm = len(a)
    most = 1
    for d in range(len(counts)):
        most = max(most, counts[d])
    cap = 1 << 4
    while cap < 2 * most:
        cap <<= 1
    mask = np.uint32(cap - 1)
    seen = np.empty(cap, np.uint32)
    stamp = np.full(cap, -1, np.int64)  # which document a slot of ``seen`` belongs to
    row = np.empty(num_perm, np.uint32)
    start = 0
    at = 0
    for d in range(len(counts)):
        n = counts[d]
        first = at
        if n == 0:
            distinct[d] = 0
            continue
        width = min(ngram, n)
        for k in range(num_perm):
            row[k] = np.uint32(0xFFFFFFFF)
        for s in range(max(n - ngram + 1, 1)):
            acc = np.uint64(0)
            for j in range(width):
                acc = acc * base + vocab_hashes[ids[start + s + j]]
            h32 = np.uint32(_fmix64(acc) & np.uint64(0xFFFFFFFF))
            slot = h32 & mask
            while stamp[slot] == d and seen[slot] != h32:
                slot = (slot + np.uint32(1)) & mask
            if stamp[slot] == d:
                continue  # seen in this document
            stamp[slot] = d
            seen[slot] = h32
            shingles[at] = h32
            at += 1
            h = h32 ^ (h32 >> np.uint32(16))
            h = np.uint32(h * np.uint32(0x85EBCA6B))
            h ^= h >> np.uint32(13)
            h = np.uint32(h * np.uint32(0xC2B2AE35))
            h ^= h >> np.uint32(16)
            for k in range(num_perm):
                v = np.uint32(a[k] * h + b[k])
                if v < row[k]:
                    row[k] = v
        for k in range(num_perm):
            sigs[d, k] = row[k]
        distinct[d] = at - first
        start += n
    return at


@njit(cache=True, nogil=True)
def jaccard_pairs(va, oa, rows_a, vb, ob, rows_b, threshold, out):
    """``out[i]``: the sets ``rows_a[i]`` of (``va``, ``oa``) and ``rows_b[i]`` of (``vb``, ``ob``)
    (distinct uint32 values, offsets) have Jaccard >= ``threshold``. The smaller set of a pair
    goes into an open-addressing table (slots stamped with the pair, never cleared), the larger
    is looked up in it."""
    eps = 1e-9
    most = 1
    for i in range(len(rows_a)):
        la = oa[rows_a[i] + 1] - oa[rows_a[i]]
        lb = ob[rows_b[i] + 1] - ob[rows_b[i]]
        most = max(most, min(la, lb))
    cap = 1 << 4
    while cap < 2 * most:
        cap <<= 1
    mask = np.uint32(cap - 1)
    keys = np.empty(cap, np.uint32)
    stamp = np.full(cap, -1, np.int64)
    for i in range(len(rows_a)):
        sa, ea = oa[rows_a[i]], oa[rows_a[i] + 1]
        sb, eb = ob[rows_b[i]], ob[rows_b[i] + 1]
        la, lb = ea - sa, eb - sb
        small, large = min(la, lb), max(la, lb)
        if small == 0 or small < threshold * large - eps:
            out[i] = False
            continue
        if la > lb:  # the table holds the smaller set
            sa, ea, sb, eb = sb, eb, sa, ea
            fill, probe = vb, va
        else:
            fill, probe = va, vb
        for k in range(sa, ea):
            v = fill[k]
            slot = v & mask
            while stamp[slot] == i:
                slot = (slot + np.uint32(1)) & mask
            stamp[slot] = i
            keys[slot] = v
        inter = 0
        for k in range(sb, eb):
            v = probe[k]
            slot = v & mask
            while stamp[slot] == i:
                if keys[slot] == v:
                    inter += 1
                    break
                slot = (slot + np.uint32(1)) & mask
        out[i] = inter >= threshold * (la + lb - inter) - eps
