"""A long-document and code corpus for MinHash near-dedup, from text the sample corpus does not use.

``build(folder, scale)`` writes ``dev.parquet`` and ``heldout.parquet`` (columns ``id``, ``text``,
``source``, ``family``; row groups of 500 documents, so one file still makes several tasks) and
returns a manifest. Documents are whole files cut at line breaks into pieces of at most 30,000
characters, the first six pieces of a file. Sources, all on this machine:

* ``python``: the standard library and site-packages (pip, setuptools) of every pyenv CPython but
  3.11 (the sample corpus reads Debian's 3.11 standard library): 2.7, 3.6-3.10, 3.12, 3.13.
  The same module in several versions is the corpus's main source of near-duplicates (a file
  that changed little between two releases), at every similarity from 0.3 to 1.0;
* ``man``: man pages (roff stripped) of packages the sample corpus does not read, every language
  directory, google-cloud-cli's generated pages included (``gcloud alpha X`` / ``beta X`` / ``X``
  are near-duplicate versions of one page);
* ``doc``: text files under /usr/share/doc (READMEs, NEWS, changelogs, copyright files: licence
  texts are real near-duplicates of each other) of those packages.

A *family* is what versions of one text share: a Python file's path inside its library, a man
page's name without its release track (alpha/beta) or language, a doc file's package and name.
Families are sampled (``scale``) and assigned wholly to ``dev`` or ``heldout`` by hashes of their
name, so near-duplicates of one family never straddle the two splits; dev is for tuning, heldout
is only measured. Deterministic: sorted inputs, hashes of names, no randomness or clock (the same
installed files give the same bytes).
"""

from __future__ import annotations

import gzip
import hashlib
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from heldout_text import man_blocks, owned_files, sample_corpus_packages  # noqa: E402

MAX_CHARS = 30_000
MIN_CHARS = 200
MAX_PIECES = 6  # of one file: a 2 MB changelog shipped by 50 boost packages does not dominate
ROW_GROUP = 500
PYENV = Path("/root/.pyenv/versions")
# share of families kept at scale 1 (about 100 MB of text per split)
RATE = {"python": 0.4, "man": 0.6, "doc": 1.0}
SAMPLE_VERSION = "3.11"  # the sample corpus reads this standard library (Debian's copy)


def _unit(name: str, salt: str) -> float:
    return int(hashlib.sha1(f"{salt}:{name}".encode()).hexdigest()[:12], 16) / 16**12


def python_files() -> Iterator[tuple[str, str, Path]]:
    """(family, doc name, path) of the .py files of every pyenv CPython but 3.11."""
    for lib in sorted(PYENV.glob("*/lib/python*")):
        if lib.name == f"python{SAMPLE_VERSION}" or not lib.is_dir():
            continue
        version = lib.parent.parent.name
        for path in sorted(lib.rglob("*.py")):
            rel = path.relative_to(lib).as_posix()
            if path.is_symlink() or "__pycache__" in rel:
                continue
            # dist-info / egg folders carry the version: the family is the module path
            yield rel, f"cpython-{version}/{rel}", path


_TRACK = re.compile(r"^gcloud_(alpha|beta|preview)_")


def man_files(exclude: set[str]) -> Iterator[tuple[str, str, Path]]:
    root = Path("/usr/share/man")
    for path in sorted(root.rglob("*.gz")):
        if str(path) in exclude or path.is_symlink():
            continue
        rel = path.relative_to(root).as_posix()
        if rel.startswith("zh_CN/"):
            continue  # manpages-zh: the sample corpus's Chinese pages
        page = _TRACK.sub("gcloud_", path.name.removesuffix(".gz"))
        yield page, f"man/{rel}", path


_DOC_SUFFIXES = {"", ".txt", ".md", ".rst", ".gz", ".Debian"}


def doc_files(exclude: set[str]) -> Iterator[tuple[str, str, Path]]:
    root = Path("/usr/share/doc")
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path.is_symlink() or str(path) in exclude:
            continue
        rel = path.relative_to(root).as_posix()
        if path.suffix not in _DOC_SUFFIXES or "/examples/" in rel or "/html/" in rel:
            continue
        yield rel.removesuffix(".gz"), f"doc/{rel}", path


def read_text(kind: str, path: Path) -> str | None:
    try:
        if kind == "man":
            return "\n".join(b.strip() for b in man_blocks(path) if b.strip())
        raw = path.read_bytes()
        if path.suffix == ".gz":
            raw = gzip.decompress(raw)
    except (OSError, EOFError, ValueError):
        return None
    if b"\0" in raw[:8000]:
        return None  # binary
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def pieces(text: str) -> list[str]:
    """Cut at line breaks into pieces of at most MAX_CHARS characters (a longer line is cut)."""
    out, cur, size = [], [], 0
    for line in text.splitlines(keepends=True):
        while len(line) > MAX_CHARS:
            out.append(line[:MAX_CHARS])
            line = line[MAX_CHARS:]
        if size + len(line) > MAX_CHARS:
            out.append("".join(cur))
            cur, size = [], 0
        cur.append(line)
        size += len(line)
    if cur:
        out.append("".join(cur))
    return [p for p in out if len(p.strip()) >= MIN_CHARS][:MAX_PIECES]


def documents(scale: float) -> dict[str, list[dict]]:
    exclude = owned_files(sample_corpus_packages() - {"google-cloud-cli"})
    sources = {
        "python": python_files(),
        "man": man_files(exclude),
        "doc": doc_files(exclude),
    }
    splits: dict[str, list[dict]] = {"dev": [], "heldout": []}
    for kind, files in sources.items():
        for family, name, path in files:
            key = f"{kind}:{family}"
            if _unit(key, "sample") >= RATE[kind] * scale:
                continue
            text = read_text(kind, path)
            if not text:
                continue
            split = "dev" if _unit(key, "split") < 0.5 else "heldout"
            for i, piece in enumerate(pieces(text)):
                splits[split].append(
                    {"id": f"{name}#{i}", "text": piece, "source": kind, "family": key}
                )
    return splits


def build(folder: Path, scale: float = 1.0) -> dict[str, dict]:
    """Write dev.parquet and heldout.parquet under ``folder``; their sizes by source."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {}
    for split, rows in documents(scale).items():
        if not rows:
            raise RuntimeError(f"no {split} documents: are pyenv's CPythons under {PYENV}?")
        table = pa.Table.from_pylist(rows)
        pq.write_table(table, folder / f"{split}.parquet", row_group_size=ROW_GROUP)
        chars: dict[str, int] = {}
        docs: dict[str, int] = {}
        for r in rows:
            chars[r["source"]] = chars.get(r["source"], 0) + len(r["text"])
            docs[r["source"]] = docs.get(r["source"], 0) + 1
        manifest[split] = {
            "documents": len(rows),
            "characters": sum(chars.values()),
            "bytes": sum(len(r["text"].encode()) for r in rows),
            "families": len({r["family"] for r in rows}),
            "by_source": {k: {"documents": docs[k], "characters": chars[k]} for k in sorted(docs)},
        }
    return manifest


if __name__ == "__main__":
    import json

    print(json.dumps(build(Path(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 1.0)))
