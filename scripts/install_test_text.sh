#!/usr/bin/env bash
# Real text some tests read from Debian packages: translated man pages (zh_CN, fr, de, ru), and
# real HTML pages (python3-doc, debian-reference-en) that the `curate ingest` tests write WARCs of.
# Installs them when missing and we may (root with apt-get); otherwise says what is missing.
# Asks dpkg, not the folders: man-db, shadow and others put a few pages in /usr/share/man/zh_CN too.
set -euo pipefail
installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
missing=()
for pkg in manpages-zh manpages-fr manpages-de manpages-ru python3-doc debian-reference-en; do
  installed "$pkg" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for pkg in "${missing[@]}"; do
    installed "$pkg" || { echo "error: apt-get did not install $pkg" >&2; exit 1; }
  done
else
  echo "note: tests that read translated man pages need: apt-get install ${missing[*]}" >&2
fi
