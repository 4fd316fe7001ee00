"""`curate lm train`: SentencePiece + modified Kneser-Ney n-gram model (ARPA) for perplexity_filter.

    curate lm train --input sample_corpus/reference/en-web.txt --lang en --out models/en.arpa

Writes ``models/en.arpa`` and, unless ``--sentencepiece none``, ``models/en.sp.model`` beside it,
and, unless ``--no-negatives``, ``models/en.negatives.arpa``: a model of negatives made from the
same text (curate.lm.negatives); perplexity_filter finds both beside the model.
``--sentencepiece`` takes a vocabulary size to train (CCNet: 65,536; smaller corpora support
less and get less, see curate.lm.tokenizer), an existing SentencePiece ``.model`` to reuse, or
``none`` for whitespace tokens (Han characters split).
``--memory 1G`` bounds the estimator (curate.lm.external); its files go to ``--temp-dir``.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from curate.errors import CurateError


def _sentencepiece_arg(value: str) -> int | str | None:
    if value == "none":
        return None
    if value.isdigit():
        return int(value)
    return value


def _size_arg(value: str) -> int:
    """Bytes from ``512M``, ``2G``, ``1.5G`` or a plain number."""
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
    text = value.strip().upper().removesuffix("B")
    scale = units.get(text[-1:], 1)
    try:
        size = float(text[:-1] if text[-1:] in units else text) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {value!r} (e.g. 512M, 2G)") from None
    if size < 1 << 20:
        raise argparse.ArgumentTypeError(f"--memory {value}: at least 1M")
    return int(size)


def _cmd_train(args: argparse.Namespace) -> int:
    from curate.lm.train import train_model

    if args.order < 1:
        raise CurateError("--order must be at least 1")
    if args.sentencepiece is not None:
        from curate.extras import require

        require("lm", "curate lm train --sentencepiece")
    result = train_model(
        args.input,
        args.out,
        language=args.lang,
        domain=args.domain,
        order=args.order,
        sentencepiece=args.sentencepiece,
        estimator=args.estimator,
        text_column=args.text_column,
        memory=args.memory,
        temp_dir=args.temp_dir,
        negatives=args.negatives,
        progress=lambda line: print(f"curate lm train: {line}", file=sys.stderr, flush=True),
    )
    info = asdict(result)
    info["arpa"] = str(result.arpa)
    info["sentencepiece"] = str(result.sentencepiece) if result.sentencepiece else None
    info["negatives"] = str(result.negatives) if result.negatives else None
    info["megabytes"] = round(result.arpa.stat().st_size / 2**20, 2)
    print(json.dumps(info, indent=1))
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    lm = sub.add_parser("lm", help="train language models for perplexity_filter")
    lm_sub = lm.add_subparsers(dest="lm_command", required=True)
    train = lm_sub.add_parser(
        "train", help="SentencePiece + modified Kneser-Ney n-gram model, written as ARPA"
    )
    train.add_argument(
        "--input", nargs="+", required=True, help="Parquet/.txt files or directories of them"
    )
    train.add_argument("--lang", required=True, help="language (filters a 'language' column)")
    train.add_argument("--domain", help="domain (filters a 'domain' column)")
    train.add_argument("--order", type=int, default=5, help="n-gram order (CCNet: 5)")
    train.add_argument("--out", required=True, help="ARPA file to write (.arpa or .arpa.gz)")
    train.add_argument(
        "--sentencepiece",
        type=_sentencepiece_arg,
        default=65536,
        metavar="VOCAB|MODEL|none",
        help="vocabulary size to train (default 65536, CCNet), a .model to reuse, or none",
    )
    train.add_argument(
        "--estimator",
        choices=["auto", "curate", "curate-in-memory", "lmplz"],
        default="auto",
        help="auto: KenLM's lmplz when on PATH (scripts/build_lmplz.sh builds it), else curate's "
        "(bounded memory); curate-in-memory: the reference estimator, memory linear in tokens",
    )
    train.add_argument(
        "--memory",
        type=_size_arg,
        default="1G",
        metavar="SIZE",
        help="memory budget of curate's estimator, like lmplz -S (default 1G; e.g. 256M, 4G)",
    )
    train.add_argument(
        "--temp-dir",
        help="where lines, tokens and n-grams are spooled (default: beside --out), like lmplz -T",
    )
    train.add_argument("--text-column", default="text", help="text column of Parquet input")
    train.add_argument(
        "--negatives",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also train <stem>.negatives.arpa, a model of negatives made from the same text "
        "(truncations, shuffles, joined headings, number tables, typos) that perplexity_filter "
        "contrasts with (default: yes)",
    )
    train.set_defaults(fn=_cmd_train)
