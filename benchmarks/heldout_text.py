"""A held-out test of perplexity filtering, from text the sample corpus does not use.

``build(folder)`` writes

* ``reference.txt``: clean English text, one block (paragraph, heading, list item) per line, about
  4 MB: what a user gives ``curate lm train`` (CCNet gives it Wikipedia);
* ``dev.parquet`` and ``heldout.parquet``: 2,100 clean documents and 150 of each of six kinds of
  garbage (``kind`` column: ``clean``, ``garbled``, ``navigation``, ``numbers``, ``shuffled``,
  ``spam``, ``truncated``). Scoring ideas are tuned on ``dev`` only; ``heldout`` is measured, never
  tuned on.

Every source file goes wholly to one of reference / dev / held-out (by a hash of its path), and
garbage is made from documents of its own split that are not among its clean documents. The
sources are Debian text the sample corpus (``scripts/build_sample_corpus.py``) does not read: its
packages (man pages, manuals, info files) are excluded by asking dpkg who owns each file, and so are
google-cloud-cli's 16,000 generated man pages. What is left here: man pages of other packages
(binutils, systemd, llvm, perl, gettext, ...), info manuals (gettext, gnupg, nettle, ...), the
Node.js API docs (Markdown) and the Valgrind and pip HTML manuals.

Garbage kinds (all but ``numbers`` and ``navigation`` are made from real text of the split):

* ``garbled``: 35% of letters replaced by random characters (encoding or OCR damage);
* ``navigation``: menus and breadcrumbs: the split's short headings and site words joined by
  separators;
* ``numbers``: tables of numbers, dates, prices and percentages with a few labels;
* ``shuffled``: the words of every block in random order;
* ``spam``: keyword stuffing around words of a real document;
* ``truncated``: every sentence cut after 30-70% of its words (fluent fragments: teasers, cut-off
  listings); in half the documents the fragments of a block stay on one line, in the other half
  each fragment is a line of its own.

Deterministic: fixed seeds and sorted inputs (given the same installed packages).
"""

from __future__ import annotations

import ast
import gzip
import hashlib
import random
import re
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from roff import roff_blocks

REPO = Path(__file__).resolve().parent.parent
SEED = 20
REFERENCE_CHARS = 4_000_000
CLEAN_DOCS = 2100
GARBAGE_DOCS = 150  # per kind
PER_FILE = 60  # documents
REFERENCE_PER_FILE = 60_000  # characters
KINDS = ("garbled", "navigation", "numbers", "shuffled", "spam", "truncated")
FROM_TEXT = ("garbled", "shuffled", "spam", "truncated")  # kinds made from a real document
SPLITS = (("reference", 0.4), ("dev", 0.7), ("heldout", 1.0))  # share of files, cumulative


# -- what the sample corpus reads (so this test does not)


def sample_corpus_packages() -> set[str]:
    """Debian packages scripts/build_sample_corpus.py reads text from (parsed from its source)."""
    tree = ast.parse((REPO / "scripts" / "build_sample_corpus.py").read_text())
    found: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in ("MAN_PACKAGES_EN", "DOC_PACKAGES", "INFO_MANUALS"):
                found[name] = ast.literal_eval(node.value)
    packages = set(found["MAN_PACKAGES_EN"]) | set(found["DOC_PACKAGES"])  # type: ignore[arg-type]
    packages |= {pkg for pkg, _, _ in found["INFO_MANUALS"]}  # type: ignore[union-attr]
    packages |= {"manpages", "manpages-dev", "manpages-zh", "google-cloud-cli"}
    return packages


def owned_files(packages: set[str]) -> set[str]:
    out = subprocess.run(
        ["dpkg", "-L", *sorted(packages)], capture_output=True, text=True, check=False
    )
    return set(out.stdout.split("\n"))


# -- text of each kind of source, as blocks (one paragraph, heading or list item each)


def man_blocks(path: Path) -> list[str]:
    """Paragraphs of a man page from its roff source (macros dropped, font arguments kept)."""
    return roff_blocks(gzip.decompress(path.read_bytes()).decode("utf-8", "replace"), prose=True)


