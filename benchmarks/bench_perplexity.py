"""Perplexity filtering: model training, scoring speed (and where the time goes), and how well
the filter separates the sample corpus's injected low-quality pages from clean ones.

    python benchmarks/run.py --only perplexity

Models are trained from ``sample_corpus/reference/*.txt`` with ``curate lm train`` (what
``make models`` runs) into a temporary directory, so the figures do not depend on stale files.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from common import run_measured  # noqa: E402

CORPUS = Path(os.environ.get("CURATE_SAMPLE_CORPUS", REPO / "sample_corpus"))
# reference file -> (language, config key, SentencePiece vocabulary)
REFERENCE = {
    "en.txt": ("en", "en", 8000),
    "zh.txt": ("zh", "zh", 8000),
    "en_code.txt": ("en", "en/code", 8000),
    "en_math.txt": ("en", "en/math", 8000),
}
RULES = {
    "keep_below p90, code skipped": {"default": {"keep_below": "p90"}, "code": {"skip": True}},
    "keep_below p95, code skipped": {"default": {"keep_below": "p95"}, "code": {"skip": True}},
}


def train_models(out: Path, quick: bool) -> tuple[dict[str, str], list[str]]:
    rows = [
        "| reference | lang | chars | tokens | n-grams (1..5) | ARPA MB | seconds | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    models = {}
    for name, (lang, key, vocab) in REFERENCE.items():
        path = CORPUS / "reference" / name
        if not path.is_file() or (quick and name != "en.txt"):
            continue
        arpa = out / name.replace(".txt", ".arpa")
        cmd = [sys.executable, "-m", "curate.cli", "lm", "train", "--input", str(path),
               "--lang", lang, "--out", str(arpa), "--sentencepiece", str(vocab)]  # fmt: skip
        m = run_measured(cmd, cwd=str(REPO))
        if m.returncode:
            raise RuntimeError(m.output)
        info = json.loads(m.output[m.output.index("{") :])
        models[key] = str(arpa)
        rows.append(
            f"| {name} | {lang} | {len(path.read_text()):,} | {info['tokens']:,} | "
            f"{' / '.join(f'{n:,}' for n in info['ngrams'])} | {info['megabytes']} | "
            f"{m.seconds:.1f} | {m.peak_rss_mb:.0f} |"
        )
    return models, rows


def estimator_scaling(out: Path, quick: bool) -> list[str]:
    """The estimator alone on all of the corpus's English text (a larger input than references)."""
    files = sorted(CORPUS.glob("dump=*/*.parquet"))
    if not files:
        return []
    inputs = [str(files[0])] if quick else sorted(str(p) for p in CORPUS.glob("dump=*"))
    cmd = [sys.executable, "-m", "curate.cli", "lm", "train", "--input", *inputs,
           "--lang", "en", "--out", str(out / "all_en.arpa"), "--sentencepiece", "none",
           "--estimator", "curate", "--no-negatives"]  # fmt: skip
    m = run_measured(cmd, cwd=str(REPO))
    if m.returncode:
        raise RuntimeError(m.output)
    info = json.loads(m.output[m.output.index("{") :])
    s = info["seconds"]
    return [
        "",
        f"Estimator alone, 5-gram, whitespace tokens, on {'one shard' if quick else 'all'} of the "
        f"sample dumps' English documents: {info['tokens']:,} tokens, "
        f"{sum(info['ngrams']):,} n-grams; counting + estimation {s['estimate']:.1f} s "
        f"({info['tokens'] / s['estimate'] / 1e6:.2f} M tokens/s), ARPA writing {s['write']:.1f} s "
        f"({info['megabytes']} MB), whole command {m.seconds:.1f} s, peak RSS "
        f"{m.peak_rss_mb:.0f} MB (default budget, --memory 1G).",
    ]


