# ruff: noqa: E501  (the template tables keep one template per line)
"""A held-out test of boilerplate removal (``simhash_dedup``), from text the sample corpus and
``benchmarks/heldout_text.py`` do not use.

``build(folder)`` writes ``dev.parquet`` and ``heldout.parquet``: real English and Chinese
documents into which boilerplate templates are inserted, each occurrence with its own slot values
(names, sites, companies, titles, dates in several formats, counts, e-mails, phone numbers) and
about 40% of occurrences also edited (a word dropped, a word replaced by a synonym, punctuation
changed or dropped, case changed). The two splits share nothing: different templates (``DEV`` /
``HELDOUT`` below, of the same kinds: cookie and consent banners, newsletter and share prompts,
navigation lines, bylines, comment counts, related posts, licence and copyright footers, photo
credits, tag lines, contact lines) and different host files (by a hash of the path). Tune on
``dev`` only; ``heldout`` is measured, never tuned on.

Host text (Debian packages the sample corpus does not read, asked of dpkg as heldout_text.py does,
and none of heldout_text.py's sources):

* English: README, NEWS, FAQ, TODO and ``*.txt`` / ``*.md`` / ``*.rst`` files under
  /usr/share/doc (plain or gzipped; changelogs and copyright files left out), blank-line
  separated paragraphs that read as prose;
* Chinese: the zh_CN man pages of packages other than manpages-zh (passwd, login, man-db) and the
  zh_CN gettext catalogs under /usr/share/locale (the translated messages, one block per line;
  the sample corpus reads no catalog). Chinese files go to the split with fewer characters so
  far, largest first (there are few).

Host text is unique by construction: a sentence whose normalised form (the baseline's key) was
already used in this split, or in the dev split, is dropped; so cutting host text is loss.

Each row: ``id`` (document order = survival order: one dump, one date), ``text``, ``language``
and the boilerplate occurrences as list columns ``bp_start``/``bp_end`` (character span),
``bp_template`` (template number), ``bp_edit`` (``none``, ``word_dropped``, ``synonym``,
``punctuation``, ``case``) and ``bp_similarity`` (the largest Jaccard similarity of the
occurrence's token bigrams to an earlier occurrence of its template; -1 for the first).

Deterministic: fixed seeds and sorted inputs (given the same installed Debian packages and Faker).
"""

from __future__ import annotations

import gettext
import gzip
import hashlib
import random
import re
import sys
import unicodedata
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
import heldout_text  # noqa: E402

from curate.text import split_units, tokens  # noqa: E402

SEED = 18
DOCS = {"en": 1450, "zh": 550}  # per split
PER_FILE = {"en": 40, "zh": 150}  # documents at most from one host file
DOC_CHARS = {"en": (300, 1500), "zh": (150, 800)}  # a Chinese character says more
INSERTS_PER_DOC = 1.3  # boilerplate occurrences per document, on average
EDITED = 0.4  # share of occurrences edited
EDITS = ("word_dropped", "synonym", "punctuation", "case")
SIMILARITY_BUCKETS = (0.0, 0.3, 0.5, 0.7, 0.9, 1.01)  # left edges, and the last right edge

