"""harness.stats on data with known answers: t quantiles against published values and closed
forms, intervals on hand-computed pairs, coverage on seeded simulations, the stopping rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from harness import stats
from harness.stats import StopRule

# Two-sided 95% (p = 0.975) and other quantiles from standard t tables.
T_TABLE = [
    (0.975, 1, 12.7062047),
    (0.975, 2, 4.30265273),
    (0.975, 3, 3.18244631),
    (0.975, 4, 2.77644511),
    (0.975, 5, 2.57058184),
    (0.975, 9, 2.26215716),
    (0.975, 10, 2.22813885),
    (0.975, 29, 2.04522964),
    (0.975, 30, 2.04227246),
    (0.975, 100, 1.98397152),
    (0.95, 1, 6.31375151),
    (0.95, 10, 1.81246112),
    (0.995, 10, 3.16927267),
    (0.9995, 3, 12.9239786),
    (0.6, 7, 0.26316686),
]


@pytest.mark.parametrize(("p", "df", "expected"), T_TABLE)
def test_t_quantile_matches_tables(p: float, df: int, expected: float) -> None:
    assert stats.t_quantile(p, df) == pytest.approx(expected, abs=5e-8)
    assert stats.t_quantile(1 - p, df) == pytest.approx(-expected, abs=5e-8)


@pytest.mark.parametrize("p", [0.5, 0.6, 0.75, 0.9, 0.975, 0.999])
def test_t_quantile_matches_closed_forms(p: float) -> None:
    # df = 1 is the Cauchy distribution; df = 2 has a closed-form quantile too.
    assert stats.t_quantile(p, 1) == pytest.approx(math.tan(math.pi * (p - 0.5)), abs=1e-9)
    assert stats.t_quantile(p, 2) == pytest.approx(
        (2 * p - 1) / math.sqrt(2 * p * (1 - p)), abs=1e-9
    )


def test_t_quantile_tends_to_the_normal() -> None:
    assert stats.t_quantile(0.975, 1e7) == pytest.approx(1.959964, abs=1e-5)


def test_t_cdf_inverts_the_quantile() -> None:
    for df in (1, 3, 12, 50):
        for p in (0.01, 0.3, 0.5, 0.8, 0.99):
            assert stats.t_cdf(stats.t_quantile(p, df), df) == pytest.approx(p, abs=1e-10)


@pytest.mark.parametrize(("p", "df"), [(0.0, 3), (1.0, 3), (0.5, 0)])
def test_t_quantile_rejects_bad_arguments(p: float, df: int) -> None:
    with pytest.raises(ValueError):
        stats.t_quantile(p, df)


def test_ratio_on_hand_computed_pairs() -> None:
    # log ratios 0.1 and 0.3: mean 0.2, sd sqrt(0.02), standard error 0.1, t(0.975, 1) = 12.706.
    off = [100.0, 200.0]
    on = [100.0 * math.exp(0.1), 200.0 * math.exp(0.3)]
    c = stats.ratio(off, on)
    h = 12.7062047 * 0.1
    assert c.kind == "ratio" and c.n == 2
    assert c.estimate == pytest.approx(100 * (math.exp(0.2) - 1))
    assert c.lo == pytest.approx(100 * (math.exp(0.2 - h) - 1))
    assert c.hi == pytest.approx(100 * (math.exp(0.2 + h) - 1))
    assert c.off == pytest.approx(math.sqrt(100 * 200))
    assert c.on == pytest.approx(math.sqrt(100 * 200) * math.exp(0.2))


def test_difference_on_hand_computed_pairs() -> None:
    # differences 2, 1, 3: mean 2, sd 1, t(0.975, 2) = 4.30265 over sqrt(3).
    c = stats.difference([1.0, 2.0, 3.0], [3.0, 3.0, 6.0])
    h = 4.30265273 / math.sqrt(3)
    assert (c.kind, c.n, c.off, c.on, c.estimate) == ("difference", 3, 2.0, 4.0, 2.0)
    assert c.lo == pytest.approx(2 - h) and c.hi == pytest.approx(2 + h)
    assert c.half_width == pytest.approx(h)


def test_identical_pairs_give_a_zero_width_interval() -> None:
    c = stats.difference([0.0, 0.0, 0.0], [0.0, 0.0, 0.0])
    assert (c.estimate, c.lo, c.hi) == (0.0, 0.0, 0.0)
    r = stats.ratio([10.0, 20.0], [12.0, 24.0])
    assert [r.estimate, r.lo, r.hi] == pytest.approx([20.0] * 3)


def test_json_says_which_kind() -> None:
    r = stats.compare("ratio", [100.0, 200.0], [110.0, 230.0]).to_json()
    assert list(r) == ["off", "on", "overhead_pct", "ci95_pct", "kind"]
    assert r["kind"] == "ratio" and len(r["ci95_pct"]) == 2
    d = stats.compare("difference", [0.0, 0.0], [50.0, 70.0]).to_json()
    assert list(d) == ["off", "on", "diff", "ci95", "kind"]
    assert (d["kind"], d["off"], d["on"], d["diff"]) == ("difference", 0.0, 60.0, 60.0)


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="positive"):
        stats.ratio([0.0, 1.0], [1.0, 1.0])
    with pytest.raises(ValueError, match="at least 2"):
        stats.difference([1.0], [2.0])
    with pytest.raises(ValueError, match="as many"):
        stats.difference([1.0, 2.0], [2.0])


def test_ratio_interval_covers_a_known_ratio_at_the_nominal_rate() -> None:
    # Log-normal loads with a true on/off ratio of 1.05: per-page level, per-load noise.
    rng = np.random.default_rng(20240605)
    true_pct = 5.0
    covered, trials = 0, 400
    for _ in range(trials):
        level = rng.lognormal(np.log(400.0), 0.3, size=12)
        off = level * rng.lognormal(0.0, 0.08, size=12)
        on = level * 1.05 * rng.lognormal(0.0, 0.08, size=12)
        c = stats.ratio(off.tolist(), on.tolist())
        covered += c.lo <= true_pct <= c.hi
    # 95% nominal; 400 trials put the observed rate within about +-2.2 points (2 sd).
    assert 0.91 <= covered / trials <= 0.985


def test_difference_interval_covers_a_known_difference_at_the_nominal_rate() -> None:
    rng = np.random.default_rng(7)
    covered, trials = 0, 400
    for _ in range(trials):
        off = rng.exponential(20.0, size=10)
        on = off + 35.0 + rng.normal(0.0, 15.0, size=10)
        c = stats.difference(off.tolist(), on.tolist())
        covered += c.lo <= 35.0 <= c.hi
    assert 0.91 <= covered / trials <= 0.985


def test_many_pairs_narrow_the_interval_around_the_truth() -> None:
    rng = np.random.default_rng(1)
    off = rng.lognormal(np.log(300.0), 0.2, size=2000)
    on = off * 1.40 * rng.lognormal(0.0, 0.05, size=2000)
    c = stats.ratio(off.tolist(), on.tolist())
    assert c.lo < 40.0 < c.hi
    assert c.half_width < 0.5


def test_stop_rule() -> None:
    rule = StopRule(runs=30, min_pairs=10, precision=1.0, max_seconds=100.0)
    assert rule.reason(1, [0.0], 500.0) is None  # no interval yet, whatever the time
    assert rule.reason(5, [0.5], 10.0) is None  # precise, but under the floor
    assert rule.reason(10, [0.5, 0.9], 10.0) == "precision"
    assert rule.reason(10, [0.5, 1.1], 10.0) is None  # every interval must be narrow
    assert rule.reason(30, [5.0], 10.0) == "runs"
    assert rule.reason(30, [0.5], 10.0) == "precision"
    assert rule.reason(4, [5.0], 100.0) == "time"
    assert StopRule(runs=4).reason(4, [9.0], 0.0) == "runs"


@pytest.mark.parametrize("precision", [0.5, 1.0, 3.0])
def test_pairs_needed_is_the_smallest_n_whose_interval_is_that_narrow(precision: float) -> None:
    # differences +-10: sd 10 * sqrt(10 / 9); n pairs give a half-width of t(n - 1) * sd / sqrt(n)
    c = stats.difference([0.0] * 10, [10.0 if i % 2 else -10.0 for i in range(10)])
    sd = 10 * math.sqrt(10 / 9)

    def width(n: int) -> float:
        return stats.t_quantile(0.975, n - 1) * sd / math.sqrt(n)

    n = stats.pairs_needed(c, precision)
    assert width(n) <= precision < width(n - 1)


def test_pairs_needed_is_never_below_an_intervals_minimum() -> None:
    c = stats.difference([0.0, 0.0, 0.0], [1.0, 1.1, 0.9])
    assert stats.pairs_needed(c, 100.0) == 2
    with pytest.raises(ValueError):
        stats.pairs_needed(c, 0.0)


def test_ratio_of_means_of_paired_blocks() -> None:
    # b doubled exactly in every block: 2x, with no spread.
    f = stats.ratio_of_means([2.0, 4.0, 6.0], [1.0, 2.0, 3.0])
    assert (f.n, f.estimate, f.lo, f.hi) == (3, 2.0, 2.0, 2.0)
    # a drifts with b (a slow moment slows both): the drift cancels, the interval stays narrow.
    b = [100.0, 150.0, 80.0, 120.0]
    a = [30.0 * x / 100 + e for x, e in zip(b, [0.5, -0.5, 0.3, -0.3], strict=True)]
    f = stats.ratio_of_means(a, b)
    assert f.lo < 0.3 < f.hi and f.hi - f.lo < 0.02
    assert f.to_json() == {"x": round(f.estimate, 3), "ci95": [round(f.lo, 3), round(f.hi, 3)]}
    with pytest.raises(ValueError, match="mean of 0"):
        stats.ratio_of_means([1.0, 2.0], [1.0, -1.0])
