"""Translated Debian man pages, the real non-English text some tests read.

`scripts/install_test_text.sh` (run by `make test`) installs the packages. Other packages (man-db,
shadow, ...) put a few pages in the same folders, so a folder that exists proves nothing: a test
asks for the number of pages it needs and fails with what to install when there are fewer.
"""

from __future__ import annotations

import gzip
from pathlib import Path

MAN = Path("/usr/share/man")
PACKAGE = {"zh_CN": "manpages-zh", "fr": "manpages-fr", "de": "manpages-de", "ru": "manpages-ru"}


def page_paths(lang: str, needed: int, section: str = "man1") -> list[Path]:
    """The sorted page files of one translation; at least `needed` of them, or a clear failure."""
    folder = MAN / lang / section if section else MAN / lang
    paths = sorted(folder.rglob("*.gz")) if folder.is_dir() else []
    assert len(paths) >= needed, (
        f"this test needs {needed} {lang} man pages under {folder}, found {len(paths)}: "
        f"install Debian's {PACKAGE[lang]} (`bash scripts/install_test_text.sh` as root, "
        f"or `apt-get install {PACKAGE[lang]}`)"
    )
    return paths


def read_pages(
    lang: str, needed: int, limit: int | None = None, section: str = "man1"
) -> list[str]:
    """The raw roff text of the first `limit` (default `needed`) pages of one translation."""
    out = []
    for path in page_paths(lang, needed, section)[: limit or needed]:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as f:
            out.append(f.read())
    return out
