"""remix: rebalance the corpus across domains by target weights or by temperature.

DeepSeek LLM remixes after dedup and filtering so that scarce, valuable domains (code, math)
weigh more and the web bulk less. A group is a value of the ``by`` columns (default the
domain; ``[language, domain]`` gives groups like ``zh/web``). The mixture is measured in
``unit``: tokens (default) or documents.

* ``targets: {web: 0.5, code: 0.3, math: 0.2}``: shares of the output, normalised to sum 1.
  Groups the targets do not name pass through unchanged and are listed as ``untargeted``.
* ``temperature: T``: share p_i proportional to n_i^(1/T) (T = 1 keeps the mix, larger T
  flattens it towards uniform).

The output size (of the targeted groups) is ``size`` times their input size. Each group gets a
rate r = target / input: every document is kept floor(r) times, plus once more for a subset
chosen by a hash of (id, seed) that holds the fractional part of the group's tokens; so r < 1
down-samples (removed rows have reason ``remix_downsample``) and r > 1 repeats documents as
copies with ``repeat`` = 1, 2, ... (the original keeps ``repeat`` = 0). The subset depends only on
ids, seed and the group totals, never on sharding or workers. A rate is capped at ``max_repeat``
epochs; the summary lists such targets (and targets for groups without documents) as unmet.

The barrier runs in reduce tasks: per-group document and token counts on the top 12 bits of the
hash, then only the rows of the bin where a group's cumulative amount crosses its target (split
further while the round's bins hold more than ``selection.CAP`` rows), so the driver never holds
a column of the corpus. The cut is ``select``'s over the whole group (tested against it); token
sums are added in another order, so a cut could move by one row only where two sums tie to the
last bit.
The decision is ``{group: {"whole": m, "threshold": hash or -1}}``, plain JSON.

Tokens are estimated by default as 0.3 per character plus 0.3 more per CJK character (DeepSeek's
API documentation: "1 English character ~ 0.3 token, 1 Chinese character ~ 0.6 token"), or
counted by a real tokenizer (``tokenizer``: a SentencePiece ``.model`` or a ``tokenizer.json``).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate import selection
from curate.collected import CollectedTable, Run, run_here
from curate.stages.base import Stage, Verdict, register
from curate.xxh3 import xxh3_64

CJK = "[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
TOKENS_PER_CHAR = 0.3  # DeepSeek API docs: 1 English character ~ 0.3 token
TOKENS_PER_CJK_CHAR = 0.6  # DeepSeek API docs: 1 Chinese character ~ 0.6 token
NONE = "unknown"


@dataclass
class RemixConfig:
    targets: dict[str, float] | None = None  # group -> weight
    temperature: float | None = None  # p_i ~ n_i^(1/T)
    unit: Literal["tokens", "documents"] = "tokens"
    tokenizer: str = "estimate"  # or a SentencePiece .model / tokenizer.json path
    size: float = 1.0  # output size of the targeted groups / their input size
    # Muennighoff et al. 2023 (data-constrained scaling): up to ~4 epochs cost almost nothing.
    max_repeat: float = 4.0
    seed: int = 0
    by: list[str] = field(default_factory=lambda: ["domain"])

    def validate(self) -> None:
        if (self.targets is None) == (self.temperature is None):
            raise ValueError(
                "give exactly one of 'targets' (e.g. {web: 0.5, code: 0.3, math: 0.2}) "
                "or 'temperature' (e.g. 2.0)"
            )
        if self.targets is not None:
            bad = {k: v for k, v in self.targets.items() if not _is_weight(v)}
            if bad:
                raise ValueError(f"targets: weights must be numbers >= 0, got {bad}")
            if sum(self.targets.values()) <= 0:
                raise ValueError("targets: at least one weight must be above 0")
        if self.temperature is not None and self.temperature <= 0:
            raise ValueError(f"temperature: {self.temperature} must be above 0")
        if self.max_repeat < 1:
            raise ValueError(f"max_repeat: {self.max_repeat} must be at least 1 (epochs)")
        if self.size <= 0:
            raise ValueError(f"size: {self.size} must be above 0")
        if not self.by:
            raise ValueError("by: name at least one column, e.g. [domain]")


def _is_weight(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0


def estimate_tokens(text: pa.Array) -> np.ndarray:
    """Cheap token count per document: 0.3 per character, 0.6 per CJK character."""
    chars = pc.utf8_length(text).to_numpy(zero_copy_only=False).astype(np.float64)
    cjk = pc.count_substring_regex(text, CJK).to_numpy(zero_copy_only=False)
    return TOKENS_PER_CHAR * chars + (TOKENS_PER_CJK_CHAR - TOKENS_PER_CHAR) * cjk


def id_hashes(ids: pa.Array | pa.ChunkedArray, seed: int) -> np.ndarray:
    """64-bit hash of each id with the seed: the draw that decides which copies exist
    (xxh3-64 of the id's UTF-8 bytes, compiled over the column's buffers)."""
    return xxh3_64(ids, seed)


def group_keys(batch: pa.RecordBatch | pa.Table, by: list[str]) -> pa.Array:
    """The group of each row: the ``by`` columns' values joined with '/', 'unknown' for null."""
    parts = []
    for name in by:
        if name in batch.schema.names:
            parts.append(pc.fill_null(pc.cast(batch.column(name), pa.string()), NONE))
        else:
            parts.append(pa.array([NONE] * batch.num_rows, pa.string()))
    if len(parts) == 1:
        return parts[0]
    return pc.binary_join_element_wise(*parts, "/")


