"""report.html from report.json: every chart whose data is there, nothing else, all text escaped."""

from __future__ import annotations

import copy
from html.parser import HTMLParser

import pytest

from curate.report import load_report, render_html, render_markdown
from curate.report.masking import mask_pii


class Charts(HTMLParser):
    """data-chart names of <svg> elements, and whether the page has any script or remote URL."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[str] = []
        self.scripts = 0
        self.remote: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg" and "data-chart" in a:
            self.charts.append(a["data-chart"])
        if tag == "script":
            self.scripts += 1
        for key in ("src", "href"):
            if (a.get(key) or "").startswith(("http:", "https:", "//")):
                self.remote.append(a[key])


def charts(page: str) -> Charts:
    parser = Charts()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def report(small_run):
    return load_report(small_run)


def test_every_chart_is_drawn_for_a_full_run(report):
    page = render_html(report)
    found = charts(page)
    names = set(found.charts)
    assert {"funnel-docs", "funnel-bytes", "dedup-across-dumps", "stage-seconds"} <= names
    assert {"pii:pii_scrub", "mixture:remix", "boilerplate:simhash_dedup"} <= names
    for s in report["stages"]:
        if s["docs_removed"]:
            assert f"reason:{s['name']}" in names
            assert f"dump:{s['name']}" in names  # 4 dumps in the small run
    groups = report["stages"][5]["decision"]["groups"]
    drawn = {g for g, v in groups.items() if v.get("histogram")}
    assert drawn and {f"perplexity:{g}" for g in drawn} <= names
    assert len(found.charts) == len(names), "chart names are unique"
    assert found.scripts == 0 and found.remote == []


def test_numbers_on_the_page_come_from_the_report(report):
    page = render_html(report)
    t = report["totals"]
    assert f"{t['docs_out']:,} docs" in page
    ppl = report["stages"][5]
    group, g = next((k, v) for k, v in ppl["decision"]["groups"].items() if v.get("threshold"))
    assert f"threshold {g['threshold']:,.0f}" in page  # the threshold line of that histogram
    mix = report["stages"][-1]["decision"]["mixture"]
    domain = sorted(mix)[0]
    assert f"{100 * mix[domain]['target_share']:.1f}%" in page
    pii = report["stages"][6]["extra"]
    assert any(k.startswith("found_") for k in pii)


def test_cross_dump_curve_is_cumulative(report):
    page = render_html(report)
    stages = [
        s for s in report["stages"] if s["stage"] in ("url_dedup", "exact_dedup", "minhash_dedup")
    ]
    dumps = sorted(stages[0]["by_dump"])
    first = dumps[0]
    removed = sum(s["by_dump"][first]["docs_removed"] for s in stages)
    rate = removed / stages[0]["by_dump"][first]["docs_in"]
    all_in = sum(v["docs_in"] for v in stages[0]["by_dump"].values())
    all_removed = sum(s["docs_removed"] for s in stages)
    section = page[page.index('id="dedup-dumps"') :]
    section = section[: section.index("</section>")]
    assert f"{100 * rate:.1f}%" in section
    assert f"{100 * all_removed / all_in:.1f}%" in section  # the last point: all dumps


def test_sections_without_data_are_left_out(report):
    r = copy.deepcopy(report)
    r["stages"] = [s for s in r["stages"] if s["stage"] in ("exact_dedup",)]
    for s in r["stages"]:  # one dump only
        s["by_dump"] = {"CC-MAIN-2023-06": s["by_dump"]["CC-MAIN-2023-06"]}
    page = render_html(r)
    names = set(charts(page).charts)
    assert names == {"funnel-docs", "funnel-bytes", "reason:exact_dedup", "domain:exact_dedup",
                     "stage-seconds"}  # fmt: skip
    for anchor in ("mixture", "perplexity", "pii", "boilerplate", "dedup-dumps"):
        assert f'id="{anchor}"' not in page and f'href="#{anchor}"' not in page
    render_markdown(r)  # the markdown renderer takes the same reduced report


def test_all_text_is_escaped(report):
    r = copy.deepcopy(report)
    evil = "<script>alert(1)</script>"
    r["pipeline"] = evil
    s = next(s for s in r["stages"] if s["docs_removed"])
    s["by_reason"] = {evil: s["docs_removed"]}
    s["params"] = {"note": evil}
    simhash = next(s for s in r["stages"] if s["stage"] == "simhash_dedup")
    simhash["decision"]["top_removed"] = [{"text": evil, "removed": 3, "documents": 2}]
    page = render_html(r)
    assert "<script" not in page
    assert page.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4
    assert charts(page).scripts == 0


def test_boilerplate_is_masked_of_pii(report):
    r = copy.deepcopy(report)
    simhash = next(s for s in r["stages"] if s["stage"] == "simhash_dedup")
    unit = "Contact jane.doe@example.org or call 555-201-7788 today"
    simhash["decision"]["top_removed"] = [{"text": unit, "removed": 9, "documents": 9}]
    page = render_html(r)
    assert "jane.doe" not in page and "7788" not in page
    assert "Contact &lt;EMAIL&gt; or call ***-***-*** today" in page
    md = render_markdown(r)
    assert "jane.doe" not in md and "Contact <EMAIL> or call ***-***-*** today" in md


def test_mask_pii():
    assert mask_pii("mail a.b+c@mail.example.co.uk now") == "mail <EMAIL> now"
    assert mask_pii("id 110101199003077777, v1.2") == "id ***, v1.2"
    assert mask_pii("https://user:pw@host/x") == "https://***@host/x"
    assert mask_pii("tel +86 138 0013 8000") == "tel +86 *** *** ***"  # 2 digits stay
