#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests if it is missing (as root, with apt-get);
# fail loudly otherwise: those tests never skip, and Playwright never downloads a browser.
set -euo pipefail
CHROMIUM=/usr/bin/chromium
if [ -x "$CHROMIUM" ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "installing Debian's chromium for the browser tests (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq chromium >/dev/null
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "error: $CHROMIUM is missing and could not be installed; as root: apt-get install -y chromium" >&2
  exit 1
fi
