"""Launch Chromium: the system's (Debian's), Playwright's own, or a remote run-server."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from playwright.sync_api import Browser, Playwright
from playwright.sync_api import Error as PlaywrightError

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


class BrowserUnavailable(Exception):
    """No browser to run in: one line saying what was tried and what to do."""


def launch(playwright: Playwright, endpoint: str | None = None) -> Browser:
    """A browser for one worker: the endpoint if given, else system Chromium, else Playwright's."""
    if endpoint:
        try:
            return playwright.chromium.connect(endpoint)
        except PlaywrightError as e:
            raise BrowserUnavailable(
                f"cannot connect to the browser at {endpoint} ({_first_line(e)}); start"
                " `playwright run-server` there, or leave out --browser-endpoint"
            ) from None
    executable = system_chromium()
    if executable is not None and not executable.is_file():
        raise BrowserUnavailable(
            f"REPLAYCHECK_CHROMIUM={executable}: no such file; point it at a Chromium binary"
        )
    try:
        return playwright.chromium.launch(
            executable_path=str(executable) if executable else None, args=CHROMIUM_ARGS
        )
    except PlaywrightError as e:
        if executable is None:
            raise BrowserUnavailable(
                "no Chromium found: install one (Debian: apt-get install chromium; elsewhere:"
                " playwright install chromium) or set REPLAYCHECK_CHROMIUM to its path"
            ) from None
        raise BrowserUnavailable(f"cannot start {executable}: {_first_line(e)}") from None


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
