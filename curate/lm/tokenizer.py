"""Tokenisation for n-gram language models: SentencePiece, or whitespace with CJK split apart.

CCNet tokenises normalised text with a SentencePiece unigram model (Kudo & Richardson, EMNLP 2018
demo; vocabulary 65,536 in CCNet) before KenLM sees it, so that one model handles languages with
and without spaces. The pieces are joined with single spaces because KenLM splits its input on
whitespace; SentencePiece marks word starts with U+2581, which is not whitespace.

Without a SentencePiece model, tokens are the whitespace-separated words, with every Han
character made a token of its own (Chinese has no spaces; a whole line as one word would make
every line out-of-vocabulary).

Training defaults follow the SentencePiece documentation: ``character_coverage`` 0.9995 for
Chinese (large character set) and 1.0 otherwise; ``hard_vocab_limit`` is off, so a vocabulary
larger than a small corpus supports shrinks instead of failing.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SPECIALS_RE = r"<(/?s|unk)>"  # KenLM's reserved words must not appear inside a line
CJK_LANGUAGES = ("zh", "ja")


class Tokenizer:
    """Turns normalised lines into space-joined token strings, as KenLM reads them."""

    def __init__(self, sentencepiece_model: str | Path | None = None) -> None:
        self.path = str(sentencepiece_model) if sentencepiece_model else None
        self._sp = None
        if self.path:
            import sentencepiece

            if not Path(self.path).is_file():
                raise FileNotFoundError(f"{self.path}: no such SentencePiece model")
            self._sp = sentencepiece.SentencePieceProcessor(model_file=self.path)

    def describe(self) -> str:
        return f"sentencepiece:{self.path}" if self.path else "whitespace+han"

    def tokenize(self, lines: pa.Array) -> list[str]:
        """One string of space-separated tokens per input line."""
        return self.tokenize_array(lines).to_pylist()

    def tokenize_array(self, lines: pa.Array) -> pa.Array:
        """``tokenize`` as an Arrow string array."""
        lines = pc.replace_substring_regex(lines, SPECIALS_RE, r"[\1]")
        if self._sp is None:
            spaced = pc.replace_substring_regex(lines, r"(\p{Han})", r" \1 ")
            parts = pc.split_pattern_regex(pc.utf8_trim_whitespace(spaced), r"\s+")
            return pc.binary_join(parts, " ")
        # SentencePiece segments each whitespace-separated word on its own (its pieces never
        # cross a space), so each distinct word of the batch is encoded once and the lines are
        # put back together with Arrow: a third of the time of encoding every line. The pieces
        # are the same but where two segmentations of a word score exactly alike ("#nnnnn":
        # "nnnn n" or "n nnnn"; 1 line in 23,000 of bench_perplexity_heldout's).
        words = pc.split_pattern(lines, " ")
        parent = pc.list_parent_indices(words).to_numpy()
        words = pc.dictionary_encode(pc.list_flatten(words))
        pieces = self._sp.encode(words.dictionary.to_pylist(), out_type=str)
        per_word = pa.array(list(map(" ".join, pieces)), pa.string()).take(words.indices)
        keep = pc.greater(pc.binary_length(per_word), 0)  # "" between two spaces, say
        parent = parent[keep.to_numpy(zero_copy_only=False)]
        offsets = np.zeros(len(lines) + 1, np.int32)
        np.cumsum(np.bincount(parent, minlength=len(lines)), out=offsets[1:])
        joined = pa.ListArray.from_arrays(pa.array(offsets), per_word.filter(keep))
        return pc.binary_join(joined, " ")


def train_sentencepiece(
    lines: Iterable[str],
    model_prefix: str | Path,
    vocab_size: int = 65536,  # CCNet
    language: str = "en",
    max_sentences: int = 2_000_000,
    threads: int = 2,
) -> Path:
    """Train a SentencePiece unigram model on normalised lines; returns the .model path."""
    import sentencepiece

    coverage = 0.9995 if language in CJK_LANGUAGES else 1.0  # SentencePiece docs
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=_nonempty(lines),
        model_prefix=str(model_prefix),
        vocab_size=vocab_size,
        model_type="unigram",
        character_coverage=coverage,
        hard_vocab_limit=False,
        input_sentence_size=max_sentences,
        shuffle_input_sentence=True,
        num_threads=threads,
        minloglevel=2,
    )
    Path(f"{model_prefix}.vocab").unlink(missing_ok=True)  # the .model holds the vocabulary
    return Path(f"{model_prefix}.model")


def _nonempty(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        if line:
            yield line
