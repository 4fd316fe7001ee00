"""What pii_scrub masks on the whole sample corpus, and how two versions differ (issue #19).

A precision check for rule changes: every span that one version masks and the other does not
is printed with its document id, so each new span can be read (a real name or a false one).

    PYTHONPATH=. python benchmarks/pii_masked_spans.py OUT.json          # defaults, mask
    python benchmarks/pii_masked_spans.py --diff BEFORE.json AFTER.json   # new and gone spans

Run the first form once on each checkout (the spans are (id, start, end, text) of characters
changed by ``mask``; adjacent spans are merged).
"""

from __future__ import annotations

import collections
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def masked_spans() -> tuple[list[tuple[str, int, int, str]], float]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curate.stages.base import make_stage

    stage = make_stage("pii_scrub", {"replacement": "mask"}, "bench")
    out = []
    cpu = time.process_time()
    for path in sorted((ROOT / "sample_corpus").glob("dump=*/*.parquet")):
        table = pq.read_table(path, columns=["id", "text", "language"])
        for a in range(0, table.num_rows, 256):
            part = table.slice(a, 256)
            ids, texts = part.column("id").to_pylist(), part.column("text").to_pylist()
            batch = pa.RecordBatch.from_pydict(
                {"text": texts, "language": part.column("language").to_pylist()}
            )
            scrubbed = stage.process(batch).batch.column("text").to_pylist()
            for doc, before, after in zip(ids, texts, scrubbed):
                k = 0
                while k < len(before):
                    if before[k] != after[k]:
                        s = k
                        while k < len(before) and before[k] != after[k]:
                            k += 1
                        out.append((doc, s, k, before[s:k]))
                    k += 1
    return out, time.process_time() - cpu


def diff(before: list, after: list) -> tuple[list, list]:
    """Spans of ``after`` not covered by ``before`` (new), and the other way round (gone)."""

    def cover(rows: list) -> dict:
        chars = collections.defaultdict(set)
        for doc, s, e, _ in rows:
            chars[doc].update(range(s, e))
        return chars

    was, now = cover(before), cover(after)
    new = [r for r in after if not set(range(r[1], r[2])) <= was[r[0]]]
    gone = [r for r in before if not set(range(r[1], r[2])) <= now[r[0]]]
    return new, gone


def main() -> None:
    if sys.argv[1] == "--diff":
        before, after = (json.loads(Path(p).read_text()) for p in sys.argv[2:4])
        new, gone = diff(before, after)
        print(f"spans {len(before)} -> {len(after)}; new {len(new)}, gone {len(gone)}")
        for row in new:
            print("new ", *row)
        for row in gone:
            print("gone", *row)
        return
    sys.path.insert(0, str(ROOT))
    spans, cpu = masked_spans()
    Path(sys.argv[1]).write_text(json.dumps(spans, ensure_ascii=False))
    print(f"{len(spans)} masked spans, {cpu:.1f} CPU s")


if __name__ == "__main__":
    main()
