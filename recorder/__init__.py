"""The recorder's Python face: where its browser bundles are (built by build.mjs from src/).

    from recorder import DIST, bundle
    head = f"<script>{bundle('loader.js')};replaycheckLoader.load('/record.js', {{}})</script>"
    # ... and serve DIST / "record.js" at /record.js

Bundles: loader.js (inline in a page's head: fetches the recorder after the load event),
record.js (global replaycheckRecord) and replay.js (global replaycheckReplay).
"""

from __future__ import annotations

from pathlib import Path

DIST = Path(__file__).resolve().parent / "dist"


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
