"""SimHash near-dedup: ours (document and sentence level) against text-dedup's SimHash.

Same corpus, same run, 2 workers/processes each. text-dedup (registry package `text-dedup`
0.4.0) needs Python >= 3.10 and pulls pyspark, datasets and friends, so it lives in its own
virtualenv under benchmarks/.venv-text-dedup, made on first use from the package registry.
Parameters are text-dedup's defaults on both sides: 64 bits, word 3-grams, Hamming <= 3,
4 blocks. The text-dedup figure includes its datasets load/save of the same Parquet.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from common import run_measured  # noqa: E402

TD_VENV = ROOT / "benchmarks" / ".venv-text-dedup"


def text_dedup_python() -> Path | None:
    python = TD_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(TD_VENV)], check=True)
        r = subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "text-dedup==0.4.0"],
            capture_output=True,
            text=True,
        )
        if r.returncode != 0:
            shutil.rmtree(TD_VENV, ignore_errors=True)
            return None
    return python


def ours(corpus: list[str], tmp: Path, level: str) -> tuple[float, dict, float]:
    pipe = tmp / f"simhash-{level}.yaml"
    pipe.write_text(
        yaml.safe_dump(
            {
                "name": f"simhash-{level}",
                "input": corpus,
                "output": str(tmp / f"out-{level}"),
                "stages": [{"simhash_dedup": {"level": level, "ngram": 3, "hamming": 3}}],
            }
        )
    )
    m = run_measured(
        [sys.executable, "-m", "curate.cli", "run", str(pipe), "--workers", "2"], cwd=str(ROOT)
    )
    if m.returncode != 0:
        raise RuntimeError(m.output[-2000:])
    report = json.loads((tmp / f"out-{level}" / "report.json").read_text())
    return m.seconds, report, m.peak_rss_mb


def run(quick: bool = False) -> str:
    dumps = "dump=CC-MAIN-2023-06" if quick else "dump=*"
    pattern = str(ROOT / "sample_corpus" / dumps / "*.parquet")
    shards = sorted(str(p) for p in (ROOT / "sample_corpus").glob(f"{dumps}/*.parquet"))
    tmp = Path(tempfile.mkdtemp(prefix="curate-bench-simhash-"))
    try:
        lines = [
            "## SimHash near-dedup (`simhash_dedup`) vs text-dedup",
            "",
            (__doc__ or "").strip().split("\n\n")[1].replace("\n", " "),
            "",
        ]
        doc_s, doc_report, doc_rss = ours(shards, tmp, "document")
        sent_s, sent_report, sent_rss = ours(shards, tmp, "sentence")
        n_docs = doc_report["totals"]["docs_in"]
        units = sent_report["stages"][0]["decision"]["units"]
        lines += [
            f"Corpus: {len(shards)} shards of `sample_corpus/`, {n_docs:,} documents, "
            f"{units:,} sentences of >= 3 tokens.",
            "",
            "| tool | level | wall s | docs/s | sentences/s | removed | peak RSS MB |",
            "|---|---|---|---|---|---|---|",
        ]
        doc_stage = doc_report["stages"][0]
        lines.append(
            f"| curate simhash_dedup | document | {doc_s:.1f} | {n_docs / doc_s:,.0f} | "
            f"- | {doc_stage['docs_removed']:,} docs | {doc_rss:,.0f} |"
        )
        st = sent_report["stages"][0]
        lines.append(
            f"| curate simhash_dedup | sentence | {sent_s:.1f} | {n_docs / sent_s:,.0f} | "
            f"{units / sent_s:,.0f} | {st['decision']['units_removed']:,} sentences, "
            f"{st['docs_removed']:,} docs | {sent_rss:,.0f} |"
        )
        python = text_dedup_python()
        if python is None:
            lines.append("| text-dedup 0.4.0 | document | could not be installed | | | | |")
        else:
            env = dict(
                os.environ,
                HF_DATASETS_OFFLINE="1",
                HF_HUB_OFFLINE="1",
                HF_DATASETS_CACHE=str(tmp / "hf-cache"),
            )
            cmd = [
                str(python),
                "-m",
                "text_dedup.simhash",
                "--path",
                "parquet",
                "--data_files",
                pattern,
                "--split",
                "train",
                "--column",
                "text",
                "--output",
                str(tmp / "td-out"),
                "--cache_dir",  # a fresh cache: datasets would reuse an earlier run's hashes
                str(tmp / "td-cache"),
                "--num_proc",
                "2",
                "--ngram",
                "3",
                "--f",
                "64",
                "--bit_diff",
                "3",
                "--num_bucket",
                "4",
            ]
            env_cmd = ["env", *[f"{k}={v}" for k, v in env.items() if k.startswith("HF_")], *cmd]
            m = run_measured(env_cmd)
            if m.returncode != 0:
                last = m.output.strip().splitlines()[-1][:120]
                lines.append(f"| text-dedup 0.4.0 | document | failed: `{last}` | | | | |")
            else:
                count = subprocess.run(
                    [
                        str(python),
                        "-c",
                        "import sys, datasets; print(len(datasets.load_from_disk(sys.argv[1])))",
                        str(tmp / "td-out"),
                    ],
                    capture_output=True,
                    text=True,
                    env=env,
                )
                kept = int(count.stdout.strip() or 0)
                lines.append(
                    f"| text-dedup 0.4.0 | document | {m.seconds:.1f} | "
                    f"{n_docs / m.seconds:,.0f} | - | {n_docs - kept:,} docs | "
                    f"{m.peak_rss_mb:,.0f} |"
                )
        lines += [
            "",
            f"Top removed sentence: "
            f"`{(st['decision'].get('top_removed') or [{'text': '-'}])[0]['text']}`",
        ]
        return "\n".join(lines) + "\n"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
