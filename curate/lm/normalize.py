"""CCNet's text normalisation, applied before training and before scoring.

Wenzek et al., "CCNet: Extracting High Quality Monolingual Datasets from Web Crawl Data"
(LREC 2020), facebookresearch/cc_net ``text_normalizer.normalize``. Per line, in this order:

1. strip surrounding whitespace;
2. lowercase;
3. remove accents: Unicode NFD, then drop combining marks (category Mn);
4. every decimal digit (category Nd, any script) becomes ``0``;
5. CJK and typographic punctuation becomes its ASCII counterpart (``UNICODE_PUNCT`` below:
   CCNet's table, so that ``，`` and ``,`` are one token to the language model);
6. non-printing characters (C0 and C1 control codes) are dropped.

Two implementations of the same rules: ``normalize_line`` is the plain-Python statement of the
spec, used as the reference in tests; ``normalize_lines`` does a whole Arrow column of documents
with Arrow's UTF-8 kernels (vectorised) and returns one row per line with the index of the
document it came from. Lines are split on ``\n``; lines that are empty after normalisation are
dropped (CCNet would score each as a lone ``</s>``, which rewards blank lines between paragraphs).
Chinese passes through unchanged except for punctuation and digits.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# CCNet's map (text_normalizer.UNICODE_PUNCT). "１" maps to a quote there; digits are replaced
# by 0 before this table applies, so that entry never fires and is left out.
UNICODE_PUNCT = {
    "，": ",",
    "。": ".",
    "、": ",",
    "„": '"',
    "”": '"',
    "“": '"',
    "«": '"',
    "»": '"',
    "」": '"',
    "「": '"',
    "《": '"',
    "》": '"',
    "´": "'",
    "∶": ":",
    "：": ":",
    "？": "?",
    "！": "!",
    "（": "(",
    "）": ")",
    "；": ";",
    "–": "-",
    "—": " - ",
    "．": ". ",
    "～": "~",
    "’": "'",
    "…": "...",
    "━": "-",
    "〈": "<",
    "〉": ">",
    "【": "[",
    "】": "]",
    "％": "%",
    "►": "-",
}
_PUNCT_TABLE = str.maketrans(UNICODE_PUNCT)
# C0 and C1 control characters (CCNet: chr(0..31) and chr(127..159)).
_NON_PRINTING = "".join(map(chr, [*range(32), *range(127, 160)]))
_NON_PRINTING_RE = re.compile(f"[{re.escape(_NON_PRINTING)}]")
_DIGIT_RE = re.compile(r"\d")  # Python's \d on str is Unicode category Nd


def normalize_line(line: str) -> str:
    """CCNet normalisation of one line: the reference implementation."""
    line = line.strip()
    if not line:
        return line
    line = line.lower()
    line = "".join(c for c in unicodedata.normalize("NFD", line) if unicodedata.category(c) != "Mn")
    line = _DIGIT_RE.sub("0", line)
    line = line.translate(_PUNCT_TABLE)
    return _NON_PRINTING_RE.sub("", line)


def normalize_lines(text: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, np.ndarray]:
    """Normalise every line of every document; drop lines that end up empty.

    Returns ``(lines, doc_index)``: a string array of normalised lines and, for each, the row of
    ``text`` it belongs to. Null documents contribute no lines.
    """
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    lists = pc.split_pattern(text, "\n")
    doc_index = pc.list_parent_indices(lists).to_numpy()
    lines = pc.utf8_trim_whitespace(pc.list_flatten(lists))
    keep = pc.greater(pc.utf8_length(lines), 0)
    lines, doc_index = lines.filter(keep), doc_index[keep.to_numpy(zero_copy_only=False)]
    lines = pc.utf8_lower(lines)
    # Accents, non-ASCII digits and the punctuation table only touch non-ASCII lines (about 1%
    # of English lines): skipping the ASCII ones makes normalisation about twice as fast.
    ascii_only = pc.string_is_ascii(lines)
    if not pc.all(ascii_only).as_py():
        wide = pc.invert(ascii_only)
        lines = pc.replace_with_mask(lines, wide, _normalize_wide(lines.filter(wide)))
    lines = pc.replace_substring_regex(lines, r"[0-9]", "0")
    lines = pc.replace_substring_regex(lines, r"[\x00-\x1f\x7f-\x9f]+", "")
    keep = pc.greater(pc.utf8_length(lines), 0)
    return lines.filter(keep), doc_index[keep.to_numpy(zero_copy_only=False)]


def _normalize_wide(lines: pa.Array) -> pa.Array:
    """Steps 3-5 for lines with non-ASCII characters (they do nothing to ASCII text)."""
    lines = pc.utf8_normalize(lines, "NFD")
    lines = pc.replace_substring_regex(lines, r"\p{Mn}+", "")
    lines = pc.replace_substring_regex(lines, r"\p{Nd}", "0")
    for src, dst in UNICODE_PUNCT.items():
        lines = pc.replace_substring(lines, src, dst)
    return lines
