"""`curate report OUT --compare OTHER_OUT`: two real runs that differ in one threshold."""

from __future__ import annotations

import subprocess
import sys

from curate.report import load_report
from curate.report.compare import compare_rows, render_compare_html


def curate(*args):
    return subprocess.run(
        [sys.executable, "-m", "curate.cli", *map(str, args)], capture_output=True, text=True
    )


def test_compare_rows_hold_both_runs_and_the_difference(small_run, stricter_run):
    a, b = load_report(small_run), load_report(stricter_run)
    rows = {r["stage"]: r for r in compare_rows(a, b)}
    ppl_a = next(s for s in a["stages"] if s["name"] == "perplexity_filter")
    ppl_b = next(s for s in b["stages"] if s["name"] == "perplexity_filter")
    row = rows["perplexity_filter"]
    assert (row["docs_out_a"], row["docs_out_b"]) == (ppl_a["docs_out"], ppl_b["docs_out"])
    assert row["docs_out_diff"] == ppl_b["docs_out"] - ppl_a["docs_out"] < 0  # p70 keeps fewer
    assert row["removal_rate_diff"] > 0.1  # ~10% -> ~30% removed
    assert rows["minhash_dedup"]["docs_out_diff"] == 0  # same stages before the threshold
    assert rows["total"]["docs_out_a"] == a["totals"]["docs_out"]


def test_compare_command_prints_the_table_and_writes_html(small_run, stricter_run, tmp_path):
    r = curate("report", small_run, "--compare", stricter_run)
    assert r.returncode == 0, r.stderr
    a, b = load_report(small_run), load_report(stricter_run)
    line = next(x for x in r.stdout.splitlines() if x.startswith("perplexity_filter"))
    ppl = [next(s for s in rep["stages"] if s["name"] == "perplexity_filter") for rep in (a, b)]
    assert f"{ppl[0]['docs_out']:,}" in line and f"{ppl[1]['docs_out']:,}" in line
    assert f"{ppl[1]['docs_out'] - ppl[0]['docs_out']:+,}" in line
    page = (small_run / "compare.html").read_text()
    assert 'data-chart="compare-docs-out"' in page and 'data-chart="compare-removal-rate"' in page
    assert "p90" in page and "p70" in page  # the parameter that differs
    r = curate("report", small_run, "--compare", stricter_run, "--html", tmp_path / "c.html")
    assert r.returncode == 0 and (tmp_path / "c.html").exists()


def test_compare_with_a_stage_only_in_one_run(small_run):
    a = load_report(small_run)
    b = {**a, "stages": a["stages"][:-1]}
    row = {r["stage"]: r for r in compare_rows(a, b)}["remix"]
    assert row["docs_out_b"] is None and row["docs_out_diff"] is None
    page = render_compare_html(a, b, ("a", "b"))
    assert "remix, B: -" in page and f"remix, A: {a['stages'][-1]['docs_out']:,}" in page


def test_report_errors_name_the_directory(small_run, tmp_path):
    r = curate("report", tmp_path / "nothing-here")
    assert r.returncode == 2 and "nothing-here: no such output directory" in r.stderr
    r = curate("report", small_run, "--compare", tmp_path)
    assert r.returncode == 2 and "report.json: no report here" in r.stderr
    r = curate("report", small_run, "--html", tmp_path / "x.html")
    assert r.returncode == 2 and "use it with --compare" in r.stderr
    assert "Traceback" not in r.stderr


def test_report_rerenders_both_files(small_run):
    (small_run / "report.html").unlink()
    r = curate("report", small_run)
    assert r.returncode == 0, r.stderr
    assert 'data-chart="funnel-docs"' in (small_run / "report.html").read_text()