def plan_rates(
    amount: dict[str, float], config: RemixConfig
) -> tuple[dict[str, float], dict[str, float], list[str]]:
    """(rate per group, target share per group, untargeted groups) from per-group input sizes.

    A rate is the wanted number of epochs of the group, before the ``max_repeat`` cap; groups
    named in the targets but absent from the data get a target share and no rate.
    """
    if config.temperature is not None:
        weights = {g: a ** (1.0 / config.temperature) for g, a in amount.items() if a > 0}
    else:
        weights = {g: float(w) for g, w in (config.targets or {}).items()}
    total_w = sum(weights.values())
    share = {g: w / total_w for g, w in weights.items()} if total_w else {}
    targeted_input = sum(a for g, a in amount.items() if g in share)
    out_size = config.size * targeted_input
    rates = {}
    for g, a in amount.items():
        if g not in share:
            rates[g] = 1.0  # untargeted: passes through
        elif a > 0:
            rates[g] = share[g] * out_size / a
    untargeted = sorted(g for g in amount if g not in share)
    return rates, share, untargeted


def select(hashes: np.ndarray, amount: np.ndarray, rate: float) -> tuple[int, int, int]:
    """(whole epochs m, hash threshold or -1, rows given an extra copy) for one group.

    Rows sorted by hash take one extra copy until their amount is closest to the fractional
    part of the rate times the group's amount; every row with hash <= threshold gets it.
    """
    whole = math.floor(rate + 1e-9)
    frac = rate - whole
    if frac <= 1e-9 or len(hashes) == 0:
        return whole, -1, 0
    order = np.argsort(hashes, kind="stable")
    cum = np.concatenate([[0.0], np.cumsum(amount[order])])
    want = frac * cum[-1]
    j = int(np.searchsorted(cum, want))
    k = j if j < len(cum) and (j == 0 or cum[j] - want <= want - cum[j - 1]) else j - 1
    k = min(max(k, 0), len(hashes))
    return whole, (int(hashes[order[k - 1]]) if k else -1), k


