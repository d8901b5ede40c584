"""Launch Chromium: the system's (Debian's), Playwright's own, or a remote run-server."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.sync_api import Browser, Playwright

# Quiet on a closed network: no background fetches, updates or sync (DESIGN.md).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Fidelity screenshots must not depend on font hinting or colour profiles of the host.
    "--force-color-profile=srgb",
    "--font-render-hinting=none",
]

SYSTEM_CHROMIUM = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome")


def system_chromium() -> Path | None:
    """The system browser, if one is installed (REPLAYCHECK_CHROMIUM overrides)."""
    override = os.environ.get("REPLAYCHECK_CHROMIUM")
    if override:
        return Path(override)
    for candidate in SYSTEM_CHROMIUM:
        if Path(candidate).exists():
            return Path(candidate)
    found = shutil.which("chromium")
    return Path(found) if found else None


def launch(playwright: Playwright, endpoint: str | None = None) -> Browser:
    """A browser for one worker: the endpoint if given, else system Chromium, else Playwright's."""
    if endpoint:
        return playwright.chromium.connect(endpoint)
    executable = system_chromium()
    return playwright.chromium.launch(
        executable_path=str(executable) if executable else None, args=CHROMIUM_ARGS
    )
