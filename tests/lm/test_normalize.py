"""CCNet normalisation: the vectorised Arrow path equals the plain-Python statement of the spec."""

from __future__ import annotations

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.lm.normalize import normalize_line, normalize_lines
from tests.conftest import stdlib_docs
from tests.man_pages import read_pages


def reference(docs: list[str | None]) -> tuple[list[str], list[int]]:
    lines, index = [], []
    for i, doc in enumerate(docs):
        for line in (doc or "").split("\n") if doc is not None else []:
            norm = normalize_line(line)
            if norm:
                lines.append(norm)
                index.append(i)
    return lines, index


def vectorised(docs: list[str | None]) -> tuple[list[str], list[int]]:
    lines, index = normalize_lines(pa.array(docs, pa.string()))
    return lines.to_pylist(), index.tolist()


def test_ccnet_rules():
    assert normalize_line("  Héllo, Wörld! Année 2023  ") == "hello, world! annee 0000"
    assert normalize_line("你好，世界。第１２期：「测试」") == '你好,世界.第00期:"测试"'
    assert normalize_line("a—b…c’d") == "a - b...c'd"
    assert normalize_line("tab\there\x07bell") == "tabherebell"
    assert normalize_line("٣ ३ ๓") == "0 0 0"  # digits of every script


def test_vectorised_equals_reference_on_real_text():
    docs = stdlib_docs()[:300] + [None, "", "\n\n  \n", "Ünïcödé\r\nline two\r\n"]
    assert vectorised(docs) == reference(docs)


def test_vectorised_equals_reference_on_chinese_man_pages():
    docs = read_pages("zh_CN", 80)
    got = vectorised(docs)
    assert got == reference(docs)
    assert sum(len(line) for line in got[0]) > 10_000


ALPHABET = st.characters(
    codec="utf-8",
    categories=("L", "M", "N", "P", "S", "Zs", "Cc"),
    # Latin with accents, Greek, general punctuation, CJK, CJK punctuation, full-width forms
    include_characters="\n\r\t\u00a0\u3000，。、：；？！（）《》「」【】…—–’“”",
    max_codepoint=0xFFEF,
    exclude_characters="\u03a3",  # Σ: Python lowercases a word-final one to ς, utf8proc to σ
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(ALPHABET, max_size=40), max_size=5))
def test_vectorised_equals_reference_property(docs):
    assert vectorised(docs) == reference(docs)
