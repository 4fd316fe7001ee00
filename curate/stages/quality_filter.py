"""quality_filter: datatrove's heuristic filters (Gopher, C4, FineWeb) run on our batches.

We reuse datatrove's well-kept filters instead of rewriting them: a small adapter wraps each row
in a datatrove ``Document``, calls the filter's ``filter_batch`` and turns the answers into a
verdict. Rules run in the order given; a document dropped by one rule is not seen by the next,
and a rule that edits text (C4 drops lines) passes the edited text on, as in a datatrove pipeline.

These heuristics were written for English; rows whose ``language`` is not in ``languages`` pass
through untouched and are counted as ``skipped_language``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from curate.errors import did_you_mean
from curate.stages.base import Stage, Verdict, register

# YAML rule name -> datatrove class name (datatrove.pipeline.filters)
RULES = {
    "gopher_quality": "GopherQualityFilter",
    "gopher_repetition": "GopherRepetitionFilter",
    "c4_quality": "C4QualityFilter",
    "fineweb_quality": "FineWebQualityFilter",
}


@dataclass
class QualityFilterConfig:
    rules: list[str] = field(default_factory=lambda: ["gopher_repetition", "gopher_quality"])
    languages: list[str] = field(default_factory=lambda: ["en"])  # rules are English heuristics
    params: dict[str, dict[str, Any]] = field(default_factory=dict)  # per rule, datatrove kwargs

    def validate(self) -> None:
        if not self.rules:
            raise ValueError("rules: give at least one of " + ", ".join(RULES))
        for rule in self.rules:
            if rule not in RULES:
                raise ValueError(
                    f"rules: unknown rule '{rule}'{did_you_mean(rule, RULES)}; "
                    f"valid: {', '.join(RULES)}"
                )
        for rule, kwargs in self.params.items():
            if rule not in self.rules:
                raise ValueError(
                    f"params.{rule}: not one of the rules in use ({', '.join(self.rules)})"
                    f"{did_you_mean(rule, self.rules)}"
                )
            allowed = _datatrove_params(rule)
            for key in kwargs or {}:
                if key not in allowed:
                    raise ValueError(
                        f"params.{rule}: unknown parameter '{key}'{did_you_mean(key, allowed)}; "
                        f"valid: {', '.join(allowed)}"
                    )


def _datatrove_class(rule: str) -> type:
    from datatrove.pipeline import filters

    return getattr(filters, RULES[rule])


def _datatrove_params(rule: str) -> list[str]:
    sig = inspect.signature(_datatrove_class(rule).__init__)
    return [p for p in sig.parameters if p not in ("self", "exclusion_writer", "language")]


@register
class QualityFilter(Stage):
    name = "quality_filter"
    Config = QualityFilterConfig
    kind = "streaming"

    def __init__(self, config: QualityFilterConfig) -> None:
        super().__init__(config)
        self._filters: list[tuple[str, Any]] | None = None

    def _load(self) -> list[tuple[str, Any]]:
        if self._filters is None:
            self._filters = [
                (rule, _datatrove_class(rule)(**(self.config.params.get(rule) or {})))
                for rule in self.config.rules
            ]
        return self._filters

    def process(self, batch: pa.RecordBatch) -> Verdict:
        from datatrove.data import Document

        n = batch.num_rows
        texts = batch.column("text").to_pylist()
        ids = batch.column("id").to_pylist()
        if "language" in batch.schema.names:
            in_scope = pc.fill_null(
                pc.is_in(batch.column("language"), pa.array(self.config.languages)), False
            ).to_pylist()
        else:
            in_scope = [True] * n  # no language column: assume the rules' language
        reasons: list[str | None] = [None] * n
        docs = {
            i: Document(text=texts[i], id=str(ids[i]), metadata={}) for i in range(n) if in_scope[i]
        }
        filters = self._load()
        # Document-major order: datatrove memoises word splitting of the last few texts
        # (lru_cache on split_into_parts), so the second rule reuses the first's tokens.
        for i, doc in docs.items():
            for rule, flt in filters:
                answer = flt.filter(doc)
                keep, why = answer if isinstance(answer, tuple) else (answer, None)
                if not keep:
                    reasons[i] = f"{rule}:{why or 'filtered'}"
                    break
        alive = [i for i in docs if reasons[i] is None]
        edited = 0
        chars_removed = 0
        new_texts = list(texts)
        for i in alive:
            if docs[i].text != texts[i]:
                edited += 1
                chars_removed += len(texts[i]) - len(docs[i].text)
                new_texts[i] = docs[i].text
        if edited:
            batch = batch.set_column(
                batch.schema.get_field_index("text"), "text", pa.array(new_texts, pa.string())
            )
        stats = {
            "skipped_language": n - sum(in_scope),
            "docs_edited": edited,
            "chars_removed_by_edits": chars_removed,
        }
        return Verdict(batch, pa.array(reasons, pa.string()), stats=stats)
