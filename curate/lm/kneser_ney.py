"""Interpolated modified Kneser-Ney n-gram estimation, vectorised with numpy.

The model KenLM's ``lmplz`` estimates (Heafield et al., "Scalable Modified Kneser-Ney Language
Model Estimation", ACL 2013), after Chen & Goodman, "An Empirical Study of Smoothing Techniques
for Language Modeling" (1998), section 3:

* Sentences are padded with one ``<s>`` and one ``</s>``; n-grams of every order 1..N are counted.
* Adjusted counts ``a``: raw counts for the highest order and for n-grams that start with
  ``<s>`` (they cannot be extended to the left); otherwise the number of distinct words seen
  immediately to the left (the continuation count).
* Three discounts per order from the counts-of-counts ``t_k`` of adjusted counts:
  ``Y = t1 / (t1 + 2 t2)``, ``D_k = k - (k + 1) Y t_{k+1} / t_k`` for k = 1, 2, 3+. When
  they are undefined (tiny corpora), lmplz's ``--discount_fallback`` values 0.5, 1, 1.5 apply.
* ``p(w | h) = (a(hw) - D(a(hw))) / sum_x a(hx) + gamma(h) p(w | h')`` with
  ``gamma(h) = (D1 N1(h.) + D2 N2(h.) + D3 N3+(h.)) / sum_x a(hx)`` and ``h'`` the context
  without its first word; unigrams interpolate with the uniform distribution over the
  vocabulary (``<unk>`` included, ``<s>`` excluded, as lmplz does). ``gamma(h)`` is the ARPA
  backoff weight of ``h``, so the ARPA file gives exactly these probabilities, and for every
  context the probabilities over the vocabulary sum to one.

How n-grams are stored: the n-grams of order n are the sorted unique values of
``index_of_prefix * V + last_word`` over all positions, so every order is one ``uint64`` array
whatever N is, sorted in the lexicographic order of its words, and each n-gram points to its
prefix (its context) and to its suffix (the (n-1)-gram it backs off to) by index. No pruning.

Memory: counting an order builds the key of every position (8 bytes each) and sorts it in place;
the positions also hold the sequence, a byte of "tokens left in the sentence" and two int32
n-gram indexes (13 bytes); each distinct n-gram then costs 28
bytes (context, word, suffix, raw and adjusted counts as 32-bit integers, probability and
backoff as float32: ARPA keeps six decimals of log10, float32 is exact to about 1e-7 there).
Everything is in memory, so memory grows linearly with the tokens: this is the reference that
``curate.lm.external`` (the same estimator in bounded memory, what ``curate lm train`` runs)
is tested against, byte for byte. Measured with `curate lm
train --sentencepiece none` on the sample dumps' English documents (8.8 M tokens, 10.7 M n-grams
of orders 1-5): peak RSS 850 MB for the whole command, 101 bytes per token (182 before this
layout); ``benchmarks/bench_perplexity.py`` measures it. KenLM's ``lmplz``
(``scripts/build_lmplz.sh`` builds it), which ``curate lm train`` runs when it is on PATH, writes
an ARPA this estimator matches to the sixth decimal (tests/lm/test_lmplz.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

UNK, BOS, EOS = 0, 1, 2  # reserved word ids
SPECIALS = ("<unk>", "<s>", "</s>")
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)  # lmplz --discount_fallback


CHUNK = 1 << 21  # positions counted at a time


@dataclass
class Order:
    """The n-grams of one order: parallel arrays, one entry per distinct n-gram."""

    context: np.ndarray  # index into the previous order (unigrams: zeros)
    word: np.ndarray  # id of the last word
    suffix: np.ndarray  # index into the previous order of words 2..n (unigrams: -1)
    count: np.ndarray  # raw count
    adjusted: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32))
    prob: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))  # p(word | context)
    # gamma as a context; 1 if never one; empty for the top order (never a context)
    backoff: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))

    def __len__(self) -> int:
        return len(self.word)


@dataclass
class NGramModel:
    orders: list[Order]  # orders[0] = unigrams
    vocab_size: int  # word ids are < vocab_size
    discounts: list[tuple[float, float, float]]
    tokens: int  # training tokens, </s> included


def pad_sentences(tokens: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``<s> w1 .. wk </s>`` for every sentence; returns (sequence, tokens left in sentence,
    capped at 255: only compared with the order)."""
    lengths = np.asarray(lengths, dtype=np.int64)
    padded = lengths + 2
    total = int(padded.sum())
    ends = np.cumsum(padded)
    starts = ends - padded
    seq = np.empty(total, dtype=np.int32)
    inner = np.ones(total, dtype=bool)
    inner[starts] = False
    inner[ends - 1] = False
    seq[starts] = BOS
    seq[ends - 1] = EOS
    seq[inner] = tokens
    del inner
    remaining = np.empty(total, dtype=np.uint8)
    for lo in range(0, total, CHUNK):  # ends[sentence] - position, in chunks
        pos = np.arange(lo, min(lo + CHUNK, total))
        left = ends[np.searchsorted(ends, pos, side="right")] - pos
        remaining[lo : lo + CHUNK] = np.minimum(left, 255)
    return seq, remaining


