from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.cli import main
from curate.measure import dedup_curve, render_curve
from tests.stages.test_minhash_dedup import (
    MinHashDedup,
    MinHashDedupConfig,
    near_duplicate_rows,
    run_global,
)

DUMPS = ("CC-2023-06", "CC-2023-14", "CC-2023-23")


@pytest.fixture
def dumps_dir(tmp_path):
    rows = near_duplicate_rows(seed=9, base=150, dumps=DUMPS)
    for dump in DUMPS:
        folder = tmp_path / "in" / f"dump={dump}"
        folder.mkdir(parents=True)
        part = [{k: v for k, v in r.items() if k != "dump"} for r in rows if r["dump"] == dump]
        pq.write_table(pa.Table.from_pylist(part), folder / "part-0.parquet")
    return tmp_path / "in", rows


def test_curve_matches_dedup_of_the_first_n_dumps(dumps_dir):
    root, rows = dumps_dir
    curve = dedup_curve(str(root))
    assert [r["last_dump"] for r in curve["rows"]] == list(DUMPS)
    for k, r in enumerate(curve["rows"], 1):
        upto = [x for x in rows if x["dump"] in DUMPS[:k]]
        removed, _, _ = run_global(MinHashDedup(MinHashDedupConfig()), upto)
        assert (r["docs"], r["removed"]) == (len(upto), len(removed))
        assert r["low"] <= r["share"] <= r["high"]
    shares = [r["share"] for r in curve["rows"]]
    assert shares == sorted(shares) and shares[-1] > 0.1  # cross-dump duplicates add up
    assert "CC-2023-23" in render_curve(curve)


def test_sample_gives_an_interval_around_the_full_share(dumps_dir):
    root, _ = dumps_dir
    full = dedup_curve(str(root))["rows"][-1]["share"]
    hits = 0
    for seed in range(5):
        last = dedup_curve(str(root), sample=0.5, seed=seed)["rows"][-1]
        assert last["docs"] < 400
        hits += last["low"] <= full <= last["high"]
    assert hits >= 3  # a 95% interval; consistent sampling keeps clusters whole


def test_cli(dumps_dir, capsys):
    root, _ = dumps_dir
    assert main(["measure", "dedup-curve", "--input", str(root), "--sample", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "95% interval" in out and "22.2%" in out
    assert main(["measure", "dedup-curve", "--input", str(root), "--stage", "exact_dedup"]) == 0
