"""Regressions against an earlier result JSON (`run --baseline FILE`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.runner import ScenarioResult

# Slack before a change counts as a regression: pixel scores move by a few anti-aliased pixels
# between Chromium builds, stream sizes by a few timestamps.
PIXEL_SLACK = 0.0005
DOM_SLACK = 0.005
SIZE_SLACK = 0.10

Baseline = dict[tuple[str, str], dict[str, Any]]


class BaselineError(Exception):
    pass


def load(path: Path) -> Baseline:
    """Scenario entries keyed by (name, recorder)."""
    try:
        data = json.loads(path.read_text())
        version = data.get("version") if isinstance(data, dict) else None
        if version != 1:
            raise BaselineError(
                f"{path}: a result JSON of version {version}, not 1; write a new baseline with"
                " `replaycheck run --json FILE`"
            )
        return {(s["name"], s["recorder"]): s for s in data["scenarios"]}
    except FileNotFoundError:
        raise BaselineError(f"{path}: no such file; pass a result JSON written by --json") from None
    except IsADirectoryError:
        raise BaselineError(f"{path}: a folder; pass a result JSON written by --json") from None
    except UnicodeDecodeError:
        raise BaselineError(f"{path}: not a replaycheck result JSON (not UTF-8 text)") from None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise BaselineError(f"{path}: not a replaycheck result JSON ({e})") from None


def regressions(result: ScenarioResult, baseline: Baseline) -> list[str]:
    """What got worse than the baseline run of the same scenario and recorder."""
    before = baseline.get((result.scenario.name, result.recorder))
    if before is None:
        return []
    found = []
    if before.get("passed") and not result.passed:
        found.append("baseline: passed before, fails now")
    old = {c["name"]: c for c in before.get("checkpoints", [])}
    for checkpoint in result.checkpoints:
        was = old.get(checkpoint.name)
        if was is None:
            continue
        if checkpoint.pixel_mismatch > was["pixel_mismatch"] + PIXEL_SLACK:
            found.append(
                f"baseline: checkpoint {checkpoint.name} pixel mismatch "
                f"{was['pixel_mismatch']:.5f} -> {checkpoint.pixel_mismatch:.5f}"
            )
        if checkpoint.dom_similarity < was["dom_similarity"] - DOM_SLACK:
            found.append(
                f"baseline: checkpoint {checkpoint.name} DOM similarity "
                f"{was['dom_similarity']:.4f} -> {checkpoint.dom_similarity:.4f}"
            )
    old_size, size = before.get("stream", {}).get("gzip_bytes"), result.stream.get("gzip_bytes")
    if old_size and size and size > old_size * (1 + SIZE_SLACK):
        found.append(f"baseline: stream gzip bytes {old_size} -> {size}")
    return found
