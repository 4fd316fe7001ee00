"""Perplexity filtering on text it has never seen: curate against the CCNet recipe.

    python benchmarks/run.py --only perplexity_heldout

``benchmarks/heldout_text.py`` builds the test from Debian text the sample corpus does not read:
4 MB of reference text (what the user gives ``curate lm train``), a DEV split (2,100 clean
documents, 150 of each of six kinds of garbage) on which the scoring was tuned, and a HELD-OUT
split from other source files, never tuned on. Two models are trained from the reference text:

* curate: ``curate lm train --input reference.txt --lang en --order 5 --out en.arpa``, the default
  settings (SentencePiece with CCNet's 65,536 pieces requested; estimator ``auto``: lmplz when it
  is on PATH, else curate's own; beside it ``en.negatives.arpa``, a model of negatives made from
  the same reference text by ``curate.lm.negatives``);
* the CCNet recipe: the same SentencePiece settings and KenLM's ``lmplz -o 5 --discount_fallback``
  (built by ``scripts/build_lmplz.sh``; the row is left out when lmplz is missing), scored with
  CCNet's document perplexity.

Each document is scored by ``perplexity_filter``'s own annotate step, which writes the columns
``perplexity_ccnet`` (CCNet's formula), ``line_end_surprisal``, ``negatives_llr`` and
``perplexity`` (the score the decision thresholds). For each score: ROC AUC of garbage against
clean and the share of garbage removed at the cut that keeps 97% of the clean documents, overall
and per kind. Then the decision
itself, a threshold: ``keep_below: p70`` (the corpus holds 30% garbage) run through the stage's
``decide`` and ``apply``. Speed is documents per second of the annotate step on one batch of
3,000 documents per CPU second (CPU time, not wall time: the machine is shared; best of three),
model loading excluded.
"""

from __future__ import annotations

import json
import os
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

from bench_perplexity import _lmplz_path  # noqa: E402
from common import run_measured  # noqa: E402
from heldout_text import KINDS, build  # noqa: E402

KEEP_CLEAN = 0.97  # the cut keeps this share of clean documents
RULE = {"default": {"keep_below": "p70"}}  # 30% of each split is garbage
# (line_end_weight, negatives_weight) pairs tried on the dev sets
WEIGHTS = ((0.0, 0.0), (0.5, 0.0), (1.0, 0.0), (0.0, 2.0), (0.5, 1.0), (0.5, 2.0), (0.5, 3.0),
           (0.75, 1.0), (0.75, 2.0), (0.75, 3.0), (1.0, 2.0))  # fmt: skip
SAMPLE = {"en/web": "en", "zh/web": "zh", "en/math": "en_math"}  # sample corpus group -> model


def scores() -> dict[str, str]:
    """Score column -> what it is."""
    from curate.stages.perplexity_filter import PerplexityFilterConfig

    config = PerplexityFilterConfig()
    a, b = config.line_end_weight, config.negatives_weight
    return {
        "perplexity_ccnet": "CCNet's document perplexity",
        "line_end_surprisal": "line-end surprisal alone",
        "negatives_llr": "negatives log-likelihood ratio alone",
        "perplexity": f"`perplexity` = CCNet's x 10^({a:g} x line-end surprisal + {b:g} x "
        "negatives llr)",
    }


