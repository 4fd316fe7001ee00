#!/usr/bin/env python3
"""Build curate's bundled sample corpus: a small, realistic, bilingual slice of four web crawls.

The sample is what ``make demo`` and the tests run on, so it has to look like Common Crawl and carry
a ground truth for every phenomenon the pipeline exists for.  Everything here is deterministic:
fixed seeds, sorted inputs, no clock, no dict/set order: two runs give byte-identical files.

Where the text comes from (all real text that nobody on the team wrote):

* English and Chinese man pages (Debian ``manpages``, ``manpages-dev``, ``manpages-zh`` and the man
  pages of a fixed list of base packages), rendered with groff as manpages.debian.org would;
* HTML manuals (Python 3.11 docs, Linux kernel docs, Debian Reference, Debian FAQ, New Maintainers'
  Guide, Debian Administrator's Handbook, Debian installation guide, Debian Edu manual), extracted
  as a crawler would;
* GNU Texinfo manuals (coreutils, findutils, grep, sed, gzip, diffutils, wget, bash, ...);
* code: the Python standard library, Linux UAPI headers, bash examples, sympy's test-suite;
* math: docstrings of sympy and mpmath (PyPI) and the math pages of the Python docs.

Long pages are cut into page-sized documents at section boundaries.  The first piece keeps the
page's own URL; later pieces appear as blog / Q&A re-posts of that section, which is how manual
text shows up on the web.

Then the crawl is simulated over four dumps (CC-MAIN-2023-06/-14/-23/-40) with, at rates that grow
from dump to dump: recrawls (identical or edited, under URL variants), exact mirrors, near
duplicates (header/footer, date stamp, edited sentences, reordered paragraphs), site boilerplate
repeated across pages, low-quality pages and injected PII.  Ground truth goes to
``sample_corpus/manifest/`` and a summary to ``sample_corpus/MANIFEST.json``.

Run as ``python scripts/build_sample_corpus.py`` (root installs missing Debian packages).
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import gzip
import hashlib
import inspect
import json
import math
import os
import random
import re
import subprocess
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from html.parser import HTMLParser
from importlib import metadata, util
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from faker import Faker

SEED = 20230601
REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "sample_corpus"

# ----------------------------------------------------------------------------------------------
# The crawl we simulate
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class DumpPlan:
    """Size and phenomenon rates of one simulated Common Crawl dump."""

    name: str
    first_day: date  # crawl window of the real dump
    last_day: date
    documents: int
    shards: int
    recrawl_identical: float  # share of the dump's documents
    recrawl_edited: float
    mirror: float
    near_duplicate: float
    lowq: float
    pii: float  # share of *new* pages (originals) that get PII injected
    cross_dump_copy: float  # share of mirrors / near-duplicates whose source is an earlier dump


# Later dumps re-crawl more of what earlier dumps saw, as in DeepSeek LLM (Table 1): most
# duplication is between dumps.
DUMPS: tuple[DumpPlan, ...] = (
    DumpPlan(
        "CC-MAIN-2023-06", date(2023, 1, 26), date(2023, 2, 9), documents=5600, shards=3,
        recrawl_identical=0.0, recrawl_edited=0.0, mirror=0.06, near_duplicate=0.08,
        lowq=0.030, pii=0.070, cross_dump_copy=0.0,
    ),
    DumpPlan(
        "CC-MAIN-2023-14", date(2023, 3, 20), date(2023, 4, 2), documents=5900, shards=3,
        recrawl_identical=0.13, recrawl_edited=0.06, mirror=0.06, near_duplicate=0.08,
        lowq=0.035, pii=0.075, cross_dump_copy=0.5,
    ),
    DumpPlan(
        "CC-MAIN-2023-23", date(2023, 5, 27), date(2023, 6, 10), documents=6100, shards=3,
        recrawl_identical=0.18, recrawl_edited=0.08, mirror=0.07, near_duplicate=0.09,
        lowq=0.040, pii=0.080, cross_dump_copy=0.6,
    ),
    DumpPlan(
        "CC-MAIN-2023-40", date(2023, 9, 21), date(2023, 10, 5), documents=6400, shards=3,
        recrawl_identical=0.22, recrawl_edited=0.09, mirror=0.08, near_duplicate=0.11,
        lowq=0.045, pii=0.085, cross_dump_copy=0.65,
    ),
)  # fmt: skip

# (language, domain) -> share of every dump's documents
CATEGORIES: dict[tuple[str, str], float] = {
    ("en", "web"): 0.60,
    ("en", "code"): 0.15,
    ("en", "math"): 0.10,
    ("zh", "web"): 0.15,
}
PII_WEIGHT = {"web": 1.0, "code": 0.5, "math": 0.3}  # code/math pages carry less personal data
HINT_NULL_RATE = 0.30  # share of rows whose `domain` hint is null
HINT_WRONG_RATE = 0.03  # share of non-null hints that are wrong (hints come from URL heuristics)
ROWS_PER_GROUP = 1000
EDIT_KINDS = ("header_footer", "date_stamp", "sentence_edit", "paragraph_reorder")
LOWQ_KINDS = {
    "web": ("keyword_spam", "shuffled_words", "garbled", "number_table"),
    "code": ("shuffled_words", "garbled", "number_table"),
    "math": ("keyword_spam", "shuffled_words", "number_table"),
}

# Reference text (for KenLM / SentencePiece training): held-out pages, at most this many chars.
REFERENCE_BUDGET = {
    ("en", "web"): 1_300_000,
    ("zh", "web"): 450_000,
    ("en", "code"): 450_000,
    ("en", "math"): 350_000,
}
REFERENCE_FILES = {
    ("en", "web"): "en.txt",
    ("zh", "web"): "zh.txt",
    ("en", "code"): "en_code.txt",
    ("en", "math"): "en_math.txt",
}
REFERENCE_PAGE_SHARE = 0.08  # pages whose hash falls below this go to reference/, never to dumps

# Debian packages whose text we use (installed when missing and running as root).
MAN_PACKAGES_EN = (
    "manpages", "manpages-dev", "coreutils", "util-linux", "git-man", "dpkg", "apt", "procps",
    "findutils", "grep", "sed", "tar", "bash", "e2fsprogs", "passwd", "login", "iproute2",
    "openssh-client", "man-db", "xz-utils", "zstd", "ncurses-bin", "debianutils", "bsdutils",
    "diffutils", "gzip", "openssl", "rsync", "less", "wget", "curl",
)  # fmt: skip
INFO_MANUALS = (  # (package, info file stem, manual URL base)
    ("coreutils", "coreutils", "https://www.gnu.org/software/coreutils/manual/html_node/"),
    ("findutils", "find", "https://www.gnu.org/software/findutils/manual/html_node/find_html/"),
    ("grep", "grep", "https://www.gnu.org/software/grep/manual/html_node/"),
    ("sed", "sed", "https://www.gnu.org/software/sed/manual/html_node/"),
    ("gzip", "gzip", "https://www.gnu.org/software/gzip/manual/html_node/"),
    ("diffutils", "diffutils", "https://www.gnu.org/software/diffutils/manual/html_node/"),
    ("wget", "wget", "https://www.gnu.org/software/wget/manual/html_node/"),
    ("bash-doc", "bash", "https://www.gnu.org/software/bash/manual/html_node/"),
    ("bc", "bc", "https://www.gnu.org/software/bc/manual/html_node/"),
    ("ed", "ed", "https://www.gnu.org/software/ed/manual/html_node/"),
    ("time", "time", "https://www.gnu.org/software/time/manual/html_node/"),
)
DOC_PACKAGES = (
    "manpages-zh", "python3.11-doc", "linux-doc-6.1", "debian-reference-en",
    "debian-reference-zh-cn", "debian-faq", "debian-faq-zh-cn", "maint-guide", "maint-guide-zh-cn",
    "debian-handbook", "debian-edu-doc-en", "debian-edu-doc-zh-cn", "bash-doc", "linux-libc-dev",
    "libpython3.11-stdlib", "groff-base", "installation-guide-amd64",
)  # fmt: skip
# Big sources are sampled by a hash of the page's path before parsing: there is more text than
# the sample needs, and groff / html.parser are the slow part of the build.
PAGE_SAMPLE = {"linux-doc": 0.7, "manpages-en": 0.8}
PYPI_SOURCES = ("sympy", "mpmath")  # text sources from the corpus extra (Faker makes the PII)


def debian_packages() -> list[str]:
    """All Debian packages the build reads from, sorted and unique."""
    info = {pkg for pkg, _, _ in INFO_MANUALS}
    return sorted(set(MAN_PACKAGES_EN) | set(DOC_PACKAGES) | info)


# ----------------------------------------------------------------------------------------------
# Debian packages
# ----------------------------------------------------------------------------------------------


def package_version(pkg: str) -> str | None:
    """Installed version of a Debian package, or None."""
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}\t${Version}", pkg],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0 or not out.stdout.startswith("install ok installed"):
        return None
    return out.stdout.split("\t", 1)[1]


def ensure_debian_packages(packages: Sequence[str]) -> dict[str, str]:
    """Install the packages that are missing (root only) and return name -> version."""
    missing = [p for p in packages if package_version(p) is None]
    if missing:
        if os.geteuid() != 0:
            sys.exit(f"missing Debian packages (run as root to install): {' '.join(missing)}")
        log(f"apt-get install {' '.join(missing)}")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
            check=True,
            env=env,
            stdout=subprocess.DEVNULL,
        )
    versions = {p: package_version(p) for p in packages}
    absent = [p for p, v in versions.items() if v is None]
    if absent:
        sys.exit(f"could not install: {' '.join(absent)}")
    return {p: v for p, v in versions.items() if v is not None}


def package_files(pkg: str) -> list[Path]:
    """Files shipped by an installed Debian package, sorted."""
    out = subprocess.run(["dpkg", "-L", pkg], capture_output=True, text=True, check=True).stdout
    return sorted(Path(line) for line in out.splitlines() if line.startswith("/"))


# ----------------------------------------------------------------------------------------------
# Text extraction
# ----------------------------------------------------------------------------------------------

Block = tuple[str, str]  # (kind, text): kind is "h1".."h4", "p" (prose) or "pre" (verbatim)

BLOCK_TAGS = frozenset(
    {
        "p", "div", "section", "article", "h1", "h2", "h3", "h4", "h5", "h6", "li", "ul", "ol",
        "pre", "table", "tr", "dt", "dd", "dl", "blockquote", "title", "caption", "figure",
        "figcaption", "td", "th", "tbody", "thead",
    }
)  # fmt: skip
SKIP_TAGS = frozenset(
    {
        "script", "style", "noscript", "nav", "form", "button", "svg", "head",
    }
)  # fmt: skip
VOID_TAGS = frozenset(
    {
        "br", "hr", "img", "meta", "link", "input", "col", "area", "base", "wbr", "source",
    }
)  # fmt: skip
HEADINGS = frozenset(
    {
        "h1", "h2", "h3", "h4", "h5", "h6",
    }
)  # fmt: skip


class TextExtractor(HTMLParser):
    """Turns an HTML page into blocks, the way a simple crawler's text extractor does.

    Only the part under the first element accepted by ``root`` is kept (the whole page when
    ``root`` is None); script/style/navigation and elements with a class in ``skip_classes``
    are dropped.  Block-level tags end a block; whitespace is collapsed except inside <pre>.
    """

    def __init__(
        self,
        root: Callable[[str, dict[str, str]], bool] | None,
        skip_classes: frozenset[str],
    ) -> None:
        super().__init__(convert_charrefs=True)
        self.root = root
        self.skip_classes = skip_classes
        self.stack: list[tuple[str, bool, bool]] = []  # (tag, opened capture, opened skip)
        self.capturing = 0 if root else 1
        self.skipping = 0
        self.pre = 0
        self.blocks: list[Block] = []
        self.parts: list[str] = []
        self.kind = "p"

    def flush(self) -> None:
        text = "".join(self.parts)
        self.parts = []
        if self.kind == "pre":
            text = "\n".join(line.rstrip() for line in text.strip("\n").splitlines())
        else:
            text = re.sub(r"\s+", " ", text).strip()
        if text:
            self.blocks.append((self.kind, text))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: v or "" for k, v in attrs}
        if tag in VOID_TAGS:
            if tag in ("br", "hr") and self.capturing and not self.skipping:
                if self.pre:
                    self.parts.append("\n")
                else:
                    self.flush()
            return
        opens_root = bool(self.root and not self.capturing and self.root(tag, attr))
        names = frozenset(attr.get("class", "").split()) | {"#" + attr.get("id", "")}
        opens_skip = (
            tag in SKIP_TAGS or bool(names & self.skip_classes) or attr.get("role") == "navigation"
        )
        self.stack.append((tag, opens_root, opens_skip))
        self.capturing += opens_root
        self.skipping += opens_skip
        if not self.capturing or self.skipping:
            return
        if tag in BLOCK_TAGS and not self.pre:
            self.flush()
            self.kind = tag if tag in HEADINGS else "pre" if tag == "pre" else "p"
        if tag == "pre":
            self.pre += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID_TAGS:
            return
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                break
        else:
            return  # stray end tag
        while len(self.stack) > depth:
            name, opened_root, opened_skip = self.stack.pop()
            active = self.capturing and not self.skipping
            if name == "pre" and self.pre and active:
                self.pre -= 1
            if active and name in BLOCK_TAGS and not self.pre:
                self.flush()
                self.kind = "p"
            self.capturing -= opened_root
            self.skipping -= opened_skip

    def handle_data(self, data: str) -> None:
        if self.capturing and not self.skipping:
            self.parts.append(data)


def html_blocks(
    source: str,
    root: Callable[[str, dict[str, str]], bool] | None,
    skip_classes: Iterable[str] = (),
) -> list[Block]:
    """Blocks of text of an HTML document (see TextExtractor)."""
    parser = TextExtractor(root, frozenset(skip_classes) | {"headerlink"})
    parser.feed(source)
    parser.close()
    parser.flush()
    return [(kind, text.replace("\u00b6", "").strip()) for kind, text in parser.blocks]


def is_main_role(tag: str, attr: dict[str, str]) -> bool:
    return attr.get("role") == "main"


def is_body(tag: str, attr: dict[str, str]) -> bool:
    return tag == "body"


@dataclasses.dataclass(frozen=True)
class Page:
    """One real page (or manual chapter/node) before it is cut into documents."""

    source: str  # collection id, e.g. "python-doc"
    package: str  # Debian or PyPI package it comes from (for the licence)
    lang: str
    domain: str
    url: str
    title: str
    blocks: tuple[Block, ...]
    code_lang: str = ""  # for code pages: python, c, shell


def read_text(path: Path) -> str:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


# --- HTML manuals ------------------------------------------------------------------------------

PY_DOC_ROOT = Path("/usr/share/doc/python3.11/html")
PY_MATH_PAGES = frozenset(
    {
        "library/math.html", "library/cmath.html", "library/statistics.html",
        "library/fractions.html", "library/decimal.html", "library/numbers.html",
        "library/random.html",
    }
)  # fmt: skip
SPHINX_SKIP = ("headerlink", "sphinxsidebar", "related", "footer", "rst-footer-buttons")


def _sphinx_page(args: tuple[str, str, str, str, str]) -> Page | None:
    path, rel, source, package, url = args
    blocks = html_blocks(read_text(Path(path)), is_main_role, SPHINX_SKIP)
    if not blocks:
        return None
    title = next((t for k, t in blocks if k == "h1"), blocks[0][1])[:200]
    domain = "math" if source == "python-doc" and rel in PY_MATH_PAGES else "web"
    return Page(source, package, "en", domain, url, title, tuple(blocks))


def extract_sphinx_docs(pool: ProcessPoolExecutor) -> list[Page]:
    """Python 3.11 docs and Linux 6.1 kernel docs (Sphinx HTML)."""
    jobs: list[tuple[str, str, str, str, str]] = []
    skip_dirs = ("_static", "_sources", "_downloads", "_images", "whatsnew", "translations")
    skip_files = ("genindex", "search.html", "py-modindex", "contents.html", "copyright.html")
    roots = (
        (PY_DOC_ROOT, "python-doc", "python3.11-doc", "https://docs.python.org/3/"),
        (
            Path("/usr/share/doc/linux-doc-6.1/html"),
            "linux-doc",
            "linux-doc-6.1",
            "https://docs.kernel.org/",
        ),
    )
    for root, source, package, base in roots:
        for path in sorted(root.rglob("*.html")):
            rel = path.relative_to(root).as_posix()
            if rel.split("/")[0] in skip_dirs or any(s in rel for s in skip_files):
                continue
            if stable_fraction(base + rel) < PAGE_SAMPLE.get(source, 1.0):
                jobs.append((str(path), rel, source, package, base + rel))
    pages = [p for p in pool.map(_sphinx_page, jobs, chunksize=32) if p is not None]
    return pages


def extract_docbook_manuals() -> list[Page]:
    """Debian's DocBook manuals (reference, FAQ, maint-guide, handbook, Edu) in en and zh."""
    skip = (
        "navheader",
        "navfooter",
        "toc",
        "list-of-tables",
        "list-of-figures",
        "docnav",
        "#banner",
    )
    pages: list[Page] = []
    specs: list[tuple[str, str, str, Path, str]] = []  # source, package, lang, path, url
    ref = Path("/usr/share/debian-reference")
    for lang, suffix in (("en", "en"), ("zh", "zh-cn")):
        pkg = f"debian-reference-{'en' if lang == 'en' else 'zh-cn'}"
        for path in sorted(ref.glob(f"*.{suffix}.html")):
            if path.name.startswith("index"):
                continue
            url = f"https://www.debian.org/doc/manuals/debian-reference/{path.name}"
            specs.append(("debian-reference", pkg, lang, path, url))
        faq = Path("/usr/share/doc/debian/FAQ") / ("" if lang == "en" else "zh-cn")
        for path in sorted(faq.glob(f"*.{suffix}.html")):
            if path.name.startswith("index"):
                continue
            url = f"https://www.debian.org/doc/manuals/debian-faq/{path.name}"
            pkg = "debian-faq" if lang == "en" else "debian-faq-zh-cn"
            specs.append(("debian-faq", pkg, lang, path, url))
        guide = Path("/usr/share/doc/maint-guide" + ("" if lang == "en" else "-zh-cn")) / "html"
        for path in sorted(guide.glob(f"*.{suffix}.html")):
            if path.name.startswith("index"):
                continue
            url = f"https://www.debian.org/doc/manuals/maint-guide/{path.name}"
            pkg = "maint-guide" if lang == "en" else "maint-guide-zh-cn"
            specs.append(("maint-guide", pkg, lang, path, url))
        hb_lang = "en-US" if lang == "en" else "zh-CN"
        handbook = Path("/usr/share/doc/debian-handbook/html") / hb_lang
        for path in sorted(handbook.glob("*.html")):
            if path.name in ("index.html", "ix01.html") or path.name.startswith("pr"):
                continue
            url = f"https://debian-handbook.info/browse/{hb_lang}/stable/{path.name}"
            specs.append(("debian-handbook", "debian-handbook", lang, path, url))
        guide = Path("/usr/share/doc/installation-guide-amd64") / (
            "en" if lang == "en" else "zh_CN"
        )
        for path in sorted(guide.glob("*.html")):
            if path.name == "index.html":
                continue
            url = f"https://www.debian.org/releases/bookworm/amd64/{path.stem}.{suffix}.html"
            specs.append(("installation-guide", "installation-guide-amd64", lang, path, url))
        edu_pkg = "debian-edu-doc-en" if lang == "en" else "debian-edu-doc-zh-cn"
        edu = Path("/usr/share/doc") / edu_pkg / "debian-edu-bookworm-manual.html"
        edu_url = (
            "https://jenkins.debian.net/userContent/debian-edu-doc/"
            f"debian-edu-doc-{'en' if lang == 'en' else 'zh_CN'}/debian-edu-bookworm-manual.html"
        )
        specs.append(("debian-edu", edu_pkg, lang, edu, edu_url))
    for source, package, lang, path, url in specs:
        blocks = html_blocks(read_text(path), is_body, skip)
        blocks = [b for b in blocks if not re.fullmatch(r"[\d.\s]*", b[1])]
        if lang == "zh":  # translations lag behind: drop paragraphs still in English
            blocks = [b for b in blocks if b[0] != "p" or len(b[1]) < 80 or cjk_share(b[1]) > 0.05]
        if len(blocks) < 3:
            continue
        title = next((t for k, t in blocks if k in HEADINGS), blocks[0][1])[:200]
        pages.append(Page(source, package, lang, "web", url, title, tuple(blocks)))
    return pages


