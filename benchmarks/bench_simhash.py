"""SimHash near-dedup: ours (document and sentence level, all dumps at once and dump by dump
through an index) against text-dedup's SimHash, and our MinHash for scale.

Same corpus, same run, 2 workers/processes each. text-dedup (registry package `text-dedup`
0.4.0) needs Python >= 3.10 and pulls pyspark, datasets and friends, so it lives in its own
virtualenv under benchmarks/.venv-text-dedup, made on first use from the package registry.
Parameters are text-dedup's defaults on both sides: 64 bits, 3-grams (ours of words,
text-dedup's of lower-cased characters), Hamming <= 3, 4 blocks (our MinHash at its
defaults). The text-dedup figure includes its datasets load/save of the same Parquet.
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


def ours(corpus: list[str], tmp: Path, label: str, stage: dict) -> tuple[float, dict, float]:
    """One `curate run` of a single stage: (wall seconds, report, peak RSS MB)."""
    pipe = tmp / f"{label}.yaml"
    out = tmp / f"out-{label}"
    pipe.write_text(
        yaml.safe_dump({"name": label, "input": corpus, "output": str(out), "stages": [stage]})
    )
    m = run_measured(
        [sys.executable, "-m", "curate.cli", "run", str(pipe), "--workers", "2"], cwd=str(ROOT)
    )
    if m.returncode != 0:
        raise RuntimeError(m.output[-2000:])
    report = json.loads((out / "report.json").read_text())
    shutil.rmtree(out, ignore_errors=True)
    return m.seconds, report, m.peak_rss_mb


def simhash_stage(level: str, index: Path | None = None) -> dict:
    params = {"level": level, "ngram": 3, "hamming": 3}
    return {"simhash_dedup": params | ({"index": str(index)} if index else {})}


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
        doc_s, doc_report, doc_rss = ours(shards, tmp, "document", simhash_stage("document"))
        sent_s, sent_report, sent_rss = ours(shards, tmp, "sentence", simhash_stage("sentence"))
        mh_s, mh_report, mh_rss = ours(shards, tmp, "minhash", {"minhash_dedup": {}})
        dumps_in = sorted({Path(f).parent for f in shards})
        by_dump = [
            ours([str(d)], tmp, f"index-{i}", simhash_stage("sentence", tmp / "index"))
            for i, d in enumerate(dumps_in)
        ]
        n_docs = doc_report["totals"]["docs_in"]
        st = sent_report["stages"][0]
        units = st["decision"]["units"]
        lines += [
            f"Corpus: {len(shards)} shards of `sample_corpus/`, {n_docs:,} documents, "
            f"{units:,} sentences of >= 3 tokens, not numbers only. Wall s is the whole "
            "`curate run` (start-up, reading, writing); stage s is the time inside the stage, "
            "summed over workers.",
            "",
            "| tool | level | wall s | stage s | docs/s | sentences/s | removed | peak RSS MB |",
            "|---|---|---|---|---|---|---|---|",
        ]

        def row(tool, level, seconds, stage, units_s, removed, rss):
            return (
                f"| {tool} | {level} | {seconds:.1f} | {stage} | {n_docs / seconds:,.0f} | "
                f"{units_s} | {removed} | {rss:,.0f} |"
            )

        ds = doc_report["stages"][0]
        lines.append(
            row(
                "curate simhash_dedup",
                "document",
                doc_s,
                f"{ds['seconds']:.1f}",
                "-",
                f"{ds['docs_removed']:,} docs",
                doc_rss,
            )
        )
        lines.append(
            row(
                "curate simhash_dedup",
                "sentence",
                sent_s,
                f"{st['seconds']:.1f}",
                f"{units / sent_s:,.0f}",
                f"{st['decision']['units_removed']:,} sentences, {st['docs_removed']:,} docs",
                sent_rss,
            )
        )
        idx_s = sum(r[0] for r in by_dump)
        idx_units = sum(r[1]["stages"][0]["decision"]["units_removed"] for r in by_dump)
        idx_docs = sum(r[1]["stages"][0]["docs_removed"] for r in by_dump)
        lines.append(
            row(
                f"curate simhash_dedup, dump by dump through `index:` ({len(by_dump)} runs)",
                "sentence",
                idx_s,
                f"{sum(r[1]['stages'][0]['seconds'] for r in by_dump):.1f}",
                f"{units / idx_s:,.0f}",
                f"{idx_units:,} sentences, {idx_docs:,} docs",
                max(r[2] for r in by_dump),
            )
        )
        ms = mh_report["stages"][0]
        lines.append(
            row(
                "curate minhash_dedup (defaults)",
                "document",
                mh_s,
                f"{ms['seconds']:.1f}",
                "-",
                f"{ms['docs_removed']:,} docs",
                mh_rss,
            )
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
                lines.append(f"| text-dedup 0.4.0 | document | failed: `{last}` | | | | | |")
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
                    row(
                        "text-dedup 0.4.0 SimHash",
                        "document",
                        m.seconds,
                        "-",
                        "-",
                        f"{n_docs - kept:,} docs",
                        m.peak_rss_mb,
                    )
                )
        lines += [
            "",
            "Top removed sentences (digits and e-mails masked by the stage):",
            "",
            *(
                f"- `{u['text']}`: removed {u['removed']:,} times, in {u['documents']:,} documents"
                for u in st["decision"].get("top_removed", [])[:5]
            ),
        ]
        return "\n".join(lines) + "\n"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
