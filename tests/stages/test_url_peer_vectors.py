"""url_dedup's normaliser on the URL pairs of w3lib's and url-normalize's own tests.

The pairs are facts from the peers' tests (scrapy/w3lib at ed01dc04, tests/test_url.py,
``canonicalize_url`` with its defaults; niksite/url-normalize at 9a9a3214, tests/
test_url_normalize.py and test_normalize_host.py): ``(input, the peer's canonical form)``. Two
URLs a peer makes equal must get the same key here, and two URLs a peer keeps apart must not,
except for curate's deliberate differences, each listed with its reason (README, url_dedup).
"""

from __future__ import annotations

import itertools
import re

import pytest

from curate.stages.url_dedup import UrlDedup, UrlDedupConfig, normalize_url
from tests.stages.test_minhash_dedup import run_global

LONG = "éxamplé" * 11  # w3lib: a DNS label too long for IDNA

W3LIB = [
    ("http://www.example.com", "http://www.example.com/"),
    ("http://www.example.com/do?a=1&b=2&c=3", "http://www.example.com/do?a=1&b=2&c=3"),
    ("http://www.example.com/do?c=1&b=2&a=3", "http://www.example.com/do?a=3&b=2&c=1"),
    ("http://www.example.com/do?&a=1", "http://www.example.com/do?a=1"),
    ("http://www.example.com:8888/do?a=1&b=2&c=3", "http://www.example.com:8888/do?a=1&b=2&c=3"),
    ("http://www.example.com:/do?a=1&b=2&c=3", "http://www.example.com/do?a=1&b=2&c=3"),
    ("http://www.example.com/do?c=3&b=5&b=2&a=50", "http://www.example.com/do?a=50&b=2&b=5&c=3"),
    ("http://www.example.com/do?b=&a=2", "http://www.example.com/do?a=2&b="),
    ("http://www.example.com/do?b=&c&a=2", "http://www.example.com/do?a=2&b=&c="),
    ("http://www.example.com/do?1750,4", "http://www.example.com/do?1750%2C4="),
    ("http://www.example.com/do?q=a space&a=1", "http://www.example.com/do?a=1&q=a+space"),
    ("http://www.example.com/do?q=a+space&a=1", "http://www.example.com/do?a=1&q=a+space"),
    ("http://www.example.com/do?q=a%20space&a=1", "http://www.example.com/do?a=1&q=a+space"),
    ("http://www.example.com/résumé", "http://www.example.com/r%C3%A9sum%C3%A9"),
    (
        "http://www.example.com/résumé?q=résumé",
        "http://www.example.com/r%C3%A9sum%C3%A9?q=r%C3%A9sum%C3%A9",
    ),
    ("http://exa\tmple.com/a\r\nb?q=a\tb", "http://example.com/ab?q=ab"),
    ("http://www.example.com/r%c3%a9sum%c3%a9", "http://www.example.com/r%C3%A9sum%C3%A9"),
    ("http://www.example.com/a%a3do", "http://www.example.com/a%A3do"),
    (
        "http://www.example.com/a%a3do?q=r%c3%a9sum%c3%a9",
        "http://www.example.com/a%A3do?q=r%C3%A9sum%C3%A9",
    ),
    ("http://www.example.com/a%a3do?q=r%e9sum%e9", "http://www.example.com/a%A3do?q=r%E9sum%E9"),
    ("https://example.com/a%23b%2cc#bash", "https://example.com/a%23b,c"),
    ("http://www.example.com/do?k=b%a3", "http://www.example.com/do?k=b%A3"),
    (
        "http://www.example.com/do?k=r%c3%a9sum%c3%a9",
        "http://www.example.com/do?k=r%C3%A9sum%C3%A9",
    ),
    ("http://www.example.com/a do?a=1", "http://www.example.com/a%20do?a=1"),
    ("http://www.example.com/a %20do?a=1", "http://www.example.com/a%20%20do?a=1"),
    ("http://www.example.com/a do£.html?a=1", "http://www.example.com/a%20do%C2%A3.html?a=1"),
    (
        "http://www.example.com/do?price=£500&a=5&z=3",
        "http://www.example.com/do?a=5&price=%C2%A3500&z=3",
    ),
    (
        "http://user:pass@www.example.com:81/do?now=1",
        "http://user:pass@www.example.com:81/do?now=1",
    ),
    (
        "http://user:pass@www.example.com/do?a=1#frag",
        "http://user:pass@www.example.com/do?a=1",
    ),
    ("http://[::1]/do?a=1#frag", "http://[::1]/do?a=1"),
    (
        "http://www.simplybedrooms.com/White-Bedroom-Furniture/Bedroom-Mirror:-Josephine-Cheval-Mirror.html",
        "http://www.simplybedrooms.com/White-Bedroom-Furniture/Bedroom-Mirror:-Josephine-Cheval-Mirror.html",
    ),
    (
        "http://www.example.com/caf%e9-con-leche.htm",
        "http://www.example.com/caf%E9-con-leche.htm",
    ),
    ("http://www.EXAMPLE.com/", "http://www.example.com/"),
    ("sftp://UsEr:PaSsWoRd@www.EXAMPLE.com/", "sftp://UsEr:PaSsWoRd@www.example.com/"),
    ("http://www.bücher.de?q=bücher", "http://www.xn--bcher-kva.de/?q=b%C3%BCcher"),
    (
        "http://はじめよう.みんな/?query=サ&maxResults=5",
        "http://xn--p8j9a0d9c9a.xn--q9jyb4c/?maxResults=5&query=%E3%82%B5",
    ),
    ("http://www.bücher.de:8080/?q=bücher", "http://www.xn--bcher-kva.de:8080/?q=b%C3%BCcher"),
    ("http://user@例え.jp/path", "http://user@xn--r8jz45g.jp/path"),
    ("http://user:pass@例え.jp:8080/p", "http://user:pass@xn--r8jz45g.jp:8080/p"),
    ("http://foo.com/AC%2FDC+rocks%3f/?yeah=1", "http://foo.com/AC%2FDC+rocks%3F/?yeah=1"),
    ("http://foo.com/AC%2FDC/", "http://foo.com/AC%2FDC/"),
    ("http://www.example.com/dir;x/a%7Eb", "http://www.example.com/dir;x/a~b"),
    ("http://www.example.com/path;params?x=1#frag", "http://www.example.com/path;params?x=1"),
    ("http://www.example.com/a;b/c;params?x=1", "http://www.example.com/a;b/c;params?x=1"),
    (
        "http://.éxamplé.com/résumé?q=résumé",
        "http://.éxamplé.com/r%C3%A9sum%C3%A9?q=r%C3%A9sum%C3%A9",
    ),
    (
        f"http://www.{LONG}.com/résumé?q=résumé",
        f"http://www.{LONG}.com/r%C3%A9sum%C3%A9?q=r%C3%A9sum%C3%A9",
    ),
    (
        "http://www.example.com/path/to/%23/foo/bar#frag",
        "http://www.example.com/path/to/%23/foo/bar",
    ),
    (
        "http://www.example.com/path/to/%23/foo/bar?url=http%3A%2F%2Fwww.example.com%2Fpath%2Fto%2F%23%2Fbar%2Ffoo",
        "http://www.example.com/path/to/%23/foo/bar?url=http%3A%2F%2Fwww.example.com%2Fpath%2Fto%2F%23%2Fbar%2Ffoo",
    ),
    (
        "http://www.example.com/path/to/%23/foo/bar?url=http%3A%2F%2Fwww.example.com%2F%2Fpath%2Fto%2F%23%2Fbar%2Ffoo#frag",
        "http://www.example.com/path/to/%23/foo/bar?url=http%3A%2F%2Fwww.example.com%2F%2Fpath%2Fto%2F%23%2Fbar%2Ffoo",
    ),
    (" https://example.com", "https://example.com/"),
    ("https://example.com ", "https://example.com/"),
]

