"""url_filter on real URLs: entries of the lists datatrove ships (read from its installed
package), the sample corpus's real hosts, user lists, datatrove's own URLFilter side by side, and
the errors a user sees."""

from __future__ import annotations

import random
import tarfile
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from curate.config import parse_pipeline
from curate.errors import ConfigError
from curate.stages.url_filter import (
    TARBALL,
    UrlFilter,
    UrlFilterConfig,
    datatrove_assets,
    hash_entries,
)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def shipped() -> dict[str, list[str]]:
    """A seeded sample of the real entries of datatrove's domains and urls lists."""
    rng = random.Random(0)
    out = {}
    with tarfile.open(datatrove_assets() / TARBALL, "r:gz") as tar:
        for member in ("domains", "urls"):
            lines = tar.extractfile(member).read().decode().split("\n")  # type: ignore[union-attr]
            lines = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
            out[member] = rng.sample(lines, 200)
    return out


@pytest.fixture(scope="module")
def stage() -> UrlFilter:
    s = UrlFilter(UrlFilterConfig())
    s.lists()  # load once for the module
    return s


def reasons(stage: UrlFilter, urls: list[str | None]) -> list[str | None]:
    return stage.process(pa.record_batch({"url": pa.array(urls, pa.string())})).reason.to_pylist()


def test_listed_domains_their_subdomains_and_listed_urls_go(stage, shipped):
    domains = shipped["domains"]
    urls = (
        [f"https://{d}/" for d in domains[:100]]
        + [f"http://www.{d}/index.html?a=1" for d in domains[100:150]]
        + [f"https://cdn.img.{d.upper()}/x.jpg" for d in domains[150:]]
    )
    got = reasons(stage, urls)
    assert all(r is not None for r in got), [u for u, r in zip(urls, got) if r is None][:5]
    assert got.count("url_domain") >= 150  # some also hold banned words: domain is named first
    listed = [f"https://{u}" for u in shipped["urls"]]
    got = reasons(stage, listed)
    assert all(r is not None for r in got)


def test_real_clean_urls_stay(stage):
    files = sorted((ROOT / "sample_corpus").glob("dump=*/*.parquet"))
    urls = pq.read_table(files, columns=["url"], partitioning=None)["url"]
    urls = urls.combine_chunks()
    extra = [
        "https://docs.python.org/3/library/os.html",
        "https://en.wikipedia.org/wiki/Special:Random",
        "https://www.bbc.co.uk/news",
        "https://arxiv.org/abs/2401.02954",
        "https://scunthorpe-united.co.uk/",  # a banned word inside a word is not a URL word
    ]
    verdict = stage.process(pa.record_batch({"url": pa.concat_arrays([urls, pa.array(extra)])}))
    gone = verdict.reason.drop_null()
    assert len(gone) == 0, gone[:5]
    assert verdict.stats["list:datatrove:domains"] == 0


def test_words_soft_words_and_subwords(stage):
    urls = [
        "https://example.com/free-porn-videos",  # banned word
        "https://example.com/anus-apeshit",  # two soft banned words
        "https://example.com/anus",  # one soft banned word: stays
        "https://example.com/watch/2-Girls_1_Cup",  # banned subword after normalising
        None,
        "",
    ]
    got = reasons(stage, urls)
    assert got == [
        "url_banned_word",
        "url_soft_banned_words",
        None,
        "url_banned_subword",
        None,
        None,
    ]


def test_user_lists_are_counted_as_their_own_lists(tmp_path):
    (tmp_path / "farms.txt").write_text("# scraper sites\ncoderedirect.com\nnewbedev.com.\n")
    (tmp_path / "words.txt").write_text("Leaked\n")
    config = UrlFilterConfig(
        builtin=False,
        domains=[str(tmp_path / "farms.txt")],
        banned_words=[str(tmp_path / "words.txt")],
    )
    config.validate()
    stage = UrlFilter(config)
    urls = [
        "https://coderedirect.com/questions/1",
        "https://www.newbedev.com/a",
        "https://stackoverflow.com/questions/1",
        "https://example.com/leaked-documents",
    ]
    v = stage.process(pa.record_batch({"url": urls}))
    assert v.reason.to_pylist() == ["url_domain", "url_domain", None, "url_banned_word"]
    assert v.stats[f"list:domains:{tmp_path / 'farms.txt'}"] == 2
    assert v.stats[f"list:banned_words:{tmp_path / 'words.txt'}"] == 1


