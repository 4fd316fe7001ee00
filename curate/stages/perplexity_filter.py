"""perplexity_filter: KenLM perplexity per document, thresholds per language and domain.

Annotate: every row whose (language, domain) has a model is scored (``curate.lm.score``) into
four columns: ``perplexity_ccnet``, CCNet's document perplexity; ``line_end_surprisal``, the mean
over the document's lines of ``-log10 p(</s>)`` after each line's last words (high for text cut
off mid-sentence, which an n-gram model otherwise barely notices); ``negatives_llr``, the log10
likelihood ratio per token of the model of negatives ``curate lm train`` makes from the same
reference (truncations, shuffles, joined headings, number tables, typos;
``<stem>.negatives.arpa``) against the model (above 0: the document looks more like the
negatives; null without that model); and ``perplexity``, the score the decision thresholds:
``perplexity_ccnet * 10 ** (line_end_weight * line_end_surprisal + negatives_weight *
negatives_llr)`` (both weights 0 make it CCNet's exactly). A model is looked up as
``models["en/code"]``, then ``models["en"]``. Rows with no model, no text or a ``skip`` rule
keep null scores and pass through, counted as such.

Decide (global, exact): for each (language, domain) group the rule is looked up as
``thresholds["en/code"]``, ``["code"]``, ``["en"]``, then ``["default"]``, and is one of

* ``{max: 800}``: an absolute threshold (data-juicer's style, one per group here);
* ``{keep_below: p70}``: the nearest-rank 70th percentile of this corpus's own scores in the group,
  so the lowest-perplexity 70% stay (CCNet sets its head/middle/tail cuts the same way);
* ``{skip: true}``: not scored at all (code is often left alone).

Rows with ``perplexity > threshold`` go; they carry ``perplexity_threshold``. Every scored row
gets CCNet's ``perplexity_bucket``: ``head`` up to the group's p30, ``middle`` up to p60, ``tail``
beyond (Wenzek et al. 2020, section 3.3; RedPajama-v2 keeps head + middle).

Percentiles are exact (error 0: the same floats as sorting every score), yet no process holds the
scores: reduce tasks over spans of the collected rows bin each group's scores on a fixed log grid
(128 bins per octave), the driver finds the bin holding each wanted rank, and the next round
fetches only those bins' scores (beyond ``selection.CAP`` scores a round, the fullest bins are
split and searched again). The driver holds per-group bins (~105 KB a group) and at most ``CAP``
scores a round; the decision is ``{"lang/domain": {"threshold", "head", "middle"}}``, plain JSON.

The summary (``decision`` in report.json) gives, per group: rule, threshold, bucket edges, counts
and a histogram of scores on 30 log-spaced bins shared by all groups (``histogram_edges``), for the
report to draw with the threshold; removal by domain and by language (``by_domain``,
``by_language``); and up to ``examples`` removed texts per domain (``examples``: first 200
characters, emails and long digit runs masked). Example candidates are the ``examples``
highest-perplexity rows of each group in each batch (collected with their masked prefix); each
reduce task keeps the ``RESERVOIR`` candidates of each group at or above its threshold's bin with
the lowest hash of their text, merged the same way, so the sample does not depend on how rows
were split into tasks. The examples shown are removed ones from that sample, spread over its range
of perplexity.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from xxhash import xxh3_64_intdigest

from curate import selection
from curate.collected import CollectedTable, Run, run_here
from curate.stages.base import Stage, Verdict, register

UNKNOWN = "unknown"  # label of a null language or domain
SCORE_COLUMNS = ("perplexity", "perplexity_ccnet", "line_end_surprisal", "negatives_llr")
PERCENTILE = re.compile(r"^p(\d+(\.\d+)?)$")
EXAMPLE_CHARS = 200
EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"
DIGIT_RUN = r"\+?\(?\d([\s().-]{0,2}\d){4,}"  # 5+ digits, maybe separated: phones, ids, cards
REPORT_PERCENTILES = (10, 30, 50, 60, 70, 90)
RESERVOIR = 64  # removed-example candidates kept per group (and per domain), lowest text hash


@dataclass
class PerplexityFilterConfig:
    # "en", "zh", or "en/code": KenLM model (ARPA, ARPA.gz or KenLM binary) per language/domain
    models: dict[str, str] = field(default_factory=dict)
    # same keys: SentencePiece .model or "none"; default <stem>.sp.model beside the model
    sentencepiece: dict[str, str] = field(default_factory=dict)
    # same keys: model of negatives or "none"; default <stem>.negatives.arpa beside the model
    negatives: dict[str, str] = field(default_factory=dict)
    # "default", a language, a domain or "en/code" -> {max: N} | {keep_below: pNN} | {skip: true}
    thresholds: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {"default": {"keep_below": "p90"}}
    )
    buckets: list[str] = field(default_factory=lambda: ["p30", "p60"])  # CCNet: head/middle/tail
    histogram_bins: int = 30
    examples: int = 3  # removed texts shown per domain in the report (0: none)
    # weight of line-end surprisal in `perplexity` (0: CCNet's perplexity alone). With the
    # negatives term at 2, 0.5 / 0.75 / 1 remove 91.9% / 95.1% / 97.7% of garbage at 97% clean
    # kept on bench_perplexity_heldout's DEV split, and 92% / 86% / 74% of the sample corpus's
    # typo'd en/web pages (AUC 0.988 / 0.988 / 0.987): 0.75 between the two dev sets
    line_end_weight: float = 0.75
    # weight of negatives_llr in `perplexity` (0: left out). 2: at line-end weight 0.75, 1 / 2 / 3
    # remove 95% of the DEV split's garbage each, and 89% / 92% / 91% of the sample corpus's
    # en/web low-quality pages at 97% of clean kept (AUC 0.985 / 0.988 / 0.988)
    negatives_weight: float = 2.0

    def validate(self) -> None:
        if not self.models:
            raise ValueError("models: give at least one, e.g. {en: models/en.arpa}")
        for key, path in self.models.items():
            if not Path(path).is_file():
                raise ValueError(
                    f"models.{key}: {path} not found (train one with `curate lm train`, "
                    "or build the demo models with `make models`)"
                )
        for key in self.sentencepiece:
            if key not in self.models:
                raise ValueError(f"sentencepiece.{key}: no model '{key}' in models")
        for key, path in self.negatives.items():
            if key not in self.models:
                raise ValueError(f"negatives.{key}: no model '{key}' in models")
            if path != "none" and not Path(path).is_file():
                raise ValueError(f"negatives.{key}: {path} not found (give 'none' to do without)")
        for key, rule in self.thresholds.items():
            parse_rule(rule, f"thresholds.{key}")
        if len(self.buckets) != 2:
            raise ValueError("buckets: give two percentiles, e.g. [p30, p60]")
        lo, hi = (percentile(b, "buckets") for b in self.buckets)
        if not lo < hi:
            raise ValueError("buckets: the first percentile must be below the second")
        if self.histogram_bins < 1:
            raise ValueError("histogram_bins: must be positive")
        if self.examples < 0:
            raise ValueError("examples: must be 0 or more")
        for name in ("line_end_weight", "negatives_weight"):
            weight = getattr(self, name)
            if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0:
                raise ValueError(f"{name}: expected a number >= 0, got {weight!r}")


def percentile(value: Any, where: str) -> float:
    match = PERCENTILE.match(str(value))
    if not match or not 0 < float(match.group(1)) <= 100:
        raise ValueError(f"{where}: {value!r} is not a percentile like p70")
    return float(match.group(1))


def parse_rule(rule: Any, where: str) -> tuple[str, float | None]:
    """("max", value) | ("keep_below", percent) | ("skip", None) from a YAML rule."""
    if not isinstance(rule, dict) or len(rule) != 1:
        raise ValueError(
            f"{where}: expected one of {{max: 800}}, {{keep_below: p70}}, {{skip: true}}"
        )
    ((kind, value),) = rule.items()
    if kind == "max":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{where}.max: expected a positive number, got {value!r}")
        return "max", float(value)
    if kind == "keep_below":
        return "keep_below", percentile(value, f"{where}.keep_below")
    if kind == "skip":
        if value is not True:
            raise ValueError(f"{where}.skip: only 'skip: true' makes sense")
        return "skip", None
    raise ValueError(f"{where}: unknown rule '{kind}'; valid: max, keep_below, skip")


def nearest_rank(sorted_values: np.ndarray, percent: float) -> float:
    """The smallest value with at least ``percent``% of values at or below it."""
    return float(sorted_values[_nearest_rank(len(sorted_values), percent)])


def masked_prefix(text: pa.Array, chars: int = EXAMPLE_CHARS) -> pa.Array:
    """The first ``chars`` characters with emails and long digit runs masked (report examples
    must not leak PII); masked before cutting, so a cut cannot expose half an address."""
    head = pc.utf8_slice_codeunits(text, 0, 2 * chars)
    head = pc.replace_substring_regex(head, EMAIL, "<EMAIL>")
    head = pc.replace_substring_regex(head, DIGIT_RUN, "<NUMBER>")
    return pc.utf8_slice_codeunits(head, 0, chars)


def group_labels(batch: pa.RecordBatch | pa.Table) -> tuple[pa.Array, pa.Array]:
    n = batch.num_rows
    cols = []
    for name in ("language", "domain"):
        if name in batch.schema.names:
            col = pc.cast(batch.column(name), pa.string())
            cols.append(pc.fill_null(col, UNKNOWN))
        else:
            cols.append(pa.array([UNKNOWN] * n, pa.string()))
    if isinstance(cols[0], pa.ChunkedArray):
        cols = [c.combine_chunks() for c in cols]
    return cols[0], cols[1]


@register
class PerplexityFilter(Stage):
    name = "perplexity_filter"
    extra = "lm"
    Config = PerplexityFilterConfig
    kind = "global"
    adds_columns = (*SCORE_COLUMNS, "perplexity_bucket")
    # the collected column the barrier thresholds (higher is worse); quality_classifier's differs
    score_column = "perplexity"
    example_digits = 1  # of the scores shown with report examples

    def __init__(self, config: PerplexityFilterConfig) -> None:
        super().__init__(config)
        self._scorers: dict[str, Any] = {}

    # -- lookups
    def model_key(self, language: str, domain: str) -> str | None:
        for key in (f"{language}/{domain}", language):
            if key in self.config.models:
                return key
        return None

    def rule(self, language: str, domain: str) -> tuple[str, float | None]:
        for key in (f"{language}/{domain}", domain, language, "default"):
            if key in self.config.thresholds:
                return parse_rule(self.config.thresholds[key], f"thresholds.{key}")
        return "keep_below", 100.0  # no rule at all: score, keep everything

    def scorer(self, key: str) -> Any:
        """Models load once per worker, on first use."""
        if key not in self._scorers:
            from curate.lm.score import KenLMScorer

            self._scorers[key] = KenLMScorer(
                self.config.models[key],
                self.config.sentencepiece.get(key),
                self.config.negatives.get(key),
            )
        return self._scorers[key]

    # -- annotate + collect
    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        language, domain = group_labels(batch)
        scores = {name: np.full(batch.num_rows, np.nan) for name in SCORE_COLUMNS}
        weights = float(self.config.line_end_weight), float(self.config.negatives_weight)
        pairs = pc.binary_join_element_wise(language, domain, "/")
        encoded = pc.dictionary_encode(pairs)
        codes = encoded.indices.to_numpy()
        for code, pair in enumerate(encoded.dictionary.to_pylist()):
            lang, dom = pair.split("/", 1)
            key = self.model_key(lang, dom)
            if key is None or self.rule(lang, dom)[0] == "skip":
                continue
            rows = np.flatnonzero(codes == code)
            text = batch.column("text").take(pa.array(rows))
            result = self.scorer(key).score(text)
            scores["perplexity"][rows] = result.combined(*weights)
            scores["perplexity_ccnet"][rows] = result.perplexity
            if result.line_end_surprisal is not None:
                scores["line_end_surprisal"][rows] = result.line_end_surprisal
            if result.negatives_llr is not None:
                scores["negatives_llr"][rows] = result.negatives_llr
        # a rerun over scored output rescores
        batch = batch.drop_columns([c for c in SCORE_COLUMNS if c in batch.schema.names])
        for name, values in scores.items():
            batch = batch.append_column(name, pa.array(values, pa.float64(), mask=np.isnan(values)))
        return batch

    def collect(self, batch: pa.RecordBatch) -> pa.Table:
        language, domain = group_labels(batch)
        pp = batch.column("perplexity")
        return pa.table(
            {
                "language": language,
                "domain": domain,
                "perplexity": pp,
                "example": self._example_candidates(batch, language, domain, pp),
            }
        )

    def _example_candidates(
        self, batch: pa.RecordBatch, language: pa.Array, domain: pa.Array, pp: pa.Array
    ) -> pa.Array:
        """Masked prefixes of each group's ``examples`` highest-perplexity rows; null elsewhere."""
        n, k = batch.num_rows, self.config.examples
        values = pc.fill_null(pp, np.nan).to_numpy(zero_copy_only=False)
        if k == 0 or np.isnan(values).all():
            return pa.nulls(n, pa.string())
        codes = pc.dictionary_encode(pc.binary_join_element_wise(language, domain, "/"))
        codes = codes.indices.to_numpy()
        order = np.lexsort((-np.nan_to_num(values, nan=-np.inf), codes))  # group, pp desc
        rank = np.arange(n) - np.searchsorted(codes[order], codes[order])
        chosen = order[(rank < k) & ~np.isnan(values[order])]
        text = masked_prefix(batch.column("text").take(pa.array(chosen)))
        out = np.full(n, None, dtype=object)
        out[chosen] = text.to_numpy(zero_copy_only=False)
        return pa.array(out, pa.string())

    # -- decide
    def decide(self, collected: pa.Table) -> tuple[Any, dict[str, Any]]:
        return self.barrier(CollectedTable(collected), run_here)

    def barrier(self, collected: Any, run: Run) -> tuple[Any, dict[str, Any]]:
        """Reduce tasks over spans of the collected rows: the first round counts each group and
        bins its scores (``curate.selection``); the next rounds fetch the bins that hold the
        wanted ranks, the report histogram, the removed counts and the example reservoirs.
        This process holds per-group histograms and at most ``selection.CAP`` scores a round."""
        if collected.num_rows == 0:
            return {}, {"documents": 0, "groups": {}}
        spans = selection.spans(collected)
        memory = selection.span_memory(collected, spans)
        groups: dict[str, dict[str, Any]] = {}
        scan = functools.partial(_scan, collected, column=self.score_column)
        for part in run(scan, spans, memory=memory):
            for pair, g in part.items():
                _merge_scan(groups, pair, g)
        pairs = sorted(groups, key=lambda p: groups[p]["first"])  # first seen, as a table reads
        scored = [g for g in groups.values() if g["scored"]]
        edges = np.zeros(0)
        if scored:
            lo_all = min(g["min"] for g in scored)
            edges = self.histogram_edges(lo_all, max(g["max"] for g in scored))
        lo, hi = (percentile(b, "buckets") for b in self.config.buckets)
        search = selection.RankSearch()
        examples = self.config.examples and "example" in collected.column_names
        plan: dict[str, dict[str, Any]] = {}
        for pair in pairs:
            g = groups[pair]
            kind, arg = self.rule(*pair.split("/", 1))
            if self.model_key(*pair.split("/", 1)) is None or kind == "skip" or not g["scored"]:
                continue
            n = g["scored"]
            ranks = {"head": _nearest_rank(n, lo), "middle": _nearest_rank(n, hi)}
            if kind == "keep_below":
                ranks["threshold"] = _nearest_rank(n, float(arg))
            lerp = {p: _linear_ranks(n, p) for p in REPORT_PERCENTILES}
            plan[pair] = {"kind": kind, "arg": arg, "ranks": ranks, "lerp": lerp}
            wanted = [*ranks.values(), *(r for p in lerp.values() for r in p[:2])]
            search.start(pair, g["counts"], g["min"], g["max"], wanted)
        # the second round also bins the report histogram, counts rows above a fixed threshold
        # and keeps each group's example reservoir (rows in or above the threshold's fine bin)
        extras: dict[str, Any] | None = {
            "edges": edges,
            "above": {p: float(v["arg"]) for p, v in plan.items() if v["kind"] == "max"},
            "floor": {p: self._example_floor(p, v, search) for p, v in plan.items()},
            "reservoir": RESERVOIR if examples else 0,
        }
        histograms: dict[str, np.ndarray] = {}
        above: dict[str, int] = {}
        reservoirs: dict[str, list[tuple]] = {}
        if not plan:
            extras = None
        while not search.done or extras:
            merged: dict = {}
            task = functools.partial(
                _refine, collected, search.request(), extras, column=self.score_column
            )
            for part in run(task, spans, memory=memory):
                selection.merge_parts(merged, part["windows"])
                for pair, h in part.get("histograms", {}).items():
                    histograms[pair] = histograms.get(pair, 0) + h
                for pair, c in part.get("above", {}).items():
                    above[pair] = above.get(pair, 0) + c
                for pair, rows in part.get("examples", {}).items():
                    reservoirs[pair] = _bottom(reservoirs.get(pair, []) + rows, RESERVOIR)
            search.update(merged)
            extras = None
        decision: dict[str, dict[str, float]] = {}
        summaries: dict[str, dict[str, Any]] = {}
        for pair, p in plan.items():
            found = search.found[pair]
            value = {name: found[r][0] for name, r in p["ranks"].items()}
            if p["kind"] == "max":
                threshold, removed = float(p["arg"]), above.get(pair, 0)
            else:
                threshold, at_or_below = found[p["ranks"]["threshold"]]
                removed = groups[pair]["scored"] - at_or_below
            decision[pair] = {
                "threshold": threshold,
                "head": value["head"],
                "middle": value["middle"],
            }
            summaries[pair] = {
                "threshold": threshold,
                "removed": int(removed),
                "bucket_edges": {"head": value["head"], "middle": value["middle"]},
                "percentiles": {
                    f"p{q:g}": _lerp(found[a][0], found[b][0], t)
                    for q, (a, b, t) in p["lerp"].items()
                },
                "histogram": np.asarray(histograms.get(pair, np.zeros(len(edges) - 1)), np.int64)
                .ravel()
                .tolist(),
            }
        summary = self._summary(collected.num_rows, pairs, groups, summaries, edges)
        summary["examples"] = self._examples(decision, reservoirs)
        summary["search"] = {"tasks": len(spans), "rounds": search.rounds + 1}
        summary["search"] |= {
            "scores_fetched": search.fetched,
            "largest_round": search.largest_round,
        }
        return decision, summary

    def histogram_edges(self, lo: float, hi: float) -> np.ndarray:
        """Edges of the report's histogram, shared by every group: log-spaced over the scores."""
        return _log_edges(lo, hi, self.config.histogram_bins)

    def _example_floor(self, pair: str, plan: dict, search: selection.RankSearch) -> float:
        """Example candidates at or above this score can be removed ones."""
        if plan["kind"] == "max":
            return float(plan["arg"])
        r = plan["ranks"]["threshold"]
        return min(w.lo for w in search.pending.values() if w.key == pair and r in w.ranks)

    def _summary(
        self,
        documents: int,
        pairs: list[str],
        groups: dict[str, dict[str, Any]],
        cuts: dict[str, dict[str, Any]],
        edges: np.ndarray,
    ) -> dict[str, Any]:
        entries: dict[str, dict[str, Any]] = {}
        totals = {"documents": int(documents), "scored": 0, "removed": 0}
        totals |= {"unscored_no_model": 0, "unscored_skip": 0, "unscored_empty": 0}
        for pair in pairs:
            lang, dom = pair.split("/", 1)
            g = groups[pair]
            kind, arg = self.rule(lang, dom)
            model = self.model_key(lang, dom)
            entry: dict[str, Any] = {
                "language": lang,
                "domain": dom,
                "model": self.config.models.get(model) if model else None,
                "rule": _describe(kind, arg) if model else "no model",
                "documents": int(g["documents"]),
                "scored": int(g["scored"]),
            }
            if model is None or kind == "skip":
                why = "unscored_no_model" if model is None else "unscored_skip"
                totals[why] += g["documents"]
                entry["removed"] = 0
                entries[pair] = entry
                continue
            totals["unscored_empty"] += int(g["documents"] - g["scored"])
            totals["scored"] += int(g["scored"])
            if pair in cuts:
                entry |= cuts[pair]
                entry["removal_rate"] = round(cuts[pair]["removed"] / g["documents"], 4)
                totals["removed"] += cuts[pair]["removed"]
            else:
                entry["removed"] = 0
            entries[pair] = entry
        return {
            **totals,
            # significant digits, not decimals: a score below 0.0005 (the negatives model can
            # take the combined score there) rounded to 0.0 broke the report's log axis
            "histogram_edges": [float(f"{float(e):.6g}") for e in edges],
            "groups": entries,
            "by_domain": _rollup(entries, "domain"),
            "by_language": _rollup(entries, "language"),
        }

    def _examples(
        self, decision: dict[str, dict[str, float]], reservoirs: dict[str, list[tuple]]
    ) -> dict[str, list[dict[str, Any]]]:
        """Per domain, up to ``examples`` removed texts spread over their perplexity range,
        from the bottom-``RESERVOIR`` removed candidates by hash of their text."""
        by_domain: dict[str, list[tuple]] = {}
        for pair, rows in reservoirs.items():
            threshold = decision[pair]["threshold"]
            lang, dom = pair.split("/", 1)
            mine = [(h, pp, text, lang, threshold) for h, pp, text in rows if pp > threshold]
            by_domain.setdefault(dom, []).extend(mine)
        out: dict[str, list[dict[str, Any]]] = {}
        for dom in sorted(by_domain):
            rows = sorted(_bottom(by_domain[dom], RESERVOIR), key=lambda r: r[1])
            if not rows or not self.config.examples:
                continue
            picks = np.unique(np.linspace(0, len(rows) - 1, self.config.examples).round())
            out[dom] = [
                {
                    "language": rows[int(i)][3],
                    "perplexity": round(float(rows[int(i)][1]), self.example_digits),
                    "threshold": round(float(rows[int(i)][4]), self.example_digits),
                    "text": rows[int(i)][2],
                }
                for i in picks
            ]
        return out

    # -- apply
    def apply(self, batch: pa.RecordBatch, decision: Any) -> Verdict:
        n = batch.num_rows
        language, domain = group_labels(batch)
        pairs = pc.binary_join_element_wise(language, domain, "/")
        keys = list(decision)
        where = pc.index_in(pairs, value_set=pa.array(keys, pa.string())).to_numpy(
            zero_copy_only=False
        )
        cuts = [[decision[k][c] for c in ("threshold", "head", "middle")] for k in keys]
        table = np.array(cuts + [[np.nan, np.nan, np.nan]], dtype=float)
        where = np.where(np.isnan(where.astype(float)), len(keys), where).astype(np.int64)
        threshold, head, middle = table[where].T
        pp = pc.fill_null(batch.column("perplexity"), np.nan).to_numpy(zero_copy_only=False)
        scored = ~np.isnan(pp) & ~np.isnan(threshold)
        bucket = np.where(pp <= head, "head", np.where(pp <= middle, "middle", "tail"))
        bucket_col = pa.array(bucket.astype(object), pa.string(), mask=~scored)
        removed = scored & (pp > threshold)
        reason = pa.array(np.where(removed, "perplexity_above_threshold", None), pa.string())
        if "perplexity_bucket" in batch.schema.names:  # a rerun over filtered output
            batch = batch.drop_columns(["perplexity_bucket"])
        batch = batch.append_column("perplexity_bucket", bucket_col)
        stats = {
            f"bucket_{b}": float(np.count_nonzero(scored & (bucket == b)))
            for b in ("head", "middle", "tail")
        }
        stats["unscored"] = float(n - np.count_nonzero(scored))
        extra = {"perplexity_threshold": pa.array(threshold, pa.float64(), mask=~removed)}
        return Verdict(batch, reason, extra, stats)