@register
class Remix(Stage):
    name = "remix"
    Config = RemixConfig
    kind = "global"
    adds_columns = ("repeat",)

    @classmethod
    def extra_for(cls, config: RemixConfig) -> str | None:
        return "lm" if config.tokenizer.endswith(".model") else None  # SentencePiece counts

    def __init__(self, config: RemixConfig) -> None:
        super().__init__(config)
        self._tokenizer: Any = None

    def count_tokens(self, text: pa.Array) -> np.ndarray:
        if self.config.tokenizer == "estimate":
            return estimate_tokens(text)
        if self._tokenizer is None:
            self._tokenizer = _load_tokenizer(self.config.tokenizer)
        return self._tokenizer(text.to_pylist())

    def collect(self, batch: pa.RecordBatch) -> pa.Table:
        return pa.table(
            {
                "group": group_keys(batch, self.config.by),
                "hash": pa.array(id_hashes(batch.column("id"), self.config.seed), pa.uint64()),
                "tokens": pa.array(self.count_tokens(batch.column("text")), pa.float64()),
            }
        )

    def decide(self, collected: pa.Table) -> tuple[Any, dict[str, Any]]:
        return self.barrier(CollectedTable(collected), run_here)

    def barrier(self, collected: Any, run: Run) -> tuple[Any, dict[str, Any]]:
        """Reduce tasks over spans of the collected rows count each group's documents and
        tokens on 4,096 bins of the hash; this process plans the rates, then finds each group's
        hash threshold (``select``'s, exactly) by fetching only the bin where the group's
        cumulative amount crosses its target, split further while it holds more than
        ``selection.CAP`` rows a round. It holds per-group bins, never a column of the corpus."""
        c = self.config
        spans = selection.spans(collected)
        memory = selection.span_memory(collected, spans)
        groups: dict[str, dict[str, Any]] = {}
        for part in run(functools.partial(_count, collected, None), spans, memory=memory):
            for g, h in part.items():
                _merge_bins(groups, g, h)
        names = sorted(groups)
        docs_in = {g: int(groups[g]["counts"].sum()) for g in names}
        tok_in = {g: float(groups[g]["tokens"].sum()) for g in names}
        unit_in = tok_in if c.unit == "tokens" else {g: float(n) for g, n in docs_in.items()}
        wanted, share, untargeted = plan_rates(unit_in, c)
        rates = {g: min(r, c.max_repeat) for g, r in wanted.items()}
        decision: dict[str, dict[str, int]] = {}
        docs_out: dict[str, int] = {}
        tok_out: dict[str, float] = {}
        search: dict[str, dict[str, Any]] = {}
        for g in names:
            whole = math.floor(rates[g] + 1e-9)
            frac = rates[g] - whole
            decision[g] = {"whole": whole, "threshold": -1}
            docs_out[g], tok_out[g] = whole * docs_in[g], whole * tok_in[g]
            if frac > 1e-9 and docs_in[g]:
                amount = groups[g]["tokens" if c.unit == "tokens" else "counts"]
                start = {"want": frac * float(amount.sum()), "prefix": 0, "bits": 0, "below": 0}
                start |= {"amount_below": 0.0, "tokens_below": 0.0}
                search[g] = _locate(start, groups[g], c.unit)
        rounds = fetched = largest = 0
        while search:
            fetch = selection.fetch_within(
                selection.CAP, {g: w["count"] for g, w in search.items()}
            )
            request = {
                g: (w["prefix"], w["bits"], g not in fetch and w["bits"] < 64)
                for g, w in search.items()
            }
            merged: dict[str, dict[str, Any]] = {}
            counting = functools.partial(_count, collected, request)
            for part in run(counting, spans, memory=memory):
                for g, h in part.items():
                    _merge_bins(merged, g, h)
            rounds += 1
            largest = max(largest, sum(len(h.get("hash", ())) for h in merged.values()))
            for g in list(search):
                w, got = search[g], merged.get(g, {})
                if "hash" not in got:  # split: look again in the sub-bin that crosses
                    search[g] = _locate(w, got, c.unit)
                    continue
                fetched += len(got["hash"])
                threshold, count, tokens = _cut(w, got, c.unit)
                decision[g]["threshold"] = threshold
                docs_out[g] += count
                tok_out[g] += tokens
                del search[g]
        summary = _summary(c, names, share, untargeted, wanted, docs_in, tok_in, docs_out, tok_out)
        summary["search"] = {"tasks": len(spans), "rounds": rounds + 1, "hashes_fetched": fetched}
        summary["search"]["largest_round"] = largest
        return decision, summary

    def apply(self, batch: pa.RecordBatch, decision: Any) -> Verdict:
        n = batch.num_rows
        names = sorted(decision)
        # One row per group, plus a last one (rate 1) for a group the decision never saw.
        whole = np.array([decision[g]["whole"] for g in names] + [1], np.int64)
        has_extra = np.array([decision[g]["threshold"] >= 0 for g in names] + [False])
        limit = np.array([max(decision[g]["threshold"], 0) for g in names] + [0], np.uint64)
        where = pc.index_in(
            group_keys(batch, self.config.by), value_set=pa.array(names, pa.string())
        )
        where = pc.fill_null(where, len(names)).to_numpy(zero_copy_only=False)
        hashes = id_hashes(batch.column("id"), self.config.seed)
        copies = whole[where] + (has_extra[where] & (hashes <= limit[where]))
        reason = pa.array(np.where(copies == 0, "remix_downsample", None), pa.string())
        out = batch.append_column("repeat", pa.array(np.zeros(n, np.int32)))
        more = np.maximum(copies - 1, 0)
        added = None
        if more.sum():
            take = np.repeat(np.arange(n), more)
            starts = np.repeat(np.cumsum(more) - more, more)
            repeat = (np.arange(len(take)) - starts + 1).astype(np.int32)
            added = batch.take(pa.array(take)).append_column("repeat", pa.array(repeat))
        return Verdict(out, reason, stats={"docs_repeated": int((more > 0).sum())}, added=added)


