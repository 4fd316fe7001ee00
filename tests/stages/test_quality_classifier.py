"""quality_classifier: a real fastText model trained by `curate classifier train --positive
--negative` on real prose (the standard library's docstrings) against word salad and code, the
exact percentile cut per group, and the errors a user sees."""

from __future__ import annotations

import math
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.commands.classifier import roc_auc, train
from curate.config import parse_pipeline
from curate.errors import ConfigError, CurateError
from curate.executors.local import LocalExecutor
from curate.pipeline import run_pipeline
from curate.report import check_balance
from curate.stages.perplexity_filter import nearest_rank
from curate.stages.quality_classifier import QualityClassifier, QualityClassifierConfig
from tests.conftest import stdlib_docs
from tests.stages.test_perplexity_filter import python_sources, word_salad


@pytest.fixture(scope="module")
def model(tmp_path_factory) -> dict:
    """hq: docstrings (a .txt, one paragraph a line); lq: word salad of other docstrings."""
    root = tmp_path_factory.mktemp("quality")
    docs = stdlib_docs()
    random.Random(1).shuffle(docs)
    held, good, bad = docs[:80], docs[80:220], docs[220:]
    (root / "good.txt").write_text("\n".join(p for d in good for p in d.split("\n\n")) + "\n")
    pq.write_table(pa.table({"text": word_salad(bad, seed=2)}), root / "bad.parquet")
    out = root / "quality.bin"
    metrics = train(
        None,
        str(out),
        positive=[str(root / "good.txt")],
        negative=[str(root / "bad.parquet")],
        chunk_chars=800,
    )
    return {"path": str(out), "metrics": metrics, "held_out": held}


def test_training_reports_held_out_auc_and_balances_classes(model):
    m = model["metrics"]
    assert set(m["train_labels"]) == {"hq", "lq"}
    assert m["auc"] > 0.9, m  # its own held-out split: docstrings vs their word salad
    labels = m["train_labels"]
    assert abs(labels["hq"] - labels["lq"]) <= 0.3 * max(labels.values())  # balanced, then split
    assert Path(model["path"] + ".json").is_file()


def test_scores_separate_unseen_prose_from_unseen_salad(model):
    held = model["held_out"]
    stage = QualityClassifier(QualityClassifierConfig(model=model["path"]))
    batch = pa.record_batch({"text": held[:40] + word_salad(held[40:], seed=5) + ["", " "]})
    score = stage.annotate(batch).column("quality_score")
    assert score.null_count == 2 and score[-1].as_py() is None  # no text: no score
    score = score.to_numpy(zero_copy_only=False)[:-2]
    assert roc_auc(score[:40], score[40:]) > 0.9


def write_shards(root: Path, held: list[str]) -> dict[str, set[str]]:
    rows = (
        [("clean", t, "en", "web") for t in held[:40]]
        + [("salad", t, "en", "web") for t in word_salad(held[40:80], seed=3)]
        + [("code", t, "en", "code") for t in python_sources(20)]
    )
    random.Random(0).shuffle(rows)
    kinds: dict[str, set[str]] = {}
    folder = root / "dump=CC-MAIN-2023-06"
    folder.mkdir(parents=True)
    for part in range(2):
        chunk = rows[part::2]
        ids = [f"{kind}-{part}-{i}" for i, (kind, *_) in enumerate(chunk)]
        for i, (kind, *_) in zip(ids, chunk):
            kinds.setdefault(kind, set()).add(i)
        table = {
            "id": ids,
            "text": [r[1] for r in chunk],
            "language": [r[2] for r in chunk],
            "domain": [r[3] for r in chunk],
        }
        pq.write_table(pa.table(table), folder / f"part-{part}.parquet")
    return kinds


def run(root: Path, out: Path, params: dict) -> dict:
    config = parse_pipeline(
        {
            "name": "t",
            "input": str(root),
            "output": str(out),
            "stages": [{"quality_classifier": params}],
            "batch_size": 16,
        }
    )
    ex = LocalExecutor(1)
    try:
        return run_pipeline(config, ex)
    finally:
        ex.close()


def output_rows(out: Path) -> pa.Table:
    return pq.read_table(sorted(out.glob("data/**/*.parquet")), partitioning=None)


def removed_rows(out: Path) -> pa.Table:
    return pq.read_table(sorted(out.glob("removed/quality_classifier/*.parquet")))


def test_percentile_cut_is_exact_and_removes_the_salad(model, tmp_path):
    kinds = write_shards(tmp_path / "corpus", model["held_out"])
    params = {
        "model": model["path"],
        "thresholds": {"default": {"keep_above": "p50"}, "code": {"skip": True}},
    }
    report = run(tmp_path / "corpus", tmp_path / "out", params)
    assert check_balance(report) == []
    stage = report["stages"][0]
    web = stage["decision"]["groups"]["en/web"]
    assert web["rule"] == "keep_above p50" and web["scored"] == 80 == web["documents"]
    assert stage["decision"]["groups"]["en/code"]["rule"] == "skip"
    # brute force: every scored web row's quality_score, sorted; the cut is the nearest-rank
    # p50 of 1 - score (the barrier's scale), rows strictly below it in quality go
    kept = output_rows(tmp_path / "out")
    removed = removed_rows(tmp_path / "out")
    scores = np.concatenate(
        [
            t.filter(pa.compute.equal(t["domain"], "web"))["quality_score"]
            .drop_null()
            .to_numpy()
            .astype(np.float64)
            for t in (kept, removed)
        ]
    )
    cut = 1.0 - nearest_rank(np.sort(1.0 - scores), 50)
    assert web["threshold"] == pytest.approx(cut, abs=1e-12)
    assert web["removed"] == int(np.count_nonzero(1.0 - scores > 1.0 - cut))
    assert web["removed"] == 80 - math.ceil(0.5 * 80)
    gone = set(removed["id"].to_pylist())
    assert len(gone & kinds["salad"]) >= 36  # of 40
    assert not gone & kinds["code"]
    assert set(removed["reason"].to_pylist()) == {"quality_score_below_threshold"}
    code = kept.filter(pa.compute.equal(kept["domain"], "code"))
    assert code["quality_score"].null_count == code.num_rows  # skipped: not scored


