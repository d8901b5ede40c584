"""Reproduce the page-load overhead numbers: every bundled overhead scenario, with every recorder
whose bundle is built measured in the same blocks of loads, into report/overhead.json.

Run: .venv/bin/python bench/bench_overhead.py   (make bench)

Run it on an otherwise idle machine: anything else running shows up as noise. It first times one
fixed piece of CPU work over and over: how much that varies is the floor under every interval
here (the table's "pairs for +-1" says what it costs). The whole bench
is held to about 8 minutes by a time cap per scenario, split by need: the heavy table, where
the load-time bound must come down to about 1%, gets most of it. A scenario cut short by its
cap says so ("stopped": "time") and has a wider interval.
"""

from __future__ import annotations

import math
import statistics
import sys
import time
from pathlib import Path

from harness import adapters, overhead
from harness.adapters.base import DIST
from harness.scenario import load_paths

SCENARIOS = "bench/overhead"  # heavy pages: measured, not part of the fidelity suite
OUT = Path("report/overhead.json")
# Warm-up loads included; each scenario may overshoot its cap by one block of loads (< 25 s).
TOTAL_SECONDS = 450
RECORDERS = ("rrweb", "builtin")
# Shares of TOTAL_SECONDS by scenario name (1 for any other): the load-time interval narrows
# as 1/sqrt(pairs), and only the heavy table's must reach about +-1%.
SHARES = {"overhead-heavy-table": 3.0, "overhead-growing-feed": 1.0, "overhead-animation": 1.0}


def built_recorders() -> list[str]:
    """RECORDERS that are registered and have their record bundle built."""
    return [
        name
        for name in RECORDERS
        if name in adapters.ADAPTERS and (DIST / adapters.ADAPTERS[name].record_bundle).exists()
    ]


def budgets(names: list[str], total: float) -> list[float]:
    """Each scenario's seconds: `total` split in proportion to its share."""
    shares = [SHARES.get(name, 1.0) for name in names]
    return [total * share / sum(shares) for share in shares]


def machine_noise(seconds: float = 8.0) -> str:
    """How much the same CPU work varies in time on this machine: the spread of one fixed short
    loop (5-10 ms here), and of the log ratio of two runs of it some time apart (what a pair of
    loads sees)."""
    runs: list[float] = []
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        start = time.perf_counter()
        total = 0
        for i in range(60_000):
            total += i * i
        runs.append(time.perf_counter() - start)
    mean = statistics.fmean(runs)
    cv = statistics.stdev(runs) / mean
    parts = [f"machine: the same {mean * 1000:.0f} ms of CPU work varies by {cv:.1%} (cv)"]
    for apart_s in (0.01, 1.0):
        lag = max(1, round(apart_s / mean))
        logs = [math.log(b / a) for a, b in zip(runs, runs[lag:], strict=False)]
        parts.append(f"two runs {apart_s:g} s apart differ by {statistics.stdev(logs):.1%} (sd)")
    return "; ".join(parts)


def main() -> int:
    print(machine_noise(), flush=True)
    scenarios = load_paths([SCENARIOS])
    recorders = [adapters.get(name) for name in built_recorders()]
    seconds = budgets([s.name for s in scenarios], TOTAL_SECONDS)
    jobs = [(s, overhead.Settings(max_seconds=b)) for s, b in zip(scenarios, seconds, strict=True)]
    results = overhead.measure_each(jobs, recorders)
    print(overhead.table(results))
    overhead.write_json(results, OUT)
    print(f"written: {OUT}")
    # A recorder over its budget is a number to read, not a broken bench.
    return 0


if __name__ == "__main__":
    sys.exit(main())
