"""The recorder's Python face: where its browser bundles are (built by build.mjs from src/).

    from recorder import DIST, bundle
    head = f"<script>{bundle('loader.js')};replaycheckLoader.load('/record.js', {{}})</script>"
    # ... and serve DIST / "record.js" at /record.js

Bundles: loader.js (inline in a page's head: fetches the recorder after the load event),
record.js (global replaycheckRecord), its insights plugin insights.js (global
replaycheckInsights: console, failed requests, click targets; run before record()) and
replay.js (global replaycheckReplay).
"""

from __future__ import annotations

from pathlib import Path

DIST = Path(__file__).resolve().parent / "dist"

# The Content-Security-Policy a page hosting the replayer sends (the harness's replay page, the
# viewer): its replay frame is about:blank and inherits it, so recorded inline styles must pass
# and nothing recorded may run, load from elsewhere, submit or navigate (docs/replay-security.md).
REPLAY_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' data: blob:; font-src 'self' data:; "
    "frame-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)


def bundle_path(name: str, dist: Path = DIST) -> Path:
    """The built bundle `name` in `dist`; FileNotFoundError says how to build it."""
    path = dist / name
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: build the browser bundles (`make setup` in a checkout,"
            " or `npm ci && node build.mjs`)"
        )
    return path


def bundle(name: str, dist: Path = DIST) -> str:
    """The text of the built bundle `name` in `dist`."""
    return bundle_path(name, dist).read_text()
