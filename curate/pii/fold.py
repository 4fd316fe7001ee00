"""Full-width forms and the digits of every script, read as ASCII, with offsets kept.

Chinese and Japanese web text often writes numbers and addresses in full-width forms
(``１３８１２３４５６７８``, ``abc＠example.com``): an input method in full-width mode types them.
The recognizers (presidio's patterns, libphonenumber, our checksums, tldextract) are written for
ASCII, so they see a *folded* copy of the text instead of forked Unicode-aware patterns: each
full-width form U+FF01-FF5E becomes its ASCII character (but ``！，：；？``, Chinese sentence
punctuation, see KEPT), the ideographic space U+3000 a space,
and a decimal digit of any script (category Nd, as Python's ``unicodedata`` knows them: ``٣``,
``३``) its ASCII digit. Each character maps to exactly one character, so the folded text has the
same length and a span found in it is the same span of the original: the scrubber replaces the
original characters and no offset map is needed. NFKC would not do: it changes lengths
(``㈱`` -> ``(株)``, ``½`` -> ``1⁄2``) and folds more than width (``①``, ``¹`` -> ``1``).

The pre-screen's triggers run on folded documents too, except at its first level, one RE2 scan
of the Arrow column, which cannot fold: there the triggers are widened instead. ``widen``
rewrites an ASCII pattern to match the original text exactly where the pattern matches the
folded text (tests/pii/test_fold.py checks it against the fold); its digit class, ``\\p{Nd}``,
may also know digits newer than ``unicodedata``, which only lets a document through to the
per-document level.
"""

from __future__ import annotations

import sys
import unicodedata

import regex

FULLWIDTH = range(0xFF01, 0xFF5F)  # U+FF01-FF5E: "！" .. "～", the full-width twins of "!" .. "~"
IDEOGRAPHIC_SPACE = "\u3000"
# Chinese sentence punctuation, which is never inside a value and bounds one better than its
# ASCII twin. Before a value the recognizers take ``IP:`` as well as ``IP：`` (recognizers.py,
# _AFTER_LABEL), but after one an ASCII colon fails presidio's IPv6 end anchor (``(?![\w:])``):
# ``评论于 a841:...:6274：这个`` folded would lose the address (tests/pii/test_recognizers.py). An
# ASCII ``?`` or ``!`` is a legal first character of an email's local part: ``邮箱?abc@x.com``
# is rejected whole, and only ``x.com`` is found as a URL.
KEPT = "！，：；？"


def _table() -> dict[int, int]:
    table = {cp: cp - 0xFEE0 for cp in FULLWIDTH if chr(cp) not in KEPT}
    table[ord(IDEOGRAPHIC_SPACE)] = ord(" ")
    for cp in range(0x80, sys.maxunicode + 1):
        ch = chr(cp)
        if ch.isdecimal():  # exactly category Nd
            table[cp] = ord("0") + unicodedata.decimal(ch)
    return table


FOLD = _table()
# ASCII character -> the characters that fold onto it (digits: every script's, see widen)
TWINS: dict[str, str] = {}
for _cp, _to in FOLD.items():
    TWINS[chr(_to)] = TWINS.get(chr(_to), "") + chr(_cp)


# What fold changes (or more: the regex module's Unicode is newer than unicodedata's). Looking
# for one first is 4x cheaper than translating English text that has a curly quote.
FOLDABLE = regex.compile(
    r"[\u3000\uFF02-\uFF0B\uFF0D-\uFF19\uFF1C-\uFF1E\uFF20-\uFF5E]|[^\P{Nd}0-9]"
)


def fold(text: str) -> str:
    """``text`` with full-width forms and non-ASCII digits as ASCII; same length, same offsets."""
    if text.isascii() or FOLDABLE.search(text) is None:
        return text
    return text.translate(FOLD)


# ---------------------------------------------------------------- widening a trigger pattern

DIGIT = r"\p{Nd}"  # 0-9 and their twins; RE2 and the regex module both know it
_CLASS_SPECIAL = "\\]-^["


def _class_char(ch: str) -> str:
    return "\\" + ch if ch in _CLASS_SPECIAL else ch


def _literal(ch: str) -> str:
    """An ASCII literal of a pattern, as a class of itself and its twins."""
    if ch.isdigit():
        raise ValueError(f"widen: literal digit {ch!r}; write the range 0-9")
    twins = TWINS.get(ch, "")
    if not twins:  # ! , : ; ? (see KEPT), or a Han character, é, ß
        return ch
    return "[" + "".join(_class_char(c) for c in ch + twins) + "]"


def _widen_class(body: str) -> str:
    if body.startswith("^"):
        raise ValueError("widen: negated classes are not supported")
    items: list[str] = []
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\":
            ch, i = body[i + 1], i + 1
            if ch.isalnum():
                raise ValueError(f"widen: class escape \\{ch} is not supported")
        if i + 2 < len(body) and body[i + 1] == "-":  # a range lo-hi
            lo, hi = ch, body[i + 2]
            i += 3
            digits = [d for d in "0123456789" if lo <= d <= hi]
            if digits and (lo, hi) != ("0", "9"):
                raise ValueError(f"widen: range {lo}-{hi}; digits only as the whole 0-9")
            if digits:
                items.append(DIGIT)
                continue
            items.append(f"{_class_char(lo)}-{_class_char(hi)}")
            if ord(lo) + 0xFEE0 in FULLWIDTH and ord(hi) + 0xFEE0 in FULLWIDTH:
                items.append(f"{chr(ord(lo) + 0xFEE0)}-{chr(ord(hi) + 0xFEE0)}")
            continue
        if ch.isdigit():
            raise ValueError(f"widen: digit {ch!r} in a class; write the range 0-9")
        items += [_class_char(c) for c in ch + TWINS.get(ch, "")]
        i += 1
    return "[" + "".join(items) + "]"


def widen(pattern: str) -> str:
    """``pattern`` (ASCII literals and classes, groups, alternation, quantifiers; no
    lookarounds) rewritten so that it matches ``text`` wherever it matches ``fold(text)``."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            nxt = pattern[i + 1]
            if nxt.isalnum():
                raise ValueError(f"widen: escape \\{nxt} is not supported")
            out.append(_literal(nxt))
            i += 2
        elif ch == "[":
            j = i + 1
            while pattern[j] != "]" or pattern[j - 1] == "\\":
                j += 1
            out.append(_widen_class(pattern[i + 1 : j]))
            i = j + 1
        elif pattern.startswith("(?", i):  # (?: and (?i: groups; no lookarounds
            group = regex.match(r"\(\?[a-z]*:", pattern[i:])
            if group is None:
                raise ValueError(f"widen: group {pattern[i : i + 4]!r} is not supported")
            out.append(group.group())
            i += group.end()
        elif ch == "{":  # a quantifier
            j = pattern.index("}", i) + 1
            out.append(pattern[i:j])
            i = j
        elif ch in "()|?*+.^$":
            out.append(ch)
            i += 1
        else:
            out.append(_literal(ch))
            i += 1
    return "".join(out)