def roc_auc(clean: np.ndarray, garbage: np.ndarray) -> float:
    """P(score of a garbage document > score of a clean one), ties counted half (Mann-Whitney)."""
    values = np.concatenate([clean, garbage])
    order = values.argsort(kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    ranks = np.bincount(inverse, weights=ranks) / counts  # average rank of ties
    ranks = ranks[inverse]
    n_g = len(garbage)
    return float((ranks[len(clean) :].sum() - n_g * (n_g + 1) / 2) / (n_g * len(clean)))


def separation(score: np.ndarray, kind: np.ndarray) -> dict[str, float]:
    """AUC and share removed at the cut keeping ``KEEP_CLEAN`` of clean, overall (``auc``,
    ``removed``) and per kind (``k``, ``k removed``)."""
    clean, garbage = score[kind == "clean"], score[kind != "clean"]
    cut = np.quantile(clean, KEEP_CLEAN, method="inverted_cdf")
    out = {"auc": roc_auc(clean, garbage), "removed": float(np.mean(garbage > cut))}
    for k in sorted(set(kind) - {"clean"}):
        out[k] = roc_auc(clean, score[kind == k])
        out[f"{k} removed"] = float(np.mean(score[kind == k] > cut))
    return out


def with_weights(scored: pa.RecordBatch, line_end: float, negatives: float) -> np.ndarray | None:
    """The score with other weights, from the annotated columns (None: no negatives column)."""
    column = {n: scored.column(n).to_numpy(zero_copy_only=False) for n in SCORE_PARTS}
    if negatives and np.isnan(column["negatives_llr"]).all():
        return None
    exponent = line_end * column["line_end_surprisal"]
    if negatives:
        exponent = exponent + negatives * column["negatives_llr"]
    return np.nan_to_num(column["perplexity_ccnet"] * 10.0**exponent, nan=np.inf)


SCORE_PARTS = ("perplexity_ccnet", "line_end_surprisal", "negatives_llr")


def sample_corpus_sets() -> dict[str, tuple[Path, pa.Table]]:
    """The sample corpus's pages per true group, kind from manifest/truth.parquet (a second dev
    set, scored with the demo models of `make models`); empty when either is missing."""
    corpus = REPO / "sample_corpus"
    files = sorted(corpus.glob("dump=*/*.parquet"))
    models = {g: REPO / "models" / f"{m}.arpa" for g, m in SAMPLE.items()}
    if not files or not all(p.is_file() for p in models.values()):
        return {}
    docs = pq.read_table(files, columns=["id", "text"], partitioning=None)
    truth = pq.read_table(corpus / "manifest" / "truth.parquet")
    docs = docs.join(truth.select(["id", "language", "domain", "lowq_kind"]), "id")
    group = pc.binary_join_element_wise(docs["language"], docs["domain"], "/")
    out = {}
    for g, model in models.items():
        part = docs.filter(pc.equal(group, g))
        kind = pc.fill_null(part["lowq_kind"], "clean")
        out[g] = (model, pa.table({"text": part["text"], "kind": kind}))
    return out


def sweep(scored: dict[str, tuple[pa.RecordBatch, np.ndarray]]) -> list[str]:
    """AUC / removed at 97% clean kept / worst kind's AUC for each pair of weights on each dev
    set."""
    rows = [
        "| line_end_weight, negatives_weight | " + " | ".join(scored) + " |",
        "|---|" + "---|" * len(scored),
    ]
    for line_end, negatives in WEIGHTS:
        cells = []
        for batch, kind in scored.values():
            score = with_weights(batch, line_end, negatives)
            if score is None:
                cells.append("no negatives model")
                continue
            s = separation(score, kind)
            worst = min((s[k], k) for k in sorted(set(kind) - {"clean"}))
            cells.append(f"{s['auc']:.3f} / {100 * s['removed']:.0f}% / {worst[0]:.2f} {worst[1]}")
        rows.append(f"| {line_end:g}, {negatives:g} | " + " | ".join(cells) + " |")
    return rows


def train(reference: Path, out: Path, lmplz: bool) -> dict:
    cmd = [sys.executable, "-m", "curate.cli", "lm", "train", "--input", str(reference),
           "--lang", "en", "--order", "5", "--out", str(out)]  # fmt: skip
    if lmplz:
        cmd = ["env", f"PATH={_lmplz_path()}", *cmd, "--estimator", "lmplz", "--no-negatives"]
    m = run_measured(cmd, cwd=str(REPO))
    if m.returncode:
        raise RuntimeError(m.output)
    info = json.loads(m.output[m.output.index("{") :])
    info["whole_seconds"] = m.seconds
    return info


def annotate(model: Path, table: pa.Table, repeats: int) -> tuple[pa.RecordBatch, float, object]:
    """The stage's annotate step on the whole split as one batch; best docs/s of ``repeats``."""
    from curate.stages.perplexity_filter import PerplexityFilter, PerplexityFilterConfig

    config = PerplexityFilterConfig(models={"en": str(model)}, thresholds=RULE)
    config.validate()
    stage = PerplexityFilter(config)
    batch = pa.record_batch(
        {"text": table["text"].combine_chunks(), "language": pa.array(["en"] * table.num_rows)}
    )
    stage.scorer("en")  # load the model outside the timing
    best = 0.0
    for _ in range(repeats):
        t = time.process_time()
        scored = stage.annotate(batch)
        best = max(best, batch.num_rows / (time.process_time() - t))
    return scored, best, stage


def ccnet_speed(model: Path, table: pa.Table, repeats: int) -> float:
    """docs/s of CCNet's perplexity alone (``KenLMScorer.perplexity``), the same batch."""
    from curate.lm.score import KenLMScorer

    scorer = KenLMScorer(model)
    text = table["text"].combine_chunks()
    best = 0.0
    for _ in range(repeats):
        t = time.process_time()
        scorer.perplexity(text)
        best = max(best, len(text) / (time.process_time() - t))
    return best


def decision_rows(stage: object, scored: pa.RecordBatch, kind: np.ndarray, label: str) -> str:
    """The threshold decision (the stage's own decide + apply) and what it removed."""
    collected = stage.collect(scored)  # type: ignore[attr-defined]
    decision, summary = stage.decide(collected)  # type: ignore[attr-defined]
    verdict = stage.apply(scored, decision)  # type: ignore[attr-defined]
    gone = np.asarray(verdict.reason.is_valid())
    threshold = summary["groups"]["en/unknown"]["threshold"]
    clean = kind == "clean"
    return (
        f"| {label} | {threshold:,.0f} | {100 * gone[clean].mean():.1f}% | "
        f"{100 * gone[~clean].mean():.1f}% | "
        + " | ".join(f"{100 * gone[kind == k].mean():.0f}%" for k in KINDS)
        + " |"
    )


def run(quick: bool) -> str:
    out = ["## Perplexity filter on held-out text (`perplexity_filter` vs the CCNet recipe)", ""]
    repeats = 1 if quick else 3
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t = time.perf_counter()
        info = build(folder / "data")
        built = time.perf_counter() - t
        splits = {n: pq.read_table(folder / "data" / f"{n}.parquet") for n in ("dev", "heldout")}
        reference = folder / "data" / "reference.txt"
        models = {"curate": (folder / "en.arpa", train(reference, folder / "en.arpa", False))}
        lmplz = _lmplz_path() is not None and not quick
        if lmplz:
            path = folder / "ccnet.arpa"
            models["CCNet recipe"] = (path, train(reference, path, True))
        files = info["files"]
        out += [
            f"Test built in {built:.0f} s by benchmarks/heldout_text.py from Debian text the "
            f"sample corpus does not read: reference {info['reference_chars']:,} characters "
            f"from {files['reference']} files; DEV (tuned on) and HELD-OUT (never tuned on) "
            f"3,000 documents each (2,100 clean, 150 per garbage kind) from {files['dev']} and "
            f"{files['heldout']} other files. Models trained on the reference text:",
            "",
            "| model | command | estimator | vocabulary | n-grams (1..5) | train s |",
            "|---|---|---|---|---|---|",
        ]
        for name, (_, m) in models.items():
            args = "curate lm train --input reference.txt --lang en --order 5 --out en.arpa"
            if name != "curate":
                args += " --estimator lmplz --no-negatives"
            out.append(
                f"| {name} | `{args}` | {m['estimator']} | {m['vocabulary']:,} | "
                f"{' / '.join(f'{n:,}' for n in m['ngrams'])}"
                + (
                    f" (negatives model: {' / '.join(f'{n:,}' for n in m['negatives_ngrams'])})"
                    if m.get("negatives_ngrams")
                    else ""
                )
                + f" | {m['whole_seconds']:.1f} |"
            )
        head = " | ".join(f"{k}: AUC / removed" for k in KINDS)
        out += [
            "",
            "Separation (ROC AUC of garbage vs clean; removed: share of garbage above the cut "
            "that keeps 97% of clean documents):",
            "",
            f"| split | model | score | AUC | removed at 97% clean kept | {head} |",
            "|---|---|---|---|---|" + "---|" * len(KINDS),
        ]
        decisions, speeds, dev_sets = [], [], {}
        for split, table in splits.items():
            kind = np.array(table["kind"].to_pylist())
            for name, (path, _) in models.items():
                scored, docs_s, stage = annotate(path, table, repeats)
                columns = scores()
                if name != "curate":
                    columns = {"perplexity_ccnet": columns["perplexity_ccnet"]}
                for column, what in columns.items():
                    values = scored.column(column).to_numpy(zero_copy_only=False)
                    s = separation(np.nan_to_num(values, nan=np.inf), kind)
                    out.append(
                        f"| {split.upper()} | {name} | {what} | {s['auc']:.3f} | "
                        f"{100 * s['removed']:.1f}% | "
                        + " | ".join(f"{s[k]:.3f} / {100 * s[f'{k} removed']:.0f}%" for k in KINDS)
                        + " |"
                    )
                if name == "curate" and split == "dev":
                    dev_sets["bench DEV"] = (scored, kind)
                if name == "curate":
                    decisions.append(decision_rows(stage, scored, kind, split.upper()))
                    speeds.append(
                        f"| {split.upper()} | {docs_s:,.0f} | "
                        f"{ccnet_speed(path, table, repeats):,.0f} |"
                    )
        for group, (model, table) in sample_corpus_sets().items():
            scored = annotate(model, table, 1)[0]
            dev_sets[f"sample corpus {group}"] = (scored, np.array(table["kind"].to_pylist()))
        out += [
            "",
            "Choosing `line_end_weight` and `negatives_weight` (DEV split, and the sample corpus's "
            "pages scored by the demo models of `make models`, never the HELD-OUT split); each "
            "cell: AUC / garbage removed at 97% of clean kept / the weakest kind's AUC:",
            "",
            *sweep(dev_sets),
        ]
        out += [
            "",
            f"The decision is a threshold on `perplexity`: `{json.dumps(RULE)}` through the "
            "stage's decide and apply (removal per kind):",
            "",
            "| split | threshold | clean removed | garbage removed | " + " | ".join(KINDS) + " |",
            "|---|---|---|---|" + "---|" * len(KINDS),
            *decisions,
            "",
            "Scoring speed, one batch of 3,000 documents, documents per CPU second (best of "
            f"{repeats}): the stage's annotate step (all four columns, two models) and CCNet's "
            "perplexity "
            "alone (`KenLMScorer.perplexity`, the same normalisation and tokenisation, one model):",
            "",
            "| split | annotate docs/CPU s | CCNet perplexity docs/CPU s |",
            "|---|---|---|",
            *speeds,
        ]
    if not lmplz:
        out += ["", "lmplz not found (scripts/build_lmplz.sh builds it): no CCNet-recipe rows."]
    return "\n".join(out)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    print(run("--quick" in sys.argv))