# --- man pages ---------------------------------------------------------------------------------

BOX_RE = re.compile(r"[\u2500-\u257f]+")
MAN_RE = re.compile(r"/usr/share/man/(zh_CN/)?man(\d)/([^/]+)\.(\d\w*)\.gz$")


def _render_man(path: str) -> str:
    """Render a man page to plain text with one paragraph per line (no hyphenation, no fill)."""
    raw = gzip.decompress(Path(path).read_bytes())
    out = subprocess.run(
        ["groff", "-Kutf-8", "-t", "-mandoc", "-Tutf8", "-rLL=3000n", "-rHY=0", "-P-cbou"],
        input=raw,
        capture_output=True,
        check=False,
    )
    return out.stdout.decode("utf-8", errors="replace")


def man_blocks(rendered: str) -> list[Block]:
    """Headings are unindented lines; body lines are de-indented, one block per line."""
    # tbl draws tables with box characters across the whole (very wide) line: drop them
    lines = [BOX_RE.sub(" ", line).rstrip() for line in rendered.splitlines()]
    lines = [line for line in lines if line.strip()]
    if len(lines) < 4:
        return []
    lines = lines[1:-1]  # running header and footer
    blocks: list[Block] = []
    for line in lines:
        if not line[0].isspace():
            blocks.append(("h2", line.strip()))
        elif line.startswith("   ") and not line.startswith("    "):
            blocks.append(("h3", line.strip()))
        else:
            blocks.append(("p", re.sub(r"\s{2,}", " ", line.strip())))
    return blocks


def extract_man_pages(pool: ProcessPoolExecutor) -> list[Page]:
    """Man pages of MAN_PACKAGES_EN (English) and manpages-zh (Chinese)."""
    specs: list[tuple[str, str, str, str, str]] = []  # path, pkg, lang, name, section
    seen: set[tuple[str, str, str]] = set()
    for pkg in sorted(set(MAN_PACKAGES_EN) | {"manpages-zh"}):
        for path in package_files(pkg):
            m = MAN_RE.match(path.as_posix())
            if not m or path.is_symlink() or not path.is_file():
                continue
            lang = "zh" if m.group(1) else "en"
            if (lang == "zh") != (pkg == "manpages-zh"):
                continue
            name, section = m.group(3), m.group(4)
            if (lang, name, section) in seen:
                continue
            head = gzip.decompress(path.read_bytes())[:200]
            if head.startswith(b".so "):
                continue  # alias of another page
            seen.add((lang, name, section))
            if stable_fraction(path.as_posix()) < PAGE_SAMPLE.get(f"manpages-{lang}", 1.0):
                specs.append((path.as_posix(), pkg, lang, name, section))
    rendered = pool.map(_render_man, [s[0] for s in specs], chunksize=16)
    pages: list[Page] = []
    for (_, pkg, lang, name, section), text in zip(specs, rendered, strict=True):
        blocks = man_blocks(text)
        if len(blocks) < 4:
            continue
        suffix = "en" if lang == "en" else "zh_CN"
        url = f"https://manpages.debian.org/bookworm/{pkg}/{name}.{section}.{suffix}.html"
        title = f"{name}({section}) — {pkg} — Debian bookworm"
        pages.append(Page("manpages", pkg, lang, "web", url, title, tuple(blocks)))
    return pages


# --- GNU info manuals ----------------------------------------------------------------------------


def info_node_file(node: str) -> str:
    """File name of a Texinfo node in makeinfo's split HTML output."""
    out = []
    for ch in node:
        if ch.isalnum() and ch.isascii():
            out.append(ch)
        elif ch == " ":
            out.append("-")
        else:
            out.append(f"_{ord(ch):04x}")
    return "".join(out) + ".html"


def info_blocks(body: str) -> list[Block]:
    """Paragraphs of an info node: filled lines are joined, indented examples kept verbatim."""
    blocks: list[Block] = []
    for para in re.split(r"\n\s*\n", body):
        lines = [line.rstrip() for line in para.splitlines() if line.strip()]
        if not lines or lines[0].startswith("* Menu:"):
            continue
        if len(lines) == 2 and re.fullmatch(r"[=*\-.]{3,}", lines[1].strip()):
            blocks.append(("h2", lines[0].strip()))
            continue
        if all(line.startswith("     ") for line in lines):
            blocks.append(("pre", "\n".join(line[5:] for line in lines)))
        elif lines[0].lstrip().startswith("* ") and all("::" in ln or ":" in ln for ln in lines):
            continue  # menu
        else:
            blocks.append(("p", re.sub(r"\s+", " ", " ".join(lines)).strip()))
    return blocks


def extract_info_manuals() -> list[Page]:
    pages: list[Page] = []
    for pkg, stem, base in INFO_MANUALS:
        pattern = re.compile(rf"/info/{re.escape(stem)}\.info(?:-(\d+))?\.gz$")
        numbered = []
        for path in package_files(pkg):
            m = pattern.search(path.as_posix())
            if m:
                numbered.append((int(m.group(1) or 0), path))
        files = [path for _, path in sorted(numbered)]
        text = "".join(read_text(p) for p in files)
        for node in text.split("\x1f\n")[1:]:
            header, _, body = node.partition("\n")
            m = re.search(r"Node: ([^,\n]+)", header)
            if not m or header.startswith(("Tag Table", "Indirect", "End Tag")):
                continue
            name = m.group(1).strip()
            blocks = info_blocks(body)
            if name == "Top" or not blocks:
                continue
            url = base + info_node_file(name)
            pages.append(Page("gnu-manual", pkg, "en", "web", url, name, tuple(blocks)))
    return pages


# --- code --------------------------------------------------------------------------------------


def code_blocks(text: str) -> list[Block]:
    """Top-level chunks of a source file: split at blank lines followed by an unindented line."""
    text = text.strip("\n")
    parts = re.split(r"\n[ \t]*\n(?=[^\s}])", text)
    return [("pre", part.strip("\n")) for part in parts if part.strip()]


def extract_code() -> list[Page]:
    """Python stdlib, Linux UAPI headers, bash examples and sympy's test-suite."""
    pages: list[Page] = []
    stdlib = Path("/usr/lib/python3.11")
    for path in package_files("libpython3.11-stdlib") + package_files("libpython3.11-minimal"):
        if path.suffix != ".py" or stdlib not in path.parents or "-packages" in path.as_posix():
            continue
        rel = path.relative_to(stdlib).as_posix()
        if "/test" in "/" + rel:
            continue
        url = f"https://github.com/python/cpython/blob/3.11/Lib/{rel}"
        blocks = code_blocks(read_text(path))
        pages.append(
            Page(
                "cpython-lib",
                "libpython3.11-stdlib",
                "en",
                "code",
                url,
                rel,
                tuple(blocks),
                "python",
            )
        )
    for path in package_files("linux-libc-dev"):
        rel = path.as_posix().removeprefix("/usr/include/")
        if (
            path.suffix != ".h"
            or not path.is_file()
            or not rel.startswith(("linux/", "asm-generic/"))
        ):
            continue
        url = f"https://github.com/torvalds/linux/blob/v6.1/include/uapi/{rel}"
        pages.append(
            Page(
                "linux-uapi",
                "linux-libc-dev",
                "en",
                "code",
                url,
                rel,
                tuple(code_blocks(read_text(path))),
                "c",
            )
        )
    examples = Path("/usr/share/doc/bash/examples")
    for path in package_files("bash-doc"):
        if not path.is_file() or examples not in path.parents or path.suffix in (".gz", ".xz"):
            continue
        head = path.read_bytes()[:4000]
        if b"\0" in head:
            continue
        rel = path.relative_to(examples).as_posix()
        url = f"https://github.com/bminor/bash/blob/bash-5.2/examples/{rel}"
        pages.append(
            Page(
                "bash-examples",
                "bash-doc",
                "en",
                "code",
                url,
                rel,
                tuple(code_blocks(read_text(path))),
                "shell",
            )
        )
    sympy_root = pypi_root("sympy")
    version = metadata.version("sympy")
    for path in sorted(sympy_root.rglob("test_*.py")):
        rel = path.relative_to(sympy_root.parent).as_posix()
        url = f"https://github.com/sympy/sympy/blob/sympy-{version}/{rel}"
        pages.append(
            Page(
                "sympy-tests",
                "sympy",
                "en",
                "code",
                url,
                rel,
                tuple(code_blocks(read_text(path))),
                "python",
            )
        )
    return [p for p in pages if p.blocks]


def pypi_root(project: str) -> Path:
    spec = util.find_spec(project)
    if spec is None or spec.origin is None:
        sys.exit(f"PyPI package {project} is missing: pip install -e '.[corpus]'")
    return Path(spec.origin).parent


# --- math --------------------------------------------------------------------------------------

SYMPY_MATH_PACKAGES = (
    "functions", "integrals", "series", "polys", "ntheory", "solvers", "matrices", "combinatorics",
    "calculus", "simplify", "concrete", "geometry", "stats", "sets", "discrete", "holonomic",
    "tensor", "vector", "logic", "core",
)  # fmt: skip


def rst_to_text(doc: str) -> list[Block]:
    """Render a reST docstring roughly as Sphinx HTML reads to a crawler (math kept as TeX)."""
    doc = inspect.cleandoc(doc)
    doc = re.sub(r":math:`([^`]+)`", r"\\(\1\\)", doc)
    doc = re.sub(r":(?:func|class|meth|obj|mod|attr|ref|data|exc|doc):`~?([^`]+)`", r"\1", doc)
    doc = doc.replace("``", "")
    blocks: list[Block] = []
    for para in re.split(r"\n\s*\n", doc):
        lines = para.splitlines()
        if not lines:
            continue
        if lines[0].strip().startswith(".. math::"):
            body = "\n".join(line.strip() for line in lines[1:]) or lines[0].split("::", 1)[1]
            blocks.append(("pre", "\\[" + body.strip() + "\\]"))
        elif lines[0].lstrip().startswith(">>>") or all(ln.startswith("    ") for ln in lines):
            blocks.append(("pre", inspect.cleandoc("\n".join(lines))))
        elif len(lines) == 2 and re.fullmatch(r"[=\-~^]{3,}", lines[1].strip()):
            blocks.append(("h3", lines[0].strip()))
        elif lines[0].strip().startswith(".. "):
            continue
        else:
            blocks.append(("p", re.sub(r"\s+", " ", para).strip()))
    return blocks


def extract_math() -> list[Page]:
    """Docstrings of sympy (math sub-packages) and mpmath: one page per documented object."""
    pages: list[Page] = []
    for project in PYPI_SOURCES:
        root = pypi_root(project)
        version = metadata.version(project)
        for path in sorted(root.rglob("*.py")):
            rel = path.relative_to(root.parent)
            parts = rel.parts
            if "tests" in parts or path.name.startswith(("test_", "bench")):
                continue
            if project == "sympy" and (len(parts) < 3 or parts[1] not in SYMPY_MATH_PACKAGES):
                continue
            module = ".".join(parts)[: -len(".py")].removesuffix(".__init__")
            try:
                tree = ast.parse(read_text(path))
            except SyntaxError:
                continue
            for name, doc in module_docstrings(tree):
                if len(doc) < 400:
                    continue
                qual = f"{module}.{name}"
                if project == "mpmath" and module == "mpmath.function_docs":
                    qual = f"mpmath.{name}"
                blocks = [("h1", qual), *rst_to_text(doc)]
                if project == "sympy":
                    url = f"https://docs.sympy.org/latest/modules/generated/{qual}.html"
                else:
                    url = f"https://mpmath.org/doc/{version}/generated/{qual}.html"
                pages.append(
                    Page(f"{project}-docs", project, "en", "math", url, qual, tuple(blocks))
                )
    return pages


