from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.cli import main as cli_main
from curate.collected import CollectedFiles, CollectedTable, run_here
from curate.config import parse_pipeline
from curate.errors import CurateError
from curate.executors.local import LocalExecutor
from curate.in_memory import run_in_memory
from curate.index import index_info
from curate.pipeline import run_pipeline
from curate.report import check_balance
from curate.stages import simhash_dedup
from curate.stages.base import ROW, SHARD
from curate.stages.simhash_dedup import (
    GRAM_BASE,
    SimhashDedup,
    block_layout,
    cut_spans,
    fmix64,
    mask_pii,
    near_duplicate_pairs,
    near_pairs_between,
    simhash,
    unit_fingerprints,
)
from curate.text import SLOT_TOKENS, mask_slots, normalize_for_features, tokens
from tests.conftest import stdlib_docs


def SimhashDedupConfig(**params):  # noqa: N802 (these tests are method simhash's)
    return simhash_dedup.SimhashDedupConfig(**{"method": "simhash", **params})


def simhash_reference(features: list[str]) -> int:
    """Charikar's definition, one bit at a time."""
    feats = list(dict.fromkeys(features))
    v = [0] * 64
    for f in feats:
        h = xxhash.xxh3_64_intdigest(f.encode())
        for b in range(64):
            v[b] += 1 if (h >> b) & 1 else -1
    return sum(1 << b for b in range(64) if v[b] > 0)


def test_simhash_matches_definition():
    rng = random.Random(1)
    words = [f"w{i}" for i in range(50)]
    units = [[rng.choice(words) for _ in range(rng.randint(0, 30))] for _ in range(300)]
    got = simhash(units).tolist()
    assert got == [simhash_reference(u) if u else 0 for u in units]


def test_block_layout_tiles_64_bits():
    for k in range(0, 16):
        layout = block_layout(k)
        assert len(layout) == k + 1
        assert sum(w for _, w in layout) == 64
        assert layout[0][0] == 0 and all(a[0] + a[1] == b[0] for a, b in zip(layout, layout[1:]))


def brute_pairs(fps: list[int], k: int) -> set[tuple[int, int]]:
    return {
        (i, j)
        for i in range(len(fps))
        for j in range(i + 1, len(fps))
        if bin(fps[i] ^ fps[j]).count("1") <= k
    }


@pytest.mark.parametrize("candidates", [1 << 22, 5])  # all at once, or a few at a time
def test_table_search_finds_exactly_the_brute_force_pairs(candidates, monkeypatch):
    monkeypatch.setattr(simhash_dedup, "CANDIDATES", candidates)
    rng = np.random.default_rng(7)
    base = rng.integers(0, 2**63, size=300, dtype=np.uint64)
    fps = [int(b) for b in base]
    for b in base[:200]:  # near neighbours at distance 0..6
        flips = rng.choice(64, size=rng.integers(0, 7), replace=False)
        fps.append(int(b) ^ sum(1 << int(f) for f in flips))
    fps = list(dict.fromkeys(fps))
    rng.shuffle(fps)
    arr = np.array(fps, dtype=np.uint64)
    for k in (0, 1, 3, 5):
        i, j = near_duplicate_pairs(arr, k)
        assert set(zip(i.tolist(), j.tolist())) == brute_pairs(fps, k)


def test_cut_spans():
    text = "Keep this.\nCookie notice here.\nAnd keep this too. Footer line."
    a = text.index("Cookie")
    b = text.index("Footer")
    out = cut_spans(text, [(a, a + len("Cookie notice here.")), (b, len(text))])
    assert out == "Keep this.\nAnd keep this too."


FOOTERS = [
    "This website uses cookies to improve your experience; by continuing you accept them.",
    "Copyright 2023 The Example Foundation. All rights reserved. Terms of use apply.",
    "本网站使用 Cookie 来改善您的浏览体验，继续浏览即表示您同意我们的隐私政策。",
]


def make_corpus(root, n_docs=90, seed=3):
    """Real prose with boilerplate footers appended to two thirds of the pages, with small
    variations (year, surrounding whitespace), in two dumps."""
    rng = random.Random(seed)
    docs = [d for d in stdlib_docs() if len(d) > 400][:n_docs]
    truth = []
    for d in range(2):
        rows = []
        for i, text in enumerate(docs[d::2]):
            footer = None
            if i % 3:
                footer = FOOTERS[i % 3 if rng.random() < 0.8 else 0]
                footer = footer.replace("2023", str(2020 + rng.randint(0, 4)))
                text = text.rstrip() + "\n\n" + footer
            rows.append(
                {
                    "id": f"d{d}-{i}",
                    "text": text,
                    "date": f"2023-0{d + 1}-01",
                    "language": "zh" if footer and footer.startswith("本") else "en",
                }
            )
            truth.append((f"d{d}-{i}", footer))
        folder = root / f"dump=D{d}"
        folder.mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows), folder / "part-0.parquet")
    return truth


