"""A real browser for the tests and benchmarks of the web UI: Debian's headless Chromium
(/usr/bin/chromium, installed by scripts/install-browser.sh) driven by Playwright's Python package.
Playwright never downloads a browser here (`playwright install` is not run): it launches the
system's, with a fresh profile in the caller's directory and nothing that calls home."""
from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@contextlib.contextmanager
def chromium_page(workdir: Path, width: int = 1400, height: int = 900) -> Iterator[object]:
    """A Playwright page in a fresh headless Chromium (profile under `workdir`); closed at the end."""
    if not os.access(CHROMIUM, os.X_OK):
        raise RuntimeError(f"{CHROMIUM} is missing: bash scripts/install-browser.sh installs Debian's chromium")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    profile = workdir / "chromium-profile"
    profile.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": width, "height": height})
        try:
            page = context.pages[0] if context.pages else context.new_page()
            yield page
        finally:
            context.close()
