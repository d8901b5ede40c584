"""Statistics for paired overhead measurements: pure functions, no browser, no numpy.

A pair is one page load with the recorder off and one with it on, taken back to back. Metrics
that are always positive (load time, task time) are compared as ratios: the mean of the per-pair
log(on/off), reported as exp(mean) - 1 in percent, with a Student t interval on the logs. Metrics
that can be 0 (total blocking time, long-task counts, bytes uploaded) have no ratio; they are
compared as per-pair differences on - off, in their own units, with a t interval on those.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

Kind = Literal["ratio", "difference"]
Stop = Literal["precision", "runs", "time"]

CONFIDENCE = 0.95
MIN_PAIRS_FOR_INTERVAL = 2  # a t interval needs one degree of freedom


# Student t distribution --------------------------------------------------------------------


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz, as in Numerical
    Recipes' betacf); converges quickly for x < (a + 1) / (a + b + 2)."""
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1.0)
    d = 1.0 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 1000):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1.0 + numerator * d
            d = 1.0 / (d if abs(d) > tiny else tiny)
            c = 1.0 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1.0) < 1e-15:
            break
    return result


def _regularized_beta(a: float, b: float, x: float) -> float:
    """I_x(a, b), the regularized incomplete beta function, for 0 <= x <= 1."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _beta_continued_fraction(a, b, x) / a
    return 1.0 - math.exp(log_front) * _beta_continued_fraction(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    if df <= 0:
        raise ValueError(f"degrees of freedom must be positive, got {df}")
    tail = 0.5 * _regularized_beta(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


@lru_cache(maxsize=256)
def t_quantile(p: float, df: float) -> float:
    """The t with P(T <= t) = p: bisection on t_cdf, to about 1e-12 relative."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be between 0 and 1, got {p}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        lo, hi = hi, hi * 2.0
    while hi - lo > 1e-12 * max(1.0, hi):
        mid = (lo + hi) / 2.0
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2.0


# Paired comparisons ------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """One metric over n pairs.

    ratio: `off` and `on` are geometric means, so on / off == 1 + estimate / 100; `estimate`,
    `lo` and `hi` are percent. difference: `off` and `on` are arithmetic means, so on - off ==
    estimate; `estimate`, `lo` and `hi` are in the metric's units.
    """

    kind: Kind
    n: int
    off: float
    on: float
    estimate: float
    lo: float
    hi: float

    @property
    def half_width(self) -> float:
        return (self.hi - self.lo) / 2.0

    def to_json(self) -> dict[str, Any]:
        if self.kind == "ratio":
            change: dict[str, Any] = {
                "overhead_pct": _round(self.estimate),
                "ci95_pct": [_round(self.lo), _round(self.hi)],
            }
        else:
            change = {"diff": _round(self.estimate), "ci95": [_round(self.lo), _round(self.hi)]}
        return {"off": _round(self.off), "on": _round(self.on), **change, "kind": self.kind}


def _round(x: float) -> float:
    return round(x, 3)


def _mean_and_half_width(values: Sequence[float], confidence: float) -> tuple[float, float]:
    n = len(values)
    if n < MIN_PAIRS_FOR_INTERVAL:
        raise ValueError(f"an interval needs at least {MIN_PAIRS_FOR_INTERVAL} pairs, got {n}")
    mean = math.fsum(values) / n
    variance = math.fsum((v - mean) ** 2 for v in values) / (n - 1)
    t = t_quantile(0.5 + confidence / 2.0, n - 1)
    return mean, t * math.sqrt(variance / n)


def _check_pairs(off: Sequence[float], on: Sequence[float]) -> None:
    if len(off) != len(on):
        raise ValueError(f"pairs need as many off as on values, got {len(off)} and {len(on)}")


def ratio(off: Sequence[float], on: Sequence[float], confidence: float = CONFIDENCE) -> Comparison:
    """Overhead in percent from per-pair log(on / off); every value must be positive."""
    _check_pairs(off, on)
    if any(v <= 0 for v in (*off, *on)):
        raise ValueError("a ratio needs positive values; compare this metric as a difference")
    logs = [math.log(b / a) for a, b in zip(off, on, strict=True)]
    mean, h = _mean_and_half_width(logs, confidence)
    geo_off = math.exp(math.fsum(map(math.log, off)) / len(off))
    return Comparison(
        kind="ratio",
        n=len(logs),
        off=geo_off,
        on=geo_off * math.exp(mean),
        estimate=100.0 * math.expm1(mean),
        lo=100.0 * math.expm1(mean - h),
        hi=100.0 * math.expm1(mean + h),
    )


def difference(
    off: Sequence[float], on: Sequence[float], confidence: float = CONFIDENCE
) -> Comparison:
    """Mean per-pair on - off, in the metric's units."""
    _check_pairs(off, on)
    mean, h = _mean_and_half_width([b - a for a, b in zip(off, on, strict=True)], confidence)
    mean_off = math.fsum(off) / len(off)
    return Comparison("difference", len(off), mean_off, mean_off + mean, mean, mean - h, mean + h)