def man_page_text(path: Path, tokens: int) -> int:
    """The paragraphs of the machine's English man pages (real, varied technical text), in
    page order, up to ``tokens`` whitespace tokens (+1 per line for </s>); returns the count."""
    from roff import roff_blocks

    written = 0
    with open(path, "w", encoding="utf-8") as f:
        for page in sorted(Path("/usr/share/man").glob("man[1-8]/*.gz")):
            try:
                with gzip.open(page) as g:
                    src = g.read().decode("utf-8", "replace")
            except (OSError, EOFError):
                continue
            for para in roff_blocks(src):
                f.write(para + "\n")
                written += len(para.split()) + 1
                if written >= tokens:
                    return written
    return written


ESTIMATORS = {  # name in the table -> curate lm train arguments
    "curate, --memory 64M": ["--estimator", "curate", "--memory", "64M"],
    "curate, --memory 256M": ["--estimator", "curate", "--memory", "256M"],
    "curate-in-memory": ["--estimator", "curate-in-memory"],
    "KenLM lmplz, -S 256M": ["--estimator", "lmplz", "--memory", "256M"],
}
# lmplz is not in the kenlm wheel: scripts/build_lmplz.sh builds it (off PATH here by default)
LMPLZ_DIRS = [d for d in (os.environ.get("LMPLZ_DIR"), "/opt/kenlm/bin", "/usr/local/bin") if d]


def _lmplz_path() -> str | None:
    """PATH with a directory holding lmplz first, or None when there is none."""
    found = shutil.which("lmplz")
    if found:
        return os.environ["PATH"]
    for d in LMPLZ_DIRS:
        if (Path(d) / "lmplz").is_file():
            return f"{d}:{os.environ['PATH']}"
    return None


def sentencepiece_rows(text: Path, out: Path) -> list[str]:
    """The largest input again with SentencePiece trained first (vocabulary 8,000): its trainer
    holds its input, so curate gives it a sample of the lines sized to --memory."""
    rows = []
    for memory in ("256M", "1G"):
        cmd = [sys.executable, "-m", "curate.cli", "lm", "train", "--input", str(text),
               "--lang", "en", "--out", str(out / "man_sp.arpa"), "--sentencepiece", "8000",
               "--estimator", "curate", "--memory", memory, "--no-negatives"]  # fmt: skip
        m = run_measured(cmd, cwd=str(REPO))
        if m.returncode:
            raise RuntimeError(m.output)
        info = json.loads(m.output[m.output.index("{") :])
        s = info["seconds"]
        rows.append(
            f"| {info['tokens']:,} | {info['vocabulary']:,} | {sum(info['ngrams']):,} | "
            f"curate, --memory {memory}, SentencePiece 8000 trained on "
            f"{info['sentencepiece_lines']:,} of {info['lines']:,} lines "
            f"({s['train_sentencepiece']:.1f} s) | {s['estimate']:.1f} | {s['write']:.1f} | "
            f"{m.seconds:.1f} | {m.peak_rss_mb:.0f} |"
        )
    return rows


