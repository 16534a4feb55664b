#!/usr/bin/env bash
# Idempotent set-up on Debian 12 as root: system packages, then the virtual environment at .venv with the
# pinned packages of pyproject.toml (which puts the `archive` command in .venv/bin).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  python3 python3-venv python3-dev build-essential
  tesseract-ocr tesseract-ocr-vie tesseract-ocr-eng ghostscript unpaper pngquant qpdf jbig2dec
  poppler-utils libnss3-tools redis-server softhsm2 opensc
  fonts-dejavu-core fonts-noto-core postgresql
  chromium  # tests/web: the web pages in real headless Chromium (driven by Playwright, never its own download)
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing system packages: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Python 3.11 (Debian 12's python3, or a python3.11 already on PATH).
PY=""
for candidate in python3.11 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
    PY=$(command -v "$candidate"); break
  fi
done
[ -n "$PY" ] || { echo "setup: Python 3.11 not found" >&2; exit 1; }

if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys; assert sys.version_info[:2] == (3, 11)' 2>/dev/null; then
  rm -rf .venv
  "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ] || ! .venv/bin/archive --help >/dev/null 2>&1; then
  .venv/bin/python -m pip install -q --upgrade "pip>=24" 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -m pip install -q -e '.[dev]' 2>&1 | grep -v '^WARNING: Location' || true
  # The tests' E-ARK validator pins lxml==5.1.0, which pyhanko cannot use: installed without its pins, on our
  # lxml (see pyproject.toml [dev]).
  .venv/bin/python -m pip install -q --no-deps eark-validator==1.1.3 importlib-resources==5.12.0 2>&1 \
    | grep -v '^WARNING: Location' || true
  .venv/bin/archive --help >/dev/null
  rm -f .venv/.installed-*
  touch "$stamp"
fi
echo "setup: ready ($(.venv/bin/python --version), tesseract $(tesseract --version 2>&1 | head -1 | awk '{print $2}'), languages: $(tesseract --list-langs 2>/dev/null | tail -n +2 | tr '\n' ' '))"
