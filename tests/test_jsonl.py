"""JSONL input (.jsonl, .jsonl.gz, .jsonl.zst) through the real `curate run`: bad lines are
quarantined with their line number and reason, a damaged compressed file keeps every line
before the damage, large plain files are cut into shards on line boundaries, and the report's
counts balance."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
import zstandard
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.config import load_pipeline
from curate.errors import ConfigError
from curate.io import discover_files, plan_shards, read_footer
from curate.jsonl import BLOCK_LINES
from curate.report import check_balance
from tests.conftest import stdlib_docs

REPO = Path(__file__).resolve().parents[1]


def curate(*args, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "curate.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, **(env or {})},
        timeout=300,
    )


def write_pipeline(where: Path, input: Path, out: Path, **top) -> Path:
    body = {
        "name": "jsonl",
        "input": str(input),
        "output": str(out),
        "batch_size": 64,
        "stages": [{"exact_dedup": {}}],
        **top,
    }
    path = where / "p.yaml"
    path.write_text(yaml.safe_dump(body))
    return path


def lines_of(docs: list[str], start: int = 0) -> bytes:
    return b"".join(
        json.dumps({"text": d, "url": f"https://docs.example/{start + i}"}).encode() + b"\n"
        for i, d in enumerate(docs)
    )


@pytest.fixture(scope="module")
def dirty(tmp_path_factory):
    """One plain file with every kind of bad line (lines 1-60), a good .gz and .zst, a
    truncated .gz and a .zst cut in its middle; the run over them, once."""
    root = tmp_path_factory.mktemp("jsonl")
    docs = stdlib_docs()
    folder = root / "in" / "dump=CC-MAIN-2024-10"
    folder.mkdir(parents=True)
    bad = {  # 1-based line number -> (raw line, the error's kind)
        5: (b"{not json", "line is not valid JSON"),
        9: (b'{"text": "caf\xff au lait"}', "line is not valid UTF-8"),
        12: (b'{"text": 42}', "text is not a string"),
        15: (b"[1, 2]", "line is not a JSON object"),
        18: (b'{"text": ""}', "text is empty"),
        21: (b'{"url": "https://docs.example/no-text"}', "text is null"),
        24: (b'{"text": "a \\ud800 lone surrogate"}', "text is not valid UTF-8"),
    }
    lines, good = [], 0
    for number in range(1, 61):
        if number in bad:
            lines.append(bad[number][0] + b"\n")
        elif number == 30:
            lines.append(b"\n")  # blank: not a document
        else:
            lines.append(json.dumps({"text": docs[number], "id": number}).encode() + b"\n")
            good += 1
    (folder / "a.jsonl").write_bytes(b"".join(lines))
    (folder / "b.jsonl.gz").write_bytes(gzip.compress(lines_of(docs[60:110], 60)))
    (folder / "c.jsonl.zst").write_bytes(
        zstandard.ZstdCompressor().compress(lines_of(docs[110:160], 110))
    )
    # a truncated gzip member: the lines that decompress before the cut are kept
    whole = gzip.compress(lines_of(docs[160:260], 160))
    (folder / "d.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    # two zstd frames, the second one cut: the first frame's 40 lines are kept
    first = zstandard.ZstdCompressor().compress(lines_of(docs[260:300], 260))
    second = zstandard.ZstdCompressor().compress(lines_of(docs[300:328], 300))
    (folder / "e.jsonl.zst").write_bytes(first + second[: len(second) // 2])
    out = root / "out"
    r = curate("run", write_pipeline(root, root / "in", out), "--workers", "1")
    assert r.returncode == 0, r.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    return {"out": out, "report": report, "bad": bad, "good": good, "docs": docs}


def test_bad_lines_are_quarantined_with_their_line_number_and_reason(dirty):
    table = pq.read_table(dirty["out"] / "quarantine" / "part-00000.parquet")
    got = {
        row["_source_row"] + 1: row["error"]
        for row in table.select(["_source_row", "error"]).to_pylist()
    }
    assert sorted(got) == sorted(dirty["bad"])
    for number, (_, kind) in dirty["bad"].items():
        assert got[number].startswith(kind), (number, got[number])
        if kind.startswith("line"):
            assert f"line {number}" in got[number]
    assert all(s.endswith("a.jsonl") for s in table["source_file"].to_pylist())


def test_damaged_compressed_files_keep_the_lines_before_the_damage(dirty):
    report = dirty["report"]
    files = {Path(f["path"]).name: f["error"] for f in report["quarantine"]["files"]}
    assert set(files) == {"d.jsonl.gz", "e.jsonl.zst"}
    assert "ends in the middle" in files["d.jsonl.gz"] and "lines before it" in files["d.jsonl.gz"]
    assert "e.jsonl.zst: unreadable after line 40" in files["e.jsonl.zst"]
    texts = set(pq.read_table(dirty["out"] / "data")["text"].to_pylist())
    texts |= set(pq.read_table(dirty["out"] / "removed")["text"].to_pylist())
    docs = dirty["docs"]
    assert set(docs[260:300]) <= texts and not texts & set(docs[300:328])
    kept_d = len(texts & set(docs[160:260]))
    assert 10 < kept_d < 100, kept_d  # half the compressed bytes: some lines, not all
    assert set(docs[160 : 160 + kept_d]) <= texts  # the first ones, in order
    bad_files = pq.read_table(dirty["out"] / "quarantine" / "_bad_files")
    assert sorted(Path(p).name for p in bad_files["path"].to_pylist()) == sorted(files)


def test_counts_balance_and_every_good_line_is_a_row(dirty):
    report = dirty["report"]
    assert check_balance(report) == []
    t = report["totals"]
    assert t["docs_quarantined"] == len(dirty["bad"])
    data = pq.read_table(dirty["out"] / "data")
    removed = pq.read_table(dirty["out"] / "removed" / "exact_dedup")
    texts = data["text"].to_pylist() + removed["text"].to_pylist()
    docs = dirty["docs"]
    assert set(docs[60:160]) <= set(texts)  # the good .gz and .zst, whole
    assert t["docs_out"] + t["docs_removed"] == t["docs_in"] - t["docs_quarantined"]
    # ids: the line's own (numbers become strings), the hive folder fills dump, url mapped
    rows = {r["text"]: r for r in data.to_pylist()}
    assert rows[docs[1]]["id"] == "1" and rows[docs[1]]["dump"] == "CC-MAIN-2024-10"
    assert rows[docs[61]]["url"] == "https://docs.example/61"
    assert rows[docs[61]]["id"].endswith("-1")  # derived from the file and line number


def test_a_large_plain_file_is_cut_on_line_boundaries(tmp_path):
    """5.5 blocks of lines, shard_rows of two blocks: 3 shards, and the same rows and ids as
    the file read as one shard."""
    docs = stdlib_docs()
    n = BLOCK_LINES * 11 // 2
    body = b"".join(
        json.dumps({"text": f"{docs[i % len(docs)][:80]} #{i}"}).encode() + b"\n" for i in range(n)
    )
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "big.jsonl").write_bytes(body[:-1])  # no newline after the last line
    files = discover_files([str(tmp_path / "in")])
    footers = [read_footer(f) for f in files]
    assert sum(footers[0].group_rows) == n
    shards = plan_shards(files, footers, 2 * BLOCK_LINES)
    assert [s.files[0].first_row for s in shards] == [0, 2 * BLOCK_LINES, 4 * BLOCK_LINES]
    for s in shards[1:]:  # every cut is just after a newline
        assert body[s.files[0].byte_range[0] - 1 : s.files[0].byte_range[0]] == b"\n"

    outs = {}
    for shard_rows in (2 * BLOCK_LINES, 10 * n):
        out = tmp_path / f"out-{shard_rows}"
        pipe = write_pipeline(tmp_path, tmp_path / "in", out, shard_rows=shard_rows)
        r = curate("run", pipe, "--workers", "2")
        assert r.returncode == 0, r.stderr[-3000:]
        report = json.loads((out / "report.json").read_text())
        assert check_balance(report) == [] and report["totals"]["docs_in"] == n
        data = pq.read_table(out / "data")
        outs[shard_rows] = sorted(zip(data["id"].to_pylist(), data["text"].to_pylist()))
        assert len(list((out / "data").glob("*.parquet"))) == (3 if shard_rows < n else 1)
    assert outs[2 * BLOCK_LINES] == outs[10 * n]
    assert len(outs[10 * n]) == n


def test_jsonl_keys_map_to_columns(tmp_path):
    docs = stdlib_docs()[:20]
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.jsonl").write_text(
        "".join(
            json.dumps({"content": d, "link": f"https://e/{i}", "doc_id": i, "meta": {"a": 1}})
            + "\n"
            for i, d in enumerate(docs)
        )
    )
    out = tmp_path / "out"
    pipe = write_pipeline(
        tmp_path, tmp_path / "in", out, jsonl={"text": "content", "url": "link", "id": "doc_id"}
    )
    r = curate("run", pipe)
    assert r.returncode == 0, r.stderr[-3000:]
    data = pq.read_table(out / "data").to_pylist()
    assert sorted(r["id"] for r in data) == sorted(str(i) for i in range(20))
    assert {r["url"] for r in data} == {f"https://e/{i}" for i in range(20)}
    assert {r["text"] for r in data} == set(docs)


def test_a_jsonl_key_for_an_unknown_column_is_a_config_error(tmp_path):
    pipe = write_pipeline(tmp_path, tmp_path, tmp_path / "out", jsonl={"txt": "content"})
    with pytest.raises(ConfigError, match=r"jsonl\.txt.*did you mean 'text'"):
        load_pipeline(str(pipe))


line_kinds = st.lists(
    st.one_of(
        st.text(min_size=1, max_size=40).map(lambda t: ("good", json.dumps({"text": "t " + t}))),
        st.just(("blank", "")),
        st.just(("bad", "{broken")),
        st.just(("bad", "[1, 2]")),
        st.just(("bad", '{"text": 3}')),
        st.just(("bad", '{"text": "  "}')),
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=80, deadline=None)
@given(lines=line_kinds, batch=st.integers(1, 9), compression=st.sampled_from(["", ".gz"]))
def test_every_line_is_a_row_or_quarantined_with_its_number(tmp_path_factory, lines, batch,
                                                             compression):  # fmt: skip
    """Property: whatever the mix of lines and the batch size, each non-blank line is a row
    or a quarantined row, once, with its own line number; blank lines are neither."""
    from curate.io import InputFile, read_input_file

    body = "".join(text + "\n" for _, text in lines).encode()
    path = tmp_path_factory.mktemp("prop") / f"x.jsonl{compression}"
    path.write_bytes(gzip.compress(body) if compression else body)
    file = InputFile(str(path), path.name, (), len(body))
    kept, bad = [], []
    for rb in read_input_file(file, batch):
        kept += [int(i.rsplit("-", 1)[1]) for i in rb.batch.column("id").to_pylist()]
        if rb.quarantined is not None:
            bad += rb.quarantined["_source_row"].to_pylist()
    assert kept == [i for i, (k, _) in enumerate(lines) if k == "good"]
    assert bad == [i for i, (k, _) in enumerate(lines) if k == "bad"]
