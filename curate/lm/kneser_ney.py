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

Memory grows linearly with the training tokens, with no temporary files: counting holds a few
int64 arrays over the padded token sequence, and each distinct n-gram costs about 48 bytes.
Measured with ``curate lm train --sentencepiece none`` on the Linux kernel documentation (23 M
characters, 4.1 M tokens, 8.3 M n-grams of orders 1-5): peak RSS 1.1 GB for the whole command,
about 280 bytes per token, so tens of millions of tokens need several GB. Beyond that, use
``lmplz``, which sorts on disk (``curate lm train`` uses it when it is on PATH).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

UNK, BOS, EOS = 0, 1, 2  # reserved word ids
SPECIALS = ("<unk>", "<s>", "</s>")
FALLBACK_DISCOUNTS = (0.5, 1.0, 1.5)  # lmplz --discount_fallback


@dataclass
class Order:
    """The n-grams of one order: parallel arrays, one entry per distinct n-gram."""

    context: np.ndarray  # index into the previous order (unigrams: unused, zeros)
    word: np.ndarray  # id of the last word
    suffix: np.ndarray  # index into the previous order of words 2..n (unigrams: -1)
    first_word: np.ndarray  # id of the first word
    count: np.ndarray  # raw count
    adjusted: np.ndarray = field(default_factory=lambda: np.zeros(0))
    prob: np.ndarray = field(default_factory=lambda: np.zeros(0))  # p(word | context), linear
    backoff: np.ndarray = field(
        default_factory=lambda: np.zeros(0)
    )  # gamma as a context; 1 if never

    def __len__(self) -> int:
        return len(self.word)


@dataclass
class NGramModel:
    orders: list[Order]  # orders[0] = unigrams
    vocab_size: int  # word ids are < vocab_size
    discounts: list[tuple[float, float, float]]
    tokens: int  # training tokens, </s> included


def pad_sentences(tokens: np.ndarray, lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``<s> w1 .. wk </s>`` for every sentence; returns (sequence, tokens left in sentence)."""
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
    remaining = np.repeat(ends, padded) - np.arange(total)
    return seq, remaining.astype(np.int32)


def count_ngrams(
    tokens: np.ndarray, lengths: np.ndarray, order: int, vocab_size: int
) -> list[Order]:
    """Distinct n-grams of orders 1..order with raw counts, prefix and suffix links."""
    seq, remaining = pad_sentences(tokens, lengths)
    vocab_size = int(vocab_size)
    words, inverse, counts = np.unique(seq, return_inverse=True, return_counts=True)
    if words[0] != UNK:  # <unk> is always in the vocabulary, with count 0
        words = np.concatenate([[UNK], words])
        counts = np.concatenate([[0], counts])
        inverse = inverse + 1
    n1 = len(words)
    orders = [
        Order(
            context=np.zeros(n1, dtype=np.int64),
            word=words.astype(np.int32),
            suffix=np.full(n1, -1, dtype=np.int64),
            first_word=words.astype(np.int32),
            count=counts.astype(np.int64),
        )
    ]
    prev_index = inverse.astype(np.int64)  # index of the n-gram starting at each position
    for n in range(2, order + 1):
        if len(orders[-1]) * vocab_size >= 2**63:
            raise OverflowError("too many n-grams to pack into 64 bits")
        pos = np.flatnonzero(remaining >= n)
        keys = prev_index[pos].astype(np.uint64) * np.uint64(vocab_size) + seq[pos + n - 1]
        keys, first, inv, counts = np.unique(
            keys, return_index=True, return_inverse=True, return_counts=True
        )
        first_pos = pos[first]
        del first
        context = keys // np.uint64(vocab_size)
        word = (keys - context * np.uint64(vocab_size)).astype(np.int32)
        del keys
        orders.append(
            Order(
                context=context.astype(_index_dtype(len(orders[-1]))),
                word=word,
                suffix=prev_index[first_pos + 1].astype(_index_dtype(len(orders[-1]))),
                first_word=seq[first_pos],
                count=counts.astype(np.int64),
            )
        )
        del context, first_pos, counts
        prev_index = np.full(len(seq), -1, dtype=np.int64)
        prev_index[pos] = inv
        del pos, inv
    return orders


def _index_dtype(size: int) -> type:
    return np.int32 if size < 2**31 else np.int64


def discounts_from(adjusted: np.ndarray) -> tuple[float, float, float]:
    """Chen & Goodman's D1, D2, D3+ from counts-of-counts; lmplz's fallback when undefined."""
    t = [int(np.count_nonzero(adjusted == k)) for k in (1, 2, 3, 4)]
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
    for n in range(order):
        o = orders[n]
        if n == order - 1:
            o.adjusted = o.count
        else:
            continuation = np.bincount(orders[n + 1].suffix, minlength=len(o))
            o.adjusted = np.where(o.first_word == BOS, o.count, continuation)
    discounts = []
    for n, o in enumerate(orders):
        usable = o.adjusted[o.word != BOS] if n == 0 else o.adjusted
        discounts.append(discounts_from(usable))
    # unigrams: interpolate with the uniform distribution over the vocabulary without <s>
    uni = orders[0]
    in_vocab = uni.word != BOS
    a = np.where(in_vocab, uni.adjusted, 0).astype(np.float64)
    d_uni, gamma_uni = _discounted(a, np.zeros(len(a), dtype=np.int64), 1, discounts[0])
    uni.prob = np.where(in_vocab, d_uni + gamma_uni[0] / np.count_nonzero(in_vocab), 0.0)
    for n in range(1, order):
        o, lower = orders[n], orders[n - 1]
        discounted, gamma = _discounted(
            o.adjusted.astype(np.float64), o.context, len(lower), discounts[n]
        )
        o.prob = discounted + gamma[o.context] * lower.prob[o.suffix]
        lower.backoff = gamma
    orders[-1].backoff = np.ones(len(orders[-1]))
    return NGramModel(orders, vocab_size, discounts, int(np.sum(lengths) + len(lengths)))


def _discounted(
    adjusted: np.ndarray, context: np.ndarray, n_contexts: int, d: tuple[float, float, float]
) -> tuple[np.ndarray, np.ndarray]:
    """(discounted adjusted count / context total, gamma per context); gamma 1 if no total."""
    k = np.minimum(adjusted, 3).astype(np.int64)
    table = np.array([0.0, *d])
    disc = table[k]
    total = np.bincount(context, weights=adjusted, minlength=n_contexts)
    mass = np.bincount(context, weights=disc, minlength=n_contexts)
    seen = total > 0
    safe = np.where(seen, total, 1.0)
    gamma = np.where(seen, mass / safe, 1.0)
    return (adjusted - disc) / safe[context], gamma