def module_docstrings(tree: ast.Module) -> Iterator[tuple[str, str]]:
    """(name, docstring) of top-level functions/classes, their methods, and string constants."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_"):
            doc = ast.get_docstring(node, clean=False)
            if doc:
                yield node.name, doc
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if isinstance(sub, ast.FunctionDef) and not sub.name.startswith("_"):
                        doc = ast.get_docstring(sub, clean=False)
                        if doc:
                            yield f"{node.name}.{sub.name}", doc
        elif (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            yield node.targets[0].id, node.value.value


def log(msg: str) -> None:
    print(f"[build_sample_corpus] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------------------------
# Pages -> page-sized units of real text
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Unit:
    """A page-sized piece of real text: the content of one original document."""

    key: str
    page_url: str  # the page it was cut from (reference/corpus split is per page)
    source: str
    package: str
    lang: str
    domain: str
    url: str  # first piece: the page URL; later pieces: filled in when it is used
    title: str
    blocks: tuple[Block, ...]
    piece: int  # 0 for the first piece of a page
    code_lang: str = ""

    @property
    def category(self) -> tuple[str, str]:
        return (self.lang, self.domain)

    def chars(self) -> int:
        return sum(len(text) for _, text in self.blocks)


# (median, low, high) characters of a document, per (language, domain); web pages in CC have a
# long-tailed length distribution, so targets are drawn log-normally and clipped.
LENGTHS = {
    ("en", "web"): (1700, 400, 8000),
    ("zh", "web"): (600, 150, 4000),
    ("en", "code"): (2600, 500, 9000),
    ("en", "math"): (1500, 350, 6000),
}
MAX_PIECES = {("en", "web"): 8, ("zh", "web"): 60, ("en", "code"): 4, ("en", "math"): 2}
CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
SENTENCE_RE = {
    "en": re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])"),
    "zh": re.compile(r"(?<=[。！？；])"),
}


def cjk_share(text: str) -> float:
    letters = sum(1 for ch in text if not ch.isspace())
    return len(CJK_RE.findall(text)) / max(letters, 1)


def split_long_block(block: Block, limit: int, lang: str) -> list[Block]:
    """Split a block longer than `limit` at sentence (prose) or line (verbatim) boundaries."""
    kind, text = block
    if len(text) <= limit:
        return [block]
    if kind == "pre":
        parts, sep = text.split("\n"), "\n"
    else:
        parts, sep = SENTENCE_RE[lang].split(text), (" " if lang == "en" else "")
    out: list[Block] = []
    cur: list[str] = []
    size = 0
    for part in parts:
        if cur and size + len(part) > limit:
            out.append((kind, sep.join(cur).strip()))
            cur, size = [], 0
        cur.append(part)
        size += len(part) + 1
    if cur:
        out.append((kind, sep.join(cur).strip()))
    return [b for b in out if b[1]]


def cut_page(page: Page, rng: random.Random) -> list[Unit]:
    """Cut a page into page-sized pieces at heading boundaries (greedy, log-normal targets)."""
    category = (page.lang, page.domain)
    median, low, high = LENGTHS[category]
    blocks: list[Block] = []
    for block in page.blocks:
        blocks.extend(split_long_block(block, high // 2, page.lang))
    pieces: list[list[Block]] = []
    cur: list[Block] = []
    size = 0
    target = draw_length(rng, median, low, high)
    for block in blocks:
        at_heading = block[0] in HEADINGS
        if cur and (
            size + len(block[1]) > high or (size >= target and (at_heading or size >= 1.5 * target))
        ):
            pieces.append(cur)
            cur, size = [], 0
            target = draw_length(rng, median, low, high)
        cur.append(block)
        size += len(block[1])
    if cur:
        if pieces and size < low:
            pieces[-1].extend(cur)
        else:
            pieces.append(cur)
    units: list[Unit] = []
    title = page.title
    for i, piece in enumerate(pieces[: MAX_PIECES[category]]):
        text_len = sum(len(t) for _, t in piece)
        heading = next((t for k, t in piece if k in HEADINGS), None)
        piece_title = page.title if i == 0 else (heading or title)
        if heading:
            title = heading
        if text_len < low:
            continue
        if page.lang == "zh" and cjk_share(" ".join(t for _, t in piece)) < 0.2:
            continue  # untranslated piece of a Chinese manual
        units.append(
            Unit(
                key=f"{page.url}#{i}",
                page_url=page.url,
                source=page.source,
                package=page.package,
                lang=page.lang,
                domain=page.domain,
                url=page.url if i == 0 else "",
                title=piece_title[:160],
                blocks=tuple(piece),
                piece=i,
                code_lang=page.code_lang,
            )
        )
    return units


def draw_length(rng: random.Random, median: int, low: int, high: int) -> int:
    return int(min(high, max(low, rng.lognormvariate(math.log(median), 0.6))))


def stable_fraction(key: str) -> float:
    """A number in [0, 1) that depends only on `key` (no hash randomisation)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") / 2**64


# ----------------------------------------------------------------------------------------------
# Sites, their chrome and boilerplate snippets
# ----------------------------------------------------------------------------------------------

# Boilerplate written after real site chrome (navigation, cookie banners, licence footers), with a
# few variants each.  {site}, {year} and {icp} are filled per host, so a host repeats the same
# text on all of its pages while different hosts vary slightly.
SNIPPETS: dict[str, tuple[str, ...]] = {
    # --- generic English web chrome
    "en_skip_nav": ("Skip to main content", "Skip to content", "Jump to navigation Jump to search"),
    "en_cookie": (
        "We use cookies to improve your experience on our website. By continuing to browse the "
        "site, you agree to our use of cookies. Learn more",
        "This website uses cookies to ensure you get the best experience on our website. "
        "Accept all cookies | Manage preferences",
        "We use cookies and similar technologies to analyse traffic and personalise content. You "
        "can change your cookie settings at any time. Accept | Reject | Settings",
    ),
    "en_cookie_gdpr": (
        "By clicking “Accept all cookies”, you agree Stack Exchange can store cookies on your "
        "device and disclose information in accordance with our Cookie Policy.",
        "By clicking “Accept All”, you consent to the storing of cookies on your device to enhance "
        "site navigation, analyze site usage, and assist in our marketing efforts.",
    ),
    "en_newsletter": (
        "Subscribe to our newsletter to get the latest tutorials, tips and updates delivered "
        "straight to your inbox. No spam, unsubscribe at any time.",
        "Join 25,000+ developers who get our weekly newsletter. Enter your email address below "
        "and click Subscribe.",
        "Get the latest Linux tips in your inbox every week. Subscribe now, it's free!",
    ),
    "en_share": (
        "Share this: Twitter Facebook LinkedIn Reddit Email",
        "Share on Twitter · Share on Facebook · Share on LinkedIn · Copy link",
        "Share this article: Facebook Twitter WhatsApp Telegram Pinterest",
    ),
    "en_comment_form": (
        "Leave a Reply Cancel reply Your email address will not be published. Required fields are "
        "marked *",
        "Comment * Name * Email * Website Save my name, email, and website in this browser for "
        "the next time I comment.",
    ),
    "en_helpful": (
        "Was this page helpful? Yes No",
        "Was this article helpful? Let us know in the comments below.",
        "Did you find this page useful? Give us feedback.",
    ),
    "en_copyright": (
        "© {year} {site}. All rights reserved.",
        "Copyright © {year} {site}. All Rights Reserved. | Privacy Policy | Terms of Use",
        "© 2015–{year} {site} · About · Privacy · Terms · Contact",
    ),
    "en_powered": (
        "Proudly powered by WordPress | Theme: Astra by Brainstorm Force.",
        "Powered by WordPress. Theme by GeneratePress.",
        "Powered by Hugo & PaperMod",
    ),
    "en_related": ("Related posts:", "You may also like", "Related Articles"),
    "en_back_to_top": ("Back to top ↑", "↑ Back to top", "Scroll to top"),
    "en_ads": ("Advertisement", "ADVERTISEMENT", "Sponsored Content"),
    "en_mirror_disclaimer": (
        "This page was mirrored from the original documentation. All trademarks belong to their "
        "respective owners.",
        "Content retrieved from the official documentation and reproduced under its original "
        "license. We are not affiliated with the original authors.",
    ),
    # --- site-specific English chrome
    "py_nav": (
        "Navigation index modules | next | previous | Python » 3.11.1 Documentation » The Python "
        "Standard Library »",
        "Navigation index modules | next | previous | Python » 3.11.2 Documentation »",
        "Theme Auto Light Dark | Navigation index modules | next | previous | Python » 3.11.4 "
        "Documentation »",
    ),
    "py_footer": (
        "© Copyright 2001-{year}, Python Software Foundation. This page is licensed under the "
        "Python Software Foundation License Version 2. Examples, recipes, and other code in the "
        "documentation are additionally licensed under the Zero Clause BSD License. See History "
        "and License for more information.",
        "© Copyright 2001-{year}, Python Software Foundation. The Python Software Foundation is a "
        "non-profit corporation. Please donate.",
    ),
    "py_bug": (
        "Found a bug? Created using Sphinx 4.5.0.",
        "Report a Bug Show Source",
        "This Page Report a Bug Show Source",
    ),
    "kernel_header": (
        "The Linux Kernel 6.1.0 Quick search Contents",
        "The Linux Kernel latest Quick search Contents A guide to the Kernel Development Process",
    ),
    "kernel_footer": (
        "©The kernel development community. | Powered by Sphinx 5.3.0 & Alabaster 0.7.12 | Page "
        "source",
        "©The kernel development community. | Powered by Sphinx 7.1.2 & Alabaster 0.7.16",
    ),
    "debman_header": (
        "Scroll to navigation",
        "manpages.debian.org Debian Manpages Index About Manpages FAQ Service Status",
    ),
    "debman_footer": (
        "Converted to HTML with debiman. Copyright © 2016-2023 the debiman authors. See the "
        "debiman FAQ.",
        "Found a problem? See the FAQ. This page was generated by debiman HEAD, see "
        "github.com/Debian/debiman.",
    ),
    "debian_header": (
        "Skip Quicknav About Debian Getting Debian Support Developers' Corner",
        "Blog Micronews Planet Wiki Skip Quicknav ConferenceGetting Debian News Debian Jobs",
    ),
    "debian_footer": (
        "Back to the Debian Project homepage. Home Contact Privacy Policy Copyright © 1997 - "
        "{year} SPI and others; See license terms. Debian is a registered trademark of Software "
        "in the Public Interest, Inc.",
        "Copyright © 1997 - {year} SPI and others; See license terms. Debian is a trademark of "
        "Software in the Public Interest, Inc. This site is supported by our sponsors.",
    ),
    "handbook_banner": ("Download the ebook", "Download the ebook Product Site Documentation Site"),
    "handbook_footer": (
        "The Debian Administrator's Handbook is available under the terms of GPL-2.0+ and "
        "CC-BY-SA 3.0. Buy the paperback or download the ebook.",
        "Support the authors: buy the paperback edition of The Debian Administrator's Handbook.",
    ),
    "gnu_header": (
        "GNU Operating System Supported by the Free Software Foundation",
        "Free Software Supporter: Sign up for the FSF's monthly newsletter.",
    ),
    "gnu_footer": (
        "Copyright © {year} Free Software Foundation, Inc. This page is licensed under a Creative "
        "Commons Attribution-NoDerivatives 4.0 International License. Copyright Infringement "
        "Notification",
        "Please send general FSF & GNU inquiries to <gnu@gnu.org>. There are also other ways to "
        "contact the FSF. Broken links and other corrections or suggestions can be sent to "
        "<webmasters@gnu.org>.",
    ),
    "github_header": (
        "Skip to content Sign up Product Solutions Open Source Pricing Search or jump to... Sign "
        "in Sign up",
        "Skip to content Navigation Menu Toggle navigation Sign in Product Solutions Resources "
        "Open Source Enterprise Pricing",
    ),
    "github_repo": (
        "Code Issues Pull requests Actions Projects Security Insights",
        "Code Issues Pull requests Discussions Actions Projects Wiki Security Insights",
        "Raw Blame History",
    ),
    "github_footer": (
        "© {year} GitHub, Inc. Terms Privacy Security Status Docs Contact GitHub Pricing API "
        "Training Blog About",
        "Footer © {year} GitHub, Inc. Footer navigation Terms Privacy Security Status Docs "
        "Contact Manage cookies Do not share my personal information",
    ),
    "gist_header": (
        "Instantly share code, notes, and snippets.",
        "All gists Back to GitHub Sign in Sign up Instantly share code, notes, and snippets.",
    ),
    "sympy_header": (
        "SymPy Documentation Contents Index Search Back to top Toggle Light / Dark / Auto color "
        "theme",
        "Hide navigation sidebar Hide table of contents sidebar Toggle site navigation sidebar",
    ),
    "sympy_footer": (
        "Copyright © {year} SymPy Development Team Made with Sphinx and @pradyunsg's Furo",
        "Copyright © {year} SymPy Development Team. Created using Sphinx 7.2.6.",
    ),
    "mpmath_footer": (
        "© Copyright 2007-{year}, Fredrik Johansson and mpmath contributors. Created using Sphinx.",
        "mpmath documentation. Created using Sphinx. Page source",
    ),
    "se_header": (
        "Stack Exchange Network Stack Exchange network consists of 183 Q&A communities including "
        "Stack Overflow, the largest, most trusted online community for developers to learn, "
        "share their knowledge, and build their careers.",
        "Ask Question Asked {year} Modified 1 year ago Viewed 12k times",
    ),
    "se_footer": (
        "Site design / logo © {year} Stack Exchange Inc; user contributions licensed under CC "
        "BY-SA. rev 2023.9.27.43648",
        "Not the answer you're looking for? Browse other questions tagged linux command-line or "
        "ask your own question.",
    ),
    # --- Chinese web chrome
    "zh_nav": (
        "首页 | 文档 | 下载 | 社区 | 关于我们",
        "首页 > 技术文档 > Linux",
        "当前位置：首页 > 教程 > 正文",
    ),
    "zh_cookie": (
        "本网站使用 Cookie 来改善您的浏览体验。继续浏览即表示您同意我们使用 Cookie。",
        "我们使用 Cookie 来分析流量并为您提供个性化内容。点击“接受”即表示您同意使用 Cookie。"
        " 接受 | 拒绝",
    ),
    "zh_copy_notice": (
        "本文为博主原创文章，遵循 CC 4.0 BY-SA 版权协议，转载请附上原文出处链接和本声明。",
        "本文来自网络，如有侵权请联系删除。",
        "转载请注明出处，谢谢！如有疑问请在下方留言。",
    ),
    "zh_share": ("分享到：微信 微博 QQ空间 豆瓣", "分享到： 新浪微博 腾讯微博 QQ好友 复制链接"),
    "zh_follow": (
        "扫码关注公众号，获取更多技术干货。",
        "关注我们的微信公众号，第一时间获取最新资讯。",
    ),
    "zh_comments": (
        "发表评论 取消回复 电子邮件地址不会被公开。 必填项已用*标注",
        "登录后才能发表评论，请先登录或注册。",
        "暂无评论，快来抢沙发吧！",
    ),
    "zh_helpful": ("文章有帮助？点个赞吧！ 点赞 收藏 评论", "觉得文章不错？一键三连支持一下！"),
    "zh_copyright": (
        "版权所有 © {year} {site} 保留所有权利。",
        "Copyright © 2013-{year} {site} 版权所有",
    ),
    "zh_icp": ("京ICP备{icp}号-1", "粤ICP备{icp}号", "沪ICP备{icp}号-2"),
    "zh_related": ("相关推荐", "猜你喜欢", "相关文章"),
    "debian_footer_zh": (
        "返回 Debian 项目首页。 版权所有 © 1997 - {year} SPI 及其他；请参阅许可条款。Debian 是 "
        "Software in the Public Interest, Inc. 的注册商标。",
        "版权所有 © 1997 - {year} SPI 及其他；请参阅许可条款。 Debian 是 Software in the Public "
        "Interest, Inc. 的商标。",
    ),
    "handbook_footer_zh": (
        "《Debian 管理员手册》依据 GPL-2.0+ 与 CC-BY-SA 3.0 发布。购买纸质版或下载电子书。",
        "支持作者：购买《Debian 管理员手册》纸质版。",
    ),
}


@dataclasses.dataclass(frozen=True)
class Family:
    """The chrome of a kind of site: snippet ids above and below the content."""

    header: tuple[str, ...]
    footer: tuple[str, ...]
    date_style: str  # how a page shows its date: "", "py", "blog", "zh", "se"
    chrome_rate: float = 0.75  # share of its pages whose extracted text kept the chrome


FAMILIES: dict[str, Family] = {
    "python": Family(("py_nav",), ("py_bug", "py_footer"), "py"),
    "kernel": Family(("kernel_header",), ("kernel_footer",), ""),
    "debman": Family(("debman_header",), ("debman_footer",), ""),
    "debian": Family(("debian_header",), ("debian_footer",), ""),
    "debian_zh": Family(("debian_header",), ("debian_footer_zh",), ""),
    "handbook": Family(("handbook_banner",), ("handbook_footer",), ""),
    "handbook_zh": Family(("handbook_banner",), ("handbook_footer_zh",), ""),
    "gnu": Family(("gnu_header",), ("gnu_footer",), ""),
    "github": Family(("github_header", "github_repo"), ("github_footer",), ""),
    "gist": Family(("gist_header",), ("github_footer",), ""),
    "sympy": Family(("sympy_header",), ("sympy_footer",), "py"),
    "mpmath": Family((), ("mpmath_footer",), ""),
    "plain": Family((), (), "", 0.0),
    "blog_en": Family(
        ("en_skip_nav", "en_cookie"),
        (
            "en_helpful",
            "en_share",
            "en_related",
            "en_newsletter",
            "en_comment_form",
            "en_copyright",
            "en_powered",
        ),
        "blog",
        0.8,
    ),  # fmt: skip
    "qa_en": Family(("se_header",), ("se_footer", "en_cookie_gdpr"), "se", 0.8),
    "mirror_en": Family(
        ("en_cookie",),
        ("en_mirror_disclaimer", "en_ads", "en_back_to_top", "en_copyright"),
        "",
        0.8,
    ),
    "blog_zh": Family(
        ("zh_nav", "zh_cookie"),
        (
            "zh_copy_notice",
            "zh_helpful",
            "zh_share",
            "zh_related",
            "zh_follow",
            "zh_comments",
            "zh_copyright",
            "zh_icp",
        ),
        "zh",
        0.85,
    ),  # fmt: skip
    "spam_en": Family(("en_cookie", "en_ads"), ("en_related", "en_copyright"), "blog", 0.7),
    "spam_zh": Family(("zh_nav",), ("zh_related", "zh_copyright", "zh_icp"), "zh", 0.7),
}
HOST_FAMILY = {
    "docs.python.org": "python",
    "docs.kernel.org": "kernel",
    "www.kernel.org": "kernel",
    "manpages.debian.org": "debman",
    "www.debian.org": "debian",
    "debian-handbook.info": "handbook",
    "jenkins.debian.net": "plain",
    "www.gnu.org": "gnu",
    "github.com": "github",
    "gist.github.com": "gist",
    "docs.sympy.org": "sympy",
    "mpmath.org": "mpmath",
    "raw.githubusercontent.com": "plain",
    "stackoverflow.com": "qa_en",
    "unix.stackexchange.com": "qa_en",
    "askubuntu.com": "qa_en",
    "superuser.com": "qa_en",
    "math.stackexchange.com": "qa_en",
}