def info_blocks(path: Path) -> list[str]:
    """Paragraphs of a Texinfo manual: blank-line separated, examples and menus dropped."""
    text = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
    out = []
    for node in text.split("\x1f"):
        for para in re.split(r"\n\s*\n", node):
            lines = para.split("\n")
            if not lines or lines[0].startswith(("File: ", "* Menu:", "Tag Table:", "\x7f")):
                continue
            if lines[0].startswith("* ") or all(ln.startswith("     ") for ln in lines):
                continue  # menu entries, indented examples
            if len(lines) == 2 and re.fullmatch(r"[=*\-.]+", lines[1].strip()):
                out.append(lines[0])  # a heading, underlined
                continue
            out.append(" ".join(ln.strip() for ln in lines))
    return out


def markdown_blocks(path: Path) -> list[str]:
    """Paragraphs, headings and list items of a Markdown file; code and HTML comments dropped."""
    text = path.read_text(errors="replace")
    text = re.sub(r"```.*?```", "\n\n", text, flags=re.S)
    text = re.sub(r"<!--.*?-->", "", text, flags=re.S)
    out = []
    for para in re.split(r"\n\s*\n", text):
        for item in re.split(r"\n(?=\s*(?:[*-]|\d+\.) )", para):
            item = re.sub(r"^\s*(#+|[*-]|\d+\.)\s+", "", item.strip())
            item = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", item)  # links keep their text
            item = re.sub(r"\[([^\]]*)\]\[[^\]]*\]", r"\1", item)
            item = re.sub(r"<[^>]+>", "", item)
            if item.startswith(("|", "[")) or item.lstrip().startswith(">"):
                continue  # tables, link definitions, notes with markup
            out.append(item.replace("`", ""))
    return out


