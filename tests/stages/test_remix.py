from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.config import parse_pipeline
from curate.errors import ConfigError
from curate.executors.local import LocalExecutor
from curate.pipeline import run_pipeline
from curate.report import check_balance
from curate.stages.base import make_stage
from curate.stages.remix import RemixConfig, estimate_tokens, plan_rates, select
from tests.stages.domain_texts import write_domain_corpus

COUNTS = {"web": 200, "code": 100, "math": 60}


def run(root, out, params=None, workers=1, batch_size=16, stages=None):
    config = parse_pipeline(
        {
            "name": "t",
            "input": str(root),
            "output": str(out),
            "stages": stages or [{"remix": params}],
            "batch_size": batch_size,
        }
    )
    ex = LocalExecutor(workers)
    try:
        return run_pipeline(config, ex)
    finally:
        ex.close()


def output(out) -> pa.Table:
    return pa.concat_tables(pq.read_table(f) for f in sorted((out / "data").glob("*.parquet")))


def token_shares(table: pa.Table) -> dict[str, float]:
    tokens = estimate_tokens(table["text"].combine_chunks())
    domains = np.array(table["domain"].to_pylist())
    return {d: tokens[domains == d].sum() / tokens.sum() for d in sorted(set(domains))}


@pytest.fixture(scope="module")
def domain_corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("remix") / "corpus"
    texts = write_domain_corpus(root, COUNTS)
    return root, texts


def brute_force_k(hashes, amount, frac):
    """Rows taken in hash order: the prefix whose amount is closest to frac * total."""
    order = np.argsort(hashes)
    want = frac * amount.sum()
    sums = [0.0, *np.cumsum(amount[order])]
    return min(range(len(sums)), key=lambda k: (abs(sums[k] - want), k))


def test_select_matches_brute_force():
    rng = np.random.default_rng(3)
    for _ in range(300):
        n = int(rng.integers(1, 40))
        hashes = np.unique(rng.integers(0, 2**64, size=n, dtype=np.uint64))
        n = len(hashes)
        amount = rng.integers(1, 1000, size=n).astype(float)
        rate = float(rng.uniform(0, 3))
        whole, threshold, k = select(hashes, amount, rate)
        assert whole == int(rate)
        frac = rate - whole
        order = np.argsort(hashes)
        # the rows that get an extra copy are the k smallest hashes, and k is optimal
        chosen = np.flatnonzero(hashes <= np.uint64(threshold)) if threshold >= 0 else []
        assert sorted(chosen) == sorted(order[:k])
        best = brute_force_k(hashes, amount, frac)
        want = frac * amount.sum()
        got, opt = amount[order][:k].sum(), amount[order][:best].sum()
        assert abs(got - want) == pytest.approx(abs(opt - want))


def test_temperature_one_leaves_the_mix_unchanged(domain_corpus, tmp_path):
    root, texts = domain_corpus
    report = run(root, tmp_path / "out", {"temperature": 1.0})
    stage = report["stages"][0]
    assert stage["docs_removed"] == 0 and stage["docs_added"] == 0
    mix = stage["decision"]["mixture"]
    for d in COUNTS:
        assert mix[d]["docs_after"] == mix[d]["docs_before"] == COUNTS[d]
        assert mix[d]["epochs"] == 1.0
    table = output(tmp_path / "out")
    assert sorted(table["text"].to_pylist()) == sorted(t for ts in texts.values() for t in ts)
    assert set(table["repeat"].to_pylist()) == {0}


