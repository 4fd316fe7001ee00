"""End-to-end throughput of the demo pipeline, against the floor of pyarrow alone.

Runs `curate run pipelines/deepseek.yaml` on the bundled sample corpus (2 workers) and, in the
same invocation, the cost of reading and rewriting the same Parquet shards with pyarrow and
nothing else: what a pipeline that did no work at all would cost.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from common import run_measured  # noqa: E402

FLOOR = textwrap.dedent("""
    import sys, glob, pyarrow.parquet as pq
    src, dst = sys.argv[1], sys.argv[2]
    for i, path in enumerate(sorted(glob.glob(src + "/**/*.parquet", recursive=True))):
        pf = pq.ParquetFile(path)
        with pq.ParquetWriter(f"{dst}/part-{i:05d}.parquet", pf.schema_arrow,
                              compression="zstd") as w:
            for batch in pf.iter_batches(batch_size=2048):
                w.write_batch(batch)
""")


def run(quick: bool = False) -> str:
    corpus = ROOT / "sample_corpus"
    tmp = Path(tempfile.mkdtemp(prefix="curate-bench-"))
    try:
        out = tmp / "out"
        curate = [
            sys.executable,
            "-m",
            "curate.cli",
            "run",
            str(ROOT / "pipelines/deepseek.yaml"),
            "--input",
            *sorted(str(p) for p in corpus.glob("dump=*")),
            "--output",
            str(out),
            "--workers",
            "2",
        ]
        ours = run_measured(curate, cwd=str(ROOT))
        if ours.returncode != 0:
            return f"## End-to-end\n\nFAILED:\n```\n{ours.output[-2000:]}\n```\n"
        report = json.loads((out / "report.json").read_text())
        (tmp / "floor").mkdir()
        floor = run_measured([sys.executable, "-c", FLOOR, str(corpus), str(tmp / "floor")])
        t = report["totals"]
        docs, mb = t["docs_in"], t["bytes_in"] / 1e6
        stages = " -> ".join(s["name"] for s in report["stages"])
        rows = [
            ("curate run (demo pipeline)", ours),
            ("pyarrow read + write only (floor)", floor),
        ]
        lines = [
            "## End-to-end: demo pipeline on the sample corpus",
            "",
            f"Command: `curate run pipelines/deepseek.yaml --workers 2` on `sample_corpus/` "
            f"({docs:,} documents, {mb:.1f} MB of text, {report['input']['shards']} shards); "
            f"stages: {stages}.",
            "",
            "| what | wall s | docs/s | MB/s | peak RSS (MB, process tree) |",
            "|---|---|---|---|---|",
        ]
        for name, m in rows:
            lines.append(
                f"| {name} | {m.seconds:.1f} | {docs / m.seconds:,.0f} | "
                f"{mb / m.seconds:.2f} | {m.peak_rss_mb:,.0f} |"
            )
        lines += ["", "Time per stage (seconds summed over workers):", ""]
        lines += [
            f"- {s['name']}: {s['seconds']:.1f} s, removed {s['removal_rate']:.1%}"
            for s in report["stages"]
        ]
        lines += [
            "- passes: "
            + ", ".join(
                f"pass {p['pass']} {p['seconds']:.1f} s" for p in report["timings"]["passes"]
            )
        ]
        return "\n".join(lines) + "\n"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