# Where sections of manuals get re-posted (later pieces of long pages) ...
REPOST_HOSTS = {
    ("en", "web"): (
        "medium.com", "dev.to", "linuxhandbook.com", "www.tecmint.com", "www.cyberciti.biz",
        "unix.stackexchange.com", "askubuntu.com", "stackoverflow.com", "superuser.com",
        "wordpress.com", "github.io", "www.baeldung.com", "www.linuxjournal.com",
        "www.howtogeek.com", "opensource.com", "www.geeksforgeeks.org", "realpython.com",
    ),
    ("zh", "web"): (
        "blog.csdn.net", "www.cnblogs.com", "www.jianshu.com", "zhuanlan.zhihu.com",
        "segmentfault.com", "juejin.cn", "linux.cn", "www.oschina.net", "cloud.tencent.com",
        "developer.aliyun.com", "blog.51cto.com", "www.runoob.com",
    ),
    ("en", "code"): ("gist.github.com",),
    ("en", "math"): ("math.stackexchange.com", "medium.com", "github.io", "wordpress.com"),
}  # fmt: skip
# ... exact mirrors (same text, other URL) ...
MIRROR_HOSTS = {
    "docs.python.org": ("docs.w3cub.com", "documentation.help", "python.readthedocs.io"),
    "docs.kernel.org": ("www.kernel.org", "kernel.org", "www.infradead.org"),
    "manpages.debian.org": ("man7.org", "linux.die.net", "manpages.ubuntu.com", "www.mankier.com"),
    "www.debian.org": ("mirrors.tuna.tsinghua.edu.cn", "debian.cn", "www.debian.org.cn"),
    "debian-handbook.info": ("debian-handbook.readthedocs.io", "www.debianhandbook.info"),
    "www.gnu.org": ("gnu.huihoo.com", "www.math.utah.edu", "ftp.gnu.org"),
    "github.com": ("github.com", "gitee.com", "raw.githubusercontent.com"),
    "docs.sympy.org": ("sympy.readthedocs.io", "docs.w3cub.com"),
    "mpmath.org": ("mpmath.readthedocs.io",),
}
MIRROR_HOSTS_DEFAULT = {
    "en": ("www.programmersought.com", "www.codetd.com", "itnext.io", "www.xspdf.com",
           "coderedirect.com", "newbedev.com", "www.anycodings.com"),
    "zh": ("www.cxyzjd.com", "www.pianshen.com", "www.codeleading.com", "www.jb51.net",
           "www.136.la", "www.pythonf.cn", "www.cnblogs.cc"),
}  # fmt: skip
SPAM_WORDS = {
    "en": ("best", "free", "download", "cheap", "top", "online", "2023", "review", "pdf", "buy"),
    "zh": ("免费", "下载", "官网", "最新版", "破解版", "大全", "教程", "在线", "排行榜", "推荐"),
}


def host_of(url: str) -> str:
    return re.sub(r"^[a-z]+://", "", url).split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]


def family_of(host: str, lang: str) -> str:
    bare = host.removeprefix("www.")
    fam = HOST_FAMILY.get(host) or HOST_FAMILY.get(bare) or HOST_FAMILY.get("www." + bare)
    if fam in ("debian", "handbook") and lang == "zh":
        return fam + "_zh"
    if fam:
        return fam
    if host.endswith((".stackexchange.com", "stackoverflow.com")):
        return "qa_en"
    if host in MIRROR_HOSTS_DEFAULT["en"] or any(host in hs for hs in MIRROR_HOSTS.values()):
        return "mirror_en" if lang == "en" else "blog_zh"
    return "blog_zh" if lang == "zh" else "blog_en"


def host_params(host: str) -> dict[str, str]:
    """Per-host values of the snippet placeholders: stable for the host, different across hosts."""
    digest = hashlib.sha256(host.encode()).digest()
    name = host.removeprefix("www.").split(".")[0]
    site = name.replace("-", " ").title() if not name.isdigit() else host
    return {
        "site": site,
        "year": str(2022 + digest[0] % 2),
        "icp": str(10_000_000 + int.from_bytes(digest[1:5], "big") % 89_999_999),
    }


def snippet_text(snippet: str, variant: int, host: str) -> str:
    return SNIPPETS[snippet][variant].format(**host_params(host))


def host_variant(snippet: str, host: str) -> int:
    """The variant of a snippet that a host normally shows."""
    return int(stable_fraction(f"{host}/{snippet}") * len(SNIPPETS[snippet]))


# ----------------------------------------------------------------------------------------------
# URLs: canonical form, crawl variants, re-posts, mirrors
# ----------------------------------------------------------------------------------------------

TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "sessionid", "spm", "from", "ref", "share_token", "mc_cid",
        "mc_eid", "_hsenc", "yclid",
    }
)  # fmt: skip
HANDLES = (
    "devnotes", "linuxtips", "sysadmin", "codewithme", "pyguy", "kernelhacker", "debianfan",
    "opensource", "techblog", "shellninja", "bytesize", "hackerman", "cloudops", "learnlinux",
    "zhangsan", "lisi", "wangwu", "coder", "xiaoming", "jishu", "bianchengxia", "yunwei",
    "mathfan", "algebraic", "numerics", "dataguy", "ops", "netadmin", "terminal", "vimlover",
)  # fmt: skip


def canonical_url(url: str) -> str:
    """https, lower-case host without www., no fragment, no tracking parameters."""
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    parts = urlsplit(url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
    ]
    return urlunsplit(("https", host, parts.path or "/", urlencode(query), ""))


def slugify(text: str, limit: int = 60) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:limit].strip("-")
    return slug or "post"


def handle(rng: random.Random) -> str:
    name = rng.choice(HANDLES)
    return name + (str(rng.randrange(10, 9999)) if rng.random() < 0.6 else "")


def digits(rng: random.Random, n: int) -> str:
    return str(rng.randrange(10 ** (n - 1), 10**n))


def repost_url(unit: Unit, rng: random.Random, day: date) -> str:
    """URL of a blog / Q&A post that re-publishes a section of a manual."""
    host = rng.choice(REPOST_HOSTS[unit.category])
    slug = slugify(unit.title)
    user = handle(rng)
    patterns = {
        "medium.com": f"https://medium.com/@{user}/{slug}-{rng.getrandbits(48):012x}",
        "dev.to": f"https://dev.to/{user}/{slug}-{rng.getrandbits(16):04x}",
        "wordpress.com": f"https://{user}.wordpress.com/{day:%Y/%m/%d}/{slug}/",
        "github.io": f"https://{user}.github.io/posts/{slug}/",
        "blog.csdn.net": f"https://blog.csdn.net/{user}/article/details/{digits(rng, 9)}",
        "www.cnblogs.com": f"https://www.cnblogs.com/{user}/p/{digits(rng, 8)}.html",
        "www.jianshu.com": f"https://www.jianshu.com/p/{rng.getrandbits(48):012x}",
        "zhuanlan.zhihu.com": f"https://zhuanlan.zhihu.com/p/{digits(rng, 9)}",
        "segmentfault.com": f"https://segmentfault.com/a/{digits(rng, 16)}",
        "juejin.cn": f"https://juejin.cn/post/{digits(rng, 19)}",
        "linux.cn": f"https://linux.cn/article-{digits(rng, 5)}-1.html",
        "www.oschina.net": f"https://my.oschina.net/{user}/blog/{digits(rng, 7)}",
        "cloud.tencent.com": f"https://cloud.tencent.com/developer/article/{digits(rng, 7)}",
        "developer.aliyun.com": f"https://developer.aliyun.com/article/{digits(rng, 6)}",
        "blog.51cto.com": f"https://blog.51cto.com/u_{digits(rng, 8)}/{digits(rng, 7)}",
        "www.runoob.com": f"https://www.runoob.com/w3cnote/{slug or 'linux'}-{digits(rng, 4)}.html",
        "gist.github.com": f"https://gist.github.com/{user}/{rng.getrandbits(128):032x}",
    }
    if host in patterns:
        return patterns[host]
    if host in (
        "unix.stackexchange.com",
        "askubuntu.com",
        "stackoverflow.com",
        "superuser.com",
        "math.stackexchange.com",
    ):
        return f"https://{host}/questions/{digits(rng, rng.choice((5, 6, 7, 8)))}/{slug}"
    return f"https://{host}/{slug}/"


def mirror_url(url: str, lang: str, rng: random.Random) -> str:
    """Where a copy of the page at `url` might live on another site."""
    host = host_of(url)
    path = url.split(host, 1)[1].split("?")[0].split("#")[0]
    choices: list[str] = []
    if host == "docs.python.org":
        rel = path.removeprefix("/3/")
        choices = [
            f"https://docs.w3cub.com/python~3.11/{rel.removesuffix('.html')}/",
            f"https://documentation.help/Python-3.11/{Path(rel).stem}.htm",
            f"https://python.readthedocs.io/en/stable/{rel}",
        ]
    elif host == "docs.kernel.org":
        choices = [
            f"https://www.kernel.org/doc/html/v6.1{path}",
            f"https://kernel.org/doc/html/latest{path}",
            f"https://www.infradead.org/~mchehab/kernel_docs{path}",
        ]
    elif host == "manpages.debian.org" and lang == "en":
        name, sec = re.match(r".*/([^/]+)\.(\d\w*)\.en\.html$", path).groups()  # type: ignore[union-attr]
        choices = [
            f"https://man7.org/linux/man-pages/man{sec[0]}/{name}.{sec}.html",
            f"https://linux.die.net/man/{sec[0]}/{name}",
            f"https://manpages.ubuntu.com/manpages/jammy/man{sec[0]}/{name}.{sec}.html",
            f"https://www.mankier.com/{sec}/{name}",
        ]
    elif host == "manpages.debian.org":
        name, sec = re.match(r".*/([^/]+)\.(\d\w*)\.zh_CN\.html$", path).groups()  # type: ignore[union-attr]
        choices = [
            f"https://manpages.ubuntu.com/manpages/jammy/zh_CN/man{sec[0]}/{name}.{sec}.html",
            f"https://man.linuxde.net/{name}",
            f"https://www.mankier.com/{sec}/{name}",
        ]
    elif host == "www.debian.org":
        choices = [
            f"https://mirrors.tuna.tsinghua.edu.cn/debian-doc{path.removeprefix('/doc')}",
            f"https://debian.cn{path}",
            f"https://www.debian.org.cn{path}",
        ]
    elif host == "debian-handbook.info":
        choices = [
            f"https://debian-handbook.readthedocs.io/{path.split('/')[2]}/{Path(path).name}",
            f"https://www.debianhandbook.info{path}",
        ]
    elif host == "www.gnu.org":
        pkg = path.split("/")[2]
        choices = [
            f"https://gnu.huihoo.com/{pkg}/html_node/{Path(path).name}",
            f"https://www.math.utah.edu/docs/info/{pkg}_{Path(path).stem}.html",
        ]
    elif host == "github.com":
        owner, repo, _, ref, rest = path.strip("/").split("/", 4)
        choices = [
            f"https://github.com/{handle(rng)}/{repo}/blob/main/{rest}",
            f"https://gitee.com/mirrors/{repo}/blob/{ref}/{rest}",
            f"https://raw.githubusercontent.com/{owner}/{repo}/{ref}/{rest}",
        ]
    elif host in ("docs.sympy.org", "mpmath.org"):
        name = Path(path).name
        project = "sympy" if host == "docs.sympy.org" else "mpmath"
        choices = [
            f"https://{project}.readthedocs.io/en/latest/generated/{name}",
            f"https://docs.w3cub.com/{project}/{Path(name).stem}/",
        ]
    if choices and rng.random() < 0.8:
        return rng.choice(choices)
    return farm_url(lang, rng)


def farm_url(lang: str, rng: random.Random) -> str:
    """A content-farm / scraper URL (these sites copy pages, often with small changes)."""
    host = rng.choice(MIRROR_HOSTS_DEFAULT[lang])
    style = rng.randrange(3)
    if style == 0:
        return f"https://{host}/article/{digits(rng, 10)}/"
    if style == 1:
        return (
            f"https://{host}/{rng.choice(('article', 'post', 'blog', 'a'))}/{digits(rng, 8)}.html"
        )
    return (
        f"https://{host}/{rng.choice(('linux', 'python', 'tech', 'detail'))}/{digits(rng, 6)}.html"
    )


def near_duplicate_url(url: str, lang: str, rng: random.Random) -> str:
    """Another address of a slightly different copy: other doc version, scraper or re-post."""
    host = host_of(url)
    path = url.split(host, 1)[1].split("?")[0].split("#")[0]
    roll = rng.random()
    if host == "docs.python.org" and roll < 0.5:
        version = rng.choice(("3.10", "3.12", "3.9"))
        return f"https://docs.python.org/{version}/{path.removeprefix('/3/')}"
    if host == "docs.kernel.org" and roll < 0.5:
        return f"https://www.kernel.org/doc/html/{rng.choice(('v6.0', 'v5.15', 'v6.2'))}{path}"
    if roll < 0.35:
        return mirror_url(url, lang, rng)
    return farm_url(lang, rng)


def spam_url(lang: str, domain: str, keywords: Sequence[str], rng: random.Random) -> str:
    """URL of a low-quality page: keyword-stuffed domains, paste sites, numeric zh sites."""
    if domain == "code":
        if rng.random() < 0.5:
            key = "".join(
                rng.choices("ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789", k=8)
            )
            return f"https://pastebin.com/{key}"
        return f"https://gist.github.com/{handle(rng)}/{rng.getrandbits(128):032x}"
    if lang == "zh":
        name = "".join(rng.choices("abcdefghjklmnpqrstwxyz", k=rng.randrange(3, 6)))
        tld = rng.choice(("cn", "com.cn", "net", "com", "top"))
        section = rng.choice(("soft", "news", "html", "info"))
        return f"http://www.{name}{digits(rng, 3)}.{tld}/{section}/{digits(rng, 6)}.html"
    words = [slugify(k, 20) for k in keywords[:3] if slugify(k, 20) != "post"] or ["free"]
    tld = rng.choice(("com", "net", "xyz", "info", "online", "top", "site"))
    name = "-".join([rng.choice(SPAM_WORDS["en"]), *words[:2]])
    return f"http://{name}.{tld}/{'-'.join(words)}-{digits(rng, 4)}.html"


