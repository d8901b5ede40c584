from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness import baseline
from harness.runner import CheckpointResult, ScenarioResult
from harness.scenario import load_scenario
from tests.conftest import FIXTURES


def result(pixel: float, similarity: float, gzip_bytes: int, failures: list[str]) -> ScenarioResult:
    scenario = load_scenario(FIXTURES / "e2e" / "plain.yaml")
    checkpoint = CheckpointResult("after", pixel, similarity, 0.0, None, [])
    return ScenarioResult(
        scenario, "rrweb", failures, [checkpoint], stream={"gzip_bytes": gzip_bytes}
    )


def saved(tmp_path: Path, *results: ScenarioResult) -> baseline.Baseline:
    path = tmp_path / "base.json"
    path.write_text(json.dumps({"version": 1, "scenarios": [r.to_json() for r in results]}))
    return baseline.load(path)


def test_same_scores_within_slack_are_no_regression(tmp_path: Path) -> None:
    base = saved(tmp_path, result(0.0001, 0.999, 1000, []))
    assert baseline.regressions(result(0.0004, 0.996, 1090, []), base) == []


def test_worse_scores_and_a_new_failure_are_regressions(tmp_path: Path) -> None:
    base = saved(tmp_path, result(0.0001, 0.999, 1000, []))
    found = baseline.regressions(result(0.002, 0.98, 1200, ["x"]), base)
    assert found == [
        "baseline: passed before, fails now",
        "baseline: checkpoint after pixel mismatch 0.00010 -> 0.00200",
        "baseline: checkpoint after DOM similarity 0.9990 -> 0.9800",
        "baseline: stream gzip bytes 1000 -> 1200",
    ]


def test_a_scenario_missing_from_the_baseline_is_not_judged(tmp_path: Path) -> None:
    assert baseline.regressions(result(1.0, 0.0, 10**6, ["x"]), saved(tmp_path)) == []


@pytest.mark.parametrize("text", ["not json", '{"scenarios": [{"nope": 1}]}'])
def test_a_broken_baseline_is_bad_input(tmp_path: Path, text: str) -> None:
    path = tmp_path / "base.json"
    path.write_text(text)
    with pytest.raises(baseline.BaselineError, match=str(path)):
        baseline.load(path)
    with pytest.raises(baseline.BaselineError, match="no such file"):
        baseline.load(tmp_path / "missing.json")