def test_targets_are_met_within_one_document(domain_corpus, tmp_path):
    root, _ = domain_corpus
    targets = {"web": 0.5, "code": 0.3, "math": 0.2}
    report = run(root, tmp_path / "out", {"targets": targets, "seed": 7})
    assert check_balance(report) == []
    stage = report["stages"][0]
    assert stage["docs_removed"] > 0 and stage["docs_added"] > 0  # code down... web up
    assert stage["by_reason"] == {"remix_downsample": stage["docs_removed"]}
    table = output(tmp_path / "out")
    shares = token_shares(table)
    tokens = estimate_tokens(table["text"].combine_chunks())
    tolerance = tokens.max() / tokens.sum()  # one document is the granularity of a mix
    for d, target in targets.items():
        assert abs(shares[d] - target) <= tolerance, (d, shares[d], target, tolerance)
    # the summary says what the files say
    mix = stage["decision"]["mixture"]
    for d in targets:
        assert mix[d]["share_after"] == pytest.approx(shares[d], abs=1e-5)
        assert mix[d]["docs_after"] == Counter(table["domain"].to_pylist())[d]
    # size: output tokens equal input tokens (size 1), up to one document per group
    totals = stage["decision"]["totals"]
    assert abs(totals["tokens_after"] - totals["tokens_before"]) <= 3 * tokens.max()
    # copies: originals repeat 0, copies 1..k, (id, repeat) unique, copies share the text
    pairs = list(zip(table["id"].to_pylist(), table["repeat"].to_pylist()))
    assert len(set(pairs)) == len(pairs)
    by_id = {}
    for i, r, t in zip(table["id"].to_pylist(), table["repeat"].to_pylist(), table["text"]):
        by_id.setdefault(i, {})[r] = t
    for reps in by_id.values():
        assert sorted(reps) == list(range(len(reps)))
        assert len({t.as_py() for t in reps.values()}) == 1
    assert max(table["repeat"].to_pylist()) >= 1


def test_same_subset_on_any_number_of_workers_and_batch_size(domain_corpus, tmp_path):
    root, _ = domain_corpus
    params = {"targets": {"web": 0.6, "code": 0.25, "math": 0.15}, "seed": 3}
    run(root, tmp_path / "a", params, workers=1, batch_size=16)
    run(root, tmp_path / "b", params, workers=2, batch_size=50)

    def rows(out):
        t = output(out)
        return sorted(zip(t["id"].to_pylist(), t["repeat"].to_pylist()))

    assert rows(tmp_path / "a") == rows(tmp_path / "b")
    other = {**params, "seed": 4}
    run(root, tmp_path / "c", other)
    assert rows(tmp_path / "c") != rows(tmp_path / "a")  # the seed matters


def test_temperature_flattens_towards_uniform(domain_corpus, tmp_path):
    root, _ = domain_corpus
    report = run(root, tmp_path / "out", {"temperature": 2.0, "unit": "documents"})
    mix = report["stages"][0]["decision"]["mixture"]
    weights = {d: n**0.5 for d, n in COUNTS.items()}
    for d, w in weights.items():
        expected = w / sum(weights.values())
        assert mix[d]["target_share"] == pytest.approx(expected, abs=1e-6)
        assert abs(mix[d]["share_after"] - expected) <= 1.5 / sum(COUNTS.values())
    assert mix["math"]["epochs"] > 1 > mix["web"]["epochs"]


def test_empty_domain_and_exhausted_domain_are_reported(domain_corpus, tmp_path):
    root, _ = domain_corpus
    targets = {"web": 0.5, "code": 0.2, "math": 0.1, "wiki": 0.2}
    report = run(root, tmp_path / "out", {"targets": targets, "max_repeat": 1.5})
    decision = report["stages"][0]["decision"]
    assert decision["unmet"]["wiki"]["why"] == "no documents"
    assert decision["mixture"]["wiki"]["docs_after"] == 0
    assert "ran out" in decision["unmet"]["web"]["why"]  # web is the smallest here, in tokens
    assert decision["unmet"]["web"]["wanted_epochs"] > 1.5
    assert decision["mixture"]["web"]["epochs"] == pytest.approx(1.5, abs=0.05)
    assert "math" not in decision["unmet"] and "code" not in decision["unmet"]
    assert check_balance(report) == []
    json.dumps(decision)  # the report can hold it


