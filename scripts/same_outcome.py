"""Do two runs keep and remove the same documents? Per stage, row for row.

    python scripts/same_outcome.py RUN_A RUN_B

Compares each run's kept rows (data/: every column, copies included), each stage's removed rows
(removed/<stage>/: every column, with the reason) and quarantined rows, and each stage's counts in
report.json. Shards may be cut differently (data/part-00000.parquet of one run may hold what three
parts of the other do): rows are read in part order, compared as a multiset, and their order is
reported apart (remix appends a batch's extra copies after the batch, and batches end where shards
end). Exit status 1 when the rows or the counts differ.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

COUNTS = ("docs_in", "docs_out", "docs_removed", "docs_added", "by_reason", "by_dump")


def rows(folder: Path) -> list[str]:
    """Every row of the folder's part files, in part order, as canonical JSON."""
    parts = sorted(folder.glob("part-*.parquet")) if folder.exists() else []
    out: list[str] = []
    for part in parts:
        for row in pq.read_table(part).to_pylist():
            out.append(json.dumps(row, sort_keys=True, default=repr))
    return out


def outcome(run: Path) -> dict[str, list[str]]:
    found = {"kept": rows(run / "data"), "quarantined": rows(run / "quarantine")}
    for stage in sorted(p.name for p in (run / "removed").iterdir()):
        found[f"removed by {stage}"] = rows(run / "removed" / stage)
    return found


def main(a: str, b: str) -> int:
    runs = [Path(a), Path(b)]
    reports = [json.loads((r / "report.json").read_text()) for r in runs]
    outcomes = [outcome(r) for r in runs]
    different = 0
    print(f"A: {a} ({reports[0]['input']['shards']} shards)")
    print(f"B: {b} ({reports[1]['input']['shards']} shards)")
    print(f"{'rows':<30} {'A':>8} {'B':>8}  same rows  same order")
    for key in sorted(set(outcomes[0]) | set(outcomes[1])):
        x, y = (o.get(key, []) for o in outcomes)
        same = Counter(x) == Counter(y)
        different += not same
        yes = {True: "yes", False: "NO"}
        print(f"{key:<30} {len(x):>8,} {len(y):>8,}  {yes[same]:<9}  {yes[x == y]}")
    for sa, sb in zip(reports[0]["stages"], reports[1]["stages"]):
        counts = [{k: s.get(k) for k in COUNTS} for s in (sa, sb)]
        if sa["name"] != sb["name"] or counts[0] != counts[1]:
            different += 1
            print(f"report: {sa['name']} counts differ: {counts[0]} != {counts[1]}")
    print("report.json stage counts: " + ("same" if not different else "see above"))
    return 1 if different else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
