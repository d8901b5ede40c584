"""A checkpoint's evidence from one side (live page or replay): screenshot and canonical DOM."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from playwright.sync_api import Page

from harness.adapters.base import read_bundle
from harness.compare.pixel import Rect
from harness.masking import Sensitive
from harness.scenario import RecorderConfig


@dataclass(frozen=True)
class Capture:
    name: str
    png: bytes
    dom: dict[str, Any]
    url: str  # the recorded page's address: the replay resolves relative URLs against it
    masked: list[Rect] = field(default_factory=list)
    sensitive: list[Sensitive] = field(default_factory=list)  # live side only


def ensure_harness(page: Page) -> None:
    """Load the page-side helpers (global __rcHarness) once per document."""
    if not page.evaluate("() => typeof window.__rcHarness !== 'undefined'"):
        page.evaluate(read_bundle("harness.js"))


def canonical_dom(page: Page, document: str, options: dict[str, Any], arg: Any = None) -> Any:
    """The canonical tree of `document` (a JS expression over `arg`), shipped as one JSON string:
    a 30,000-node tree crosses the Playwright channel ten times faster that way."""
    text = page.evaluate(
        f"([arg, o]) => JSON.stringify(window.__rcHarness.canonicalDom({document}, o))",
        [arg, options],
    )
    return json.loads(text)


def sensitive_content(page: Page, config: RecorderConfig) -> list[Sensitive]:
    """What on the live page could hold private data, and where (harness/js/src/sensitive.ts)."""
    items = page.evaluate(
        "s => JSON.stringify(window.__rcHarness.sensitiveContent(document, s))",
        {"mask": list(config.mask), "unmask": list(config.unmask), "block": list(config.block)},
    )
    return [Sensitive(**item) for item in json.loads(items)]


def canon_options(config: RecorderConfig, masked_selectors: list[str]) -> dict[str, Any]:
    """What the canonicaliser treats as masked: the same on the live and the replay side."""
    return {
        "mask": [*config.mask, *masked_selectors],
        "block": list(config.block),
        "maskAllInputs": config.mask_all_inputs,
        "maskAllText": config.mask_all_text,
        "ignore": list(config.ignore),
    }