URL_NORMALIZE = [
    ("http://:@example.com/", "http://example.com/"),
    ("http://@example.com/", "http://example.com/"),
    ("http://127.0.0.1:80/", "http://127.0.0.1/"),
    ("http://example.com:081/", "http://example.com:81/"),
    ("http://example.com:80/", "http://example.com/"),
    ("http://example.com", "http://example.com/"),
    ("http://example.com/?b&a", "http://example.com/?b&a"),
    ("http://example.com/?q=%5c", "http://example.com/?q=%5C"),
    ("http://example.com/?q=%C7", "http://example.com/?q=%EF%BF%BD"),
    ("http://example.com/?q=C%CC%A7", "http://example.com/?q=%C3%87"),
    ("http://EXAMPLE.COM/", "http://example.com/"),
    ("http://example.com/%7Ejane", "http://example.com/~jane"),
    ("http://example.com/a/../a/b", "http://example.com/a/b"),
    ("http://example.com/a/./b", "http://example.com/a/b"),
    (
        "http://example.com/#!5753509/hello-world",
        "http://example.com/?_escaped_fragment_=5753509/hello-world",
    ),
    ("http://USER:pass@www.Example.COM/foo/bar", "http://USER:pass@www.example.com/foo/bar"),
    ("http://www.example.com./", "http://www.example.com/"),
    ("http://www.foo.com:80/foo", "http://www.foo.com/foo"),
    ("http://www.foo.com.:81/foo", "http://www.foo.com:81/foo"),
    ("http://www.foo.com./foo/bar.html", "http://www.foo.com/foo/bar.html"),
    ("http://www.foo.com/%7Ebar", "http://www.foo.com/~bar"),
    ("http://www.foo.com/%7ebar", "http://www.foo.com/~bar"),
    ("http:example.com", "http://example.com/"),
    ("http:example.com/path", "http://example.com/path"),
    ("ftp:test.com/files", "ftp://test.com/files"),
    ("https:www.example.com", "https://www.example.com/"),
    # test_normalize_host.py, as hosts of http:// URLs
    ("http://SITE.COM/", "http://site.com/"),
    ("http://site.com./", "http://site.com/"),
    ("http://пример.испытание/", "http://xn--e1afmkfd.xn--80akhbyknj4f/"),
    ("http://ExAmPle.РФ/", "http://example.xn--p1ai/"),
    ("http://faß.de/", "http://xn--fa-hia.de/"),
    ("http://ドメイン.テスト/", "http://xn--eckwd4c7c.xn--zckzah/"),
    ("http://domain.café/", "http://domain.xn--caf-dma/"),
    ("http://über.example/", "http://xn--ber-goa.example/"),
    ("http://example。com/", "http://example.com/"),
]
# url-normalize's URLs it leaves as they are (the ones with a host)
URL_NORMALIZE_UNCHANGED = [
    "ftp://user:pass@ftp.foo.net/foo/bar",
    "http://127.0.0.1/",
    "http://example.com:8080/",
    "http://example.com/?a&b",
    "http://example.com/?q=%5C",
    "http://example.com/?q=%C3%87",
    "http://example.com/?q=%E2%85%A0",
    "http://example.com/",
    "http://example.com/~jane",
    "http://example.com/a/b",
    "http://example.com/FOO",
    "http://user:password@example.com/",
    "http://www.foo.com:8000/foo",
    "ftp://ftp.is.co.za/rfc/rfc1808.txt",
    "http://www.ietf.org/rfc/rfc2396.txt",
    "ldap://[2001:db8::7]/c=GB?objectClass?one",
    "telnet://192.0.2.16:80/",
    "https://docs.google.com/spreadsheets/d/abcd/edit#gid=1234",
]

