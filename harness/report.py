"""Results for people and machines: console lines, the SPEC result JSON, an HTML report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.runner import ScenarioResult


def line(result: ScenarioResult) -> str:
    """One line per scenario and recorder, failures indented beneath."""
    parts = [f"{status(result)} {result.scenario.name} [{result.recorder}]"]
    if result.known_failure:
        parts[0] += f" (known: {result.known_failure})"
    if result.checkpoints:
        worst_px = max(c.pixel_mismatch for c in result.checkpoints)
        worst_dom = min(c.dom_similarity for c in result.checkpoints)
        parts.append(
            f"{len(result.checkpoints)} checkpoints, "
            f"pixel max {worst_px:.5f}, dom min {worst_dom:.4f}"
        )
    if result.stream:
        parts.append(
            f"{result.stream['events']} events, {result.stream['gzip_bytes'] / 1024:.1f} KiB gz"
        )
    if shows_delivery(result):
        parts.append(delivery_text(result.delivery))
    parts.append(f"{result.duration_s:.1f}s")
    return "  ".join([parts[0], ", ".join(parts[1:])]) + "".join(
        f"\n    - {failure}" for failure in result.failures
    )


def shows_delivery(result: ScenarioResult) -> bool:
    """Whether the delivery counts are worth a reader's eye: faults were injected (by the
    ingest or by taking the browser offline), or something did not arrive exactly once."""
    d = result.delivery
    return bool(d) and (
        result.scenario.faulty or d["delivered"] != d["recorded"] or d["duplicates"] > 0
    )


def delivery_text(d: dict[str, int]) -> str:
    return (
        f"delivered {d['delivered']}/{d['recorded']} events (lost: {d['lost_marked']} marked,"
        f" {d['lost_unmarked']} unmarked; {d['duplicates']} duplicates;"
        f" {d['requests']} requests, {d['retried_requests']} retried)"
    )


def status(result: ScenarioResult) -> str:
    return "XFAIL" if result.known_failure else "PASS" if result.passed else "FAIL"


def summary(results: Sequence[ScenarioResult]) -> dict[str, int]:
    passed = sum(r.passed for r in results)
    return {
        "scenarios": len(results),
        "passed": passed,
        "failed": len(results) - passed,
        "known_failures": sum(r.known_failure is not None for r in results),
    }


def table(results: Sequence[ScenarioResult]) -> str:
    """Scenarios down, recorders across: the side-by-side view of several recorders."""
    recorders = list(dict.fromkeys(r.recorder for r in results))
    names = list(dict.fromkeys(r.scenario.name for r in results))
    cell = {(r.scenario.name, r.recorder): r for r in results}
    width = max([len("scenario"), *map(len, names)])
    header = f"{'scenario':<{width}}" + "".join(f" | {name:<31}" for name in recorders)
    sub = " " * width + "".join(
        f" | {'':<5} {'pixel max':>9} {'dom min':>7} {'gz KiB':>7}" for _ in recorders
    )
    rows = [header, sub, "-" * len(sub)]
    for name in names:
        row = f"{name:<{width}}"
        for recorder in recorders:
            r = cell.get((name, recorder))
            if r is None:
                row += f" | {'':<31}"
                continue
            # No checkpoint compared (the scenario stopped before one): a dash, not nan.
            px = f"{max(c.pixel_mismatch for c in r.checkpoints):.5f}" if r.checkpoints else "-"
            sim = f"{min(c.dom_similarity for c in r.checkpoints):.4f}" if r.checkpoints else "-"
            gz = f"{r.stream['gzip_bytes'] / 1024:.1f}" if "gzip_bytes" in r.stream else "-"
            row += f" | {status(r):<5} {px:>9} {sim:>7} {gz:>7}"
        rows.append(row)
    return "\n".join(rows)


def to_json(results: Sequence[ScenarioResult]) -> dict[str, Any]:
    return {
        "version": 1,
        "scenarios": [r.to_json() for r in results],
        "summary": summary(results),
    }


def write_json(results: Sequence[ScenarioResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(to_json(results), indent=2) + "\n")


def write_html(results: Sequence[ScenarioResult], folder: Path) -> Path:
    """index.html in `folder`, a summary linking to a page per scenario and recorder."""
    from harness import html_report  # imported here: it builds on this module's status words

    return html_report.write(results, folder)
