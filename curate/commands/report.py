"""`curate report OUT`: re-render a run's report; `--compare OTHER_OUT`: two runs side by side.

curate report out/deepseek                        # report.md, report.html from report.json
curate report out/deepseek --compare out/strict   # prints both; writes OUT/compare.html
"""

from __future__ import annotations

import argparse
from pathlib import Path

from curate.errors import CurateError


def _cmd_report(args: argparse.Namespace) -> int:
    from curate.io import atomic_write_bytes
    from curate.report import load_report, render_summary, write_reports
    from curate.report.compare import render_compare_html, render_compare_text

    report = load_report(args.dir)
    if args.compare is None:
        if args.html:
            raise CurateError("--html names the comparison page: use it with --compare")
        write_reports(Path(args.dir), report)
        print(render_summary(report))
        return 0
    other = load_report(args.compare)
    names = (str(args.dir), str(args.compare))
    print(render_compare_text(report, other, names))
    html = Path(args.html) if args.html else Path(args.dir) / "compare.html"
    if not html.parent.is_dir():
        raise CurateError(f"--html {html}: the folder {html.parent} does not exist")
    atomic_write_bytes(html, render_compare_html(report, other, names).encode())
    print(f"comparison: {html}")
    return 0


def add_parser(sub: argparse._SubParsersAction) -> None:
    rep = sub.add_parser(
        "report",
        help="re-render report.md and report.html from report.json, or compare two runs",
    )
    rep.add_argument("dir", help="output directory of a run")
    rep.add_argument(
        "--compare", metavar="OTHER_OUT", help="another run's output directory to compare with"
    )
    rep.add_argument(
        "--html", metavar="FILE", help="where to write the comparison (default: DIR/compare.html)"
    )
    rep.set_defaults(fn=_cmd_report)
