"""The bundled pipeline on the bundled sample, through the CLI, as `make demo` runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from curate.config import load_pipeline
from curate.report import check_balance

ROOT = Path(__file__).resolve().parent.parent
PIPELINE = ROOT / "pipelines" / "deepseek.yaml"


def ids(folder: Path) -> list[str]:
    out: list[str] = []
    for f in sorted(folder.rglob("part-*.parquet")):
        out += pq.read_table(f, columns=["id"])["id"].to_pylist()
    return out


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    missing = [
        m
        for m in ("en.arpa", "zh.arpa", "en_math.arpa", "domain.bin", "quality.bin")
        if not (ROOT / "models" / m).exists()
    ]
    if missing:
        pytest.skip(f"demo models not built ({', '.join(missing)}): run `make models`")
    out = tmp_path_factory.mktemp("demo") / "out"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "curate.cli",
            "run",
            str(PIPELINE),
            "--output",
            str(out),
            "--workers",
            "2",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    return out, r.stdout


def test_every_document_is_accounted_for(demo_run):
    out, stdout = demo_run
    report = json.loads((out / "report.json").read_text())
    assert check_balance(report) == []
    shards = sorted((ROOT / "sample_corpus").glob("dump=*/*.parquet"))
    input_ids = []
    for f in shards:
        input_ids += pq.read_table(f, columns=["id"])["id"].to_pylist()
    assert report["totals"]["docs_in"] == len(input_ids)
    kept, removed, quarantined = ids(out / "data"), ids(out / "removed"), ids(out / "quarantine")
    assert len(kept) == report["totals"]["docs_out"]
    assert len(removed) == report["totals"]["docs_removed"]
    assert not set(kept) & set(removed)
    assert set(kept) | set(removed) | set(quarantined) == set(input_ids)
    # the summary printed is the report's
    assert "total" in stdout and f"{report['totals']['docs_in']:,}" in stdout


def test_every_stage_of_the_recipe_ran_and_did_its_part(demo_run):
    out, _ = demo_run
    report = json.loads((out / "report.json").read_text())
    names = [s.label for s in load_pipeline(PIPELINE).stages]
    assert [s["name"] for s in report["stages"]] == names
    by = {s["name"]: s for s in report["stages"]}
    for dedup in ("url_dedup", "exact_dedup", "minhash_dedup", "simhash_dedup"):
        assert by[dedup]["docs_removed"] > 0, dedup
    # most duplication is between dumps: the first dump loses least to URL dedup
    rates = [v["removal_rate"] for _, v in sorted(by["url_dedup"]["by_dump"].items())]
    assert rates[0] == min(rates)
    assert by["perplexity_filter"]["docs_removed"] > 0
    assert (
        by["quality_classifier"]["by_reason"]
        == {"quality_score_below_threshold": by["quality_classifier"]["docs_removed"]}
        and by["quality_classifier"]["docs_removed"] > 0
    )
    assert by["pii_scrub"]["extra"].get("docs_rewritten", 0) > 0
    assert by["remix"]["docs_added"] > 0 and by["remix"]["docs_removed"] > 0
    # the sample's near-duplicate clusters come back by FineWeb-2's schedule, nothing removed
    assert by["rehydrate"]["docs_added"] > 0 and by["rehydrate"]["docs_removed"] == 0
    assert by["rehydrate"]["extra"]["rows:2"] > 0
    for name in ("report.md", "report.html"):
        assert (out / name).stat().st_size > 1000