def compare(
    kind: Kind, off: Sequence[float], on: Sequence[float], confidence: float = CONFIDENCE
) -> Comparison:
    return ratio(off, on, confidence) if kind == "ratio" else difference(off, on, confidence)


@dataclass(frozen=True)
class Factor:
    """mean(a) / mean(b) over paired values, with a 95% interval (delta method)."""

    n: int
    estimate: float
    lo: float
    hi: float

    def to_json(self) -> dict[str, Any]:
        return {"x": _round(self.estimate), "ci95": [_round(self.lo), _round(self.hi)]}


def ratio_of_means(
    a: Sequence[float], b: Sequence[float], confidence: float = CONFIDENCE
) -> Factor:
    """How many times b's mean a's is, where a_i and b_i were measured together (one block of
    loads): R = mean(a) / mean(b), and the spread of a_i - R * b_i, whose mean is 0, gives
    R's interval, so what drifts in both cancels. b's mean must not be 0."""
    _check_pairs(b, a)
    n = len(a)
    mean_b = math.fsum(b) / n
    if mean_b == 0:
        raise ValueError("a ratio to a mean of 0 is undefined")
    r = math.fsum(a) / n / mean_b
    _, h = _mean_and_half_width([x - r * y for x, y in zip(a, b, strict=True)], confidence)
    return Factor(n, r, r - h / abs(mean_b), r + h / abs(mean_b))


# Adaptive sampling -------------------------------------------------------------------------


def pairs_needed(c: Comparison, precision: float, confidence: float = CONFIDENCE) -> int:
    """About how many pairs `c`'s interval needs to narrow to +- `precision` at the spread seen:
    the half-width shrinks as t / sqrt(n). Tells a user whether a precision is within reach on
    their machine or would take hours."""
    if c.n < MIN_PAIRS_FOR_INTERVAL:
        raise ValueError(f"a projection needs at least {MIN_PAIRS_FOR_INTERVAL} pairs, got {c.n}")
    if precision <= 0:
        raise ValueError(f"precision must be positive, got {precision}")
    q = 0.5 + confidence / 2.0
    spread = c.half_width * math.sqrt(c.n) / t_quantile(q, c.n - 1)  # the per-pair sd
    n = MIN_PAIRS_FOR_INTERVAL
    for _ in range(8):  # n = (t(n - 1) * spread / precision)^2 settles in a few rounds
        n = max(MIN_PAIRS_FOR_INTERVAL, math.ceil((t_quantile(q, n - 1) * spread / precision) ** 2))
    return n


@dataclass(frozen=True)
class StopRule:
    """When to stop adding pairs.

    precision: every watched interval's half-width is at most `precision` (percentage points
    for a ratio), once at least `min_pairs` pairs are in; the floor keeps a lucky quiet start
    from ending the run. Stopping on the width, which depends on the spread and not on the
    estimate, leaves the interval's coverage close to nominal.
    runs: `runs` pairs are in. time: `max_seconds` have passed (checked between pairs, so a run
    overshoots by at most one pair; an interval still needs two pairs).
    """

    runs: int
    min_pairs: int = 10
    precision: float = 1.0
    max_seconds: float = 300.0

    def reason(self, pairs: int, half_widths: Sequence[float], elapsed_s: float) -> Stop | None:
        if pairs < MIN_PAIRS_FOR_INTERVAL:
            return None
        if pairs >= self.min_pairs and all(h <= self.precision for h in half_widths):
            return "precision"
        if pairs >= self.runs:
            return "runs"
        if elapsed_s >= self.max_seconds:
            return "time"
        return None