def _rollup(groups: dict[str, dict[str, Any]], by: str) -> dict[str, dict[str, Any]]:
    """Documents, scored and removed summed over groups sharing a domain (or a language)."""
    out: dict[str, dict[str, Any]] = {}
    for entry in groups.values():
        row = out.setdefault(entry[by], {"documents": 0, "scored": 0, "removed": 0})
        for key in row:
            row[key] += entry[key]
    for row in out.values():
        row["removal_rate"] = round(row["removed"] / row["documents"], 4) if row["documents"] else 0
    return dict(sorted(out.items()))


def _describe(kind: str, arg: float | None) -> str:
    if kind == "max":
        return f"max {arg:g}"
    if kind == "keep_below":
        return f"keep_below p{arg:g}"
    return "skip"


def _log_edges(lo: float, hi: float, bins: int) -> np.ndarray:
    """``bins`` log-spaced bins from the lowest to the highest score (shared by every group)."""
    if hi <= lo:
        hi = lo * 1.01 + 1e-9
    return np.geomspace(lo, hi, bins + 1)


def _nearest_rank(n: int, percent: float) -> int:
    """0-based rank of ``nearest_rank`` among ``n`` sorted values."""
    return max(1, math.ceil(percent / 100 * n)) - 1


def _linear_ranks(n: int, percent: float) -> tuple[int, int, float]:
    """The two ranks and the weight ``np.percentile`` (method linear) interpolates between."""
    virtual = (n - 1) * (percent / 100)
    below = min(max(math.floor(virtual), 0), n - 1)
    return below, min(below + 1, n - 1), virtual - math.floor(virtual)


