"""quality_classifier on text it has never seen, next to perplexity_filter, and both combined.

    python benchmarks/run.py --only quality_classifier

The test is ``benchmarks/heldout_text.py``'s (Debian text the sample corpus does not read): 4 MB
of reference text, a DEV and a HELD-OUT split of 2,100 clean documents and 150 of each of six
kinds of made garbage. To them this benchmark adds real low-quality pages, from files of the same
split that the sample corpus does not use either (its packages are excluded the same way):

* ``changelog``: Debian changelogs (``/usr/share/doc/*/changelog.Debian.gz``): version lines,
  terse bullet points, maintainer signatures;
* ``licence``: copyright files (``/usr/share/doc/*/copyright``): licence boilerplate, file globs;
* ``filelist``: dpkg's lists of installed paths (``/var/lib/dpkg/info/*.list``).

Two models, trained on nothing of either split:

* the classifier: ``curate classifier train --positive reference.txt --negative 'sample_corpus/
  dump=*'`` (reference text against a crawl sample, DCLM's recipe; the sample corpus is the crawl
  we have), scored by the stage's annotate step (``quality_score``);
* the KenLM model of ``bench_perplexity_heldout`` (``curate lm train`` on reference.txt), scored by
  ``perplexity_filter``'s annotate step (``perplexity``).

For each score: ROC AUC of low-quality against clean and the share of low-quality removed at the
cut that keeps 97% of clean documents, over the made garbage and over the real pages; "both" is
the mean of the two scores' ranks (no weight tuned). Speed: documents per CPU second of each
annotate step on the split (3,000+ documents, one batch, model loading excluded, best of 3), and
datatrove's ``FastTextClassifierFilter`` on the same model (or, when it does not load here, its
way of predicting: one document at a time, all labels).
"""

from __future__ import annotations

import gzip
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO))

from bench_perplexity_heldout import roc_auc, train  # noqa: E402
from common import run_measured  # noqa: E402
from heldout_text import KINDS, build, owned_files, sample_corpus_packages, split_of  # noqa: E402

KEEP_CLEAN = 0.97
REAL_KINDS = ("changelog", "licence", "filelist")
REAL_DOCS = 150  # per kind and split


def _read(kind: str, path: Path) -> str:
    if path.suffix == ".gz":
        return gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
    return path.read_text(errors="replace")


