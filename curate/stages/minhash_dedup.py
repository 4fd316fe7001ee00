"""minhash_dedup: remove near-duplicates (Jaccard similarity of shingle sets >= ``threshold``)
with MinHash-LSH, within the run and against every dump committed to a cross-dump ``index``.

Normalisation and shingles. Text is NFKC-normalised and lowercased; every run of punctuation,
symbols, separators and control characters (Unicode P*, S*, Z*, Cc, Cf) becomes one space. Each
Han, Hiragana, Katakana or Thai character is a token of its own (those scripts put no spaces between
words); other tokens are the space-separated words. A shingle is ``ngram`` consecutive tokens: word
5-grams for English, character 5-grams for Chinese, both in mixed text. A document with fewer
tokens than ``ngram`` has one shingle (all its tokens); one with no token is never a duplicate.

Hashes. A shingle's 32-bit hash (``shingle_hash32``) combines the xxh3-64 hashes of its tokens as a
polynomial, finalised by MurmurHash3's fmix64, low 32 bits. The signature is datasketch's MinHash
(scheme affine32): for permutation k, the minimum over shingles of ``a_k * fmix32(h) + b_k`` mod
2^32, with (a, b) drawn from ``RandomState(seed)`` exactly as datasketch draws them, so
``datasketch.MinHash(num_perm, seed, hashfunc=shingle_hash32)`` fed the same shingles holds the
same hash values, bit for bit; ``export`` writes the signatures for use with datasketch's tools.

LSH and clusters. The signature is cut into ``bands`` bands of ``rows`` values (by default chosen
from ``threshold`` by datasketch's optimiser of weighted false-positive and false-negative
probability mass); each band is hashed to a 64-bit key. Documents with the same key in a band
share a bucket, and each is linked to the bucket's best survivor; with ``verify`` only when their
signatures agree on at least ``threshold`` of the positions (the MinHash estimate of their
Jaccard similarity). Clusters are the connected components of the links (union-find in numpy);
each keeps its best document by ``keep`` (curate.index.survivor) and loses the others, which
record ``duplicate_of`` (the survivor's id) and ``cluster``.

Across dumps (``index: DIR``): the documents of every dump already committed to the index come
before this run's in survival order; a run's document that falls in a bucket holding committed
documents is linked to the best of them (and so to its cluster's survivor, stored as ``root``).
With ``keep: earliest`` and dumps committed in order, dump N through the index removes exactly
what deduplicating dumps 1..N together removes from dump N. Then the run's new dumps are committed.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from xxhash import xxh3_64_intdigest

from curate.errors import CurateError
from curate.index.store import DedupIndex, fingerprint_ids, make_handle
from curate.index.survivor import Keep, rank_of, survival_order
from curate.stages.base import (
    ROW,
    RowRemovalStage,
    column_or_nulls,
    register,
    split_rows_by_shard,
)


@dataclass
class MinHashDedupConfig:
    threshold: float = 0.8  # text-dedup / datasketch examples: Jaccard >= 0.8 is a near-duplicate
    num_perm: int = 128  # datasketch default
    ngram: int = 5  # datatrove and text-dedup: 5-gram shingles
    seed: int = 1  # datasketch default
    bands: int | None = None  # None: datasketch's optimiser with the weights below (-> 16 x 8)
    rows: int | None = None
    # verification removes false candidates, so misses weigh more than datasketch's (0.5, 0.5)
    fp_weight: float = 0.05
    fn_weight: float = 0.95
    verify: bool = True  # candidate pairs must have estimated Jaccard >= threshold
    keep: Keep = "earliest"  # DeepSeek: a later dump's copy goes
    index: str | None = None  # persistent cross-dump index directory
    export: str | None = None  # directory to write (id, dump, signature) Parquet to

    def validate(self) -> None:
        if not 0.0 < self.threshold <= 1.0:
            raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
        if self.num_perm < 2 or self.ngram < 1:
            raise ValueError("num_perm must be >= 2 and ngram >= 1")
        if (self.bands is None) != (self.rows is None):
            raise ValueError("give both bands and rows, or neither (then they are optimised)")
        if self.bands is not None and (
            self.bands < 1
            or self.rows < 1  # type: ignore[operator]
            or self.bands * self.rows > self.num_perm
        ):
            raise ValueError(
                f"bands x rows = {self.bands} x {self.rows} exceeds num_perm {self.num_perm}"
            )

    def lsh(self) -> tuple[int, int]:
        if self.bands is not None and self.rows is not None:
            return self.bands, self.rows
        return optimal_bands(self.threshold, self.num_perm, self.fp_weight, self.fn_weight)


# ---------------------------------------------------------------- shingles and hashes

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_TOKEN_BASE = np.uint64(0x9E3779B97F4A7C15)  # odd constant: polynomial over token hashes
_BAND_BASE = np.uint64(0xC2B2AE3D27D4EB4F)
_OWN_TOKEN = r"([\p{Han}\p{Hiragana}\p{Katakana}\p{Thai}])"
_SEPARATORS = r"[\p{P}\p{S}\p{Z}\p{Cc}\p{Cf}]+"


def normalize(text: pa.Array) -> pa.Array:
    """NFKC, lowercase, CJK/Thai characters spaced apart, separators collapsed to one space."""
    text = pc.utf8_lower(pc.utf8_normalize(text, "NFKC"))
    text = pc.replace_substring_regex(text, _OWN_TOKEN, r" \1 ")
    text = pc.replace_substring_regex(text, _SEPARATORS, " ")
    return pc.utf8_trim(text, " ")


def tokens(text: pa.Array) -> pa.ListArray:
    """One list of tokens per document (empty for a document with no token)."""
    norm = normalize(text)
    norm = pc.if_else(pc.equal(norm, ""), pa.scalar(None, pa.string()), norm)
    return pc.split_pattern(norm, " ")


def shingles(text: str, ngram: int = 5) -> list[bytes]:
    """The shingles of one text, as UTF-8 bytes with tokens joined by a space (for datasketch)."""
    toks = tokens(pa.array([text], pa.string()))[0].as_py() or []
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


def signatures(
    text: pa.Array, num_perm: int = 128, seed: int = 1, ngram: int = 5, chunk: int = 8192
) -> tuple[np.ndarray, np.ndarray]:
    """(signatures uint32 [docs, num_perm], has_shingles bool [docs]) of a batch of texts."""
    hashes, n_sh = shingle_hashes(tokens(text), ngram)
    a, b = permutations(num_perm, seed)
    out = np.full((len(n_sh), num_perm), 0xFFFFFFFF, np.uint32)
    has = n_sh > 0
    docs = np.flatnonzero(has)
    if not len(docs):
        return out, has
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
    return out, has


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


def connected_components(n: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Union-find over nodes 0..n-1 and links (u, v): each node's label is the smallest node of
    its component. Hooks the larger root under the smaller, then compresses paths, until no link
    joins two roots (O(log n) rounds in practice)."""
    parent = np.arange(n, dtype=np.int64)
    u, v = np.asarray(u, np.int64), np.asarray(v, np.int64)
    while len(u):
        pu, pv = parent[u], parent[v]
        apart = pu != pv
        u, v, pu, pv = u[apart], v[apart], pu[apart], pv[apart]
        if not len(u):
            break
        np.minimum.at(parent, np.maximum(pu, pv), np.minimum(pu, pv))
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
    return parent


