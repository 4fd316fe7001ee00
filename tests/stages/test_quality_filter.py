from __future__ import annotations

import pyarrow as pa
from datatrove.data import Document
from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter

from curate.stages.quality_filter import QualityFilter, QualityFilterConfig
from tests.conftest import stdlib_docs


def test_same_answers_as_datatrove_directly():
    docs = stdlib_docs()[:120]
    docs += ["buy cheap buy cheap buy cheap " * 40, "short", "1 2 3 4 5 6 7 8 9 " * 30]
    batch = pa.RecordBatch.from_pydict(
        {"id": [str(i) for i in range(len(docs))], "text": docs, "language": ["en"] * len(docs)}
    )
    verdict = QualityFilter(QualityFilterConfig()).process(batch)
    rep, qual = GopherRepetitionFilter(), GopherQualityFilter()
    expected = []
    for i, text in enumerate(docs):
        reason = None
        for rule, flt in (("gopher_repetition", rep), ("gopher_quality", qual)):
            answer = flt.filter(Document(text=text, id=str(i)))
            keep, why = answer if isinstance(answer, tuple) else (answer, None)
            if not keep:
                reason = f"{rule}:{why}"
                break
        expected.append(reason)
    assert verdict.reason.to_pylist() == expected
    assert 0 < sum(r is not None for r in expected) < len(docs)  # the test means something


def test_other_languages_pass_through_and_are_counted():
    batch = pa.RecordBatch.from_pydict(
        {"id": ["1", "2"], "text": ["短", "short"], "language": ["zh", None]}
    )
    verdict = QualityFilter(QualityFilterConfig()).process(batch)
    assert verdict.reason.to_pylist() == [None, None]
    assert verdict.stats["skipped_language"] == 2


def test_c4_edits_text():
    text = "This line ends properly with a period.\nno terminal punctuation here\n" * 3
    text += "Another complete sentence is right here. And one more sentence follows it."
    batch = pa.RecordBatch.from_pydict({"id": ["1"], "text": [text], "language": ["en"]})
    cfg = QualityFilterConfig(rules=["c4_quality"], params={"c4_quality": {"min_num_sentences": 1}})
    verdict = QualityFilter(cfg).process(batch)
    assert verdict.reason.to_pylist() == [None]
    assert "no terminal punctuation" not in verdict.batch.column("text")[0].as_py()
    assert verdict.stats["docs_edited"] == 1
