"""`curate ingest WARC_OR_WET... --output DIR`: Common Crawl WARC/WET files into curate's
Parquet layout (curate/ingest.py), ready for `curate run --input DIR`.

curate ingest crawl/CC-MAIN-2024-10/*.warc.gz --output data/cc --workers 8
curate ingest wet/ --output data/wet --dump CC-MAIN-2024-10 --records-per-shard 20000
"""

from __future__ import annotations

import argparse
import os
import sys


def _cmd_ingest(args: argparse.Namespace) -> int:
    from curate.executors import make_executor
    from curate.ingest import check_ingest_balance, run_ingest, summary_line

    executor = make_executor(args.executor, args.workers, args.address)
    try:
        report = run_ingest(
            args.inputs,
            args.output,
            executor,
            extractor=args.extractor,
            dump=args.dump,
            records_per_shard=args.records_per_shard,
            max_record_bytes=int(args.max_record_mb * (1 << 20)),
            resume=args.resume,
        )
    finally:
        executor.close()
    print(summary_line(report))
    print(f"report: {os.path.join(args.output, 'ingest_report.md')}")
    problems = check_ingest_balance(report)
    if problems:
        print("ACCOUNTING ERROR: " + "; ".join(problems), file=sys.stderr)
        return 3
    return 0


def _positive(value: str) -> int:
    n = int(value)
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {value}")
    return n


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ingest",
        help="Common Crawl WARC (HTML) and WET files, plain or gzipped, into Parquet shards",
    )
    p.add_argument("inputs", nargs="+", help="WARC/WET files, folders or globs")
    p.add_argument("--output", required=True, help="output folder (dump=<dump>/*.parquet)")
    p.add_argument(
        "--extractor",
        default="resiliparse",
        choices=["resiliparse", "trafilatura"],
        help="HTML to text (default resiliparse, main content only)",
    )
    p.add_argument("--workers", type=_positive, help="worker processes (default: cores)")
    p.add_argument(
        "--dump", help="the dump of every input (default: CC-MAIN-YYYY-WW from each file's path)"
    )
    p.add_argument(
        "--records-per-shard",
        type=_positive,
        help="at most this many documents per output file (default: one file per input)",
    )
    p.add_argument(
        "--max-record-mb",
        type=float,
        default=32,
        help="quarantine a record larger than this (Common Crawl truncates at 1 MiB; default 32)",
    )
    p.add_argument("--executor", default="local", choices=["local", "ray"])
    p.add_argument("--address", help="Ray cluster address (with --executor ray)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted ingest")
    p.set_defaults(fn=_cmd_ingest)
