"""The `curate` command as a user runs it: exit codes and messages, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys

import pyarrow as pa
import pyarrow.parquet as pq


def curate(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "curate.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def write_yaml(path, stages, **top):
    import yaml

    path.write_text(yaml.safe_dump({"name": "t", "stages": stages, **top}))
    return path


def test_run_prints_summary_and_writes_reports(corpus, tmp_path):
    root, truth = corpus
    pipe = write_yaml(
        tmp_path / "p.yaml", [{"exact_dedup": {}}], input=str(root), output=str(tmp_path / "out")
    )
    r = curate("run", pipe, "--workers", "2")
    assert r.returncode == 0, r.stderr
    assert "exact_dedup" in r.stdout and "total" in r.stdout and "removed %" in r.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["totals"]["docs_in"] == truth["rows"]
    assert report["executor"]["workers"] == 2
    # `curate report` re-renders from report.json alone
    (tmp_path / "out" / "report.md").unlink()
    r = curate("report", tmp_path / "out")
    assert r.returncode == 0 and (tmp_path / "out" / "report.md").exists()


def test_input_and_output_flags_override_yaml(corpus, tmp_path):
    root, _ = corpus
    pipe = write_yaml(tmp_path / "p.yaml", ["exact_dedup"], input="nowhere", output="nowhere")
    r = curate("run", pipe, "--input", root, "--output", tmp_path / "o")
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "o" / "report.json").exists()


def test_config_errors_are_one_line_with_exit_2(tmp_path):
    pipe = write_yaml(
        tmp_path / "p.yaml", [{"exact_dedup": {"kep": "latest"}}], input="x", output="y"
    )
    r = curate("run", pipe)
    assert r.returncode == 2
    assert "unknown parameter 'kep' (did you mean 'keep'?)" in r.stderr
    assert "Traceback" not in r.stderr
    r = curate("run", tmp_path / "missing.yaml")
    assert r.returncode == 2 and "no such pipeline file" in r.stderr


def test_bad_input_errors_name_the_file(tmp_path):
    (tmp_path / "in").mkdir()
    pq.write_table(pa.table({"text": [1, 2]}), tmp_path / "in" / "ints.parquet")
    pipe = write_yaml(
        tmp_path / "p.yaml",
        ["exact_dedup"],
        input=str(tmp_path / "in"),
        output=str(tmp_path / "out"),
        on_error="fail",
    )
    r = curate("run", pipe)
    assert r.returncode == 2
    assert "ints.parquet: column 'text' has type int64, expected string" in r.stderr
    assert "Traceback" not in r.stderr
    r = curate("run", pipe, "--input", tmp_path / "empty-dir-that-does-not-exist")
    assert r.returncode == 2 and "no such file or directory" in r.stderr


def test_stages_lists_parameters_with_defaults():
    r = curate("stages")
    assert r.returncode == 0
    assert "exact_dedup (global)" in r.stdout and "keep = 'earliest'" in r.stdout
    assert "quality_filter (streaming)" in r.stdout