def test_hash_table_agrees_with_a_python_set(shipped):
    """The sorted hash array answers membership exactly as a set of the strings does."""
    from curate.stages.url_filter import _in_sorted, hash_strings

    listed = shipped["domains"]
    table = hash_entries(("\n".join(listed) + "\n# comment\n\n").encode(), "domains")
    assert len(table) == len(set(listed))
    probe = listed[:50] + [d + "x" for d in listed[50:100]] + ["python.org"]
    expected = np.array([p in set(listed) for p in probe])
    assert (_in_sorted(hash_strings(probe), table) == expected).all()


def test_agrees_with_datatrove_url_filter(stage, shipped):
    """datatrove's URLFilter on the same URLs: every URL it removes goes here too. It misses the
    listed URLs of a crawl (it compares the URL, scheme and all, with scheme-less entries)."""
    pytest.importorskip("ahocorasick")
    pytest.importorskip("fasteners")
    from datatrove.data import Document
    from datatrove.pipeline.filters import URLFilter
    from tldextract import TLDExtract

    peer = URLFilter()
    peer.tldextractor = TLDExtract(suffix_list_urls=())  # its bundled snapshot: offline
    urls = (
        [f"https://{d}/page" for d in shipped["domains"][:50]]
        + [f"https://{u}" for u in shipped["urls"][:50]]
        + [
            "https://example.com/free-porn-videos",
            "https://example.com/anus-apeshit",
            "https://docs.python.org/3/",
            "https://en.wikipedia.org/wiki/Main_Page",
        ]
    )
    theirs = [
        peer.filter(Document(text="x", id=str(i), metadata={"url": u})) for i, u in enumerate(urls)
    ]
    ours = reasons(stage, urls)
    for url, t, o in zip(urls, theirs, ours):
        if t is not True:
            assert o is not None, (url, t)
    missed = sum(t is True and o == "url_listed" for t, o in zip(theirs, ours))
    assert missed > 0  # the scheme keeps datatrove's URL list from matching


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"domains": ["nope.txt"]}, "domains: nope.txt: no such file"),
        ({"builtin": False}, "nothing to filter on"),
        ({"soft_word_threshold": 0}, "soft_word_threshold"),
    ],
)
def test_config_errors(params, message):
    with pytest.raises(ConfigError, match=message):
        parse_pipeline(
            {"name": "t", "input": "x", "output": "y", "stages": [{"url_filter": params}]}
        )


def test_an_empty_list_is_named(tmp_path):
    (tmp_path / "empty.txt").write_text("# nothing yet\n\n")
    with pytest.raises(ConfigError, match=r"banned_words: .*empty.txt: the list is empty"):
        parse_pipeline(
            {
                "name": "t",
                "input": "x",
                "output": "y",
                "stages": [{"url_filter": {"banned_words": [str(tmp_path / "empty.txt")]}}],
            }
        )


def write_ut1(root: Path) -> dict[str, dict[str, list[str]]]:
    """A UT1-shaped folder (blacklists/<category>/domains, urls): real hosts from the sample's
    URLs and from datatrove's list, one domain in two categories."""
    lists = {
        "adult": {
            "domains": ["example-adult.com", "shared.example.net", "img.pics.example.org"],
            "urls": ["example.org/adult/page.html"],
        },
        "gambling": {"domains": ["bet.example.com", "shared.example.net"]},
        "phishing": {"urls": ["login.example.com/verify"]},
    }
    for cat, kinds in lists.items():
        folder = root / "blacklists" / cat
        folder.mkdir(parents=True)
        for kind, entries in kinds.items():
            (folder / kind).write_text("# UT1\n" + "\n".join(entries) + "\n")
        (folder / "usage").write_text("black\n")
    return lists