def estimator_memory(out: Path, quick: bool) -> list[str]:
    """Time and peak RSS of `curate lm train` as the input grows: nested prefixes of the English
    man pages' text, the bounded estimator and the in-memory one interleaved at each size."""
    sizes = (1_000_000,) if quick else (2_000_000, 4_000_000, 8_000_000, 16_000_000)
    rows = [
        "| tokens | vocabulary | distinct n-grams (1..5) | estimator | estimate s | ARPA s | "
        "whole s | peak RSS MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    text = out / "man.txt"
    md5s = set()
    lmplz_path = _lmplz_path()
    for target in sizes:
        man_page_text(text, target)
        for name, args in ESTIMATORS.items():
            lmplz = "lmplz" in args
            if lmplz and lmplz_path is None:
                continue
            arpa = out / "man.arpa"
            env = ["env", f"PATH={lmplz_path}"] if lmplz else []
            cmd = [*env, sys.executable, "-m", "curate.cli", "lm", "train", "--input", str(text),
                   "--lang", "en", "--out", str(arpa), "--sentencepiece", "none",
                   "--no-negatives", *args]  # fmt: skip
            m = run_measured(cmd, cwd=str(REPO))
            if m.returncode:
                raise RuntimeError(m.output)
            info = json.loads(m.output[m.output.index("{") :])
            s = info["seconds"]
            if lmplz:  # lmplz writes the ARPA itself; its own text format, so no byte check
                estimate, write = s["tokenize+lmplz"], "-"
            else:
                md5s.add((target, hashlib.md5(arpa.read_bytes()).hexdigest()))
                estimate, write = s["estimate"], f"{s['write']:.1f}"
            rows.append(
                f"| {info['tokens']:,} | {info['vocabulary']:,} | {sum(info['ngrams']):,} | "
                f"{name} | {estimate:.1f} | {write} | {m.seconds:.1f} | {m.peak_rss_mb:.0f} |"
            )
    rows += sentencepiece_rows(text, out)
    text.unlink()
    same = len(md5s) == len(sizes)  # one ARPA per size whatever the estimator or budget
    return [
        "",
        "Estimator memory as the input grows (nested prefixes of the machine's English man pages; "
        "whitespace tokens; 5-gram; one model, `--no-negatives`; whole `curate lm train` "
        "command, one process; peak RSS "
        "includes the interpreter, pyarrow and the vocabulary, which the bounded estimator keeps "
        "in memory):",
        "",
        *rows,
        "",
        "ARPA files of curate's estimators (both budgets and in memory) byte-identical at "
        "every size: "
        f"{'yes' if same else 'NO'}. For lmplz (KenLM's own estimator, the peer; built by "
        "scripts/build_lmplz.sh) the estimate column is tokenising + lmplz, ARPA writing "
        "included: compare the whole-command seconds.",
    ]


def scoring_speed(models: dict[str, str], docs: pa.Table) -> list[str]:
    from curate.lm.score import KenLMScorer

    rows = [
        "| model | docs | MB | docs/CPU s | MB/CPU s | normalise | tokenise | KenLM | load s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for key, path in models.items():
        lang, _, domain = key.partition("/")
        mask = pc.equal(docs["language"], lang)
        if domain:
            mask = pc.and_(mask, pc.equal(pc.fill_null(docs["domain"], ""), domain))
        text = docs.filter(mask)["text"].combine_chunks()
        if len(text) == 0:
            continue
        t = time.perf_counter()
        scorer = KenLMScorer(path)
        load = time.perf_counter() - t
        t = time.process_time()  # CPU time: the machine is shared, wall time measures neighbours
        for start in range(0, len(text), 2048):
            scorer.score(text.slice(start, 2048))
        seconds = time.process_time() - t
        mb = sum(len(s.encode()) for s in text.to_pylist()) / 2**20
        split = scorer.timings
        total = sum(split.values())
        rows.append(
            f"| {key} | {len(text):,} | {mb:.1f} | {len(text) / seconds:,.0f} | "
            f"{mb / seconds:.2f} | "
            + " | ".join(
                f"{100 * split[k] / total:.0f}%" for k in ("normalize", "tokenize", "kenlm")
            )
            + f" | {load:.1f} |"
        )
    return rows


def separation(models: dict[str, str], out: Path, quick: bool) -> list[str]:
    """Run the stage in a one-stage pipeline; removal of injected low-quality vs clean pages."""
    from curate.config import parse_pipeline
    from curate.executors.local import LocalExecutor
    from curate.pipeline import run_pipeline

    truth = pq.read_table(CORPUS / "manifest" / "truth.parquet")
    ids = truth["id"].to_pylist()
    lowq = dict(zip(ids, truth["lowq_kind"].to_pylist()))
    true_group = {
        i: f"{lang}/{dom}"
        for i, lang, dom in zip(ids, truth["language"].to_pylist(), truth["domain"].to_pylist())
    }
    inputs = sorted(str(p) for p in CORPUS.glob("dump=*"))[: 1 if quick else None]
    lines = []
    for label, thresholds in RULES.items():
        config = parse_pipeline(
            {
                "name": "bench",
                "input": inputs,
                "output": str(out / label.replace(" ", "_")),
                "stages": [{"perplexity_filter": {"models": models, "thresholds": thresholds}}],
            }
        )
        ex = LocalExecutor(2)
        t = time.perf_counter()
        try:
            report = run_pipeline(config, ex)
        finally:
            ex.close()
        seconds = time.perf_counter() - t
        run = Path(config.output)
        kept = _read_ids(run / "data")
        removed = _read_ids(run / "removed" / "perplexity_filter")
        both = pa.concat_tables([
            kept.append_column("removed", pa.array([False] * kept.num_rows)),
            removed.append_column("removed", pa.array([True] * removed.num_rows)),
        ])  # fmt: skip
        ids = both["id"].to_pylist()
        is_lowq = np.array([lowq.get(i) is not None for i in ids])
        gone = both["removed"].to_numpy(zero_copy_only=False)
        true = np.array([true_group.get(i, "?") for i in ids])
        docs = report["stages"][0]["docs_in"]
        groups = report["stages"][0]["decision"]["groups"]
        cuts = ", ".join(
            f"{g} {e['threshold']:.0f}" for g, e in sorted(groups.items()) if "threshold" in e
        )
        lines += [
            "",
            f"**{label}** ({docs:,} documents, {seconds:.0f} s with 2 workers). Thresholds per "
            f"group of the data's (language, domain hint): {cuts}. Removal rates by true group "
            "(manifest/truth.parquet); rows are grouped by the hint, which is null on ~30% of "
            "rows, so some code and math pages are scored by the web model:",
            "",
            "| true group | low-quality pages | removed | clean pages | removed |",
            "|---|---|---|---|---|",
        ]
        for g in sorted(set(true)):
            sel = true == g
            lq, cl = sel & is_lowq, sel & ~is_lowq
            lines.append(
                f"| {g} | {lq.sum():,} | {_pct(gone[lq])} | {cl.sum():,} | {_pct(gone[cl])} |"
            )
        kinds = sorted({k for k in lowq.values() if k})
        per_kind = []
        for k in kinds:
            sel = np.array([lowq.get(i) == k for i in ids])
            per_kind.append(f"{k} {_pct(gone[sel])} of {sel.sum():,}")
        lines += ["", "Removed, by kind of injected low quality: " + "; ".join(per_kind) + "."]
    return lines


def _read_ids(folder: Path) -> pa.Table:
    files = sorted(folder.glob("*.parquet")) if folder.exists() else []
    tables = [pq.read_table(f, columns=["id"]) for f in files]
    return pa.concat_tables(tables) if tables else pa.table({"id": pa.array([], pa.string())})


def _pct(mask: np.ndarray) -> str:
    return f"{100 * mask.mean():.1f}%" if len(mask) else "-"


def run(quick: bool) -> str:
    out = ["## Perplexity filter (`perplexity_filter`, `curate lm train`)", ""]
    if not (CORPUS / "reference").is_dir():
        return "\n".join([*out, "Skipped: sample_corpus/ is not built (`make sample-corpus`)."])
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        models, train_rows = train_models(tmp_path, quick)
        out += [
            "Training (`curate lm train`, SentencePiece unigram + curate's modified Kneser-Ney "
            "5-gram and the model of negatives beside it, one process; n-grams of the first):",
            "",
            *train_rows,
        ]
        out += estimator_scaling(tmp_path, quick)
        out += estimator_memory(tmp_path, quick)
        shards = sorted(CORPUS.glob("dump=*/*.parquet"))[: 2 if quick else 4]
        sample = pa.concat_tables(
            [pq.read_table(f, columns=["text", "language", "domain"]) for f in shards]
        )
        out += [
            "",
            "Scoring speed per CPU second (what perplexity_filter runs: normalise + tokenise + "
            "KenLM queries for CCNet's perplexity, the line-end surprisal and the negatives "
            "log-likelihood ratio (two models), batches of 2048 "
            "documents from the first sample shards; the split is the share of scoring time):",
            "",
            *scoring_speed(models, sample),
        ]
        out += separation(models, tmp_path, quick)
    return "\n".join(out)