# Templates: (kind, text); slots in braces. Each split's templates are its own.
DEV = {
    "en": [
        ("cookie", "We use cookies to personalise content and ads and to analyse our traffic. By continuing to browse {site} you agree to our use of cookies."),
        ("cookie", "This site uses cookies from {company} to deliver its services. Learn more in our privacy policy, updated {date}."),
        ("newsletter", "Subscribe to the {site} newsletter and get the best stories delivered to {email} every week."),
        ("share", "Share this article on Facebook, Twitter or LinkedIn, or send it to a friend."),
        ("share", "Found this useful? Share it with {n} of your colleagues and follow {name} for more."),
        ("navigation", "Home > {tag} > {title}"),
        ("navigation", "Previous post: {title} | Next post: {title2}"),
        ("byline", "Posted on {date} by {name}"),
        ("byline", "Written by {name}, {job} at {company}. Last updated {date}."),
        ("comments", "{n} comments so far. Join the discussion and leave a reply below."),
        ("related", "Related posts: {title}; {title2}; {title3}"),
        ("licence", "Except where otherwise noted, content on {site} is licensed under a Creative Commons Attribution 4.0 International License."),
        ("copyright", "Copyright © {year} {company}. All rights reserved."),
        ("photo", "Photo by {name} on {site}. Used with permission."),
        ("tags", "Tags: {tag}, {tag2}, {tag3}"),
        ("contact", "Questions? Call us at {phone} or write to {email}, Monday to Friday from 9am to 5pm."),
        ("ad", "Advertisement. Continue reading below."),
        ("app", "Get the {site} app for iPhone and Android and never miss a story."),
        ("login", "You must be logged in to post a comment. Log in or register for a free account with {site}."),
        ("print", "Printed from {url} on {date}."),
    ],
    "zh": [
        ("cookie", "本网站使用Cookie以提升您的浏览体验，继续访问{site}即表示您同意我们使用Cookie。"),
        ("cookie", "{company}会收集必要的Cookie信息用于网站分析，详情请阅读隐私政策（更新于{date}）。"),
        ("newsletter", "订阅{site}的电子邮件简报，每周精选文章将发送到{email}。"),
        ("share", "分享到微信、微博或QQ空间，让更多朋友看到这篇文章。"),
        ("share", "觉得有用？请转发给{n}位好友，并关注{name}获取更多内容。"),
        ("navigation", "首页 > {tag} > {title}"),
        ("navigation", "上一篇：{title} 下一篇：{title2}"),
        ("byline", "发布于{date}，作者：{name}"),
        ("byline", "本文作者{name}，{company}{job}，最后更新于{date}。"),
        ("comments", "已有{n}条评论，欢迎在下方留言参与讨论。"),
        ("related", "相关文章：{title}；{title2}；{title3}"),
        ("licence", "除非另有说明，本站内容均采用知识共享署名4.0国际许可协议进行许可。"),
        ("copyright", "版权所有 © {year} {company} 保留所有权利。"),
        ("photo", "图片来源：{name}摄于{city}，经授权使用。"),
        ("tags", "标签：{tag}、{tag2}、{tag3}"),
        ("contact", "如有疑问，请致电{phone}或发送邮件至{email}，工作日9:00至17:00。"),
        ("ad", "广告 继续阅读下文"),
        ("app", "下载{site}客户端，随时随地阅读最新资讯。"),
        ("login", "您需要登录后才可以发表评论，没有账号？立即免费注册{site}。"),
        ("print", "本页面打印自{url}，打印时间{date}。"),
    ],
}  # fmt: skip
HELDOUT = {
    "en": [
        ("cookie", "By clicking Accept All, you consent to {company} storing cookies on your device to enhance site navigation and analyse site usage."),
        ("cookie", "Our website uses essential cookies and, with your permission, analytics cookies. You can change your preferences at any time."),
        ("newsletter", "Sign up for our free weekly digest: enter your e-mail address and we will keep you posted on {tag} news from {site}."),
        ("share", "Like this story? Tweet it, pin it or email it to someone who would enjoy it."),
        ("share", "Follow {name} on Twitter and Instagram for daily updates from {city}."),
        ("navigation", "You are here: Home / {tag} / {title}"),
        ("navigation", "Back to top | Skip to main content | Accessibility statement"),
        ("byline", "Published {date} | Updated {date2} | By {name}"),
        ("byline", "Article by {name} ({email}), staff reporter for {site}."),
        ("comments", "There are {n} responses to this post. Add yours!"),
        ("related", "You may also like: {title} and {title2}"),
        ("licence", "This work is licensed under the GNU Free Documentation License; you may copy, distribute and modify it under the terms of version 1.3 or any later version."),
        ("copyright", "© {company} {year}–{year2}. Reproduction in whole or in part without written permission is prohibited."),
        ("photo", "Image credit: {name}/{company} via {site}"),
        ("tags", "Filed under: {tag}, {tag2} | Permalink"),
        ("contact", "For press enquiries contact {name} on {phone} or at {email}."),
        ("disclaimer", "The views expressed in this article are those of the author and do not necessarily reflect the official position of {company}."),
        ("affiliate", "As an Amazon Associate {site} earns from qualifying purchases; prices were accurate as of {date}."),
        ("reading", "{n} min read · {n2} views"),
        ("terms", "Use of this site constitutes acceptance of our User Agreement and Privacy Policy, effective {date}."),
    ],
    "zh": [
        ("cookie", "点击“全部接受”，即表示您同意{company}在您的设备上存储Cookie，以改善网站导航并分析网站使用情况。"),
        ("cookie", "我们的网站仅在征得您同意后使用分析类Cookie，您可以随时在设置中更改偏好。"),
        ("newsletter", "免费注册每周摘要：填写您的邮箱地址，我们将及时为您推送{site}的{tag}新闻。"),
        ("share", "喜欢这篇文章吗？欢迎点赞、收藏并转发给身边的朋友。"),
        ("share", "关注{name}的微博和抖音，获取来自{city}的每日更新。"),
        ("navigation", "当前位置：首页 / {tag} / {title}"),
        ("navigation", "返回顶部 | 跳到正文 | 无障碍说明"),
        ("byline", "发布时间：{date} | 更新时间：{date2} | 作者：{name}"),
        ("byline", "记者{name}（{email}）为{site}撰稿。"),
        ("comments", "本文共有{n}条回复，快来发表你的看法吧！"),
        ("related", "猜你喜欢：{title}与{title2}"),
        ("licence", "本作品依据GNU自由文档许可证授权，您可以按照1.3版或任何更新版本的条款复制、分发和修改。"),
        ("copyright", "© {company} {year}–{year2}。未经书面许可，不得转载或部分转载。"),
        ("photo", "图片来源：{name}/{company}，转自{site}"),
        ("tags", "分类：{tag}、{tag2} | 固定链接"),
        ("contact", "媒体垂询请联系{name}，电话{phone}，邮箱{email}。"),
        ("disclaimer", "本文观点仅代表作者本人，不代表{company}的立场。"),
        ("affiliate", "本站通过推荐链接获得佣金，价格截至{date}有效。"),
        ("reading", "阅读时间约{n}分钟 · {n2}次浏览"),
        ("terms", "使用本网站即表示您接受我们的用户协议和隐私政策，自{date}起生效。"),
    ],
}  # fmt: skip
TEMPLATES = {"dev": DEV, "heldout": HELDOUT}