def brute_categories(urls: list[str], lists) -> dict[str, int]:
    from urllib.parse import urlsplit

    out = {}
    for cat, kinds in lists.items():
        n = 0
        for u in urls:
            host = (urlsplit(u).hostname or "").rstrip(".")
            parents = {".".join(host.split(".")[k:]) for k in range(host.count("."))}
            bare = u.split("://", 1)[1].lower()
            n += bool(parents & set(kinds.get("domains", []))) or bare.rstrip("/") in kinds.get(
                "urls", []
            )
        out[cat] = n
    return out


URLS_UT1 = [
    "https://example-adult.com/",
    "http://www.example-adult.com/a?b=1",
    "https://shared.example.net/x",
    "https://deep.shared.example.net/y",
    "https://bet.example.com/odds",
    "https://example.com/bet",  # the parent of a listed host is not listed
    "https://img.pics.example.org/1.jpg",
    "https://pics.example.org/1.jpg",
    "https://example.org/adult/page.html",
    "https://login.example.com/verify",
    "https://docs.python.org/3/",
]


@pytest.mark.parametrize("packed", [False, True])
def test_ut1_categories_are_counted(tmp_path, packed):
    """Per category, the rows it matched equal a brute force over the category's entries (a
    row in two categories counts in both); the rules' reasons are url_domain / url_listed."""
    lists = write_ut1(tmp_path / "ut1")
    path = tmp_path / "ut1" / "blacklists"
    if packed:
        path = tmp_path / "blacklists.tar.gz"
        with tarfile.open(path, "w:gz") as tar:
            tar.add(tmp_path / "ut1" / "blacklists", arcname="blacklists")
    stage = UrlFilter(UrlFilterConfig(builtin=False, ut1=str(path)))
    v = stage.process(pa.record_batch({"url": pa.array(URLS_UT1)}))
    want = brute_categories(URLS_UT1, lists)
    assert want == {"adult": 6, "gambling": 3, "phishing": 1}
    assert {k[9:]: v.stats[k] for k in v.stats if k.startswith("category:")} == want
    assert v.stats["list:ut1:adult:domains"] == 5 and v.stats["list:ut1:adult:urls"] == 1
    got = v.reason.to_pylist()
    assert got[5] is None and got[7] is None and got[10] is None
    assert got[8] == "url_listed" and got[9] == "url_listed" and got[0] == "url_domain"
    assert sum(r is not None for r in got) == 8
    from curate.report.sections import blocklists

    report = {"stages": [{"name": "url_filter", "extra": v.stats}]}
    assert "<td>adult</td><td>6</td>" in blocklists(report)
    only = UrlFilter(UrlFilterConfig(builtin=False, ut1=str(path), ut1_categories=["gambling"]))
    v = only.process(pa.record_batch({"url": pa.array(URLS_UT1)}))
    assert [k for k in v.stats if k.startswith("category:")] == ["category:gambling"]
    assert sum(r is not None for r in v.reason.to_pylist()) == 3


def test_ut1_errors_are_named(tmp_path):
    write_ut1(tmp_path / "ut1")
    path = str(tmp_path / "ut1" / "blacklists")
    with pytest.raises(ConfigError, match=r"has no category 'gambing' \(did you mean 'gambling'"):
        parse_pipeline(
            {
                "name": "t",
                "input": "x",
                "output": "y",
                "stages": [{"url_filter": {"ut1": path, "ut1_categories": ["gambing"]}}],
            }
        )
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match=r"no <category>/domains or <category>/urls inside"):
        parse_pipeline(
            {
                "name": "t",
                "input": "x",
                "output": "y",
                "stages": [{"url_filter": {"builtin": False, "ut1": str(tmp_path / "empty")}}],
            }
        )