def decorate_url(url: str, lang: str, rng: random.Random, anchors: Sequence[str] = ()) -> str:
    """A variant of `url` as a crawler finds it: http, www., tracking parameters, #fragment."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    scheme, host, path, query, fragment = parts
    if rng.random() < 0.3:
        scheme = "http"
    labels = host.split(".")
    if rng.random() < 0.2:
        if host.startswith("www."):
            host = host[4:]
        elif len(labels) == 2:
            host = "www." + host
    if rng.random() < 0.45:
        style = rng.randrange(5) if lang == "en" else rng.choice((0, 3, 4, 4))
        params = [
            f"utm_source={rng.choice(('twitter', 'newsletter', 'reddit', 'hn', 'facebook'))}"
            f"&utm_medium={rng.choice(('social', 'email', 'referral'))}"
            f"&utm_campaign={rng.choice(('weekly', 'docs', 'share', 'spring2023'))}",
            f"fbclid=IwAR{rng.getrandbits(120):030x}",
            f"gclid=Cj0KCQjw{rng.getrandbits(96):024x}",
            f"sessionid={rng.getrandbits(64):016x}",
            f"spm=1001.2014.3001.{rng.randrange(5000, 9999)}"
            if lang == "zh"
            else f"utm_source=feedly&utm_medium=rss&ref={handle(rng)}",
        ][style]
        query = f"{query}&{params}" if query else params
    if rng.random() < 0.25:
        if host.endswith("github.com") and "/blob/" in path:
            start = rng.randrange(1, 200)
            fragment = f"L{start}-L{start + rng.randrange(3, 40)}"
        elif anchors:
            fragment = slugify(rng.choice(list(anchors)), 40)
        else:
            fragment = rng.choice(("comments", "content", "top", "main"))
    return urlunsplit((scheme, host, path, query, fragment))


# ----------------------------------------------------------------------------------------------
# Documents
# ----------------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PiiValue:
    """A personal-data value inside a line: offsets are relative to the line."""

    start: int
    end: int
    entity: str
    value: str
    locale: str


@dataclasses.dataclass(frozen=True)
class Line:
    """One line (block) of a document; the role says where it came from."""

    text: str
    role: str  # "chrome" | "title" | "body" | "code" | "date" | "pii"
    snippet: str = ""
    variant: int = -1
    pii: tuple[PiiValue, ...] = ()


@dataclasses.dataclass
class Doc:
    """A crawled document under construction (text = its lines joined by `sep`)."""

    id: str
    dump: str
    day: date
    url: str
    base_url: str  # the URL without crawl decoration (recrawls decorate it anew)
    lang: str
    domain: str
    source: str
    unit: str
    lines: list[Line]
    sep: str
    kind: str = "original"
    of_id: str | None = None
    cluster: str = ""
    edit_kind: str | None = None
    lowq_kind: str | None = None
    hint: str | None = None
    code_lang: str = ""
    anchors: tuple[str, ...] = ()

    @property
    def category(self) -> tuple[str, str]:
        return (self.lang, self.domain)

    def text(self) -> str:
        return self.sep.join(line.text for line in self.lines)

    def host(self) -> str:
        return host_of(self.base_url)


def page_date_text(style: str, day: date, lang: str, rng: random.Random) -> str:
    """How a page shows when it was published or last updated."""
    if style == "py":
        clock = f"{rng.randrange(0, 24):02d}:{rng.randrange(60):02d}"
        return f"Last updated on {day:%b %d, %Y} ({clock} UTC)."
    if style == "se":
        return (
            f"asked {day:%b} {day.day}, {day:%Y} at {rng.randrange(0, 24)}:{rng.randrange(60):02d}"
        )
    if style == "zh" or lang == "zh":
        views = rng.randrange(80, 60000)
        clock = f"{rng.randrange(24):02d}:{rng.randrange(60):02d}"
        return rng.choice(
            (
                f"发布于 {day:%Y-%m-%d} {clock}:{rng.randrange(60):02d} 阅读 {views}",
                f"更新时间：{day.year}年{day.month}月{day.day}日",
                f"{day:%Y-%m-%d} {clock} 发布 · 阅读量 {views}",
            )
        )
    return rng.choice(
        (
            f"Posted on {day:%B} {day.day}, {day:%Y}",
            f"Last updated: {day:%Y-%m-%d}",
            f"Published {day:%d %b %Y} · {rng.randrange(2, 15)} min read",
        )
    )


def chrome_lines(
    family: Family, host: str, where: str, rng: random.Random, force: bool = False
) -> list[Line]:
    """Header or footer snippet lines of a page on `host` (a host mostly keeps one variant)."""
    ids = family.header if where == "header" else family.footer
    lines: list[Line] = []
    for snippet in ids:
        if not force and len(ids) > 2 and rng.random() < 0.35:
            continue  # sites show a subset of the widgets
        variant = host_variant(snippet, host)
        if rng.random() < 0.12:
            variant = rng.randrange(len(SNIPPETS[snippet]))
        lines.append(Line(snippet_text(snippet, variant, host), "chrome", snippet, variant))
    return lines


def make_page(
    unit: Unit, url: str, day: date, rng: random.Random, *, chrome: bool | None = None
) -> tuple[list[Line], str]:
    """Lines of a page showing `unit` at `url`: chrome, title, content, date stamp."""
    host = host_of(url)
    family = FAMILIES[family_of(host, unit.lang)]
    with_chrome = chrome if chrome is not None else rng.random() < family.chrome_rate
    sep = "\n\n" if unit.domain == "code" else "\n"
    role = "code" if unit.domain == "code" else "body"
    content = [Line(text, role) for _, text in unit.blocks]
    lines: list[Line] = []
    if with_chrome:
        lines += chrome_lines(family, host, "header", rng)
    first_kind, first_text = unit.blocks[0]
    starts_with_title = first_text == unit.title or (first_kind in HEADINGS and unit.piece == 0)
    if unit.domain != "code" and not starts_with_title:
        lines.append(Line(unit.title, "title"))
    lines += content
    if with_chrome and family.date_style and rng.random() < 0.7:
        published = day - timedelta(days=int(rng.expovariate(1 / 200)) + 1)
        date_line = Line(page_date_text(family.date_style, published, unit.lang, rng), "date")
        first = next(i for i, line in enumerate(lines) if line.role != "chrome")
        lines.insert(len(lines) if family.date_style == "py" else first + 1, date_line)
    if with_chrome:
        lines += chrome_lines(family, host, "footer", rng)
    return lines, sep


# ----------------------------------------------------------------------------------------------
# PII injection (Faker, several locales)
# ----------------------------------------------------------------------------------------------

PII_LOCALES = ("en_US", "en_GB", "de_DE", "ja_JP", "zh_CN")
PII_TEMPLATES: dict[str, tuple[str, ...]] = {
    "en_US": (
        "If you have questions about this page, contact {PERSON} at {EMAIL_ADDRESS} or call "
        "{PHONE_NUMBER}.",
        "Comment posted by {PERSON} ({EMAIL_ADDRESS}) from {IP_ADDRESS}",
        "Shipping address: {PERSON}, {STREET_ADDRESS}. Phone: {PHONE_NUMBER}",
        "Order confirmation was sent to {EMAIL_ADDRESS}. Card used: {CREDIT_CARD}.",
        "My SSN is {US_SSN} and the online form keeps rejecting it, can anyone help? Thanks, "
        "{PERSON}",
        "The build server at {IP_ADDRESS} is maintained by {PERSON} <{EMAIL_ADDRESS}>.",
    ),
    "en_GB": (
        "Please send the registration fee to IBAN {IBAN_CODE} (account holder: {PERSON}).",
        "Contact {PERSON}, {STREET_ADDRESS}, tel. {PHONE_NUMBER}, National Insurance number "
        "{UK_NINO}.",
        "Reply from {PERSON} <{EMAIL_ADDRESS}>: this worked for me on a fresh install.",
    ),
    "de_DE": (
        "Kontakt: {PERSON}, {STREET_ADDRESS}, Tel. {PHONE_NUMBER}, E-Mail: {EMAIL_ADDRESS}",
        "Bankverbindung: IBAN {IBAN_CODE}, Kontoinhaber {PERSON}",
        "Posted by {PERSON} ({EMAIL_ADDRESS}), IP {IP_ADDRESS}",
    ),
    "ja_JP": (
        "お問い合わせ：{PERSON}（電話 {PHONE_NUMBER}、メール {EMAIL_ADDRESS}）",
        "Tokyo office: {PERSON}, {STREET_ADDRESS}, phone {PHONE_NUMBER}",
    ),
    "zh_CN": (
        "联系人：{PERSON}，手机：{PHONE_NUMBER}，邮箱：{EMAIL_ADDRESS}",
        "本人{PERSON}，身份证号 {CN_RESIDENT_ID}，特此声明。",
        "收货地址：{STREET_ADDRESS}，收件人：{PERSON}，电话：{PHONE_NUMBER}",
        "服务器 IP：{IP_ADDRESS}，管理员：{PERSON}（{EMAIL_ADDRESS}）",
        "退款请转到银行卡 {CREDIT_CARD}（户名：{PERSON}），谢谢！",
        "{PERSON} 评论于 {IP_ADDRESS}：这个方法在我的机器上可以用，感谢楼主！"
        "有问题可以发邮件到 {EMAIL_ADDRESS}。",
    ),
    "code_python": (
        "# Maintainer: {PERSON} <{EMAIL_ADDRESS}>",
        "# Copyright (C) 2023 {PERSON} <{EMAIL_ADDRESS}>",
        'DB_HOST = "{IP_ADDRESS}"  # ask {PERSON} ({EMAIL_ADDRESS}) for the credentials',
        "# TODO({EMAIL_ADDRESS}): remove the hard-coded test card {CREDIT_CARD}",
    ),
    "code_c": (
        "/* Contact: {PERSON} <{EMAIL_ADDRESS}>, phone {PHONE_NUMBER} */",
        "/* Reported-by: {PERSON} <{EMAIL_ADDRESS}> */",
        '#define TEST_SERVER "{IP_ADDRESS}" /* {PERSON} */',
    ),
    "math": (
        "Solution submitted by {PERSON} ({EMAIL_ADDRESS}).",
        "Thanks to {PERSON} <{EMAIL_ADDRESS}> for pointing out the error in the second identity.",
    ),
}
PII_LOCALE_WEIGHTS = {
    "en": (("en_US", 0.5), ("en_GB", 0.15), ("de_DE", 0.2), ("ja_JP", 0.15)),
    "zh": (("zh_CN", 1.0),),
    "code": (("en_US", 0.5), ("de_DE", 0.2), ("ja_JP", 0.1), ("zh_CN", 0.2)),
}
CN_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def cn_resident_id_valid(value: str) -> bool:
    """ISO 7064 MOD 11-2 check of an 18-digit PRC resident identity card number."""
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    total = sum(int(d) * w for d, w in zip(value[:17], CN_ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == value[17]


class PiiFactory:
    """Fake personal data from seeded Faker instances (one per locale)."""

    def __init__(self, seed: int) -> None:
        self.fakers: dict[str, Faker] = {}
        for i, locale in enumerate(PII_LOCALES):
            fake = Faker(locale)
            fake.seed_instance(seed + i)
            self.fakers[locale] = fake

    def value(self, entity: str, locale: str, rng: random.Random) -> str:
        fake = self.fakers[locale]
        if entity == "PERSON":
            return fake.name()
        if entity == "EMAIL_ADDRESS":
            return rng.choice((fake.email, fake.free_email, fake.company_email))()
        if entity == "PHONE_NUMBER":
            return fake.phone_number()
        if entity == "STREET_ADDRESS":
            return re.sub(r"\s*\n\s*", ", ", fake.address())
        if entity == "CREDIT_CARD":
            number = fake.credit_card_number()
            if len(number) == 16 and rng.random() < 0.4:
                number = " ".join(number[i : i + 4] for i in range(0, 16, 4))
            return number
        if entity == "IBAN_CODE":
            iban = fake.iban()
            return (
                " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
                if rng.random() < 0.5
                else iban
            )
        if entity == "IP_ADDRESS":
            return fake.ipv6() if rng.random() < 0.15 else fake.ipv4_public()
        if entity in ("US_SSN", "UK_NINO"):
            return fake.ssn()
        if entity == "CN_RESIDENT_ID":
            value = fake.ssn()
            assert cn_resident_id_valid(value), value
            return value
        raise ValueError(entity)

    def line(self, doc: Doc, rng: random.Random) -> Line:
        """A line of realistic context carrying personal data, for `doc`'s language/domain."""
        if doc.domain == "code":
            locale = weighted(rng, PII_LOCALE_WEIGHTS["code"])
            group = "code_c" if doc.code_lang == "c" else "code_python"
        elif doc.domain == "math":
            locale = weighted(rng, PII_LOCALE_WEIGHTS["en"])
            group = "math"
        else:
            locale = weighted(rng, PII_LOCALE_WEIGHTS[doc.lang])
            group = locale
        template = rng.choice(PII_TEMPLATES[group])
        text = ""
        values: list[PiiValue] = []
        for literal, entity in re.findall(r"([^{]*)(?:\{([A-Z_]+)\})?", template):
            text += literal
            if entity:
                value = self.value(entity, locale, rng)
                values.append(PiiValue(len(text), len(text) + len(value), entity, value, locale))
                text += value
        return Line(text, "pii", pii=tuple(values))


def weighted(rng: random.Random, pairs: Sequence[tuple[str, float]]) -> str:
    return rng.choices([k for k, _ in pairs], weights=[w for _, w in pairs])[0]


def inject_pii(doc: Doc, factory: PiiFactory, rng: random.Random) -> None:
    """Insert one or two PII lines among the content lines (or as a comment at the end)."""
    for _ in range(1 if rng.random() < 0.8 else 2):
        content = [i for i, line in enumerate(doc.lines) if line.role in ("body", "code")]
        if not content:
            return
        if doc.domain == "code" and rng.random() < 0.5:
            position = content[0]
        elif rng.random() < 0.4:
            position = content[-1] + 1
        else:
            position = rng.choice(content[1:] or content)
        doc.lines.insert(position, factory.line(doc, rng))


# ----------------------------------------------------------------------------------------------
# Low-quality pages (for the perplexity filter), built from real text
# ----------------------------------------------------------------------------------------------

STOPWORDS_EN = frozenset(
    {
        "the", "and", "that", "this", "with", "from", "for", "are", "was", "were", "have",
        "has", "had", "not", "but", "can", "will", "when", "then", "than", "there", "their",
        "which", "what", "into", "only", "also", "such", "each", "other", "more", "most",
        "some", "used", "uses", "using", "use", "these", "those", "been", "being", "does",
        "should", "would", "could", "must", "may", "might", "your", "you", "they", "them",
        "its", "file", "files", "option", "options", "default", "value", "values", "example",
        "following", "see", "note",
    }
)  # fmt: skip


def keywords(unit: Unit, n: int = 12) -> list[str]:
    """The unit's most frequent content words (zh: character bigrams/trigrams)."""
    text = " ".join(t for _, t in unit.blocks)
    counts: Counter[str] = Counter()
    if unit.lang == "zh":  # short runs of Han characters between punctuation are mostly words
        counts.update(run for run in re.findall(r"[\u4e00-\u9fff]+", text) if 2 <= len(run) <= 4)
        if len(counts) < 6:
            for run in re.findall(r"[\u4e00-\u9fff]+", text):
                counts.update(run[i : i + 2] for i in range(len(run) - 1))
    else:
        counts.update(
            w.lower()
            for w in re.findall(r"[A-Za-z][A-Za-z_\-]{3,}", text)
            if w.lower() not in STOPWORDS_EN
        )
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [w for w, _ in ranked[:n]] or (["linux"] if unit.lang == "en" else ["教程"])


def lowq_keyword_spam(unit: Unit, rng: random.Random) -> list[str]:
    kws = keywords(unit)

    def pick() -> str:
        return rng.choice(kws)

    if unit.lang == "zh":
        templates = (
            "{a}{b}下载", "{a}官网 {b}最新版 {c}免费下载", "{a}{b}破解版", "最新{a}{b}大全",
            "{a}教程 {a}视频 {a}在线 {b}", "{a}{b}{c}排行榜", "{a}{b}哪个好 {c}推荐",
        )  # fmt: skip
        tags = "标签：" + "，".join(kws)
        title = f"{kws[0]}{pick()}免费下载_{pick()}官网最新版"
    elif unit.domain == "math":
        templates = (
            "math homework help {a} {b}", "{a} calculator free online",
            "solve {a} {b} step by step",
            "{a} formula sheet pdf", "{a} {b} answers key {c}", "{a} {b} {c} worksheet free",
        )  # fmt: skip
        tags = "Tags: " + ", ".join(kws)
        title = f"{kws[0].title()} Calculator – Free {pick().title()} Homework Help"
    else:
        templates = (
            "{a} {b} {c}", "best {a} {b} free download", "{a} {b} 2023 latest version",
            "cheap {a} {b} online", "{a} tutorial pdf {b}", "buy {a} {b} {c} review",
            "{a} {a} {b} {b} {c}", "top 10 {a} {b} for {c}", "{a} {b} crack serial key",
        )  # fmt: skip
        tags = "Tags: " + ", ".join(kws)
        title = f"Best {kws[0].title()} {pick().title()} 2023 – Free {pick().title()} Download"
    lines = [title]
    first_real = next((t for k, t in unit.blocks if k == "p" and len(t) > 60), "")
    if first_real and rng.random() < 0.6:
        lines.append(first_real)
    for _ in range(rng.randrange(12, 40)):
        lines.append(rng.choice(templates).format(a=pick(), b=pick(), c=pick()))
    lines.append(tags)
    return lines


def lowq_shuffled_words(unit: Unit, rng: random.Random) -> list[str]:
    """All tokens of the page shuffled, then poured back into lines of the original lengths."""
    lines = [t for _, t in unit.blocks]
    if unit.lang == "zh":
        tokens = [ch for line in lines for ch in line if not ch.isspace()]
        sizes = [sum(1 for ch in line if not ch.isspace()) for line in lines]
        joiner = ""
    else:
        tokens = [tok for line in lines for tok in line.split()]
        sizes = [len(line.split()) for line in lines]
        joiner = " "
    rng.shuffle(tokens)
    out: list[str] = []
    pos = 0
    for size in sizes:
        out.append(joiner.join(tokens[pos : pos + size]))
        pos += size
    return [line for line in out if line]


