#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the report's browser test (tests/report/test_browser.py).
# Debian packages only: no browser download at test time. Idempotent: does nothing when present.
set -euo pipefail
if command -v chromium >/dev/null && [ -x /usr/bin/chromedriver ]; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    chromium chromium-driver >/dev/null
else
  echo "note: the browser test of the HTML report needs: apt-get install chromium chromium-driver" >&2
fi
