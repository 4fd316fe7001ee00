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

``mode: span`` cuts instead of removing, GPT-3's procedure (appendix C; the values of
lm-evaluation-harness's ``janitor.py``, which reproduces it): each matching n-gram is cut out
with ``margin`` (200) characters on either side, overlapping cuts merged into one span; the
document falls into the pieces between spans, pieces under ``min_piece_chars`` (200) go, and the
rest are joined by a newline. A document cut into more than ``max_pieces`` (10) pieces, or with
no piece left, is removed whole (``eval_overlap:<set>``). The spans are found again, with
character offsets, only in documents the batch lookup flagged: their tokens are rebuilt
character by character (each character NFKC-normalised and lowercased alone, classified by the
same Unicode classes as ``curate.minhash.normalize``) and hashed as above. A flagged document
whose spans are not found that way (NFKC composing across characters changed a token) is removed
whole and counted (``span_not_found``). Kept rows get ``contaminated_by`` (null for a clean row)
and ``eval_spans`` (spans cut); the counters give spans and characters cut per evaluation set
(``spans:<set>``, ``span_chars:<set>``; a span hitting several sets counts for the first) and the
characters of dropped short pieces (``short_piece_chars``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curate.errors import CurateError
from curate.minhash import _OWN_CLASS, _SEP_CLASS, shingle_hashes, tokens
from curate.stages.base import Stage, Verdict, register


@dataclass
class DecontaminateConfig:
    eval_sets: list[str] = field(default_factory=list)  # Parquet or JSONL files
    fields: list[str] = field(default_factory=lambda: ["question", "answer"])
    ngram: int = 13  # GPT-3, datatrove
    mode: Literal["document", "span"] = "document"  # remove the document, or cut the spans
    # span mode, GPT-3's values (lm-evaluation-harness janitor.py): window_to_remove,
    # minimum_slice_length, too_dirty_cutoff
    margin: int = 200
    min_piece_chars: int = 200
    max_pieces: int = 10

    def validate(self) -> None:
        if self.margin < 0 or self.min_piece_chars < 0 or self.max_pieces < 1:
            raise ValueError("margin and min_piece_chars must be >= 0, max_pieces >= 1")
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

    def lookup(self, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(hit, evaluation set of the hit) for each n-gram hash."""
        table, owner, _ = self.index()
        if not len(table):
            return np.zeros(len(h), bool), np.zeros(len(h), np.int64)
        at = np.searchsorted(table, h)
        at[at == len(table)] = 0
        return table[at] == h, owner[at].astype(np.int64)

    def process(self, batch: pa.RecordBatch) -> Verdict:
        n = batch.num_rows
        h, n_sh = ngram_hashes(batch.column("text"), self.config.ngram)
        hit, owner = self.lookup(h)
        doc = np.repeat(np.arange(n), n_sh)
        # per document, the lowest-numbered evaluation set among its hits
        best = np.full(n, NONE)
        np.minimum.at(best, doc[hit], owner[hit])
        removed = best != NONE
        stats = {"shingles_hit": float(np.count_nonzero(hit))}
        if self.config.mode == "span" and removed.any():
            return self.cut(batch, np.flatnonzero(removed), best, stats)
        by = self._names(best)
        reason = _reasons(by)
        if self.config.mode == "span":  # nothing to cut: the span mode's columns, all clean
            batch = batch.append_column("contaminated_by", pa.array(by, pa.string()))
            batch = batch.append_column("eval_spans", pa.array(np.zeros(n, np.int32)))
            return Verdict(batch, reason, stats=stats)
        extra = {"contaminated_by": pa.array(by, pa.string())}
        return Verdict(batch, reason, extra, stats)

    def _names(self, best: np.ndarray) -> np.ndarray:
        names = np.array(self.names, dtype=object)
        by = np.full(len(best), None, dtype=object)
        found = best != NONE
        by[found] = names[best[found]]
        return by

    def cut(self, batch: pa.RecordBatch, flagged: np.ndarray, best: np.ndarray, stats) -> Verdict:
        """Span mode for the flagged rows: their spans cut, or the row removed whole."""
        c = self.config
        texts = batch.column("text").take(pa.array(flagged)).to_pylist()
        spans = contaminated_spans(texts, c.ngram, c.margin, self.lookup)
        n = batch.num_rows
        whole = np.zeros(n, bool)
        count = np.zeros(n, np.int32)
        new_text: list[str] = []
        cut_rows: list[int] = []
        for k, (row, text) in enumerate(zip(flagged, texts)):
            mine = spans[k]
            if not mine:  # NFKC composed across characters: not found again
                whole[row] = True
                stats["span_not_found"] = stats.get("span_not_found", 0) + 1
                continue
            pieces, at = [], 0
            for a, b, _ in mine:
                pieces.append(text[at:a])
                at = b
            pieces.append(text[at:])
            pieces = [p for p in pieces if p.strip()]
            kept = [p for p in pieces if len(p.strip()) >= c.min_piece_chars]
            if len(pieces) > c.max_pieces or not kept:
                whole[row] = True
                continue
            first = min(o for _, _, o in mine)
            best[row] = first  # the row's set: the first among its spans
            for a, b, o in mine:
                name = self.names[o]
                stats[f"spans:{name}"] = stats.get(f"spans:{name}", 0) + 1
                stats[f"span_chars:{name}"] = stats.get(f"span_chars:{name}", 0) + b - a
            dropped = sum(len(p) for p in pieces if len(p.strip()) < c.min_piece_chars)
            stats["short_piece_chars"] = stats.get("short_piece_chars", 0) + dropped
            count[row] = len(mine)
            cut_rows.append(int(row))
            new_text.append("\n".join(kept))
        stats["docs_cut"] = float(len(cut_rows))
        by = self._names(best)
        reason = _reasons(np.where(whole, by, None))
        text = batch.column("text")
        if cut_rows:
            mask = np.zeros(n, bool)
            mask[cut_rows] = True
            text = pc.replace_with_mask(text, pa.array(mask), pa.array(new_text, text.type))
        at = batch.schema.get_field_index("text")
        batch = batch.set_column(at, batch.schema.field(at), text)
        batch = batch.append_column("contaminated_by", pa.array(by, pa.string()))
        batch = batch.append_column("eval_spans", pa.array(count))
        return Verdict(batch, reason, stats=stats)


NONE = np.iinfo(np.int64).max


def _reasons(by: np.ndarray) -> pa.Array:
    return pa.array([None if b is None else f"eval_overlap:{b}" for b in by], pa.string())


def token_offsets(texts: list[str]) -> tuple[pa.ListArray, np.ndarray, np.ndarray]:
    """The tokens of each text as ``curate.minhash.tokens`` makes them (``nfkc_cjk``), found
    character by character so that each keeps its place: (token lists, every token's start and
    end in its original text, in order)."""
    lens = np.array([len(t) for t in texts], np.int64)
    chars = pa.array([ch for t in texts for ch in t], pa.string())
    norm = pc.utf8_lower(pc.utf8_normalize(chars, "NFKC"))
    nlen = pc.utf8_length(norm).to_numpy(zero_copy_only=False).astype(np.int64)
    nch = pa.array(list("".join(norm.to_pylist())), pa.string())  # normalised characters
    src = np.repeat(np.arange(len(chars)), nlen)  # the original character of each
    doc_of = np.repeat(np.arange(len(texts)), lens)
    pos_of = np.arange(len(chars)) - np.repeat(np.cumsum(lens) - lens, lens)
    sep = pc.match_substring_regex(nch, f"^{_SEP_CLASS}$").to_numpy(zero_copy_only=False)
    own = pc.match_substring_regex(nch, f"^{_OWN_CLASS}$").to_numpy(zero_copy_only=False)
    doc = doc_of[src]
    brk = np.ones(len(nch), bool)  # a token starts after a separator, a CJK character, a text
    brk[1:] = sep[:-1] | own[:-1] | (doc[1:] != doc[:-1])
    word = ~sep
    start = word & (own | brk)
    tid = (np.cumsum(start) - 1)[word]
    ntok = int(start.sum())
    offsets = np.concatenate([[0], np.cumsum(np.bincount(tid, minlength=ntok))]).astype(np.int64)
    letters = pa.ListArray.from_arrays(pa.array(offsets, pa.int64()), nch.filter(pa.array(word)))
    tok = pc.binary_join(letters, "")
    wsrc = src[word]
    first, last = wsrc[offsets[:-1]], wsrc[offsets[1:] - 1]
    tdoc = doc_of[first]
    per_doc = np.concatenate([[0], np.cumsum(np.bincount(tdoc, minlength=len(texts)))])
    lists = pa.ListArray.from_arrays(pa.array(per_doc.astype(np.int32)), tok)
    return lists, pos_of[first], pos_of[last] + 1


def contaminated_spans(
    texts: list[str], ngram: int, margin: int, lookup
) -> list[list[tuple[int, int, int]]]:
    """For each text, its merged spans [start, end) of matching n-grams widened by ``margin``
    characters each side, with the first evaluation set each span hits."""
    lists, ts, te = token_offsets(texts)
    h, n_sh = shingle_hashes(lists, ngram, bits=64)
    hit, owner = lookup(h)
    cnt = pc.list_value_length(lists).to_numpy(zero_copy_only=False).astype(np.int64)
    base = np.cumsum(cnt) - cnt
    sh_doc = np.repeat(np.arange(len(texts)), n_sh)
    sh_i = np.arange(len(h)) - np.repeat(np.cumsum(n_sh) - n_sh, n_sh)
    d = sh_doc[hit]
    lo = base[d] + sh_i[hit]
    hi = base[d] + np.minimum(sh_i[hit] + ngram, cnt[d]) - 1
    length = np.array([len(t) for t in texts], np.int64)
    a = np.maximum(ts[lo] - margin, 0)
    b = np.minimum(te[hi] + margin, length[d])
    o = owner[hit]
    out: list[list[tuple[int, int, int]]] = [[] for _ in texts]
    if not len(d):
        return out
    # in a text, spans come by n-gram: starts and ends never decrease; merge overlapping ones
    new = np.ones(len(d), bool)
    new[1:] = (d[1:] != d[:-1]) | (a[1:] > b[:-1])
    idx = np.flatnonzero(new)
    ends = np.r_[idx[1:], len(d)] - 1
    first_set = np.minimum.reduceat(o, idx)
    for i, j, s in zip(idx, ends, first_set):
        out[int(d[i])].append((int(a[i]), int(b[j]), int(s)))
    return out
