"""The recorders' transports under ingest faults (issue 16): the fault suite (scenarios/faults,
one scenario per case) run RUNS times with builtin and rrweb, and per case and recorder the
events recorded, delivered, lost and marked lost, lost unmarked and duplicated, min-max over
the runs (one number when every run agrees).

Run: .venv/bin/python bench/bench_transport.py [--runs 3] [-n 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUITE = ROOT / "scenarios" / "faults"
RECORDERS = ("builtin", "rrweb")
COLUMNS = ("recorded", "delivered", "lost_marked", "lost_unmarked", "duplicates")
HEADINGS = ("recorded", "delivered", "lost+marked", "lost unmarked", "duplicates")


def run_suite(workers: int, out: Path) -> list[dict[str, object]]:
    """One run of the fault suite with every recorder: the result JSON's scenarios."""
    recorders = [arg for name in RECORDERS for arg in ("--recorder", name)]
    command = [sys.executable, "-m", "harness.cli", "run", str(SUITE), *recorders]
    # The exit status says whether scenarios passed: here every outcome is a measurement.
    subprocess.run(
        [*command, "-n", str(workers), "--json", str(out)], cwd=ROOT, stdout=subprocess.DEVNULL
    )
    scenarios: list[dict[str, object]] = json.loads(out.read_text())["scenarios"]
    return scenarios


def span(values: list[int]) -> str:
    return str(values[0]) if min(values) == max(values) else f"{min(values)}-{max(values)}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("-n", "--workers", type=int, default=2)
    args = parser.parse_args()
    counts: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    unmeasured: list[str] = []  # runs that stopped before their stream was read, and why
    names: set[str] = set()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for run in range(args.runs):
            for result in run_suite(args.workers, Path(tmp) / f"run{run}.json"):
                delivery, failures = result["delivery"], result["failures"]
                assert isinstance(delivery, dict) and isinstance(failures, list)
                name, recorder = str(result["name"]), str(result["recorder"])
                names.add(name)
                if not delivery:
                    unmeasured.append(f"run {run + 1} {name} [{recorder}]: {failures[:1]}")
                    continue
                for column in COLUMNS:
                    counts[(name, recorder)][column].append(int(delivery[column]))
    cases = sorted(names)
    width = max(len("case"), *map(len, cases))
    header = f"{'case':<{width}} {'recorder':<8} " + " ".join(f"{h:>13}" for h in HEADINGS)
    print(f"fault suite x{args.runs} ({time.perf_counter() - started:.0f} s): min-max over runs")
    print(header)
    print("-" * len(header))
    for case in cases:
        for recorder in RECORDERS:
            if (case, recorder) not in counts:
                continue
            cell = counts[(case, recorder)]
            row = " ".join(f"{span(cell[c]):>13}" for c in COLUMNS)
            runs = len(cell[COLUMNS[0]])
            note = "" if runs == args.runs else f"  ({runs} of {args.runs} runs measured)"
            print(f"{case:<{width}} {recorder:<8} {row}{note}")
    for line in unmeasured:
        print(f"not measured: {line}")


if __name__ == "__main__":
    main()
