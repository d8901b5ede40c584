"""Interactions counted from a stream, rage clicks included, checked against expect.events."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from harness.scenario import EVENT_KINDS, EventExpectation

RAGE_CLICKS = 3  # clicks ...
RAGE_WINDOW_MS = 1000.0  # ... within this time ...
RAGE_RADIUS_PX = 30.0  # ... and this distance of the first, on one target


@dataclass(frozen=True)
class Interaction:
    """One recorder-independent event: what happened, when, where."""

    kind: str  # one of EVENT_KINDS except rage_click, which is derived
    time_ms: float
    target: int | None = None
    x: float | None = None
    y: float | None = None


def rage_clicks(clicks: Iterable[Interaction]) -> int:
    """Bursts of RAGE_CLICKS+ clicks on one target within RAGE_WINDOW_MS and RAGE_RADIUS_PX."""
    bursts = 0
    first: Interaction | None = None
    size = 0
    for click in sorted(clicks, key=lambda c: c.time_ms):
        if (
            first is not None
            and click.target == first.target
            and click.time_ms - first.time_ms <= RAGE_WINDOW_MS
            and math.dist((click.x or 0, click.y or 0), (first.x or 0, first.y or 0))
            <= RAGE_RADIUS_PX
        ):
            size += 1
            if size == RAGE_CLICKS:
                bursts += 1
        else:
            first, size = click, 1
    return bursts


def count(interactions: Iterable[Interaction]) -> dict[str, int]:
    """Counts for every kind in EVENT_KINDS (zero when absent)."""
    items = list(interactions)
    counts = dict.fromkeys(EVENT_KINDS, 0)
    for item in items:
        counts[item.kind] = counts.get(item.kind, 0) + 1
    counts["rage_click"] = rage_clicks(i for i in items if i.kind == "click")
    return counts


def check(counts: Mapping[str, int], expected: Mapping[str, EventExpectation]) -> list[str]:
    """One failure line per expectation the counts do not meet."""
    return [
        f"events: expected {kind} {want}, recorded {counts.get(kind, 0)}"
        for kind, want in expected.items()
        if not want.satisfied_by(counts.get(kind, 0))
    ]