HASH_BITS = 12  # bits of the hash one round bins on: 4,096 bins


def _count(collected: Any, request: dict[str, tuple] | None, span: tuple[int, int]) -> dict:
    """Reduce task. Without a request: per group, documents and tokens on the top
    ``HASH_BITS`` bits of the hash. With one, per requested group: the rows whose hash starts
    with the window's prefix (hash, tokens, row, and the largest hash below the window), or, to
    split it, their counts and tokens on the next bits."""
    table = selection.read_span(collected, ["group", "hash", "tokens"], span)
    encoded = pc.dictionary_encode(table.column("group").combine_chunks())
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    hashes = table.column("hash").to_numpy()
    tokens = table.column("tokens").to_numpy()
    out: dict[str, dict[str, Any]] = {}
    for code, g in enumerate(encoded.dictionary.to_pylist()):
        if request is not None and g not in request:
            continue
        mine = np.flatnonzero(codes == code)
        h, t = hashes[mine], tokens[mine]
        prefix, bits, split = request[g] if request is not None else (0, 0, True)
        inside = (h >> np.uint64(64 - bits)) == np.uint64(prefix) if bits else np.ones(len(h), bool)
        if split:
            step = min(HASH_BITS, 64 - bits)
            sub = ((h[inside] << np.uint64(bits)) >> np.uint64(64 - step)).astype(np.int64)
            out[g] = {
                "counts": np.bincount(sub, minlength=1 << step),
                "tokens": np.bincount(sub, weights=t[inside], minlength=1 << step),
            }
            continue
        lo = np.uint64(prefix << (64 - bits))
        below = h[h < lo]
        out[g] = {
            "hash": h[inside],
            "tokens_of": t[inside],
            "row": span[0] + mine[inside],
            "below_max": int(below.max()) if len(below) else -1,
        }
    return out


def _merge_bins(into: dict[str, dict[str, Any]], g: str, part: dict[str, Any]) -> None:
    if g not in into:
        into[g] = dict(part)
    elif "counts" in part:
        into[g]["counts"] = into[g]["counts"] + part["counts"]
        into[g]["tokens"] = into[g]["tokens"] + part["tokens"]
    else:
        mine = into[g]
        for key in ("hash", "tokens_of", "row"):
            mine[key] = np.concatenate([mine[key], part[key]])
        mine["below_max"] = max(mine["below_max"], part["below_max"])


def _locate(w: dict[str, Any], bins: dict[str, Any], unit: str) -> dict[str, Any]:
    """Narrow a group's window to the sub-bin where its cumulative amount first reaches
    ``want`` (``bins``: counts and tokens over the window's next bits, in hash order)."""
    counts, tokens = bins["counts"], bins["tokens"]
    amount = tokens if unit == "tokens" else counts.astype(np.float64)
    cum = w["amount_below"] + np.cumsum(amount)
    last = int(np.flatnonzero(counts)[-1])
    b = min(int(np.searchsorted(cum, w["want"])), last)
    step = int(np.log2(len(counts)))
    return {
        **w,
        "prefix": (w["prefix"] << step) | b,
        "bits": w["bits"] + step,
        "count": int(counts[b]),
        "below": w["below"] + int(counts[:b].sum()),
        "amount_below": w["amount_below"] + float(amount[:b].sum()),
        "tokens_below": w["tokens_below"] + float(tokens[:b].sum()),
    }