def garble_word(word: str, rng: random.Random) -> str:
    if len(word) < 2 or rng.random() > 0.45:
        return word
    i = rng.randrange(len(word) - 1)
    op = rng.randrange(4)
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == 1:
        return word[:i] + word[i + 1 :]
    letter = rng.choice("abcdefghijklmnopqrstuvwxyzäöüßçñ0123456789@#")
    if op == 2:
        return word[:i] + letter + word[i:]
    return word[:i] + letter + word[i + 1 :]


def lowq_garbled(unit: Unit, rng: random.Random) -> list[str]:
    """Machine-garbled text: zh mojibake (UTF-8 read as GBK), en character noise, code minified."""
    lines = [t for _, t in unit.blocks]
    if unit.lang == "zh":
        return [line.encode("utf-8").decode("gbk", errors="replace") for line in lines]
    if unit.domain == "code":
        names: dict[str, str] = {}
        keywords_py = frozenset(
    {
        "def", "class", "return", "if", "else", "elif", "for", "while", "import", "from", "as",
        "in", "not", "and", "or", "is", "None", "True", "False", "try", "except", "finally",
        "with", "lambda", "yield", "raise", "pass", "break", "continue", "global", "assert",
        "int", "char", "void", "struct", "const", "unsigned", "long", "static", "define",
        "include",
    }
)  # fmt: skip

        def rename(m: re.Match[str]) -> str:
            word = m.group(0)
            if word in keywords_py:
                return word
            return names.setdefault(word, f"_0x{rng.getrandbits(16):04x}")

        out = []
        for line in lines:
            code = re.sub(r"\b[A-Za-z_][A-Za-z_0-9]{2,}\b", rename, line)
            out.append(";".join(part.strip() for part in code.splitlines() if part.strip()))
        return out
    return [" ".join(garble_word(w, rng) for w in line.split()) for line in lines]


def lowq_number_table(unit: Unit, rng: random.Random) -> list[str]:
    """Tables of numbers: price histories, lookup tables in code, tables of function values."""
    rows = rng.randrange(30, 110)
    day = date(2022, 1, 3)
    if unit.domain == "code":
        values = [f"0x{rng.getrandbits(8):02x}" for _ in range(rows * 12)]
        body = [", ".join(values[i : i + 12]) + "," for i in range(0, len(values), 12)]
        if unit.code_lang == "c":
            return ["static const unsigned char table_data[] = {", *body, "};"]
        return ["TABLE_DATA = [", *body, "]"]
    if unit.domain == "math":
        out = ["x | f(x) | f'(x) | f''(x) | rel. error"]
        x = rng.uniform(-5, 0)
        for _ in range(rows):
            x += rng.uniform(0.01, 0.2)
            vals = [rng.uniform(-100, 100) for _ in range(3)]
            out.append(
                f"{x:.4f} | "
                + " | ".join(f"{v:.6f}" for v in vals)
                + f" | {rng.uniform(0, 1e-6):.2e}"
            )
        return out
    price = rng.uniform(5, 500)
    header = (
        "序号 | 日期 | 开盘 | 最高 | 最低 | 收盘 | 成交量"
        if unit.lang == "zh"
        else "# | Date | Open | High | Low | Close | Volume"
    )
    out = [unit.title if unit.lang == "en" else f"{unit.title} 数据表", header]
    for i in range(rows):
        day += timedelta(days=1 + (day.weekday() == 4) * 2)
        o = price
        h, low_ = o * rng.uniform(1.0, 1.05), o * rng.uniform(0.95, 1.0)
        price = rng.uniform(low_, h)
        volume = rng.randrange(10_000, 9_000_000)
        out.append(
            f"{i + 1} | {day:%Y-%m-%d} | {o:.2f} | {h:.2f} | {low_:.2f} | {price:.2f} | {volume:,}"
        )
    return out


LOWQ_MAKERS: dict[str, Callable[[Unit, random.Random], list[str]]] = {
    "keyword_spam": lowq_keyword_spam,
    "shuffled_words": lowq_shuffled_words,
    "garbled": lowq_garbled,
    "number_table": lowq_number_table,
}


# ----------------------------------------------------------------------------------------------
# Edits that turn a copy into a near-duplicate (or an edited recrawl)
# ----------------------------------------------------------------------------------------------


class SentenceBank:
    """Real sentences from pages not used anywhere else, for sentence edits."""

    def __init__(self, units: Iterable[Unit]) -> None:
        self.sentences: dict[str, list[str]] = {"en": [], "zh": []}
        for unit in units:
            if unit.domain != "web":
                continue
            for kind, text in unit.blocks:
                if kind != "p":
                    continue
                for s in SENTENCE_RE[unit.lang].split(text):
                    if (40 if unit.lang == "en" else 12) <= len(s) <= 220:
                        self.sentences[unit.lang].append(s.strip())

    def draw(self, lang: str, rng: random.Random) -> str:
        return rng.choice(self.sentences[lang])


def edit_header_footer(doc: Doc, rng: random.Random, bank: SentenceBank) -> bool:
    """Change the site chrome: other widget variants, a new banner, or the chrome of a new host."""
    host = doc.host()
    family = FAMILIES[family_of(host, doc.lang)]
    chrome = [i for i, line in enumerate(doc.lines) if line.role == "chrome"]
    content = [line for line in doc.lines if line.role != "chrome"]
    if not chrome or rng.random() < 0.3:
        header = chrome_lines(family, host, "header", rng)
        footer = chrome_lines(family, host, "footer", rng)
        banner = "zh_cookie" if doc.lang == "zh" else "en_cookie"
        if all(line.snippet != banner for line in header) and (not header or rng.random() < 0.5):
            variant = rng.randrange(len(SNIPPETS[banner]))
            header.insert(0, Line(snippet_text(banner, variant, host), "chrome", banner, variant))
        doc.lines = header + content + footer
        return True
    for _ in range(rng.randrange(1, 3)):
        op = rng.randrange(3)
        chrome = [i for i, line in enumerate(doc.lines) if line.role == "chrome"]
        if op == 0 and chrome:  # another variant of a widget
            i = rng.choice(chrome)
            line = doc.lines[i]
            others = [v for v in range(len(SNIPPETS[line.snippet])) if v != line.variant]
            if others:
                v = rng.choice(others)
                doc.lines[i] = Line(snippet_text(line.snippet, v, host), "chrome", line.snippet, v)
        elif op == 1 and len(chrome) > 1:  # a widget disappears
            del doc.lines[rng.choice(chrome)]
        else:  # a new banner at the top or bottom
            pool = (
                ("zh_follow", "zh_cookie", "zh_share")
                if doc.lang == "zh"
                else ("en_newsletter", "en_cookie", "en_share", "en_ads")
            )
            snippet = rng.choice(pool)
            if any(line.snippet == snippet for line in doc.lines):
                continue
            v = rng.randrange(len(SNIPPETS[snippet]))
            line = Line(snippet_text(snippet, v, host), "chrome", snippet, v)
            doc.lines.insert(0 if rng.random() < 0.5 else len(doc.lines), line)
    return True


def edit_date_stamp(doc: Doc, rng: random.Random, bank: SentenceBank) -> bool:
    """Replace (or add) the page's 'last updated' line with the new crawl's date."""
    style = FAMILIES[family_of(doc.host(), doc.lang)].date_style or (
        "zh" if doc.lang == "zh" else "blog"
    )
    if doc.domain == "code":
        stamp = (
            f"# Last modified: {doc.day:%Y-%m-%d}"
            if doc.code_lang != "c"
            else (f"/* Last modified: {doc.day:%Y-%m-%d} */")
        )
        line = Line(stamp, "date")
    else:
        day = doc.day - timedelta(days=rng.randrange(0, 20))
        line = Line(page_date_text(style, day, doc.lang, rng), "date")
    dated = [i for i, old in enumerate(doc.lines) if old.role == "date"]
    if dated:
        doc.lines[dated[0]] = line
    else:
        first = next((i for i, old in enumerate(doc.lines) if old.role != "chrome"), 0)
        doc.lines.insert(first + (doc.domain != "code"), line)
    return True


def edit_sentences(doc: Doc, rng: random.Random, bank: SentenceBank) -> bool:
    """Edit a few sentences (code: a few lines): delete, replace, insert or swap words."""
    candidates = [
        i
        for i, line in enumerate(doc.lines)
        if line.role in ("body", "code") and len(line.text) > 60
    ]
    if not candidates:
        return False
    changed = False
    size = sum(len(line.text) for line in doc.lines)
    n_edits = rng.randrange(1, 2 + (size > 2000) + (size > 4000))
    for i in rng.sample(candidates, min(len(candidates), n_edits)):
        line = doc.lines[i]
        if line.role == "code" or "\n" in line.text:  # code, or a verbatim block in prose
            new = edit_code_block(line.text, rng)
        else:
            new = edit_prose(line.text, doc.lang, rng, bank)
        if new != line.text and new.strip():
            doc.lines[i] = Line(new, line.role)
            changed = True
    return changed


def edit_prose(text: str, lang: str, rng: random.Random, bank: SentenceBank) -> str:
    sentences = [s for s in SENTENCE_RE[lang].split(text) if s]
    joiner = " " if lang == "en" else ""
    op = rng.randrange(4)
    if op < 2 and len(sentences) < 2:
        op = 2  # never delete or replace a paragraph's only sentence
    if op == 0:
        del sentences[rng.randrange(len(sentences))]
    elif op == 1:
        sentences[rng.randrange(len(sentences))] = bank.draw(lang, rng)
    elif op == 2:
        sentences.insert(rng.randrange(len(sentences) + 1), bank.draw(lang, rng))
    else:
        words = text.split(" ") if lang == "en" else list(text)
        if len(words) > 4:
            j = rng.randrange(len(words) - 1)
            words[j], words[j + 1] = words[j + 1], words[j]
        return (" " if lang == "en" else "").join(words)
    return joiner.join(sentences)


def edit_code_block(text: str, rng: random.Random) -> str:
    lines = text.split("\n")
    op = rng.randrange(3)
    if op == 0:  # rename an identifier throughout the block
        counts = Counter(re.findall(r"\b[a-z_][a-z0-9_]{3,}\b", text))
        names = sorted(name for name, n in counts.items() if n <= 3)
        if names:
            old = rng.choice(names)
            return re.sub(
                rf"\b{re.escape(old)}\b", old + rng.choice(("_", "2", "_new", "_tmp")), text
            )
    if op == 1:  # change a number
        numbers = list(re.finditer(r"\b\d+\b", text))
        if numbers:
            m = rng.choice(numbers)
            return text[: m.start()] + str(int(m.group()) + rng.randrange(1, 9)) + text[m.end() :]
    if len(lines) > 2:  # drop a line
        del lines[rng.randrange(1, len(lines))]
    return "\n".join(lines)


def edit_paragraph_reorder(doc: Doc, rng: random.Random, bank: SentenceBank) -> bool:
    """Move a run of content blocks (paragraphs, code blocks) elsewhere on the page."""
    content = [i for i, line in enumerate(doc.lines) if line.role in ("body", "code", "pii")]
    if len(content) < 4:
        return False
    start = rng.randrange(len(content) - 1)
    length = rng.randrange(1, min(4, len(content) - start) + 1)
    moved_idx = content[start : start + length]
    moved = [doc.lines[i] for i in moved_idx]
    rest = [i for i in content if i not in moved_idx]
    slots = [doc.lines[i] for i in rest]
    target = rng.randrange(len(slots) + 1)
    if target == start:
        target = (target + 1) % (len(slots) + 1)
    new_content = slots[:target] + moved + slots[target:]
    for i, line in zip(content, new_content, strict=True):
        doc.lines[i] = line
    return True


EDITS: dict[str, Callable[[Doc, random.Random, SentenceBank], bool]] = {
    "header_footer": edit_header_footer,
    "date_stamp": edit_date_stamp,
    "sentence_edit": edit_sentences,
    "paragraph_reorder": edit_paragraph_reorder,
}
# which edits recrawled pages get (sites mostly bump dates and chrome) and near-duplicates get
RECRAWL_EDIT_WEIGHTS = (("date_stamp", 0.35), ("sentence_edit", 0.3), ("header_footer", 0.2),
                        ("paragraph_reorder", 0.15))  # fmt: skip
NEAR_DUP_EDIT_WEIGHTS = (("header_footer", 0.3), ("date_stamp", 0.15), ("sentence_edit", 0.3),
                         ("paragraph_reorder", 0.25))  # fmt: skip


# ----------------------------------------------------------------------------------------------
# Choosing the real text for the dumps and for reference/
# ----------------------------------------------------------------------------------------------

# share of each category's documents that each source provides (shortfalls go to the others)
SOURCE_WEIGHTS: dict[tuple[str, str], dict[str, float]] = {
    ("en", "web"): {"manpages": 0.27, "linux-doc": 0.24, "python-doc": 0.17, "gnu-manual": 0.12,
                    "debian-handbook": 0.07, "debian-reference": 0.04, "debian-faq": 0.02,
                    "maint-guide": 0.02, "debian-edu": 0.02, "installation-guide": 0.03},
    ("zh", "web"): {"manpages": 0.5, "debian-handbook": 0.12, "debian-reference": 0.12,
                    "debian-faq": 0.04, "maint-guide": 0.04, "debian-edu": 0.05,
                    "installation-guide": 0.13},
    ("en", "code"): {"cpython-lib": 0.42, "sympy-tests": 0.22, "linux-uapi": 0.28,
                     "bash-examples": 0.08},
    ("en", "math"): {"sympy-docs": 0.72, "mpmath-docs": 0.2, "python-doc": 0.08},
}  # fmt: skip


def normalized_key(unit: Unit) -> str:
    text = " ".join(t for k, t in unit.blocks if k not in HEADINGS)
    return re.sub(r"\W+", "", text.lower())[:400]


def split_units(
    units: list[Unit], rng: random.Random
) -> tuple[dict[tuple[str, str], list[Unit]], dict[tuple[str, str], list[Unit]]]:
    """Per category: units for the dumps and units for reference/ (both shuffled).

    A page goes wholly to reference/ or wholly to the dumps (by a hash of its URL), and pages
    that are the same text under two names (man page aliases) are kept once.
    """
    seen: set[str] = set()
    corpus: dict[tuple[str, str], list[Unit]] = defaultdict(list)
    reference: dict[tuple[str, str], list[Unit]] = defaultdict(list)
    for unit in units:
        key = normalized_key(unit)
        if key in seen:
            continue
        seen.add(key)
        if stable_fraction(unit.page_url) < REFERENCE_PAGE_SHARE:
            reference[unit.category].append(unit)
        else:
            corpus[unit.category].append(unit)
    for pool in (*corpus.values(), *reference.values()):
        rng.shuffle(pool)
    return corpus, reference


def pick_units(
    pool: list[Unit], needed: int, weights: dict[str, float], rng: random.Random
) -> tuple[list[Unit], list[Unit]]:
    """Choose `needed` units following the source weights; first pieces of pages come first."""
    by_source: dict[str, list[Unit]] = defaultdict(list)
    for unit in pool:
        by_source[unit.source].append(unit)
    for units in by_source.values():
        firsts = [u for u in units if u.piece == 0]
        rest = [u for u in units if u.piece > 0]
        # mostly the page itself, partly re-posted sections of it
        units[:] = interleave(firsts, rest, 0.7, rng)
    quota = {s: int(round(needed * w)) for s, w in weights.items()}
    chosen: list[Unit] = []
    for source in sorted(quota):
        take = by_source.get(source, [])[: quota[source]]
        chosen += take
        del by_source.get(source, [])[: len(take)]
    leftovers = [u for s in sorted(by_source) for u in by_source[s]]
    rng.shuffle(leftovers)
    fill = max(0, needed - len(chosen))  # sources short of their quota: others fill in
    chosen += leftovers[:fill]
    leftovers = leftovers[fill:]
    if len(chosen) < needed:
        sys.exit(f"not enough text: {len(chosen)} < {needed}")
    chosen = chosen[:needed]
    rng.shuffle(chosen)
    return chosen, leftovers


def interleave(first: list[Unit], rest: list[Unit], share: float, rng: random.Random) -> list[Unit]:
    out: list[Unit] = []
    while first or rest:
        if first and (not rest or rng.random() < share):
            out.append(first.pop(0))
        else:
            out.append(rest.pop(0))
    return out


def write_reference(reference: dict[tuple[str, str], list[Unit]]) -> dict[str, dict[str, int]]:
    """reference/*.txt: clean held-out text, one paragraph (code: one line) per line."""
    folder = OUT / "reference"
    folder.mkdir(parents=True, exist_ok=True)
    stats: dict[str, dict[str, int]] = {}
    for category, name in REFERENCE_FILES.items():
        budget = REFERENCE_BUDGET[category]
        lines: list[str] = []
        size = 0
        pages: set[str] = set()
        for unit in sorted(reference.get(category, []), key=lambda u: u.key):
            if size >= budget:
                break
            pages.add(unit.page_url)
            for _, text in unit.blocks:
                if unit.domain == "code":
                    new = [ln.rstrip() for ln in text.split("\n") if ln.strip()]
                else:
                    new = [re.sub(r"\s+", " ", text).strip()]
                    if len(new[0]) < (12 if unit.lang == "zh" else 30):
                        continue
                lines += new
                size += sum(len(x) + 1 for x in new)
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        stats[name] = {"lines": len(lines), "chars": size, "pages": len(pages)}
    return stats


