"""simhash_dedup's method minhash (curate.dedup.units) against brute force: every pair of units'
shingle sets compared exactly, clusters by union-find, the boilerplate rule by hand."""

from __future__ import annotations

import random
from itertools import combinations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.collected import CollectedFiles, CollectedTable, run_here
from curate.dedup import units
from curate.stages.base import ROW, SHARD
from curate.stages.simhash_dedup import TOP_UNITS, SimhashDedup, SimhashDedupConfig
from curate.text import split_units
from tests.dedup import InTasks

WORDS = [f"w{i}" for i in range(400)]
TEMPLATES = [
    "please read our cookie notice before you continue to the {x} pages of this site",
    "subscribe to the weekly newsletter about {x} and {y} delivered every friday",
    "this story was filed under {x} by the night desk",
    "本网站使用Cookie以提升您的浏览体验，继续访问{x}即表示您同意。",
]
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊"]


def corpus(n: int = 80, seed: int = 3) -> list[dict]:
    """Documents of unique host sentences with template occurrences (slots and dropped words)
    and, in some documents, a family of look-alike lines repeated within the document."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        parts = [" ".join(rng.choices(WORDS, k=rng.randint(6, 14))) + "." for _ in range(3)]
        for t in rng.sample(TEMPLATES, rng.randint(0, 2)):
            slot = rng.choice(NAMES) if "本网站" in t else rng.choice(WORDS[:40])
            text = t.format(x=slot, y=rng.choice(WORDS[:40]))
            if rng.random() < 0.4:  # a word dropped
                words = text.split(" ")
                if len(words) > 3:
                    words.pop(rng.randrange(len(words)))
                text = " ".join(words)
            parts.insert(rng.randrange(len(parts) + 1), text + ("" if "本" in text else "."))
        if i % 9 == 0:  # a changelog-like family: many per document, in several documents
            parts += [f"fixed bug number {w} in the parser module." for w in rng.sample(WORDS, 4)]
        rows.append({"id": f"d{i:03d}", "text": "\n".join(parts), "dump": "D", "date": None})
    return rows


def brute_force(rows: list[dict], cfg: SimhashDedupConfig) -> set[tuple[str, int]]:
    """(id, unit start) of every unit the rule cuts, from all pairs of exact shingle sets."""
    p = units.params(cfg)
    nodes, sets = [], []
    for r in rows:
        spans = split_units(r["text"], cfg.level)
        texts = [r["text"][a:b] for a, b in spans]
        keep, values, sizes = units.unit_sets(texts, cfg.shingle, cfg.mask_slots, cfg.min_tokens)
        bounds = np.r_[0, np.cumsum(sizes)]
        for j, k in enumerate(np.flatnonzero(keep)):
            nodes.append((r["id"], spans[k][0]))
            sets.append(set(values[bounds[j] : bounds[j + 1]].tolist()))
    parent = list(range(len(nodes)))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in combinations(range(len(nodes)), 2):
        if len(sets[a] & sets[b]) >= p.threshold * len(sets[a] | sets[b]):
            parent[max(find(a), find(b))] = min(find(a), find(b))
    members: dict[int, list[int]] = {}
    for x in range(len(nodes)):
        members.setdefault(find(x), []).append(x)
    cut = set()
    for group in members.values():
        docs = {nodes[x][0] for x in group}
        if len(docs) >= p.min_docs and len(group) <= p.max_per_doc * len(docs):
            first = min(docs)  # one dump, no dates: survival order is id order
            cut |= {nodes[x] for x in group if nodes[x][0] != first}
    return cut


def barrier_cuts(
    rows: list[dict], cfg: SimhashDedupConfig, tmp_path, shards: int = 3, run=run_here
):
    """The stage's collect and barrier over ``shards`` collect files: (cut (id, start), summary)."""
    stage = SimhashDedup(cfg)
    table = pa.Table.from_pylist(rows)
    paths = []
    per = -(-len(rows) // shards)
    for s in range(shards):
        part = table.slice(s * per, per)
        part = part.append_column(ROW, pa.array(np.arange(part.num_rows), pa.int64()))
        keys = pa.concat_tables([stage.collect(b) for b in part.to_batches(max_chunksize=7)])
        keys = keys.add_column(0, SHARD, pa.array(np.full(keys.num_rows, s, np.int32)))
        paths.append(tmp_path / f"part-{s:05d}.parquet")
        pq.write_table(keys, paths[-1])
    decisions = tmp_path / "decisions"
    collected = CollectedFiles(paths, tmp_path / "scratch", decisions)
    _, summary = stage.barrier(collected, run)
    got = set()
    for s in range(shards):
        path = decisions / f"part-{s:05d}.parquet"
        if path.exists():
            spans = pq.read_table(path)
            for row, start in zip(spans.column(ROW).to_pylist(), spans["start"].to_pylist()):
                got.add((rows[s * per + row]["id"], start))
    return got, summary


def test_partitioned_barrier_equals_brute_force(tmp_path, monkeypatch):
    """With every band a single permutation (60 bands of 1 row) and every bucket's pairs checked,
    LSH misses a pair of Jaccard >= 0.5 with probability <= 2^-60: the partitioned rounds (bands,
    buckets, two-sided verification, components on files, routing, clusters) must cut exactly
    what all pairs do."""
    monkeypatch.setattr(units, "PAIR_ALL", 10**6)
    monkeypatch.setattr(units, "UNITS_PER_PARTITION", 64)  # several key and label partitions
    rows = corpus()
    cfg = SimhashDedupConfig(bands=60, min_docs=3)
    expected = brute_force(rows, cfg)
    got, summary = barrier_cuts(rows, cfg, tmp_path)
    assert summary["partitions"] > 1
    assert len(expected) > 40  # the templates are found...
    assert got == expected
    # ... and the changelog family (4 lines a document) is not boilerplate
    families = [r["text"].index("fixed bug") for r in rows if "fixed bug" in r["text"]]
    assert families and not any(
        (r["id"], r["text"].index("fixed bug")) in got for r in rows if "fixed bug" in r["text"]
    )


def test_default_lsh_finds_what_brute_force_finds(tmp_path):
    """At the defaults (20 bands of 3 rows, large buckets linked to their smallest member) the
    barrier cuts nothing brute force does not, and nearly all it does."""
    rows = corpus(seed=4)
    cfg = SimhashDedupConfig(min_docs=3)
    expected = brute_force(rows, cfg)
    got, _ = barrier_cuts(rows, cfg, tmp_path)
    assert got <= expected
    assert len(got) >= 0.9 * len(expected)


def test_the_driver_reads_no_unit_column(tmp_path, monkeypatch):
    """The driver plans from the tasks' counts: outside a task it reads no collect column but
    the previews of the report's most removed units (at most TOP_UNITS rows). It once read every
    document's unit starts to count the units (driver peak 514 MB at 40x the sample)."""
    run = inside = InTasks()
    take = CollectedFiles.take

    def read(self, columns):
        raise AssertionError(f"the driver read {columns} of every collect file")

    def bounded_take(self, columns, rows):
        assert inside or len(rows) <= TOP_UNITS, f"the driver took {len(rows)} rows of {columns}"
        return take(self, columns, rows)

    monkeypatch.setattr(CollectedFiles, "read", read)
    monkeypatch.setattr(CollectedFiles, "take", bounded_take)
    rows = corpus(seed=6)
    cfg = SimhashDedupConfig(min_docs=3)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    got, summary = barrier_cuts(rows, cfg, tmp_path / "a", run=run)
    monkeypatch.undo()
    assert got and (got, summary) == barrier_cuts(rows, cfg, tmp_path / "b")


def test_in_memory_and_on_files_agree(tmp_path):
    rows = corpus(seed=5)
    cfg = SimhashDedupConfig()
    on_files, _ = barrier_cuts(rows, cfg, tmp_path, shards=2)
    stage = SimhashDedup(cfg)
    table = pa.Table.from_pylist(rows)
    table = table.append_column(ROW, pa.array(np.arange(table.num_rows), pa.int64()))
    keys = stage.collect(table.to_batches()[0])
    keys = keys.add_column(0, SHARD, pa.array(np.zeros(keys.num_rows, np.int32)))
    decision, summary = stage.barrier(CollectedTable(keys), run_here)
    spans = stage.decision_for_shard(decision, 0)
    in_memory = {
        (rows[r]["id"], s) for r, s in zip(spans[ROW].to_pylist(), spans["start"].to_pylist())
    }
    assert in_memory == on_files
    assert summary["method"] == "minhash" and summary["units_removed"] == len(in_memory)
    assert summary["top_removed"] and summary["top_removed"][0]["documents"] >= 4


def test_slots_and_chinese_dates_are_masked():
    masked = units.mask_cjk(
        ["发布于2024年3月5日 14:05，作者：张伟", "Tags: alpha, beta, gamma", "首页 > 新闻 > 标题"]
    )
    assert "年" not in masked[0] and "_num_" in masked[0]
    assert masked[1].split() == ["Tags", ":", "_item_", "_item_", "_item_"]
    assert masked[2].split()[-2:] == ["_item_", "_item_"]
    # prose with commas is not a labelled list
    assert units.mask_cjk(["We ran, walked, and rested by the lake."])[0].count("_item_") == 0


@pytest.mark.parametrize("text", ["", "a b", "Home"])
def test_short_units_are_not_fingerprinted(text):
    cfg = SimhashDedupConfig()
    keep, values, sizes = units.unit_sets([text], 2, True, cfg.min_tokens)
    assert not keep.any() and len(values) == len(sizes) == 0
    assert units.sketch_bands(values, sizes, units.params(cfg)).shape == (0, cfg.bands)


def test_config_errors_name_the_key():
    with pytest.raises(ValueError, match="index"):
        SimhashDedupConfig(method="minhash", index="x").validate()
    with pytest.raises(ValueError, match="bands"):
        SimhashDedupConfig(num_perm=60, bands=7).validate()
    assert SimhashDedupConfig().min_docs == 4
    assert SimhashDedupConfig(method="simhash").min_docs == 2
    assert SimhashDedupConfig(index="x").method == "simhash"


def test_pipeline_with_two_worker_processes(tmp_path):
    """The barrier's tasks pickled to a process pool (two workers, three input files) cut what
    the in-process barrier cuts, and every document is accounted for."""
    from curate.config import parse_pipeline
    from curate.executors.local import LocalExecutor
    from curate.pipeline import run_pipeline
    from curate.report import check_balance

    rows = corpus(seed=6)
    folder = tmp_path / "in" / "dump=D"
    folder.mkdir(parents=True)
    for s in range(3):
        pq.write_table(pa.Table.from_pylist(rows[s::3]), folder / f"part-{s}.parquet")
    config = parse_pipeline(
        {
            "name": "t",
            "input": str(tmp_path / "in"),
            "output": str(tmp_path / "out"),
            "stages": [{"simhash_dedup": {"min_docs": 3, "min_chars": 10}}],
        }
    )
    report = run_pipeline(config, LocalExecutor(2))
    assert check_balance(report) == []
    decision = report["stages"][0]["decision"]
    ordered = [r for s in range(3) for r in rows[s::3]]  # the files' order: ties go to it
    (tmp_path / "ref").mkdir()
    expected, _ = barrier_cuts(ordered, SimhashDedupConfig(min_docs=3), tmp_path / "ref", 3)
    assert decision["method"] == "minhash"
    assert decision["units_removed"] == len(expected) > 20


def test_identical_occurrences_are_one_node_but_every_one_counts(tmp_path):
    """Units with the same shingle set go through the bands, buckets and components as one
    representative; every occurrence still counts for min_docs and max_per_doc and is cut: a line
    once in each of 40 documents is cut from 39; a line 3 times in each of 12 documents (3 units a
    document) is not boilerplate; one in 2 documents is under min_docs."""
    rng = random.Random(7)
    once = "please read our cookie notice before you continue to the pages of this site."
    thrice = "fixed bug number seven in the parser module of the release."
    twice = "subscribe to the weekly newsletter delivered every friday morning."
    rows = []
    for i in range(48):
        parts = [" ".join(rng.choices(WORDS, k=rng.randint(6, 14))) + "." for _ in range(3)]
        parts += [once] if i < 40 else []
        parts += [thrice] * 3 if i % 4 == 0 else []
        parts += [twice] if i in (5, 6) else []
        rng.shuffle(parts)
        rows.append({"id": f"d{i:03d}", "text": "\n".join(parts), "dump": "D", "date": None})
    cfg = SimhashDedupConfig(min_docs=3)
    expected = brute_force(rows, cfg)
    got, summary = barrier_cuts(rows, cfg, tmp_path)
    assert got == expected
    cut = {(r["id"], r["text"].index(once)) for r in rows[1:40]}
    assert got == cut and summary["units_removed"] == 39
    assert summary["docs_cut"] == 39


def test_identical_units_take_their_labels_by_partition_not_in_the_first_shard(
    tmp_path, monkeypatch
):
    """A group of identical units (a boilerplate line) is represented by its smallest unit, in
    the earliest shard that has it. Its members must go to the resolve task of the
    representative's partition, not of its shard: by shard, every member of every line in
    every shard went to shard 0's task (2.8 GB at 1.9 M documents). And a member is a shard's
    local representative, not every occurrence: a line in every page of a dump is a row per
    shard. Sixteen lines in each of 64 documents over 4 shards: no resolve task gets half of
    the members, the lines give 3 members each, and the cuts are brute force's."""
    from curate.collected import read_spilled

    monkeypatch.setattr(units, "UNITS_PER_PARTITION", 64)  # several partitions
    rng = random.Random(11)
    lines = [
        f"notice {' '.join(rng.sample(WORDS, 6))} is a registered mark of the site owner."
        for _ in range(16)
    ]
    rows = []
    for i in range(64):
        parts = [" ".join(rng.choices(WORDS, k=rng.randint(6, 14))) + "." for _ in range(3)]
        rows.append(
            {"id": f"d{i:03d}", "text": "\n".join(parts + lines), "dump": "D", "date": None}
        )
    members: list[int] = []

    def run(fn, tasks, **kw):
        if getattr(fn, "func", None) is units._resolve:
            for t in tasks:
                got = read_spilled(fn.args[1], t)
                members.append(0 if got is None else got.num_rows)
        return run_here(fn, tasks, **kw)

    cfg = SimhashDedupConfig(min_docs=3)
    got, summary = barrier_cuts(rows, cfg, tmp_path, shards=4, run=run)
    assert summary["partitions"] > 1
    assert got == brute_force(rows, cfg)
    # each line's local representatives of the shards but the representative's (3 of 4), and
    # the filler sentences of one length, whose words are all masked as slots; before the
    # shards grouped their own identical units, every occurrence but the representative went
    # (16 x 63 rows for the lines alone)
    assert 16 * 3 <= sum(members) < 16 * 63 / 4
    assert max(members) < sum(members) / 2


def test_a_star_heads_set_goes_once_to_each_shard_not_once_per_pair(tmp_path, monkeypatch):
    """One sentence with a different word dropped in each of 96 documents over 4 shards: large
    buckets, whose pairs are each member with the bucket's smallest unit, in the first shard.
    The first-end round ships each first end's shingle set once per shard it goes to, not once
    per candidate pair (per pair, the first shard's task held a copy of the head's set for every
    pair of every star), and the cuts are brute force's."""
    import pyarrow.parquet as pq_

    monkeypatch.setattr(units, "UNITS_PER_PARTITION", 64)
    rng = random.Random(5)
    line = (
        "the quick brown fox jumps over the lazy dog while every reader of this page "
        "keeps scrolling past another notice about cookies and privacy settings here"
    )
    words = line.split(" ")
    rows = []
    for i in range(96):
        drop = rng.randrange(len(words))
        line = " ".join(w for j, w in enumerate(words) if j != drop) + "."
        parts = [" ".join(rng.choices(WORDS, k=rng.randint(6, 14))) + "." for _ in range(3)]
        parts.insert(rng.randrange(4), line)
        rows.append({"id": f"d{i:03d}", "text": "\n".join(parts), "dump": "D", "date": None})
    shipped: list = []

    def run(fn, tasks, **kw):
        out = list(run_here(fn, tasks, **kw))
        if getattr(fn, "func", None) is units._verify_first:
            shipped.extend(out)
        return out

    cfg = SimhashDedupConfig(min_docs=3)
    got, summary = barrier_cuts(rows, cfg, tmp_path, shards=4, run=run)
    assert got == brute_force(rows, cfg) and len(got) > 60
    pairs = sum(pq_.read_metadata(p).num_rows for p, _ in shipped)
    assert pairs == summary["candidate_pairs"] > 100
    sent = 0
    for _, path in shipped:  # one row group per destination shard: each node in it once
        f = pq_.ParquetFile(path)
        for g in range(f.num_row_groups):
            node = f.read_row_group(g, columns=["node"]).column(0).to_numpy()
            assert len(np.unique(node)) == len(node)
            sent += len(node)
    assert sent < pairs / 2  # per pair: 229 sets for 229 pairs; now 79


def test_decision_files_are_written_by_groups_bounded_by_units(tmp_path, monkeypatch):
    """A group of shards whose decision files one task writes holds at most UNITS_PER_GROUP
    units (a larger shard alone) and SHARDS_PER_GROUP shards; with one shard a group the cuts
    are brute force's all the same."""
    from curate.stages import simhash_dedup as sd

    monkeypatch.setattr(sd, "UNITS_PER_GROUP", 10)
    monkeypatch.setattr(sd, "SHARDS_PER_GROUP", 3)
    pieces = [(i * 100, i * 100 + 100) for i in range(8)]
    groups = sd.ShardGroups.of(pieces, [5, 5, 5, 20, 1, 1, 1, 1])
    assert groups.bounds.tolist() == [0, 2, 3, 4, 7, 8]
    assert [list(groups.shards(g)) for g in range(len(groups))][3] == [4, 5, 6]
    assert groups.units == 20
    assert groups.group_of(np.array([0, 199, 200, 399, 450, 799])).tolist() == [0, 0, 1, 2, 3, 4]
    monkeypatch.setattr(sd, "UNITS_PER_GROUP", 1)
    writers: list[int] = []

    def run(fn, tasks, **kw):
        if getattr(fn, "func", None) is units._decisions:
            writers.extend(tasks)
        return run_here(fn, tasks, **kw)

    rows = corpus()
    cfg = SimhashDedupConfig(bands=60, min_docs=3)
    got, summary = barrier_cuts(rows, cfg, tmp_path, shards=4, run=run)
    assert writers == [0, 1, 2, 3]
    assert got == brute_force(rows, cfg)
    # the groups are made from each shard's own count, whatever order the tasks finish in
    made: list = []

    def groups_of(pieces, counts):
        made.append(list(counts))
        return sd.ShardGroups.of(pieces, counts)

    collected = CollectedFiles(
        sorted(tmp_path.glob("part-*.parquet")), tmp_path / "scratch2", tmp_path / "decisions2"
    )
    backwards = lambda fn, tasks, **kw: list(run_here(fn, tasks, **kw))[::-1]  # noqa: E731
    units.barrier(collected, backwards, units.params(cfg), groups_of)
    per_shard = [
        sum(len(s) for s in pq.read_table(path, columns=["start"]).column(0).to_pylist())
        for path in sorted(tmp_path.glob("part-*.parquet"))
    ]
    assert made == [per_shard] and sum(per_shard) == summary["units"]
    assert len(set(per_shard)) > 1  # unequal shards: a reversed list would differ


def test_a_cluster_reaches_its_task_as_one_row_per_shard_not_its_units(tmp_path):
    """A line in each of 96 documents over 4 shards is one cluster of 96 units: the routing
    tasks send its cluster task one row per shard (its units and documents there, the shard's
    first document), never the units, and the cuts are brute force's."""
    from curate.collected import read_spilled

    line = "please read our cookie notice before you continue to the pages of this site."
    rows = []
    rng = random.Random(9)
    for i in range(96):
        parts = [" ".join(rng.choices(WORDS, k=rng.randint(6, 14))) + "." for _ in range(3)]
        parts.insert(rng.randrange(4), line)
        rows.append({"id": f"d{i:03d}", "text": "\n".join(parts), "dump": "D", "date": None})
    received: list = []

    def run(fn, tasks, **kw):
        if getattr(fn, "func", None) is units._clusters:
            received.extend(read_spilled(fn.args[1], t) for t in tasks)
        return run_here(fn, tasks, **kw)

    cfg = SimhashDedupConfig(min_docs=3)
    got, summary = barrier_cuts(rows, cfg, tmp_path, shards=4, run=run)
    assert got == brute_force(rows, cfg) and len(got) == 95
    table = pa.concat_tables([t for t in received if t is not None])
    # the line's cluster: 96 units in 96 documents (the filler sentences, whose words are all
    # masked as slots, are another: 3 a document)
    per_label = table.group_by("label").aggregate([("units", "sum"), ("docs", "sum")])
    line_label = per_label.filter(pa.compute.equal(per_label.column("units_sum"), 96))
    assert line_label.column("docs_sum").to_pylist() == [96]
    big = table.filter(pa.compute.equal(table.column("label"), line_label.column("label")[0]))
    assert sorted(big.column("shard").to_pylist()) == [0, 1, 2, 3]  # one row per shard
    assert big.column("units").to_pylist() == [24, 24, 24, 24]
    assert table.num_rows < summary["units"] / 2  # no unit travels as a row of its own
