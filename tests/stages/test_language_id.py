from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.config import parse_pipeline
from curate.errors import ConfigError
from curate.executors.local import LocalExecutor
from curate.fasttext_model import FastTextModel, lid_model_path, one_line_prefix
from curate.pipeline import run_pipeline
from curate.report import check_balance
from curate.stages.base import make_stage
from tests.conftest import stdlib_docs
from tests.man_pages import read_pages
from tests.stages.domain_texts import code_texts

_ROFF = re.compile(r"\\f[BIRP]|\\\(..|\\\*\(..|\\[-&e ]|\\s[-+]?\d")


def man_pages(lang: str, limit: int = 60) -> list[str]:
    """Translated Debian man pages, roff requests and font escapes stripped."""
    out = []
    for raw in read_pages(lang, min(limit, 20), limit):
        lines = [ln for ln in raw.splitlines() if not ln.startswith((".", "'"))]
        text = _ROFF.sub(" ", "\n".join(lines))
        if len(text) > 300:
            out.append(text)
    return out


def stage(**params):
    return make_stage("language_id", params, "language_id")


def test_real_text_in_five_languages():
    """lid.176 on real documents: English docstrings, Chinese/French/German/Russian man pages.

    Translated man pages keep some untranslated sections, so the floor is 80% for them.
    """
    english = stdlib_docs(300)[:150]
    v = stage().process(pa.record_batch({"text": english}))
    predicted = v.batch.column("language").to_pylist()
    assert predicted.count("en") / len(english) >= 0.97
    for folder, code in (("zh_CN", "zh"), ("fr", "fr"), ("de", "de"), ("ru", "ru")):
        pages = man_pages(folder)
        assert len(pages) >= 20, folder
        v = stage().process(pa.record_batch({"text": pages}))
        assert v.batch.column("language").to_pylist().count(code) / len(pages) >= 0.8, folder
        if code != "zh":  # only en and zh are kept by default
            kept = sum(r is None for r in v.reason.to_pylist())
            assert kept <= 0.2 * len(pages)


def test_batched_prediction_equals_one_line_at_a_time():
    model = FastTextModel(lid_model_path())
    texts = pa.array(stdlib_docs()[:50] + man_pages("zh_CN", 20) + ["", "  \n "])
    lines = one_line_prefix(texts, 1000)
    labels, scores = model.predict(lines)
    for line, label, score in zip(lines, labels.to_pylist(), scores.tolist()):
        single = model._model.predict(line, 1, 0.0, "strict")
        if not single:
            assert label is None and score == 0.0
            continue
        ((p, lab),) = single
        assert lab == "__label__" + label
        assert score == pytest.approx(p, abs=1e-6)


def test_prefix_is_one_line_and_capped():
    lines = one_line_prefix(pa.array(["a\n\nb\tc  d", "x" * 5000, None]), 100)
    assert lines == ["a b c d", "x" * 100, ""]


def test_decisions_and_disagreements():
    english = stdlib_docs(300)[:20]
    chinese = man_pages("zh_CN", 40)[:10]
    texts = english + chinese + ["x"]
    given = ["en"] * 18 + ["zh", "fr"] + ["zh"] * len(chinese) + [None]
    batch = pa.record_batch({"text": texts, "language": given})
    v = stage(min_score=0.5).process(batch)
    s = v.stats
    assert s["input_language_rows"] == len(texts) - 1
    predicted = v.batch.column("language").to_pylist()
    wrong = sum(g is not None and g != p for g, p in zip(given, predicted))
    assert s["input_language_disagreements"] == wrong >= 2
    assert s["disagreement:zh->en"] >= 1 and s["disagreement:fr->en"] == 1
    assert v.batch.column("language_score").type == pa.float32()
    reasons = v.reason.to_pylist()
    scores = v.batch.column("language_score").to_pylist()
    for r, lang, score in zip(reasons, predicted, scores):
        if lang not in ("en", "zh"):
            assert r == "language_other"
        elif score < 0.5:
            assert r == "language_low_score"
        else:
            assert r is None


def test_exempt_domains_are_annotated_not_removed():
    code = code_texts()[:30]
    batch = pa.record_batch({"text": code, "domain": ["code"] * 15 + ["web"] * 15})
    v = stage(min_score=0.99).process(batch)  # nothing reaches 0.99 on source code
    reasons = v.reason.to_pylist()
    assert all(r is None for r in reasons[:15])
    assert all(r is not None for r in reasons[15:])
    assert v.stats["exempt_kept"] == 15
    assert v.batch.column("language").null_count == 0


def test_in_a_pipeline_every_document_is_accounted(corpus, tmp_path):
    root, truth = corpus
    config = parse_pipeline(
        {
            "name": "t",
            "input": str(root),
            "output": str(tmp_path / "out"),
            "stages": [{"language_id": {}}],
            "batch_size": 16,
        }
    )
    ex = LocalExecutor(1)
    try:
        report = run_pipeline(config, ex)
    finally:
        ex.close()
    assert check_balance(report) == []
    s = report["stages"][0]
    assert s["docs_in"] == truth["rows"] - truth["bad_rows"]
    assert s["extra"]["input_language_rows"] == s["docs_in"]  # the fixture says "en" everywhere
    kept = pa.concat_tables(pq.read_table(f) for f in (tmp_path / "out" / "data").glob("*.parquet"))
    assert set(kept["language"].to_pylist()) <= {"en", "zh"}
    assert pa.compute.min(kept["language_score"]).as_py() >= 0.65


@pytest.mark.parametrize(
    "params, message",
    [
        ({"languages": []}, "at least one"),
        ({"min_score": 1.5}, "probability"),
        ({"model": "/nonexistent/lid.bin"}, "no such file"),
    ],
)
def test_config_errors(params, message):
    with pytest.raises(ConfigError, match=message):
        stage(**params)
