r"""MinHash algorithms: normalisation, shingles, their hashes, signatures, LSH band keys,
bucket links and verification of candidate pairs (clusters: curate.dedup.components). Plain
functions over numpy/Arrow columns; the ``minhash_dedup`` stage (curate/stages/minhash_dedup.py)
puts them together.

Tokens, two definitions (``TOKENS``), side by side:

* ``nfkc_cjk`` (the default): text is NFKC-normalised and lowercased; every run of punctuation,
  symbols, separators and control characters (Unicode P*, S*, Z*, Cc, Cf) separates tokens, ``_``
  included. Each Han, Hiragana, Katakana or Thai character is a token of its own (those scripts put
  no spaces between words); other tokens are the runs between separators. Chinese gets character
  5-grams, English word 5-grams, both in mixed text; ``foo_bar`` is two tokens.
* ``word``: the common definition (text-dedup, ``re.findall(r"\w+", text.lower())``): lowercased
  (Unicode simple case mapping, as Arrow's ``utf8_lower``), tokens are maximal runs of Python's
  ``\w`` (letters, digits, ``_``). No NFKC; a run of Chinese characters is one token.

A shingle is ``ngram`` consecutive tokens. A document with fewer tokens than ``ngram`` has one
shingle (all its tokens); one with no token is never a duplicate.

Speed. ``sketch`` computes signatures and shingle sets of a batch in two compiled passes
(curate.minhash_jit, numba): one over the UTF-8 bytes (a table of 0x110000 character classes per
definition, each distinct token interned once), one over token ids (shingle hashes, 128
permutations, each distinct shingle once). ``tokens`` / ``shingle_hashes`` / ``minhash`` are the
Arrow/NumPy path it replaced, kept as the reference the tests hold it to.

Hashes. A shingle's 32-bit hash (``shingle_hash32``) combines the xxh3-64 hashes of its tokens as a
polynomial, finalised by MurmurHash3's fmix64, low 32 bits. The signature is datasketch's MinHash
(scheme affine32): for permutation k, the minimum over shingles of ``a_k * fmix32(h) + b_k`` mod
2^32, with (a, b) drawn from ``RandomState(seed)`` exactly as datasketch draws them, so
``datasketch.MinHash(num_perm, seed, hashfunc=shingle_hash32)`` fed the same shingles holds the
same hash values, bit for bit.

Verification. ``jaccard_at_least`` computes the exact Jaccard similarity of two documents' sets
of 32-bit shingle hashes (a collision inside one pair's union is ~1e-5 likely for pages of a few
hundred shingles), a compiled loop over the pairs (each pair's smaller set in a hash table);
``signatures_agree`` is the MinHash estimate (the share of equal signature positions).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from xxhash import xxh3_64_intdigest

from curate.arrays import distinct

# ---------------------------------------------------------------- shingles and hashes

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_TOKEN_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd constant: polynomial over token hashes
_BAND_BASE = np.uint64(0xC2B2AE3D27D4EB4F)
_OWN_CLASS = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}]"
_SEP_CLASS = r"[\p{P}\p{S}\p{Z}\p{Cc}\p{Cf}]"
_OWN_TOKEN = f"({_OWN_CLASS})"
_SEPARATORS = f"{_SEP_CLASS}+"
_WORD = re.compile(r"\w+")

Tokens = Literal["nfkc_cjk", "word"]
TOKENS: tuple[str, ...] = ("nfkc_cjk", "word")
# what an index records: an index built with one definition refuses the other
SHINGLE_SCHEME = {
    "nfkc_cjk": "nfkc-lower-sep-cjk/xxh3-poly-fmix/affine32",
    "word": "lower-w/xxh3-poly-fmix/affine32",
}


def normalize(text: pa.Array) -> pa.Array:
    """NFKC, lowercase, CJK/Thai characters spaced apart, separators collapsed to one space."""
    text = pc.utf8_lower(pc.utf8_normalize(text, "NFKC"))
    text = pc.replace_substring_regex(text, _OWN_TOKEN, r" \1 ")
    text = pc.replace_substring_regex(text, _SEPARATORS, " ")
    return pc.utf8_trim(text, " ")


def tokens(text: pa.Array, definition: Tokens = "nfkc_cjk") -> pa.ListArray:
    """One list of tokens per document (empty for a document with no token): the reference
    path (Arrow regexes; Python's ``re`` for ``word``), which ``sketch`` is tested against."""
    if definition == "word":
        lowered = pc.utf8_lower(pc.fill_null(text, "")).to_pylist()
        return pa.array([_WORD.findall(t) or None for t in lowered], pa.list_(pa.string()))
    norm = normalize(text)
    norm = pc.if_else(pc.equal(norm, ""), pa.scalar(None, pa.string()), norm)
    return pc.split_pattern(norm, " ")


def shingles(text: str, ngram: int = 5, definition: Tokens = "nfkc_cjk") -> list[bytes]:
    """The shingles of one text, as UTF-8 bytes with tokens joined by a space (for datasketch)."""
    toks = tokens(pa.array([text], pa.string()), definition)[0].as_py() or []
    if not toks:
        return []
    count = max(len(toks) - ngram + 1, 1)
    return [" ".join(toks[i : i + ngram]).encode() for i in range(count)]


def fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser: a bijection that spreads every input bit."""
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xFF51AFD7ED558CCD)
    h = h ^ (h >> np.uint64(33))
    h = h * np.uint64(0xC4CEB9FE1A85EC53)
    return h ^ (h >> np.uint64(33))


def _fmix32(h: np.ndarray) -> np.ndarray:
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def shingle_hash32(shingle: bytes) -> int:
    """The 32-bit hash of one shingle (tokens joined by spaces); a datasketch ``hashfunc``."""
    acc = np.uint64(0)
    with np.errstate(over="ignore"):
        for tok in shingle.split(b" "):
            acc = acc * _TOKEN_BASE + np.uint64(xxh3_64_intdigest(tok))
        return int(fmix64(np.array([acc], np.uint64))[0] & np.uint64(0xFFFFFFFF))


def shingle_hashes(toks: pa.ListArray, ngram: int, bits: int = 32) -> tuple[np.ndarray, np.ndarray]:
    """(hashes, shingles per document) for a batch of token lists, vectorised. ``bits=64`` gives
    the full 64-bit hash (for exact Jaccard); MinHash uses the low 32 bits."""
    counts_tok = pc.fill_null(pc.list_value_length(toks), 0).to_numpy().astype(np.int64)
    flat = toks.flatten()
    if len(flat) == 0:
        return np.empty(0, np.uint64 if bits == 64 else np.uint32), np.zeros(len(toks), np.int64)
    enc = (
        pc.dictionary_encode(flat).combine_chunks()
        if isinstance(flat, pa.ChunkedArray)
        else pc.dictionary_encode(flat)
    )
    # hash each distinct token once: a batch has far fewer distinct tokens than tokens
    vocab = np.fromiter(
        (xxh3_64_intdigest(s) for s in enc.dictionary.cast(pa.binary()).to_pylist()),
        np.uint64,
        len(enc.dictionary),
    )
    h = vocab[enc.indices.to_numpy()]
    starts_tok = np.concatenate([[0], np.cumsum(counts_tok)[:-1]])
    n_sh = np.where(counts_tok > 0, np.maximum(counts_tok - ngram + 1, 1), 0)
    total = int(n_sh.sum())
    first = np.repeat(starts_tok, n_sh)
    first += np.arange(total) - np.repeat(np.cumsum(n_sh) - n_sh, n_sh)
    end = np.repeat(starts_tok + counts_tok, n_sh)
    acc = np.zeros(total, np.uint64)
    last = len(h) - 1
    with np.errstate(over="ignore"):
        for j in range(ngram):
            idx = first + j
            step = acc * _TOKEN_BASE + h[np.minimum(idx, last)]
            acc = np.where(idx < end, step, acc)
        full = fmix64(acc)
    return (full if bits == 64 else (full & np.uint64(0xFFFFFFFF)).astype(np.uint32)), n_sh


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) of datasketch's affine32 scheme: the same generator calls, the same values."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def minhash(
    hashes: np.ndarray, n_sh: np.ndarray, num_perm: int = 128, seed: int = 1, chunk: int = 8192
) -> np.ndarray:
    """uint32 [docs, num_perm] signatures from 32-bit shingle hashes, ``n_sh`` per document
    (a document without shingles keeps the all-ones signature)."""
    a, b = permutations(num_perm, seed)
    out = np.full((len(n_sh), num_perm), 0xFFFFFFFF, np.uint32)
    docs = np.flatnonzero(n_sh > 0)
    if not len(docs):
        return out
    with np.errstate(over="ignore"):
        hashes = _fmix32(hashes)
        bounds = np.concatenate([[0], np.cumsum(n_sh[docs])])
        buf = np.empty((num_perm, max(chunk, int(n_sh.max()))), np.uint32)
        i = 0
        while i < len(docs):  # a block of documents with about `chunk` shingles: stays in cache
            j = max(int(np.searchsorted(bounds, bounds[i] + chunk, "right")) - 1, i + 1)
            lo, hi = bounds[i], bounds[j]
            block = buf[:, : hi - lo]
            np.multiply(a[:, None], hashes[None, lo:hi], out=block)
            block += b[:, None]
            out[docs[i:j]] = np.minimum.reduceat(block, bounds[i:j] - lo, axis=1).T
            i = j
    return out


def signatures(
    text: pa.Array,
    num_perm: int = 128,
    seed: int = 1,
    ngram: int = 5,
    definition: Tokens = "nfkc_cjk",
) -> tuple[np.ndarray, np.ndarray]:
    """(signatures uint32 [docs, num_perm], has_shingles bool [docs]) of a batch of texts."""
    sk = sketch(text, num_perm, seed, ngram, definition)
    return sk.signatures, sk.shingled


# ---------------------------------------------------------------- compiled path


@dataclass
class Sketch:
    signatures: np.ndarray  # uint32 [docs, num_perm]; all ones for a document without shingles
    shingled: np.ndarray  # bool [docs]: the document has a shingle
    sets: pa.ListArray  # list<uint32>: each document's distinct shingle hashes


@functools.lru_cache(maxsize=2)
def char_classes(definition: Tokens) -> np.ndarray:
    """uint8 [0x110000]: 0 separator, 1 part of a word, 2 a token of its own. Built by running the
    reference path's own regexes (Arrow's RE2 for ``nfkc_cjk``, Python's ``re`` for ``word``) over
    one string of every code point, so both paths classify every character alike."""
    cps = np.arange(0x110000, dtype=np.uint32)
    cps[0xD800:0xE000] = 0x20  # surrogates never occur in UTF-8 text
    every = cps.tobytes().decode("utf-32-le")

    def marked(pattern: str, python: bool = False) -> np.ndarray:
        out = (
            re.sub(pattern, "\0", every)
            if python
            else pc.replace_substring_regex(pa.array([every]), pattern, "\0")[0].as_py()
        )
        return np.frombuffer(out.encode("utf-32-le"), np.uint32) == 0

    if definition == "word":
        classes = marked(r"\w", python=True).astype(np.uint8)  # WORD = 1
    else:
        own = marked(_OWN_CLASS)
        classes = np.where(marked(_SEP_CLASS), 0, np.where(own, 2, 1)).astype(np.uint8)
    classes[0] = 0  # NUL: a control character, and \w does not match it
    classes[0xD800:0xE000] = 0
    return classes


def _lowered(text: pa.Array, definition: Tokens) -> pa.Array:
    """The text ``definition`` cuts tokens from: lowercased, and NFKC for ``nfkc_cjk`` (ASCII
    documents skip NFKC: it changes no ASCII character)."""
    text = pc.fill_null(text, "")
    if definition == "nfkc_cjk":
        ascii_ = pc.string_is_ascii(text)
        if not pc.all(ascii_).as_py():
            other = pc.invert(ascii_)
            normed = pc.utf8_normalize(pc.filter(text, other), "NFKC")
            text = pc.replace_with_mask(text, other, normed.cast(text.type))
    return pc.utf8_lower(text)


def sketch(
    text: pa.Array | pa.ChunkedArray,
    num_perm: int = 128,
    seed: int = 1,
    ngram: int = 5,
    definition: Tokens = "nfkc_cjk",
) -> Sketch:
    """Signatures and shingle sets of a batch of texts, in two compiled passes (see above)."""
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if len(text) == 0:  # a schema probe (the driver's): no need to load the kernels
        empty = pa.ListArray.from_arrays(pa.array([0], pa.int32()), pa.array([], pa.uint32()))
        return Sketch(np.empty((0, num_perm), np.uint32), np.empty(0, bool), empty)
    from curate import minhash_jit

    low = _lowered(text, definition)
    width = np.int64 if pa.types.is_large_string(low.type) else np.int32
    buffers = low.buffers()
    offsets = np.frombuffer(buffers[1], width, len(low) + 1, low.offset * np.dtype(width).itemsize)
    offsets = offsets.astype(np.int64)
    data = np.frombuffer(buffers[2], np.uint8) if buffers[2] is not None else np.zeros(1, np.uint8)
    ids = np.empty(int(offsets[-1] - offsets[0]) // 2 + len(low) + 1, np.int32)
    counts = np.empty(len(low), np.int64)
    _, starts, lengths = minhash_jit.token_ids(data, offsets, char_classes(definition), ids, counts)
    # each distinct token's bytes back to back (one gather), then one xxh3 call per token
    ends = np.cumsum(lengths)
    within = np.arange(int(ends[-1]) if len(ends) else 0)
    words = pa.Array.from_buffers(
        pa.large_binary(),
        len(starts),
        [
            None,
            pa.py_buffer(np.concatenate([[0], ends]).astype(np.int64)),
            pa.py_buffer(data[within + np.repeat(starts - ends + lengths, lengths)]),
        ],
    )
    vocab = np.fromiter(map(xxh3_64_intdigest, words.to_pylist()), np.uint64, len(starts))
    a, b = permutations(num_perm, seed)
    sigs = np.full((len(low), num_perm), 0xFFFFFFFF, np.uint32)
    n_sh = np.where(counts > 0, np.maximum(counts - ngram + 1, 1), 0)
    values = np.empty(int(n_sh.sum()), np.uint32)
    distinct = np.empty(len(low), np.int64)
    total = minhash_jit.sketch(ids, vocab, counts, ngram, _TOKEN_BASE, a, b, sigs, values, distinct)
    offsets_out = np.zeros(len(low) + 1, np.int64)
    np.cumsum(distinct, out=offsets_out[1:])
    sets = pa.ListArray.from_arrays(
        pa.array(offsets_out.astype(np.int32)), pa.array(values[:total])
    )
    return Sketch(sigs, counts > 0, sets)


def shingle_sets(hashes: np.ndarray, n_sh: np.ndarray) -> pa.ListArray:
    """Each document's distinct 32-bit shingle hashes, sorted: the sets exact Jaccard compares
    (the reference for ``sketch``'s sets, which hold the same values in first-seen order)."""
    doc = np.repeat(np.arange(len(n_sh), dtype=np.uint64), n_sh)
    keyed = distinct((doc << np.uint64(32)) | hashes.astype(np.uint64))
    sizes = np.bincount((keyed >> np.uint64(32)).astype(np.int64), minlength=len(n_sh))
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)
    values = (keyed & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))


