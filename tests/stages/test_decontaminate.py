"""decontaminate: n-gram overlap with evaluation sets, checked against a brute-force set of
n-gram strings on real text; JSONL and Parquet sets, which set a removal hit, the errors."""

from __future__ import annotations

import json
import random
import re
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


# ---------------------------------------------------------------- span mode

ASCII_TOKEN = re.compile(r"[A-Za-z0-9]+")  # nfkc_cjk's tokens, for ASCII text


def brute_span_cut(text: str, grams: set[str], n: int, margin: int, min_piece: int, most: int):
    """GPT-3's span procedure, written out for ASCII text: (new text, spans) or (None, spans)
    for a text removed whole."""
    toks = [(m.start(), m.end(), m.group().lower()) for m in ASCII_TOKEN.finditer(text)]
    windows = [toks[i : i + n] for i in range(max(len(toks) - n + 1, 1))] if toks else []
    spans = []
    for w in windows:
        if " ".join(t[2] for t in w) in grams:
            a, b = max(w[0][0] - margin, 0), min(w[-1][1] + margin, len(text))
            if spans and a <= spans[-1][1]:
                spans[-1] = (spans[-1][0], max(spans[-1][1], b))
            else:
                spans.append((a, b))
    if not spans:
        return text, []
    bounds = [0, *[x for s in spans for x in s], len(text)]
    pieces = [text[bounds[i] : bounds[i + 1]] for i in range(0, len(bounds), 2)]
    pieces = [p for p in pieces if p.strip()]
    kept = [p for p in pieces if len(p.strip()) >= min_piece]
    if len(pieces) > most or not kept:
        return None, spans
    return "\n".join(kept), spans


@pytest.mark.parametrize(("margin", "min_piece", "most"), [(200, 200, 10), (0, 20, 3), (35, 0, 2)])
def test_span_mode_equals_the_procedure_written_out(docs, tmp_path, margin, min_piece, most):
    """Documents of ASCII text quoting 1 to 4 windows of eval items (16 words each, some
    overlapping, near the start or end): the stage's new text and spans equal GPT-3's procedure
    computed by brute force over n-gram strings, including whole removals."""
    rng = random.Random(margin + most)
    plain = [d for d in docs if d.isascii() and len(d.split()) >= 120]
    items = [" ".join(d.split()[10:26]) for d in plain[:12]]
    corpus = []
    for d in plain[12:72]:
        words = d.split()
        for _ in range(rng.choice([0, 1, 2, 4])):
            at = rng.choice([0, rng.randrange(len(words)), len(words)])
            words[at:at] = rng.choice(items).split()
        corpus.append(" ".join(words))
    corpus += [items[0], f"see {items[1]} and {items[2]}, more {items[3]}"]  # little else
    path = write_jsonl(tmp_path / "evalset.jsonl", [{"question": i, "answer": ""} for i in items])
    config = DecontaminateConfig(
        eval_sets=[path], mode="span", margin=margin, min_piece_chars=min_piece, max_pieces=most
    )
    stage = Decontaminate(config)
    v = stage.process(pa.record_batch({"text": corpus}))
    grams = set().union(*(ngram_strings(i, 13) for i in items))
    texts, reasons = v.batch["text"].to_pylist(), v.reason.to_pylist()
    cut = whole = spans_total = 0
    for k, doc in enumerate(corpus):
        want, spans = brute_span_cut(doc, grams, 13, margin, min_piece, most)
        if want is None:
            assert reasons[k] == "eval_overlap:evalset", k
            whole += 1
            continue
        assert reasons[k] is None and texts[k] == want, k
        assert v.batch["eval_spans"][k].as_py() == len(spans)
        cut += bool(spans)
        spans_total += len(spans)
        assert not ngram_strings(texts[k], 13) & grams or min_piece == 0 or margin == 0
    assert cut > 5 and whole >= 1
    assert v.stats["spans:evalset"] == spans_total and v.stats["docs_cut"] == cut


def test_span_offsets_in_chinese_and_full_width_text(tmp_path):
    """Offsets hold where NFKC changes characters (full-width letters, a ligature) and in
    Chinese (each character a token): exactly the quoted span goes, the text around stays."""
    item = "数据去重是预训练语料处理的第一步我们先在每个转储内部去重"
    english = "the quick brown fox finally jumps over the lazy dog again and again until night"
    path = write_jsonl(tmp_path / "zh.jsonl", [{"question": item, "answer": english}])
    before = "这是一段正常的文字，讲的是别的事情。" * 3
    after = "后面还有很多别的内容，与评测无关。" * 3
    quoted = "数据去重是预训练语料处理的第一步。我们先在每个转储内部去重"
    # full-width letters and the "fi" ligature: NFKC gives the item's words back
    wide = "".join(chr(ord(ch) + 0xFEE0) if ch != " " else " " for ch in english.title())
    wide = wide.replace("Ｆｉ", "ﬁ")
    assert "ﬁ" in wide
    config = DecontaminateConfig(
        eval_sets=[path], ngram=13, mode="span", margin=0, min_piece_chars=5, max_pieces=10
    )
    stage = Decontaminate(config)
    rows = [before + quoted + "，" + after, "Intro text here: " + wide + "! And the end of it."]
    v = stage.process(pa.record_batch({"text": rows}))
    assert v.reason.to_pylist() == [None, None]
    text = v.batch["text"].to_pylist()
    assert text[0] == before + "\n" + "，" + after
    assert text[1] == "Intro text here: \n! And the end of it."
    assert v.batch["eval_spans"].to_pylist() == [1, 1]
    assert v.stats["span_chars:zh"] == len(quoted) + len(wide)


def test_span_mode_in_a_pipeline_balances(tmp_path, docs):
    """Through the runner: rows cut stay (counted as kept, bytes out shrink), rows removed whole
    go with their reason; counters per evaluation set in the report."""
    plain = [d for d in docs if d.isascii() and len(d.split()) >= 200][:40]
    item = " ".join(plain[0].split()[50:70])
    path = write_jsonl(tmp_path / "quotes.jsonl", [{"question": item, "answer": ""}])
    rows = [{"id": f"d{i}", "text": d} for i, d in enumerate(plain)]
    rows += [{"id": "short", "text": item}]  # nothing but the quote: removed whole
    (tmp_path / "in").mkdir()
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in" / "part-0.parquet")
    config = parse_pipeline(
        {
            "name": "t",
            "input": str(tmp_path / "in"),
            "output": str(tmp_path / "out"),
            "stages": [{"decontaminate": {"eval_sets": [path], "mode": "span"}}],
        }
    )
    ex = LocalExecutor(1)
    try:
        report = run_pipeline(config, ex)
    finally:
        ex.close()
    assert check_balance(report) == []
    s = report["stages"][0]
    assert s["by_reason"] == {"eval_overlap:quotes": 1} and s["docs_out"] == len(plain)
    assert s["extra"]["spans:quotes"] == 1 and s["extra"]["docs_cut"] == 1
    assert s["extra"]["span_chars:quotes"] >= len(item) + 200
    out = pq.read_table(tmp_path / "out" / "data").to_pylist()
    by_id = {r["id"]: r for r in out}
    assert item not in by_id["d0"]["text"] and by_id["d0"]["eval_spans"] == 1
    assert by_id["d0"]["contaminated_by"] == "quotes" and by_id["d1"]["contaminated_by"] is None
    assert s["bytes_in"] - s["bytes_out"] > len(item)