def _cut(w: dict[str, Any], got: dict[str, Any], unit: str) -> tuple[int, int, float]:
    """(threshold, rows with hash <= threshold, their tokens) from the rows of the window that
    holds the crossing: ``select``'s choice of k, with rows in (hash, row) order."""
    order = np.lexsort((got["row"], got["hash"]))
    h, t = got["hash"][order], got["tokens_of"][order]
    amount = t if unit == "tokens" else np.ones(len(h))
    cum = w["amount_below"] + np.cumsum(amount)
    want = w["want"]
    i = min(int(np.searchsorted(cum, want)), len(h) - 1)
    before = cum[i - 1] if i else w["amount_below"]
    if cum[i] - want <= want - before:
        threshold = int(h[i])
    elif i:
        threshold = int(h[i - 1])
    else:
        threshold = got["below_max"]  # the last row before the window (or none: -1)
    if threshold < 0:
        return -1, 0, 0.0
    extra = h <= np.uint64(threshold)
    return threshold, w["below"] + int(extra.sum()), w["tokens_below"] + float(t[extra].sum())


def _summary(
    c: RemixConfig,
    names: list[str],
    share: dict[str, float],
    untargeted: list[str],
    wanted: dict[str, float],
    docs_in: dict[str, int],
    tok_in: dict[str, float],
    docs_out: dict[str, int],
    tok_out: dict[str, float],
) -> dict[str, Any]:
    unit_in = tok_in if c.unit == "tokens" else docs_in
    unit_out = tok_out if c.unit == "tokens" else docs_out
    total_in = sum(unit_in.values()) or 1.0
    total_out = sum(unit_out.values()) or 1.0
    mix: dict[str, Any] = {}
    unmet: dict[str, Any] = {}
    for g in sorted(set(names) | set(share)):
        before = unit_in.get(g, 0)
        after = unit_out.get(g, 0)
        row = {
            "docs_before": docs_in.get(g, 0),
            "tokens_before": round(tok_in.get(g, 0.0)),
            "share_before": round(before / total_in, 6),
            "target_share": round(share[g], 6) if g in share else None,
            "docs_after": docs_out.get(g, 0),
            "tokens_after": round(tok_out.get(g, 0.0)),
            "share_after": round(after / total_out, 6),
            "epochs": round(after / before, 4) if before else 0.0,
        }
        mix[g] = row
        if g in share and share[g] > 0 and before == 0:
            unmet[g] = {"target_share": row["target_share"], "why": "no documents"}
        elif g in share and before and wanted[g] > c.max_repeat:
            unmet[g] = {
                "target_share": row["target_share"],
                "share_after": row["share_after"],
                "wanted_epochs": round(wanted[g], 4),
                "why": f"ran out: capped at max_repeat = {c.max_repeat:g} epochs",
            }
    return {
        "mode": "temperature" if c.temperature is not None else "targets",
        "temperature": c.temperature,
        "unit": c.unit,
        "tokenizer": c.tokenizer,
        "size": c.size,
        "max_repeat": c.max_repeat,
        "seed": c.seed,
        "by": c.by,
        "mixture": mix,
        "totals": {
            "docs_before": sum(docs_in.values()),
            "docs_after": sum(docs_out.values()),
            "tokens_before": round(sum(tok_in.values())),
            "tokens_after": round(sum(tok_out.values())),
        },
        "targets": {g: round(s, 6) for g, s in sorted(share.items())},
        "unmet": unmet,
        "untargeted": untargeted,
    }


def _load_tokenizer(path: str) -> Any:
    """A function list[str] -> token counts, from a SentencePiece model or a tokenizer.json."""
    from pathlib import Path

    from curate.errors import ConfigError

    if not Path(path).is_file():
        raise ConfigError(f"remix.tokenizer: {path}: no such file ('estimate' or a model path)")
    if path.endswith(".json"):
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(path)
        return lambda texts: np.array(
            [len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False)], np.float64
        )
    import sentencepiece

    sp = sentencepiece.SentencePieceProcessor(model_file=path)
    return lambda texts: np.array([len(ids) for ids in sp.encode(texts)], np.float64)
