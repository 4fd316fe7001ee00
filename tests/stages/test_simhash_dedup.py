from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.config import parse_pipeline
from curate.executors.local import LocalExecutor
from curate.pipeline import run_pipeline
from curate.report import check_balance
from curate.stages.simhash_dedup import (
    block_layout,
    connected_components,
    cut_spans,
    near_duplicate_pairs,
    simhash,
)
from tests.conftest import stdlib_docs


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


def test_table_search_finds_exactly_the_brute_force_pairs():
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


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 60), st.lists(st.tuples(st.integers(0, 59), st.integers(0, 59)), max_size=80))
def test_connected_components_match_union_find(n, edges):
    edges = [(a % n, b % n) for a, b in edges]
    parent = list(range(n))

    def find(x):
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in edges:
        parent[find(a)] = find(b)
    i = np.array([a for a, _ in edges], dtype=np.int64)
    j = np.array([b for _, b in edges], dtype=np.int64)
    labels = connected_components(n, i, j)
    for a in range(n):
        for b in range(n):
            assert (labels[a] == labels[b]) == (find(a) == find(b))


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
    assert "***" in "".join(u["text"] for u in stage["decision"]["top_removed"])  # years masked
