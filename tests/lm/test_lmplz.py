"""KenLM's own estimator, when it is on PATH (``scripts/build_lmplz.sh`` builds it): `curate lm
train` uses it, and curate's estimator writes the same model as lmplz on the same text."""

from __future__ import annotations

import random
import shutil

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.lm.arpa import read_arpa
from curate.lm.score import KenLMScorer
from curate.lm.train import train_model
from tests.conftest import stdlib_docs

pytestmark = pytest.mark.skipif(
    shutil.which("lmplz") is None,
    reason="lmplz is not on PATH (build it with scripts/build_lmplz.sh)",
)


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    root = tmp_path_factory.mktemp("lmplz")
    docs = stdlib_docs()
    random.Random(1).shuffle(docs)
    pq.write_table(pa.table({"text": docs[30:]}), root / "train.parquet")
    models = {
        name: train_model(
            [root / "train.parquet"], root / f"{name}.arpa", sentencepiece=None, estimator=name
        )
        for name in ("lmplz", "curate")
    }
    return models, docs[:30]


def test_auto_uses_lmplz_when_on_path(tmp_path):
    (tmp_path / "a.txt").write_text("the cat sat on the mat\nthe dog sat on the log\n" * 20)
    result = train_model([tmp_path / "a.txt"], tmp_path / "a.arpa", sentencepiece=None, order=3)
    assert result.estimator == "lmplz" and result.ngrams[0] == 10  # 7 words, <s>, </s>, <unk>
    assert result.tokens == 40 * 7


def test_curate_estimator_writes_the_model_lmplz_writes(both):
    models, _ = both
    ours, theirs = (read_arpa(models[k].arpa) for k in ("curate", "lmplz"))
    assert models["curate"].ngrams == models["lmplz"].ngrams
    assert models["curate"].tokens == models["lmplz"].tokens
    # the model of negatives, made from the same lines, goes through the same estimator
    assert models["curate"].negatives_ngrams == models["lmplz"].negatives_ngrams
    assert models["lmplz"].negatives_ngrams and models["lmplz"].negatives.is_file()
    for n, (a, b) in enumerate(zip(ours, theirs), start=1):
        assert a.keys() == b.keys(), n
        grams = [g for g in a if g != ("<s>",)]  # log10 p(<s>): -99 here, 0 in lmplz's file
        logp = np.array([[a[g][0], b[g][0]] for g in grams])
        backoff = np.array([[a[g][1], b[g][1]] for g in a])
        # both files keep about six decimals; measured worst difference 7e-7
        assert np.abs(logp[:, 0] - logp[:, 1]).max() < 2e-6, n
        assert np.abs(backoff[:, 0] - backoff[:, 1]).max() < 2e-6, n


def test_held_out_perplexity_agrees(both):
    models, held = both
    ours, theirs = (
        KenLMScorer(models[k].arpa, "none").perplexity(pa.array(held)) for k in ("curate", "lmplz")
    )
    assert np.isfinite(ours).all() and ours.min() > 1
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
