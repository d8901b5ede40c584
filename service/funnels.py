"""Funnels: ordered steps, a conversion window and a segment; which sessions reach each step and
when (docs/serve.md, "Funnels"). Pure: the store gives each step's facts, this orders them.

A session reaches step 1 at its first fact of step 1, and step k at its first fact of step k
after it reached step k-1, if that is within `window_ms` of step 1. Conversion is counted in
sessions; the time between two steps is the median over the sessions that made both.
"""

from __future__ import annotations

import statistics
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from service import segments, signals
from service.segments import Segment

StepKind = Literal["page", "click", "event"]
STEP_KINDS: tuple[StepKind, ...] = ("page", "click", "event")
MIN_STEPS, MAX_STEPS = 2, 10
MAX_WINDOW_MS = 90 * 86_400_000.0
DEFAULT_WINDOW_MS = 3_600_000.0


class FunnelError(ValueError):
    """A funnel definition that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Step:
    kind: StepKind
    value: str  # page: URL pattern (segments.url_pattern); click: a selector; event: a name
    # click: the selector parsed (signals.parse_selector), to match stored selectors with.
    compounds: tuple[signals.Compound, ...] = ()


@dataclass(frozen=True)
class Funnel:
    steps: tuple[Step, ...]
    window_ms: float = DEFAULT_WINDOW_MS
    segment: Segment | None = None
    start_from: float | None = None  # epoch ms: sessions started at or after
    start_to: float | None = None


def parse(raw: object) -> Funnel:
    if not isinstance(raw, dict):
        raise FunnelError("funnel: a JSON object {steps, window_ms, segment} expected")
    unknown = sorted(set(raw) - {"steps", "window_ms", "segment", "from", "to"})
    if unknown:
        raise FunnelError(f"funnel: unknown key {unknown[0][:40]!r}")
    steps_raw = raw.get("steps")
    if not isinstance(steps_raw, list) or not MIN_STEPS <= len(steps_raw) <= MAX_STEPS:
        raise FunnelError(f"funnel.steps: a list of {MIN_STEPS} to {MAX_STEPS} steps expected")
    steps = []
    for i, step in enumerate(steps_raw):
        where = f"funnel.steps[{i}]"
        if not isinstance(step, dict) or set(step) - {"kind", "value"}:
            raise FunnelError(f"{where}: {{kind, value}} expected")
        kind, value = step.get("kind"), step.get("value")
        if kind not in STEP_KINDS:
            raise FunnelError(f"{where}: kind {str(kind)[:40]!r}: one of {', '.join(STEP_KINDS)}")
        if not isinstance(value, str) or not value.strip() or len(value) > segments.MAX_VALUE:
            raise FunnelError(f"{where}: value: 1 to {segments.MAX_VALUE} characters expected")
        compounds: tuple[signals.Compound, ...] = ()
        if kind == "click":
            try:
                compounds = tuple(signals.parse_selector(value))
            except signals.RulesError as e:
                raise FunnelError(f"{where}: {e}") from None
        steps.append(Step(kind, value.strip(), compounds))
    window = raw.get("window_ms", DEFAULT_WINDOW_MS)
    if not isinstance(window, int | float) or isinstance(window, bool):
        raise FunnelError("funnel.window_ms: a number expected")
    if not 0 < window <= MAX_WINDOW_MS:
        raise FunnelError(f"funnel.window_ms: above 0 and at most {MAX_WINDOW_MS:.0f} (90 days)")
    segment = None
    if raw.get("segment") is not None:
        try:
            segment = segments.parse(raw["segment"])
        except segments.SegmentError as e:
            raise FunnelError(f"funnel.{e}") from None
    bounds = []
    for name in ("from", "to"):
        value = raw.get(name)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise FunnelError(f"funnel.{name}: epoch ms expected")
        bounds.append(None if value is None else float(value))
    return Funnel(tuple(steps), float(window), segment, bounds[0], bounds[1])


def click_matches(step: Step, selector: str) -> bool:
    """Whether a stored click selector (index.selector: tag#id.class.class) matches the step's."""
    tag, attrs = signals.selector_parts(selector)
    return bool(tag) and signals.matches(step.compounds, tag, attrs)


@dataclass(frozen=True)
class Reached:
    session: str
    times: tuple[float, ...]  # epoch ms at which it reached steps 1..len(times)


@dataclass(frozen=True)
class StepResult:
    step: Step
    sessions: int
    conversion: float  # of step 1's sessions (1.0 for step 1)
    from_previous: float  # of the previous step's sessions
    median_ms_from_previous: float | None


def walk(
    funnel: Funnel, sessions: Sequence[str], facts: Sequence[Mapping[str, Sequence[float]]]
) -> list[Reached]:
    """`facts[k][session]`: sorted times of step k's facts in that session."""
    out = []
    for session in sessions:
        times: list[float] = []
        for k in range(len(funnel.steps)):
            found = facts[k].get(session, ())
            if not times:
                if not found:
                    break
                times.append(found[0])
                continue
            i = bisect_right(found, times[-1])
            if i == len(found) or found[i] - times[0] > funnel.window_ms:
                break
            times.append(found[i])
        if times:
            out.append(Reached(session, tuple(times)))
    return out


def results(funnel: Funnel, reached: Sequence[Reached]) -> list[StepResult]:
    out = []
    first = sum(1 for r in reached if r.times)
    previous = first
    for k, step in enumerate(funnel.steps):
        made = [r for r in reached if len(r.times) > k]
        gaps = [r.times[k] - r.times[k - 1] for r in made] if k else []
        out.append(
            StepResult(
                step,
                len(made),
                len(made) / first if first else 0.0,
                len(made) / previous if previous else 0.0,
                statistics.median(gaps) if gaps else None,
            )
        )
        previous = len(made)
    return out


def dropped(reached: Sequence[Reached], step: int) -> list[Reached]:
    """Sessions that reached step `step` (1-based) and not the next, latest first."""
    out = [r for r in reached if len(r.times) == step]
    return sorted(out, key=lambda r: -r.times[-1])


def as_json(funnel: Funnel, rows: Sequence[StepResult]) -> dict[str, Any]:
    return {
        "steps": [
            {
                "kind": r.step.kind,
                "value": r.step.value,
                "sessions": r.sessions,
                "conversion": round(r.conversion, 4),
                "from_previous": round(r.from_previous, 4),
                "median_ms_from_previous": r.median_ms_from_previous,
            }
            for r in rows
        ],
        "window_ms": funnel.window_ms,
    }
