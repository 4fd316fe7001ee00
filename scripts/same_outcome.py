"""Do two runs keep and remove the same documents? Per stage, row for row.

    python scripts/same_outcome.py RUN_A RUN_B

Compares each run's kept rows (data/: ids and text, in file order, copies included), each
stage's removed rows with their reasons (removed/<stage>/), the quarantined ids, and each stage's
counts in report.json. Shards may be cut differently (data/part-00000.parquet of one run may hold
what three parts of the other do): rows are read in part order and compared as one sequence.
Exit status 1 when anything differs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pyarrow.parquet as pq

COUNTS = ("docs_in", "docs_out", "docs_removed", "docs_added", "by_reason", "by_dump")


def rows(folder: Path, columns: list[str]) -> list[tuple]:
    parts = sorted(folder.glob("part-*.parquet")) if folder.exists() else []
    out: list[tuple] = []
    for part in parts:
        table = pq.read_table(part)
        out += list(zip(*(table[c].to_pylist() for c in columns if c in table.column_names)))
    return out


def outcome(run: Path) -> dict[str, list[tuple]]:
    found = {
        "kept (id, text)": rows(run / "data", ["id", "text"]),
        "quarantined": rows(run / "quarantine", ["id"]),
    }
    for stage in sorted(p.name for p in (run / "removed").iterdir()):
        found[f"removed by {stage}"] = rows(run / "removed" / stage, ["id", "reason"])
    return found


def main(a: str, b: str) -> int:
    runs = [Path(a), Path(b)]
    reports = [json.loads((r / "report.json").read_text()) for r in runs]
    outcomes = [outcome(r) for r in runs]
    different = 0
    print(f"A: {a} ({reports[0]['input']['shards']} shards)")
    print(f"B: {b} ({reports[1]['input']['shards']} shards)")
    print(f"{'rows':<30} {'A':>8} {'B':>8}  same ids, same order")
    for key in sorted(set(outcomes[0]) | set(outcomes[1])):
        x, y = (o.get(key, []) for o in outcomes)
        same = x == y
        different += not same
        print(f"{key:<30} {len(x):>8,} {len(y):>8,}  {'yes' if same else 'NO'}")
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
