"""Screenshot of a run's report.html in headless Chromium, for the README.

.venv/bin/python scripts/screenshot_report.py out/deepseek docs/report.png [--height 1600]
"""

from __future__ import annotations

import argparse
import os
import sys

from curate.report import browser


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="output directory of a run (holds report.html)")
    parser.add_argument("png", help="where to write the screenshot")
    parser.add_argument("--width", type=int, default=1100)
    parser.add_argument("--height", type=int, default=1600)
    args = parser.parse_args()
    page = os.path.join(args.out, "report.html")
    if not os.path.exists(page):
        sys.exit(f"{page}: no report here (run `curate report {args.out}` first)")
    why = browser.missing()
    if why:
        sys.exit(f"cannot take a screenshot: {why}")
    browser.screenshot(page, args.png, args.width, args.height)
    print(f"{args.png}: {os.path.getsize(args.png):,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
