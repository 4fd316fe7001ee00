"""`curate measure dedup-curve`: the share of documents removed when deduplicating across the first
1, 2, ..., N dumps (in dump-name order), DeepSeek LLM's Table 1 for the user's own corpus.

Each document's keys are collected once by the dedup stage (``minhash_dedup`` by default,
``url_dedup`` or ``exact_dedup``); then the stage's ``decide`` runs on dumps 1..k for every k.

Sampling (``sample < 1``). Drawing documents at random would split duplicate clusters and bias
the removal share down, so the sample is *consistent*: a document is kept when a hash of its
content is below ``sample``. For exact and URL dedup the hash is the dedup key itself, so copies
are always sampled together; for MinHash it is a MinHash value (the signature's first, or with exact
verification the smallest shingle hash), which two documents share with probability equal to
their Jaccard similarity (>= 0.8 for near-duplicates), so clusters
mostly stay whole. The interval is a cluster bootstrap (Poisson weights per duplicate cluster,
1,000 replicates, percentile interval): documents of one cluster go in or out together, as in
the sampling.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.errors import InputError
from curate.io import discover_shards, read_input_shard
from curate.minhash import fmix64
from curate.stages.base import ROW, SHARD, make_stage

DEEPSEEK_TABLE_1 = {1: 22.2, 2: 46.7, 6: 55.7, 12: 69.9, 16: 75.7, 22: 76.3, 41: 81.6, 91: 89.8}
_SAMPLE_COLUMN = {"minhash_dedup": "signature", "url_dedup": "key", "exact_dedup": "hash"}


def _sample_mask(keys: pa.Table, stage: str, sample: float, seed: int) -> np.ndarray:
    """Consistent sample: a hash of the document's dedup key (MinHash: of its first signature
    value, the minimum, which near-duplicates share) below ``sample``."""
    if sample >= 1.0:
        return np.ones(keys.num_rows, bool)
    if stage == "minhash_dedup":  # a MinHash value: signature's first, or the smallest shingle
        column = "signature" if "signature" in keys.column_names else "shingles"
        value = pc.fill_null(pc.list_element(keys.column(column), 0), 0)
        value = value.to_numpy().astype(np.uint64)
    else:
        value = pc.fill_null(keys.column(_SAMPLE_COLUMN[stage]), 0).to_numpy().astype(np.uint64)
    with np.errstate(over="ignore"):  # another seed draws another sample
        value = fmix64(value ^ (np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)))
    return value < np.uint64(min(int(sample * 2**64), 2**64 - 1))


def dedup_curve(
    inputs: list[str] | str,
    sample: float = 1.0,
    stage: str = "minhash_dedup",
    seed: int = 0,
    confidence: float = 0.95,
    params: dict[str, Any] | None = None,
    batch_size: int = 4096,
    replicates: int = 1000,
) -> dict[str, Any]:
    """{"rows": [{dumps, last_dump, docs, removed, share, low, high}], ...} for k = 1..N."""
    if not 0.0 < sample <= 1.0:
        raise InputError(f"--sample must be in (0, 1], got {sample}")
    dedup = make_stage(stage, params or {}, f"measure {stage}")
    shards = discover_shards([inputs] if isinstance(inputs, str) else list(inputs))
    parts = []
    for shard in shards:
        for rb in read_input_shard(shard, batch_size):
            batch = rb.batch
            if not batch.num_rows:
                continue
            batch = batch.append_column(ROW, pa.array(np.arange(batch.num_rows), pa.int64()))
            keys = dedup.collect(batch)
            keys = keys.filter(pa.array(_sample_mask(keys, stage, sample, seed)))
            keys = keys.add_column(0, SHARD, pa.array([len(parts)] * keys.num_rows, pa.int32()))
            parts.append(keys)
    collected = pa.concat_tables(parts) if parts else None
    if collected is None or not collected.num_rows:
        raise InputError(f"{inputs}: no documents (after sampling {sample})")
    if collected.column("dump").null_count:
        raise InputError(f"{inputs}: documents without a dump (use dump=NAME/ folders)")
    dumps = sorted(pc.unique(collected.column("dump")).to_pylist())
    rng = np.random.default_rng(seed)
    rows = []
    for k in range(1, len(dumps) + 1):
        upto = collected.filter(pc.is_in(collected.column("dump"), pa.array(dumps[:k])))
        decision, _ = dedup.decide(upto)
        decision = _removals(decision)
        removed = _removed_mask(upto, decision)
        cluster = _clusters(upto, decision, removed)
        share, low, high = _share_interval(cluster, removed, confidence, replicates, rng)
        rows.append(
            {
                "dumps": k,
                "last_dump": dumps[k - 1],
                "docs": upto.num_rows,
                "removed": int(removed.sum()),
                "share": share,
                "low": low,
                "high": high,
            }
        )
    return {
        "input": inputs,
        "stage": stage,
        "sample": sample,
        "confidence": confidence,
        "rows": rows,
    }


def _removals(decision: dict[int, pa.Table]) -> dict[int, pa.Table]:
    """The removed rows of each shard's decision (minhash_dedup's also lists the survivors of
    its clusters, with no reason, for their cluster size)."""
    out = {}
    for s, t in decision.items():
        if "reason" in t.column_names:
            t = t.filter(pc.is_valid(t.column("reason")))
        if t.num_rows:
            out[s] = t
    return out


def _removed_mask(upto: pa.Table, decision: dict[int, pa.Table]) -> np.ndarray:
    """Rows of ``upto`` the decision removes (matched by shard and row)."""
    key = _positions(upto.column(SHARD), upto.column(ROW))
    gone = [t.column(ROW).to_numpy() | (np.int64(s) << 32) for s, t in decision.items()]
    return np.isin(key, np.concatenate(gone)) if gone else np.zeros(upto.num_rows, bool)


def _clusters(upto: pa.Table, decision: dict[int, pa.Table], removed: np.ndarray) -> np.ndarray:
    """A cluster number per row: removed rows join their survivor's, others are their own."""
    cluster = np.arange(upto.num_rows)
    if not removed.any():
        return cluster
    key = _positions(upto.column(SHARD), upto.column(ROW))
    order = np.argsort(key, kind="stable")
    for s, t in decision.items():
        where = pc.index_in(t.column("duplicate_of"), value_set=upto.column("id"))
        found = pc.is_valid(where).to_numpy(zero_copy_only=False)
        if not found.any():  # no survivor of this shard's removals is in the sample
            continue
        rows = t.column(ROW).to_numpy().astype(np.int64)[found] | (np.int64(s) << 32)
        at = order[np.searchsorted(key, rows, sorter=order)]
        cluster[at] = pc.drop_null(where).to_numpy()
    return cluster