def bucket_links(keys: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Links (member, best member) within each bucket of equal keys; best = smallest node."""
    order = np.lexsort((nodes, keys))
    k, nd = keys[order], nodes[order]
    new = np.ones(len(k), bool)
    new[1:] = k[1:] != k[:-1]
    head = nd[np.maximum.accumulate(np.where(new, np.arange(len(k)), 0))]
    return nd[~new], head[~new]


def _agree(sa: np.ndarray, sb: np.ndarray, need: int, chunk: int = 65536) -> np.ndarray:
    """Signature pairs agreeing on at least ``need`` positions."""
    out = np.empty(len(sa), bool)
    for i in range(0, len(sa), chunk):
        out[i : i + chunk] = (sa[i : i + chunk] == sb[i : i + chunk]).sum(axis=1) >= need
    return out


def _fixed_list(values: np.ndarray) -> pa.FixedSizeListArray:
    return pa.FixedSizeListArray.from_arrays(pa.array(values.reshape(-1)), values.shape[1])


def _matrix(column: pa.ChunkedArray | pa.Array, width: int, dtype: Any) -> np.ndarray:
    arr = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    return arr.flatten().to_numpy().astype(dtype, copy=False).reshape(-1, width)


def size_histogram(sizes: np.ndarray) -> dict[str, int]:
    """Cluster sizes in powers of two: {"2": n, "3": n, "4-7": n, "8-15": n, ...}."""
    out: dict[str, int] = {}
    for lo in (2, 3, 4, 8, 16, 32, 64, 128, 256, 512, 1024):
        hi = {2: 2, 3: 3}.get(lo, lo * 2 - 1)
        count = (
            int(((sizes >= lo) & (sizes <= hi)).sum()) if lo < 1024 else int((sizes >= lo).sum())
        )
        if count:
            out[str(lo) if lo == hi else f"{lo}-{hi}" if lo < 1024 else f"{lo}+"] = count
    return out


@register
class MinHashDedup(RowRemovalStage):
    name = "minhash_dedup"
    Config = MinHashDedupConfig
    kind = "global"

    def collect(self, batch: pa.RecordBatch) -> pa.Table:
        c = self.config
        bands, rows = c.lsh()
        sigs, has = signatures(batch.column("text"), c.num_perm, c.seed, c.ngram)
        cols = {
            ROW: batch.column(ROW),
            "id": batch.column("id"),
            "dump": column_or_nulls(batch, "dump"),
            "date": column_or_nulls(batch, "date"),
            "length": pc.utf8_length(batch.column("text")),
            "shingled": pa.array(has),
            "bands": _fixed_list(band_keys(sigs, bands, rows)),
        }
        if c.verify or c.export:
            cols["signature"] = _fixed_list(sigs)
        return pa.table(cols)

    def decide(self, collected: pa.Table) -> tuple[Any, dict[str, Any]]:
        c = self.config
        bands, rows = c.lsh()
        n = collected.num_rows
        summary: dict[str, Any] = {"documents": n, "bands": bands, "rows": rows}
        if n == 0:
            return {}, {**summary, "clusters": 0, "duplicates": 0}
        if c.export:
            _export(collected, Path(c.export))
        order = survival_order(collected, c.keep)
        rank = rank_of(order)  # node of a run row = rank (+ offset for the index's roots)
        keys = _matrix(collected.column("bands"), bands, np.uint64)
        sigs = _matrix(collected.column("signature"), c.num_perm, np.uint32) if c.verify else None
        shingled = np.flatnonzero(collected.column("shingled").to_numpy(zero_copy_only=False))
        need = math.ceil(c.threshold * c.num_perm - 1e-9)
        index = _open_index(c, bands, rows) if c.index else None
        if index is None:
            return self._finish(collected, order, rank, keys, sigs, shingled, need, summary)
        with index.locked():
            return self._finish(collected, order, rank, keys, sigs, shingled, need, summary, index)

    def _finish(
        self,
        collected,
        order,
        rank,
        keys,
        sigs,
        shingled,
        need,
        summary,
        index: DedupIndex | None = None,
    ) -> tuple[Any, dict[str, Any]]:
        c = self.config
        n = collected.num_rows
        dumps = collected.column("dump")
        reference, new = [], []
        if index is not None:
            if dumps.null_count:
                raise CurateError(
                    f"minhash_dedup: index {c.index} needs a dump for every "
                    "document (a 'dump' column or a dump=NAME folder)"
                )
            run_dumps = {
                d: fingerprint_ids(collected.column("id").filter(pc.equal(dumps, d)))
                for d in pc.unique(dumps).to_pylist()
            }
            reference, new = index.plan(run_dumps)
        run_u, run_v, idx_u, idx_h = [], [], [], []
        candidates = rejected = 0
        for j in range(keys.shape[1]):
            kj, nodes = keys[shingled, j], rank[shingled]
            if reference:  # keys already committed link to the best committed document
                hit_h = index.lookup(reference, j, kj)
                hit = hit_h >= 0
                u, h = nodes[hit], hit_h[hit]
                if sigs is not None and len(u):
                    ok = _agree(sigs[order[u]], index.signatures(h), need)
                    rejected += int((~ok).sum())
                    u, h = u[ok], h[ok]
                candidates += int(hit.sum())
                idx_u.append(u)
                idx_h.append(h)
                kj, nodes = kj[~hit], nodes[~hit]
            u, v = bucket_links(kj, nodes)
            candidates += len(u)
            if sigs is not None and len(u):
                ok = _agree(sigs[order[u]], sigs[order[v]], need)
                rejected += int((~ok).sum())
                u, v = u[ok], v[ok]
            run_u.append(u)
            run_v.append(v)
        # nodes: committed roots first (sorted handles = survival order), then run rows by rank
        if idx_h and sum(len(h) for h in idx_h):
            roots = np.unique(index.roots(np.concatenate(idx_h)))
            root_node = np.searchsorted(roots, index.roots(np.concatenate(idx_h)))
        else:
            roots, root_node = np.empty(0, np.int64), np.empty(0, np.int64)
        k = len(roots)
        u = np.concatenate(run_u + [np.concatenate(idx_u) if idx_u else np.empty(0, np.int64)])
        v = np.concatenate([*run_v, root_node - k])
        labels = connected_components(k + n, u + k, v + k)
        row_label = labels[rank + k]
        removed = np.flatnonzero(row_label != rank + k)
        survivor_label = row_label[removed]
        in_index = survivor_label < k
        dup_of = np.empty(len(removed), object)
        if in_index.any():
            dup_of[in_index] = index.ids(roots[survivor_label[in_index]]).to_pylist()
        ids = collected.column("id")
        run_survivor_rows = order[survivor_label[~in_index] - k]
        dup_of[~in_index] = ids.take(pa.array(run_survivor_rows)).to_pylist()
        # cluster number: by survivor, in survival order
        uniq_labels, cluster = np.unique(survivor_label, return_inverse=True)
        removals = pa.table(
            {
                "_shard": collected.column("_shard").take(pa.array(removed)),
                "_row": collected.column("_row").take(pa.array(removed)),
                "reason": pa.array(["minhash_duplicate"] * len(removed), pa.string()),
                "duplicate_of": pa.array(dup_of.tolist(), pa.string()),
                "cluster": pa.array(cluster.astype(np.int64)),
            }
        )
        sizes = np.bincount(cluster) + 1 if len(removed) else np.empty(0, np.int64)
        removed_dumps = dumps.take(pa.array(removed)).to_pylist()
        by_dump: dict[str, int] = {}
        for d in removed_dumps:
            by_dump[str(d)] = by_dump.get(str(d), 0) + 1
        summary.update(
            {
                "shingled": len(shingled),
                "candidate_links": candidates,
                "rejected_by_verification": rejected,
                "clusters": len(uniq_labels),
                "duplicates": len(removed),
                "duplicates_of_committed_dumps": int(in_index.sum()),
                "removed_by_dump": dict(sorted(by_dump.items())),
                "cluster_sizes": size_histogram(sizes),
            }
        )
        if index is not None:
            committed = self._commit(
                index, collected, order, rank, keys, sigs, shingled, row_label, k, roots, new
            )
            summary["index"] = {
                "path": str(c.index),
                "deduplicated_against": [d.name for d in reference],
                "reference_docs": sum(d.docs for d in reference),
                "committed": committed,
                "already_committed": sorted(set(run_dumps) - set(new)),
            }
        return split_rows_by_shard(removals), summary

    def _commit(
        self, index, collected, order, rank, keys, sigs, shingled, row_label, k, roots, new
    ) -> list[str]:
        """Commit the run's new dumps: docs in survival order, their roots, band keys, sigs."""
        dumps = np.array(collected.column("dump").to_pylist(), object)
        seq_of = {d.name: d.seq for d in index.dumps()}
        top = max(seq_of.values(), default=0)
        for i, name in enumerate(new):
            seq_of[name] = top + 1 + i
        ordered_dumps = dumps[order]
        ordinal = np.empty(len(order), np.int64)  # position of each row inside its dump
        for name in seq_of:
            rows_d = order[ordered_dumps == name]
            ordinal[rows_d] = np.arange(len(rows_d))
        seq = np.array([seq_of.get(d, 0) for d in dumps], np.int64)
        handle = make_handle(seq, ordinal)
        root = handle[order[np.maximum(row_label - k, 0)]]
        in_index = row_label < k
        root[in_index] = roots[row_label[in_index]]
        has = np.zeros(len(order), bool)
        has[shingled] = True
        done = []
        for name in new:
            rows_d = order[ordered_dumps == name]  # in ordinal order
            ids = collected.column("id").take(pa.array(rows_d))
            with_keys = rows_d[has[rows_d]]
            parts = [(keys[with_keys, j], ordinal[with_keys]) for j in range(keys.shape[1])]
            entry = index.commit(
                name,
                fingerprint_ids(ids),
                ids,
                root[rows_d],
                parts,
                sigs[rows_d] if sigs is not None else None,
                {"removed": int((row_label[rows_d] != rank[rows_d] + k).sum())},
            )
            if entry.seq != seq_of[name]:
                raise CurateError(f"{index.root}: another run committed to the index meanwhile")
            done.append(name)
        return done


def _open_index(c: MinHashDedupConfig, bands: int, rows: int) -> DedupIndex:
    params = {
        "num_perm": c.num_perm,
        "seed": c.seed,
        "ngram": c.ngram,
        "bands": bands,
        "rows": rows,
        "verify": c.verify,
        "threshold": c.threshold,
        "keep": c.keep,
        "shingles": "nfkc-lower-sep-cjk/xxh3-poly-fmix/affine32",
    }
    return DedupIndex(c.index, "minhash", params, partitions=bands)


def _export(collected: pa.Table, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    table = collected.select(["id", "dump", "signature"])
    tmp = folder / ".signatures.parquet.tmp"
    pq.write_table(table, tmp, compression="zstd")
    tmp.replace(folder / "signatures.parquet")
