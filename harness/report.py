"""Results for people and machines: console lines, the SPEC result JSON, an HTML report."""

from __future__ import annotations

import html
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.runner import ScenarioResult


def line(result: ScenarioResult) -> str:
    """One line per scenario and recorder, failures indented beneath."""
    status = _status(result)
    parts = [f"{status} {result.scenario.name} [{result.recorder}]"]
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
    parts.append(f"{result.duration_s:.1f}s")
    return "  ".join([parts[0], ", ".join(parts[1:])]) + "".join(
        f"\n    - {failure}" for failure in result.failures
    )


def _status(result: ScenarioResult) -> str:
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
            px = max((c.pixel_mismatch for c in r.checkpoints), default=float("nan"))
            sim = min((c.dom_similarity for c in r.checkpoints), default=float("nan"))
            gz = r.stream.get("gzip_bytes", 0) / 1024
            row += f" | {_status(r):<5} {px:>9.5f} {sim:>7.4f} {gz:>7.1f}"
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
    """index.html beside the PNGs: each checkpoint as live | replay | diff."""
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / "index.html"
    sections = []
    for r in results:
        status = _status(r).lower()
        failures = "".join(f"<li>{html.escape(f)}</li>" for f in r.failures)
        rows = []
        for c in r.checkpoints:
            images = ""
            if c.diff_image:
                diff = Path(c.diff_image)
                stem = diff.name.removesuffix(".diff.png")
                srcs = {
                    kind: html.escape(os.path.relpath(diff.with_name(f"{stem}.{kind}.png"), folder))
                    for kind in ("live", "replay", "diff")
                }
                images = "".join(
                    f'<figure><img src="{src}"><figcaption>{kind}</figcaption></figure>'
                    for kind, src in srcs.items()
                )
            differences = "".join(f"<li>{html.escape(d)}</li>" for d in c.dom_differences)
            rows.append(
                f"<h3>{html.escape(c.name)}: pixel mismatch {c.pixel_mismatch:.5f}, "
                f"DOM similarity {c.dom_similarity:.4f}, masked {c.masked_area:.4f}</h3>"
                f"<div class=row>{images}</div><ul>{differences}</ul>"
            )
        sections.append(
            f"<section class={status}><h2>{html.escape(r.scenario.name)} [{r.recorder}]: "
            f"{status}</h2><p>{html.escape(r.scenario.description)}</p><ul>{failures}</ul>"
            f"{''.join(rows)}</section>"
        )
    s = summary(results)
    index.write_text(
        "<!doctype html><meta charset=utf-8><title>replaycheck report</title><style>"
        "body{font:14px sans-serif;margin:2em}section{border-left:6px solid #2a2;padding-left:1em;"
        "margin:2em 0}section.fail{border-color:#d22}section.xfail{border-color:#e90}"
        ".row{display:flex;gap:8px}"
        "figure{margin:0;flex:1}img{width:100%;border:1px solid #ccc}</style>"
        f"<h1>replaycheck: {s['passed']} passed, {s['failed']} failed</h1>{''.join(sections)}"
    )
    return index