def count_ngrams(
    tokens: np.ndarray, lengths: np.ndarray, order: int, vocab_size: int
) -> list[Order]:
    """Distinct n-grams of orders 1..order with raw counts, prefix and suffix links."""
    seq, remaining = pad_sentences(tokens, lengths)
    vocab_size = int(vocab_size)
    if order > 255:
        raise ValueError("order must be below 256")
    counts = np.bincount(seq, minlength=UNK + 1)
    words = np.flatnonzero(counts)
    if words[0] != UNK:  # <unk> is always in the vocabulary, with count 0
        words = np.concatenate([[UNK], words])
    lookup = np.zeros(len(counts), dtype=np.int32)
    lookup[words] = np.arange(len(words), dtype=np.int32)
    orders = [
        Order(
            context=np.zeros(len(words), dtype=np.int32),
            word=words.astype(np.int32),
            suffix=np.full(len(words), -1, dtype=np.int32),
            count=counts[words].astype(np.uint32),
        )
    ]
    del counts
    prev_index = lookup[seq]  # index of the n-gram starting at each position
    for n in range(2, order + 1):
        lower = orders[-1]
        if len(lower) * vocab_size >= 2**63:
            raise OverflowError("too many n-grams to pack into 64 bits")
        if len(lower) >= 2**31:
            raise OverflowError("more than 2**31 n-grams of one order")
        v = np.uint64(vocab_size)
        # every position's key in one array, sorted in place: 8 bytes per position, no argsort
        keys = np.empty(int(np.count_nonzero(remaining >= n)), dtype=np.uint64)
        filled = 0
        for lo in range(0, len(seq), CHUNK):
            chunk_keys = _chunk_keys(seq, remaining, prev_index, n, lo, v)[1]
            keys[filled : filled + len(chunk_keys)] = chunk_keys
            filled += len(chunk_keys)
        keys.sort()
        starts = np.flatnonzero(np.concatenate(([len(keys) > 0], keys[1:] != keys[:-1])))
        count = np.diff(np.append(starts, len(keys)))
        keys = keys[starts]
        del starts
        context = (keys // v).astype(np.int32)
        word = (keys - context.astype(np.uint64) * v).astype(np.int32)
        if n == 2:
            suffix = lookup[word]
        else:  # (suffix of the context, word) in the order below
            below = lower.context.astype(np.uint64) * v + lower.word.astype(np.uint64)
            wanted = lower.suffix[context].astype(np.uint64) * v + word.astype(np.uint64)
            suffix = np.searchsorted(below, wanted).astype(np.int32)
            del below, wanted
        next_index = np.full(len(seq), -1, dtype=np.int32)
        for lo in range(0, len(seq), CHUNK):
            pos, chunk_keys = _chunk_keys(seq, remaining, prev_index, n, lo, v)
            next_index[pos] = np.searchsorted(keys, chunk_keys)
        del keys
        orders.append(Order(context, word, suffix, count.astype(np.uint32)))
        prev_index = next_index
    return orders


def _chunk_keys(
    seq: np.ndarray, remaining: np.ndarray, prev_index: np.ndarray, n: int, lo: int, v: np.uint64
) -> tuple[np.ndarray, np.ndarray]:
    """Positions in [lo, lo + CHUNK) that start an n-gram, and its key (prefix index, word)."""
    pos = lo + np.flatnonzero(remaining[lo : lo + CHUNK] >= n)
    return pos, prev_index[pos].astype(np.uint64) * v + seq[pos + n - 1].astype(np.uint64)


def discounts_from(adjusted: np.ndarray) -> tuple[float, float, float]:
    """Chen & Goodman's D1, D2, D3+ from adjusted counts (see discounts_from_counts)."""
    return discounts_from_counts([int(np.count_nonzero(adjusted == k)) for k in (1, 2, 3, 4)])


def discounts_from_counts(t: list[int]) -> tuple[float, float, float]:
    """D1, D2, D3+ from the counts-of-counts t1..t4; lmplz's fallback when undefined."""
    if min(t) == 0:
        return FALLBACK_DISCOUNTS
    y = t[0] / (t[0] + 2 * t[1])
    d = tuple(k - (k + 1) * y * t[k] / t[k - 1] for k in (1, 2, 3))
    if not all(0 < dk < k for dk, k in zip(d, (1, 2, 3))):
        return FALLBACK_DISCOUNTS
    return d  # type: ignore[return-value]


def estimate(
    tokens: np.ndarray,
    lengths: np.ndarray,
    vocab_size: int,
    order: int = 5,
) -> NGramModel:
    """Modified Kneser-Ney model of ``order`` from sentences of word ids (see module doc).

    ``tokens`` is every sentence's word ids concatenated (ids >= 3; 0..2 are <unk>, <s>, </s>),
    ``lengths`` the number of words in each sentence.
    """
    if order < 1:
        raise ValueError("order must be at least 1")
    orders = count_ngrams(tokens, lengths, order, vocab_size)
    # adjusted counts: continuation counts, except at the top order and after <s>
    after_bos = orders[0].word == BOS  # n-grams whose first word is <s>
    for n in range(order):
        o = orders[n]
        if n > 0:
            after_bos = after_bos[o.context]
        if n == order - 1:
            o.adjusted = o.count
        else:
            continuation = np.bincount(orders[n + 1].suffix, minlength=len(o))
            o.adjusted = np.where(after_bos, o.count, continuation).astype(np.uint32)
            del continuation
    del after_bos
    discounts = []
    for n, o in enumerate(orders):
        usable = o.adjusted[o.word != BOS] if n == 0 else o.adjusted
        discounts.append(discounts_from(usable))
    # unigrams: interpolate with the uniform distribution over the vocabulary without <s>
    uni = orders[0]
    in_vocab = uni.word != BOS
    a = np.where(in_vocab, uni.adjusted, 0).astype(np.float64)
    d_uni, gamma_uni = _discounted(a, np.zeros(len(a), dtype=np.int64), 1, discounts[0])
    prob = np.where(in_vocab, d_uni + gamma_uni[0] / np.count_nonzero(in_vocab), 0.0)
    uni.prob = prob.astype(np.float32)
    for n in range(1, order):
        o, lower = orders[n], orders[n - 1]
        discounted, gamma = _discounted(o.adjusted, o.context, len(lower), discounts[n])
        discounted += gamma[o.context] * prob[o.suffix]  # interpolate with the order below
        prob = discounted  # float64 along the chain, float32 when stored
        o.prob = prob.astype(np.float32)
        lower.backoff = gamma.astype(np.float32)
        del gamma
    orders[-1].backoff = np.zeros(0, np.float32)  # the top order is never a context
    return NGramModel(orders, vocab_size, discounts, int(np.sum(lengths) + len(lengths)))


def _discounted(
    adjusted: np.ndarray, context: np.ndarray, n_contexts: int, d: tuple[float, float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """(discounted adjusted count / context total, gamma per context); gamma 1 if no total."""
    table = np.array([0.0, *d])
    disc = table[np.minimum(adjusted, 3).astype(np.intp)]
    adjusted = adjusted.astype(np.float64)
    total = np.bincount(context, weights=adjusted, minlength=n_contexts)
    mass = np.bincount(context, weights=disc, minlength=n_contexts)
    seen = total > 0
    safe = np.where(seen, total, 1.0)
    gamma = np.where(seen, mass / safe, 1.0)
    return (adjusted - disc) / safe[context], gamma
