"""rehydrate on the sample corpus: the up-sampling distribution and rows per CPU second.

    python benchmarks/run.py --only rehydrate

The sample's 24,000 documents go through ``minhash_dedup`` (the demo's parameters, partitioned
barrier, one worker) and ``rehydrate`` with FineWeb-2's schedule; the section gives the cluster
sizes of the survivors, the copies each range got and the report's counts. Speed: the stage on
the survivors (batches of 2,000, Arrow) against FineWeb-2's own re-hydration block (its README:
a datatrove ``PipelineStep`` that looks each document's weight up with ``bisect`` and yields the
document that many times), emulated on datatrove-like document objects built before the clock
starts (datatrove itself is not needed). Both must give every id the same number of rows.
"""

from __future__ import annotations

import bisect
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO))

FINEWEB2 = {1: 1, 2: 2, 3: 3, 5: 5, 100: 8, 1000: 1}


@dataclass
class Document:  # datatrove's Document: text, id, metadata
    text: str
    id: str
    metadata: dict = field(default_factory=dict)


def fineweb2_rehydrate(docs, weights: dict[int, int]):
    """FineWeb-2 README's block, per document: the weight of the largest limit <= size."""
    limits = sorted(weights)
    for doc in docs:
        size = doc.metadata["minhash_cluster_size"]
        weight = weights[limits[bisect.bisect_right(limits, size) - 1]]
        for _ in range(weight):
            yield doc


def run(quick: bool) -> str:
    from curate.config import parse_pipeline
    from curate.executors.local import LocalExecutor
    from curate.pipeline import run_pipeline
    from curate.stages.rehydrate import Rehydrate, RehydrateConfig, ranges

    out = ["## Rehydration (`rehydrate`, FineWeb-2's schedule, after `minhash_dedup`)", ""]
    with tempfile.TemporaryDirectory() as tmp:
        config = parse_pipeline(
            {
                "name": "rehydrate-bench",
                "input": str(REPO / "sample_corpus" / "dump=*"),
                "output": str(Path(tmp) / "out"),
                "stages": [
                    {"minhash_dedup": {"threshold": 0.8, "num_perm": 128, "ngram": 5}},
                    {"rehydrate": {"schedule": FINEWEB2}},
                ],
            }
        )
        ex = LocalExecutor(1)
        try:
            report = run_pipeline(config, ex)
        finally:
            ex.close()
        by = {s["name"]: s for s in report["stages"]}
        kept = pq.read_table(
            Path(tmp) / "out" / "data", columns=["id", "text", "minhash_cluster_size", "copy"]
        )
    originals = kept.filter(pa.compute.equal(kept["copy"], 0)).drop_columns(["copy"])
    sizes = Counter(originals["minhash_cluster_size"].to_pylist())
    mh, rh = by["minhash_dedup"], by["rehydrate"]
    out += [
        f"minhash_dedup: {mh['docs_in']:,} documents in, {mh['docs_removed']:,} removed as "
        f"near-duplicates, {mh['docs_out']:,} survivors; rehydrate: {rh['docs_in']:,} in, "
        f"{rh['docs_added']:,} copies added, {rh['docs_out']:,} out "
        f"({rh['docs_out'] / max(rh['docs_in'], 1):.3f}x); removed by rehydrate: "
        f"{rh['docs_removed']}.",
        "",
        "| cluster size | survivors | copies each | rows out |",
        "|---|---|---|---|",
    ]
    for label in ranges(FINEWEB2):
        n = int(rh["extra"].get(f"rows:{label}", 0))
        added = int(rh["extra"].get(f"copies:{label}", 0))
        each = f"{1 + added / n:g}" if n else "-"
        out.append(f"| {label} | {n:,} | {each} | {n + added:,} |")
    out += ["", "Survivors by exact cluster size: "]
    out[-1] += ", ".join(f"{s}: {n:,}" for s, n in sorted(sizes.items())) + "."
    # speed, on the survivors (repeated to a few hundred thousand rows)
    times = 4 if quick else 16
    table = pa.concat_tables([originals] * times).combine_chunks()
    stage = Rehydrate(RehydrateConfig(schedule=FINEWEB2))
    stage.config.validate()
    batches = table.to_batches(max_chunksize=2000)
    t = time.process_time()
    verdicts = [stage.process(b) for b in batches]
    ours_s = time.process_time() - t
    rows_out, ours = 0, Counter()
    for b, v in zip(batches, verdicts):  # checked after the clock
        rows_out += v.batch.num_rows + (v.added.num_rows if v.added is not None else 0)
        ours.update(b["id"].to_pylist())
        if v.added is not None:
            ours.update(v.added["id"].to_pylist())
    docs = [
        Document(text, i, {"minhash_cluster_size": s})
        for i, text, s in zip(
            table["id"].to_pylist(),
            table["text"].to_pylist(),
            table["minhash_cluster_size"].to_pylist(),
        )
    ]
    t = time.process_time()
    yielded = list(fineweb2_rehydrate(docs, FINEWEB2))
    theirs_s = time.process_time() - t
    theirs = Counter(d.id for d in yielded)
    agree = "yes" if theirs == ours else "NO"
    out += [
        "",
        f"| {table.num_rows:,} rows in ({times}x the survivors) | rows out | rows in/CPU s | "
        "same rows per id |",
        "|---|---|---|---|",
        f"| curate `rehydrate` (Arrow batches of 2,000) | {rows_out:,} | "
        f"{table.num_rows / ours_s:,.0f} | {agree} |",
        f"| FineWeb-2's block (per document, bisect), emulated on Document objects | "
        f"{sum(theirs.values()):,} | {table.num_rows / theirs_s:,.0f} | - |",
        "",
        "The stage's rows/s include taking the copies' text and columns into new Arrow "
        "batches; the per-document block only yields the same object again (no copy made, "
        "its writer serialises each).",
    ]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
