"""README.md's table of stage parameters is the one generated from the stage configs."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from curate.report.stages import BEGIN, END, readme_block, stages_markdown
from curate.stages.base import REGISTRY, load_all

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_holds_the_generated_stage_table():
    text = README.read_text()
    assert BEGIN in text and END in text, f"{README}: the stage table markers are missing"
    current = text[text.index(BEGIN) : text.index(END) + len(END)]
    assert current == readme_block(), (
        f"{README}: the stage table is out of date; regenerate it with "
        "`.venv/bin/python -m curate.report.stages` and paste it between the markers"
    )


def test_table_lists_every_parameter_with_its_default():
    load_all()
    table = stages_markdown()
    rows = table.splitlines()[2:]
    assert len(rows) == sum(len(dataclasses.fields(c.Config)) for c in REGISTRY.values())
    assert "| `minhash_dedup` | `threshold` | `0.8` |" in table
    assert '| | `keep` | `"earliest"` |' in table.replace("|  |", "| |")
    assert "| `remix` | `targets` | `null` |" in table
