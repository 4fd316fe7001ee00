"""Heuristic quality rules for Chinese text, on characters (Chinese puts no spaces between words).

Two rules with datatrove's filter interface (``filter(doc) -> True | (False, reason)``), so that
``quality_filter`` runs them like its datatrove rules, on rows whose language picks them:

* ``cjk_repetition``: Gopher's repetition rules (Rae et al. 2021, table A1) with each CJK
  character a token (and each run of other non-space characters, a Latin word, a token too):
  duplicate lines and paragraphs, the most frequent token n-gram, characters inside repeated
  token n-grams. Text is measured in characters without whitespace.
* ``cjk_quality``: length, the share of CJK among letters, lines that end in punctuation
  (FineWeb's C4-style rule) and Gopher's stop-word rule with FineWeb-2's Chinese stop words.

Thresholds: FineWeb-2 tunes every rule per language on word n-grams of a Chinese word tokenizer
(``configs/cmn_Hani.yml`` in huggingface/fineweb-2, cited below); a word n-gram is taken here as
a character 2n-gram (FineWeb-2 bounds Chinese average word length to 1-5 characters; two is
typical), so each top/duplicated n-gram threshold is FineWeb-2's for n words at 2n characters.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

# CJK unified ideographs (and extension A, compatibility), kana, hangul
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
CJK = re.compile(f"[{_CJK}]")
TOKEN = re.compile(f"[{_CJK}]|[^\\s{_CJK}]+")  # a CJK character, or a run of anything else
WHITESPACE = re.compile(r"\s+")
PARAGRAPHS = re.compile(r"\n{2,}")
LINES = re.compile(r"\n+")
# line ends that close a sentence or clause, full-width and ASCII (FineWeb: . ' " ! ?)
TERMINAL = tuple("。！？…；：.!?;:\"'”’」』）)")
# FineWeb-2 configs/cmn_Hani.yml: stopwords
STOP_CHARS = tuple("的年在月是和日了於·為有被人中为他與後也而由")


def _find_duplicates(items: list[str]) -> tuple[int, int]:
    """(duplicate items, their characters): Gopher's count, every repeat after the first."""
    seen: set[str] = set()
    dup = dup_chars = 0
    for item in items:
        if item in seen:
            dup += 1
            dup_chars += len(item)
        else:
            seen.add(item)
    return dup, dup_chars


def _repeated_chars(tokens: list[str], n: int) -> int:
    """Characters inside repeated token n-grams, each counted once (datatrove's
    find_all_duplicate: after a repeat, the scan jumps past it)."""
    seen: set[tuple[str, ...]] = set()
    repeated, i = 0, 0
    while i < len(tokens) - n + 1:
        gram = tuple(tokens[i : i + n])
        if gram in seen:
            repeated += sum(map(len, gram))
            i += n
        else:
            seen.add(gram)
            i += 1
    return repeated


@dataclass
class CjkRepetition:
    dup_line_frac: float = 0.287  # FineWeb-2 cmn_Hani (Gopher: 0.30)
    dup_para_frac: float = 0.3  # Gopher
    dup_line_char_frac: float = 0.2  # Gopher
    dup_para_char_frac: float = 0.2  # Gopher
    # FineWeb-2 cmn_Hani top_n_grams (2, 3, 4 words: 0.256, 0.201, 0.171) at 2 characters a word
    top_n_grams: list[list[float]] = field(
        default_factory=lambda: [[4, 0.256], [6, 0.201], [8, 0.171]]
    )
    # FineWeb-2 cmn_Hani dup_n_grams (5..10 words: 0.198 .. 0.127) at 2 characters a word
    dup_n_grams: list[list[float]] = field(
        default_factory=lambda: [
            [10, 0.198], [12, 0.182], [14, 0.167], [16, 0.154], [18, 0.14], [20, 0.127]
        ]
    )  # fmt: skip

    def filter(self, doc: Any) -> bool | tuple[bool, str]:
        text = doc.text.strip()
        chars = WHITESPACE.sub("", text)
        if not chars:
            return False, "empty"
        size = len(chars)
        paragraphs = [WHITESPACE.sub("", p) for p in PARAGRAPHS.split(text)]
        dup, dup_chars = _find_duplicates(paragraphs)
        if dup / len(paragraphs) > self.dup_para_frac:
            return False, "dup_para_frac"
        if dup_chars / size > self.dup_para_char_frac:
            return False, "dup_para_char_frac"
        lines = [WHITESPACE.sub("", ln) for ln in LINES.split(text)]
        dup, dup_chars = _find_duplicates(lines)
        if dup / len(lines) > self.dup_line_frac:
            return False, "dup_line_frac"
        if dup_chars / size > self.dup_line_char_frac:
            return False, "dup_line_char_frac"
        tokens = TOKEN.findall(text)
        for n, frac in self.top_n_grams:
            n = int(n)
            if len(tokens) < n:
                continue
            grams = Counter(tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))
            gram, count = grams.most_common(1)[0]
            if count > 1 and count * sum(map(len, gram)) / size > frac:
                return False, f"top_{n}_gram"
        for n, frac in self.dup_n_grams:
            if _repeated_chars(tokens, int(n)) / size > frac:
                return False, f"duplicated_{int(n)}_grams"
        return True


@dataclass
class CjkQuality:
    min_chars: int = 100  # Gopher: 50 words, at 2 characters a word
    max_chars: int = 200_000  # Gopher: 100,000 words
    # ours: CJK characters among letters; the sample's clean zh pages: 1st percentile 0.26
    min_cjk_ratio: float = 0.2
    line_punct_thr: float = 0.106  # FineWeb-2 cmn_Hani: lines ending in punctuation, at most
    min_stop_words: int = 2  # Gopher, with FineWeb-2 cmn_Hani's stop words (STOP_CHARS)

    def filter(self, doc: Any) -> bool | tuple[bool, str]:
        text = doc.text
        chars = WHITESPACE.sub("", text)
        if len(chars) < self.min_chars:
            return False, "cjk_too_short"
        if len(chars) > self.max_chars:
            return False, "cjk_too_long"
        cjk = len(CJK.findall(chars))
        letters = sum(c.isalpha() for c in chars)
        if not letters or cjk / letters < self.min_cjk_ratio:
            return False, "cjk_ratio"
        lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
        ending = sum(ln.endswith(TERMINAL) for ln in lines)
        if ending / len(lines) <= self.line_punct_thr:
            return False, "line_punct_ratio"
        if sum(chars.count(c) for c in STOP_CHARS) < self.min_stop_words:
            return False, "cjk_stop_words"
        return True


RULES: dict[str, type] = {"cjk_repetition": CjkRepetition, "cjk_quality": CjkQuality}