# ----------------------------------------------------------------------------------------------
# The crawl simulation
# ----------------------------------------------------------------------------------------------

KINDS = ("original", "recrawl_identical", "recrawl_edited", "mirror", "near_duplicate")


def plan_counts(plan: DumpPlan) -> dict[tuple[str, str], dict[str, int]]:
    """Documents of each kind per category for one dump."""
    out: dict[tuple[str, str], dict[str, int]] = {}
    remaining = plan.documents
    categories = list(CATEGORIES)
    for i, category in enumerate(categories):
        n = remaining if i == len(categories) - 1 else round(plan.documents * CATEGORIES[category])
        remaining -= n
        counts = {
            "recrawl_identical": round(n * plan.recrawl_identical),
            "recrawl_edited": round(n * plan.recrawl_edited),
            "mirror": round(n * plan.mirror),
            "near_duplicate": round(n * plan.near_duplicate),
            "lowq": round(n * plan.lowq),
        }
        counts["original"] = n - sum(counts.values())
        out[category] = counts
    return out


class Crawl:
    """Builds the documents of all dumps, in order, keeping the history recrawls draw from."""

    def __init__(
        self,
        queues: dict[tuple[str, str], list[Unit]],
        bank: SentenceBank,
        pii: PiiFactory,
        rng: random.Random,
    ) -> None:
        self.queues = queues
        self.bank = bank
        self.pii = pii
        self.rng = rng
        self.docs: list[Doc] = []
        self.by_id: dict[str, Doc] = {}
        self.latest: dict[str, Doc] = {}  # canonical URL -> latest crawl of it (history)
        self.used_urls: set[str] = set()
        self.serial = 0

    # --- helpers
    def next_id(self) -> str:
        """Provisional id; public ids are given in row order at the end (see public_ids)."""
        self.serial += 1
        return f"doc{self.serial}"

    def crawl_day(self, plan: DumpPlan) -> date:
        span = (plan.last_day - plan.first_day).days
        return plan.first_day + timedelta(days=self.rng.randrange(span + 1))

    def claim_url(self, make: Callable[[], str]) -> str:
        """A URL whose canonical form no document has used yet."""
        for _ in range(20):
            url = make()
            canon = canonical_url(url)
            if canon not in self.used_urls:
                self.used_urls.add(canon)
                return url
        raise RuntimeError("could not find a fresh URL")

    def add(self, doc: Doc) -> Doc:
        self.docs.append(doc)
        self.by_id[doc.id] = doc
        return doc

    def copy(self, parent: Doc, plan: DumpPlan, kind: str, url: str, base_url: str) -> Doc:
        return Doc(
            id=self.next_id(),
            dump=plan.name,
            day=self.crawl_day(plan),
            url=url,
            base_url=base_url,
            lang=parent.lang,
            domain=parent.domain,
            source=parent.source,
            unit=parent.unit,
            lines=list(parent.lines),
            sep=parent.sep,
            kind=kind,
            of_id=parent.id,
            cluster=parent.cluster,
            code_lang=parent.code_lang,
            anchors=parent.anchors,
        )

    def apply_edit(self, doc: Doc, parent: Doc, weights: Sequence[tuple[str, float]]) -> None:
        """Apply one edit kind (falling back to others if it cannot change this page)."""
        first = weighted(self.rng, weights)
        order = [first] + [k for k in EDIT_KINDS if k != first]
        before = parent.text()
        for kind in order:
            if EDITS[kind](doc, self.rng, self.bank) and doc.text() != before:
                doc.edit_kind = kind
                return
            doc.lines = list(parent.lines)
        raise RuntimeError(f"no edit changed {parent.id}")

    # --- one function per phenomenon
    def new_original(self, unit: Unit, plan: DumpPlan) -> Doc:
        """A page seen for the first time, maybe with PII, under a (decorated) URL."""
        day = self.crawl_day(plan)
        if unit.url:
            base = self.claim_url(lambda: unit.url)
        else:
            posted = day - timedelta(days=self.rng.randrange(30, 900))
            base = self.claim_url(lambda: repost_url(unit, self.rng, posted))
        lines, sep = make_page(unit, base, day, self.rng)
        anchors = tuple(t for k, t in unit.blocks if k in HEADINGS)[:8]
        url = decorate_url(base, unit.lang, self.rng, anchors) if self.rng.random() < 0.35 else base
        doc = Doc(
            id=self.next_id(),
            dump=plan.name,
            day=day,
            url=url,
            base_url=base,
            lang=unit.lang,
            domain=unit.domain,
            source=unit.source,
            unit=unit.key,
            lines=lines,
            sep=sep,
            code_lang=unit.code_lang,
            anchors=anchors,
        )
        doc.cluster = doc.id
        if self.rng.random() < plan.pii * PII_WEIGHT[unit.domain]:
            inject_pii(doc, self.pii, self.rng)
        self.latest[canonical_url(base)] = doc
        return self.add(doc)

    def new_lowq(self, unit: Unit, plan: DumpPlan) -> Doc:
        """A low-quality page made from real text: spam, shuffled, garbled or a table of numbers."""
        kind = self.rng.choice(LOWQ_KINDS[unit.domain])
        body = LOWQ_MAKERS[kind](unit, self.rng)
        day = self.crawl_day(plan)
        base = self.claim_url(lambda: spam_url(unit.lang, unit.domain, keywords(unit), self.rng))
        family = "spam_zh" if unit.lang == "zh" else "spam_en"
        if unit.domain == "code":
            family = "gist" if "gist.github.com" in base else "plain"
        role = "code" if unit.domain == "code" else "body"
        lines = [Line(text, role) for text in body]
        if self.rng.random() < FAMILIES[family].chrome_rate:
            host = host_of(base)
            lines = (
                chrome_lines(FAMILIES[family], host, "header", self.rng)
                + lines
                + chrome_lines(FAMILIES[family], host, "footer", self.rng)
            )
        sep = "\n\n" if unit.domain == "code" and kind != "number_table" else "\n"
        doc = Doc(
            id=self.next_id(),
            dump=plan.name,
            day=day,
            url=base,
            base_url=base,
            lang=unit.lang,
            domain=unit.domain,
            source=unit.source,
            unit=unit.key,
            lines=lines,
            sep=sep,
            lowq_kind=kind,
            code_lang=unit.code_lang,
        )
        doc.cluster = doc.id
        return self.add(doc)

    def recrawl(self, parent: Doc, plan: DumpPlan, edited: bool) -> Doc:
        """The same URL (maybe another variant of it) in a later dump, identical or edited."""
        url = parent.base_url
        if self.rng.random() < 0.6:
            url = decorate_url(parent.base_url, parent.lang, self.rng, parent.anchors)
        kind = "recrawl_edited" if edited else "recrawl_identical"
        doc = self.copy(parent, plan, kind, url, parent.base_url)
        if edited:
            self.apply_edit(doc, parent, RECRAWL_EDIT_WEIGHTS)
        self.latest[canonical_url(parent.base_url)] = doc
        return self.add(doc)

    def mirror(self, parent: Doc, plan: DumpPlan) -> Doc:
        """An exact copy of a page under another site's URL."""
        base = self.claim_url(lambda: mirror_url(parent.base_url, parent.lang, self.rng))
        url = decorate_url(base, parent.lang, self.rng) if self.rng.random() < 0.25 else base
        doc = self.copy(parent, plan, "mirror", url, base)
        self.latest[canonical_url(base)] = doc
        return self.add(doc)

    def near_duplicate(self, parent: Doc, plan: DumpPlan) -> Doc:
        """A slightly different copy elsewhere: chrome, date stamp, sentences or paragraph order."""
        base = self.claim_url(lambda: near_duplicate_url(parent.base_url, parent.lang, self.rng))
        url = decorate_url(base, parent.lang, self.rng) if self.rng.random() < 0.25 else base
        doc = self.copy(parent, plan, "near_duplicate", url, base)
        self.apply_edit(doc, parent, NEAR_DUP_EDIT_WEIGHTS)
        self.latest[canonical_url(base)] = doc
        return self.add(doc)

    # --- a dump
    def run_dump(self, plan: DumpPlan) -> list[Doc]:
        """New pages first (originals, low-quality), then copies of them and of earlier dumps."""
        counts = plan_counts(plan)
        start = len(self.docs)
        previous = [d for d in self.latest.values() if d.lowq_kind is None]
        previous.sort(key=lambda d: d.id)
        for category, c in counts.items():
            queue = self.queues[category]
            for _ in range(c["original"]):
                self.new_original(queue.pop(), plan)
            for _ in range(c["lowq"]):
                self.new_lowq(queue.pop(), plan)
        fresh = [d for d in self.docs[start:] if d.lowq_kind is None]
        for category, c in counts.items():
            history = [d for d in previous if d.category == category]
            n_recrawl = c["recrawl_identical"] + c["recrawl_edited"]
            if n_recrawl > len(history):
                raise RuntimeError(f"{plan.name} {category}: history too small for recrawls")
            parents = self.rng.sample(history, n_recrawl)
            for i, parent in enumerate(parents):
                self.recrawl(parent, plan, edited=i >= c["recrawl_identical"])
            now = [d for d in fresh if d.category == category]
            for n, make in ((c["mirror"], self.mirror), (c["near_duplicate"], self.near_duplicate)):
                for _ in range(n):
                    cross = history and self.rng.random() < plan.cross_dump_copy
                    make(self.rng.choice(history if cross else now), plan)
        docs = self.docs[start:]
        for doc in docs:
            doc.hint = draw_hint(doc.domain, self.rng)
        return docs


def draw_hint(domain: str, rng: random.Random) -> str | None:
    """The crawler's domain guess: null on ~30% of rows, occasionally wrong."""
    if rng.random() < HINT_NULL_RATE:
        return None
    if rng.random() < HINT_WRONG_RATE:
        return rng.choice([d for d in ("web", "code", "math") if d != domain])
    return domain


# ----------------------------------------------------------------------------------------------
# Rendering, ground truth and its verification
# ----------------------------------------------------------------------------------------------

EMAIL_RE = re.compile(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b")
OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4_RE = re.compile(rf"(?<![\d.])(?:{OCTET}\.){{3}}{OCTET}(?![\d.])")


def shingles(text: str, lang: str, n: int = 5) -> set[int]:
    """Hashed word 5-grams (zh: character 5-grams) for exact Jaccard similarity."""
    if lang == "zh":
        tokens = [ch for ch in text.lower() if not ch.isspace()]
    else:
        tokens = re.findall(r"\w+", text.lower())
    grams = {hash_int(" ".join(tokens[i : i + n])) for i in range(max(1, len(tokens) - n + 1))}
    return grams


def hash_int(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def jaccard(a: set[int], b: set[int]) -> float:
    return len(a & b) / max(1, len(a | b))


@dataclasses.dataclass
class Rendered:
    rows: list[dict[str, object]]  # the dump rows
    truth: list[dict[str, object]]
    pii: list[dict[str, object]]
    boilerplate: list[dict[str, object]]


def render(docs: list[Doc], by_id: dict[str, Doc]) -> Rendered:
    """Final texts plus exact character offsets (Python str indices) of PII and boilerplate."""
    out = Rendered([], [], [], [])
    texts: dict[str, str] = {}
    for doc in docs:
        texts[doc.id] = doc.text()
    shingle_cache: dict[str, set[int]] = {}

    def sh(doc_id: str) -> set[int]:
        if doc_id not in shingle_cache:
            doc = by_id[doc_id]
            text = texts.get(doc_id) or doc.text()
            shingle_cache[doc_id] = shingles(text, doc.lang)
        return shingle_cache[doc_id]

    for doc in docs:
        text = texts[doc.id]
        offset = 0
        injected: list[tuple[int, int]] = []
        n_pii = n_bp = 0
        for line in doc.lines:
            if line.role == "chrome":
                out.boilerplate.append(
                    {
                        "id": doc.id,
                        "snippet_id": line.snippet,
                        "variant": line.variant,
                        "start": offset,
                        "end": offset + len(line.text),
                    }
                )
                assert text[offset : offset + len(line.text)] == line.text
                n_bp += 1
            for v in line.pii:
                start, end = offset + v.start, offset + v.end
                assert text[start:end] == v.value, (doc.id, v)
                out.pii.append(
                    {
                        "id": doc.id,
                        "start": start,
                        "end": end,
                        "entity_type": v.entity,
                        "value": v.value,
                        "locale": v.locale,
                        "injected": True,
                    }
                )
                injected.append((start, end))
                n_pii += 1
            offset += len(line.text) + len(doc.sep)
        assert offset - len(doc.sep) == len(text)
        for regex, entity in ((EMAIL_RE, "EMAIL_ADDRESS"), (IPV4_RE, "IP_ADDRESS")):
            for m in regex.finditer(text):
                if any(s < m.end() and m.start() < e for s, e in injected):
                    continue
                if entity == "IP_ADDRESS" and max(map(int, m.group().split("."))) < 10:
                    continue  # section numbers such as 3.2.2.5
                out.pii.append(
                    {
                        "id": doc.id,
                        "start": m.start(),
                        "end": m.end(),
                        "entity_type": entity,
                        "value": m.group(),
                        "locale": None,
                        "injected": False,
                    }
                )
        similarity = None
        if doc.of_id is not None:
            similarity = (
                1.0
                if text == texts.get(doc.of_id, by_id[doc.of_id].text())
                else round(jaccard(sh(doc.id), sh(doc.of_id)), 4)
            )
            exact = doc.kind in ("recrawl_identical", "mirror")
            assert (similarity == 1.0 and text == by_id[doc.of_id].text()) == exact, doc.id
        out.rows.append(
            {
                "id": doc.id,
                "text": text,
                "url": doc.url,
                "dump": doc.dump,
                "date": doc.day.isoformat(),
                "language": doc.lang,
                "domain": doc.hint,
            }
        )
        out.truth.append(
            {
                "id": doc.id,
                "dump": doc.dump,
                "kind": doc.kind,
                "of_id": doc.of_id,
                "cluster_id": doc.cluster,
                "edit_kind": doc.edit_kind,
                "lowq_kind": doc.lowq_kind,
                "jaccard_5gram": similarity,
                "language": doc.lang,
                "domain": doc.domain,
                "domain_hint": doc.hint,
                "source": doc.source,
                "source_unit": doc.unit,
                "canonical_url": canonical_url(doc.url),
                "n_pii": n_pii,
                "n_boilerplate": n_bp,
                "chars": len(text),
            }
        )
    return out


# ----------------------------------------------------------------------------------------------
# Writing
# ----------------------------------------------------------------------------------------------

DUMP_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("text", pa.string()),
        ("url", pa.string()),
        ("dump", pa.string()),
        ("date", pa.string()),
        ("language", pa.string()),
        ("domain", pa.string()),
    ]
)


