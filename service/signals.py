"""Frustration signals over a session's facts, pure functions (docs/serve.md, "Frustration").

- rage click: `rage_clicks` clicks within `rage_window_ms` on one target within `rage_radius_px`
  of the first (the harness's rule, harness/events.py `rage_bursts`, with the project's numbers);
- dead click: a click on a button, link or form control (the recorder says which: the click's
  `clickable`) followed by no DOM change, navigation or scroll within `dead_click_ms`, Sentry's
  definition; a click on an element matching one of `dead_click_ignore` (a print or download
  button) never is. Decided only once the recording shows the whole window (an event at or after
  its end): a click just before the last event so far is undecided, not dead;
- quick back: a page left within `quick_back_ms` by going back to the page before it (a
  back/forward navigation, or a load of the previous URL the recorder marks as back/forward);
- error click: a click followed by an error (uncaught, console.error, a failed request) within
  `error_click_ms`.

The store runs these over the facts of a time window around each new batch (service/store), so
a signal whose facts arrive in two batches, in any order, is found once.
"""

from __future__ import annotations

import json
import math
import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

from harness.events import Interaction, rage_bursts

MAX_IGNORE = 50
MAX_SELECTOR = 200


class RulesError(ValueError):
    """A project's signal rules that cannot be used: the message says which and why."""


@dataclass(frozen=True)
class Rules:
    """A project's thresholds; the defaults are the harness's and Sentry's."""

    rage_clicks: int = 3
    rage_window_ms: float = 1000.0
    rage_radius_px: float = 30.0
    dead_click_ms: float = 7000.0
    dead_click_ignore: tuple[str, ...] = ()
    quick_back_ms: float = 5000.0
    error_click_ms: float = 1000.0

    def __post_init__(self) -> None:
        if not 2 <= self.rage_clicks <= 20:
            raise RulesError("rage_clicks must be 2 to 20")
        for name, high in (("rage_window_ms", 10_000), ("dead_click_ms", 60_000),
                           ("quick_back_ms", 60_000), ("error_click_ms", 10_000),
                           ("rage_radius_px", 1000)):  # fmt: skip
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 < value <= high):
                raise RulesError(f"{name} must be a number above 0 and at most {high}")
        if len(self.dead_click_ignore) > MAX_IGNORE:
            raise RulesError(f"dead_click_ignore: at most {MAX_IGNORE} selectors")
        for selector in self.dead_click_ignore:
            parse_selector(selector)

    @property
    def reach_ms(self) -> float:
        """How far after a fact a signal it decides may lie: the widest window."""
        return max(self.dead_click_ms, self.quick_back_ms, self.error_click_ms, self.rage_window_ms)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | None) -> Rules:
        """Rules as stored or given (`project add --signals`); unknown keys are an error."""
        if not text:
            return cls()
        try:
            raw = json.loads(text)
        except ValueError as e:
            raise RulesError(f"not JSON: {e}") from None
        if not isinstance(raw, dict):
            raise RulesError("not a JSON object")
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise RulesError(f"unknown key {unknown[0]!r} (known: {', '.join(sorted(known))})")
        ignore = raw.get("dead_click_ignore", [])
        if not isinstance(ignore, list) or not all(isinstance(s, str) for s in ignore):
            raise RulesError("dead_click_ignore must be a list of CSS selectors")
        raw["dead_click_ignore"] = tuple(ignore)
        if not isinstance(raw.get("rage_clicks", 3), int):
            raise RulesError("rage_clicks must be a whole number")
        return cls(**raw)


# Selectors: the simple ones a click's element can be matched with at the server, where there
# is no DOM: a list of compounds (tag, #id, .class, [attr], [attr=value]), no combinators.

_COMPOUND = re.compile(
    r"(?P<tag>[a-zA-Z][\w-]*|\*)?(?P<rest>(?:#[\w-]+|\.[\w-]+|\[[\w-]+(?:[~^$*|]?=(?:\"[^\"]*\"|'[^']*'|[^\]\s]+))?\])*)"
)
_PART = re.compile(
    r"#([\w-]+)|\.([\w-]+)|\[([\w-]+)(?:([~^$*|]?=)(\"[^\"]*\"|'[^']*'|[^\]\s]+))?\]"
)


@dataclass(frozen=True)
class Compound:
    tag: str | None
    id: str | None
    classes: tuple[str, ...]
    attrs: tuple[tuple[str, str | None, str | None], ...]  # name, operator, value


def parse_selector(text: str) -> list[Compound]:
    """`button.print, a[download]` as compounds; anything else is a RulesError naming it."""
    if not text.strip() or len(text) > MAX_SELECTOR:
        raise RulesError(f"selector {text[:60]!r}: empty or over {MAX_SELECTOR} characters")
    out = []
    for piece in text.split(","):
        piece = piece.strip()
        found = _COMPOUND.fullmatch(piece)
        if not piece or not found or not (found["tag"] or found["rest"]):
            raise RulesError(
                f"selector {piece[:60]!r}: only tag, #id, .class and [attr=value] compounds"
                " are supported here (no spaces or combinators)"
            )
        ident, classes, attrs = None, [], []
        for part in _PART.finditer(found["rest"] or ""):
            if part[1]:
                ident = part[1]
            elif part[2]:
                classes.append(part[2])
            else:
                value = part[5]
                if value and value[0] in "\"'":
                    value = value[1:-1]
                attrs.append((part[3].lower(), part[4], value))
        tag = found["tag"].lower() if found["tag"] and found["tag"] != "*" else None
        out.append(Compound(tag, ident, tuple(classes), tuple(attrs)))
    return out


