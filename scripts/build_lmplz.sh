#!/usr/bin/env bash
# Build KenLM's lmplz and build_binary from the kenlm sdist on PyPI (it carries lm/builder;
# the wheel has only the query module), so `curate lm train` uses lmplz (it is on PATH).
#
#   sudo scripts/build_lmplz.sh [PREFIX]     # default PREFIX: /usr/local (binaries in PREFIX/bin)
#
# Needs the Debian build packages below (installed when run as root) and the package registry.
set -euo pipefail
PREFIX="${1:-/usr/local}"
PIP="${PIP:-$(dirname "$0")/../.venv/bin/pip}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

if [ "$(id -u)" = 0 ]; then
  apt-get install -y --no-install-recommends build-essential cmake libboost-program-options-dev \
    libboost-system-dev libboost-thread-dev libboost-test-dev zlib1g-dev libbz2-dev liblzma-dev
fi
# the source distribution (KENLM_SDIST: one already downloaded). `--no-binary kenlm`, not
# `:all:`, or pip builds kenlm's build dependencies (cmake among them) from source too.
if [ -n "${KENLM_SDIST:-}" ]; then
  cp "$KENLM_SDIST" "$WORK/"
else
  "$PIP" download kenlm --no-binary kenlm --no-deps -d "$WORK"
fi
tar -xzf "$WORK"/kenlm-*.tar.gz -C "$WORK"
SRC="$(find "$WORK" -maxdepth 1 -type d -name 'kenlm-*' | head -1)"
cmake -S "$SRC" -B "$WORK/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_INSTALL_PREFIX="$PREFIX" \
  -DBUILD_TESTING=OFF
cmake --build "$WORK/build" --target lmplz build_binary -j "$(nproc)"
install -m 755 "$WORK/build/bin/lmplz" "$WORK/build/bin/build_binary" "$PREFIX/bin/"
"$PREFIX/bin/lmplz" --help 2>&1 | head -3
