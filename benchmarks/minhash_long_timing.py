"""Wall time only of the `minhash_long` section's methods on its held-out corpus (no ground truth):
each method in a fresh process, rounds interleaved, as `bench_minhash_long` runs them. For a quick
curate-vs-rensa ratio on a quiet machine: `python benchmarks/minhash_long_timing.py [ROUNDS]`."""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_minhash_long import METHODS, _run_in_process  # noqa: E402
from long_corpus import build  # noqa: E402


def main(rounds: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="minhash-long-timing-"))
    try:
        _time(folder, rounds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _time(folder: Path, rounds: int) -> None:
    t = time.perf_counter()
    build(folder, 1.0)
    print(f"corpus built in {time.perf_counter() - t:.1f} s", flush=True)
    corpus = folder / "heldout"
    corpus.mkdir()
    (corpus / "part-0.parquet").symlink_to(folder / "heldout.parquet")
    for k in range(rounds):
        for method in METHODS:
            r = _run_in_process(method, corpus, folder)
            print(
                f"round {k}: {method} {r['seconds']:.1f} s, {len(r['removed'])} removed", flush=True
            )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