def test_untargeted_groups_pass_through():
    amount = {"web": 100.0, "code": 10.0, "misc": 5.0}
    config = RemixConfig(targets={"web": 0.5, "code": 0.5})
    rates, share, untargeted = plan_rates(amount, config)
    assert untargeted == ["misc"] and rates["misc"] == 1.0
    assert rates["web"] * 100 == pytest.approx(rates["code"] * 10)
    assert rates["web"] * 100 + rates["code"] * 10 == pytest.approx(110)


def test_decide_on_nothing_does_not_crash():
    stage = make_stage("remix", {"targets": {"web": 1.0}}, "t")
    empty = pa.table(
        {"group": pa.array([], pa.string()), "hash": pa.array([], pa.uint64()), "tokens": []}
    )
    decision, summary = stage.decide(empty)
    assert decision == {} and summary["unmet"]["web"]["why"] == "no documents"


def test_by_language_and_domain_groups():
    stage = make_stage("remix", {"temperature": 1.0, "by": ["language", "domain"]}, "t")
    batch = pa.record_batch(
        {
            "id": ["a", "b", "c"],
            "text": ["hello world", "你好世界", "x = 1"],
            "language": ["en", "zh", None],
            "domain": ["web", "web", "code"],
        }
    )
    assert stage.collect(batch)["group"].to_pylist() == ["en/web", "zh/web", "unknown/code"]


def test_token_estimate_follows_deepseek_ratios():
    tokens = estimate_tokens(pa.array(["a" * 100, "汉" * 100, "ab汉字"]))
    assert tokens.tolist() == pytest.approx([30.0, 60.0, 0.3 * 2 + 0.6 * 2])


