"""Interactions counted from a stream, rage clicks included, checked against expect.events.

What a count means must not depend on how a recorder chops what the user did into events:
- navigation: a document load (the first page included: link, goto, reload, back to another
  document), once per document. A same-document URL change (pushState, replaceState, a hash
  change) is no navigation: HTML's history API changes the URL without navigating, and a
  recorder may record no event for it at all (rrweb does not);
- input: one edit of one field, however many events carry it (one per keystroke, or one per
  change): consecutive input events on the same field count once;
- scroll: one scroll of one target, however its recorder throttles the events: a run of scroll
  events on one target counts once, and only a click, an input, a navigation, a checkpoint mark
  or a scroll of another target ends it (never a pause: how far apart a recorder's throttled
  events land is timing, and mouse moves are sampled differently by each recorder);
- click and dblclick: the browser's own events, so a double click is two clicks and a dblclick.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from harness.scenario import EVENT_KINDS, EventExpectation

RAGE_CLICKS = 3  # clicks ...
RAGE_WINDOW_MS = 1000.0  # ... within this time ...
RAGE_RADIUS_PX = 30.0  # ... and this distance of the first, on one target
# Interactions that end a scroll (see scrolls()); "checkpoint" is the harness's own mark, in
# every adapter's stream, and counts as nothing itself.
SCROLL_ENDS = frozenset({"click", "dblclick", "input", "navigation", "checkpoint"})


@dataclass(frozen=True)
class Interaction:
    """One recorder-independent event: what happened, when, where."""

    kind: str  # one of EVENT_KINDS except rage_click, which is derived, or "checkpoint"
    time_ms: float
    target: int | None = None
    x: float | None = None
    y: float | None = None


def rage_clicks(clicks: Iterable[Interaction]) -> int:
    """Bursts of RAGE_CLICKS+ clicks on one target within RAGE_WINDOW_MS and RAGE_RADIUS_PX."""
    return len(rage_bursts(clicks))


def rage_bursts(
    clicks: Iterable[Interaction],
    least: int = RAGE_CLICKS,
    window_ms: float = RAGE_WINDOW_MS,
    radius_px: float = RAGE_RADIUS_PX,
) -> list[tuple[Interaction, int]]:
    """Each rage burst's first click and its size (the rule is rage_clicks'; a project of
    `replaycheck serve` may set its own numbers)."""
    bursts: list[tuple[Interaction, int]] = []
    first: Interaction | None = None
    size = 0
    for click in sorted(clicks, key=lambda c: c.time_ms):
        if (
            first is not None
            and click.target == first.target
            and click.time_ms - first.time_ms <= window_ms
            and math.dist((click.x or 0, click.y or 0), (first.x or 0, first.y or 0)) <= radius_px
        ):
            size += 1
            if size == least:
                bursts.append((first, size))
            elif size > least:
                bursts[-1] = (first, size)
        else:
            first, size = click, 1
    return bursts


def edits(inputs: Iterable[Interaction]) -> int:
    """Runs of consecutive input events on one field (a field of unknown id: each event)."""
    runs = 0
    last: Interaction | None = None
    for item in sorted(inputs, key=lambda i: i.time_ms):
        if last is None or item.target is None or item.target != last.target:
            runs += 1
        last = item
    return runs


def scrolls(interactions: Iterable[Interaction]) -> int:
    """Runs of scroll events on one target, each ended by a SCROLL_ENDS interaction or a
    scroll of another target."""
    found = 0
    scrolling: tuple[int | None] | None = None  # the target of the scroll under way
    for item in sorted(interactions, key=lambda i: i.time_ms):
        if item.kind == "scroll":
            if scrolling != (item.target,):
                found += 1
            scrolling = (item.target,)
        elif item.kind in SCROLL_ENDS:
            scrolling = None
    return found


def count(interactions: Iterable[Interaction]) -> dict[str, int]:
    """Counts for every kind in EVENT_KINDS (zero when absent)."""
    items = list(interactions)
    counts = dict.fromkeys(EVENT_KINDS, 0)
    for item in items:
        if item.kind in counts:
            counts[item.kind] += 1
    counts["input"] = edits(i for i in items if i.kind == "input")
    counts["scroll"] = scrolls(items)
    counts["rage_click"] = rage_clicks(i for i in items if i.kind == "click")
    return counts


def check(counts: Mapping[str, int], expected: Mapping[str, EventExpectation]) -> list[str]:
    """One failure line per expectation the counts do not meet."""
    return [
        f"events: expected {kind} {want}, recorded {counts.get(kind, 0)}"
        for kind, want in expected.items()
        if not want.satisfied_by(counts.get(kind, 0))
    ]