def test_stage_removes_injected_boilerplate_and_keeps_the_first(tmp_path):
    truth = make_corpus(tmp_path / "in")
    config = parse_pipeline(
        {
            "name": "t",
            "input": str(tmp_path / "in"),
            "output": str(tmp_path / "out"),
            "stages": [{"simhash_dedup": {"min_chars": 50}}],
        }
    )
    report = run_pipeline(config, LocalExecutor(1))
    assert check_balance(report) == []
    kept = pq.read_table(tmp_path / "out" / "data").to_pylist()
    texts = {r["id"]: r["text"] for r in kept}
    with_footer = [(i, f) for i, f in truth if f]
    still = [i for i, f in with_footer if i in texts and f[:30] in texts[i]]
    # each footer variant stays exactly once (its first occurrence), everywhere else it is cut
    variants = {f for _, f in with_footer}
    assert len(still) <= len(variants)
    recall = 1 - (len(still) - len(variants)) / len(with_footer)
    assert recall >= 0.95
    # documents without boilerplate are untouched
    originals = {i for i, f in truth if not f}
    assert all(i in texts for i in originals)
    stage = report["stages"][0]
    assert stage["decision"]["units_removed"] >= len(with_footer) - len(variants)
    assert stage["decision"]["top_removed"][0]["removed"] >= 10
    # the workers' counters (report `extra`) agree with the decision's
    for key in ("units_removed", "chars_removed"):
        assert stage["extra"][key] == stage["decision"][key], key
    cut = stage["decision"]["docs_cut"]
    assert stage["extra"]["docs_shortened"] + stage["docs_removed"] == cut
    assert sum(d["docs_cut"] for d in stage["decision"]["by_dump"].values()) == cut
    assert "***" in "".join(u["text"] for u in stage["decision"]["top_removed"])  # years masked


# ---------------------------------------------------------------- across dumps, report numbers