SYNONYMS = {
    "en": {
        "use": "employ", "uses": "employs", "site": "website", "website": "site",
        "article": "story", "story": "article", "agree": "consent", "consent": "agree",
        "free": "complimentary", "share": "post", "get": "receive", "comments": "replies",
        "leave": "post", "reply": "comment", "posted": "published", "published": "posted",
        "updated": "revised", "reserved": "protected", "photo": "picture", "image": "picture",
        "questions": "queries", "call": "phone", "write": "email", "friend": "pal",
        "colleagues": "coworkers", "discussion": "conversation", "below": "underneath",
        "learn": "find out", "more": "further", "daily": "everyday", "weekly": "week's",
        "news": "stories", "enjoy": "like", "delivered": "sent", "prohibited": "forbidden",
        "permission": "consent", "official": "formal", "position": "stance",
        "acceptance": "agreement", "enhance": "improve", "analyse": "analyze",
        "preferences": "settings", "time": "moment", "press": "media", "enquiries": "inquiries",
        "reporter": "journalist", "licensed": "released", "content": "material",
        "continue": "keep", "never": "not", "miss": "skip", "account": "profile",
        "register": "sign up", "services": "offerings", "policy": "notice", "best": "top",
        "every": "each", "reading": "viewing", "views": "reads", "main": "primary",
        "responses": "answers", "copy": "reproduce", "modify": "change", "device": "computer",
        "written": "authored", "posts": "entries", "traffic": "visits", "ads": "adverts",
    },
    "zh": {
        "网站": "网页", "本站": "本网站", "使用": "采用", "文章": "内容", "评论": "留言",
        "作者": "撰稿人", "发布": "发表", "订阅": "关注", "分享": "转发", "阅读": "浏览",
        "朋友": "好友", "同意": "接受", "更新": "修改", "相关": "推荐", "下载": "安装",
        "免费": "无偿", "获取": "得到", "联系": "联络", "邮箱": "电子邮箱", "电话": "手机",
        "图片": "照片", "标签": "关键词", "首页": "主页", "许可": "授权", "欢迎": "诚邀",
        "立即": "马上", "每周": "每星期", "设备": "终端", "喜欢": "爱看", "不得": "禁止",
        "转载": "复制", "立场": "观点", "有效": "适用", "顶部": "上方", "偏好": "喜好",
        "随时": "任何时候", "提升": "改善", "详情": "具体内容", "客户端": "应用",
        "最新": "最近", "资讯": "新闻", "疑问": "问题", "记者": "通讯员", "分类": "栏目",
        "回复": "答复", "看法": "意见", "媒体": "新闻界", "佣金": "报酬", "价格": "售价",
    },
}  # fmt: skip
PUNCT = {"en": ".,;:!?|>/()", "zh": "，。；：！？、|>/（）"}
SWAP = {"en": ",;:.!-", "zh": "，；：。！、 "}
DATE_FORMATS = {
    "en": ("%B %d, %Y", "%Y-%m-%d", "%m/%d/%Y", "%d %b %Y", "%d.%m.%Y", "%b %d, %Y"),
    "zh": ("%Y年%m月%d日", "%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日 %H:%M"),
}


