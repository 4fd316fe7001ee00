"""Text units and features shared by text stages, for English and Chinese alike.

Chinese has no spaces between words, so a "token" here is a run of letters/digits for
space-separated scripts and a single character for CJK ideographs, kana and hangul. Sentences end
at . ! ? (followed by a space) and at 。！？；… (no space needed); paragraphs at blank lines; both
also end at a line break, since web text rarely wraps prose.
"""

from __future__ import annotations

import re
import unicodedata

CJK_RANGES = (
    "\u3040-\u30ff"  # hiragana, katakana
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uac00-\ud7af"  # hangul syllables
    "\uf900-\ufaff"  # CJK compatibility ideographs
)
# A token: one CJK character, or a run of other letters/digits.
TOKEN = re.compile(rf"[{CJK_RANGES}]|[^\W{CJK_RANGES}]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|(?<=[。！？；…])\s*|\n+")
_PARAGRAPH_END = re.compile(r"\n\s*\n|\n")
_DIGITS = re.compile(r"\d")


def split_units(text: str, level: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences or paragraphs of ``text``.

    Spans cover the unit without surrounding whitespace; the text between spans is separators.
    """
    if level == "document":
        start, end = _strip_span(text, 0, len(text))
        return [(start, end)] if end > start else []
    pattern = _SENTENCE_END if level == "sentence" else _PARAGRAPH_END
    spans = []
    pos = 0
    for m in pattern.finditer(text):
        start, end = _strip_span(text, pos, m.start())
        if end > start:
            spans.append((start, end))
        pos = m.end()
    start, end = _strip_span(text, pos, len(text))
    if end > start:
        spans.append((start, end))
    return spans


def _strip_span(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def normalize_for_features(text: str) -> str:
    """Lowercase, NFKC, digits -> 0: a date stamp or a counter does not make a unit new."""
    return _DIGITS.sub("0", unicodedata.normalize("NFKC", text).lower())


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def ngrams(toks: list[str], n: int) -> list[str]:
    """Token n-grams joined by a space; a unit shorter than n gives its one shorter gram."""
    if len(toks) < n:
        return [" ".join(toks)] if toks else []
    return [" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1)]