def _lerp(a: float, b: float, t: float) -> float:
    """numpy's ``_lerp``, float for float, so percentiles equal ``np.percentile``'s."""
    diff = b - a
    return float(b - diff * (1 - t)) if t >= 0.5 else float(a + diff * t)


def _groups_of(
    table: pa.Table, column: str = "perplexity"
) -> tuple[list[str], list[np.ndarray], np.ndarray]:
    """(group names "lang/domain", row indices of each, the score with NaN for null)."""
    language, domain = group_labels(table)
    encoded = pc.dictionary_encode(pc.binary_join_element_wise(language, domain, "/"))
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(encoded.dictionary) + 1))
    rows = [order[bounds[i] : bounds[i + 1]] for i in range(len(encoded.dictionary))]
    pp = pc.fill_null(table.column(column), np.nan).to_numpy(zero_copy_only=False)
    return encoded.dictionary.to_pylist(), rows, np.asarray(pp, np.float64)


def _scan(
    collected: Any, span: tuple[int, int], column: str = "perplexity"
) -> dict[str, dict[str, Any]]:
    """Reduce task, round 1: per group, documents, scores and their histogram on the fine grid."""
    table = selection.read_span(collected, ["language", "domain", column], span)
    out = {}
    names, rows, pp = _groups_of(table, column)
    for pair, mine in zip(names, rows):
        ok = pp[mine]
        ok = ok[~np.isnan(ok)]
        bins, counts = np.unique(selection.fine_bins(ok), return_counts=True)
        out[pair] = {
            "first": span[0] + int(mine.min()),
            "documents": len(mine),
            "scored": len(ok),
            "bins": bins,
            "bin_counts": counts,
            "min": float(ok.min()) if len(ok) else np.inf,
            "max": float(ok.max()) if len(ok) else -np.inf,
        }
    return out