def write_parquet(table: pa.Table, path: Path, dictionary: Sequence[str] = ()) -> None:
    """Parquet with pinned options so that the bytes only depend on the data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(
        table,
        path,
        row_group_size=ROWS_PER_GROUP,
        compression="zstd",
        compression_level=19,
        use_dictionary=list(dictionary),
        write_statistics=True,
        version="2.6",
        data_page_version="1.0",
        data_page_size=1 << 20,
        store_schema=True,
    )


def write_dump(name: str, rows: list[dict[str, object]], shards: int) -> list[Path]:
    folder = OUT / f"dump={name}"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    per = math.ceil(len(rows) / shards)
    for i in range(shards):
        chunk = rows[i * per : (i + 1) * per]
        table = pa.Table.from_pylist(chunk, schema=DUMP_SCHEMA)
        path = folder / f"part-{i:05d}.parquet"
        write_parquet(table, path, dictionary=("dump", "language", "domain", "date"))
        paths.append(path)
    return paths


TRUTH_SCHEMA = pa.schema(
    [
        ("id", pa.string()), ("dump", pa.string()), ("kind", pa.string()), ("of_id", pa.string()),
        ("cluster_id", pa.string()), ("edit_kind", pa.string()), ("lowq_kind", pa.string()),
        ("jaccard_5gram", pa.float64()), ("language", pa.string()), ("domain", pa.string()),
        ("domain_hint", pa.string()), ("source", pa.string()), ("source_unit", pa.string()),
        ("canonical_url", pa.string()),
        ("n_pii", pa.int32()), ("n_boilerplate", pa.int32()), ("chars", pa.int32()),
    ]
)  # fmt: skip
PII_SCHEMA = pa.schema(
    [
        ("id", pa.string()), ("start", pa.int32()), ("end", pa.int32()),
        ("entity_type", pa.string()), ("value", pa.string()), ("locale", pa.string()),
        ("injected", pa.bool_()),
    ]
)  # fmt: skip
BOILERPLATE_SCHEMA = pa.schema(
    [
        ("id", pa.string()), ("snippet_id", pa.string()), ("variant", pa.int32()),
        ("start", pa.int32()), ("end", pa.int32()),
    ]
)  # fmt: skip


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# ----------------------------------------------------------------------------------------------
# MANIFEST.json
# ----------------------------------------------------------------------------------------------

SOURCE_INFO: dict[str, dict[str, str]] = {
    "manpages": {
        "what": "man pages rendered with groff (English: manpages, manpages-dev and the man pages "
        "of base packages; Chinese: manpages-zh)",
        "licence": "per page, as in each package's copyright file: mostly the Linux man-pages "
        "licences (Verbatim, GPL-2.0+, BSD), GPL for GNU tools; manpages-zh: GFDL-1.2+",
    },
    "python-doc": {"what": "Python 3.11 documentation (HTML, python3.11-doc)",
                   "licence": "PSF-2.0 (examples also 0BSD)"},
    "linux-doc": {"what": "Linux 6.1 kernel documentation (HTML, linux-doc-6.1)",
                  "licence": "GPL-2.0 (parts GPL-2.0+/CC-BY-4.0/GFDL as marked in the files)"},
    "gnu-manual": {"what": "GNU Texinfo manuals (coreutils, findutils, grep, sed, gzip, "
                   "diffutils, wget, bash, bc, ed, time), split by node",
                   "licence": "GFDL-1.3+ (no invariant sections)"},
    "debian-reference": {"what": "Debian Reference (Osamu Aoki), English and Simplified Chinese",
                         "licence": "GPL-2.0+"},
    "debian-faq": {"what": "The Debian GNU/Linux FAQ, English and Simplified Chinese",
                   "licence": "SPI verbatim-copying licence (copies and translations allowed)"},
    "maint-guide": {"what": "Debian New Maintainers' Guide, English and Simplified Chinese",
                    "licence": "GPL-2.0+ / MIT-style (see the package copyright)"},
    "debian-handbook": {"what": "The Debian Administrator's Handbook, en-US and zh-CN",
                        "licence": "GPL-2.0+ or CC-BY-SA-3.0"},
    "debian-edu": {"what": "Debian Edu Bookworm manual, English and Simplified Chinese",
                   "licence": "GPL-2.0+"},
    "installation-guide": {"what": "Debian 12 installation guide for amd64, en and zh_CN",
                           "licence": "GPL-2.0"},
    "cpython-lib": {"what": "Python 3.11 standard library sources (libpython3.11-stdlib)",
                    "licence": "PSF-2.0"},
    "linux-uapi": {"what": "Linux 6.1 UAPI headers (linux-libc-dev)",
                   "licence": "GPL-2.0 WITH Linux-syscall-note"},
    "bash-examples": {"what": "bash example scripts (bash-doc)", "licence": "GPL-3.0+"},
    "sympy-tests": {"what": "sympy test-suite sources (PyPI sympy)", "licence": "BSD-3-Clause"},
    "sympy-docs": {"what": "sympy docstrings of its math sub-packages (PyPI sympy)",
                   "licence": "BSD-3-Clause"},
    "mpmath-docs": {"what": "mpmath docstrings (PyPI mpmath)", "licence": "BSD-3-Clause"},
}  # fmt: skip


def rate(n: int, total: int) -> float:
    return round(n / total, 4) if total else 0.0


def cluster_removal(truth: list[dict[str, object]], dumps: Sequence[str]) -> float:
    """Share of documents an exact + near dedup keeps out when run over `dumps` together."""
    rows = [t for t in truth if t["dump"] in dumps]
    clusters = {t["cluster_id"] for t in rows}
    return rate(len(rows) - len(clusters), len(rows))


def build_manifest(
    rendered: Rendered,
    files: dict[str, Path],
    versions: dict[str, str],
    reference: dict[str, dict[str, int]],
    units: Counter[str],
) -> dict[str, object]:
    truth = rendered.truth
    by_id = {t["id"]: t for t in truth}
    pii_docs = {p["id"] for p in rendered.pii if p["injected"]}
    bp_docs = {b["id"] for b in rendered.boilerplate}
    dumps: dict[str, object] = {}
    for plan in DUMPS:
        rows = [t for t in truth if t["dump"] == plan.name]
        n = len(rows)
        kinds = Counter(str(t["kind"]) for t in rows)
        lowq = Counter(f"{t['domain']}/{t['lowq_kind']}" for t in rows if t["lowq_kind"])
        cross = sum(
            1
            for t in rows
            if t["of_id"] is not None and by_id[str(t["cluster_id"])]["dump"] != plan.name
        )
        dumps[plan.name] = {
            "crawl_window": [plan.first_day.isoformat(), plan.last_day.isoformat()],
            "documents": n,
            "shards": plan.shards,
            "by_domain": dict(sorted(Counter(str(t["domain"]) for t in rows).items())),
            "by_language": dict(sorted(Counter(str(t["language"]) for t in rows).items())),
            "by_domain_hint": dict(sorted(Counter(str(t["domain_hint"]) for t in rows).items())),
            "by_kind": {k: kinds.get(k, 0) for k in KINDS},
            "rates": {
                **{k: rate(kinds.get(k, 0), n) for k in KINDS},
                "lowq": rate(sum(lowq.values()), n),
                "pii_injected": rate(sum(1 for t in rows if t["id"] in pii_docs), n),
                "boilerplate": rate(sum(1 for t in rows if t["id"] in bp_docs), n),
                "duplicate_of_earlier_dump": rate(cross, n),
                "dedup_removal_within_dump": cluster_removal(rows, [plan.name]),
            },
            "lowq_by_domain_and_kind": dict(sorted(lowq.items())),
            "edit_kinds": dict(
                sorted(
                    Counter(f"{t['kind']}/{t['edit_kind']}" for t in rows if t["edit_kind"]).items()
                )
            ),
        }
    names = [p.name for p in DUMPS]
    entities = Counter(str(p["entity_type"]) for p in rendered.pii if p["injected"])
    natural = Counter(str(p["entity_type"]) for p in rendered.pii if not p["injected"])
    locales = Counter(str(p["locale"]) for p in rendered.pii if p["injected"])
    snippets = Counter(str(b["snippet_id"]) for b in rendered.boilerplate)
    near = [t["jaccard_5gram"] for t in truth if t["kind"] in ("near_duplicate", "recrawl_edited")]
    near_sorted = sorted(float(x) for x in near if x is not None)
    return {
        "name": "curate sample corpus",
        "description": "A small bilingual slice of four simulated Common Crawl dumps built from "
        "real text, with ground truth for recrawls, mirrors, near-duplicates, boilerplate, "
        "low-quality pages and PII. Rebuild with scripts/build_sample_corpus.py.",
        "seed": SEED,
        "documents": len(truth),
        "columns": {
            "id": "string, unique across the corpus",
            "text": "string, the page text as a crawler extracted it",
            "url": "string, as crawled (tracking parameters, http/https, www. and #fragments vary)",
            "dump": "string, Common Crawl dump name, same as the hive folder",
            "date": "string, ISO 8601 date of the fetch, inside the dump's crawl window",
            "language": "string, en or zh",
            "domain": "string hint web|code|math from the crawler, null on ~30% of rows, "
            f"wrong on ~{HINT_WRONG_RATE:.0%} of the others (truth is in manifest/truth.parquet)",
        },
        "dumps": dumps,
        "totals": {
            "by_domain": dict(sorted(Counter(str(t["domain"]) for t in truth).items())),
            "by_language": dict(sorted(Counter(str(t["language"]) for t in truth).items())),
            "by_kind": dict(sorted(Counter(str(t["kind"]) for t in truth).items())),
            "by_source": dict(sorted(Counter(str(t["source"]) for t in truth).items())),
        },
        "dedup_removal_across_first_n_dumps": {
            str(i): cluster_removal(truth, names[:i]) for i in range(1, len(names) + 1)
        },
        "near_duplicate_jaccard_5gram": {
            "count": len(near_sorted),
            "min": near_sorted[0] if near_sorted else None,
            "p10": near_sorted[len(near_sorted) // 10] if near_sorted else None,
            "median": near_sorted[len(near_sorted) // 2] if near_sorted else None,
            "share_at_least_0.8": rate(sum(1 for x in near_sorted if x >= 0.8), len(near_sorted)),
        },
        "pii": {
            "documents_with_injected_pii": len(pii_docs),
            "injected_spans_by_entity": dict(sorted(entities.items())),
            "injected_spans_by_locale": dict(sorted(locales.items())),
            "natural_spans_found_by_regex": dict(sorted(natural.items())),
        },
        "boilerplate": {
            "documents_with_snippets": len(bp_docs),
            "snippet_occurrences": dict(sorted(snippets.items())),
        },
        "phenomena": {
            "recrawl_identical": "same canonical URL as a document of an earlier dump (URL may be "
            "another variant), byte-identical text",
            "recrawl_edited": "same canonical URL as an earlier document, text edited (edit_kind)",
            "mirror": "byte-identical text under another URL/site (same or earlier dump)",
            "near_duplicate": "copy under another URL with one edit: header_footer, date_stamp, "
            "sentence_edit or paragraph_reorder",
            "boilerplate": "site chrome snippets (manifest/boilerplate.parquet) repeated across "
            "pages of a site and across sites",
            "lowq": "keyword_spam, shuffled_words, garbled (zh: mojibake; code: obfuscated), "
            "number_table; kinds differ per domain",
            "pii": "Faker values in realistic context lines (manifest/pii_spans.parquet); "
            "injected=false rows are e-mails/IPv4 already in the real text, found by regex",
        },
        "sources": {
            s: {**SOURCE_INFO[s], "documents": units.get(s, 0)} for s in sorted(SOURCE_INFO)
        },
        "debian_packages": versions,
        "pypi_packages": {p: metadata.version(p) for p in ("faker", "mpmath", "pyarrow", "sympy")},
        "reference": reference,
        "files": {
            name: {"bytes": path.stat().st_size, "sha256": sha256(path)}
            for name, path in sorted(files.items())
        },
    }


# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------


def clean_output() -> None:
    """Remove what a previous build wrote (README.md is kept)."""
    for path in sorted(OUT.glob("dump=*/part-*.parquet")) + sorted(OUT.glob("manifest/*.parquet")):
        path.unlink()
    for path in sorted(OUT.glob("reference/*.txt")) + [OUT / "MANIFEST.json"]:
        if path.exists():
            path.unlink()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2, help="worker processes")
    args = parser.parse_args(argv)
    started = time.monotonic()  # for the log only

    versions = ensure_debian_packages(debian_packages())
    pages = collect_pages(args.jobs)
    log(f"{len(pages)} pages ({time.monotonic() - started:.0f}s)")
    build(pages, versions, started)
    log(f"done in {time.monotonic() - started:.0f}s")
    return 0


def collect_pages(jobs: int) -> list[Page]:
    """Every real page from every source, in a fixed order."""
    log("extracting text")
    with ProcessPoolExecutor(max_workers=jobs) as pool:
        pages = extract_man_pages(pool) + extract_sphinx_docs(pool)
    pages += extract_docbook_manuals() + extract_info_manuals() + extract_code() + extract_math()
    pages.sort(key=lambda p: (p.url, p.lang))
    return pages


def public_ids(docs: list[Doc], rng: random.Random) -> list[Doc]:
    """Shuffle each dump (a crawl's shards are not sorted by kind) and number its rows.

    Ids are `<dump>-<row number>`: unique across the corpus, short, and telling nothing about
    the kind of document.  of_id/cluster references are renamed accordingly.
    """
    ordered: list[Doc] = []
    rename: dict[str, str] = {}
    for plan in DUMPS:
        dump_docs = [doc for doc in docs if doc.dump == plan.name]
        rng.shuffle(dump_docs)
        for i, doc in enumerate(dump_docs):
            rename[doc.id] = f"{plan.name}-{i:06d}"
        ordered += dump_docs
    for doc in ordered:
        doc.id = rename[doc.id]
        doc.of_id = rename[doc.of_id] if doc.of_id else None
        doc.cluster = rename[doc.cluster]
    return ordered


def build(pages: list[Page], versions: dict[str, str], started: float) -> None:
    """Cut pages into units, simulate the crawl, write dumps, manifest and reference/."""
    units = [u for p in pages for u in cut_page(p, random.Random(f"{SEED}:{p.url}"))]
    corpus_pool, reference_pool = split_units(units, random.Random(SEED + 1))
    needed: Counter[tuple[str, str]] = Counter()
    for plan in DUMPS:
        for category, counts in plan_counts(plan).items():
            needed[category] += counts["original"] + counts["lowq"]
    pick_rng = random.Random(SEED + 2)
    queues: dict[tuple[str, str], list[Unit]] = {}
    spare: list[Unit] = []
    for category in CATEGORIES:
        chosen, leftovers = pick_units(
            corpus_pool[category], needed[category], SOURCE_WEIGHTS[category], pick_rng
        )
        queues[category] = chosen
        spare += leftovers
    log(f"{len(units)} units; using {sum(needed.values())}")

    crawl = Crawl(queues, SentenceBank(spare), PiiFactory(SEED), random.Random(SEED + 3))
    for plan in DUMPS:
        crawl.run_dump(plan)
    ordered = public_ids(crawl.docs, random.Random(SEED + 4))
    rendered = render(ordered, {doc.id: doc for doc in ordered})
    log(f"{len(ordered)} documents ({time.monotonic() - started:.0f}s)")

    clean_output()
    files: dict[str, Path] = {}
    for plan in DUMPS:
        rows = [r for r in rendered.rows if r["dump"] == plan.name]
        for path in write_dump(plan.name, rows, plan.shards):
            files[path.relative_to(OUT).as_posix()] = path
    manifest_dir = OUT / "manifest"
    truth = sorted(rendered.truth, key=lambda t: (str(t["dump"]), str(t["id"])))
    pii = sorted(rendered.pii, key=lambda p: (str(p["id"]), int(p["start"]), int(p["end"])))  # type: ignore[call-overload]
    bp = sorted(rendered.boilerplate, key=lambda b: (str(b["id"]), int(b["start"])))  # type: ignore[call-overload]
    for name, rows_, schema in (
        ("truth", truth, TRUTH_SCHEMA),
        ("pii_spans", pii, PII_SCHEMA),
        ("boilerplate", bp, BOILERPLATE_SCHEMA),
    ):
        path = manifest_dir / f"{name}.parquet"
        write_parquet(pa.Table.from_pylist(rows_, schema=schema), path)
        files[path.relative_to(OUT).as_posix()] = path
    reference = write_reference(reference_pool)
    for name in REFERENCE_FILES.values():
        files[f"reference/{name}"] = OUT / "reference" / name
    used = Counter(str(t["source"]) for t in truth)
    manifest = build_manifest(rendered, files, versions, reference, used)
    (OUT / "MANIFEST.json").write_text(
        json.dumps(manifest, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8"
    )
    verify(OUT)


def verify(root: Path) -> None:
    """Re-read what was written and check ids, offsets and the hive layout."""
    # partitioning=None: the files carry `dump` themselves (pyarrow would infer a dictionary type)
    paths = [str(p) for p in sorted(root.glob("dump=*/*.parquet"))]
    dataset = pq.read_table(paths, partitioning=None)
    ids = dataset.column("id").to_pylist()
    assert len(ids) == len(set(ids)), "ids are not unique"
    texts = dict(zip(ids, dataset.column("text").to_pylist(), strict=True))
    for path in sorted(root.glob("dump=*/*.parquet")):
        meta = pq.ParquetFile(path).metadata
        dump = path.parent.name.removeprefix("dump=")
        assert set(pq.read_table(path, columns=["dump"]).column("dump").to_pylist()) == {dump}
        assert all(meta.row_group(i).num_rows <= ROWS_PER_GROUP for i in range(meta.num_row_groups))
    spans = pq.read_table(root / "manifest" / "pii_spans.parquet").to_pylist()
    for span in spans:
        assert texts[span["id"]][span["start"] : span["end"]] == span["value"], span
    for row in pq.read_table(root / "manifest" / "boilerplate.parquet").to_pylist():
        snippet = texts[row["id"]][row["start"] : row["end"]]
        assert snippet and "\n" not in snippet, row
    truth = pq.read_table(root / "manifest" / "truth.parquet").to_pylist()
    assert {t["id"] for t in truth} == set(ids)
    for t in truth:
        if t["kind"] in ("recrawl_identical", "mirror"):
            assert texts[t["id"]] == texts[t["of_id"]]
        elif t["kind"] in ("recrawl_edited", "near_duplicate"):
            assert texts[t["id"]] != texts[t["of_id"]]


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # pyarrow can abort at interpreter exit; leave without running its teardown