# -- host text


def en_host_files(used: set[str]) -> list[Path]:
    name = re.compile(r"(readme|news|faq|todo|authors|thanks|bugs)|.*\.(txt|md|rst)(\.gz)?$", re.I)
    skip = re.compile(r"changelog|copyright|/RelNotes/|/nodejs/|/valgrind/html|/python3-pip/html")
    out = []
    for p in sorted(Path("/usr/share/doc").rglob("*")):
        wanted = name.match(p.name) and not skip.search(str(p)) and str(p) not in used
        if wanted and p.is_file() and not p.is_symlink():
            out.append(p)
    return out


def read_text(path: Path) -> str:
    data = path.read_bytes()
    if path.name.endswith(".gz"):
        data = gzip.decompress(data)
    return data.decode("utf-8", "replace")


def en_blocks(path: Path) -> list[str]:
    """Blank-line separated paragraphs that read as prose (no code, tables or rules)."""
    out = []
    for para in re.split(r"\n\s*\n", read_text(path)):
        lines = [ln.strip() for ln in para.splitlines() if ln.strip()]
        if not lines or any(ln.startswith(("$ ", ">>>", "#include", "|", "+--")) for ln in lines):
            continue
        block = re.sub(r"^([*-]|\d+[.)])\s+", "", " ".join(lines))
        block = " ".join(block.split())
        words = block.split()
        letters = sum(c.isalpha() for c in block)
        if len(words) >= 6 and letters >= 0.7 * len(block.replace(" ", "")) and len(block) < 1500:
            out.append(block)
    return out


def zh_blocks_of_catalog(path: Path) -> list[str]:
    """The translated messages of a gettext catalog, one block per line of a message."""
    with open(path, "rb") as f:
        catalog = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    out = []
    for key in sorted(k for k in catalog if isinstance(k, str) and k):
        for line in str(catalog[key]).splitlines():
            line = " ".join(line.split())
            if sum("\u4e00" <= c <= "\u9fff" for c in line) >= 6:
                out.append(line)
    return out


def zh_host_files(used: set[str]) -> list[tuple[str, Path]]:
    # the sample corpus reads no gettext catalog (it reads coreutils' man pages, not its .mo)
    files = [("catalog", p) for p in sorted(Path("/usr/share/locale/zh_CN").rglob("*.mo"))]
    man = sorted(Path("/usr/share/man/zh_CN").rglob("*.gz"))
    files += [("man", p) for p in man if str(p) not in used and not p.is_symlink()]
    return files


def zh_blocks(kind: str, path: Path) -> list[str]:
    if kind == "catalog":
        return zh_blocks_of_catalog(path)
    blocks = [" ".join(b.split()) for b in heldout_text.man_blocks(path)]
    return [b for b in blocks if sum("\u4e00" <= c <= "\u9fff" for c in b) >= 6]


def split_of(path: Path) -> str:
    u = int(hashlib.sha1(str(path).encode()).hexdigest()[:8], 16) / 2**32
    return "dev" if u < 0.5 else "heldout"


