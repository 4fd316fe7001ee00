"""One large input file: does it keep both workers busy?

The whole sample corpus rewritten as ONE Parquet file, run with `--workers 2` through a dedup and
filter pipeline, twice: the file written as one row group (what pyarrow's `write_table` does below
1 Mi rows), which no shard plan can cut, and the same rows in row groups of 1,000, which
`shard_rows: auto` cuts into one shard per row group. Both runs must keep and remove the same
rows (checked with scripts/same_outcome.py).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from common import run_measured  # noqa: E402

PIPELINE = """\
name: one-file
shard_rows: auto
stages:
  - url_dedup: {keep: earliest}
  - exact_dedup: {keep: earliest}
  - minhash_dedup: {threshold: 0.8, num_perm: 128, ngram: 5, keep: earliest}
  - quality_filter: {rules: [gopher_repetition, gopher_quality]}
"""


def run(quick: bool = False) -> str:
    tmp = Path(tempfile.mkdtemp(prefix="curate-bench-shards-"))
    try:
        files = sorted((ROOT / "sample_corpus").glob("dump=*/*.parquet"))
        table = pa.concat_tables(pq.read_table(f) for f in files)
        if quick:
            table = table.slice(0, 6000)
        (tmp / "pipeline.yaml").write_text(PIPELINE)
        layouts = [("one row group", None), ("row groups of 1,000 rows", 1000)]
        rows, outs = [], []
        for name, group in layouts:
            src = tmp / f"in-{group}"
            src.mkdir()
            pq.write_table(table, src / "corpus.parquet", row_group_size=group)
            out = tmp / f"out-{group}"
            cmd = [sys.executable, "-m", "curate.cli", "run", str(tmp / "pipeline.yaml")]
            cmd += ["--input", str(src), "--output", str(out), "--workers", "2"]
            m = run_measured(cmd, cwd=str(ROOT))
            if m.returncode != 0:
                return f"## One large file\n\nFAILED ({name}):\n```\n{m.output[-2000:]}\n```\n"
            report = json.loads((out / "report.json").read_text())
            busy = sum(s["seconds"] for s in report["stages"]) / m.seconds
            shards = ", ".join(str(p["shards_run"]) for p in report["timings"]["passes"])
            groups = pq.ParquetFile(src / "corpus.parquet").num_row_groups
            rows.append(
                f"| {name} ({groups}) | {shards} | {m.seconds:.1f} | "
                f"{report['totals']['docs_in'] / m.seconds:,.0f} | {busy:.2f} | "
                f"{m.peak_rss_mb:,.0f} |"
            )
            outs.append(out)
        same = subprocess.run(
            [sys.executable, str(ROOT / "scripts/same_outcome.py"), *map(str, outs)],
            capture_output=True,
            text=True,
        )
        mb = pa.compute.sum(pa.compute.binary_length(table["text"])).as_py() / 1e6
        return "\n".join(
            [
                "## One large file: shards are ranges of row groups",
                "",
                f"The sample corpus ({table.num_rows:,} documents, {mb:.1f} MB of text) as one "
                "Parquet file, `curate run --workers 2` with `shard_rows: auto` through "
                "url_dedup, exact_dedup, minhash_dedup and quality_filter. Busy workers: the "
                "seconds spent in stages, summed over workers, per second of wall time.",
                "",
                "| file (row groups) | shards run per pass | wall s | docs/s | busy workers "
                "| peak RSS (MB, process tree) |",
                "|---|---|---|---|---|---|",
                *rows,
                "",
                "Same rows kept and removed by every stage, row for row "
                f"(`scripts/same_outcome.py`): {'yes' if same.returncode == 0 else 'NO'}.",
                "",
                "```",
                same.stdout.strip().replace(str(tmp) + "/", ""),
                "```",
            ]
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
