"""A held-out test of the Chinese quality rules (``quality_filter``'s ``cjk_repetition`` and
``cjk_quality``), from Chinese text the sample corpus does not use.

``build() -> {"dev": table, "heldout": table}``: clean documents and five kinds of garbage
(``kind`` column: ``clean``, ``truncated``, ``repeated_lines``, ``menu``, ``numbers``,
``mojibake_gbk``, ``mojibake_latin1``), with the ``source`` of each clean document. The rules'
thresholds are FineWeb-2's (not tuned here); report both splits; a later tuning may look at
``dev`` only.

Sources (the zh host text of ``boilerplate_heldout.py``, which asks dpkg which packages the sample
corpus reads and leaves them out), plus Vim's Chinese tutor:

* ``catalog``: the zh_CN gettext catalogs under /usr/share/locale (translated messages of tar,
  wget, make, shadow, PostgreSQL, coreutils, ...: one message a line, many without a full stop);
* ``man``: zh_CN man pages of packages other than manpages-zh;
* ``tutor``: ``tutor.zh_cn.utf-8`` and Vim's zh_CN message catalog (vim-runtime), the only
  Chinese prose on this machine the sample does not read.

No offline source of Chinese web prose is left: the sample uses Debian's Chinese manuals and
manpages-zh (zh_TW man pages are the same package's translations). So "clean" here is real
Chinese, but software text; it is reported by source. Every file goes wholly to one split (files
by size, largest first, each to the split with fewer characters so far); garbage is made from
documents of its split that are not among its clean documents.

Garbage kinds:

* ``truncated``: every line cut after 30-70% of its characters (teasers, cut-off listings);
* ``repeated_lines``: 2-4 lines of a document, each repeated 4-12 times in random order;
* ``menu``: navigation bars and breadcrumbs: site words and the split's short messages joined by
  ``|``, ``>``, ``·`` or newlines;
* ``numbers``: tables of prices, percentages, dates and volumes under a few Chinese labels;
* ``mojibake_gbk``: a document's UTF-8 bytes read as GBK (the classic Chinese mojibake:
  CJK-looking characters, no meaning); ``mojibake_latin1``: read as Latin-1 ("æ\\x95°æ\\x8d®").

Deterministic: fixed seeds and sorted inputs (given the same installed Debian packages).
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pyarrow as pa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import boilerplate_heldout  # noqa: E402
import heldout_text  # noqa: E402

SEED = 23
CLEAN = 300  # clean documents per split
GARBAGE = 60  # per kind and split
PER_FILE = 25  # documents at most from one file
DOC_CHARS = (150, 800)
KINDS = ("truncated", "repeated_lines", "menu", "numbers", "mojibake_gbk", "mojibake_latin1")
TUTOR = (
    Path("/usr/share/vim/vim90/tutor/tutor.zh_cn.utf-8"),
    Path("/usr/share/vim/vim90/lang/zh_CN.UTF-8/LC_MESSAGES/vim.mo"),
)
SITE_WORDS = (
    "首页", "新闻", "产品中心", "关于我们", "联系我们", "登录", "注册", "下一页", "上一页",
    "返回顶部", "更多", "网站地图", "帮助中心", "加入收藏", "设为首页", "客服中心", "友情链接",
    "版权所有", "隐私政策", "我的订单", "购物车", "搜索",
)  # fmt: skip
LABELS = ("日期", "价格", "涨跌幅", "成交量", "开盘", "收盘", "最高", "最低", "编号", "数量")


def tutor_blocks(path: Path) -> list[str]:
    """The tutor's paragraphs (blank-line separated, lines joined), or a catalog's messages."""
    if path.suffix == ".mo":
        return boilerplate_heldout.zh_blocks_of_catalog(path)
    text = path.read_text(encoding="utf-8")
    blocks = []
    for para in text.split("\n\n"):
        lines = [ln.strip() for ln in para.splitlines() if ln.strip() and set(ln.strip()) != {"="}]
        block = "\n".join(lines)
        if sum("\u4e00" <= c <= "\u9fff" for c in block) >= 6:
            blocks.append(block)
    return blocks


def host_files() -> list[tuple[str, Path, list[str]]]:
    used = heldout_text.owned_files(heldout_text.sample_corpus_packages())
    files = []
    for kind, p in boilerplate_heldout.zh_host_files(used):
        try:
            blocks = boilerplate_heldout.zh_blocks(kind, p)
        except (OSError, EOFError, UnicodeDecodeError):
            continue
        if blocks:
            files.append((kind, p, blocks))
    for p in TUTOR:
        if p.exists() and str(p) not in used:
            files.append(("tutor", p, tutor_blocks(p)))
    return files


def documents(blocks: list[str], rng: random.Random) -> list[str]:
    """Consecutive blocks joined by newlines into documents of DOC_CHARS characters."""
    out, cur = [], []
    target = rng.randint(*DOC_CHARS)
    for b in blocks:
        cur.append(b)
        if sum(map(len, cur)) >= target:
            out.append("\n".join(cur)[: DOC_CHARS[1]])
            cur, target = [], rng.randint(*DOC_CHARS)
    return out


def truncated(doc: str, rng: random.Random) -> str:
    return "\n".join(ln[: max(1, int(len(ln) * rng.uniform(0.3, 0.7)))] for ln in doc.split("\n"))


def repeated_lines(doc: str, rng: random.Random) -> str:
    lines = [ln for ln in doc.split("\n") if len(ln) >= 6] or [doc[:40]]
    chosen = rng.sample(lines, min(len(lines), rng.randint(2, 4)))
    out = [ln for ln in chosen for _ in range(rng.randint(4, 12))]
    rng.shuffle(out)
    return "\n".join(out)


def menu(short: list[str], rng: random.Random) -> str:
    rows = []
    for _ in range(rng.randint(4, 10)):
        items = rng.sample(SITE_WORDS, rng.randint(3, 7)) + rng.sample(short, rng.randint(1, 3))
        rng.shuffle(items)
        rows.append(rng.choice([" | ", " > ", " · ", "  "]).join(items))
    return "\n".join(rows)


def numbers(rng: random.Random) -> str:
    cols = rng.sample(LABELS, rng.randint(3, 5))
    rows = ["  ".join(cols)]
    for _ in range(rng.randint(8, 25)):
        cells = []
        for _ in cols:
            cells.append(
                rng.choice(
                    [
                        f"{rng.uniform(1, 9999):.2f}",
                        f"{rng.uniform(-10, 10):+.2f}%",
                        f"{rng.randint(2010, 2025)}-{rng.randint(1, 12):02d}-"
                        f"{rng.randint(1, 28):02d}",
                        f"{rng.randint(100, 999999):,}",
                    ]
                )
            )
        rows.append("  ".join(cells))
    return "\n".join(rows)


def mojibake(doc: str, codec: str) -> str:
    return doc.encode("utf-8").decode(codec, errors="replace")


def garbage(kind: str, doc: str, short: list[str], rng: random.Random) -> str:
    if kind == "truncated":
        return truncated(doc, rng)
    if kind == "repeated_lines":
        return repeated_lines(doc, rng)
    if kind == "menu":
        return menu(short, rng)
    if kind == "numbers":
        return numbers(rng)
    return mojibake(doc, "gbk" if kind == "mojibake_gbk" else "latin-1")


def split_files(files: list[tuple[str, Path, list[str]]]) -> dict[str, list]:
    size = {"dev": 0, "heldout": 0}
    out: dict[str, list] = {"dev": [], "heldout": []}
    for f in sorted(files, key=lambda f: (-sum(map(len, f[2])), str(f[1]))):
        split = min(size, key=lambda k: (size[k], k))
        size[split] += sum(map(len, f[2]))
        out[split].append(f)
    return out


def build() -> dict[str, pa.Table]:
    tables = {}
    for split, files in split_files(host_files()).items():
        rng = random.Random(f"{SEED}-{split}")
        per_file = []
        for kind, path, blocks in sorted(files, key=lambda f: str(f[1])):
            docs = documents(blocks, rng)
            rng.shuffle(docs)
            per_file.append([(kind, path.name, d) for d in docs[: 2 * PER_FILE]])
        # clean: round robin over files (no file dominates); the rest feed the garbage
        clean, rest = [], []
        for i in range(2 * PER_FILE):
            for docs in per_file:
                if i < len(docs):
                    (clean if i < PER_FILE and len(clean) < CLEAN else rest).append(docs[i])
        short = sorted(
            {b for _, _, blocks in files for b in blocks if 2 <= len(b) <= 8},
        ) or list(SITE_WORDS)
        rows = [{"kind": "clean", "source": k, "file": f, "text": d} for k, f, d in clean]
        rng.shuffle(rest)
        for j, kind in enumerate(KINDS):
            for i in range(GARBAGE):
                k, f, d = rest[(j * GARBAGE + i) % len(rest)]
                text = garbage(kind, d, short, rng)
                rows.append({"kind": kind, "source": k, "file": f, "text": text})
        table = pa.Table.from_pylist(rows)
        n = table.num_rows
        table = table.append_column("id", pa.array([f"{split}-{i:05d}" for i in range(n)]))
        tables[split] = table.append_column("language", pa.array(["zh"] * n))
    return tables


if __name__ == "__main__":
    for name, t in build().items():
        kinds = t.group_by("kind").aggregate([("id", "count")]).to_pylist()
        print(name, t.num_rows, kinds)
        print(t.filter(pa.compute.equal(t["kind"], "clean"))["source"].value_counts().to_pylist())
