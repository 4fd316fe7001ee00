from __future__ import annotations

import pyarrow as pa
import pytest
from datatrove.data import Document
from datatrove.pipeline.filters import GopherQualityFilter, GopherRepetitionFilter

from curate.stages.quality_filter import QualityFilter, QualityFilterConfig, whitespace_tokenizer
from tests.conftest import stdlib_docs


@pytest.mark.parametrize("tokenizer", ["gopher", "datatrove"])
def test_same_answers_as_datatrove_directly(tokenizer):
    docs = stdlib_docs()[:120]
    docs += ["buy cheap buy cheap buy cheap " * 40, "short", "1 2 3 4 5 6 7 8 9 " * 30]
    batch = pa.RecordBatch.from_pydict(
        {"id": [str(i) for i in range(len(docs))], "text": docs, "language": ["en"] * len(docs)}
    )
    verdict = QualityFilter(QualityFilterConfig(word_tokenizer=tokenizer)).process(batch)
    kwargs = {"language": whitespace_tokenizer()} if tokenizer == "gopher" else {}
    rep, qual = GopherRepetitionFilter(**kwargs), GopherQualityFilter(**kwargs)
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


def test_domains_limit_the_filter_and_are_counted():
    spam = "buy cheap buy cheap buy cheap " * 40
    batch = pa.RecordBatch.from_pydict(
        {
            "id": ["1", "2", "3"],
            "text": [spam] * 3,
            "language": ["en"] * 3,
            "domain": ["web", "code", None],
        }
    )
    verdict = QualityFilter(QualityFilterConfig(domains=["web"])).process(batch)
    assert [r is not None for r in verdict.reason.to_pylist()] == [True, False, False]
    assert verdict.stats["skipped_domain"] == 2 and verdict.stats["skipped_language"] == 0


def test_whitespace_words_are_gopher_words():
    tok = whitespace_tokenizer()
    assert tok.word_tokenize("Hello, world!  It's\nfine.") == ["Hello,", "world!", "It's", "fine."]
    text = "One sentence. Two sentences! Three"
    assert [text[a:b] for a, b in tok.span_tokenize(text)] == [
        "One sentence.",
        "Two sentences!",
        "Three",
    ]
