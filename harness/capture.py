"""A checkpoint's evidence from one side (live page or replay): screenshot and canonical DOM."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

from harness.scenario import RecorderConfig

HARNESS_BUNDLE = Path(__file__).resolve().parent / "js" / "dist" / "harness.js"

Rect = tuple[float, float, float, float]


@dataclass(frozen=True)
class Capture:
    name: str
    png: bytes
    dom: dict[str, Any]
    masked: list[Rect] = field(default_factory=list)


def ensure_harness(page: Page) -> None:
    """Load the page-side helpers (global __rcHarness) once per document."""
    if not page.evaluate("() => typeof window.__rcHarness !== 'undefined'"):
        page.evaluate(HARNESS_BUNDLE.read_text())


def canon_options(config: RecorderConfig, masked_selectors: list[str]) -> dict[str, Any]:
    """What the canonicaliser treats as masked: the same on the live and the replay side."""
    return {
        "mask": [*config.mask, *masked_selectors],
        "block": list(config.block),
        "maskAllInputs": config.mask_all_inputs,
        "maskAllText": config.mask_all_text,
    }
