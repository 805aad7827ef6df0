#!/usr/bin/env bash
# What the web UI's browser tests need on a Debian 12 host (run as root), idempotently: Debian's
# Chromium, run headless by Playwright's Python package (a test extra of orchestra). Playwright
# never downloads a browser of its own here: `playwright install` is not run, and the tests launch
# /usr/bin/chromium (tests/support/browser.py).
set -euo pipefail

if [ ! -x /usr/bin/chromium ]; then
  echo "install-browser: installing chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
/usr/bin/chromium --version 2>/dev/null
