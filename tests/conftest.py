"""Shared fixtures: small real-text corpora built from the standard library's own documentation."""

from __future__ import annotations

import importlib
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

MODULES = [
    "argparse",
    "asyncio",
    "collections",
    "csv",
    "decimal",
    "email",
    "fractions",
    "functools",
    "http.client",
    "itertools",
    "json",
    "logging",
    "os",
    "pathlib",
    "random",
    "sqlite3",
    "statistics",
    "subprocess",
    "threading",
    "unittest",
    "tarfile",
    "zipfile",
    "shutil",
    "socket",
]


def stdlib_docs(min_chars: int = 200) -> list[str]:
    """Real English prose: distinct docstrings of standard-library modules and their members."""
    seen: set[str] = set()
    out = []
    for name in MODULES:
        module = importlib.import_module(name)
        for obj in [module, *(getattr(module, a, None) for a in sorted(dir(module)))]:
            doc = getattr(obj, "__doc__", None)
            if isinstance(doc, str) and len(doc) >= min_chars and doc not in seen:
                seen.add(doc)
                out.append(doc)
    return out


def write_corpus(root: Path, seed: int = 0, per_dump: int = 60, dumps: int = 2) -> dict:
    """Hive-partitioned dumps with known exact duplicates (a later dump re-crawls some pages)
    and a few bad rows. Returns the ground truth."""
    rng = random.Random(seed)
    docs = stdlib_docs()
    rng.shuffle(docs)
    truth = {"duplicates": 0, "bad_rows": 0, "rows": 0}
    used = 0
    previous: list[str] = []
    for d in range(dumps):
        fresh = docs[used : used + per_dump]
        used += per_dump
        texts = list(fresh)
        urls = [f"https://docs.python.org/3/{d}/{i}.html" for i in range(len(texts))]
        if previous:  # recrawl: identical text, or only case/whitespace changed
            for i, t in enumerate(rng.sample(previous, 10)):
                texts.append(t if i % 2 else "  " + t.upper().replace(" ", "   "))
                urls.append(f"https://mirror.example.org/{d}/{i}")
            truth["duplicates"] += 10
        texts += [None, "   "]
        urls += ["https://example.com/null", "https://example.com/empty"]
        truth["bad_rows"] += 2
        folder = root / f"dump=CC-MAIN-2023-{d:02d}"
        folder.mkdir(parents=True)
        half = len(texts) // 2
        for part, (a, b) in enumerate([(0, half), (half, len(texts))]):
            table = pa.table(
                {
                    "text": pa.array(texts[a:b], pa.string()),
                    "url": urls[a:b],
                    "date": [f"2023-{d + 1:02d}-15"] * (b - a),
                    "domain": ["web" if i % 3 else None for i in range(a, b)],
                    "language": ["en"] * (b - a),
                }
            )
            pq.write_table(table, folder / f"part-{part}.parquet", row_group_size=16)
        truth["rows"] += len(texts)
        previous += fresh
    return truth


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, dict]:
    root = tmp_path / "corpus"
    truth = write_corpus(root)
    return root, truth


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent
