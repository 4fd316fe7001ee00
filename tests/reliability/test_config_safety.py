"""Config safety: YAML is data, never code; a run writes only where its config points (the output
directory and the indexes it names); input and output never overlap; --resume refuses another
run's directory."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from curate.config import load_pipeline, parse_pipeline
from curate.errors import ConfigError, CurateError, InputError
from curate.executors.local import LocalExecutor
from curate.pipeline import run_pipeline
from tests.conftest import write_corpus

REPO = Path(__file__).resolve().parents[2]


def run(input, output, stages=None, resume=False):
    config = parse_pipeline(
        {
            "name": "safety",
            "input": str(input),
            "output": str(output),
            "stages": stages or [{"exact_dedup": {}}],
        }
    )
    ex = LocalExecutor(1)
    try:
        return run_pipeline(config, ex, resume=resume)
    finally:
        ex.close()


def test_yaml_tags_that_would_run_code_are_refused(tmp_path):
    sentinel = tmp_path / "pwned"
    pipe = tmp_path / "p.yaml"
    pipe.write_text(
        f"name: x\nstages: [exact_dedup]\noutput: !!python/object/apply:os.system "
        f"['touch {sentinel}']\n"
    )
    with pytest.raises(ConfigError, match="p.yaml: not valid YAML"):
        load_pipeline(pipe)
    assert not sentinel.exists()


def test_no_code_path_loads_yaml_unsafely():
    unsafe = re.compile(r"yaml\.(load|unsafe_load|full_load|load_all)\(|yaml\.Loader\b")
    offenders = [
        f"{path.relative_to(REPO)}:{n}"
        for path in sorted((REPO / "curate").rglob("*.py"))
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if unsafe.search(line)
    ]
    assert offenders == []


@pytest.mark.parametrize("name", ["../../escape", "/tmp/abs", "removed/../../x"])
def test_a_stage_name_cannot_become_a_path(name, tmp_path):
    # stage labels name removed/<label>/ and decision folders: only registered names get there
    with pytest.raises(ConfigError, match="unknown stage"):
        parse_pipeline({"name": "x", "stages": [{name: {}}], "output": str(tmp_path / "o")})


def listing(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


def test_a_run_writes_only_to_its_output_and_its_index(tmp_path, monkeypatch):
    write_corpus(tmp_path / "in")
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    before = listing(tmp_path)
    stages = [{"url_dedup": {"index": str(tmp_path / "idx")}}, {"exact_dedup": {}}]
    run(tmp_path / "in", tmp_path / "out", stages)
    new = listing(tmp_path) - before
    assert new and all(p.parts[0] in ("out", "idx") for p in new), sorted(new)[:10]
    assert listing(cwd) == set()


def test_output_inside_the_input_directory_is_refused(tmp_path):
    write_corpus(tmp_path / "in")
    # also when spelled with '..': what counts is where it resolves
    for output in (tmp_path / "in" / "out", tmp_path / "elsewhere" / ".." / "in" / "out"):
        with pytest.raises(InputError, match="output directory is inside the input directory"):
            run(tmp_path / "in", output)
    assert not (tmp_path / "in" / "out").exists()


def test_input_inside_the_output_directory_is_refused_and_kept(tmp_path):
    out = tmp_path / "out"
    write_corpus(out / "data")  # e.g. pointing a run at a previous run's data/
    shards = sorted((out / "data").rglob("*.parquet"))
    with pytest.raises(InputError, match="lies inside the output directory"):
        run(f"{out}/data/dump=*", out)
    assert sorted((out / "data").rglob("*.parquet")) == shards  # not cleared


def test_a_symlink_in_the_output_is_unlinked_not_followed(tmp_path):
    write_corpus(tmp_path / "in")
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "keep.parquet").write_bytes(b"not curate's")
    (tmp_path / "out").mkdir()
    os.symlink(precious, tmp_path / "out" / "data")
    run(tmp_path / "in", tmp_path / "out")
    assert (precious / "keep.parquet").read_bytes() == b"not curate's"
    assert not (tmp_path / "out" / "data").is_symlink()


def test_resume_refuses_a_changed_input(tmp_path):
    write_corpus(tmp_path / "in")
    run(tmp_path / "in", tmp_path / "out")
    shard = sorted((tmp_path / "in").rglob("*.parquet"))[0]
    table = pq.read_table(shard)
    pq.write_table(table.slice(1), shard)  # one document fewer
    with pytest.raises(CurateError, match="cannot --resume: the input changed"):
        run(tmp_path / "in", tmp_path / "out", resume=True)
