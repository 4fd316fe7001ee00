"""curate.lm.score: CCNet's perplexity, the line-end surprisal and the negatives log-likelihood
ratio against KenLM's own per-token scores (brute force), and what the extra evidence is for:
fluent fragments and word salads score higher."""

from __future__ import annotations

import random
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.lm.normalize import normalize_lines
from curate.lm.score import KenLMScorer
from curate.lm.train import train_model
from tests.conftest import stdlib_docs


def paragraphs(doc: str) -> str:
    """A docstring with its wrapped lines joined: one paragraph per line, as web text comes."""
    return "\n".join(" ".join(p.split()) for p in re.split(r"\n\s*\n", doc) if p.strip())


@pytest.fixture(scope="module")
def scorer(tmp_path_factory) -> tuple[KenLMScorer, list[str]]:
    from pydoc_data.topics import topics

    root = tmp_path_factory.mktemp("lm")
    docs = [paragraphs(d) for d in stdlib_docs()]
    random.Random(2).shuffle(docs)
    held, train = docs[:80], docs[80:] + [paragraphs(t) for t in topics.values()]
    pq.write_table(pa.table({"text": train}), root / "prose.parquet")
    result = train_model([root / "prose.parquet"], root / "en.arpa", sentencepiece=4000)
    return KenLMScorer(result.arpa), held


def brute_force(scorer: KenLMScorer, docs: list[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three scores from KenLM's full_scores, token by token (the last one is </s>), with
    each line tokenised on its own by SentencePiece."""
    lines, doc = normalize_lines(pa.array(docs))
    total, tokens, ends = np.zeros(len(docs)), np.zeros(len(docs)), np.zeros(len(docs))
    negative = np.zeros(len(docs))
    sp = scorer.tokenizer._sp
    for d, pieces in zip(doc, sp.encode(lines.to_pylist(), out_type=str)):
        line = " ".join(pieces)
        scores = [s for s, _, _ in scorer.model.full_scores(line, bos=True, eos=True)]
        total[d] += sum(scores)
        tokens[d] += len(scores)
        ends[d] -= scores[-1]
        negative[d] += sum(s for s, _, _ in scorer.negatives.full_scores(line, bos=True, eos=True))
    n_lines = np.bincount(doc, minlength=len(docs))
    return 10 ** (-total / tokens), ends / n_lines, (negative - total) / tokens


def test_scores_equal_kenlm_token_by_token(scorer):
    model, held = scorer
    docs = [*held[:40], "Short.\nTwo words\nA line of exactly five tokens, maybe"]
    result = model.score(pa.array(docs))
    pp, surprisal, llr = brute_force(model, docs)
    # KenLM sums float32 probabilities: agreement to ~1e-4 in log10, not bit for bit
    np.testing.assert_allclose(np.log10(result.perplexity), np.log10(pp), atol=1e-3)
    np.testing.assert_allclose(result.line_end_surprisal, surprisal, atol=1e-3)
    np.testing.assert_allclose(result.negatives_llr, llr, atol=1e-3)
    np.testing.assert_array_equal(model.perplexity(pa.array(docs)), result.perplexity)


def test_empty_documents_have_no_scores(scorer):
    result = scorer[0].score(pa.array(["", None, "  \n \n", "Some text."]))
    assert np.isnan(result.perplexity[:3]).all() and np.isnan(result.line_end_surprisal[:3]).all()
    assert np.isnan(result.combined(0.5)[:3]).all() and np.isfinite(result.combined(0.5)[3])


def truncate(doc: str, rng: random.Random) -> str:
    """Every sentence cut after 30-70% of its words."""
    out = []
    for line in doc.split("\n"):
        frags = []
        for sentence in re.split(r"(?<=[.!?])\s+", line):
            words = sentence.split()
            if words:
                frags.append(" ".join(words[: max(1, round(len(words) * rng.uniform(0.3, 0.7)))]))
        out.append(" ".join(frags))
    return "\n".join(out)


def test_line_ends_separate_fluent_fragments(scorer):
    """CCNet's perplexity barely notices sentences cut short; the line-end surprisal does."""
    model, held = scorer
    rng = random.Random(0)
    clean = [d for d in held if len(d) > 300][:40]
    cut = [truncate(d, rng) for d in clean]
    a, b = model.score(pa.array(clean)), model.score(pa.array(cut))

    def auc(x: np.ndarray, y: np.ndarray) -> float:  # P(fragment scores above clean)
        return float(np.mean(y[:, None] > x[None, :]))

    ccnet = auc(a.perplexity, b.perplexity)
    line_ends = auc(a.line_end_surprisal, b.line_end_surprisal)
    combined = auc(a.combined(0.5), b.combined(0.5))
    # measured: CCNet 0.57 (a coin toss), line ends 0.997, perplexity_filter's score 0.89
    assert line_ends > 0.9 and combined > 0.85 and combined > ccnet + 0.1, (
        ccnet,
        line_ends,
        combined,
    )
    assert (a.combined(0) == a.perplexity).all()


def test_negatives_model_separates_word_salad_and_fragments(scorer):
    """The model of negatives ``curate lm train`` writes beside the model: shuffled words and
    cut sentences look more like it than clean held-out text does."""
    model, held = scorer
    assert model.negatives_path and model.negatives_path.endswith("en.negatives.arpa")
    rng = random.Random(1)
    clean = [d for d in held if len(d) > 300][:40]
    salad = []
    for d in clean:
        words = d.split()
        rng.shuffle(words)
        salad.append(" ".join(words))
    cut = [truncate(d, rng) for d in clean]
    a, b, c = (model.score(pa.array(x)).negatives_llr for x in (clean, salad, cut))
    assert np.mean(b[:, None] > a[None, :]) > 0.95
    assert np.mean(c[:, None] > a[None, :]) > 0.7
    # both weights 0: CCNet's perplexity exactly; without a negatives model: no column
    scores = model.score(pa.array(clean))
    assert (scores.combined(0, 0) == scores.perplexity).all()
    alone = KenLMScorer(model.path, negatives="none").score(pa.array(clean))
    assert alone.negatives_llr is None
    np.testing.assert_array_equal(alone.combined(0.5, 2.0), scores.combined(0.5, 0))


def test_tokenising_words_once_gives_the_pieces_of_whole_lines(scorer):
    """SentencePiece never joins two words into a piece, so encoding each distinct word once is
    encoding the line, but where a word has two segmentations of exactly the same score."""
    model, held = scorer
    lines, _ = normalize_lines(pa.array(held))
    sp = model.tokenizer._sp
    whole = [" ".join(p) for p in sp.encode(lines.to_pylist(), out_type=str)]
    by_word = model.tokenizer.tokenize(lines)
    same = sum(a == b for a, b in zip(whole, by_word))
    assert same >= 0.995 * len(whole)
    assert all(sorted(a.split()) == sorted(b.split()) for a, b in zip(whole, by_word))
    assert model.tokenizer.tokenize(pa.array(["a  b", " c", "<s> x"])) == [
        " ".join(sp.encode("a b", out_type=str)),
        " ".join(sp.encode("c", out_type=str)),
        " ".join(sp.encode("[s] x", out_type=str)),
    ]
