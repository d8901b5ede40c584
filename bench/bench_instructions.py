"""Recorder overhead as renderer instruction counts (valgrind's callgrind): the reading that does
not depend on how busy the machine is. Off vs on for builtin and rrweb on the heavy table (and
the growing feed with --feed), a few loads per arm, all arms' loads at once in browsers of
their own (counts do not care; wall time does).

Run: .venv/bin/python bench/bench_instructions.py [--loads N] [--workers N] [--feed]

Needs valgrind (apt-get install valgrind; `make setup` installs it). One heavy-table load costs
60-100 s of CPU under callgrind (renderer start-up included): 3 arms x 2 loads took 582 s on
this idle 2-core machine, 1,048 s on a busy one. `make bench` runs it last.
"""

from __future__ import annotations

import argparse
import sys
import time

from harness import adapters, instructions
from harness.scenario import load_paths

HEAVY = "bench/overhead/heavy-table.yaml"
FEED = "bench/overhead/growing-feed.yaml"
RECORDERS = ("builtin", "rrweb")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=2, help="loads per arm (default 2)")
    parser.add_argument("--workers", type=int, default=3, help="browsers at once (default 3)")
    parser.add_argument("--feed", action="store_true", help="the growing feed too")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        instructions.check_valgrind()
        recorders = [adapters.get(name) for name in RECORDERS]
        for recorder in recorders:
            recorder.check_bundles()
        results: list[instructions.Overhead] = []
        for path in [HEAVY, FEED] if args.feed else [HEAVY]:
            (scenario,) = load_paths([path])

            def show(arm: str, c: instructions.Counts, name: str = scenario.name) -> None:
                print(
                    f"  {name} {arm}: main thread {c.to_load:,} + {c.after_load:,} Ir,"
                    f" all threads {c.all_total:,}, {c.batches} batches,"
                    f" {c.seconds:.0f} s ({time.monotonic() - started:.0f} s in)",
                    file=sys.stderr,
                    flush=True,
                )

            results += instructions.measure(scenario, recorders, args.loads, args.workers, show)
    except (instructions.InstructionsUnavailable, FileNotFoundError) as e:
        print(f"bench_instructions: {e}", file=sys.stderr)
        return 2
    print(instructions.table(results))
    print(
        f"took {time.monotonic() - started:.0f} s"
        f" ({args.loads} loads per arm, {args.workers} browsers at once)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
