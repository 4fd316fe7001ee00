"""decontaminate: remove documents that share a word n-gram with an evaluation set.

GPT-3 (Brown et al. 2020, appendix C) and datatrove's ``decont`` flag a training document that
shares a 13-gram with a benchmark. Here the n-grams are ``minhash_dedup``'s shingles
(``curate.minhash``: NFKC, lowercase, punctuation and symbols dropped, each CJK character a token
of its own) hashed by the same 64-bit shingle hash, so an n-gram here is the one MinHash sees.

Evaluation sets are Parquet or JSONL files; ``fields`` names the text columns (each field of
each row is its own text: an n-gram does not run from a question into its answer). Their n-gram
hashes are held as one sorted ``uint64`` array with a parallel ``uint16`` array naming the set:
10 bytes per distinct n-gram (a benchmark of 10,000 items of 100 words: ~9 million n-grams,
~90 MB), loaded once per worker. A document is looked up with one ``searchsorted`` over all its
shingles; a false hit needs a 64-bit hash collision (~n-grams / 2^64 per shingle).

A removed document goes as ``eval_overlap:<set>`` and carries ``contaminated_by``: the first
evaluation set it shares an n-gram with (by file stem, in the order given), so the report counts
removals per evaluation set. A
text shorter than ``ngram`` tokens is one shingle of all its tokens, so a short evaluation item
is matched only by a document that is exactly it (after normalisation).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from curate.errors import CurateError
from curate.minhash import shingle_hashes, tokens
from curate.stages.base import Stage, Verdict, register


@dataclass
class DecontaminateConfig:
    eval_sets: list[str] = field(default_factory=list)  # Parquet or JSONL files
    fields: list[str] = field(default_factory=lambda: ["question", "answer"])
    ngram: int = 13  # GPT-3, datatrove

    def validate(self) -> None:
        if not self.eval_sets:
            raise ValueError("eval_sets: give at least one Parquet or JSONL file")
        if not self.fields:
            raise ValueError("fields: name at least one text field of the evaluation sets")
        if self.ngram < 1:
            raise ValueError("ngram: must be 1 or more")
        if len(self.eval_sets) >= 1 << 16:
            raise ValueError("eval_sets: at most 65,535 files")
        for path in self.eval_sets:
            try:
                read_eval_texts(path, self.fields)  # a missing file or field is named now
            except CurateError as exc:
                raise ValueError(str(exc)) from None


def read_eval_texts(path: str, fields: list[str]) -> list[str]:
    """Every non-empty value of ``fields`` in one evaluation file (Parquet or JSONL)."""
    p = Path(path)
    if not p.is_file():
        raise CurateError(f"eval_sets: {path}: no such file")
    if p.suffix == ".parquet":
        try:
            names = pq.read_schema(p).names
        except (pa.ArrowException, OSError) as exc:
            raise CurateError(f"eval_sets: {path}: cannot read Parquet: {exc}") from None
        for f in fields:
            if f not in names:
                raise CurateError(f"eval_sets: {path}: no field '{f}' (fields: {names})")
        table = pq.read_table(p, columns=fields)
        rows = [dict(zip(fields, vals)) for vals in zip(*(table[f].to_pylist() for f in fields))]
    elif p.suffix in (".jsonl", ".json"):
        rows = []
        with open(p, encoding="utf-8") as fh:
            for i, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise CurateError(f"eval_sets: {path}: line {i}: not JSON ({exc})") from None
                if not isinstance(row, dict):
                    raise CurateError(f"eval_sets: {path}: line {i}: not a JSON object")
                missing = [f for f in fields if f not in row]
                if missing:
                    raise CurateError(
                        f"eval_sets: {path}: line {i}: no field '{missing[0]}' "
                        f"(fields: {sorted(row)})"
                    )
                rows.append(row)
    else:
        raise CurateError(f"eval_sets: {path}: expected a .parquet or .jsonl file")
    texts = [_text(row[f]) for row in rows for f in fields]
    texts = [t for t in texts if t and t.strip()]
    if not texts:
        raise CurateError(f"eval_sets: {path}: no text in fields {fields}")
    return texts


def _text(value: object) -> str:
    """A field's text: strings as they are, lists (answer choices) joined by newlines."""
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(_text(v) for v in value)
    return str(value)


def ngram_hashes(texts: pa.Array, ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """(64-bit shingle hashes, shingles per text): minhash_dedup's shingles, unmasked."""
    return shingle_hashes(tokens(texts), ngram, bits=64)


def build_index(eval_sets: list[str], fields: list[str], ngram: int) -> tuple[np.ndarray, ...]:
    """(sorted distinct hashes, the first evaluation set holding each, n-grams per set)."""
    hashes, owners, per_set = [], [], []
    for i, path in enumerate(eval_sets):
        h, _ = ngram_hashes(pa.array(read_eval_texts(path, fields), pa.string()), ngram)
        h = np.unique(np.sort(h))
        hashes.append(h)
        owners.append(np.full(len(h), i, np.uint16))
        per_set.append(len(h))
    h = np.concatenate(hashes)
    o = np.concatenate(owners)
    order = np.lexsort((o, h))  # by hash, then set: the first set wins a shared n-gram
    h, o = h[order], o[order]
    first = np.concatenate([[True], h[1:] != h[:-1]]) if len(h) else np.zeros(0, bool)
    return h[first], o[first], np.array(per_set)


@register
class Decontaminate(Stage):
    name = "decontaminate"
    Config = DecontaminateConfig
    kind = "streaming"

    def __init__(self, config: DecontaminateConfig) -> None:
        super().__init__(config)
        self._index: tuple[np.ndarray, ...] | None = None
        self.names = [Path(p).stem for p in config.eval_sets]

    def index(self) -> tuple[np.ndarray, ...]:
        if self._index is None:  # once per worker
            self._index = build_index(self.config.eval_sets, self.config.fields, self.config.ngram)
        return self._index

    def process(self, batch: pa.RecordBatch) -> Verdict:
        table, owner, _ = self.index()
        n = batch.num_rows
        h, n_sh = ngram_hashes(batch.column("text"), self.config.ngram)
        at = np.searchsorted(table, h)
        at[at == len(table)] = 0
        hit = table[at] == h if len(table) else np.zeros(len(h), bool)
        doc = np.repeat(np.arange(n), n_sh)
        # per document, the lowest-numbered evaluation set among its hits
        best = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(best, doc[hit], owner[at[hit]].astype(np.int64))
        removed = best != np.iinfo(np.int64).max
        names = np.array(self.names, dtype=object)
        by = np.full(n, None, dtype=object)
        by[removed] = names[best[removed]]
        reason = np.full(n, None, dtype=object)
        reason[removed] = [f"eval_overlap:{name}" for name in by[removed]]
        stats = {"shingles_hit": float(np.count_nonzero(hit))}
        extra = {"contaminated_by": pa.array(by, pa.string())}
        return Verdict(batch, pa.array(reason, pa.string()), extra, stats)
