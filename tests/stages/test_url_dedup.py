from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curate.stages.url_dedup import UrlDedup, UrlDedupConfig, normalize_url
from tests.stages.test_minhash_dedup import run_global


@pytest.mark.parametrize(
    "url,expected",
    [
        ("HTTP://WWW.Example.COM:80/index.html#top", "//example.com/index.html"),
        ("https://example.com:443", "//example.com/"),
        ("https://example.com:8443/a", "//example.com:8443/a"),
        ("http://example.com/a?utm_source=news&utm_medium=mail&b=2&a=1", "//example.com/a?a=1&b=2"),
        (
            "https://shop.example.com/p?id=7&fbclid=IwAR0x&gclid=Cj0K&PHPSESSID=abc",
            "//shop.example.com/p?id=7",
        ),
        ("http://example.com/cart;jsessionid=0AF1?item=3", "//example.com/cart?item=3"),
        ("https://bücher.de/straße?q=ä", "//xn--bcher-kva.de/stra%C3%9Fe?q=%C3%A4"),
        (
            "https://xn--bcher-kva.de/stra%c3%9fe?q=%c3%a4",
            "//xn--bcher-kva.de/stra%C3%9Fe?q=%C3%A4",
        ),
        ("http://example.com/%7Euser/a%2fb", "//example.com/~user/a%2Fb"),
        ("http://example.com/a/./b/../c", "//example.com/a/c"),
        ("http://example.com/with space", "//example.com/with%20space"),
        ("  https://Example.com./path  ", "//example.com/path"),
        ("http://user:pw@example.com/", "//example.com/"),
        ("ftp://ftp.example.com:21/pub/", "ftp://ftp.example.com/pub/"),
        ("http://[2001:DB8::1]:8080/x", "//[2001:db8::1]:8080/x"),
    ],
)
def test_normalize_url(url, expected):
    assert normalize_url(url) == expected


def test_switches():
    assert normalize_url("http://www.a.org/", ignore_scheme=False) == "http://a.org/"
    assert normalize_url("http://www.a.org/", ignore_www=False) == "//www.a.org/"
    assert normalize_url("http://a.org/?b=1&a=2", sort_params=False) == "//a.org/?b=1&a=2"
    assert normalize_url("http://a.org/?ref=x&a=2", drop_params=["ref"]) == "//a.org/?a=2"


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "http://example.com:99999/",
        "not a url",
        "",
        "javascript:void(0)",
        "http://",
        "//",
        "http://exa mple.com",
        "http://a.b:port/",
        "http://" + "ü" * 70 + ".com/",
        "http://a\x00b.com/",
    ],
)
def test_malformed_urls_never_crash(url):
    normalize_url(url)  # None or a string, never an exception
    rows = [{"id": f"r{i}", "text": "t", "url": url, "dump": "d", "date": None} for i in range(3)]
    rows.append({"id": "other", "text": "t", "url": url + "x", "dump": "d", "date": None})
    removed, _, summary = run_global(UrlDedup(UrlDedupConfig()), rows)
    if normalize_url(url) is None:  # kept as-is: only the very same string is a duplicate
        assert removed == {"r1": "r0", "r2": "r0"}
        assert summary["malformed_urls"] >= 3


URLS = st.sampled_from(
    [
        "https://example.org/a",
        "http://www.example.org/a",
        "https://example.org/a#x",
        "https://example.org/a?utm_source=t",
        "https://example.org/b",
        "https://EXAMPLE.org/b?",
        "http://example.org:8080/a",
        "http://[bad",
        None,
    ]
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            URLS,
            st.sampled_from(["2023-01-01", "2023-02-01", None]),
            st.sampled_from(["d1", "d2"]),
            st.integers(1, 5),
        ),
        min_size=1,
        max_size=30,
    ),
    st.sampled_from(["earliest", "latest", "longest"]),
)
def test_matches_brute_force(items, keep):
    rows = [
        {"id": f"r{i:02d}", "text": "x" * n, "url": u, "date": d, "dump": dump}
        for i, (u, d, dump, n) in enumerate(items)
    ]

    def order(r):  # the documented survival order, nulls last
        def asc(v):
            return (v is None, v or "")

        def desc(v):
            return (v is None, tuple(-ord(c) for c in v) if v else ())

        if keep == "earliest":
            return (asc(r["dump"]), asc(r["date"]), r["id"])
        if keep == "latest":
            return (desc(r["date"]), desc(r["dump"]), r["id"])
        return (-len(r["text"]), asc(r["dump"]), asc(r["date"]), r["id"])

    groups = {}
    for r in rows:
        if r["url"] is None:
            continue
        key = normalize_url(r["url"]) or r["url"].strip()
        groups.setdefault(key, []).append(r)
    expected = {}
    for members in groups.values():
        best = min(members, key=order)
        expected.update({r["id"]: best["id"] for r in members if r is not best})
    removed, extra, summary = run_global(UrlDedup(UrlDedupConfig(keep=keep)), rows)
    assert removed == expected
    assert all(e["reason"] == "url_duplicate" for e in extra.values())
    assert summary["duplicates"] == len(expected)
