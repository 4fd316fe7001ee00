"""quality_classifier: a fastText model scores each document; a threshold per group decides.

Annotate: ``quality_score`` is the model's probability of ``label`` (``hq``) for the document's
first ``max_chars`` characters, read as ``curate classifier train`` trained it
(``curate.fasttext_model.classifier_features``). DCLM's filter (Li et al. 2024) is the same idea:
a fastText model trained on reference text against a random crawl sample, keeping the top-scored
pages; its ``hq`` model can be given as ``model`` (its text features differ: expect some loss).

Decide (global, exact): for each (language, domain) group the rule is looked up as
``thresholds["en/code"]``, ``["code"]``, ``["en"]``, then ``["default"]``, and is one of

* ``{min: 0.5}``: rows scoring below 0.5 go;
* ``{keep_above: p10}``: the nearest-rank 10th percentile of this corpus's scores in the group;
  rows scoring below it go (about the lowest 10%; DCLM keeps its top 10%, ``keep_above: p90``);
* ``{skip: true}``: not scored.

The barrier is ``perplexity_filter``'s (``curate.selection``: exact percentiles without one
process holding the scores, per-group histograms, removed examples). It thresholds a score where
higher is worse, so the collected column is ``quality_reject = 1 - quality_score`` and every cut is
turned back into ``quality_score`` units for the decision's summary; ``apply`` computes the same
float64 ``1 - quality_score``, so the cut falls exactly where the percentile search put it.
Removed rows carry ``quality_threshold``; rows with no text keep a null score and stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.stages.base import Verdict, register
from curate.stages.perplexity_filter import PerplexityFilter, group_labels, percentile

REJECT = "quality_reject"  # collected column: 1 - quality_score (higher is worse)
MODEL_KEY = "quality"
FLOOR = 1e-9  # the smallest reject score (a quality_score of 1.0 ties with 1 - 1e-9)


@dataclass
class QualityClassifierConfig:
    model: str = ""  # fastText model from `curate classifier train --positive --negative`
    label: str = "hq"  # the model's label for good text (DCLM's model: hq)
    # "default", a language, a domain or "en/code" -> {min: 0.5} | {keep_above: p10} | {skip: true}
    thresholds: dict[str, dict[str, Any]] = field(
        default_factory=lambda: {"default": {"keep_above": "p10"}}
    )
    max_chars: int = 2000  # prefix the model reads (`curate classifier train --max-chars`)
    histogram_bins: int = 30
    examples: int = 3  # removed texts shown per domain in the report (0: none)
    # perplexity_filter's barrier also finds CCNet-style bucket edges; unused here
    buckets: ClassVar[tuple[str, str]] = ("p30", "p60")

    @property
    def models(self) -> dict[str, str]:
        return {MODEL_KEY: self.model}

    def validate(self) -> None:
        if not self.model:
            raise ValueError(
                "model: give a fastText model, e.g. models/quality.bin (`curate classifier "
                "train --positive GOOD --negative CRAWL --out models/quality.bin`)"
            )
        if not Path(self.model).is_file():
            raise ValueError(
                f"model: {self.model} not found (train one with `curate classifier train "
                f"--positive GOOD --negative CRAWL --out {self.model}`, or `make models`)"
            )
        from curate.errors import CurateError
        from curate.fasttext_model import FastTextModel

        try:
            labels = FastTextModel(self.model).labels
        except CurateError as exc:
            raise ValueError(f"model: {exc}") from None
        if self.label not in labels:
            raise ValueError(
                f"label: '{self.label}' is not a label of {self.model} (labels: "
                f"{', '.join(labels)}); a quality model from `curate classifier train "
                "--positive ... --negative ...` has hq and lq"
            )
        for key, rule in self.thresholds.items():
            parse_rule(rule, f"thresholds.{key}")
        if self.max_chars < 1:
            raise ValueError("max_chars: must be positive")
        if self.histogram_bins < 1:
            raise ValueError("histogram_bins: must be positive")
        if self.examples < 0:
            raise ValueError("examples: must be 0 or more")


def parse_rule(rule: Any, where: str) -> tuple[str, float | None]:
    """("min", score) | ("keep_above", percent) | ("skip", None) from a YAML rule."""
    if not isinstance(rule, dict) or len(rule) != 1:
        raise ValueError(
            f"{where}: expected one of {{min: 0.5}}, {{keep_above: p10}}, {{skip: true}}"
        )
    ((kind, value), *_) = rule.items()
    if kind == "min":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1:
            raise ValueError(f"{where}.min: expected a probability in (0, 1], got {value!r}")
        return "min", float(value)
    if kind == "keep_above":
        pct = percentile(value, f"{where}.keep_above")
        if pct >= 100:
            raise ValueError(f"{where}.keep_above: p100 would remove every document")
        return "keep_above", pct
    if kind == "skip":
        if value is not True:
            raise ValueError(f"{where}.skip: only 'skip: true' makes sense")
        return "skip", None
    raise ValueError(f"{where}: unknown rule '{kind}'; valid: min, keep_above, skip")


@register
class QualityClassifier(PerplexityFilter):
    """perplexity_filter's barrier on ``1 - quality_score``; its own config, scoring and apply."""

    name = "quality_classifier"
    extra = "lid"  # the fastText binding
    Config = QualityClassifierConfig
    kind = "global"
    adds_columns = ("quality_score",)
    score_column = REJECT
    example_digits = 4

    def __init__(self, config: QualityClassifierConfig) -> None:
        super().__init__(config)  # type: ignore[arg-type]
        self._model: Any = None

    def load(self) -> Any:
        """The model, once per worker."""
        if self._model is None:
            from curate.fasttext_model import FastTextModel

            self._model = FastTextModel(self.config.model)
        return self._model

    # -- lookups (perplexity_filter's barrier asks these)
    def model_key(self, language: str, domain: str) -> str | None:
        return MODEL_KEY

    def rule(self, language: str, domain: str) -> tuple[str, float | None]:
        """The group's rule in the barrier's terms, on ``1 - quality_score``."""
        for key in (f"{language}/{domain}", domain, language, "default"):
            if key in self.config.thresholds:
                kind, arg = parse_rule(self.config.thresholds[key], f"thresholds.{key}")
                break
        else:
            return "keep_below", 100.0  # no rule: score, keep everything
        if kind == "min":
            return "max", 1.0 - float(arg)  # type: ignore[arg-type]
        if kind == "keep_above":
            return "keep_below", 100.0 - float(arg)  # type: ignore[arg-type]
        return "skip", None

    # -- annotate + collect
    def annotate(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        from curate.fasttext_model import classifier_features

        language, domain = group_labels(batch)
        pairs = pc.dictionary_encode(pc.binary_join_element_wise(language, domain, "/"))
        codes = pairs.indices.to_numpy()
        wanted = np.zeros(batch.num_rows, bool)
        for code, pair in enumerate(pairs.dictionary.to_pylist()):
            if self.rule(*pair.split("/", 1))[0] != "skip":
                wanted |= codes == code
        score = np.full(batch.num_rows, np.nan, np.float32)
        rows = np.flatnonzero(wanted)
        if len(rows):
            text = batch.column("text").take(pa.array(rows))
            lines = classifier_features(text, self.config.max_chars)
            score[rows] = self.load().probability(lines, self.config.label)
        if "quality_score" in batch.schema.names:  # a rerun over scored output rescores
            batch = batch.drop_columns(["quality_score"])
        return batch.append_column(
            "quality_score", pa.array(score, pa.float32(), mask=np.isnan(score))
        )

    def collect(self, batch: pa.RecordBatch) -> pa.Table:
        language, domain = group_labels(batch)
        reject = _reject(batch)
        return pa.table(
            {
                "language": language,
                "domain": domain,
                REJECT: reject,
                "example": self._example_candidates(batch, language, domain, reject),
            }
        )

    def histogram_edges(self, lo: float, hi: float) -> np.ndarray:
        """Equal-width bins of ``quality_score`` over [0, 1] (here on ``1 - quality_score``)."""
        return np.linspace(0.0, 1.0, self.config.histogram_bins + 1)

    # -- decide: perplexity_filter's barrier, its summary turned into quality_score units
    def barrier(self, collected: Any, run: Any) -> tuple[Any, dict[str, Any]]:
        decision, summary = super().barrier(collected, run)
        return decision, _in_score_units(summary)

    # -- apply
    def apply(self, batch: pa.RecordBatch, decision: Any) -> Verdict:
        n = batch.num_rows
        language, domain = group_labels(batch)
        pairs = pc.binary_join_element_wise(language, domain, "/")
        keys = list(decision)
        where = pc.index_in(pairs, value_set=pa.array(keys, pa.string()))
        where = pc.fill_null(where, len(keys)).to_numpy(zero_copy_only=False)
        cut = np.array([decision[k]["threshold"] for k in keys] + [np.nan])[where]
        reject = pc.fill_null(_reject(batch), np.nan).to_numpy(zero_copy_only=False)
        scored = ~np.isnan(reject) & ~np.isnan(cut)
        removed = scored & (reject > cut)
        reason = pa.array(np.where(removed, "quality_score_below_threshold", None), pa.string())
        extra = {"quality_threshold": pa.array(1.0 - cut, pa.float64(), mask=~removed)}
        return Verdict(batch, reason, extra, {"unscored": float(n - np.count_nonzero(scored))})


def _reject(batch: pa.RecordBatch) -> pa.Array:
    """``1 - quality_score`` in float64, the same floats in collect and apply; at least
    ``FLOOR`` (the barrier's histogram is on a log scale, and fastText can say 1.0)."""
    score = pc.cast(batch.column("quality_score"), pa.float64())
    return pc.max_element_wise(pc.subtract(pa.scalar(1.0), score), pa.scalar(FLOOR))


def _in_score_units(summary: dict[str, Any]) -> dict[str, Any]:
    """perplexity_filter's summary, on ``1 - quality_score``, in ``quality_score`` terms."""
    for g in summary.get("groups", {}).values():
        g["rule"] = _rule_text(g.get("rule"))
        g.pop("bucket_edges", None)
        if "threshold" in g:
            g["threshold"] = 1.0 - g["threshold"]  # rows scoring below it go
        if "percentiles" in g:
            g["percentiles"] = {
                f"p{100 - float(k[1:]):g}": 1.0 - v for k, v in reversed(g["percentiles"].items())
            }
        if "histogram" in g:
            g["histogram"] = g["histogram"][::-1]
    edges = summary.get("histogram_edges")
    if edges:
        summary["histogram_edges"] = [round(1.0 - e, 4) for e in reversed(edges)]
    for rows in summary.get("examples", {}).values():
        for row in rows:
            row["quality_score"] = round(1.0 - row.pop("perplexity"), 4)
            row["threshold"] = round(1.0 - row["threshold"], 4)
    return summary


def _rule_text(rule: str | None) -> str | None:
    """perplexity_filter's rule text on the reject score -> the YAML rule on quality_score."""
    if not rule or rule in ("skip", "no model"):
        return rule
    kind, arg = rule.split(" ", 1)
    if kind == "max":
        return f"min {1.0 - float(arg):g}"
    return f"keep_above p{100 - float(arg[1:]):g}"
