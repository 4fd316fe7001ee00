"""Config safety: YAML is data, never code; a run writes only where its config points (the output
directory and the indexes it names); input and output never overlap; --resume refuses another
run's directory."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
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


# ---------------------------------------------------------------- YAML aliases


def laughs(indent: str, levels: int = 9, width: int = 9) -> str:
    """A "billion laughs" list: each anchor holds ``width`` aliases of the one before, so
    width**levels values once expanded (9**9 = 387,420,489 strings from a 1 kB file)."""
    lines = [f"{indent}- &l0 [" + ", ".join(["lol"] * width) + "]"]
    for i in range(1, levels):
        lines.append(f"{indent}- &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


BOMBS = {  # where the bomb sits -> the key the error must name
    "name: x\nstages: [exact_dedup]\ndescription:\n" + laughs("  "): r"description\[\d\]\[",
    "name: x\nstages: [exact_dedup]\ninput:\n" + laughs("  "): r"input\[\d\]\[",
    "name: x\nstages:\n  - quality_filter:\n      rules: [gopher_quality]\n      params:\n"
    + laughs("        "): r"stages\[0\]\.quality_filter\.params\[\d\]\[",
    # merge keys are aliases too, counted at their expanded size (whatever PyYAML then keeps)
    "name: x\nstages: [exact_dedup]\ndescription:\n  m0: &m0 {"
    + ", ".join(f"k{i}: {i}" for i in range(10))
    + "}\n"
    + "".join(f"  m{i}: &m{i} {{<<: [{', '.join([f'*m{i - 1}'] * 10)}]}}\n" for i in range(1, 9)): (
        r"description\.m\d\.<<\[\d\]"
    ),
}


def curate(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "curate.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,  # a regression hangs for minutes; fail instead
    )


def test_a_billion_laughs_fails_fast_through_the_cli(tmp_path):
    bomb = tmp_path / "laughs.yaml"
    bomb.write_text(next(iter(BOMBS)))
    t = time.perf_counter()
    r = curate("run", bomb, "--output", tmp_path / "out")
    assert time.perf_counter() - t < 30  # the interpreter start is most of it
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    (line,) = [ln for ln in r.stderr.splitlines() if ln.startswith("curate: error:")]
    assert f"{bomb}: line " in line and ", description[" in line
    assert "aliases expand to more than 100,000 values" in line
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("text, key", BOMBS.items())
def test_alias_bombs_anywhere_name_their_key(tmp_path, text, key):
    bomb = tmp_path / "p.yaml"
    bomb.write_text(text)
    t = time.perf_counter()
    with pytest.raises(ConfigError, match=rf"p.yaml: line \d+, {key}.*aliases expand"):
        load_pipeline(bomb)
    assert time.perf_counter() - t < 5


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path):
    pipe = tmp_path / "p.yaml"
    pipe.write_text("name: x\nstages:\n  - exact_dedup: &a {keep: *a}\n")
    with pytest.raises(ConfigError, match=r"p.yaml: line 3, stages\[0\].exact_dedup.keep: alias"):
        load_pipeline(pipe)


def test_deep_nesting_is_an_error_not_a_recursion_error(tmp_path):
    pipe = tmp_path / "p.yaml"
    pipe.write_text("name: x\nstages: [exact_dedup]\ndescription: " + "[" * 5000 + "]" * 5000)
    with pytest.raises(ConfigError, match="p.yaml: line 3, description.*nested more than 100"):
        load_pipeline(pipe)


def test_aliases_are_bounded_not_banned(tmp_path):
    pipe = tmp_path / "p.yaml"  # 66,429 strings, 74,718 values added by aliases: under the bound
    pipe.write_text("name: x\nstages: [exact_dedup]\ndescription:\n" + laughs("  ", levels=5))
    assert load_pipeline(pipe).description.count("lol") == sum(9**k for k in range(1, 6))
