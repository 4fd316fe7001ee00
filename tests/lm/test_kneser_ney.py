"""The estimator against brute force, the ARPA it writes against its own semantics and KenLM."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict

import kenlm
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.lm.arpa import read_arpa, write_arpa
from curate.lm.kneser_ney import BOS, EOS, SPECIALS, discounts_from, estimate
from curate.lm.normalize import normalize_lines
from curate.lm.tokenizer import Tokenizer
from curate.lm.train import train_model
from tests.conftest import stdlib_docs


def sentences_of(docs: list[str]) -> list[list[str]]:
    lines, _ = normalize_lines(pa.array(docs))
    return [s.split(" ") for s in Tokenizer().tokenize(lines)]


def encode(sentences: list[list[str]]) -> tuple[np.ndarray, np.ndarray, list[str]]:
    vocab = list(SPECIALS)
    ids: dict[str, int] = {}
    flat = []
    for s in sentences:
        for w in s:
            if w not in ids:
                ids[w] = len(vocab)
                vocab.append(w)
            flat.append(ids[w])
    return np.array(flat, np.int32), np.array([len(s) for s in sentences]), vocab


@pytest.fixture(scope="module")
def corpus() -> tuple[list[list[str]], list[list[str]]]:
    docs = stdlib_docs()
    random.Random(1).shuffle(docs)
    return sentences_of(docs[:150]), sentences_of(docs[-30:])


@pytest.fixture(scope="module")
def arpa(corpus, tmp_path_factory) -> tuple[str, list[str]]:
    train, _ = corpus
    tokens, lengths, vocab = encode(train)
    model = estimate(tokens, lengths, len(vocab), order=4)
    path = tmp_path_factory.mktemp("lm") / "m.arpa"
    write_arpa(model, vocab, path, header=["test model"])
    return str(path), vocab


def brute_force_kn(sentences: list[list[str]], order: int) -> dict[tuple[str, ...], float]:
    """Interpolated modified Kneser-Ney written from Chen & Goodman with dicts: p(w | h)."""
    counts: list[Counter] = [Counter() for _ in range(order + 1)]
    for s in sentences:
        seq = ["<s>", *s, "</s>"]
        for n in range(1, order + 1):
            for i in range(len(seq) - n + 1):
                counts[n][tuple(seq[i : i + n])] += 1
    adjusted: list[dict] = [{} for _ in range(order + 1)]
    adjusted[order] = dict(counts[order])
    for n in range(1, order):
        left: dict = defaultdict(set)
        for g in counts[n + 1]:
            left[g[1:]].add(g[0])
        for g, c in counts[n].items():
            adjusted[n][g] = c if g[0] == "<s>" else len(left[g])
    adjusted[1][("<unk>",)] = 0
    probs: dict[tuple[str, ...], float] = {}
    vocab = [g for g in adjusted[1] if g != ("<s>",)]
    for n in range(1, order + 1):
        values = [a for g, a in adjusted[n].items() if not (n == 1 and g == ("<s>",))]
        d = discounts_from(np.array(values))
        by_context: dict = defaultdict(list)
        for g, a in adjusted[n].items():
            if n == 1 and g == ("<s>",):
                continue
            by_context[g[:-1]].append((g, a))
        for items in by_context.values():
            total = sum(a for _, a in items)
            mass = sum(d[min(a, 3) - 1] for _, a in items if a > 0)
            gamma = mass / total
            for g, a in items:
                discounted = (a - (d[min(a, 3) - 1] if a > 0 else 0)) / total
                lower = 1 / len(vocab) if n == 1 else probs[g[1:]]
                probs[g] = discounted + gamma * lower
    return probs


def arpa_prob(models, word: str, context: tuple[str, ...]) -> float:
    """log10 p(word | context) by ARPA back-off semantics."""
    for start in range(len(context) + 1):
        h = context[start:]
        g = (*h, word)
        if len(g) <= len(models) and g in models[len(g) - 1]:
            backoff = sum(models[len(x) - 1].get(x, (0, 0))[1] for x in _suffixes(context, start))
            return models[len(g) - 1][g][0] + backoff
    raise AssertionError(f"{word} not in the vocabulary")


def _suffixes(context, upto):
    # the contexts we backed off from: context[0:], context[1:], ..., context[upto-1:]
    return [context[i:] for i in range(upto) if context[i:]]


def test_counts_and_probabilities_match_brute_force(corpus, arpa):
    train, _ = corpus
    path, _ = arpa
    expected = brute_force_kn(train, 4)
    models = read_arpa(path)
    got = {g: v[0] for m in models for g, v in m.items()}
    assert set(got) == set(expected) | {("<s>",)}
    worst = max(abs(got[g] - math.log10(p)) for g, p in expected.items())
    assert worst < 2e-6  # ARPA keeps six decimals


def test_probabilities_and_backoff_sum_to_one_per_context(arpa):
    path, _ = arpa
    models = read_arpa(path)
    vocab = [g[0] for g in models[0] if g != ("<s>",)]
    contexts = [g for m in models[:-1] for g, (_, b) in m.items() if g[-1] != "</s>"]
    rng = random.Random(0)
    sample = [("<s>",), ()] + rng.sample(contexts, 150)
    for h in sample:
        total = sum(10 ** arpa_prob(models, w, h) for w in vocab)
        assert total == pytest.approx(1.0, abs=1e-4), h


def test_kenlm_loads_it_and_its_distributions_sum_to_one(arpa):
    path, vocab = arpa
    model = kenlm.Model(path)
    assert model.order == 4
    words = [w for w in vocab if w != "<s>"]
    rng = random.Random(0)
    for _ in range(20):
        state, nxt = kenlm.State(), kenlm.State()
        model.BeginSentenceWrite(state)
        for w in rng.sample(words[3:], rng.randint(0, 3)):
            model.BaseScore(state, w, nxt)
            state, nxt = nxt, state
        total = sum(10 ** model.BaseScore(state, w, kenlm.State()) for w in words)
        assert total == pytest.approx(1.0, abs=1e-4)


def test_kenlm_scores_equal_arpa_semantics(corpus, arpa):
    _, held = corpus
    path, _ = arpa
    model, models = kenlm.Model(path), read_arpa(path)
    known = {g[0] for g in models[0]}
    for s in held[:50]:
        words = [w if w in known else "<unk>" for w in s] + ["</s>"]
        ours = sum(
            arpa_prob(models, w, tuple(["<s>", *words[:i]][-3:])) for i, w in enumerate(words)
        )
        assert model.score(" ".join(s)) == pytest.approx(ours, abs=1e-3)


def test_held_out_clean_text_far_below_shuffled(tmp_path):
    """The CCNet recipe end to end: SentencePiece + 5-gram on real prose; held-out documents
    score far better than the same documents with their words shuffled."""
    from pydoc_data.topics import topics

    docs = stdlib_docs()
    random.Random(1).shuffle(docs)
    train, held = docs[:-30] + list(topics.values()), docs[-30:]
    pq.write_table(pa.table({"text": train}), tmp_path / "train.parquet")
    result = train_model([tmp_path / "train.parquet"], tmp_path / "en.arpa", sentencepiece=4000)
    assert result.sentencepiece == tmp_path / "en.sp.model" and result.ngrams[4] > 0
    model, tokenizer = kenlm.Model(str(result.arpa)), Tokenizer(result.sentencepiece)
    rng = random.Random(0)

    def perplexity(documents):
        lines, _ = normalize_lines(pa.array(documents))
        tokens = tokenizer.tokenize(lines)
        log10 = sum(model.score(t) for t in tokens)
        return 10 ** (-log10 / sum(len(t.split()) + 1 for t in tokens))

    shuffled = [" ".join(rng.sample(d.split(), len(d.split()))) for d in held]
    clean, noisy = perplexity(held), perplexity(shuffled)
    assert noisy > 3 * clean, (clean, noisy)  # measured: 147 vs 648


def test_discounts_follow_chen_goodman():
    adjusted = np.array([1] * 100 + [2] * 40 + [3] * 20 + [4] * 10 + [9] * 5)
    y = 100 / (100 + 2 * 40)
    assert discounts_from(adjusted) == pytest.approx(
        (1 - 2 * y * 40 / 100, 2 - 3 * y * 20 / 40, 3 - 4 * y * 10 / 20)
    )
    assert discounts_from(np.array([1, 1, 2])) == (0.5, 1.0, 1.5)  # lmplz's fallback


def test_sentence_padding_and_special_ids():
    model = estimate(np.array([3, 4, 3], np.int32), np.array([2, 1]), 5, order=2)
    uni = model.orders[0]
    assert dict(zip(uni.word.tolist(), uni.count.tolist())) == {0: 0, BOS: 2, EOS: 2, 3: 2, 4: 1}
    bigrams = {
        (int(uni.word[c]), int(w)): int(n)
        for c, w, n in zip(model.orders[1].context, model.orders[1].word, model.orders[1].count)
    }
    assert bigrams == {(BOS, 3): 2, (3, 4): 1, (4, EOS): 1, (3, EOS): 1}
