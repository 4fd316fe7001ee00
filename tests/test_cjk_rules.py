"""Chinese rules of quality_filter (curate.cjk_rules) on real Chinese text, Debian's zh_CN man
pages (`scripts/install_test_text.sh`), and on Chinese garbage made from them; rules chosen by
the row's language."""

from __future__ import annotations

import random
import re
from collections import Counter

import pyarrow as pa
import pytest

from curate.config import parse_pipeline
from curate.errors import ConfigError
from curate.stages.quality_filter import QualityFilter, QualityFilterConfig
from tests.conftest import stdlib_docs
from tests.man_pages import read_pages

ROFF_FONT = re.compile(r"\\f[BIRP1-4]|\\\(..|\\&|\\[|^]")


def prose(roff: str) -> str:
    """A man page's text: macros dropped (headings and bold/italic arguments kept)."""
    out = []
    for line in roff.splitlines():
        if line.startswith(('.\\"', "'\\\"")):
            continue
        if line.startswith("."):
            parts = line.split(None, 1)
            if len(parts) == 2 and parts[0] in (".SH", ".SS", ".B", ".I", ".BR", ".IR"):
                out.append(parts[1].strip('"'))
            elif parts and parts[0] in (".PP", ".P", ".LP", ".TP", ".IP"):
                out.append("")
            continue
        out.append(ROFF_FONT.sub("", line.replace("\\-", "-")))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(out)).strip()


@pytest.fixture(scope="module")
def pages() -> list[str]:
    texts = [prose(p) for p in read_pages("zh_CN", 200, limit=300)]
    return [t for t in texts if len(t) >= 200]


def verdict(texts: list[str], language: str = "zh", **config) -> list[str | None]:
    stage = QualityFilter(QualityFilterConfig(languages=["en", "zh"], **config))
    batch = pa.record_batch(
        {
            "id": [str(i) for i in range(len(texts))],
            "text": texts,
            "language": [language] * len(texts),
        }
    )
    return stage.process(batch).reason.to_pylist()


def test_real_chinese_man_pages_mostly_stay(pages):
    reasons = verdict(pages)
    gone = [r for r in reasons if r]
    assert len(pages) >= 250
    assert len(gone) <= 0.10 * len(pages), Counter(gone)
    assert all(r.startswith(("cjk_quality:", "cjk_repetition:")) for r in gone)


def shuffled_chars(text: str, rng: random.Random) -> str:
    lines = []
    for line in text.split("\n"):
        chars = list(line)
        rng.shuffle(chars)
        lines.append("".join(chars))
    return "\n".join(lines)


def repeated_lines(text: str, rng: random.Random) -> str:
    lines = [ln for ln in text.split("\n") if len(ln) > 10][:3] or [text[:50]]
    return "\n".join(rng.choice(lines) for _ in range(30))


def keyword_spam(text: str, rng: random.Random) -> str:
    han = re.findall(r"[\u4e00-\u9fff]{2,4}", text) or ["下载"]
    words = rng.sample(han, min(3, len(han)))
    items = [
        f"{rng.choice(words)}{rng.choice(['免费下载', '最新版', '官方网站', '破解版'])}"
        for _ in range(60)
    ]
    return " ".join(items)


def numbers(text: str, rng: random.Random) -> str:
    han = re.findall(r"[\u4e00-\u9fff]{2}", text) or ["价格"]
    rows = [
        " | ".join([rng.choice(han)] + [f"{rng.uniform(0, 999):.2f}" for _ in range(5)])
        for _ in range(20)
    ]
    return "\n".join(rows)


@pytest.mark.parametrize("make", [shuffled_chars, repeated_lines, keyword_spam, numbers])
def test_chinese_garbage_goes(pages, make):
    rng = random.Random(0)
    garbage = [make(p, rng) for p in pages[:100]]
    reasons = verdict(garbage)
    assert sum(r is not None for r in reasons) >= 90, Counter(reasons)


def test_latin_text_labelled_chinese_goes():
    docs = [d for d in stdlib_docs() if len(d) >= 300][:50]
    reasons = verdict(docs)
    assert all(reasons)  # repetition rules run first and take a few
    assert reasons.count("cjk_quality:cjk_ratio") >= 0.8 * len(docs)


def test_rules_are_chosen_by_the_row_language(pages):
    page = pages[0]
    repeated = "\n".join([page.split("\n")[0]] * 40)
    stage = QualityFilter(QualityFilterConfig(languages=["en", "zh"]))
    batch = pa.record_batch(
        {
            "id": ["a", "b", "c"],
            "text": [repeated, repeated, repeated],
            "language": ["zh", "en", "fr"],
        }
    )
    v = stage.process(batch)
    zh, en, fr = v.reason.to_pylist()
    assert zh.startswith("cjk_") and en.startswith("gopher_") and fr is None
    assert v.stats["skipped_language"] == 1
    # without a rule set of its own, Chinese gets the default rules
    stage = QualityFilter(QualityFilterConfig(languages=["en", "zh"], rule_sets={}))
    assert stage.process(batch).reason.to_pylist()[0].startswith("gopher_")


def test_thresholds_are_parameters(pages):
    page = next(p for p in pages if "\n" in p.strip())
    loose = {"cjk_quality": {"line_punct_thr": 0.0}}
    strict = {"cjk_quality": {"line_punct_thr": 1.0}}
    assert verdict([page], params=strict)[0] == "cjk_quality:line_punct_ratio"
    assert verdict([page], params=loose)[0] != "cjk_quality:line_punct_ratio"


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"rule_sets": {"zh": ["cjk_repetitoin"]}}, "rule_sets.zh: unknown rule 'cjk_repetitoin'"),
        ({"params": {"cjk_quality": {"min_chrs": 5}}}, "unknown parameter 'min_chrs'"),
        ({"rule_sets": {"zh": []}}, "rule_sets.zh: give a list of rules"),
    ],
)
def test_config_errors(params, message):
    with pytest.raises(ConfigError, match=message):
        parse_pipeline(
            {"name": "t", "input": "x", "output": "y", "stages": [{"quality_filter": params}]}
        )
