"""`curate inspect`: removed documents of a real small run, with what they duplicate or scored."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

from curate.report.inspect import pii_replacements, word_diff


def curate(*args):
    return subprocess.run(
        [sys.executable, "-m", "curate.cli", *map(str, args)], capture_output=True, text=True
    )


def removed(run, stage):
    return pq.read_table(sorted((run / "removed" / stage).glob("*.parquet"))).to_pylist()


def test_word_diff_marks_words_and_cjk_characters():
    assert word_diff("a b c d", "a x c d", color=False) == "a [-b-]{+x+} c d"
    assert word_diff("我们使用 Cookie", "我们用 Cookie", color=False) == "我们[-使-]用 Cookie"
    coloured = word_diff("keep this", "keep that", color=True)
    assert "\033[31mthis\033[0m" in coloured and "\033[32mthat\033[0m" in coloured
    long = " ".join(f"w{i}" for i in range(100))
    assert word_diff(long + " end", long + " END", color=False).count(" ... ") == 1


def test_pii_replacements_mask_the_original_value():
    before = "Write to jane.doe@example.org for help."
    after = "Write to <EMAIL> for help."
    assert pii_replacements(before, after) == [("j*******************", "<EMAIL>")]


@pytest.mark.parametrize("stage", ["url_dedup", "exact_dedup", "minhash_dedup"])
def test_dedup_shows_the_document_it_duplicates(small_run, stage):
    rows = removed(small_run, stage)
    r = curate("inspect", small_run, "--stage", stage, "--n", 3)
    assert r.returncode == 0, r.stderr
    for row in rows[:3]:
        assert f"{row['id']}  reason: {row['reason']}" in r.stdout
        assert f"duplicate of {row['duplicate_of']}, stored in " in r.stdout
    assert "[-" in r.stdout or "{+" in r.stdout or "(identical text)" in r.stdout
    assert "\033[" not in r.stdout  # not a terminal: markers, no colour codes
    assert r.stdout.count("] CC-MAIN-") == min(3, len(rows))


def test_colour_on_request(small_run):
    r = curate("inspect", small_run, "--stage", "minhash_dedup", "--n", 1, "--color", "always")
    assert r.returncode == 0 and "\033[3" in r.stdout


def test_perplexity_filter_shows_score_and_threshold(small_run):
    row = removed(small_run, "perplexity_filter")[0]
    r = curate("inspect", small_run, "--stage", "perplexity_filter", "--n", 1)
    assert r.returncode == 0, r.stderr
    expected = f"perplexity {row['perplexity']:,.1f} > threshold {row['perplexity_threshold']:,.1f}"
    assert expected in r.stdout
    assert row["perplexity"] > row["perplexity_threshold"]
    parts = (
        f"(CCNet's {row['perplexity_ccnet']:,.1f}, "
        f"line-end surprisal {row['line_end_surprisal']:.2f}"
    )
    if row.get("negatives_llr") is not None:  # a model trained with its negatives
        parts += f", negatives llr {row['negatives_llr']:+.2f}"
    parts += ")"
    assert expected + " " + parts in r.stdout


def test_reason_filter_and_unknown_reason(small_run):
    rows = removed(small_run, "url_dedup")
    r = curate("inspect", small_run, "--stage", "url_dedup", "--reason", rows[0]["reason"])
    assert r.returncode == 0 and rows[0]["id"] in r.stdout
    r = curate("inspect", small_run, "--stage", "url_dedup", "--reason", "no_such_reason")
    assert r.returncode == 2
    assert f"no rows with reason 'no_such_reason'; reasons here: {rows[0]['reason']}" in r.stderr


def test_pii_scrub_masks_the_replaced_values(small_run):
    r = curate("inspect", small_run, "--stage", "pii_scrub", "--n", 3)
    assert r.returncode == 0, r.stderr
    assert "the original is not kept" in r.stdout and "Originals read from the input" in r.stdout
    assert "pii_counts: " in r.stdout and "{+<EMAIL>+}" in r.stdout
    assert "@" not in r.stdout.replace("<EMAIL>", "")  # no address survives, masked or not


def test_pii_scrub_without_the_input_shows_scrubbed_text(small_run, tmp_path):
    run = tmp_path / "moved"
    shutil.copytree(small_run, run)
    report = json.loads((run / "report.json").read_text())
    report["input"]["paths"] = [str(tmp_path / "gone")]
    (run / "report.json").write_text(json.dumps(report))
    r = curate("inspect", run, "--stage", "pii_scrub", "--n", 1)
    assert r.returncode == 0, r.stderr
    assert "only the scrubbed text is shown" in r.stdout and "-] -> {+" not in r.stdout


def test_errors_name_the_run_and_the_stages(small_run, tmp_path):
    r = curate("inspect", small_run, "--stage", "minhash")
    assert r.returncode == 2
    assert "no stage 'minhash' in this run; stages with removed documents: " in r.stderr
    assert "minhash_dedup" in r.stderr and "Traceback" not in r.stderr
    r = curate("inspect", small_run, "--stage", "domain_classify")
    assert r.returncode == 2 and "stage 'domain_classify' removed no documents" in r.stderr
    r = curate("inspect", tmp_path / "missing", "--stage", "url_dedup")
    assert r.returncode == 2 and "missing: no such output directory" in r.stderr