def matches(compounds: Sequence[Compound], tag: str, attrs: dict[str, str]) -> bool:
    """Whether an element (its tag and attributes) matches any of the compounds."""
    classes = set(attrs.get("class", "").split())
    for c in compounds:
        if c.tag and c.tag != tag.lower():
            continue
        if c.id and attrs.get("id") != c.id:
            continue
        if not set(c.classes) <= classes:
            continue
        if all(_attr_ok(attrs.get(name), op, value) for name, op, value in c.attrs):
            return True
    return False


def selector_parts(selector: str) -> tuple[str, dict[str, str]]:
    """A stored click selector (index.selector: tag#id.class.class) as a tag and the attributes
    it shows, for `matches`: ("", {}) when it is not one."""
    found = re.fullmatch(r"([a-z][\w-]*)((?:#[\w-]+)?)((?:\.[\w-]+)*)", selector)
    if not found:
        return "", {}
    attrs = {"class": " ".join(found[3].split(".")[1:])}
    if found[2]:
        attrs["id"] = found[2][1:]
    return found[1], attrs


def _attr_ok(actual: str | None, op: str | None, value: str | None) -> bool:
    if actual is None:
        return False
    if op is None or value is None:
        return True
    return {
        "=": actual == value,
        "~=": value in actual.split(),
        "^=": bool(value) and actual.startswith(value),
        "$=": bool(value) and actual.endswith(value),
        "*=": bool(value) and value in actual,
        "|=": actual == value or actual.startswith(value + "-"),
    }.get(op, False)


# The facts ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClickFact:
    t: float  # absolute epoch ms
    x: float | None
    y: float | None
    target: int | None
    label: str
    clickable: bool  # on a button, link or form control, and not an ignored element
    selector: str
    url: str  # the page's


@dataclass(frozen=True)
class ViewFact:
    t: float
    url: str
    back: bool  # reached by going back or forward


@dataclass(frozen=True)
class Signal:
    t: float  # when it happened: the click, or the back navigation
    kind: str  # "rage_click" | "dead_click" | "quick_back" | "error_click"
    label: str
    selector: str
    url: str


def rage(clicks: Iterable[ClickFact], rules: Rules) -> list[Signal]:
    pairs = [(Interaction("click", c.t, c.target, c.x, c.y), c) for c in clicks]
    click_of = {id(i): c for i, c in pairs}  # `pairs` keeps the interactions alive
    out = []
    bursts = rage_bursts(
        (i for i, _ in pairs), rules.rage_clicks, rules.rage_window_ms, rules.rage_radius_px
    )
    for first, n in bursts:
        c = click_of[id(first)]
        label = f"{n} clicks" + (f": {c.label}" if c.label else "")
        out.append(Signal(c.t, "rage_click", label, c.selector, c.url))
    return out


def dead(
    clicks: Iterable[ClickFact], changes: Sequence[float], seen_until: float, rules: Rules
) -> list[Signal]:
    """`changes` sorted: times of DOM changes, navigations, scrolls (and page ends)."""
    out = []
    for c in clicks:
        if not c.clickable or seen_until < c.t + rules.dead_click_ms:
            continue
        # A change in the click's own millisecond (its handler's) is its reaction.
        after = bisect_left(changes, c.t)
        if after < len(changes) and changes[after] <= c.t + rules.dead_click_ms:
            continue
        out.append(Signal(c.t, "dead_click", c.label, c.selector, c.url))
    return out


def error_clicks(
    clicks: Iterable[ClickFact], errors: Sequence[tuple[float, str]], rules: Rules
) -> list[Signal]:
    """`errors` sorted (t, message)."""
    times = [t for t, _ in errors]
    out = []
    for c in clicks:
        after = bisect_left(times, c.t)  # a handler that throws at once: the same millisecond
        if after < len(times) and times[after] <= c.t + rules.error_click_ms:
            label = f"{c.label}: {errors[after][1]}" if c.label else errors[after][1]
            out.append(Signal(c.t, "error_click", label[:200], c.selector, c.url))
    return out


def quick_backs(views: Sequence[ViewFact], rules: Rules) -> list[Signal]:
    """`views` sorted: each page view (a load, or a same-document URL change)."""
    out = []
    for before, page, after in zip(views, views[1:], views[2:], strict=False):
        went_back = after.back and after.url == before.url != page.url
        if went_back and 0 <= after.t - page.t <= rules.quick_back_ms:
            out.append(Signal(after.t, "quick_back", page.url[:200], "", page.url))
    return out


def thin(times: Iterable[float], bucket_ms: float = 1000.0) -> list[float]:
    """The first and last time of each `bucket_ms`: whether a window longer than a bucket holds
    a time is answered the same from these (what `dead` asks), at most two a second stored."""
    kept: dict[int, list[float]] = {}
    for t in times:
        if not math.isfinite(t):
            continue
        b = kept.setdefault(math.floor(t / bucket_ms), [t, t])
        b[0], b[1] = min(b[0], t), max(b[1], t)
    return sorted({t for pair in kept.values() for t in pair})


def as_json(signal: Signal) -> dict[str, Any]:
    return asdict(signal)
