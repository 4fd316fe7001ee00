"""`curate classifier train`: fit a fastText classifier, for domains or for quality.

Two ways to give it examples:

* ``--input`` labelled Parquet shards and ``--label-column`` (the domain classifier). Rows with a
  null label are skipped (they are what the classifier will be asked about).
* ``--positive`` and ``--negative``, Parquet or ``.txt`` (a quality classifier, labels ``hq`` and
  ``lq``): DCLM trains its fastText filter on reference-quality text against a random crawl
  sample the same way (Li et al. 2024, section 4.4). A ``.txt`` file is cut into documents of
  consecutive lines of about ``--chunk-chars`` characters (one paragraph a line, as ``curate lm
  train`` reads it). The larger class is cut to the size of the smaller one (``--no-balance``
  keeps all), chosen by a seeded hash of the text, as DCLM balances its classes.

Exact duplicate texts are kept once, and the held-out split is drawn by a hash of the normalised
text, so a recrawled copy of a test document cannot sit in the training set. The command prints the
held-out accuracy next to the majority-class baseline and per-label precision/recall (and, for a
quality classifier, the ROC AUC of P(hq)), and writes the same numbers beside the model
(``OUT.json``).

    curate classifier train --input 'sample_corpus/dump=*' --label-column domain \\
        --out models/domain.bin
    curate classifier train --positive sample_corpus/reference/*.txt \\
        --negative 'sample_corpus/dump=*' --out models/quality.bin
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from xxhash import xxh3_64_intdigest

from curate.errors import CurateError, InputError


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("classifier", help="train a fastText domain or quality classifier")
    csub = parser.add_subparsers(dest="classifier_command", required=True)
    train = csub.add_parser("train", help="train on labelled or positive/negative text")
    train.add_argument("--input", nargs="+", help="labelled Parquet files, dirs or globs")
    train.add_argument("--label-column", default="domain", help="column holding the label")
    train.add_argument(
        "--positive", nargs="+", help="quality classifier: good text (Parquet or .txt), label hq"
    )
    train.add_argument(
        "--negative", nargs="+", help="quality classifier: the text to tell it from, label lq"
    )
    train.add_argument(
        "--chunk-chars", type=int, default=2000, help=".txt: characters per document"
    )
    train.add_argument(
        "--no-balance", action="store_true", help="keep every example of the larger class"
    )
    train.add_argument("--text-column", default="text")
    train.add_argument("--out", required=True, help="model path, e.g. models/domain.bin")
    train.add_argument("--holdout", type=float, default=0.2, help="held-out share (default 0.2)")
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("--epoch", type=int, default=10)
    train.add_argument("--lr", type=float, default=0.5)
    train.add_argument("--dim", type=int, default=32)
    train.add_argument("--word-ngrams", type=int, default=2)
    train.add_argument("--bucket", type=int, default=200_000, help="hashed n-gram rows")
    train.add_argument("--max-chars", type=int, default=2000, help="prefix the model reads")
    train.add_argument(
        "--no-quantize", action="store_true", help="keep the full-size model (tens of MB)"
    )
    train.set_defaults(fn=_cmd_train)


def load_labelled(inputs: list[str], text_column: str, label_column: str) -> pa.Table:
    """(text, label) rows with a non-null label from every Parquet file of ``inputs`` (local or
    s3:// gs:// hf://, opened by curate.io), exact duplicate texts once."""
    from curate.io import discover_files, open_source
    from curate.jsonl import is_jsonl

    tables = []
    for file in discover_files(inputs):
        if is_jsonl(file.path):
            raise InputError(f"{file.shown}: --input takes labelled Parquet files, not JSONL")
        with open_source(file) as source:
            try:
                parquet = pq.ParquetFile(source)
                names = parquet.schema_arrow.names
            except (pa.ArrowException, OSError) as exc:
                raise InputError(f"{file.shown}: not a readable Parquet file ({exc})") from None
            for column in (text_column, label_column):
                if column not in names:
                    raise InputError(f"{file.shown}: no column '{column}' (columns: {names})")
            try:
                t = parquet.read(columns=[text_column, label_column])
            except (pa.ArrowException, OSError) as exc:
                raise InputError(f"{file.shown}: cannot read ({exc})") from None
        tables.append(
            pa.table(
                {
                    "text": pc.cast(t[text_column], pa.string()),
                    "label": pc.cast(t[label_column], pa.string()),
                }
            )
        )
    table = pa.concat_tables(tables)
    table = table.filter(pc.and_(pc.is_valid(table["label"]), pc.is_valid(table["text"])))
    keys = np.array([_split_key(t) for t in table["text"].to_pylist()], dtype=np.uint64)
    _, first = np.unique(keys, return_index=True)
    first.sort()
    return table.take(pa.array(first)).append_column("key", pa.array(keys[first], pa.uint64()))


POSITIVE, NEGATIVE = "hq", "lq"  # DCLM's model says hq / cc


def load_binary(
    positive: list[str], negative: list[str], text_column: str, chunk_chars: int
) -> pa.Table:
    """(text, label, key) rows: ``hq`` from ``positive``, ``lq`` from ``negative``; exact
    duplicate texts once (a text on both sides counts as positive)."""
    tables = []
    for label, inputs in ((POSITIVE, positive), (NEGATIVE, negative)):
        texts = _documents(inputs, text_column, chunk_chars)
        if not texts:
            side = "--positive" if label == POSITIVE else "--negative"
            raise InputError(f"{side} {' '.join(inputs)}: no text found")
        tables.append(
            pa.table({"text": pa.array(texts, pa.string()), "label": [label] * len(texts)})
        )
    table = pa.concat_tables(tables)
    keys = np.array([_split_key(t) for t in table["text"].to_pylist()], dtype=np.uint64)
    _, first = np.unique(keys, return_index=True)
    first.sort()
    return table.take(pa.array(first)).append_column("key", pa.array(keys[first], pa.uint64()))


def _documents(inputs: list[str], text_column: str, chunk_chars: int) -> list[str]:
    """Documents of Parquet files (non-empty ``text_column`` values) and of .txt files (runs of
    whole lines of about ``chunk_chars`` characters)."""
    import glob

    from curate.lm.train import read_texts

    paths: list[str] = []
    for spec in inputs:
        matches = sorted(glob.glob(spec)) if any(c in spec for c in "*?[") else [spec]
        if not matches:
            raise InputError(f"{spec}: the glob matches nothing")
        paths += matches
    out: list[str] = []
    for path, block in read_texts(paths, text_column=text_column):
        if path.suffix != ".txt":
            out += [t for t in block.to_pylist() if t and t.strip()]
            continue
        (text,) = block.to_pylist()
        cur: list[str] = []
        size = 0
        for line in text.splitlines():
            if not line.strip():
                continue
            cur.append(line)
            size += len(line) + 1
            if size >= chunk_chars:
                out.append("\n".join(cur))
                cur, size = [], 0
        if cur:
            out.append("\n".join(cur))
    return out


def balance(table: pa.Table, seed: int) -> pa.Table:
    """Each label cut to the count of the rarest, keeping the rows of lowest seeded hash."""
    labels = np.array(table["label"].to_pylist())
    names, counts = np.unique(labels, return_counts=True)
    keep = np.zeros(len(labels), bool)
    draw = _draw(table, seed + 1)
    for name in names:
        rows = np.flatnonzero(labels == name)
        keep[rows[np.argsort(draw[rows], kind="stable")[: counts.min()]]] = True
    return table.filter(pa.array(keep))


def _draw(table: pa.Table, seed: int) -> np.ndarray:
    return np.array(
        [xxh3_64_intdigest(int(k).to_bytes(8, "little"), seed) for k in table["key"].to_numpy()],
        dtype=np.uint64,
    )


def roc_auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(score of a positive > score of a negative), ties counted half (Mann-Whitney U)."""
    values = np.concatenate([positive, negative])
    _, inverse = np.unique(values, return_inverse=True)
    order = values.argsort(kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    ranks = (np.bincount(inverse, weights=ranks) / np.bincount(inverse))[inverse]
    n_p = len(positive)
    return float((ranks[:n_p].sum() - n_p * (n_p + 1) / 2) / (n_p * len(negative)))


def _split_key(text: str) -> int:
    return xxh3_64_intdigest(" ".join(text.lower().split()).encode("utf-8"))


def evaluate(truth: list[str], predicted: list[str | None]) -> dict[str, Any]:
    """Accuracy, majority baseline and per-label precision/recall/support."""
    n = len(truth)
    correct = sum(t == p for t, p in zip(truth, predicted))
    counts = Counter(truth)
    per_label = {}
    for label in sorted(counts):
        tp = sum(t == label and p == label for t, p in zip(truth, predicted))
        n_pred = sum(p == label for p in predicted)
        per_label[label] = {
            "precision": round(tp / n_pred, 4) if n_pred else 0.0,
            "recall": round(tp / counts[label], 4),
            "support": counts[label],
        }
    return {
        "test_docs": n,
        "accuracy": round(correct / n, 4) if n else 0.0,
        "majority_baseline": round(max(counts.values()) / n, 4) if n else 0.0,
        "per_label": per_label,
    }


def train(
    inputs: list[str] | None,
    out: str,
    *,
    positive: list[str] | None = None,
    negative: list[str] | None = None,
    chunk_chars: int = 2000,
    balanced: bool = True,
    label_column: str = "domain",
    text_column: str = "text",
    holdout: float = 0.2,
    seed: int = 0,
    epoch: int = 10,
    lr: float = 0.5,
    dim: int = 32,
    word_ngrams: int = 2,
    bucket: int = 200_000,
    max_chars: int = 2000,
    quantize: bool = True,
) -> dict[str, Any]:
    """Train, save the model to ``out`` and its metrics to ``out + '.json'``; return the metrics."""
    from curate.fasttext_model import FastTextModel, classifier_features, train_classifier

    if not 0.0 < holdout < 1.0:
        raise CurateError(f"--holdout {holdout}: must be between 0 and 1")
    binary = positive is not None or negative is not None
    if binary:
        if inputs or not positive or not negative:
            raise CurateError("give --positive and --negative together, without --input")
        if chunk_chars < 1:
            raise CurateError(f"--chunk-chars {chunk_chars}: must be positive")
        table = load_binary(positive, negative, text_column, chunk_chars)
        if balanced:
            table = balance(table, seed)
        inputs = [*positive, *negative]
        label_column = "(positive/negative)"
    else:
        if not inputs:
            raise CurateError("give --input (labelled Parquet) or --positive and --negative")
        table = load_labelled(inputs, text_column, label_column)
    if table.num_rows < 2:
        raise InputError(f"{', '.join(inputs)}: fewer than 2 labelled rows in '{label_column}'")
    # Split on the text hash re-hashed with the seed: deterministic, independent of file order.
    draw = _draw(table, seed)
    is_test = draw < np.uint64(int(holdout * 2**64))
    train_t = table.filter(pa.array(~is_test))
    test_t = table.filter(pa.array(is_test))
    train_classifier(
        classifier_features(train_t["text"], max_chars),
        train_t["label"].to_pylist(),
        out,
        epoch=epoch,
        lr=lr,
        word_ngrams=word_ngrams,
        dim=dim,
        bucket=bucket,
        quantize=quantize,
        seed=seed,
    )
    model = FastTextModel(out)
    predicted, _ = model.predict(classifier_features(test_t["text"], max_chars))
    metrics = evaluate(test_t["label"].to_pylist(), predicted.to_pylist())
    if binary:
        p_hq = model.probability(classifier_features(test_t["text"], max_chars), POSITIVE)
        is_pos = np.array(test_t["label"].to_pylist()) == POSITIVE
        if is_pos.any() and (~is_pos).any():
            metrics["auc"] = round(roc_auc(p_hq[is_pos], p_hq[~is_pos]), 4)
    metrics = {
        "model": str(out),
        "model_bytes": Path(out).stat().st_size,
        "inputs": inputs,
        "label_column": label_column,
        "train_docs": train_t.num_rows,
        "train_labels": dict(sorted(Counter(train_t["label"].to_pylist()).items())),
        **metrics,
        "params": {
            "holdout": holdout,
            "seed": seed,
            "epoch": epoch,
            "lr": lr,
            "dim": dim,
            "word_ngrams": word_ngrams,
            "bucket": bucket,
            "max_chars": max_chars,
            "quantize": quantize,
            **({"chunk_chars": chunk_chars, "balanced": balanced} if binary else {}),
        },
    }
    Path(f"{out}.json").write_text(json.dumps(metrics, indent=1) + "\n")
    return metrics


def _cmd_train(args: argparse.Namespace) -> int:
    from curate.extras import require

    require("lid", "curate classifier train")
    m = train(
        args.input,
        args.out,
        positive=args.positive,
        negative=args.negative,
        chunk_chars=args.chunk_chars,
        balanced=not args.no_balance,
        label_column=args.label_column,
        text_column=args.text_column,
        holdout=args.holdout,
        seed=args.seed,
        epoch=args.epoch,
        lr=args.lr,
        dim=args.dim,
        word_ngrams=args.word_ngrams,
        bucket=args.bucket,
        max_chars=args.max_chars,
        quantize=not args.no_quantize,
    )
    print(
        f"trained on {m['train_docs']:,} docs {m['train_labels']}; "
        f"model {m['model']} ({m['model_bytes'] / 1e6:.2f} MB)"
    )
    print(
        f"held-out accuracy {m['accuracy']:.4f} on {m['test_docs']:,} docs "
        f"(majority baseline {m['majority_baseline']:.4f})"
        + (f"; ROC AUC of P(hq) {m['auc']:.4f}" if "auc" in m else "")
    )
    for label, v in m["per_label"].items():
        print(
            f"  {label}: precision {v['precision']:.3f} recall {v['recall']:.3f} "
            f"support {v['support']}"
        )
    print(f"metrics: {m['model']}.json")
    return 0