def run_stage(stage, rows, shards=1, cuts=None, partitions=None):
    """collect -> decide -> apply in-process, as the runner does (curate.in_memory): (kept
    texts by id, removed ids, summary); ``cuts`` (a dict) receives the removed spans by id;
    ``partitions``: the run's hash partitions (the barrier's search partitions and ordinal
    ranges)."""
    table = pa.Table.from_pylist(rows)
    parts = [table.slice(s * len(rows) // shards, len(rows) // shards) for s in range(shards)]
    parts[-1] = table.slice((shards - 1) * (len(rows) // shards))
    run = run_in_memory(stage, parts, batch_size=16, partitions=partitions)
    for part, spans in zip(parts, run.decisions):
        if cuts is not None and spans is not None:
            ids = part.column("id").take(spans.column(ROW)).to_pylist()
            for i, a, b in zip(ids, spans["start"].to_pylist(), spans["end"].to_pylist()):
                cuts.setdefault(i, []).append((a, b))
    kept = {r["id"]: r["text"] for t in run.kept for r in t.select(["id", "text"]).to_pylist()}
    removed = {r["id"] for r in run.removed_rows()}
    return kept, removed, run.summary


SHARED = "Subscribe to our newsletter for weekly updates on new releases and events near you."


def dump_rows(dumps=("CC-2023-06", "CC-2023-14", "CC-2023-23"), per_dump=40, seed=5):
    """Real prose in three dumps; footers from FOOTERS on most pages, a footer seen once per
    dump (boilerplate only across dumps), and a page that is mostly boilerplate in each dump."""
    rng = random.Random(seed)
    docs = [d for d in stdlib_docs() if len(d) > 300]
    rows = []
    for d, dump in enumerate(dumps):
        for i in range(per_dump):
            text = docs[(d * per_dump + i) % len(docs)].rstrip()
            if i % 4:
                text += "\n" + FOOTERS[rng.randrange(3)].replace("2023", str(2019 + i % 5))
            if i == 7:
                text += "\n" + SHARED
            if i == 11:
                text = FOOTERS[0] + "\n" + FOOTERS[1] + "\nShort page."
            rows.append(
                {
                    "id": f"{dump}-{i:03d}",
                    "text": text,
                    "dump": dump,
                    "date": f"2023-{d + 1:02d}-{1 + i % 28:02d}",
                    "domain": "web" if i % 3 else "code",
                }
            )
    return rows


@pytest.mark.parametrize("min_docs", [2, 3])
def test_dump_by_dump_through_the_index_equals_all_dumps_together(tmp_path, min_docs):
    rows = dump_rows()
    dumps = sorted({r["dump"] for r in rows})
    index = str(tmp_path / "index")
    for n, dump in enumerate(dumps, 1):
        stage = SimhashDedup(SimhashDedupConfig(index=index, min_docs=min_docs))
        kept, removed, summary = run_stage(stage, [r for r in rows if r["dump"] == dump])
        assert summary["index"]["committed"] == [dump]
        assert summary["index"]["deduplicated_against"] == dumps[: n - 1]
        together = SimhashDedup(SimhashDedupConfig(min_docs=min_docs))
        all_kept, all_removed, _ = run_stage(together, [r for r in rows if r["dump"] <= dump])
        assert removed == {r for r in all_removed if r.startswith(dump)}
        assert kept == {k: v for k, v in all_kept.items() if k.startswith(dump)}
        # the footer seen once per dump is boilerplate once min_docs dumps have it
        assert (SHARED in kept[f"{dump}-007"]) == (n < min_docs)
        assert (summary["near_committed_fingerprints"] > 0) == (n > 1)
    first = [r for r in rows if r["dump"] == dumps[0]]
    assert SHARED in run_stage(SimhashDedup(SimhashDedupConfig()), first)[0][f"{dumps[0]}-007"]


def test_rerunning_a_committed_dump_is_idempotent(tmp_path):
    rows = dump_rows(dumps=("CC-2023-06", "CC-2023-14"))
    index = str(tmp_path / "index")
    make = lambda: SimhashDedup(SimhashDedupConfig(index=index))  # noqa: E731
    run_stage(make(), [r for r in rows if r["dump"] == "CC-2023-06"])
    second = [r for r in rows if r["dump"] == "CC-2023-14"]
    kept, removed, s1 = run_stage(make(), second)
    before = index_info(index)
    again_kept, again_removed, s2 = run_stage(make(), second, shards=3)
    assert (again_kept, again_removed) == (kept, removed)
    read = s2["index"].pop("bytes_read")  # the rerun also reads the second dump's meta.json
    assert read >= s1["index"].pop("bytes_read") > 0
    assert s2["index"] == s1["index"] | {"committed": [], "already_committed": ["CC-2023-14"]}
    assert index_info(index) == before
    # the same name with other documents is refused, and the index stays as it was
    with pytest.raises(CurateError, match="already committed with other documents"):
        run_stage(make(), second[1:])
    with pytest.raises(CurateError, match="hamming"):
        run_stage(SimhashDedup(SimhashDedupConfig(index=index, hamming=4)), second)
    assert index_info(index) == before


def test_index_info_command_shows_a_simhash_index(tmp_path, capsys):
    rows = dump_rows(dumps=("CC-2023-06", "CC-2023-14"))
    index = str(tmp_path / "index")
    for dump in ("CC-2023-06", "CC-2023-14"):
        stage = SimhashDedup(SimhashDedupConfig(index=index))
        run_stage(stage, [r for r in rows if r["dump"] == dump])
    assert cli_main(["index", "info", index]) == 0
    out = capsys.readouterr().out
    assert "simhash index" in out and "hamming=3" in out
    assert "CC-2023-06" in out and "CC-2023-14" in out and "total: 2 dumps, 80 docs" in out
    info = index_info(index)
    assert [d["docs"] for d in info["dumps"]] == [40, 40]


def test_index_needs_a_dump_for_every_document(tmp_path):
    rows = [r | {"dump": None} for r in dump_rows(per_dump=8)]
    stage = SimhashDedup(SimhashDedupConfig(index=str(tmp_path / "index")))
    with pytest.raises(CurateError, match="needs a dump for every document"):
        run_stage(stage, rows)


@pytest.mark.parametrize("candidates", [1 << 22, 5])
def test_near_pairs_between_two_sets_match_brute_force(candidates, monkeypatch):
    monkeypatch.setattr(simhash_dedup, "CANDIDATES", candidates)
    rng = np.random.default_rng(3)
    a = rng.integers(0, 2**63, size=400, dtype=np.uint64)
    flips = [sum(1 << int(f) for f in rng.choice(64, rng.integers(0, 6), replace=False)) for _ in a]
    b = np.r_[a[:250] ^ np.array(flips[:250], np.uint64), rng.integers(0, 2**63, 100, np.uint64)]
    for k in (0, 2, 3, 4):
        i, j = near_pairs_between(a, b, k)
        brute = {
            (x, y)
            for x in range(len(a))
            for y in range(len(b))
            if bin(int(a[x]) ^ int(b[y])).count("1") <= k
        }
        assert set(zip(i.tolist(), j.tolist())) == brute


def test_report_counts_units_chars_and_documents_per_dump_and_domain():
    rows = dump_rows()
    kept, removed, summary = run_stage(SimhashDedup(SimhashDedupConfig()), rows)
    for key in ("by_dump", "by_domain"):
        groups = summary[key]
        for field in ("units", "units_removed", "chars_removed", "docs_cut"):
            assert sum(g[field] for g in groups.values()) == summary[field], (key, field)
    assert set(summary["by_dump"]) == {"CC-2023-06", "CC-2023-14", "CC-2023-23"}
    assert set(summary["by_domain"]) == {"web", "code"}
    assert summary["docs_cut"] >= len(removed) > 0
    # every page with a footer but the first per variant lost it
    assert summary["units_removed"] >= sum(1 for i in range(120) if i % 4) - 3 * 5
    assert summary["chars_removed"] > 20 * summary["units_removed"]
    top = summary["top_removed"]
    assert top[0]["removed"] >= top[-1]["removed"] and top[0]["documents"] > top[0]["removed"]


def test_top_removed_units_are_masked_of_pii():
    assert mask_pii("Write to jane.doe@example.org or call +1 415-555-0134.") == (
        "Write to *** or call ***."
    )
    footer = "Questions? Mail webmaster@example.org or call 0800 123 4567 any day of the week."
    rows = [
        {"id": f"d{i}", "text": doc.rstrip() + "\n" + footer, "dump": "D", "date": "2023-01-01"}
        for i, doc in enumerate(stdlib_docs()[:12])
    ]
    _, _, summary = run_stage(SimhashDedup(SimhashDedupConfig(preview_chars=200)), rows)
    text = summary["top_removed"][0]["text"]
    assert "webmaster" in footer and "@" not in text and "4567" not in text and "***" in text
    # names and dates of a template are masked too (slots, as the fingerprint sees them)
    assert mask_pii("Posted on March 3, 2021 by Jane Smith", slots=True) == "Posted on *** by ***"


SAMPLE = Path(__file__).resolve().parents[2] / "sample_corpus"


@pytest.mark.skipif(not (SAMPLE / "manifest").exists(), reason="sample corpus not built")
def test_recall_on_the_injected_boilerplate_of_the_sample():
    """The manifest lists every injected line of site chrome. Of those with >= min_tokens tokens
    (not numbers only), all but the first occurrence of each distinct (normalised) line should be
    cut; a line counts as cut when the removed units cover >= 90% of it. Measured on the first
    shard of each of two dumps: recall 0.982 of 11,433 lines."""
    dumps = ("CC-MAIN-2023-06", "CC-MAIN-2023-14")
    shards = [sorted(SAMPLE.glob(f"dump={d}/*.parquet"))[0] for d in dumps]
    table = pa.concat_tables(pq.read_table(f, partitioning=None) for f in shards)
    cuts = {}
    run_stage(SimhashDedup(SimhashDedupConfig()), table.to_pylist(), shards=2, cuts=cuts)
    texts = dict(zip(table["id"].to_pylist(), table["text"].to_pylist()))
    spans = pq.read_table(SAMPLE / "manifest" / "boilerplate.parquet").to_pylist()
    eligible, distinct, cut = 0, set(), 0
    for s in spans:
        if s["id"] not in texts:
            continue
        line = texts[s["id"]][s["start"] : s["end"]]
        key = normalize_for_features(line)
        if len(tokens(key)) < 3 or not any(t.strip("0") for t in tokens(key)):
            continue
        eligible += 1
        distinct.add(key)
        covered = np.zeros(len(line), bool)
        for a, b in cuts.get(s["id"], []):
            covered[max(a - s["start"], 0) : max(b - s["start"], 0)] = True
        cut += covered.mean() >= 0.9
    recall = cut / (eligible - len(distinct))
    assert eligible > 5000
    print(f"recall {recall:.3f} on {eligible} lines")
    assert recall >= 0.95, recall


def as_fingerprinted(unit: str, mask: bool) -> str:
    """The unit masked of its slots, unless that leaves it under MASKED_WORDS words."""
    if not mask:
        return unit
    masked = mask_slots([unit])[0]
    toks = tokens(normalize_for_features(masked))
    words = sum(1 for t in toks if t.strip("0") and t not in SLOT_TOKENS)
    return masked if words >= simhash_dedup.MASKED_WORDS else unit


def fingerprint_reference(unit: str, ngram: int, weights: str = "binary", mask=False) -> int:
    """The documented definition, one unit at a time in plain Python."""
    toks = tokens(normalize_for_features(as_fingerprinted(unit, mask)))
    h = [xxhash.xxh3_64_intdigest(t.encode()) for t in toks]
    windows = [h[i : i + ngram] for i in range(max(len(h) - ngram + 1, 1))] if h else []
    grams = []
    for w in windows:
        acc = sum(x * pow(GRAM_BASE, k, 1 << 64) for k, x in enumerate(w)) % (1 << 64)
        grams.append(int(fmix64(np.array([acc], np.uint64))[0]))
    if weights == "binary":
        grams = list(dict.fromkeys(grams))
    v = [sum(1 if (g >> b) & 1 else -1 for g in grams) for b in range(64)]
    return sum(1 << b for b in range(64) if v[b] > 0)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.text(alphabet="aAbΣσİ1٣ 。！\x00\n数据去重-", max_size=30) | st.sampled_from(FOOTERS),
        max_size=12,
    ),
    st.integers(1, 4),
    st.sampled_from(["binary", "tf"]),
    st.booleans(),
)
def test_vectorised_fingerprints_match_the_definition(units, ngram, weights, mask):
    fps, counts = unit_fingerprints(units, ngram, 2, weights, mask)
    for unit, fp, n in zip(units, fps.tolist(), counts.tolist()):
        toks = tokens(normalize_for_features(as_fingerprinted(unit, mask)))
        word = any(t.strip("0") and t not in SLOT_TOKENS for t in toks)
        assert n == (len(toks) if word else 0)  # numbers and slots only: 0
        assert fp == (fingerprint_reference(unit, ngram, weights, mask) if n >= 2 else 0)


SLOTTED = st.lists(
    st.text(alphabet="aA Bz0 9.,:-@/()年月日数据\x00\n", max_size=25)
    | st.sampled_from(["Posted on March 3, 2021 by Jane Smith", "https://a.org/x", "+1 (415) 555"]),
    max_size=8,
)


@settings(max_examples=80, deadline=None)
@given(SLOTTED)
def test_slots_are_masked_one_unit_at_a_time(units):
    """Masking the joined units (the vectorised pass) is masking each unit on its own."""
    assert mask_slots(units) == [mask_slots([u])[0] for u in units]


def test_slots_become_placeholders():
    """Names, dates, counts, e-mails, URLs and phone numbers of a template are masked, so its
    occurrences fingerprint alike; a heading (mostly capitals) keeps its words."""
    a, b = mask_slots(
        [
            "Posted on March 3, 2021 by Jane Smith. Questions? Mail jane@example.org",
            "Posted on Nov 12, 1999 by Li Wei. Questions? Mail li.wei@example.com",
        ]
    )
    assert tokens(a.lower()) == tokens(b.lower())
    assert "_num_" in a and "_email_" in a and "_cap_" in a
    dates = mask_slots(["on 3 Mar. 2021", "on May 3", "on 2021-03-03 12:00", "in May"])
    assert [tokens(d) for d in dates] == [["on", "_num_"]] * 3 + [["in", "May"]]  # one slot
    (c,) = mask_slots(["Printed from https://example.com/a/b on 2024-03-01, call (414) 950-4525."])
    assert tokens(c) == ["Printed", "from", "_url_", "on", "_num_", "call", "_num_"]
    assert mask_slots(["You may copy it.", "The Linux Kernel Archives"]) == [
        "You may copy it.",  # "may" is a month only next to a number
        "The Linux Kernel Archives",  # mostly capitals: nothing to tell apart
    ]
    zh = mask_slots(["发布于2014年3月5日 12:30，作者：梁鑫"])[0]
    assert tokens(zh)[:5] == ["发", "布", "于", "_num_", "年"]


def test_units_of_numbers_only_are_too_short_to_be_boilerplate():
    """Section numbers and rows of figures normalise alike (digits -> 0): "5.1.1." and
    "7.2.3." would be one unit cut from every page. A unit needs a word among its tokens."""
    units = ["5.1.1.", "10 | 2023-01-17 | 202.28 | 206.86", "Page 1 of 10", "© 2022 GitHub, Inc."]
    fps, counts = unit_fingerprints(units, 3, 3)
    assert counts.tolist() == [0, 0, 4, 3] and fps[:2].tolist() == [0, 0]
    rows = [
        {
            "id": f"d{i}",
            "text": doc.rstrip() + f"\n{i % 9}.{i % 4}.1.\nPage {i % 9 + 1} of 10",
            "dump": "D",
        }
        for i, doc in enumerate(stdlib_docs()[:12])
    ]
    cuts = {}
    _, _, summary = run_stage(SimhashDedup(SimhashDedupConfig()), rows, cuts=cuts)
    texts = {r["id"]: r["text"] for r in rows}
    cut = [texts[i][a:b] for i, spans in cuts.items() for a, b in spans]
    assert not any(c.endswith(".1.") for c in cut)  # the section numbers stay
    assert sum(c.startswith("Page ") for c in cut) == 11  # "Page N of 10" is boilerplate


def test_masking_spares_code_and_units_made_of_slots():
    """Digits inside a word are not a slot (a code line stays itself), and a unit that is mostly
    slots (a bare URL, "rev <version>") is fingerprinted as written: masked, they would all be
    one unit, cut from every page."""
    units = ["__u32 size;", "#define KEY_POWER2 0x164", "http://a.example.org", "rev 2023.9.27"]
    units += ["https://b.example.com/x", "rev 2024.1.3", "Posted on May 3, 2021 by Ann Lee"]
    units += ["Posted on 2020-01-09 by Bob Stone"]
    masked, _ = unit_fingerprints(units, 3, 2, mask=True)
    plain, _ = unit_fingerprints(units, 3, 2, mask=False)
    assert masked[:6].tolist() == plain[:6].tolist()
    assert masked[2] != masked[4] and masked[3] != masked[5]
    assert masked[6] == masked[7] != 0 and plain[6] != plain[7]


def collected_of(docs, shards=1):
    """What collect() returns (plus the runner's _shard), from (id, dump, [fingerprint]) tuples."""

    def lists(values, type_):
        return pa.array(values, pa.list_(type_))

    return pa.table(
        {
            SHARD: pa.array([i * shards // len(docs) for i in range(len(docs))], pa.int32()),
            ROW: pa.array(range(len(docs)), pa.int64()),
            "id": [d[0] for d in docs],
            "dump": [d[1] for d in docs],
            "date": pa.nulls(len(docs), pa.string()),
            "domain": pa.nulls(len(docs), pa.string()),
            "start": lists([[10 * k for k in range(len(d[2]))] for d in docs], pa.int32()),
            "end": lists([[10 * k + 5 for k in range(len(d[2]))] for d in docs], pa.int32()),
            "simhash": lists([d[2] for d in docs], pa.uint64()),
            "preview": lists([["unit"] * len(d[2]) for d in docs], pa.string()),
        }
    )


def test_a_later_dump_joining_two_committed_clusters_counts_both(tmp_path):
    """A and B are 4 bits apart (not near), C is 2 bits from each: dump 3 joins the clusters of
    dumps 1 and 2, and dump 4 sees the joined cluster's documents, as processing all does."""
    a, b = 0, 0b1111
    c, again = 0b0011, 0
    docs = [("a1", "d1", [a]), ("b1", "d2", [b]), ("c1", "d3", [c]), ("a2", "d4", [again])]
    index = str(tmp_path / "index")
    for min_docs in (4, 5):
        together = SimhashDedup(SimhashDedupConfig(min_docs=min_docs))
        _, summary = together.decide(collected_of(docs))
        # one cluster of 4 documents: all but a1's unit go with min_docs 4, none with 5
        assert summary["units_removed"] == (3 if min_docs == 4 else 0)
    removed = []
    for d in docs:
        stage = SimhashDedup(SimhashDedupConfig(min_docs=4, index=index))
        removed.append(stage.decide(collected_of([d]))[1]["units_removed"])
    assert removed == [0, 0, 0, 1]  # dumps 1..3 hold 3 documents of it: a2's is the 4th
    merges = read_merges(tmp_path / "index" / "dumps" / "000003")
    assert merges.num_rows == 1  # dump 2's cluster went into dump 1's


def read_merges(folder):
    """A committed dump's merges (its cluster tasks' pieces), sorted by cluster."""
    pieces = [pq.read_table(p) for p in sorted(Path(folder).glob("merges*.parquet"))]
    empty = pa.table({"cluster": pa.array([], pa.int64()), "into": pa.array([], pa.int64())})
    return pa.concat_tables([empty, *pieces]).sort_by("cluster")


def brute_force_cuts(docs, hamming, min_docs, keep_first):
    """All pairs of distinct fingerprints, union-find, documents per cluster, first document by
    (dump, id): the (id, unit number) pairs to cut, the pairs, the boilerplate clusters."""
    fps = sorted({f for _, _, units in docs for f in units})
    parent = {f: f for f in fps}

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    pairs = [(a, b) for a in fps for b in fps if a < b and bin(a ^ b).count("1") <= hamming]
    for a, b in pairs:
        parent[find(a)] = find(b)
    docs_of, first = {}, {}
    for doc_id, _, units in sorted(docs, key=lambda d: (d[1], d[0])):  # survival order
        for f in units:
            docs_of.setdefault(find(f), set()).add(doc_id)
            first.setdefault(find(f), doc_id)
    cut = {
        (doc_id, k)
        for doc_id, _, units in docs
        for k, f in enumerate(units)
        if len(docs_of[find(f)]) >= min_docs and not (keep_first and first[find(f)] == doc_id)
    }
    return cut, len(pairs), sum(len(d) >= min_docs for d in docs_of.values())


@pytest.mark.parametrize(
    ("min_docs", "keep_first", "partitions"),
    [(2, True, 1), (3, True, 1), (2, False, 1), (2, True, 8), (3, True, 64)],
)
def test_partitioned_decide_equals_brute_force_all_pairs(
    min_docs, keep_first, partitions, monkeypatch
):
    """Fingerprints with neighbours at 0..6 bits on 80 documents in 3 shards and 2 dumps: the
    rounds of reduce tasks (given back in any order; the search split into ``partitions`` per
    table) cut exactly what all pairs cut."""
    monkeypatch.setattr(simhash_dedup, "CANDIDATES", 3)  # candidates checked a few at a time
    monkeypatch.setattr(simhash_dedup, "UNITS_PER_TASK", 30)  # ~8 cluster tasks
    rng = np.random.default_rng(11)
    base = rng.integers(0, 2**64, size=40, dtype=np.uint64).tolist()
    pool = base + [
        b ^ sum(1 << int(f) for f in rng.choice(64, rng.integers(0, 7), replace=False))
        for b in base[:30]
        for _ in range(2)
    ]
    docs = [
        (f"doc{i:02d}", f"D{i % 2}", [int(f) for f in rng.choice(pool, rng.integers(0, 7))])
        for i in range(80)
    ]
    stage = SimhashDedup(SimhashDedupConfig(min_docs=min_docs, keep_first=keep_first))
    reversed_run = lambda fn, tasks, **_: [fn(t) for t in tasks][::-1]  # noqa: E731
    collected = CollectedTable(collected_of(docs, shards=3))
    collected.partitions = partitions
    decision, summary = stage.barrier(collected, reversed_run)
    got = set()
    for shard in range(3):
        spans = stage.decision_for_shard(decision, shard)
        for row, start in zip(*(spans.column(c).to_pylist() for c in (ROW, "start"))):
            got.add((docs[row][0], start // 10))
    cut, pairs, clusters = brute_force_cuts(docs, 3, min_docs, keep_first)
    assert got == cut and len(cut) > 20
    assert summary["near_duplicate_pairs"] == pairs > 10
    assert summary["boilerplate_clusters"] == clusters
    assert summary["units_removed"] == len(cut)
    assert summary["units"] == sum(len(d[2]) for d in docs)
    assert summary["distinct_fingerprints"] == len({f for d in docs for f in d[2]})


@pytest.mark.parametrize("keep", ["earliest", "latest"])
def test_first_document_from_shard_firsts_and_decision_files_from_tasks(
    keep, tmp_path, monkeypatch
):
    """Each cluster's first document is picked from each shard's first and its survival columns
    (dump, date with nulls, id; no rank over the run), and the decision files are written by
    the barrier's tasks, several groups of shards: the files on disk hold exactly the units all
    pairs cut, and the counts by dump are theirs."""
    monkeypatch.setattr(simhash_dedup, "UNITS_PER_TASK", 30)
    monkeypatch.setattr(simhash_dedup, "SHARDS_PER_GROUP", 2)  # 3 groups of shards
    rng = np.random.default_rng(5)
    base = rng.integers(0, 2**64, size=30, dtype=np.uint64).tolist()
    pool = base + [b ^ (1 << int(rng.integers(64))) for b in base[:20]]
    dates = [None, "2023-01-02", "2023-03-04", "2023-05-06"]
    docs = [
        (f"doc{i:02d}", f"D{i % 3}", [int(f) for f in rng.choice(pool, rng.integers(0, 6))])
        for i in range(90)
    ]
    date = [dates[int(rng.integers(4))] for _ in docs]
    table = collected_of(docs, shards=6).set_column(4, "date", pa.array(date, pa.string()))
    paths = []
    for s in range(6):
        part = table.filter(pa.compute.equal(table.column(SHARD), s))
        paths.append(tmp_path / f"part-{s:05d}.parquet")
        pq.write_table(part, paths[-1])
    decisions = tmp_path / "decisions"
    collected = CollectedFiles(paths, tmp_path / "scratch", decisions)
    stage = SimhashDedup(SimhashDedupConfig(keep=keep))
    decision, summary = stage.barrier(collected, run_here)
    got = set()
    for path in sorted(decisions.glob("part-*.parquet")):
        spans = pq.read_table(path)
        assert spans.column(ROW).to_pylist() == sorted(spans.column(ROW).to_pylist())
        for row, start in zip(*(spans.column(c).to_pylist() for c in (ROW, "start"))):
            got.add((docs[row][0], start // 10))
    assert stage.decision_for_shard(decision, 0) is None  # on disk, not in memory

    def order(i):  # curate.index.survivor's order, by hand
        d, dump = date[i], docs[i][1]
        if keep == "earliest":
            return (dump, d is None, d or "", docs[i][0])
        return (d is None, [-ord(c) for c in d or ""], [-ord(c) for c in dump], docs[i][0])

    ranked = [docs[i] for i in sorted(range(len(docs)), key=order)]
    # brute_force_cuts orders by (dump, id): give it the dumps as ranks in this order
    renamed = [(d[0], f"{r:03d}", d[2]) for r, d in enumerate(ranked)]
    cut, _, _ = brute_force_cuts(renamed, 3, 2, True)
    assert got == cut and len(cut) > 10
    by_dump = {}
    for doc_id, _ in cut:
        dump = next(d[1] for d in docs if d[0] == doc_id)
        by_dump[dump] = by_dump.get(dump, 0) + 1
    assert {k: v["units_removed"] for k, v in summary["by_dump"].items()} == by_dump
    assert summary["docs_cut"] == len({doc_id for doc_id, _ in cut})


@pytest.mark.parametrize(("hamming", "partitions"), [(3, 4), (3, 64), (2, 16), (1, 8)])
def test_search_partitions_find_the_brute_force_pairs_across_boundaries(hamming, partitions):
    """Neighbours made by flipping the leading bits of blocks (the bits that pick a table's
    search partition), so most pairs sit in different partitions of some tables: each table
    searched partition by partition still finds every pair within ``hamming`` bits, and only
    those."""
    rng = np.random.default_rng(7)
    layout = block_layout(hamming)
    bits = simhash_dedup.search_bits(partitions, hamming)
    assert bits > 0
    lead = [shift + width - 1 - b for shift, width in layout for b in range(bits)]
    base = rng.integers(0, 2**64, size=60, dtype=np.uint64)
    near = []
    for f in base:
        for _ in range(3):
            flips = rng.choice(lead, rng.integers(1, hamming + 2), replace=False)
            near.append(int(f) ^ sum(1 << int(b) for b in flips))
    fps = simhash_dedup.arrays.distinct(np.array([*base.tolist(), *near], np.uint64))
    found, crossing = set(), 0
    for t in range(hamming + 1):
        part = simhash_dedup.search_partition(fps, hamming, t, bits)
        for q in np.unique(part):
            sub = np.flatnonzero(part == q)
            i, j = simhash_dedup.table_pairs(fps[sub], hamming, t)
            found |= {(int(fps[sub[a]]), int(fps[sub[b]])) for a, b in zip(i, j)}
    truth = set()
    for a in range(len(fps)):
        close = np.flatnonzero(np.bitwise_count(fps[a] ^ fps[a + 1 :]) <= hamming)
        truth |= {(int(fps[a]), int(fps[a + 1 + b])) for b in close}
        for b in close:
            parts = [
                simhash_dedup.search_partition(fps[[a, a + 1 + b]], hamming, t, bits)
                for t in range(hamming + 1)
            ]
            crossing += any(p[0] != p[1] for p in parts)
    assert found == truth and len(truth) > 50
    assert crossing > len(truth) // 2  # most pairs straddle a partition boundary somewhere


def index_contents(root):
    """Each committed dump's index entry as values: its docs in ordinal order, its fingerprints
    (key, doc, cluster) sorted, its clusters sorted, its merges and meta numbers."""
    out = []
    for d in sorted((Path(root) / "dumps").iterdir()):
        meta = json.loads((d / "meta.json").read_text())
        docs = pa.concat_tables(pq.read_table(d / f) for _, _, f in meta["pieces"])
        keys = pa.concat_tables(pq.read_table(d / p[4]) for p in meta["parts"])
        clusters = pa.concat_tables(pq.read_table(p) for p in sorted(d.glob("clusters*.parquet")))
        out.append(
            (
                {k: meta[k] for k in ("dump", "seq", "docs", "fingerprint", "units")},
                docs.to_pydict(),
                keys.sort_by([("key", "ascending")]).to_pydict(),
                clusters.sort_by([("cluster", "ascending")]).to_pydict(),
                read_merges(d).to_pydict(),
            )
        )
    return out


def test_index_runs_with_several_partitions_equal_one_partition(tmp_path):
    """Dump by dump through the index with 4 partitions (4 ordinal ranges, 4 search partitions
    per table) and 3 shards: the same cuts, summaries and index contents as with 1."""
    rows = dump_rows()
    dumps = sorted({r["dump"] for r in rows})
    results = {}
    for partitions, shards in ((1, 1), (4, 3)):
        index = str(tmp_path / f"index-{partitions}")
        got = []
        for dump in dumps:
            stage = SimhashDedup(SimhashDedupConfig(index=index, min_docs=3))
            cuts = {}
            kept, removed, summary = run_stage(
                stage, [r for r in rows if r["dump"] == dump], shards, cuts, partitions
            )
            summary["index"].pop("path")
            summary["index"].pop("bytes_read")
            got.append((kept, removed, cuts, summary))
        results[partitions] = got, index_contents(index)
    assert results[4] == results[1]
    assert sum(s["units_removed"] for *_, s in results[1][0]) > 0
    assert results[1][0][-1][3]["near_committed_fingerprints"] > 0
    metas = [json.loads(p.read_text()) for p in (tmp_path / "index-4").glob("dumps/*/meta.json")]
    assert all(len(m["pieces"]) > 1 for m in metas)  # docs written by several range tasks


SMALL = 64  # what the driver may get back from a task, or hand to one, per array or table


def _assert_small(value, where, seen=None):
    """No array or table of more than SMALL values in ``value`` (results, task arguments)."""
    import dataclasses
    import functools

    seen = seen if seen is not None else set()
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        assert value.size <= SMALL, (where, value.shape)
    elif isinstance(value, (pa.Table, pa.Array, pa.ChunkedArray)):
        assert len(value) <= SMALL, (where, len(value))
    elif isinstance(value, dict):
        for v in value.values():
            _assert_small(v, where, seen)
    elif isinstance(value, (list, tuple)):
        for v in value:
            _assert_small(v, where, seen)
    elif isinstance(value, functools.partial):
        _assert_small(value.args, where, seen)
        _assert_small(value.keywords, where, seen)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            _assert_small(getattr(value, f.name), where, seen)


def checked_run(fn, tasks, **_):
    """The executor's map (tasks given back in reverse), failing when the driver hands a task
    or gets back from one an array or table of more than SMALL values: the driver's clusters
    can then only come from the tasks' files."""
    _assert_small(fn, f"arguments of {fn}")
    results = [fn(t) for t in tasks][::-1]
    func = getattr(fn, "func", fn)
    if func.__module__ == "curate.index.ordinals" and func.__name__ == "_sample":
        # the ordinals' splitter sample: 32 rows per ordinal range, not per document
        assert all(r is None or len(r) <= 32 * 16 for r in results)
        return results
    for r in results:
        _assert_small(r, f"result of {func}")
    return results


def chain_docs(n=300, seed=3):
    """Documents each holding one link of a chain of fingerprints (each 2 bits from the one
    before, so the ends are far apart: one cluster only through the whole path) and a few
    unrelated fingerprints."""
    rng = np.random.default_rng(seed)
    walk = [int(rng.integers(0, 2**63, dtype=np.uint64))]
    while len(walk) < n:
        bits = rng.choice(64, 2, replace=False)
        step = walk[-1] ^ (1 << int(bits[0])) ^ (1 << int(bits[1]))
        if step not in walk:
            walk.append(step)
    noise = rng.integers(0, 2**64, size=n, dtype=np.uint64).tolist()
    order = rng.permutation(n)  # the chain's links in no order over documents and shards
    return [(f"doc{i:03d}", f"D{i * 2 // n}", [walk[order[i]], int(noise[i])]) for i in range(n)]


def barrier_on_files(tmp_path, docs, shards, partitions, index=None, min_docs=2):
    """The barrier over collected files (handles are file names) with ``checked_run``; returns
    the cut (id, unit number) pairs read from the decision files, and the summary."""
    table = collected_of(docs, shards=shards)
    folder = tmp_path / f"collect-{len(list(tmp_path.iterdir()))}"
    paths = []
    for s in range(shards):
        part = table.filter(pa.compute.equal(table.column(SHARD), s))
        paths.append(folder / f"part-{s:05d}.parquet")
        paths[-1].parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(part, paths[-1])
    collected = CollectedFiles(paths, folder / "scratch", folder / "decisions", partitions)
    (folder / "decisions").mkdir()
    stage = SimhashDedup(SimhashDedupConfig(min_docs=min_docs, index=index))
    _, summary = stage.barrier(collected, checked_run)
    got = set()
    for path in sorted((folder / "decisions").glob("part-*.parquet")):
        spans = pq.read_table(path)
        for row, start in zip(*(spans.column(c).to_pylist() for c in (ROW, "start"))):
            got.add((docs[row][0], start // 10))
    return got, summary


@pytest.mark.parametrize("partitions", [1, 16])
def test_a_long_chain_across_partitions_is_one_cluster_from_the_tasks_files(tmp_path, partitions):
    """A chain of 300 near neighbours (its ends far apart) over 5 shards and 16 partitions:
    the components' rounds join it into one cluster, and the cuts equal all pairs' (brute
    force), while the driver never hands a task or gets back an array or table of more than
    SMALL values (the union-find in the driver got back every pair)."""
    docs = chain_docs()
    got, summary = barrier_on_files(tmp_path, docs, 5, partitions)
    cut, pairs, clusters = brute_force_cuts(docs, 3, 2, True)
    assert clusters == 1 and len(cut) == len(docs) - 1  # the chain: all but its first
    assert got == cut
    assert summary["near_duplicate_pairs"] == pairs >= len(docs) - 1
    with pytest.raises(AssertionError):  # the check bites: a task's result holding the pairs
        checked_run(lambda t: np.arange(SMALL + 1), [0])


def test_a_long_chain_dump_by_dump_through_the_index_equals_all_dumps_together(tmp_path):
    """The chain's documents in two dumps, committed one after the other with 16 partitions:
    alone, the first dump's half of the chain is many clusters; the second dump's half joins
    them all through the index (rounds of tasks: links, merges, canonical ids, anchors), and
    its cuts are what all pairs cut from it with both dumps together (the first dump's, what
    all pairs cut from it alone); the driver holds no array or table of more than SMALL
    values, and the run's merges of the committed clusters are the cluster tasks' files."""
    docs = chain_docs()
    index = tmp_path / "index"
    first = [d for d in docs if d[1] == "D0"]
    second = [d for d in docs if d[1] == "D1"]
    cuts, _ = barrier_on_files(tmp_path, first, 4, 16, str(index))
    alone, _, clusters = brute_force_cuts(first, 3, 2, True)
    assert cuts == alone and clusters > 10
    cuts, summary = barrier_on_files(tmp_path, second, 4, 16, str(index))
    together, _, _ = brute_force_cuts(docs, 3, 2, True)
    assert summary["near_duplicate_pairs"] == brute_force_cuts(second, 3, 2, True)[1] > 10
    assert cuts == {c for c in together if c[0] in {d[0] for d in second}}
    assert len(cuts) == len(second)  # the whole half: its cluster's first is in D0
    assert summary["near_committed_fingerprints"] > 0
    merges = read_merges(index / "dumps" / "000002")
    assert merges.num_rows > SMALL  # more than the driver may hold: written by the tasks
    assert len(set(merges.column("into").to_pylist())) == 1  # all into the oldest
