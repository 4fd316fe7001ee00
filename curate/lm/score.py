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

Fragments, word salads and menus are also made of fluent n-grams; what gives them away is where
their words meet. ``curate lm train`` trains a second model beside the first, of negatives made
from the same reference text (``curate.lm.negatives``: truncations, shuffles, joined headings,
number tables, typos), and ``negatives_llr`` is the document's log10 likelihood ratio of the two per
token, ``(log10 p_negatives(doc) - log10 p(doc)) / tokens`` (Moore & Lewis 2010's cross-entropy
difference, with a model of what the reference is not): above 0, the document looks more like
the negatives. The filter's score multiplies in ``10 ** (negatives_weight * negatives_llr)``.

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
from itertools import repeat
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from curate.lm.normalize import normalize_lines
from curate.lm.tokenizer import Tokenizer
from curate.lm.train import negatives_path, sentencepiece_path


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
    ``negatives``: the same for the model of negatives, ``<stem>.negatives.arpa``; without one,
    ``negatives_llr`` is NaN.
    """

    def __init__(
        self,
        model: str | Path,
        sentencepiece: str | Path | None = None,
        negatives: str | Path | None = None,
    ) -> None:
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
        if negatives is None:
            beside = negatives_path(model)
            negatives = beside if beside.is_file() else None
        elif str(negatives) == "none":
            negatives = None
        self.negatives_path = str(negatives) if negatives else None
        with _quiet_native_stderr():  # KenLM prints "will be faster if you build a binary file"
            self.model = kenlm.Model(self.path, config)
            self.negatives = kenlm.Model(self.negatives_path, config) if negatives else None
        self.timings = {"normalize": 0.0, "tokenize": 0.0, "kenlm": 0.0}

    def perplexity(self, text: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """CCNet's perplexity of every document in ``text`` (NaN where nothing is scored)."""
        return self.score(text, line_ends=False).perplexity

    def score(self, text: pa.Array | pa.ChunkedArray, line_ends: bool = True) -> DocumentScores:
        """CCNet's perplexity and (``line_ends``) the mean line-end surprisal and the negatives
        log-likelihood ratio of every document."""
        n = len(text)
        t0 = time.perf_counter()
        lines, doc = normalize_lines(text)
        # each distinct line is tokenised and scored once per batch: web pages repeat lines
        # (menus, footers, boilerplate; a third of the sample corpus's English lines)
        distinct = pc.dictionary_encode(lines)
        line_of = distinct.indices.to_numpy(zero_copy_only=False)
        t1 = time.perf_counter()
        token_lines = self.tokenizer.tokenize_array(distinct.dictionary)
        tokens = token_lines.to_pylist()
        t2 = time.perf_counter()
        # map() over the bound methods: no Python frame per line
        log10 = np.fromiter(map(self.model.score, tokens), dtype=np.float64, count=len(tokens))
        spaces = pc.count_substring(token_lines, " ").to_numpy(zero_copy_only=False)
        ends = self._line_ends(token_lines, spaces)[line_of] if line_ends else None
        ratio = None
        if line_ends and self.negatives is not None:
            negative = np.fromiter(map(self.negatives.score, tokens), np.float64, len(tokens))
            ratio = (negative - log10)[line_of]
        log10 = log10[line_of]
        t3 = time.perf_counter()
        words = (spaces + 2.0)[line_of]  # tokens + </s>
        total_log = np.bincount(doc, weights=log10, minlength=n)
        total_words = np.bincount(doc, weights=words, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            pp = np.where(total_words > 0, 10.0 ** (-total_log / total_words), np.nan)
            surprisal = llr = None
            if ratio is not None:
                llr = np.where(total_words > 0, np.bincount(doc, ratio, n) / total_words, np.nan)
            if ends is not None:
                n_lines = np.bincount(doc, minlength=n)
                surprisal = np.bincount(doc, weights=-ends, minlength=n) / n_lines
                surprisal[n_lines == 0] = np.nan
        self.timings["normalize"] += t1 - t0
        self.timings["tokenize"] += t2 - t1
        self.timings["kenlm"] += t3 - t2
        return DocumentScores(pp, surprisal, llr)

    def _line_ends(self, lines: pa.Array, spaces: np.ndarray) -> np.ndarray:
        """log10 p(</s> | last order-1 tokens) of every line of tokens (``spaces``: tokens - 1
        per line)."""
        score, context = self.model.score, self.model.order - 1
        out = np.empty(len(lines))
        short = spaces < context  # at most order-1 tokens: the context starts with <s>
        # the last order-1 tokens of the longer lines (a unigram model's </s> has no context)
        long = lines.filter(pa.array(~short))
        split = pc.split_pattern(long, " ", max_splits=context, reverse=True)
        tails = pc.binary_join(pc.list_slice(split, 1), " ")
        for rows, part, bos in (
            (~short, tails, False),
            (short, lines.filter(pa.array(short)), True),
        ):
            part = part.to_pylist()
            with_end = np.fromiter(map(score, part, repeat(bos), repeat(True)), np.float64)
            without = np.fromiter(map(score, part, repeat(bos), repeat(False)), np.float64)
            out[rows] = with_end - without
        return out


@dataclass
class DocumentScores:
    perplexity: np.ndarray  # CCNet's document perplexity
    line_end_surprisal: np.ndarray | None  # mean -log10 p(</s> | line end) over the lines
    # (log10 p_negatives - log10 p) per token; None without a negatives model
    negatives_llr: np.ndarray | None = None

    def combined(self, weight: float, negatives_weight: float = 0.0) -> np.ndarray:
        """The filter's score: ``perplexity * 10 ** (weight * line_end_surprisal +
        negatives_weight * negatives_llr)``; a term whose column is missing is left out."""
        exponent = np.zeros(len(self.perplexity))
        if weight and self.line_end_surprisal is not None:
            exponent = exponent + weight * self.line_end_surprisal
        if negatives_weight and self.negatives_llr is not None:
            exponent = exponent + negatives_weight * self.negatives_llr
        return self.perplexity * 10.0**exponent
