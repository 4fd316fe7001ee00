"""perplexity_filter: KenLM perplexity per document, thresholds per language and domain.

Annotate: every row whose (language, domain) has a model is scored (``curate.lm.score``) into
three columns: ``perplexity_ccnet``, CCNet's document perplexity; ``line_end_surprisal``, the mean
over the document's lines of ``-log10 p(</s>)`` after each line's last words (high for text cut
off mid-sentence, which an n-gram model otherwise barely notices); and ``perplexity``, the score
the decision thresholds: ``perplexity_ccnet * 10 ** (line_end_weight * line_end_surprisal)``
(``line_end_weight: 0`` makes it CCNet's exactly). A model is looked up as ``models["en/code"]``,
then ``models["en"]``. Rows with no model, no text or a ``skip`` rule keep null scores and pass
through, counted as such.

Decide (global, exact): for each (language, domain) group the rule is looked up as
``thresholds["en/code"]``, ``["code"]``, ``["en"]``, then ``["default"]``, and is one of

* ``{max: 800}``: an absolute threshold (data-juicer's style, one per group here);
* ``{keep_below: p70}``: the nearest-rank 70th percentile of this corpus's own scores in the group,
  so the lowest-perplexity 70% stay (CCNet sets its head/middle/tail cuts the same way);
* ``{skip: true}``: not scored at all (code is often left alone).

Rows with ``perplexity > threshold`` go; they carry ``perplexity_threshold``. Every scored row
gets CCNet's ``perplexity_bucket``: ``head`` up to the group's p30, ``middle`` up to p60, ``tail``
beyond (Wenzek et al. 2020, section 3.3; RedPajama-v2 keeps head + middle). Percentiles are exact:
the barrier sees every score (language, domain and score: about 20 bytes per document).

The summary (``decision`` in report.json) gives, per group: rule, threshold, bucket edges, counts
and a histogram of scores on 30 log-spaced bins shared by all groups (``histogram_edges``), for the
report to draw with the threshold; removal by domain and by language (``by_domain``,
``by_language``); and up to ``examples`` removed texts per domain (``examples``: first 200
characters, emails and long digit runs masked). Example candidates are the ``examples``
highest-perplexity rows of each group in each batch (collected with their masked prefix, so the
barrier holds a few strings per batch, not every text); the examples shown are removed ones,
spread over their range of perplexity.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.stages.base import Stage, Verdict, register

UNKNOWN = "unknown"  # label of a null language or domain
SCORE_COLUMNS = ("perplexity", "perplexity_ccnet", "line_end_surprisal")
PERCENTILE = re.compile(r"^p(\d+(\.\d+)?)$")
EXAMPLE_CHARS = 200
EMAIL = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+"
DIGIT_RUN = r"\+?\(?\d([\s().-]{0,2}\d){4,}"  # 5+ digits, maybe separated: phones, ids, cards


@dataclass
class PerplexityFilterConfig:
    # "en", "zh", or "en/code": KenLM model (ARPA, ARPA.gz or KenLM binary) per language/domain
    models: dict[str, str] = field(default_factory=dict)
    # same keys: SentencePiece .model or "none"; default <stem>.sp.model beside the model
    sentencepiece: dict[str, str] = field(default_factory=dict)
    # "default", a language, a domain or "en/code" -> {max: N} | {keep_below: pNN} | {skip: true}
    thresholds: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {"default": {"keep_below": "p90"}}
    )
    buckets: list[str] = field(default_factory=lambda: ["p30", "p60"])  # CCNet: head/middle/tail
    histogram_bins: int = 30
    examples: int = 3  # removed texts shown per domain in the report (0: none)
    # weight of line-end surprisal in `perplexity` (0: CCNet's perplexity alone). 0.5: the
    # largest weight whose AUC on the sample corpus's en/web pages stays at CCNet's (0.974 vs
    # 0.973); 1.0 is better on bench_perplexity_heldout's DEV split, worse on typo'd pages
    line_end_weight: float = 0.5

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
        weight = self.line_end_weight
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight >= 0:
            raise ValueError(f"line_end_weight: expected a number >= 0, got {weight!r}")


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
    k = max(1, math.ceil(percent / 100 * len(sorted_values)))
    return float(sorted_values[k - 1])


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
    Config = PerplexityFilterConfig
    kind = "global"
    adds_columns = ("perplexity", "perplexity_ccnet", "line_end_surprisal", "perplexity_bucket")

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
                self.config.models[key], self.config.sentencepiece.get(key)
            )
        return self._scorers[key]

    # -- annotate + collect
    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        language, domain = group_labels(batch)
        scores = {name: np.full(batch.num_rows, np.nan) for name in SCORE_COLUMNS}
        weight = float(self.config.line_end_weight)
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
            scores["perplexity"][rows] = result.combined(weight)
            scores["perplexity_ccnet"][rows] = result.perplexity
            if result.line_end_surprisal is not None:
                scores["line_end_surprisal"][rows] = result.line_end_surprisal
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
        if collected.num_rows == 0:
            return {}, {"documents": 0, "groups": {}}
        language, domain = group_labels(collected)
        pp = pc.fill_null(collected.column("perplexity"), np.nan).to_numpy()
        pairs = pc.binary_join_element_wise(language, domain, "/")
        encoded = pc.dictionary_encode(pairs)
        codes = encoded.indices.to_numpy()
        scored = pp[~np.isnan(pp)]
        edges = _log_edges(scored, self.config.histogram_bins)
        lo, hi = (percentile(b, "buckets") for b in self.config.buckets)
        decision: dict[str, tuple[float | None, float, float]] = {}
        groups: dict[str, dict[str, Any]] = {}
        totals = {"documents": int(collected.num_rows), "scored": 0, "removed": 0}
        totals |= {"unscored_no_model": 0, "unscored_skip": 0, "unscored_empty": 0}
        for code, pair in enumerate(encoded.dictionary.to_pylist()):
            lang, dom = pair.split("/", 1)
            values = pp[codes == code]
            ok = np.sort(values[~np.isnan(values)])
            kind, arg = self.rule(lang, dom)
            model = self.model_key(lang, dom)
            entry: dict[str, Any] = {
                "language": lang,
                "domain": dom,
                "model": self.config.models.get(model) if model else None,
                "rule": _describe(kind, arg) if model else "no model",
                "documents": int(len(values)),
                "scored": int(len(ok)),
            }
            if model is None or kind == "skip":
                why = "unscored_no_model" if model is None else "unscored_skip"
                totals[why] += len(values)
                entry["removed"] = 0
                groups[pair] = entry
                continue
            totals["unscored_empty"] += int(len(values) - len(ok))
            totals["scored"] += int(len(ok))
            if len(ok):
                decision[pair], cut = _cut(ok, kind, arg, lo, hi, edges)
                entry |= cut
                entry["removal_rate"] = round(cut["removed"] / len(values), 4)
                totals["removed"] += cut["removed"]
            else:
                entry["removed"] = 0
            groups[pair] = entry
        summary = {
            **totals,
            "histogram_edges": [round(float(e), 3) for e in edges],
            "groups": groups,
            "by_domain": _rollup(groups, "domain"),
            "by_language": _rollup(groups, "language"),
            "examples": self._examples(collected, decision, pairs, pp),
        }
        return decision, summary

    def _examples(
        self, collected: pa.Table, decision: dict, pairs: pa.Array, pp: np.ndarray
    ) -> dict[str, list[dict[str, Any]]]:
        """Per domain, up to ``examples`` removed texts spread over their perplexity range."""
        if "example" not in collected.column_names or not decision:
            return {}
        threshold = np.array(
            [decision.get(p, (np.inf,))[0] for p in pairs.to_pylist()], dtype=float
        )
        text = collected.column("example").combine_chunks()
        rows = np.flatnonzero(pc.is_valid(text).to_numpy(zero_copy_only=False) & (pp > threshold))
        out: dict[str, list[dict[str, Any]]] = {}
        pair_list = pairs.to_pylist()
        for domain in sorted({pair_list[r].split("/", 1)[1] for r in rows}):
            mine = [r for r in rows if pair_list[r].split("/", 1)[1] == domain]
            mine.sort(key=lambda r: pp[r])
            picks = np.unique(np.linspace(0, len(mine) - 1, self.config.examples).round())
            out[domain] = [
                {
                    "language": pair_list[mine[int(i)]].split("/", 1)[0],
                    "perplexity": round(float(pp[mine[int(i)]]), 1),
                    "threshold": round(float(threshold[mine[int(i)]]), 1),
                    "text": text[int(mine[int(i)])].as_py(),
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
        table = np.array([decision[k] for k in keys] + [(np.nan, np.nan, np.nan)], dtype=float)
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


def _cut(
    ok: np.ndarray, kind: str, arg: Any, lo: float, hi: float, edges: np.ndarray
) -> tuple[tuple[float, float, float], dict[str, Any]]:
    """One group's (threshold, head edge, middle edge) and its summary, from its sorted scores."""
    threshold = float(arg) if kind == "max" else nearest_rank(ok, float(arg))
    head, middle = nearest_rank(ok, lo), nearest_rank(ok, hi)
    summary = {
        "threshold": threshold,
        "removed": int(np.count_nonzero(ok > threshold)),
        "bucket_edges": {"head": head, "middle": middle},
        "percentiles": {f"p{p}": float(np.percentile(ok, p)) for p in (10, 30, 50, 60, 70, 90)},
        "histogram": np.histogram(ok, bins=edges)[0].tolist(),
    }
    return (threshold, head, middle), summary


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


def _log_edges(values: np.ndarray, bins: int) -> np.ndarray:
    """``bins`` log-spaced bins spanning all scores (shared by every group's histogram)."""
    if len(values) == 0:
        return np.zeros(0)
    lo, hi = float(values.min()), float(values.max())
    if hi <= lo:
        hi = lo * 1.01 + 1e-9
    return np.geomspace(lo, hi, bins + 1)