def test_min_rule_removes_rows_below_the_value(model, tmp_path):
    write_shards(tmp_path / "corpus", model["held_out"])
    params = {"model": model["path"], "thresholds": {"default": {"min": 0.5}}}
    report = run(tmp_path / "corpus", tmp_path / "out", params)
    kept = output_rows(tmp_path / "out")
    scores = kept["quality_score"].drop_null().to_numpy()
    assert (scores >= 0.5).all()
    removed = removed_rows(tmp_path / "out")
    assert (removed["quality_score"].to_numpy() < 0.5).all()
    assert removed.num_rows and np.allclose(removed["quality_threshold"].to_numpy(), 0.5)
    assert report["stages"][0]["decision"]["groups"]["en/web"]["rule"] == "min 0.5"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({}, "model: give a fastText model"),
        ({"model": "nope/quality.bin"}, "nope/quality.bin not found"),
        ({"thresholds": {"default": {"keep_above": "10%"}}}, "is not a percentile"),
        ({"thresholds": {"web": {"max": 3}}}, "unknown rule 'max'"),
        ({"label": "good"}, "'good' is not a label"),
    ],
)
def test_config_errors_name_the_key(model, params, message):
    params = {"model": model["path"], **params} if "model" not in params and params else params
    with pytest.raises(ConfigError, match=message) as info:
        parse_pipeline(
            {"name": "t", "input": "x", "output": "y", "stages": [{"quality_classifier": params}]}
        )
    assert "quality_classifier" in str(info.value)


def test_training_input_errors_are_one_line(tmp_path):
    with pytest.raises(CurateError, match="--positive and --negative together"):
        train(None, str(tmp_path / "m.bin"), positive=[str(tmp_path / "a.txt")])
    (tmp_path / "empty.txt").write_text("\n\n")
    pq.write_table(pa.table({"text": ["some text here"]}), tmp_path / "n.parquet")
    with pytest.raises(CurateError, match="--positive .*empty.txt: no text found"):
        train(
            None,
            str(tmp_path / "m.bin"),
            positive=[str(tmp_path / "empty.txt")],
            negative=[str(tmp_path / "n.parquet")],
        )
    r = subprocess.run(
        [sys.executable, "-m", "curate.cli", "classifier", "train", "--positive",
         str(tmp_path / "missing.txt"), "--negative", str(tmp_path / "n.parquet"),
         "--out", str(tmp_path / "m.bin")],
        capture_output=True, text=True,
    )  # fmt: skip
    assert r.returncode != 0 and "Traceback" not in r.stderr
    assert "missing.txt" in r.stderr


def test_partitioned_cuts_equal_brute_force_per_group(model, monkeypatch):
    """Many groups, ties and a score of exactly 1.0, decided in small reduce tasks with a small
    fetch cap: each group's threshold and removed count equal the exact computation."""
    from curate import selection

    monkeypatch.setattr(selection, "CAP", 64)
    monkeypatch.setattr(selection, "ROWS_PER_TASK", 300)
    rng = np.random.default_rng(3)
    n = 3000
    score = rng.beta(5, 1, n).astype(np.float32)
    score[:200] = 1.0
    score[200:400] = score[400]  # ties
    language = rng.choice(["en", "zh"], n)
    domain = rng.choice(["web", "math", "code"], n)
    thresholds = {"default": {"keep_above": "p20"}, "zh/math": {"min": 0.9}, "code": {"skip": True}}
    stage = QualityClassifier(QualityClassifierConfig(model=model["path"], thresholds=thresholds))
    batch = pa.record_batch(
        {
            "text": pa.array(["x"] * n),
            "language": pa.array(language),
            "domain": pa.array(domain),
            "quality_score": pa.array(score, pa.float32()),
        }
    )
    decision, summary = stage.decide(stage.collect(batch))
    verdict = stage.apply(batch, decision)
    gone = np.asarray(verdict.reason.is_valid())
    for lang in ("en", "zh"):
        for dom in ("web", "math"):
            mine = (language == lang) & (domain == dom)
            reject = np.sort(np.maximum(1.0 - score[mine].astype(np.float64), 1e-9))
            if (lang, dom) == ("zh", "math"):
                cut = 0.9
                want = score[mine].astype(np.float64) < 0.9
            else:
                cut = 1.0 - nearest_rank(reject, 80)
                want = np.maximum(1.0 - score[mine].astype(np.float64), 1e-9) > 1.0 - cut
            group = summary["groups"][f"{lang}/{dom}"]
            assert group["threshold"] == pytest.approx(cut, abs=1e-12)
            assert group["removed"] == int(want.sum()) == int(gone[mine].sum())
            assert (gone[mine] == want).all()
    assert not gone[domain == "code"].any()