def host_files() -> dict[tuple[str, str], list[list[str]]]:
    """(split, language) -> blocks of each host file."""
    used = heldout_text.owned_files(heldout_text.sample_corpus_packages())
    out: dict[tuple[str, str], list[list[str]]] = {}
    seen_content: set[str] = set()
    for p in en_host_files(used):
        try:
            blocks = en_blocks(p)
        except (OSError, EOFError):
            continue
        digest = hashlib.sha1("\n".join(blocks).encode()).hexdigest()
        if blocks and digest not in seen_content:  # the same README shipped by many packages
            seen_content.add(digest)
            out.setdefault((split_of(p), "en"), []).append(blocks)
    zh = []
    for kind, p in zh_host_files(used):
        try:
            blocks = zh_blocks(kind, p)
        except (OSError, EOFError, UnicodeDecodeError):
            continue
        if blocks:
            zh.append((p, blocks))
    # Chinese is scarcer: files by size, each to the split with fewer characters so far
    size = {"dev": 0, "heldout": 0}
    for _, blocks in sorted(zh, key=lambda f: (-sum(map(len, f[1])), str(f[0]))):
        split = min(size, key=lambda k: (size[k], k))
        size[split] += sum(map(len, blocks))
        out.setdefault((split, "zh"), []).append(blocks)
    for key in out:  # back in path order within each split
        out[key].sort(key=lambda blocks: blocks[0])
    return out


