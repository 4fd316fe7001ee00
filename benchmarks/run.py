"""`make bench`: run every benchmarks/bench_*.py and write benchmarks/RESULTS.md.

Each module has ``run(quick: bool) -> str`` returning a Markdown section that states what was
measured, on what, with which command. Peers are run side by side in the same process tree and
the same invocation, since these machines are noisy.

    python benchmarks/run.py                 # all benchmarks
    python benchmarks/run.py --only e2e      # one of them (the other sections are kept)
    python benchmarks/run.py --quick         # smaller inputs, for a smoke run
"""

from __future__ import annotations

import argparse
import datetime
import fcntl
import importlib.util
import os
import platform
import re
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", nargs="*", help="benchmark names (bench_<name>.py)")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    modules = sorted(HERE.glob("bench_*.py"))
    if args.only:
        modules = [m for m in modules if m.stem.removeprefix("bench_") in args.only]
    sections: dict[str, str] = {}
    for path in modules:
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[path.stem] = module
        spec.loader.exec_module(module)
        print(f"== {path.stem}", flush=True)
        t = time.perf_counter()
        section = module.run(quick=args.quick)
        print(section, flush=True)
        sections[path.stem.removeprefix("bench_")] = (
            section.rstrip() + f"\n\n_(benchmark took {time.perf_counter() - t:.0f} s)_"
        )
    stamp = f"{datetime.date.today().isoformat()}, {'quick' if args.quick else 'full'} run"
    header = (
        "# Benchmark results\n\n"
        f"Written by `make bench` (`python benchmarks/run.py`) on "
        f"{datetime.date.today().isoformat()}: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}. Rerun to reproduce; "
        "figures from a noisy 2-core machine, peers measured in the same run.\n"
    )
    out = Path(args.out)
    measured = {name: f"{text}\n_(measured {stamp})_" for name, text in sections.items()}
    # two --only runs at once each keep the other's section: read, merge and replace the file
    # under a lock, atomically
    with open(out.with_name(f".{out.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # --only replaces its own sections and keeps the others (each says when it was measured)
        kept = _sections(out.read_text()) if args.only and out.exists() else {}
        merged = {**kept, **measured}
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(
            header
            + "\n"
            + "\n".join(
                f"<!-- bench:{name} -->\n{merged[name]}\n<!-- /bench:{name} -->\n"
                for name in sorted(merged)
            )
        )
        tmp.replace(out)
    print(f"wrote {args.out}")
    return 0


def _sections(text: str) -> dict[str, str]:
    """The sections of a RESULTS.md written by this script, by benchmark name."""
    return {
        m.group(1): m.group(2).strip("\n")
        for m in re.finditer(r"<!-- bench:(\w+) -->\n(.*?)<!-- /bench:\1 -->", text, re.S)
    }


if __name__ == "__main__":
    sys.exit(main())
