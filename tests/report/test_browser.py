"""report.html in a real browser: Debian's headless Chromium, driven through its chromedriver."""

from __future__ import annotations

import re

import pytest

from curate.report import browser

pytestmark = pytest.mark.skipif(
    browser.missing() is not None, reason=f"no browser: {browser.missing()}"
)


@pytest.fixture(scope="module")
def driver():
    with browser.headless_chromium() as d:
        yield d


def test_report_loads_without_console_errors_and_draws_every_chart(small_run, driver):
    page = (small_run / "report.html").read_text()
    expected = re.findall(r'<svg data-chart="([^"]+)"', page)
    assert len(expected) >= 10
    driver.get((small_run / "report.html").as_uri())
    assert driver.execute_script("return document.readyState") == "complete"
    assert driver.title == "curate report: small"
    log = driver.get_log("browser")
    assert [e for e in log if e["level"] in ("SEVERE", "WARNING")] == []
    drawn = driver.execute_script(
        "return [...document.querySelectorAll('svg[data-chart]')].map(s => {"
        "  const b = s.getBoundingClientRect();"
        "  return [s.dataset.chart, b.width, b.height, s.querySelectorAll('rect,line').length];"
        "})"
    )
    assert [d[0] for d in drawn] == expected
    for name, width, height, marks in drawn:
        assert width > 100 and height > 20 and marks > 0, name


def test_a_broken_page_would_be_caught(small_run, driver, tmp_path):
    """The console check can fail: a page that loads a missing image logs an error."""
    bad = tmp_path / "bad.html"
    bad.write_text((small_run / "report.html").read_text().replace(
        "</body>", "<img src='missing.png'></body>"
    ))  # fmt: skip
    driver.get(bad.as_uri())
    assert any(e["level"] == "SEVERE" for e in driver.get_log("browser"))