def _merge_scan(groups: dict[str, dict[str, Any]], pair: str, part: dict[str, Any]) -> None:
    g = groups.setdefault(
        pair,
        {
            "first": part["first"],
            "documents": 0,
            "scored": 0,
            "counts": np.zeros(len(selection.FINE_EDGES) - 1, np.int64),
            "min": np.inf,
            "max": -np.inf,
        },
    )
    g["first"] = min(g["first"], part["first"])
    g["documents"] += part["documents"]
    g["scored"] += part["scored"]
    np.add.at(g["counts"], part["bins"], part["bin_counts"])
    g["min"], g["max"] = min(g["min"], part["min"]), max(g["max"], part["max"])


def _refine(
    collected: Any,
    request: dict[str, list],
    extras: dict[str, Any] | None,
    span: tuple[int, int],
    column: str = "perplexity",
) -> dict[str, Any]:
    """Reduce task, later rounds: the scores inside the requested windows (or their split
    counts); in the first of them also the report histogram per group, the rows above a fixed
    threshold and the example candidates at or above each group's floor."""
    columns = ["language", "domain", column]
    if extras and extras["reservoir"]:
        columns.append("example")
    table = selection.read_span(collected, columns, span)
    names, rows, pp = _groups_of(table, column)
    out: dict[str, Any] = {"windows": {}}
    if extras:
        out |= {"histograms": {}, "above": {}, "examples": {}}
    example = table.column("example") if "example" in columns else None
    for pair, mine in zip(names, rows):
        values = pp[mine]
        if pair in request:
            out["windows"] |= selection.window_parts(values, request[pair])
        if not extras or pair not in extras["floor"]:
            continue
        ok = values[~np.isnan(values)]
        out["histograms"][pair] = np.histogram(ok, bins=extras["edges"])[0]
        if pair in extras["above"]:
            out["above"][pair] = int(np.count_nonzero(ok > extras["above"][pair]))
        if example is not None:
            hit = mine[(values >= extras["floor"][pair])]
            texts = example.take(pa.array(hit)).to_pylist()
            cands = [
                (xxh3_64_intdigest(t.encode("utf-8")), float(pp[r]), t)
                for r, t in zip(hit, texts)
                if t is not None
            ]
            out["examples"][pair] = _bottom(cands, extras["reservoir"])
    return out


def _bottom(rows: list[tuple], k: int) -> list[tuple]:
    """The ``k`` rows with the lowest (hash, perplexity, text): a sample that does not depend
    on how rows were split into tasks."""
    return sorted(rows, key=lambda r: r[:3])[:k]
