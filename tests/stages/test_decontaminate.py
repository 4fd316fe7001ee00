"""decontaminate: n-gram overlap with evaluation sets, checked against a brute-force set of
n-gram strings on real text; JSONL and Parquet sets, which set a removal hit, the errors."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.config import parse_pipeline
from curate.errors import ConfigError
from curate.executors.local import LocalExecutor
from curate.minhash import tokens
from curate.pipeline import run_pipeline
from curate.report import check_balance
from curate.stages.decontaminate import Decontaminate, DecontaminateConfig
from tests.conftest import stdlib_docs

ROOT = Path(__file__).resolve().parents[2]


def ngram_strings(text: str, n: int) -> set[str]:
    toks = tokens(pa.array([text]))[0].as_py() or []
    if not toks:
        return set()
    return {" ".join(toks[i : i + n]) for i in range(max(len(toks) - n + 1, 1))}


def write_jsonl(path: Path, rows: list[dict]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(path)


@pytest.fixture(scope="module")
def docs() -> list[str]:
    out = stdlib_docs()
    random.Random(4).shuffle(out)
    return out


def test_matches_brute_force_ngram_sets(docs, tmp_path):
    """Eval items quote windows of some documents (13+ words), others are unrelated; the stage's
    answer equals the exact computation over n-gram strings, for several n."""
    rng = random.Random(0)
    quoted = docs[:40]
    items = []
    for d in quoted[:20]:
        words = d.split()
        start = rng.randrange(max(1, len(words) - 20))
        items.append(
            {"question": "Which module says this?", "answer": " ".join(words[start : start + 16])}
        )
    for d in docs[200:230]:  # eval items from documents not in the corpus
        items.append({"question": d[:200], "answer": "unknown"})
    path = write_jsonl(tmp_path / "bench.jsonl", items)
    corpus = quoted + docs[40:120]
    for n in (8, 13):
        stage = Decontaminate(DecontaminateConfig(eval_sets=[path], ngram=n))
        verdict = stage.process(pa.record_batch({"text": corpus}))
        got = np.array(verdict.reason.is_valid())
        grams = set().union(*(ngram_strings(t, n) for i in items for t in i.values()))
        want = np.array([bool(ngram_strings(d, n) & grams) for d in corpus])
        assert (got == want).all(), (n, np.flatnonzero(got != want))
        assert got[:20].all()  # every quoted document is found


def test_parquet_and_jsonl_sets_and_which_set_hit(docs, tmp_path):
    a = write_jsonl(tmp_path / "set_a.jsonl", [{"question": docs[0], "answer": ""}])
    pq.write_table(
        pa.table({"question": [docs[1], docs[0]], "answer": ["", ""]}), tmp_path / "set_b.parquet"
    )
    b = str(tmp_path / "set_b.parquet")
    stage = Decontaminate(DecontaminateConfig(eval_sets=[a, b]))
    v = stage.process(pa.record_batch({"text": [docs[0], docs[1], docs[2]]}))
    assert v.reason.to_pylist() == ["eval_overlap:set_a", "eval_overlap:set_b", None]
    assert v.extra["contaminated_by"].to_pylist() == ["set_a", "set_b", None]


def test_demo_eval_set_removes_pages_quoting_the_reference(tmp_path):
    """The committed eval set (scripts/build_eval_set.py) on the sample corpus, in a pipeline."""
    out = tmp_path / "out"
    config = parse_pipeline(
        {
            "name": "t",
            "input": str(ROOT / "sample_corpus" / "dump=CC-MAIN-2023-40"),
            "output": str(out),
            "stages": [
                {
                    "decontaminate": {
                        "eval_sets": [str(ROOT / "pipelines/eval_sets/python_reference_qa.jsonl")]
                    }
                }
            ],
        }
    )
    ex = LocalExecutor(1)
    try:
        report = run_pipeline(config, ex)
    finally:
        ex.close()
    assert check_balance(report) == []
    stage = report["stages"][0]
    assert set(stage["by_reason"]) == {"eval_overlap:python_reference_qa"}
    removed = pq.read_table(sorted(out.glob("removed/decontaminate/*.parquet")))
    assert removed.num_rows == stage["docs_removed"] > 0
    assert all("python" in u or "/" in u for u in removed["url"].to_pylist())
    assert set(removed["contaminated_by"].to_pylist()) == {"python_reference_qa"}


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (lambda p: p.write_text('{"question": "q"}\n'), r"bad.jsonl: line 1: no field 'answer'"),
        (lambda p: p.write_text("not json\n"), r"bad.jsonl: line 1: not JSON"),
        (lambda p: None, r"bad.jsonl: no such file"),
        (lambda p: p.write_text('{"question": "", "answer": null}\n'), r"no text in fields"),
    ],
)
def test_bad_eval_sets_are_named(tmp_path, write, message):
    path = tmp_path / "bad.jsonl"
    write(path)
    with pytest.raises(ConfigError, match=message):
        parse_pipeline(
            {
                "name": "t",
                "input": "x",
                "output": "y",
                "stages": [{"decontaminate": {"eval_sets": [str(path)]}}],
            }
        )


def test_parquet_without_the_field_is_named(tmp_path):
    pq.write_table(pa.table({"prompt": ["q"]}), tmp_path / "set.parquet")
    with pytest.raises(ConfigError, match=r"set.parquet: no field 'question'"):
        parse_pipeline(
            {
                "name": "t",
                "input": "x",
                "output": "y",
                "stages": [{"decontaminate": {"eval_sets": [str(tmp_path / "set.parquet")]}}],
            }
        )