# Pairs a peer makes equal that curate keeps apart, on purpose (never a wrong merge).
KEPT_APART = {
    (
        "https://example.com/a%23b%2cc#bash",
        "https://example.com/a%23b,c",
    ): "an escaped reserved character in the path stays escaped (RFC 3986 6.2.2.2)",
    (
        "http://example.com/?q=%C7",
        "http://example.com/?q=%EF%BF%BD",
    ): "bytes that are not UTF-8 are not replaced by U+FFFD: that would merge them all",
    (
        "http://example.com/?q=C%CC%A7",
        "http://example.com/?q=%C3%87",
    ): "no Unicode normalisation of escaped text: the bytes are the URL",
    (
        "http://example.com/#!5753509/hello-world",
        "http://example.com/?_escaped_fragment_=5753509/hello-world",
    ): "the fragment is dropped, #! included: the crawler fetched the page without it",
}


def deliberate(url: str) -> str:
    """A peer's URL with curate's deliberate merges applied: http = https, www. dropped,
    user:password dropped, query parameters sorted (url-normalize keeps their order; tracking
    parameters do not occur in these vectors)."""
    url = url.strip()
    url = re.sub(r"^https?://", "//", url)
    url = re.sub(r"^((?:[a-z]+:)?//)[^/@]*@", r"\1", url)
    url = re.sub(r"^((?:[a-z]+:)?//)www\.", r"\1", url)
    base, _, query = url.partition("?")
    return base + ("?" + "&".join(sorted(query.split("&"))) if query else "")


