#!/usr/bin/env bash
# Real text some tests read from Debian packages: translated man pages (zh_CN, fr, de, ru).
# Installs them when missing and we may (root with apt-get); otherwise says what is missing.
set -euo pipefail
missing=()
for lang in zh_CN fr de ru; do
  pkg="manpages-${lang%%_*}"
  [ -d "/usr/share/man/$lang" ] || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "note: tests that read translated man pages need: apt-get install ${missing[*]}" >&2
fi
