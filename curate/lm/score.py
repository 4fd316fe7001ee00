"""Document scores under a KenLM model: CCNet's perplexity, and the evidence of line ends.

Each document is normalised and split into lines (``curate.lm.normalize``), each line tokenised
(``curate.lm.tokenizer``) and scored by KenLM with sentence boundaries (``<s> .. </s>``), and

    pp(doc) = 10 ** (-sum(log10 p(line)) / sum(tokens(line) + 1))

(cc_net ``perplexity.DocLM``; the +1 is the ``</s>`` of every line). A document with no
non-empty line has no perplexity (NaN).

An n-gram model barely notices a fragment of fluent text (a teaser, a cut-off listing): every
n-gram in it is fluent, and its one unlikely event, the line ending after "returns a", is one
token among many in ``pp``. ``line_end_surprisal`` is that event on its own: the mean over the
document's lines of ``-log10 p(</s> | the line's last n-1 tokens)``. The filter's score is
``pp * 10 ** (weight * line_end_surprisal)`` (``DocumentScores.combined``; perplexity_filter's
``line_end_weight``), measured in ``benchmarks/bench_perplexity_heldout.py``.

``p(</s> | ...)`` comes from two KenLM queries on the line's last n-1 tokens (with and without
``</s>``): a 5-gram model conditions on those four tokens only, so this is exact and costs far
less than querying the whole line twice. ``KenLMScorer.timings`` accumulates the seconds spent
in normalisation, tokenisation and KenLM queries, for the benchmark.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.lm.normalize import normalize_lines
from curate.lm.tokenizer import Tokenizer
from curate.lm.train import sentencepiece_path


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """Silence what C++ code writes to fd 2; a failed load still raises a Python exception."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class KenLMScorer:
    """A KenLM model plus the tokeniser it was trained with.

    ``sentencepiece``: a .model path, ``"none"`` for whitespace tokens, or ``None`` to use
    ``<stem>.sp.model`` beside the KenLM model when it exists (what ``curate lm train`` writes).
    """

    def __init__(self, model: str | Path, sentencepiece: str | Path | None = None) -> None:
        import kenlm

        self.path = str(model)
        if sentencepiece is None:
            beside = sentencepiece_path(model)
            sentencepiece = beside if beside.is_file() else None
        elif str(sentencepiece) == "none":
            sentencepiece = None
        self.tokenizer = Tokenizer(sentencepiece)
        config = kenlm.Config()
        config.show_progress = False
        with _quiet_native_stderr():  # KenLM prints "will be faster if you build a binary file"
            self.model = kenlm.Model(self.path, config)
        self.timings = {"normalize": 0.0, "tokenize": 0.0, "kenlm": 0.0}

    def perplexity(self, text: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """CCNet's perplexity of every document in ``text`` (NaN where nothing is scored)."""
        return self.score(text, line_ends=False).perplexity

    def score(self, text: pa.Array | pa.ChunkedArray, line_ends: bool = True) -> DocumentScores:
        """CCNet's perplexity and (``line_ends``) the mean line-end surprisal of every document."""
        n = len(text)
        t0 = time.perf_counter()
        lines, doc = normalize_lines(text)
        # each distinct line is tokenised and scored once per batch: web pages repeat lines
        # (menus, footers, boilerplate; a third of the sample corpus's English lines)
        distinct = pc.dictionary_encode(lines)
        line_of = distinct.indices.to_numpy(zero_copy_only=False)
        t1 = time.perf_counter()
        tokens = self.tokenizer.tokenize(distinct.dictionary)
        t2 = time.perf_counter()
        score = self.model.score
        log10 = np.fromiter((score(t) for t in tokens), dtype=np.float64, count=len(tokens))
        ends = self._line_ends(tokens)[line_of] if line_ends else None
        log10 = log10[line_of]
        t3 = time.perf_counter()
        words = np.fromiter((t.count(" ") + 2 for t in tokens), dtype=np.float64, count=len(tokens))
        words = words[line_of]
        total_log = np.bincount(doc, weights=log10, minlength=n)
        total_words = np.bincount(doc, weights=words, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            pp = np.where(total_words > 0, 10.0 ** (-total_log / total_words), np.nan)
            surprisal = None
            if ends is not None:
                n_lines = np.bincount(doc, minlength=n)
                surprisal = np.bincount(doc, weights=-ends, minlength=n) / n_lines
                surprisal[n_lines == 0] = np.nan
        self.timings["normalize"] += t1 - t0
        self.timings["tokenize"] += t2 - t1
        self.timings["kenlm"] += t3 - t2
        return DocumentScores(pp, surprisal)

    def _line_ends(self, tokens: list[str]) -> np.ndarray:
        """log10 p(</s> | last order-1 tokens) of every line."""
        score, context = self.model.score, self.model.order - 1

        def end(line: str) -> float:
            parts = line.rsplit(" ", context)
            if len(parts) <= context:  # a short line: its context starts with <s>
                return score(line, True, True) - score(line, True, False)
            tail = line[len(parts[0]) + 1 :]
            return score(tail, False, True) - score(tail, False, False)

        return np.fromiter(map(end, tokens), dtype=np.float64, count=len(tokens))


@dataclass
class DocumentScores:
    perplexity: np.ndarray  # CCNet's document perplexity
    line_end_surprisal: np.ndarray | None  # mean -log10 p(</s> | line end) over the lines

    def combined(self, weight: float) -> np.ndarray:
        """The filter's score: ``perplexity * 10 ** (weight * line_end_surprisal)``."""
        if weight == 0 or self.line_end_surprisal is None:
            return self.perplexity
        return self.perplexity * 10.0 ** (weight * self.line_end_surprisal)
