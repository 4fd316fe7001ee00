"""Text units and features shared by text stages, for English and Chinese alike.

Chinese has no spaces between words, so a "token" here is a run of letters/digits for
space-separated scripts and a single character for CJK ideographs, kana and hangul. Sentences end
at . ! ? (followed by a space) and at 。！？；… (no space needed); paragraphs at blank lines; both
also end at a line break, since web text rarely wraps prose.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from xxhash import xxh3_64_intdigest

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
_UNIT_SEP = "\x00"  # never part of a token, a starter in NFKC, so units normalise apart
_TOKEN_OR_SEP = re.compile(rf"{TOKEN.pattern}|\x00")


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
    piece = text[start:end]
    left = len(piece) - len(piece.lstrip())  # str.strip() strips exactly what isspace() is
    return start + left, start + max(len(piece.rstrip()), left)


def normalize_for_features(text: str) -> str:
    """Lowercase, NFKC, digits -> 0: a date stamp or a counter does not make a unit new."""
    return _DIGITS.sub("0", unicodedata.normalize("NFKC", text).lower())


# Slots: what a template fills in per page (a URL, an e-mail, numbers and dates, a month's name
# next to a number, capitalised names). mask_slots replaces each by a placeholder token.
SLOT_TOKENS = ("_url_", "_email_", "_num_", "_month_", "_cap_")
_MONTHS = frozenset(
    ("jan", "january", "feb", "february", "mar", "march", "apr", "april", "may", "jun", "june",
     "jul", "july", "aug", "august", "sep", "sept", "september", "oct", "october", "nov",
     "november", "dec", "december")
)  # fmt: skip
# one pass each, in this order: a URL or an e-mail holds digits, a month is found by its number
_SLOT_PASSES = (
    ("_url_", re.compile(r"(?:https?://|www\.)[^\s\x00,;。、]+", re.IGNORECASE)),
    ("_email_", re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    # 2024-03-01, 9:00, (414) 950-4525, 1,234: digits and the separators between them, not
    # touching a Latin letter (u32, 0x1F, 9am stay words: a code line is not a template)
    (
        "_num_",
        re.compile(r"(?<![A-Za-z_\d])[+(]?\d(?:[\d()]|[-./:,\s](?=[\d(]))*(?![A-Za-z_\d])"),
    ),
)
_MONTH = re.compile(r"\b([A-Za-z]{3,9})\.?(?= +_num_)|(?<=_num_ )([A-Za-z]{3,9})\b\.?")
_DATE = re.compile(r"_(?:num|month)_(?:[ ,]*_(?:num|month)_)+")  # "March 3, 2021": one slot
_WORD = re.compile(r"[^\W\d_]+")
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")


def _month(m: re.Match) -> str:
    return " _month_ " if (m.group(1) or m.group(2)).lower() in _MONTHS else m.group(0)


def mask_slots(units: list[str]) -> list[str]:
    """Each unit (NFKC) with its slots replaced by placeholder tokens (SLOT_TOKENS): URLs, e-mail
    addresses, numbers with their separators (dates, times, phone numbers, counts), month names
    next to a number, and runs of capitalised words (names, companies, titles) but the unit's
    first word. Capitalised words stay when they are over 3/4 of the unit's words (a heading,
    a title-cased or upper-cased line: there the capitals tell nothing). One regex pass over the
    joined units for the slots; the capitals rule is per unit."""
    if not units:
        return []
    joined = unicodedata.normalize("NFKC", _UNIT_SEP.join(u.replace(_UNIT_SEP, " ") for u in units))
    for token, pattern in _SLOT_PASSES:
        joined = pattern.sub(f" {token} ", joined)
    joined = _DATE.sub(" _num_ ", _MONTH.sub(_month, joined))
    out = joined.split(_UNIT_SEP)
    texts = pa.array(out, pa.string())
    words = pc.count_substring_regex(texts, r"\pL+").to_numpy().copy()
    words -= pc.count_substring_regex(texts, r"_(?:url|email|num|month)_").to_numpy()
    # a capital after a non-word character (a space put first: "^" would match at every
    # restart of the count)
    spaced = pc.binary_join_element_wise(" ", texts, "")
    capitals = pc.count_substring_regex(spaced, r"[^\pL\pN_]\p{Lu}").to_numpy()
    for k in np.flatnonzero((capitals > 1) & (4 * capitals <= 3 * words)).tolist():
        text = out[k]  # the first word stays anyway: a sentence starts with a capital
        head = _WORD.search(text).end()  # type: ignore[union-attr]
        out[k] = text[:head] + _CAPITALISED.sub(" _cap_ ", text[head:])
    return out


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def ngrams(toks: list[str], n: int) -> list[str]:
    """Token n-grams joined by a space; a unit shorter than n gives its one shorter gram."""
    if len(toks) < n:
        return [" ".join(toks)] if toks else []
    return [" ".join(toks[i : i + n]) for i in range(len(toks) - n + 1)]


def token_hashes(units: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """xxh3-64 of every token of ``tokens(normalize_for_features(unit))`` for all ``units``,
    concatenated, and the number of tokens per unit. One normalisation and one regex pass over
    the joined units; each distinct token is hashed once."""
    if not units:
        return np.empty(0, np.uint64), np.empty(0, np.int64)
    joined = _UNIT_SEP.join(units)
    if joined.count(_UNIT_SEP) != len(units) - 1:  # a NUL inside a unit: not a token anyway
        joined = _UNIT_SEP.join(u.replace(_UNIT_SEP, " ") for u in units)
    # digits -> 0 on the distinct tokens only: a digit is a word character before and after
    lowered = unicodedata.normalize("NFKC", joined).lower()
    encoded = pc.dictionary_encode(pa.array(_TOKEN_OR_SEP.findall(lowered)))
    vocab = encoded.dictionary.to_pylist()
    codes = encoded.indices.to_numpy()
    vocab_hash = np.fromiter(
        (xxh3_64_intdigest(_DIGITS.sub("0", t).encode()) for t in vocab), np.uint64, len(vocab)
    )
    sep = vocab.index(_UNIT_SEP) if _UNIT_SEP in vocab else -1
    is_sep = codes == sep
    unit = np.cumsum(is_sep)[~is_sep]
    return vocab_hash[codes[~is_sep]], np.bincount(unit, minlength=len(units)).astype(np.int64)
