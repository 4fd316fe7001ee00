from __future__ import annotations

import unicodedata

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.in_memory import run_in_memory
from curate.stages.exact_dedup import ExactDedup, ExactDedupConfig, normalize_text


def brute_force(rows, keep):
    """Exact answer: group by normalised text, survivor in the shared survival order
    (curate.index.survivor): earliest = min (dump, date, id); latest = max (date, dump), then id."""

    def norm(t):
        return " ".join(unicodedata.normalize("NFKC", t).lower().split())

    groups = {}
    for r in rows:
        groups.setdefault(norm(r["text"]), []).append(r)
    removed = {}
    for members in groups.values():
        if keep == "earliest":
            best = min(members, key=lambda r: (r["dump"], r["date"], r["id"]))
        else:  # newest first; ties broken by the smallest id
            by_id = sorted(members, key=lambda r: r["id"])
            best = sorted(by_id, key=lambda r: (r["date"], r["dump"]), reverse=True)[0]
        for r in members:
            if r is not best:
                removed[r["id"]] = best["id"]
    return removed


def run_stage(rows, keep, shards=3):
    stage = ExactDedup(ExactDedupConfig(keep=keep))
    fields = ("id", "text", "date", "dump")
    parts = [
        pa.Table.from_pylist([{k: r[k] for k in fields} for r in rows[i::shards]])
        for i in range(shards)
    ]
    run = run_in_memory(stage, parts)
    removed = {}
    for row in run.removed_rows():
        assert row["reason"] == "exact_duplicate"
        removed[row["id"]] = row["duplicate_of"]
    assert run.summary["duplicates"] == len(removed)
    return removed


texts = st.sampled_from(
    [
        "Hello world",
        "hello   WORLD",
        "Ｈｅｌｌｏ world",
        "other text",
        "Other\ntext",
        "third",
        "第三 文本",
        "第三　文本",
    ]
)
dates = st.sampled_from(["2023-01-01", "2023-02-01", "2023-03-01"])
dumps = st.sampled_from(["CC-MAIN-2023-06", "CC-MAIN-2023-14"])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(texts, dates, dumps), min_size=1, max_size=40),
    st.sampled_from(["earliest", "latest"]),
)
def test_matches_brute_force(items, keep):
    # positions follow the shard-major order the runner uses: (shard, row)
    rows = [{"id": f"d{i}", "text": t, "date": d, "dump": u} for i, (t, d, u) in enumerate(items)]
    shards = 3
    order = {r["id"]: (i % shards, i // shards) for i, r in enumerate(rows)}
    for r in rows:
        r["pos"] = order[r["id"]]
    assert run_stage(rows, keep, shards) == brute_force(rows, keep)


def test_normalisation():
    out = normalize_text(pa.array(["  A\tb\n\nC ", "ＡＢＣ"])).to_pylist()
    assert out == ["a b c", "abc"]
