"""JSONL input against Parquet: the same documents, the same one-stage pipeline (exact_dedup).

The bundled sample corpus written four ways (Parquet as bundled, plain JSONL, .jsonl.gz,
.jsonl.zst, one file per dump), then `curate run --workers 2` over each; the outputs must hold
the same texts. Also timed: the driver's planning scan of a plain JSONL file (newlines counted
once to cut it into shards on line boundaries).
"""

from __future__ import annotations

import gzip
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT))
from common import run_measured  # noqa: E402

PIPELINE = "name: jsonl\nstages:\n  - exact_dedup: {keep: earliest}\n"


def _write(tmp: Path, quick: bool) -> tuple[dict[str, Path], int, int]:
    import zstandard

    layouts = {k: tmp / k for k in ("parquet", "jsonl", "jsonl.gz", "jsonl.zst")}
    docs = raw_bytes = 0
    for folder in sorted((ROOT / "sample_corpus").glob("dump=*")):
        table = pa.concat_tables(pq.read_table(f) for f in sorted(folder.glob("*.parquet")))
        if quick:
            table = table.slice(0, 1500)
        docs += table.num_rows
        for path in layouts.values():
            (path / folder.name).mkdir(parents=True, exist_ok=True)
        pq.write_table(
            table, layouts["parquet"] / folder.name / "part.parquet", row_group_size=2000
        )
        cols = [c for c in ("id", "text", "url", "date", "language") if c in table.column_names]
        body = "".join(
            json.dumps(r, ensure_ascii=False) + "\n" for r in table.select(cols).to_pylist()
        )
        data = body.encode()
        raw_bytes += len(data)
        (layouts["jsonl"] / folder.name / "part.jsonl").write_bytes(data)
        (layouts["jsonl.gz"] / folder.name / "part.jsonl.gz").write_bytes(gzip.compress(data, 6))
        (layouts["jsonl.zst"] / folder.name / "part.jsonl.zst").write_bytes(
            zstandard.ZstdCompressor(level=3).compress(data)
        )
    return layouts, docs, raw_bytes


def run(quick: bool = False) -> str:
    from curate.jsonl import scan_plain

    tmp = Path(tempfile.mkdtemp(prefix="curate-bench-jsonl-"))
    try:
        layouts, docs, raw = _write(tmp, quick)
        (tmp / "p.yaml").write_text(PIPELINE)
        rows, texts = [], {}
        for name, folder in layouts.items():
            out = tmp / f"out-{name}"
            cmd = [sys.executable, "-m", "curate.cli", "run", str(tmp / "p.yaml"), "--input"]
            cmd += [str(folder), "--output", str(out), "--workers", "2"]
            m = run_measured(cmd, cwd=str(ROOT))
            if m.returncode != 0:
                return f"## JSONL input\n\nFAILED ({name}):\n```\n{m.output[-2000:]}\n```\n"
            report = json.loads((out / "report.json").read_text())
            shards = report["timings"]["passes"][0]["shards_run"]
            texts[name] = sorted(pq.read_table(out / "data", columns=["text"])["text"].to_pylist())
            rows.append((name, m.seconds, m.peak_rss_mb, shards, report["totals"]["docs_out"]))
        same = all(t == texts["parquet"] for t in texts.values())
        plain = sorted((layouts["jsonl"]).rglob("*.jsonl"))
        t = time.perf_counter()
        for f in plain:
            scan_plain(str(f))
        scan = time.perf_counter() - t
        lines = [
            "## JSONL input: the sample corpus as Parquet, JSONL, .jsonl.gz and .jsonl.zst",
            "",
            f"{docs:,} documents ({raw / 1e6:.1f} MB of JSONL), `curate run` with one "
            "`exact_dedup` stage, `--workers 2`, wall time of the whole command.",
            "",
            "| input | seconds | docs/s | shards | docs out | peak RSS MB |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for name, seconds, rss, shards, out in rows:
            rate = docs / seconds
            lines.append(
                f"| {name} | {seconds:.1f} | {rate:,.0f} | {shards} | {out:,} | {rss:.0f} |"
            )
        lines += [
            "",
            f"Same kept texts from every format: {'yes' if same else 'NO'}. Planning scan of the "
            f"plain JSONL (newlines counted, block offsets): {scan:.2f} s for {raw / 1e6:.1f} MB "
            f"({raw / 1e6 / scan:,.0f} MB/s).",
            "",
            "`PYTHONPATH=$PWD .venv/bin/python benchmarks/run.py --only jsonl`",
        ]
        return "\n".join(lines) + "\n"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
