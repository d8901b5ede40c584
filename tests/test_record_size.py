"""The record bundle's size budget (issue 12) and its insights plugin's, as built by build.mjs,
measured as the issue measures them: `gzip -9c FILE | wc -c`."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.test_record import ROOT

DIST = ROOT / "recorder" / "dist"
RECORD_BUDGET = 12_288  # bytes gzipped, level 9 (issue 12)
INSIGHTS_BUDGET = 1_536


def gzipped(path: Path) -> int:
    """Bytes of `gzip -9c path` (the gzip tool's deflate, a few bytes more than zlib's)."""
    return len(subprocess.run(["gzip", "-9c", str(path)], capture_output=True, check=True).stdout)


@pytest.fixture(scope="module")
def built() -> None:
    subprocess.run(["node", "build.mjs"], cwd=ROOT, check=True)


def test_the_record_bundle_is_within_its_budget(built: None) -> None:
    size = gzipped(DIST / "record.js")
    assert size <= RECORD_BUDGET, f"record.js: {size:,} bytes gzipped > {RECORD_BUDGET:,}"


def test_the_insights_plugin_is_within_its_budget(built: None) -> None:
    size = gzipped(DIST / "insights.js")
    assert size <= INSIGHTS_BUDGET, f"insights.js: {size:,} bytes gzipped > {INSIGHTS_BUDGET:,}"


def test_the_record_bundle_holds_none_of_the_plugins_capture(built: None) -> None:
    """Console, request and click-target capture are the plugin's alone: record.js wraps neither
    the console nor fetch, and the plugin bundles no copy of the core (its PII tables, masking)."""
    record = (DIST / "record.js").read_text()
    insights = (DIST / "insights.js").read_text()
    for capture in ('"error warn"', '"fetch"', "loadstart", "aria-label title alt"):
        assert capture not in record and capture in insights, capture
    assert "replaycheckInsights" in record, "record() picks the plugin up"
    assert "MutationObserver" not in insights and "parseInt" not in insights
