"""Machine-made negatives of a reference text, for a second n-gram model to contrast with.

A model of the reference says how fluent each n-gram is, but fragments, word salads and menus
are made of fluent n-grams. What gives them away is where their words meet: a line ending after
"returns a", "the of" where two words were swapped, "see also | exit status" where two headings
were joined. ``negatives(lines)`` makes such text from the reference itself (no garbage is
given), one negative per reference line, and ``curate lm train`` trains a model of it beside
the reference model (``en.negatives.arpa``). ``perplexity_filter`` then scores each document's
log-likelihood ratio of the two models per token (Moore & Lewis 2010, "Intelligent selection of
language model training data": the cross-entropy difference of an in-domain and a general model;
here the second model is of what the reference is not).

Four transformations of normalised reference lines, one chosen at random per line:

* ``truncated`` (35%): each sentence of the line cut after a uniform 1..n-1 of its n words; the
  fragments stay on one line or become lines of their own (half each);
* ``shuffled`` (25%): the line's words in random order;
* ``joined`` (25%): 2-8 of the reference's short lines (headings, list items of at most five words)
  joined by a separator, as menus and breadcrumbs are;
* ``numbers`` (15%): 3-8 cells of numbers (integers, decimals, percentages), a few of the line's
  words among them, joined by a separator, as tables are;

and, besides, ``typos``: a copy of 15% of the lines with 15% of their letters replaced by random
letters (typing and OCR errors; the line-end evidence cannot see them, their line ends are
intact).

The input is already normalised (``curate.lm.normalize``: digits are 0), and so is the output.
Everything is done on whole columns (Arrow lists, numpy); a seed makes it deterministic.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

SHARES = {"truncated": 0.35, "shuffled": 0.25, "joined": 0.25, "numbers": 0.15}
TYPO_LINES = 0.15  # share of the lines that also give a copy with typos
TYPO_RATE = 0.15  # share of a typo line's letters replaced by random letters
SEPARATORS = (" | ", " - ", " / ", " > ", " · ", "  ", ", ", " ")
SHORT_WORDS = 5  # a reference line of at most this many words is a heading or a list item
SENTENCE_END = r"[.!?:;]$"


def negatives(lines: pa.Array, seed: int = 0) -> pa.Array:
    """Negative lines made from normalised reference ``lines`` (a string array)."""
    rng = np.random.default_rng(seed)
    lines = pc.utf8_trim_whitespace(lines)
    words = pc.split_pattern_regex(lines, r"\s+")
    n = len(lines)
    kind = rng.choice(len(SHARES), size=n, p=list(SHARES.values()))
    out = [
        _truncated(words.filter(pa.array(kind == 0)), rng),
        _shuffled(words.filter(pa.array(kind == 1)), rng),
        _joined(lines, words, int(np.count_nonzero(kind == 2)), rng),
        _numbers(words.filter(pa.array(kind == 3)), rng),
        _typos(lines.filter(pa.array(rng.random(n) < TYPO_LINES)), rng),
    ]
    result = pa.concat_arrays([a.cast(pa.string()) for a in out])
    return result.filter(pc.greater(pc.utf8_length(result), 0))


def _flat(words: pa.Array) -> tuple[np.ndarray, np.ndarray, pa.Array]:
    """(line of each word, position of each word in its line, the words)."""
    flat = pc.list_flatten(words)
    parent = pc.list_parent_indices(words).to_numpy()
    starts = words.offsets.to_numpy()[:-1] - words.offsets[0].as_py()
    return parent, np.arange(len(flat)) - starts[parent], flat


def _grouped(values: pa.Array, group: np.ndarray, separator: str | pa.Array = " ") -> pa.Array:
    """Join ``values`` (sorted by ``group``, a non-decreasing id) into one string per group."""
    if len(values) == 0:
        return pa.array([], pa.string())
    _, starts = np.unique(group, return_index=True)
    offsets = np.append(starts, len(values)).astype(np.int32)
    return pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), values), separator)


def _truncated(words: pa.Array, rng: np.random.Generator) -> pa.Array:
    """Every sentence cut after 1..n-1 of its n words (uniform); fragments on one line or each
    on its own (half the lines each)."""
    if len(words) == 0:
        return pa.array([], pa.string())
    parent, pos, flat = _flat(words)
    ends = pc.match_substring_regex(flat, SENTENCE_END).to_numpy(zero_copy_only=False)
    starts = (pos == 0) | np.concatenate([[True], ends[:-1]])
    sentence = np.cumsum(starts) - 1
    length = np.bincount(sentence)
    first = np.flatnonzero(starts)
    keep = 1 + np.floor(rng.random(len(length)) * np.maximum(length - 1, 1)).astype(np.int64)
    kept = (np.arange(len(flat)) - first[sentence]) < keep[sentence]
    own_lines = rng.random(len(words)) < 0.5
    group = np.where(own_lines[parent], sentence, -1 - parent)  # sentences, or whole lines
    group = group[kept]
    # renumber groups in order of appearance (ids must not decrease)
    change = np.concatenate([[True], group[1:] != group[:-1]])
    return _grouped(flat.filter(pa.array(kept)), np.cumsum(change))


def _shuffled(words: pa.Array, rng: np.random.Generator) -> pa.Array:
    if len(words) == 0:
        return pa.array([], pa.string())
    parent, _, flat = _flat(words)
    order = np.lexsort((rng.random(len(flat)), parent))
    return _grouped(flat.take(pa.array(order)), parent[order])


def _separators(count: int, rng: np.random.Generator) -> pa.Array:
    return pa.array(np.array(SEPARATORS, dtype=object)[rng.integers(len(SEPARATORS), size=count)])


def _joined(lines: pa.Array, words: pa.Array, count: int, rng: np.random.Generator) -> pa.Array:
    """``count`` lines of 2-8 short reference lines joined by a separator."""
    short = lines.filter(pc.less_equal(pc.list_value_length(words), SHORT_WORDS))
    if count == 0 or len(short) == 0:
        return pa.array([], pa.string())
    sizes = rng.integers(2, 9, size=count)
    items = short.take(pa.array(rng.integers(len(short), size=int(sizes.sum()))))
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), items)
    return pc.binary_join(lists, _separators(count, rng))


def _numbers(words: pa.Array, rng: np.random.Generator) -> pa.Array:
    """3-8 cells per line: numbers of 1-6 digits, decimals, percentages; 30% the line's words."""
    count = len(words)
    if count == 0:
        return pa.array([], pa.string())
    sizes = rng.integers(3, 9, size=count)
    cells = int(sizes.sum())
    line = np.repeat(np.arange(count), sizes)
    digits = rng.integers(1, 7, size=cells)
    integer = pa.array(["0" * d for d in range(7)], pa.string()).take(pa.array(digits))
    form = rng.integers(3, size=cells)  # plain, decimal, percentage
    text = pc.if_else(pa.array(form == 1), pc.binary_join_element_wise(integer, "00", "."), integer)
    text = pc.if_else(pa.array(form == 2), pc.binary_join_element_wise(text, "%", ""), text)
    n_words = pc.list_value_length(words).to_numpy(zero_copy_only=False)
    use_word = (rng.random(cells) < 0.3) & (n_words[line] > 0)
    starts = words.offsets.to_numpy()[:-1] - words.offsets[0].as_py()
    pick = starts[line] + np.floor(rng.random(cells) * np.maximum(n_words[line], 1)).astype(int)
    flat = pc.list_flatten(words)
    word = flat.take(pa.array(np.where(use_word, pick, 0))) if len(flat) else text
    text = pc.if_else(pa.array(use_word), word, text)
    offsets = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int32)
    lists = pa.ListArray.from_arrays(pa.array(offsets), text)
    return pc.binary_join(lists, _separators(count, rng))


def _typos(lines: pa.Array, rng: np.random.Generator) -> pa.Array:
    """``TYPO_RATE`` of the ASCII letters of each line replaced by random letters (bytes a-z are
    never part of a multi-byte UTF-8 character, so the text stays valid)."""
    if len(lines) == 0:
        return pa.array([], pa.string())
    lines = pa.concat_arrays([lines])  # own buffers, offset 0
    offsets, data = lines.buffers()[1], lines.buffers()[2]
    raw = np.frombuffer(data, np.uint8).copy()
    letter = (raw >= ord("a")) & (raw <= ord("z"))
    hit = letter & (rng.random(len(raw)) < TYPO_RATE)
    raw[hit] = rng.integers(ord("a"), ord("z") + 1, size=int(hit.sum()), dtype=np.uint8)
    return pa.StringArray.from_buffers(len(lines), offsets, pa.py_buffer(raw.tobytes()))