def band_keys(sigs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """uint64 [docs, bands]: band j's ``rows`` signature values hashed to one key."""
    keys = np.empty((len(sigs), bands), np.uint64)
    with np.errstate(over="ignore"):
        for j in range(bands):
            acc = np.full(len(sigs), j, np.uint64)
            for c in range(j * rows, (j + 1) * rows):
                acc = acc * _BAND_BASE + sigs[:, c].astype(np.uint64)
            keys[:, j] = fmix64(acc)
    return keys


@functools.lru_cache(maxsize=64)
def optimal_bands(
    threshold: float, num_perm: int, fp_weight: float = 0.5, fn_weight: float = 0.5
) -> tuple[int, int]:
    """datasketch's ``_optimal_param``: (bands, rows) minimising the weighted integrals of the
    false-positive probability below ``threshold`` and false-negative probability above it."""
    grid_lo = np.linspace(0.0, threshold, 1001)
    grid_hi = np.linspace(threshold, 1.0, 1001)
    best, best_err = (1, 1), math.inf
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            fp = np.trapezoid(1 - (1 - grid_lo**r) ** b, grid_lo)
            fn = np.trapezoid((1 - grid_hi**r) ** b, grid_hi)
            err = fp * fp_weight + fn * fn_weight
            if err < best_err:
                best, best_err = (b, r), err
    return best


# ---------------------------------------------------------------- clusters


def bucket_links(keys: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Links (member, best member) within each bucket of equal keys; best = smallest node."""
    order = np.lexsort((nodes, keys))
    k, nd = keys[order], nodes[order]
    new = np.ones(len(k), bool)
    new[1:] = k[1:] != k[:-1]
    head = nd[np.maximum.accumulate(np.where(new, np.arange(len(k)), 0))]
    return nd[~new], head[~new]


def signatures_agree(sa: np.ndarray, sb: np.ndarray, need: int, chunk: int = 65536) -> np.ndarray:
    """Signature pairs (row i of ``sa`` with row i of ``sb``) equal on at least ``need``
    positions: the MinHash estimate of Jaccard >= need / num_perm."""
    out = np.empty(len(sa), bool)
    for i in range(0, len(sa), chunk):
        out[i : i + chunk] = (sa[i : i + chunk] == sb[i : i + chunk]).sum(axis=1) >= need
    return out


class SetStore:
    """Shingle sets held as one flat uint32 array plus offsets (Arrow's list layout, zero-copy
    from a ``list<uint32>`` column); a document's values are distinct, in any order."""

    def __init__(self, values: np.ndarray, offsets: np.ndarray):
        self.values = values
        self.offsets = np.asarray(offsets, np.int64)

    @classmethod
    def from_arrow(cls, column: pa.ChunkedArray | pa.ListArray) -> SetStore:
        arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
        offsets = arr.offsets.to_numpy().astype(np.int64)
        values = arr.values.to_numpy()
        return cls(values[offsets[0] : offsets[-1]], offsets - offsets[0])

    def sizes(self, rows: np.ndarray) -> np.ndarray:
        return self.offsets[rows + 1] - self.offsets[rows]

    def gather(self, rows: np.ndarray) -> np.ndarray:
        """The concatenated sets of ``rows`` (in that order)."""
        sizes = self.sizes(rows)
        starts = self.offsets[rows]
        within = np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        return self.values[np.repeat(starts, sizes) + within]


def jaccard_at_least(
    a: SetStore, rows_a: np.ndarray, b: SetStore, rows_b: np.ndarray, threshold: float
) -> np.ndarray:
    """For each pair (rows_a[i] of ``a``, rows_b[i] of ``b``): exact Jaccard >= threshold.
    Compiled (curate.minhash_jit.jaccard_pairs): pairs whose sizes alone rule it out
    (|small| < t |large|) are never read; for the others the smaller set goes into a hash table
    and the larger is counted against it, in any order (a set's hashes are distinct). The
    sorting path below is the reference it is tested against."""
    from curate import minhash_jit

    rows_a, rows_b = np.asarray(rows_a, np.int64), np.asarray(rows_b, np.int64)
    out = np.zeros(len(rows_a), bool)
    if len(rows_a):
        minhash_jit.jaccard_pairs(
            np.asarray(a.values, np.uint32),
            a.offsets,
            rows_a,
            np.asarray(b.values, np.uint32),
            b.offsets,
            rows_b,
            float(threshold),
            out,
        )
    return out


def jaccard_at_least_sorted(
    a: SetStore,
    rows_a: np.ndarray,
    b: SetStore,
    rows_b: np.ndarray,
    threshold: float,
    chunk: int = 1 << 22,
) -> np.ndarray:
    """``jaccard_at_least`` in NumPy (the reference): pairs whose sizes alone rule it out are
    never gathered; the others are counted in chunks of about ``chunk`` hashes: a set's hashes
    are distinct, so the intersection is the number of (pair, hash) keys that occur twice."""
    rows_a, rows_b = np.asarray(rows_a, np.int64), np.asarray(rows_b, np.int64)
    la, lb = a.sizes(rows_a), b.sizes(rows_b)
    out = np.zeros(len(rows_a), bool)
    eps = 1e-9
    todo = np.flatnonzero(
        (np.minimum(la, lb) >= threshold * np.maximum(la, lb) - eps) & (la > 0) & (lb > 0)
    )
    work = np.cumsum(la[todo] + lb[todo])
    start = 0
    while start < len(todo):
        stop = max(
            int(np.searchsorted(work, work[start] - (la + lb)[todo[start]] + chunk)), start + 1
        )
        sel = todo[start:stop]
        pair = np.arange(len(sel), dtype=np.uint64) << np.uint64(32)
        keyed = np.concatenate(
            [
                np.repeat(pair, la[sel]) | a.gather(rows_a[sel]).astype(np.uint64),
                np.repeat(pair, lb[sel]) | b.gather(rows_b[sel]).astype(np.uint64),
            ]
        )
        keyed.sort()
        twice = keyed[1:][keyed[1:] == keyed[:-1]] >> np.uint64(32)
        inter = np.bincount(twice.astype(np.int64), minlength=len(sel))
        union = la[sel] + lb[sel] - inter
        out[sel] = inter >= threshold * union - eps
        start = stop
    return out