def _positions(shard: pa.ChunkedArray, row: pa.ChunkedArray) -> np.ndarray:
    return shard.to_numpy().astype(np.int64) << 32 | row.to_numpy().astype(np.int64)


def _share_interval(
    cluster: np.ndarray,
    removed: np.ndarray,
    confidence: float,
    replicates: int,
    rng: np.random.Generator,
) -> tuple[float, float, float]:
    _, inv = np.unique(cluster, return_inverse=True)
    size = np.bincount(inv).astype(np.float64)
    gone = np.bincount(inv, weights=removed.astype(np.float64))
    share = float(gone.sum() / size.sum())
    estimates = []
    for _ in range(0, replicates, 100):
        w = rng.poisson(1.0, (100, len(size)))
        estimates.append((w @ gone) / np.maximum(w @ size, 1))
    est = np.concatenate(estimates)[:replicates]
    alpha = (1 - confidence) / 2
    low, high = np.quantile(est, [alpha, 1 - alpha])
    return share, float(low), float(high)


def render_curve(curve: dict[str, Any]) -> str:
    """The curve as a text table with a bar per row, DeepSeek's figure beside where it has one."""
    pct = int(round(curve["confidence"] * 100))
    sampled = curve["sample"] < 1.0
    head = f"dedup curve: {curve['stage']} across the first N dumps of {curve['input']}" + (
        f", consistent {curve['sample']:.0%} sample, {pct}% interval" if sampled else ""
    )
    lines = [
        head,
        "",
        f"{'N':>3}  {'last dump':<24} {'docs':>10} {'removed':>9}  {'share':>6}"
        + (f"  {f'{pct}% interval':>15}" if sampled else "")
        + "  DeepSeek",
    ]
    for r in curve["rows"]:
        ds = DEEPSEEK_TABLE_1.get(r["dumps"])
        bar = "#" * int(round(r["share"] * 40))
        line = (
            f"{r['dumps']:>3}  {r['last_dump']:<24} {r['docs']:>10,} {r['removed']:>9,}  "
            f"{r['share']:>6.1%}"
        )
        if sampled:
            line += f"  {r['low']:>6.1%}-{r['high']:<6.1%} "
        line += f"  {f'{ds:.1f}%' if ds is not None else '':>8}  {bar}"
        lines.append(line)
    return "\n".join(lines)