def test_real_tokenizer_counts_pieces(tmp_path):
    sentencepiece = pytest.importorskip("sentencepiece")
    from tests.conftest import stdlib_docs

    docs = stdlib_docs()[:200]
    (tmp_path / "train.txt").write_text("\n".join(d.replace("\n", " ") for d in docs))
    sentencepiece.SentencePieceTrainer.train(
        input=str(tmp_path / "train.txt"),
        model_prefix=str(tmp_path / "sp"),
        vocab_size=500,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    model = str(tmp_path / "sp.model")
    stage = make_stage("remix", {"temperature": 1.0, "tokenizer": model}, "t")
    counted = stage.count_tokens(pa.array(docs[:20]))
    sp = sentencepiece.SentencePieceProcessor(model_file=model)
    assert counted.tolist() == [len(sp.encode(d)) for d in docs[:20]]


@pytest.mark.parametrize(
    "params, message",
    [
        ({}, "exactly one of"),
        ({"targets": {"web": 1.0}, "temperature": 2.0}, "exactly one of"),
        ({"targets": {"web": -1.0}}, "weights must be numbers"),
        ({"temperature": 0}, "must be above 0"),
        ({"temperature": 2.0, "max_repeat": 0.5}, "at least 1"),
        ({"temperature": 2.0, "unit": "bytes"}, "not one of"),
    ],
)
def test_config_errors(params, message):
    with pytest.raises(ConfigError, match=message):
        make_stage("remix", params, "remix")


def test_hash_draw_is_uniform_enough():
    """Down-sampling by hash threshold keeps about the asked share of ids of any shape."""
    from curate.stages.remix import id_hashes

    ids = pa.array(
        [f"dump=CC-MAIN-2023-{i % 4:02d}/part-{i % 7}.parquet-{i}" for i in range(20000)]
    )
    h = id_hashes(ids, seed=1)
    below = (h < np.uint64(2**62)).mean()  # a quarter of the 64-bit range
    assert abs(below - 0.25) < 0.015


def test_language_domain_remix_compose_in_one_pipeline(tmp_path):
    root = tmp_path / "corpus"
    write_domain_corpus(root, {"web": 60, "code": 30, "math": 20}, null_share=0.3)
    stages = [
        {"language_id": {}},
        {"domain_classify": {"default": "web"}},
        {"remix": {"temperature": 2.0}},
    ]
    report = run(root, tmp_path / "out", stages=stages)
    assert check_balance(report) == []
    names = [s["name"] for s in report["stages"]]
    assert names == ["language_id", "domain_classify", "remix"]
    table = output(tmp_path / "out")
    for column in ("language", "language_score", "domain", "domain_source", "repeat"):
        assert column in table.column_names
    assert table["domain"].null_count == 0
    mix = report["stages"][2]["decision"]["mixture"]
    assert sum(r["docs_after"] for r in mix.values()) == table.num_rows


# ---------------------------------------------------------------- partitioned vs brute force


def brute_force_decide(c: RemixConfig, collected: pa.Table) -> tuple[dict, dict, dict]:
    """The decision over one in-memory table (what decide did before it ran in reduce
    tasks): every group's rows sorted by hash, ``select`` on them."""
    groups = np.array(collected["group"].to_pylist(), object)
    hashes, tokens = collected["hash"].to_numpy(), collected["tokens"].to_numpy()
    names = sorted(set(groups.tolist()))
    rows = {g: np.flatnonzero(groups == g) for g in names}
    tok_in = {g: float(tokens[rows[g]].sum()) for g in names}
    unit_in = tok_in if c.unit == "tokens" else {g: float(len(rows[g])) for g in names}
    wanted, _, _ = plan_rates(unit_in, c)
    decision, docs_out, tok_out = {}, {}, {}
    for g in names:
        idx = rows[g]
        amount = tokens[idx] if c.unit == "tokens" else np.ones(len(idx))
        whole, threshold, _ = select(hashes[idx], amount, min(wanted[g], c.max_repeat))
        decision[g] = {"whole": whole, "threshold": threshold}
        extra = hashes[idx] <= np.uint64(max(threshold, 0)) if threshold >= 0 else idx < 0
        docs_out[g] = whole * len(idx) + int(extra.sum())
        tok_out[g] = round(whole * tok_in[g] + float(tokens[idx][extra].sum()))
    return decision, docs_out, tok_out


@pytest.mark.parametrize(
    "params",
    [
        {"temperature": 2.0, "unit": "tokens"},
        {"temperature": 3.0, "unit": "documents", "max_repeat": 2.5},
        {"targets": {"web": 0.3, "code": 0.5, "math": 0.2}, "seed": 9},
    ],
)
def test_partitioned_cut_equals_brute_force(params, monkeypatch):
    """Many reduce tasks, windows split before their hashes are fetched (cap 8), duplicate ids
    (equal hashes) and empty documents (0 tokens): the same thresholds and counts as ``select``
    over the whole table."""
    from curate import selection
    from curate.stages.remix import id_hashes

    rng = np.random.default_rng(2)
    sizes = {"web": 60000, "code": 4000, "math": 37}
    group = np.repeat(list(sizes), list(sizes.values()))
    ids = [f"doc-{i}" for i in range(len(group))]
    ids[10:200] = ["dup"] * 190  # one hash, 190 rows of web
    tokens = np.round(rng.lognormal(5, 1.2, len(group)) / 0.3) * 0.3
    tokens[rng.random(len(group)) < 0.01] = 0.0
    order = rng.permutation(len(group))
    collected = pa.table(
        {
            "group": pa.array(group[order].tolist(), pa.string()),
            "hash": pa.array(id_hashes(pa.array(ids), params.get("seed", 0))[order], pa.uint64()),
            "tokens": pa.array(tokens[order], pa.float64()),
        }
    )
    stage = make_stage("remix", params, "t")
    expected, docs_out, tok_out = brute_force_decide(stage.config, collected)
    for cap, rows in ((8, 7001), (1 << 20, 1 << 20)):
        monkeypatch.setattr(selection, "CAP", cap)
        monkeypatch.setattr(selection, "ROWS_PER_TASK", rows)
        decision, summary = stage.decide(collected)
        assert decision == expected, cap
        for g, row in summary["mixture"].items():
            assert (row["docs_after"], row["tokens_after"]) == (docs_out[g], tok_out[g])
        rounds = summary["search"]["rounds"]
        assert rounds > 2 if cap == 8 else rounds == 2
        assert summary["search"]["largest_round"] <= cap
    assert json.loads(json.dumps(decision)) == decision  # the runner writes it as JSON
