"""Open a report in Debian's headless Chromium through its own chromedriver (no driver download).

Used by the browser test and by ``scripts/screenshot_report.py``; needs ``selenium`` and the
Debian packages ``chromium`` and ``chromium-driver`` (``scripts/install_browser.sh``).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

CHROMEDRIVER = "/usr/bin/chromedriver"


def chromium_binary() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def missing() -> str | None:
    """Why a browser cannot be started here, or None when it can."""
    if chromium_binary() is None:
        return "chromium is not installed (run scripts/install_browser.sh)"
    if not os.access(CHROMEDRIVER, os.X_OK):
        return f"{CHROMEDRIVER} is missing (apt-get install chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install selenium)"
    return None


@contextmanager
def headless_chromium(width: int = 1100, height: int = 900) -> Iterator[Any]:
    """A selenium WebDriver on headless Chromium that records the console log."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium_binary() or "chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                f"--window-size={width},{height}", "--hide-scrollbars"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(html_path: str, png_path: str, width: int = 1100, height: int = 1600) -> None:
    """Save the top ``height`` pixels of the page as PNG."""
    with headless_chromium(width, height) as driver:
        driver.get("file://" + os.path.abspath(html_path))
        driver.save_screenshot(png_path)
