"""minhash_dedup: remove near-duplicates (Jaccard similarity of shingle sets >= ``threshold``)
with MinHash-LSH, within the run and against every dump committed to a cross-dump ``index``.

Shingles, hashes and signatures are curate.minhash's: NFKC + lowercase, word 5-grams (CJK
character 5-grams), signatures bit for bit those of ``datasketch.MinHash`` with the same
permutations and hash function; ``export`` writes them for use with datasketch's tools.

LSH and clusters. The signature is cut into ``bands`` bands of ``rows`` values (by default chosen
from ``threshold`` by datasketch's optimiser of weighted false-positive and false-negative
probability mass); each band is hashed to a 64-bit key. Documents with the same key in a band
share a bucket, and each is linked to the bucket's best survivor, only when the pair passes
``verify``: ``exact`` (default) computes the pair's exact Jaccard similarity of shingle sets,
``signature`` the MinHash estimate (the share of equal signature positions, which misjudges pairs
near the threshold both ways: measured F1 0.937 against 0.989 for ``exact`` on the benchmark
corpus), ``none`` links every band collision. ``exact`` keeps each document's distinct 32-bit
shingle hashes for the barrier and the index: 4 bytes per shingle instead of the signature's
4 x num_perm. Clusters are the connected components of the links (union-find in numpy);
each keeps its best document by ``keep`` (curate.index.survivor) and loses the others, which
record ``duplicate_of`` (the survivor's id) and ``cluster``.

Across dumps (``index: DIR``): the documents of every dump already committed to the index come
before this run's in survival order; a run's document that falls in a bucket holding committed
documents is linked to the best of them (and so to its cluster's survivor, stored as ``root``).
With ``keep: earliest`` and dumps committed in order, dump N through the index removes exactly
what deduplicating dumps 1..N together removes from dump N. Then the run's new dumps are committed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import CurateError
from curate.index.store import DedupIndex, fingerprint_ids, make_handle
from curate.index.survivor import Keep, rank_of, survival_order
from curate.minhash import (
    SetStore,
    band_keys,
    bucket_links,
    connected_components,
    jaccard_at_least,
    minhash,
    optimal_bands,
    shingle_hashes,
    shingle_sets,
    signatures_agree,
    tokens,
)
from curate.stages.base import (
    ROW,
    RowRemovalStage,
    column_or_nulls,
    register,
    split_rows_by_shard,
)

Verify = Literal["exact", "signature", "none"]


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
    verify: Verify = "exact"  # a candidate pair must have (exact | estimated) Jaccard >= threshold
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
        hashes, n_sh = shingle_hashes(tokens(batch.column("text")), c.ngram)
        sigs = minhash(hashes, n_sh, c.num_perm, c.seed)
        cols = {
            ROW: batch.column(ROW),
            "id": batch.column("id"),
            "dump": column_or_nulls(batch, "dump"),
            "date": column_or_nulls(batch, "date"),
            "length": pc.utf8_length(batch.column("text")),
            "shingled": pa.array(n_sh > 0),
            "bands": _fixed_list(band_keys(sigs, bands, rows)),
        }
        if c.verify == "signature" or c.export:
            cols["signature"] = _fixed_list(sigs)
        if c.verify == "exact":
            cols["shingles"] = shingle_sets(hashes, n_sh)
        return pa.table(cols)

    def decide(self, collected: pa.Table) -> tuple[Any, dict[str, Any]]:
        c = self.config
        bands, rows = c.lsh()
        n = collected.num_rows
        summary: dict[str, Any] = {"documents": n, "bands": bands, "rows": rows, "verify": c.verify}
        if n == 0:
            return {}, {**summary, "clusters": 0, "duplicates": 0}
        if c.export:
            _export(collected, Path(c.export))
        order = survival_order(collected, c.keep)
        rank = rank_of(order)  # node of a run row = rank (+ offset for the index's roots)
        keys = _matrix(collected.column("bands"), bands, np.uint64)
        shingled = np.flatnonzero(collected.column("shingled").to_numpy(zero_copy_only=False))
        verifier = _Verifier(c, collected)
        index = _open_index(c, bands, rows) if c.index else None
        if index is None:
            return self._finish(collected, order, rank, keys, verifier, shingled, summary)
        with index.locked():
            return self._finish(collected, order, rank, keys, verifier, shingled, summary, index)

    def _finish(
        self,
        collected,
        order,
        rank,
        keys,
        verifier: _Verifier,
        shingled,
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
                if len(u):
                    ok = verifier.against_index(order[u], index, h)
                    rejected += int((~ok).sum())
                    u, h = u[ok], h[ok]
                candidates += int(hit.sum())
                idx_u.append(u)
                idx_h.append(h)
                kj, nodes = kj[~hit], nodes[~hit]
            u, v = bucket_links(kj, nodes)
            candidates += len(u)
            if len(u):
                ok = verifier.within_run(order[u], order[v])
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
                index, collected, order, rank, keys, verifier, shingled, row_label, k, roots, new
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
        self, index, collected, order, rank, keys, verifier, shingled, row_label, k, roots, new
    ) -> list[str]:
        """Commit the run's new dumps: docs in survival order, their roots, band keys, and what
        verification compares (signatures or shingle sets)."""
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
                stats={"removed": int((row_label[rows_d] != rank[rows_d] + k).sum())},
                **verifier.payload(rows_d),
            )
            if entry.seq != seq_of[name]:
                raise CurateError(f"{index.root}: another run committed to the index meanwhile")
            done.append(name)
        return done


class _Verifier:
    """Checks candidate pairs (rows of the collected table, or a row and a committed handle)."""

    def __init__(self, c: MinHashDedupConfig, collected: pa.Table):
        self.mode, self.threshold = c.verify, c.threshold
        self.need = math.ceil(c.threshold * c.num_perm - 1e-9)
        if self.mode == "signature":
            self.sigs = _matrix(collected.column("signature"), c.num_perm, np.uint32)
        if self.mode == "exact":
            self.sets = SetStore.from_arrow(collected.column("shingles"))

    def within_run(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if self.mode == "exact":
            return jaccard_at_least(self.sets, a, self.sets, b, self.threshold)
        if self.mode == "signature":
            return signatures_agree(self.sigs[a], self.sigs[b], self.need)
        return np.ones(len(a), bool)

    def against_index(self, rows: np.ndarray, index: DedupIndex, handles: np.ndarray) -> np.ndarray:
        if self.mode == "exact":
            committed = index.shingle_sets(handles)
            return jaccard_at_least(
                self.sets, rows, committed, np.arange(len(handles)), self.threshold
            )
        if self.mode == "signature":
            return signatures_agree(self.sigs[rows], index.signatures(handles), self.need)
        return np.ones(len(rows), bool)

    def payload(self, rows: np.ndarray) -> dict[str, Any]:
        """What the index keeps of these rows for later runs' verification."""
        if self.mode == "exact":
            return {"shingles": SetStore(self.sets.gather(rows), _offsets(self.sets.sizes(rows)))}
        if self.mode == "signature":
            return {"signatures": self.sigs[rows]}
        return {}


def _offsets(sizes: np.ndarray) -> np.ndarray:
    return np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)


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
