"""Document perplexity under a KenLM model, CCNet's way.

Each document is normalised and split into lines (``curate.lm.normalize``), each line tokenised
(``curate.lm.tokenizer``) and scored by KenLM with sentence boundaries (``<s> .. </s>``), and

    pp(doc) = 10 ** (-sum(log10 p(line)) / sum(tokens(line) + 1))

(cc_net ``perplexity.DocLM``; the +1 is the ``</s>`` of every line). A document with no
non-empty line has no perplexity (NaN). ``KenLMScorer.timings`` accumulates the seconds spent
in normalisation, tokenisation and KenLM queries, for the benchmark.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa

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
        """Perplexity of every document in ``text`` (NaN where there is nothing to score)."""
        n = len(text)
        t0 = time.perf_counter()
        lines, doc = normalize_lines(text)
        t1 = time.perf_counter()
        tokens = self.tokenizer.tokenize(lines)
        t2 = time.perf_counter()
        score = self.model.score
        log10 = np.fromiter((score(t) for t in tokens), dtype=np.float64, count=len(tokens))
        t3 = time.perf_counter()
        words = np.fromiter((t.count(" ") + 2 for t in tokens), dtype=np.float64, count=len(tokens))
        total_log = np.bincount(doc, weights=log10, minlength=n)
        total_words = np.bincount(doc, weights=words, minlength=n)
        with np.errstate(invalid="ignore", divide="ignore"):
            pp = np.where(total_words > 0, 10.0 ** (-total_log / total_words), np.nan)
        self.timings["normalize"] += t1 - t0
        self.timings["tokenize"] += t2 - t1
        self.timings["kenlm"] += t3 - t2
        return pp