class _HTMLBlocks(HTMLParser):
    BLOCKS = {"p", "li", "dd", "dt", "h1", "h2", "h3", "h4", "td", "th", "blockquote"}
    SKIP = {"pre", "script", "style", "nav", "code-block"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.cur: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in self.SKIP:
            self.skip += 1
        if tag in self.BLOCKS or tag in ("div", "br"):
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skip = max(0, self.skip - 1)
        if tag in self.BLOCKS or tag == "div":
            self._flush()

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.cur.append(data)

    def _flush(self) -> None:
        if self.cur:
            self.blocks.append("".join(self.cur))
            self.cur = []


def html_blocks(path: Path) -> list[str]:
    parser = _HTMLBlocks()
    parser.feed(path.read_text(errors="replace"))
    parser._flush()
    return parser.blocks


def source_files() -> list[tuple[str, Path]]:
    """(kind, path) of every source file, sorted, minus files of the sample corpus's packages."""
    files: list[tuple[str, Path]] = []
    for section in "13578":
        files += [("man", p) for p in sorted(Path(f"/usr/share/man/man{section}").glob("*.gz"))]
    files += [("info", p) for p in sorted(Path("/usr/share/info").glob("*.info*.gz"))]
    files += [("markdown", p) for p in sorted(Path("/usr/share/doc/nodejs/api").glob("*.md"))]
    files += [("markdown", p) for p in sorted(Path("/usr/share/doc/git/RelNotes").glob("*.txt"))]
    for root in ("/usr/share/doc/valgrind/html", "/usr/share/doc/python3-pip/html"):
        files += [("html", p) for p in sorted(Path(root).rglob("*.html"))]
    used = owned_files(sample_corpus_packages())
    return [(kind, p) for kind, p in files if str(p) not in used and not p.is_symlink()]


EXTRACT = {"man": man_blocks, "info": info_blocks, "markdown": markdown_blocks, "html": html_blocks}


def split_of(path: Path) -> str:
    u = int(hashlib.sha1(str(path).encode()).hexdigest()[:8], 16) / 2**32
    return next(name for name, edge in SPLITS if u < edge)


def clean_blocks(blocks: list[str]) -> list[str]:
    out = []
    for block in blocks:
        block = " ".join(block.split())
        letters = sum(c.isalpha() for c in block)
        if len(block.split()) >= 2 and letters >= 0.5 * len(block):  # not a lone word or a rule
            out.append(block)
    return out


def file_blocks() -> dict[str, list[list[str]]]:
    """Per split, the blocks of each of its files (in file order)."""
    by_split: dict[str, list[list[str]]] = {name: [] for name, _ in SPLITS}
    for kind, path in source_files():
        try:
            blocks = clean_blocks(EXTRACT[kind](path))
        except (OSError, EOFError, UnicodeDecodeError):
            continue
        if blocks:
            by_split[split_of(path)].append(blocks)
    return by_split


def documents(files: list[list[str]], rng: random.Random) -> list[list[str]]:
    """Consecutive blocks of one file, 300-1,500 characters; at most ``PER_FILE`` per file (a
    few long manuals, cmake's or gettext's, would otherwise make most of a split)."""
    docs = []
    for blocks in files:
        mine, target, cur = [], rng.randint(300, 1500), []
        for block in blocks:
            cur.append(block)
            if sum(map(len, cur)) >= target:
                mine.append(cur)
                target, cur = rng.randint(300, 1500), []
        docs += rng.sample(mine, min(len(mine), PER_FILE))
    rng.shuffle(docs)
    return docs


# -- garbage


SENTENCE_END = re.compile(r"(?<=[.!?:;])\s+")


def truncated(doc: list[str], rng: random.Random) -> str:
    own_lines = rng.random() < 0.5
    out = []
    for block in doc:
        frags = []
        for sentence in SENTENCE_END.split(block):
            words = sentence.split()
            if words:
                keep = max(1, round(len(words) * rng.uniform(0.3, 0.7)))
                frags.append(" ".join(words[:keep]))
        out += frags if own_lines else [" ".join(frags)]
    return "\n".join(out)


def shuffled(doc: list[str], rng: random.Random) -> str:
    out = []
    for block in doc:
        words = block.split()
        rng.shuffle(words)
        out.append(" ".join(words))
    return "\n".join(out)


GARBLE = "abcdefghijklmnopqrstuvwxyz0123456789#$%&*@^~{}|\\/<>"


def garbled(doc: list[str], rng: random.Random) -> str:
    text = "\n".join(doc)
    return "".join(rng.choice(GARBLE) if c.isalpha() and rng.random() < 0.35 else c for c in text)


SITE_WORDS = (
    "Home", "About", "About us", "Contact", "Blog", "News", "Products", "Services", "Pricing",
    "Login", "Sign in", "Sign up", "Register", "Search", "Help", "FAQ", "Support", "Careers",
    "Privacy Policy", "Terms of Use", "Cookies", "Sitemap", "Next", "Previous", "Up", "Top",
    "Contents", "Index", "Downloads", "Documentation", "Community", "Forum", "Shop", "Cart",
    "My account", "Subscribe", "Follow us", "Share", "Tweet", "RSS", "English", "Español",
    "Deutsch", "Français", "Read more", "More", "Archive", "Tags", "Categories",
)  # fmt: skip
NAV_SEPARATORS = (" | ", " · ", " > ", " » ", " / ", "  ")


def navigation(headings: list[str], rng: random.Random) -> str:
    sep = rng.choice(NAV_SEPARATORS)
    lines = []
    for _ in range(rng.randint(4, 20)):
        items = [
            rng.choice(headings) if rng.random() < 0.5 else rng.choice(SITE_WORDS)
            for _ in range(rng.randint(1, 8))
        ]
        lines.append(sep.join(items))
    return "\n".join(lines)


def _cell(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        return str(rng.randint(0, 100000))
    if kind == 1:
        return f"{rng.uniform(0, 1000):.{rng.randint(1, 3)}f}"
    if kind == 2:
        return f"{rng.uniform(0, 100):.1f}%"
    if kind == 3:
        return f"{rng.randint(1990, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    if kind == 4:
        return f"${rng.randint(1, 9999):,}.{rng.randint(0, 99):02d}"
    return f"{rng.randint(0, 999):,}"


def numbers(words: list[str], rng: random.Random) -> str:
    sep = rng.choice(("\t", "  ", " | ", ", ", " "))
    cols = rng.randint(3, 8)
    rows = []
    if rng.random() < 0.5:
        rows.append(sep.join(rng.choice(words).title() for _ in range(cols)))
    for _ in range(rng.randint(5, 30)):
        label = [rng.choice(words)] if rng.random() < 0.5 else []
        rows.append(sep.join(label + [_cell(rng) for _ in range(cols)]))
    return "\n".join(rows)


SPAM = (
    "buy {k} online", "cheap {k}", "best {k} 2024", "{k} free download", "click here for {k}",
    "{k} discount code", "top 10 {k}", "{k} reviews", "order {k} now", "100% free {k}",
    "{k} for sale", "{k} near me", "get {k} today", "{k} coupon", "lowest price {k}",
    "{k} deals", "official {k} store", "{k} free shipping", "{k} online casino", "win {k}",
)  # fmt: skip


def spam(doc: list[str], rng: random.Random) -> str:
    words = [w.strip(".,;:()'\"").lower() for w in " ".join(doc).split()]
    words = [w for w in words if len(w) >= 5 and w.isalpha()] or ["product"]
    keys = [" ".join(rng.sample(words, min(len(words), rng.randint(1, 2)))) for _ in range(3)]
    phrases = [rng.choice(SPAM).format(k=rng.choice(keys)) for _ in range(rng.randint(10, 40))]
    sep = rng.choice((", ", ". ", " | ", "\n", " - "))
    per_line = rng.randint(3, 12)
    lines = [sep.join(phrases[i : i + per_line]) for i in range(0, len(phrases), per_line)]
    return "\n".join(lines)


def garbage(kind: str, doc: list[str], pool: dict[str, list[str]], rng: random.Random) -> str:
    if kind == "garbled":
        return garbled(doc, rng)
    if kind == "navigation":
        return navigation(pool["headings"], rng)
    if kind == "numbers":
        return numbers(pool["words"], rng)
    if kind == "shuffled":
        return shuffled(doc, rng)
    if kind == "spam":
        return spam(doc, rng)
    return truncated(doc, rng)


def split_table(files: list[list[str]], seed: int) -> pa.Table:
    rng = random.Random(seed)
    docs = documents(files, rng)
    need = CLEAN_DOCS + GARBAGE_DOCS * len(FROM_TEXT)
    if len(docs) < need:
        raise RuntimeError(f"only {len(docs)} documents in this split, {need} needed")
    all_blocks = [b for blocks in files for b in blocks]
    pool = {
        "headings": [b for b in all_blocks if len(b.split()) <= 4 and len(b) <= 40],
        "words": sorted({w for b in all_blocks[:5000] for w in b.split() if w.isalpha()}),
    }
    texts, kinds = ["\n".join(d) for d in docs[:CLEAN_DOCS]], ["clean"] * CLEAN_DOCS
    rest = iter(docs[CLEAN_DOCS:])
    for kind in KINDS:
        for _ in range(GARBAGE_DOCS):
            texts.append(garbage(kind, next(rest) if kind in FROM_TEXT else [], pool, rng))
            kinds.append(kind)
    return pa.table({"text": texts, "kind": kinds})


def reference_lines(files: list[list[str]]) -> Iterator[str]:
    """Up to ``REFERENCE_CHARS``, at most ``REFERENCE_PER_FILE`` from each file."""
    chars = 0
    for blocks in files:
        mine = 0
        for block in blocks:
            yield block
            chars += len(block) + 1
            mine += len(block) + 1
            if chars >= REFERENCE_CHARS:
                return
            if mine >= REFERENCE_PER_FILE:
                break


def build(folder: Path) -> dict[str, object]:
    """Write reference.txt, dev.parquet and heldout.parquet into ``folder``; returns counts."""
    folder.mkdir(parents=True, exist_ok=True)
    by_split = file_blocks()
    rng = random.Random(SEED)
    rng.shuffle(by_split["reference"])  # a mix of sources within the 4 MB
    with open(folder / "reference.txt", "w", encoding="utf-8") as f:
        for line in reference_lines(by_split["reference"]):
            f.write(line + "\n")
    info: dict[str, object] = {"files": {k: len(v) for k, v in by_split.items()}}
    for i, name in enumerate(("dev", "heldout")):
        table = split_table(by_split[name], SEED + 1 + i)
        pq.write_table(table, folder / f"{name}.parquet")
        info[name] = table.num_rows
    info["reference_chars"] = (folder / "reference.txt").stat().st_size
    return info


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(build(Path(sys.argv[1]))))