def key(url: str) -> str:
    return normalize_url(url) or url.strip()


@pytest.mark.parametrize("url, canonical", W3LIB + URL_NORMALIZE)
def test_peers_equal_pairs_are_one_url(url, canonical):
    if (url, canonical) in KEPT_APART:
        assert key(url) != key(canonical)
    else:
        assert key(url) == key(canonical)


@pytest.mark.parametrize(
    "name, outputs",
    [
        ("w3lib", sorted({c for _, c in W3LIB})),
        ("url-normalize", sorted({c for _, c in URL_NORMALIZE} | set(URL_NORMALIZE_UNCHANGED))),
    ],
)
def test_urls_a_peer_keeps_apart_stay_apart(name, outputs):
    """Every two different canonical forms of one peer get different keys, unless curate's
    deliberate merges (scheme, www, user:password) make them one."""
    assert len(outputs) > 15
    wrong = [
        (a, b)
        for a, b in itertools.combinations(outputs, 2)
        if key(a) == key(b) and deliberate(a) != deliberate(b)
    ]
    assert wrong == [], name
    merged = [(a, b) for a, b in itertools.combinations(outputs, 2) if key(a) == key(b)]
    assert merged, "the deliberate merges occur in these vectors"


def test_idna_2008_keeps_sharp_s_and_final_sigma_apart():
    """IDNA 2003 maps ß to ss and ς to σ, merging different sites (issue 26)."""
    assert key("http://faß.de/") == key("http://xn--fa-hia.de/") != key("http://fass.de/")
    assert key("http://ςαρ.gr/x") != key("http://σαρ.gr/x")
    rows = [
        {"id": "a", "text": "t", "url": "http://faß.de/", "dump": "d", "date": None},
        {"id": "b", "text": "t", "url": "http://fass.de/", "dump": "d", "date": None},
        {"id": "c", "text": "t", "url": "https://www.xn--fa-hia.de", "dump": "d", "date": None},
    ]
    removed, _, _ = run_global(UrlDedup(UrlDedupConfig()), rows)
    assert removed == {"c": "a"}


@pytest.mark.parametrize(
    "a, b",
    [
        ("http://e.org/s?q=a+b", "http://e.org/s?q=a%20b"),
        ("http://e.org/s?q=a+b", "http://e.org/s?q=a b"),
        ("http://e.org/s?c", "http://e.org/s?c="),
        ("http://e.org/s?b=&c&a=2", "http://e.org/s?a=2&b=&c="),
        ("http://e.org/s?x=1,2", "http://e.org/s?x=1%2C2"),
    ],
)
def test_query_forms_w3lib_treats_as_one(a, b):
    assert key(a) == key(b)


@pytest.mark.parametrize(
    "a, b",
    [
        ("http://e.org/s?q=a%2Bb", "http://e.org/s?q=a+b"),  # an escaped + is a plus sign
        ("http://e.org/s?a=1%26b=2", "http://e.org/s?a=1&b=2"),  # an escaped & is data
        ("http://e.org/s?a=%3D", "http://e.org/s?a=="),
        ("http://e.org/a%2Fb", "http://e.org/a/b"),
        ("http://e.org/s?c=", "http://e.org/s?c=0"),
    ],
)
def test_query_forms_that_stay_apart(a, b):
    assert key(a) != key(b)


def test_an_index_of_the_previous_normaliser_is_refused(tmp_path):
    import json

    rows = [{"id": "a", "text": "t", "url": "http://e.org/?c", "dump": "d1", "date": None}]
    run_global(UrlDedup(UrlDedupConfig(index=str(tmp_path / "idx"))), rows)
    headers = list((tmp_path / "idx").rglob("*.json"))
    assert headers
    for h in headers:  # as an index written before NORMALIZER_VERSION existed
        data = json.loads(h.read_text())
        if "params" in data and "normalizer" in data["params"]:
            del data["params"]["normalizer"]
            h.write_text(json.dumps(data))
    rows[0]["dump"] = "d2"
    with pytest.raises(Exception, match="normalizer"):
        run_global(UrlDedup(UrlDedupConfig(index=str(tmp_path / "idx"))), rows)