def real_lowq(seed: int = 7) -> dict[str, pa.Table]:
    """Per split (dev, heldout): up to ``REAL_DOCS`` pages of each real low-quality kind, each a
    run of consecutive lines (300-1,500 characters) of one file; files by heldout_text's split."""
    used = owned_files(sample_corpus_packages())
    sources = {
        "changelog": sorted(Path("/usr/share/doc").glob("*/changelog.Debian.gz")),
        "licence": sorted(Path("/usr/share/doc").glob("*/copyright")),
        "filelist": sorted(Path("/var/lib/dpkg/info").glob("*.list")),
    }
    rng = random.Random(seed)
    out: dict[str, dict[str, list]] = {s: {"text": [], "kind": []} for s in ("dev", "heldout")}
    for kind, paths in sources.items():
        pages: dict[str, list[str]] = {"dev": [], "heldout": []}
        for path in paths:
            split = split_of(path)
            pkg = path.parent.name if kind != "filelist" else path.stem.split(":")[0]
            if split not in pages or str(path) in used or pkg in sample_corpus_packages():
                continue
            try:
                lines = [ln.rstrip() for ln in _read(kind, path).splitlines() if ln.strip()]
            except OSError:
                continue
            start = rng.randrange(max(1, len(lines) // 2))
            target, page = rng.randint(300, 1500), []
            for line in lines[start:]:
                page.append(line)
                if sum(map(len, page)) >= target:
                    break
            if sum(map(len, page)) >= 300:
                pages[split].append("\n".join(page))
        for split, texts in pages.items():
            rng.shuffle(texts)
            out[split]["text"] += texts[:REAL_DOCS]
            out[split]["kind"] += [kind] * len(texts[:REAL_DOCS])
    return {s: pa.table(v) for s, v in out.items()}


def train_classifier(reference: Path, out: Path) -> tuple[dict, float]:
    import json

    cmd = [sys.executable, "-m", "curate.cli", "classifier", "train", "--positive",
           str(reference), "--negative", "sample_corpus/dump=*", "--out", str(out)]  # fmt: skip
    m = run_measured(cmd, cwd=str(REPO))
    if m.returncode:
        raise RuntimeError(m.output)
    return json.loads(Path(f"{out}.json").read_text()), m.seconds


def best_rate(fn, n: int, repeats: int) -> tuple[object, float]:
    best, result = 0.0, None
    for _ in range(repeats):
        t = time.process_time()
        result = fn()
        best = max(best, n / max(time.process_time() - t, 1e-9))
    return result, best


def score_split(table: pa.Table, q_model: Path, lm: Path, repeats: int) -> dict:
    from curate.stages.perplexity_filter import PerplexityFilter, PerplexityFilterConfig
    from curate.stages.quality_classifier import QualityClassifier, QualityClassifierConfig

    n = table.num_rows
    batch = pa.record_batch(
        {"text": table["text"].combine_chunks(), "language": pa.array(["en"] * n)}
    )
    qc = QualityClassifier(QualityClassifierConfig(model=str(q_model)))
    qc.load()
    scored, q_rate = best_rate(lambda: qc.annotate(batch), n, repeats)
    quality = scored.column("quality_score").to_numpy(zero_copy_only=False).astype(float)  # type: ignore[attr-defined]
    pf = PerplexityFilter(PerplexityFilterConfig(models={"en": str(lm)}))
    pf.scorer("en")
    scored, p_rate = best_rate(lambda: pf.annotate(batch), n, repeats)
    pp = scored.column("perplexity").to_numpy(zero_copy_only=False)  # type: ignore[attr-defined]
    pp = np.nan_to_num(pp, nan=np.inf)
    bad_q = 1.0 - np.nan_to_num(quality, nan=0.0)  # higher is worse, like perplexity
    both = (_ranks(bad_q) + _ranks(pp)) / 2
    return {
        "scores": {"quality_classifier": bad_q, "perplexity_filter": pp, "both (rank mean)": both},
        "rates": {"quality_classifier": q_rate, "perplexity_filter": p_rate},
    }


def _ranks(x: np.ndarray) -> np.ndarray:
    return x.argsort(kind="stable").argsort(kind="stable") / len(x)


def separation(score: np.ndarray, kind: np.ndarray, kinds: tuple[str, ...]) -> dict:
    clean = score[kind == "clean"]
    bad = np.isin(kind, kinds)
    cut = np.quantile(clean, KEEP_CLEAN, method="inverted_cdf")
    out = {"auc": roc_auc(clean, score[bad]), "removed": float(np.mean(score[bad] > cut))}
    for k in kinds:
        out[k] = float(np.mean(score[kind == k] > cut))
    return out


def datatrove_rate(model: Path, texts: list[str], repeats: int) -> tuple[str, str]:
    """(docs per CPU second, how) of datatrove's FastTextClassifierFilter on the same model.

    Its filter wants the ``fasttext-numpy2-wheel`` distribution (and ``fasteners``); here the
    ``fasttext`` module is fasttext-wheel's, whose training works (REFERENCE.md), so when the
    filter does not load, its prediction is done as it does it: one document at a time, newlines
    replaced, every label's probability (``predict(text, k=-1)``), on fastText's binding."""
    try:
        from datatrove.data import Document
        from datatrove.pipeline.filters import FastTextClassifierFilter

        flt = FastTextClassifierFilter(str(model), keep_labels=("hq", 0.5))
        docs = [Document(text=t, id=str(i)) for i, t in enumerate(texts)]
        flt.filter(docs[0])
        _, rate = best_rate(lambda: [flt.filter(d) for d in docs], len(docs), repeats)
        return f"{rate:,.0f}", "datatrove's filter"
    except Exception as exc:
        why = f"{type(exc).__name__}: {str(exc).splitlines()[0][:90]}"
    import fasttext_pybind

    ft = fasttext_pybind.fasttext()
    ft.loadModel(str(model))

    def predict_each() -> list:
        return [ft.predict(t.replace("\n", " "), -1, 0.0, "strict") for t in texts]

    _, rate = best_rate(predict_each, len(texts), repeats)
    return f"{rate:,.0f}", f"its prediction, emulated (the filter does not load here: {why})"


def _counts(table: pa.Table) -> str:
    kinds = table["kind"].to_pylist()
    return f"{len(kinds)} (" + ", ".join(f"{k} {kinds.count(k)}" for k in REAL_KINDS) + ")"


def run(quick: bool) -> str:
    repeats = 1 if quick else 3
    out = [
        "## Quality classifier on held-out text (`quality_classifier` vs `perplexity_filter`)",
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        info = build(folder / "data")
        real = real_lowq()
        reference = folder / "data" / "reference.txt"
        metrics, q_seconds = train_classifier(reference, folder / "quality.bin")
        lm = train(reference, folder / "en.arpa", False)
        out += [
            f"Test: benchmarks/heldout_text.py (reference {info['reference_chars']:,} characters; "
            "DEV and HELD-OUT: 2,100 clean documents and 150 of each made garbage kind) plus real "
            "low-quality pages of the same splits' files (Debian changelogs, copyright files, "
            "dpkg file lists; none from the sample corpus's packages): "
            + ", ".join(f"{s.upper()} {_counts(t)}" for s, t in real.items())
            + ".",
            "",
            f"Classifier: `curate classifier train --positive reference.txt --negative "
            f"'sample_corpus/dump=*'` in {q_seconds:.1f} s: {metrics['train_docs']:,} documents "
            f"{metrics['train_labels']}, {metrics['model_bytes'] / 1e6:.2f} MB, its own held-out "
            f"accuracy {metrics['accuracy']:.3f}, AUC {metrics['auc']:.3f}. KenLM: `curate lm "
            f"train --input reference.txt --lang en --order 5` in {lm['whole_seconds']:.1f} s.",
            "",
            "ROC AUC of low-quality vs clean, and share removed at the cut that keeps 97% of "
            "clean documents (per kind: removed):",
            "",
            "| split | score | made garbage AUC | removed | "
            + " | ".join(KINDS)
            + " | real pages AUC | removed | "
            + " | ".join(REAL_KINDS)
            + " |",
            "|---|---|---|---|" + "---|" * len(KINDS) + "---|---|" + "---|" * len(REAL_KINDS),
        ]
        speeds = []
        for split in ("dev", "heldout"):
            made = pq.read_table(folder / "data" / f"{split}.parquet")
            table = pa.concat_tables([made, real[split]])
            kind = np.array(table["kind"].to_pylist())
            result = score_split(table, folder / "quality.bin", folder / "en.arpa", repeats)
            for name, score in result["scores"].items():
                m = separation(score, kind, KINDS)
                r = separation(score, kind, REAL_KINDS)
                out.append(
                    f"| {split.upper()} | {name} | {m['auc']:.3f} | {100 * m['removed']:.1f}% | "
                    + " | ".join(f"{100 * m[k]:.0f}%" for k in KINDS)
                    + f" | {r['auc']:.3f} | {100 * r['removed']:.1f}% | "
                    + " | ".join(f"{100 * r[k]:.0f}%" for k in REAL_KINDS)
                    + " |"
                )
            rates = result["rates"]
            peer, how = datatrove_rate(folder / "quality.bin", table["text"].to_pylist(), repeats)
            speeds.append(
                f"| {split.upper()} | {table.num_rows:,} | {rates['quality_classifier']:,.0f} | "
                f"{peer} | {rates['perplexity_filter']:,.0f} |"
            )
        out += [
            "",
            f"Scoring speed, documents per CPU second (one batch, best of {repeats}, model "
            "loading excluded): the two annotate steps, and datatrove's "
            "`FastTextClassifierFilter(model, keep_labels=('hq', 0.5))` on the same model and "
            "documents (its `filter`, one document at a time):",
            "",
            "| split | documents | quality_classifier | datatrove FastTextClassifierFilter | "
            "perplexity_filter |",
            "|---|---|---|---|---|",
            *speeds,
            "",
            f"datatrove column: {how}. It reads the raw document (newlines removed) as datatrove "
            "does; quality_classifier's rate includes preparing the features its model was "
            "trained on (a lowercased 2,000-character prefix, punctuation and CJK characters "
            "spaced apart: about half of its time).",
        ]
    return "\n".join(out)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    print(run("--quick" in sys.argv))
