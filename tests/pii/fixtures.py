"""Real text with Faker PII put in at known offsets: the ground truth for recall.

English text is the standard library's own documentation (tests/conftest.py); Chinese text is
the zh_CN man pages Debian ships (manpages-zh), with roff markup stripped. PII values come from
Faker in several locales and go in inside short carrier sentences, the Chinese ones with no
spaces around the value (the case ``\\b`` anchors get wrong).
"""

from __future__ import annotations

import gzip
import random
import re
from dataclasses import dataclass

from tests.conftest import stdlib_docs
from tests.man_pages import page_paths

EN_LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR"]
EN_CARRIERS = [
    "Contact {} for details.",
    "Send it to {} before Friday.",
    "The form lists {} as the contact.",
    "Reply to {}, thanks.",
]
ZH_CARRIERS = ["请联系{}。", "联系方式：{}，", "地址为{}。", "发送至{}获取详情。"]
# Entities Faker can make, per locale (values that are not PII by our rules are excluded).
EN_MAKERS = {
    "EMAIL": lambda f: f.email(),
    "PHONE": lambda f: f.phone_number(),
    "CREDIT_CARD": lambda f: f.credit_card_number(),
    "IP_ADDRESS": lambda f: f.ipv4_public(),
    "IBAN": lambda f: f.iban(),
    "STREET_ADDRESS": lambda f: f.street_address().replace("\n", ", "),
    "PERSON": lambda f: f.name(),
    "LOCATION": lambda f: f.country(),
}
US_ONLY = {"US_SSN": lambda f: f.ssn()}
ZH_MAKERS = {
    "EMAIL": lambda f: f.email(),
    "PHONE": lambda f: f.phone_number(),
    "CREDIT_CARD": lambda f: f.credit_card_number(),
    "IP_ADDRESS": lambda f: f.ipv4_public(),
    "CN_ID": lambda f: f.ssn(),
    "STREET_ADDRESS": lambda f: f.address().split(" ")[0],
}


@dataclass
class Truth:
    doc: int
    start: int
    end: int
    entity: str
    value: str
    locale: str = ""


def chinese_docs(limit: int = 400, min_chars: int = 200) -> list[str]:
    """Chinese prose from Debian's zh_CN man pages, roff requests and escapes removed."""
    out = []
    for path in page_paths("zh_CN", 100, section=""):
        with gzip.open(path, "rt", encoding="utf-8", errors="ignore") as f:
            raw = f.read()
        lines = [ln for ln in raw.splitlines() if ln and not ln.startswith((".", "'"))]
        text = re.sub(r"\\f[A-Z0-9]|\\\(..|\\[-&e]|\\", "", "\n".join(lines))
        if len(re.findall(r"[\u4e00-\u9fff]", text)) >= min_chars // 2:
            out.append(text[:2000])
        if len(out) >= limit:
            break
    return out


def _pieces(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, max(1, len(text) - size // 2), size)]


def make_docs(
    n_en: int = 200, n_zh: int = 100, seed: int = 0, size: int = 600, per_doc: int = 2
) -> tuple[list[str], list[str], list[Truth]]:
    """(texts, languages, truth): ~``size``-char documents, each with ``per_doc`` PII values."""
    from faker import Faker

    rng = random.Random(seed)
    fakers = {loc: Faker(loc) for loc in [*EN_LOCALES, "zh_CN"]}
    for i, f in enumerate(fakers.values()):
        f.seed_instance(seed * 100 + i)
    en = [p for d in stdlib_docs() for p in _pieces(d, size)][:n_en]
    zh = [p for d in chinese_docs() for p in _pieces(d, size)][:n_zh]
    texts, langs, truth = [], [], []
    for lang, pool in (("en", en), ("zh", zh)):
        for base in pool:
            doc = len(texts)
            text = base
            for _ in range(per_doc):
                if lang == "en":
                    loc = rng.choice(EN_LOCALES)
                    makers = {**EN_MAKERS, **(US_ONLY if loc == "en_US" else {})}
                    carrier = rng.choice(EN_CARRIERS)
                else:
                    loc, makers, carrier = "zh_CN", ZH_MAKERS, rng.choice(ZH_CARRIERS)
                entity = rng.choice(sorted(makers))
                value = makers[entity](fakers[loc])
                sentence = carrier.format(value)
                # at a sentence or line end, so the carrier reads as its own sentence
                cuts = [m.end() for m in re.finditer(r"(?:\.\s|。|\n)\s*", text)]
                mine = [t for t in truth if t.doc == doc]
                cuts = [c for c in cuts if not any(t.start <= c <= t.end for t in mine)]
                cuts = cuts or [len(text)]
                at = rng.choice(cuts)
                pad = " " if lang == "en" else ""
                text = text[:at] + pad + sentence + pad + text[at:]
                start = at + len(pad) + carrier.index("{}")
                for t in truth:  # shift earlier-inserted spans of this doc
                    if t.doc == doc and t.start >= at:
                        t.start += len(sentence) + 2 * len(pad)
                        t.end += len(sentence) + 2 * len(pad)
                truth.append(Truth(doc, start, start + len(value), entity, value, loc))
            texts.append(text)
            langs.append(lang)
    for t in truth:
        assert texts[t.doc][t.start : t.end] == t.value
    return texts, langs, truth


DECOYS = [
    "Upgrade to v2.10.3 or 3.11.4 first.",
    "Released on 2023-10-15 and again on 15.10.2023 at 12:30.",
    "See ISBN 978-3-16-148410-0 and ISBN 0-306-40615-2.",
    "Commit a94a8fe5ccb19ba61c4c0873d391e987982fbbd3 fixed it.",
    "It costs $1,299.99 or EUR 1.299,00 now.",
    "Order number 20231015-4471 shipped.",
    "Edit /usr/lib/x86_64-linux-gnu/libc.so.6 and C:\\Windows\\System32\\drivers.",
    "Bind to 127.0.0.1:8080, 10.0.0.12 or 192.168.1.20, and ::1.",
    "Build 1.2.3.4567 of version 4.3.2.1 is out.",
    "Pi is 3.14159265358979 and e is 2.718281828.",
    "The sha256 is 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08.",
]


def full_width(text: str) -> str:
    """``text`` typed by an input method in full-width mode: ASCII as U+FF01-FF5E, space U+3000."""
    return "".join(
        "\u3000" if c == " " else chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text
    )
