"""curate.lm.negatives: each transformation does what it says to real reference lines, the
mix follows its shares, and the output is normalised text a model can be trained on."""

from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from curate.lm import negatives as neg
from curate.lm.normalize import normalize_lines
from tests.conftest import stdlib_docs


@pytest.fixture(scope="module")
def lines() -> pa.Array:
    text, _ = normalize_lines(pa.array(stdlib_docs()[:300]))
    return text


def words_of(lines: pa.Array) -> pa.Array:
    return pc.split_pattern_regex(pc.utf8_trim_whitespace(lines), r"\s+")


def test_shuffled_lines_are_permutations_of_their_source(lines):
    source = words_of(lines).to_pylist()
    out = neg._shuffled(words_of(lines), np.random.default_rng(0)).to_pylist()
    assert len(out) == len(source)
    assert all(Counter(o.split(" ")) == Counter(s) for o, s in zip(out, source))
    moved = sum(o.split(" ") != s for o, s in zip(out, source) if len(set(s)) > 3)
    assert moved > 0.9 * sum(len(set(s)) > 3 for s in source)


def synthetic(n: int, seed: int) -> list[list[str]]:
    """Lines of unique words ``l3w7`` (line 3, word 7); some end a sentence (``.`` ``;`` ``?``),
    so every word tells where it came from."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        words = [f"l{i}w{j}" for j in range(int(rng.integers(1, 30)))]
        for j in range(len(words) - 1):
            if rng.random() < 0.15:
                words[j] += str(rng.choice([".", ";", "?"]))
        out.append(words)
    return out


def test_truncated_keeps_a_proper_prefix_of_every_sentence():
    """Brute force on unique words: each sentence keeps its first k words, 1 <= k < n (k = 1
    for a one-word sentence); fragments stay in order, on their line or on lines of their own."""
    source = synthetic(300, 0)
    lines = pa.array([" ".join(w) for w in source])
    out = neg._truncated(words_of(lines), np.random.default_rng(1)).to_pylist()
    kept = [w for line in out for w in line.split(" ")]
    expected_order = [w for words in source for w in words]
    position = {w: i for i, w in enumerate(expected_order)}
    assert [position[w] for w in kept] == sorted(position[w] for w in kept)
    kept_set = set(kept)
    for words in source:
        start = 0
        for j, w in enumerate(words):
            if re.search(neg.SENTENCE_END, w) or j == len(words) - 1:
                sentence = words[start : j + 1]
                k = sum(x in kept_set for x in sentence)
                assert sentence[:k] == [x for x in sentence if x in kept_set]
                assert k >= 1 and (k < len(sentence) or len(sentence) == 1), sentence
                start = j + 1
    # a line of its own per fragment in about half the lines
    assert len(source) < len(out) < 3 * len(source)
    one_line = [line for line in out if len({w.split("w")[0] for w in line.split(" ")}) == 1]
    assert len(one_line) == len(out)  # fragments of two lines are never joined


def test_joined_lines_are_two_to_eight_short_lines_with_a_separator():
    source = synthetic(400, 2)
    lines = pa.array([" ".join(w) for w in source])
    short = {" ".join(w) for w in source if len(w) <= neg.SHORT_WORDS}
    out = neg._joined(lines, words_of(lines), 300, np.random.default_rng(3)).to_pylist()
    assert len(out) == 300
    separators = Counter()
    for line in out:
        tokens = [t.rstrip(",") for t in line.split() if t not in ("|", "-", "/", ">", "·")]
        # consecutive words of one source line form an item; every item is a short line
        items, cur = [], [tokens[0]]
        for t in tokens[1:]:
            same = t.split("w")[0] == cur[-1].split("w")[0] and t not in cur
            if same and int(t.split("w")[1].rstrip(".;?")) > int(
                cur[-1].split("w")[1].rstrip(".;?")
            ):
                cur.append(t)
            else:
                items.append(cur)
                cur = [t]
        items.append(cur)
        assert all(" ".join(i) in short for i in items), line
        assert len(items) <= 8
        separators[next((s for s in neg.SEPARATORS if s in line), " ")] += 1
    assert len(separators) >= 5  # a separator per line, drawn from all of them


def test_number_cells_are_normalised_numbers_or_the_lines_words(lines):
    words = words_of(lines.slice(0, 300))
    out = neg._numbers(words, np.random.default_rng(3)).to_pylist()
    assert len(out) == 300
    number = re.compile(r"^0+(\.00)?%?,?$")
    cells = numbers = 0
    for line, source in zip(out, words.to_pylist()):
        for cell in line.split():
            if cell in ("|", "-", "/", ">", "·"):
                continue
            cells += 1
            numbers += bool(number.match(cell))
            assert number.match(cell) or any(cell.rstrip(",") in w for w in source), (cell, line)
        assert not re.search(r"[1-9]", line) or re.search(r"[1-9]", " ".join(source))
    assert 0.6 < numbers / cells < 0.8  # 70% numbers


def test_mix_follows_the_shares_and_is_deterministic(lines):
    a, b = neg.negatives(lines, seed=0), neg.negatives(lines, seed=0)
    assert a.equals(b) and not a.equals(neg.negatives(lines, seed=1))
    assert pc.all(pc.greater(pc.utf8_length(a), 0)).as_py()
    assert not pc.any(pc.match_substring(a, "\n")).as_py()
    # every source line gives one negative (truncations with own lines give more)
    assert len(lines) <= len(a) < 2 * len(lines)
    digits_only = pc.match_substring_regex(a, r"^(0+(\.00)?%?\W*)+")
    assert 0.05 < pc.mean(pc.cast(digits_only, pa.int8())).as_py() < 0.3


def test_empty_input():
    assert len(neg.negatives(pa.array([], pa.string()))) == 0
    assert 1 <= len(neg.negatives(pa.array(["one"]))) <= 2  # and maybe a copy with typos


def test_typos_replace_about_their_share_of_ascii_letters_only():
    source = ["hello world, this is a line of text", "ça va très bien, merci 00 fois"] * 200
    out = neg._typos(pa.array(source).slice(1, 398), np.random.default_rng(4)).to_pylist()
    assert len(out) == 398
    changed = letters = 0
    for a, b in zip(source[1:399], out):
        assert len(a) == len(b)  # valid text, character for character
        for x, y in zip(a, b):
            if x != y:
                assert "a" <= x <= "z" and "a" <= y <= "z", (x, y)
            letters += "a" <= x <= "z"
            changed += x != y
    # replaced by a random letter: the same one 1 time in 26
    assert abs(changed / letters - neg.TYPO_RATE * 25 / 26) < 0.02
