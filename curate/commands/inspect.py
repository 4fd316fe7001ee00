"""`curate inspect OUT --stage STAGE [--reason R] [--n 5]`: the documents a stage removed, and why.

curate inspect out/deepseek --stage minhash_dedup --n 3   # each with the document it duplicates
curate inspect out/deepseek --stage perplexity_filter     # score and threshold
curate inspect out/deepseek --stage pii_scrub             # replaced values, masked
"""

from __future__ import annotations

import argparse
import os
import sys

from curate.errors import CurateError


def _cmd_inspect(args: argparse.Namespace) -> int:
    from curate.report.inspect import inspect_stage

    if args.n < 1:
        raise CurateError("--n must be at least 1")
    color = {"always": True, "never": False}.get(args.color, sys.stdout.isatty())
    text = inspect_stage(args.dir, args.stage, args.reason, args.n, color, args.chars)
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:  # `curate inspect ... | head`: the reader has seen enough
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("inspect", help="show documents a stage removed, with the reason")
    p.add_argument("dir", help="output directory of a run")
    p.add_argument("--stage", required=True, help="stage name, as in report.json")
    p.add_argument("--reason", help="only documents removed for this reason")
    p.add_argument("--n", type=int, default=5, help="how many documents (default: 5)")
    p.add_argument("--chars", type=int, default=600, help="characters of text to show")
    p.add_argument(
        "--color",
        choices=["auto", "always", "never"],
        default="auto",
        help="highlight differences in colour (auto: when writing to a terminal)",
    )
    p.set_defaults(fn=_cmd_inspect)