def baseline_key(text: str) -> str:
    """The plain baseline's normal form: NFKC, lowercase, punctuation, symbols, digits and
    spaces deleted."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(c for c in text if unicodedata.category(c)[0] not in "PSNZC")


def unique_sentences(block: str, seen: set[str]) -> str:
    """``block`` without the sentences whose baseline key was seen (which are added to it)."""
    kept = []
    for a, b in split_units(block, "sentence"):
        key = baseline_key(block[a:b])
        if key and key not in seen:
            seen.add(key)
            kept.append(block[a:b])
    return " ".join(kept) if " " in block or not kept else "".join(kept)


def host_documents(
    files: list[list[str]], lang: str, rng: random.Random, seen: set[str]
) -> list[list[str]]:
    """DOCS[lang] documents of consecutive unique blocks of one file, of DOC_CHARS[lang]
    characters, at most PER_FILE[lang] per file."""
    docs, n, low = [], DOCS[lang], DOC_CHARS[lang][0]
    for blocks in files:
        mine, target, cur = [], rng.randint(*DOC_CHARS[lang]), []
        for block in blocks:
            cur.append(block)
            if sum(map(len, cur)) >= target:
                mine.append(cur)
                target, cur = rng.randint(*DOC_CHARS[lang]), []
        docs += rng.sample(mine, min(len(mine), PER_FILE[lang]))
    rng.shuffle(docs)
    out = []
    for doc in docs:
        kept = [b for b in (unique_sentences(b, seen) for b in doc) if b]
        if sum(map(len, kept)) >= low * 2 // 3:
            out.append(kept)
        if len(out) == n:
            return out
    raise RuntimeError(f"only {len(out)} host documents, {n} needed")


# -- boilerplate


class Slots:
    """Slot values for one language, from Faker (seeded)."""

    def __init__(self, lang: str, seed: int) -> None:
        from faker import Faker

        self.lang = lang
        self.fake = Faker("en_US" if lang == "en" else "zh_CN")
        self.fake.seed_instance(seed)
        self.rng = random.Random(seed)
        f = self.fake
        if lang == "en":
            self.sites = [f.domain_word().title() + self.rng.choice(["", " News", " Daily", ".com", " Blog", " Times"]) for _ in range(40)]  # fmt: skip
            self.tags = sorted({w for _ in range(60) for w in f.bs().split()})
        else:
            self.sites = [f.company_prefix() + self.rng.choice(["网", "资讯", "在线", "日报", "论坛", "博客"]) for _ in range(40)]  # fmt: skip
            self.tags = sorted({f.word() for _ in range(120)})

    def title(self) -> str:
        if self.lang == "en":
            return self.fake.catch_phrase().title()
        return self.fake.sentence(nb_words=self.rng.randint(3, 6)).rstrip(".")

    def date(self) -> str:
        d = date(2005, 1, 1) + timedelta(days=self.rng.randrange(7300))
        fmt = self.rng.choice(DATE_FORMATS[self.lang])
        text = d.strftime(fmt.replace(" %H:%M", ""))
        if "%H" in fmt:
            text += f" {self.rng.randrange(24):02d}:{self.rng.randrange(60):02d}"
        if self.lang == "zh" and "年" in fmt:
            text = text.replace("年0", "年").replace("月0", "月")
        return text

    def count(self) -> str:
        n = int(10 ** self.rng.uniform(0, 4))
        return f"{n:,}" if self.lang == "en" and self.rng.random() < 0.5 else str(n)

    def fill(self, template: str) -> str:
        f = self.fake
        values = {
            "name": f.name,
            "site": lambda: self.rng.choice(self.sites),
            "company": f.company,
            "date": self.date,
            "date2": self.date,
            "n": self.count,
            "n2": self.count,
            "email": f.email,
            "phone": f.phone_number,
            "title": self.title,
            "title2": self.title,
            "title3": self.title,
            "tag": lambda: self.rng.choice(self.tags),
            "tag2": lambda: self.rng.choice(self.tags),
            "tag3": lambda: self.rng.choice(self.tags),
            "job": f.job,
            "city": f.city,
            "url": lambda: f.url() + "/".join(f.words(2)),
            "year": lambda: str(self.rng.randint(1998, 2019)),
            "year2": lambda: str(self.rng.randint(2020, 2026)),
        }
        return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)](), template)


LITERAL_WORD = re.compile(r"\{\w+\}|([^\W\d_]+)")


def edit_template(template: str, lang: str, kind: str, rng: random.Random) -> str | None:
    """``template`` with one edit of ``kind`` in its literal text (not its slots); None when it
    has nothing to edit that way."""
    if kind == "word_dropped":
        if lang == "en":
            spans = [m.span(1) for m in LITERAL_WORD.finditer(template) if m.group(1)]
        else:
            import jieba

            jieba.setLogLevel(60)

            spans, pos = [], 0
            for piece in re.split(r"(\{\w+\})", template):
                if not piece.startswith("{"):
                    for word in jieba.lcut(piece):
                        if all("\u4e00" <= c <= "\u9fff" for c in word):
                            spans.append((pos, pos + len(word)))
                        pos += len(word)
                else:
                    pos += len(piece)
        if len(spans) < 3:
            return None
        a, b = rng.choice(spans)
        if lang == "en" and b < len(template) and template[b] == " ":
            b += 1
        return template[:a] + template[b:]
    if kind == "synonym":
        table = SYNONYMS[lang]
        if lang == "en":
            spans = [
                m.span(1)
                for m in LITERAL_WORD.finditer(template)
                if m.group(1) and m.group(1).lower() in table
            ]
        else:
            spans = [
                (m.start(), m.end())
                for word in table
                for m in re.finditer(re.escape(word), template)
                if not _in_slot(template, m.start())
            ]
        if not spans:
            return None
        a, b = rng.choice(sorted(spans))
        word = template[a:b]
        new = table[word.lower()] if lang == "en" else table[word]
        if lang == "en" and word[0].isupper():
            new = new[0].upper() + new[1:]
        return template[:a] + new + template[b:]
    if kind == "punctuation":
        spots = [
            i for i, c in enumerate(template) if c in PUNCT[lang] and not _in_slot(template, i)
        ]
        if not spots:
            return template + ("." if lang == "en" else "。")
        i = rng.choice(spots)
        new = rng.choice(["", *[c for c in SWAP[lang] if c != template[i]]])
        return template[:i] + new + template[i + 1 :]
    return template  # case: applied to the filled text


def _in_slot(template: str, i: int) -> bool:
    return template.rfind("{", 0, i + 1) > template.rfind("}", 0, i + 1)


def change_case(text: str, rng: random.Random) -> str | None:
    if not any(c.isascii() and c.isalpha() for c in text):
        return None
    how = rng.choice(("lower", "upper", "title"))
    return text.lower() if how == "lower" else text.upper() if how == "upper" else text.title()


def bigrams(text: str) -> set[tuple[str, str]]:
    toks = tokens(unicodedata.normalize("NFKC", text).lower())
    return set(zip(toks, toks[1:])) or {(t, "") for t in toks}


def occurrence(template: str, lang: str, slots: Slots, rng: random.Random) -> tuple[str, str]:
    """(text, edit kind) of one occurrence of ``template``."""
    kind = "none"
    if rng.random() < EDITED:
        for kind in rng.sample(EDITS, len(EDITS)):
            edited = edit_template(template, lang, kind, rng)
            if edited is None:
                continue
            text = slots.fill(edited)
            if kind == "case":
                cased = change_case(text, rng)
                if cased is None:
                    continue
                text = cased
            return text, kind
        kind = "none"
    return slots.fill(template), kind


def split_table(split: str, hosts: dict, seen: set[str]) -> pa.Table:
    rng = random.Random(f"{SEED}-{split}")
    rows = []
    for lang in ("en", "zh"):
        docs = host_documents(hosts[(split, lang)], lang, rng, seen)
        templates = TEMPLATES[split][lang]
        # template frequencies: Zipf-like, shuffled (every template occurs >= 5 times)
        weights = [1 / (k + 1) ** 0.8 for k in range(len(templates))]
        rng.shuffle(weights)
        slots = Slots(lang, SEED + len(split) + (lang == "zh"))
        offset = 0 if lang == "en" else len(DEV["en"])
        for doc in docs:
            rows.append({"lang": lang, "blocks": list(doc), "bp": []})
            n = min(_poisson(rng, INSERTS_PER_DOC), 5)
            for t in rng.choices(range(len(templates)), weights, k=n):
                text, edit = occurrence(templates[t][1], lang, slots, rng)
                rows[-1]["bp"].append((offset + t, text, edit))
    order = list(range(len(rows)))
    rng.shuffle(order)  # English and Chinese interleaved in document (survival) order
    out = []
    earlier: dict[int, list[set]] = {}
    for number, k in enumerate(order):
        row = rows[k]
        pieces = [(b, None) for b in row["blocks"]]
        for t, text, edit in row["bp"]:
            pieces.insert(
                rng.choice([0, len(pieces), rng.randrange(len(pieces) + 1)]), (text, (t, edit))
            )
        text, spans = "", []
        for piece, bp in pieces:
            if text:
                text += "\n"
            if bp is not None:
                t, edit = bp
                grams = bigrams(piece)
                prior = earlier.setdefault(t, [])
                sim = max((len(grams & g) / len(grams | g) for g in prior), default=-1.0)
                prior.append(grams)
                spans.append((len(text), len(text) + len(piece), t, edit, sim))
            text += piece
        out.append(
            {
                "id": f"{split}-{number:05d}",
                "text": text,
                "language": row["lang"],
                "dump": "CC-MAIN-2024-10",
                "date": "2024-03-01",
                "bp_start": [s[0] for s in spans],
                "bp_end": [s[1] for s in spans],
                "bp_template": [s[2] for s in spans],
                "bp_edit": [s[3] for s in spans],
                "bp_similarity": [round(s[4], 4) for s in spans],
            }
        )
    return pa.Table.from_pylist(out)


def _poisson(rng: random.Random, mean: float) -> int:
    k, p, limit = 0, 1.0, 2.718281828459045**-mean
    while True:
        p *= rng.random()
        if p < limit:
            return k
        k += 1


def build(folder: Path) -> dict[str, object]:
    """Write dev.parquet and heldout.parquet into ``folder``; returns counts."""
    folder.mkdir(parents=True, exist_ok=True)
    hosts = host_files()
    seen: set[str] = set()  # dev first: held-out host text holds no sentence of dev's
    info: dict[str, object] = {}
    for split in ("dev", "heldout"):
        table = split_table(split, hosts, seen)
        pq.write_table(table, folder / f"{split}.parquet")
        occurrences = sum(len(x) for x in table.column("bp_start").to_pylist())
        info[split] = {"documents": table.num_rows, "occurrences": occurrences}
    return info


if __name__ == "__main__":
    import json

    print(json.dumps(build(Path(sys.argv[1]))))
