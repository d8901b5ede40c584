"""Reproduce the page-load overhead numbers: every bundled overhead scenario, with every recorder
whose bundle is built measured in the same blocks of loads, into report/overhead.json.

Run: .venv/bin/python bench/bench_overhead.py   (make bench)

Run it on an otherwise idle machine: anything else running shows up as noise. The whole bench
is held to about 8 minutes by a per-scenario time cap; a scenario cut short by it says so
("stopped": "time") and has a wider interval.
"""

from __future__ import annotations

import sys

from harness import adapters, cli
from harness.adapters.base import DIST
from harness.scenario import load_paths

SCENARIOS = "bench/overhead"  # heavy pages: measured, not part of the fidelity suite
OUT = "report/overhead.json"
TOTAL_SECONDS = 420  # plus at most one block of loads per scenario past its cap
RECORDERS = ("rrweb", "builtin")


def built_recorders() -> list[str]:
    """RECORDERS that are registered and have their record bundle built."""
    return [
        name
        for name in RECORDERS
        if name in adapters.ADAPTERS and (DIST / adapters.ADAPTERS[name].record_bundle).exists()
    ]


def main() -> int:
    per_scenario = TOTAL_SECONDS / max(1, len(load_paths([SCENARIOS])))
    args = ["overhead", SCENARIOS, "--json", OUT, "--max-seconds", f"{per_scenario:.0f}"]
    for name in built_recorders():
        args += ["--recorder", name]
    status = cli.main(args)
    # A recorder over its budget is a number to read, not a broken bench.
    return cli.EXIT_OK if status == cli.EXIT_FAILED else status


if __name__ == "__main__":
    sys.exit(main())
