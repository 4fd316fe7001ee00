"""Real texts of three domains, available offline, for the language/domain/remix tests.

* web: docstrings of standard-library modules (English prose, as in tests/conftest.py);
* code: Python source files of installed packages, cut into 3,000-character pieces;
* math: numpy/scipy docstrings that carry formulas (their reST ``.. math::`` markers removed,
  so the classifier has to learn the LaTeX, not the markup).
"""

from __future__ import annotations

import glob
import importlib
import importlib.util
import os
import random
import re
import sysconfig
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from tests.conftest import stdlib_docs

MATH_MODULES = [
    "scipy.special",
    "scipy.stats",
    "scipy.linalg",
    "scipy.integrate",
    "scipy.signal",
    "scipy.optimize",
    "scipy.interpolate",
    "scipy.spatial.distance",
    "numpy",
    "numpy.linalg",
    "numpy.fft",
    "numpy.random",
    "numpy.polynomial.polynomial",
]


def code_texts() -> list[str]:
    site = sysconfig.get_paths()["purelib"]
    files = sorted(glob.glob(os.path.join(site, "pyarrow", "**", "*.py"), recursive=True))
    files += sorted(glob.glob(os.path.join(site, "yaml", "*.py")))
    out = []
    for path in files:
        src = Path(path).read_text(encoding="utf-8", errors="replace")
        for i in range(0, min(len(src), 12_000), 3_000):
            if len(src[i : i + 3_000]) > 500:
                out.append(src[i : i + 3_000])
    return out


def math_texts() -> list[str]:
    seen: set[str] = set()
    out = []
    for name in MATH_MODULES:
        if importlib.util.find_spec(name.split(".")[0]) is None:
            continue  # scipy comes with datasketch; numpy alone gives fewer texts
        module = importlib.import_module(name)
        for attr in sorted(dir(module)):
            doc = getattr(getattr(module, attr, None), "__doc__", None)
            if isinstance(doc, str) and ".. math::" in doc and doc not in seen:
                seen.add(doc)
                out.append(re.sub(r"\.\. math::|:math:", "", doc))
    return out


def domain_texts(seed: int = 0) -> dict[str, list[str]]:
    """{domain: distinct texts}, shuffled with ``seed``."""
    rng = random.Random(seed)
    out = {"web": stdlib_docs(300), "code": code_texts(), "math": math_texts()}
    for texts in out.values():
        rng.shuffle(texts)
    return out


def write_domain_corpus(
    root: Path, counts: dict[str, int], seed: int = 0, dumps: int = 2, null_share: float = 0.0
) -> dict[str, list[str]]:
    """Hive dumps with ``counts[d]`` documents of domain d, rows shuffled; a ``null_share`` of
    rows lose their domain label. Returns the texts used per domain."""
    rng = random.Random(seed)
    texts = domain_texts(seed)
    used = {d: texts[d][:n] for d, n in counts.items()}
    for d, n in counts.items():
        assert len(used[d]) == n, f"only {len(used[d])} {d} texts available"
    rows = [(t, d) for d, ts in used.items() for t in ts]
    rng.shuffle(rows)
    per_dump = -(-len(rows) // dumps)
    for k in range(dumps):
        part = rows[k * per_dump : (k + 1) * per_dump]
        folder = root / f"dump=CC-MAIN-2023-{k:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        half = len(part) // 2
        for j, chunk in enumerate([part[:half], part[half:]]):
            pq.write_table(
                pa.table(
                    {
                        "text": [t for t, _ in chunk],
                        "url": [f"https://example.org/{k}/{j}/{i}" for i in range(len(chunk))],
                        "domain": [None if rng.random() < null_share else d for _, d in chunk],
                    }
                ),
                folder / f"part-{j}.parquet",
                row_group_size=32,
            )
    return used
