"""Two builds of the builtin recorder compared on one overhead page, in the same run: the way
to tell whether a recorder change made it cheaper on a machine whose speed moves 10-35%.

Run: .venv/bin/python bench/bench_ab.py OLD.js NEW.js [--page P] [--pairs N]

OLD.js and NEW.js are builds of harness/js/dist/builtin-record.js (build one in a worktree of
the commit before, `npm run build`, and copy the file out). Each block loads the page with the
recorder off, with OLD and with NEW, in an order that changes from block to block
(harness.overhead.arm_order), in one browser; the bundle in harness/js/dist is swapped before
each load and put back at the end. Per build: the time attributed to it in each load's trace,
its share of main-thread time, the main-thread time it added over the block's off load, its
longest task and the bytes it uploaded; then NEW as a multiple of OLD, paired by block, with a
95% interval.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
from pathlib import Path

from harness import adapters, overhead, stats
from harness.adapters.base import DIST
from harness.scenario import ScenarioError, load_paths
from harness.worker import Worker

PAGE = "bench/overhead/heavy-table.yaml"
BUNDLE = DIST / adapters.ADAPTERS["builtin"].record_bundle
SHOWN = {
    "recorder_ms": "attributed ms",
    "share_total": "share %",
    "added_ms": "added main-thread ms",
    "max_recorder_task_ms": "longest task ms",
    "upload_bytes": "bytes uploaded",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", type=Path, help="the builtin record bundle before the change")
    parser.add_argument("new", type=Path, help="the builtin record bundle after it")
    parser.add_argument("--page", default=PAGE, help=f"an overhead scenario (default {PAGE})")
    parser.add_argument("--pairs", type=int, default=16, help="blocks of loads (default 16)")
    args = parser.parse_args(argv)
    builds: list[Path] = [args.old, args.new]
    for path in builds:
        if not path.is_file():
            print(
                f"bench_ab: {path}: no such bundle (build one with `npm run build`)",
                file=sys.stderr,
            )
            return 2
    try:
        scenarios = load_paths([args.page])
    except ScenarioError as e:
        print(f"bench_ab: {e}", file=sys.stderr)
        return 2
    if len(scenarios) != 1:
        print(f"bench_ab: {args.page}: {len(scenarios)} scenarios, give one", file=sys.stderr)
        return 2
    scenario = scenarios[0]
    kept = BUNDLE.read_bytes()
    on: list[list[overhead.Sample]] = [[], []]
    recorder = adapters.get("builtin")
    try:
        with Worker() as worker:
            loader = overhead.Loader(
                worker.browser,
                worker.server,
                scenario,
                "script-tag",
                scenario.overhead.cpu_throttle,
                scenario.overhead.after_load_ms,
            )
            for block in range(args.pairs + 1):  # the first block warms up, not counted
                by_arm: dict[int, overhead.Sample] = {}
                for arm in overhead.arm_order(block, 3):
                    if arm:
                        shutil.copyfile(builds[arm - 1], BUNDLE)
                    by_arm[arm] = loader.load(recorder if arm else None)
                if block:
                    for i in (0, 1):
                        added = by_arm[i + 1]["main_ms"] - by_arm[0]["main_ms"]
                        on[i].append({**by_arm[i + 1], "added_ms": added})
                print(f"block {block}/{args.pairs}", file=sys.stderr, flush=True)
    finally:
        BUNDLE.write_bytes(kept)
    for name, label in SHOWN.items():
        old, new = ([s[name] for s in arm] for arm in on)
        f = stats.ratio_of_means(new, old)
        print(
            f"{label:22} old {statistics.fmean(old):8.1f}  new {statistics.fmean(new):8.1f}"
            f"  new x old {f.estimate:.3f} [{f.lo:.3f}, {f.hi:.3f}]"
        )
    worst = [max(s["max_recorder_task_ms"] for s in arm) for arm in on]
    print(f"{'worst task ms':22} old {worst[0]:8.1f}  new {worst[1]:8.1f}")
    print(f"{args.pairs} blocks, {scenario.name} at {scenario.overhead.cpu_throttle:g}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
