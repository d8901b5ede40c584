"""`replaycheck run --ingest`: scenarios recorded into a running `replaycheck serve` and verified
from what its store gives back, with the same verdicts and numbers as through the harness's
own ingest. Both recorders; pages from our suite and from the ported corpus (a navigation, a
chunked large mutation, errors, masking)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.serve_helpers import ROOT, record_scenario, running_server

# Each runs 4 times (2 recorders, through serve and not): the few that cover the paths serve adds.
SCENARIOS = [
    "scenarios/multi-page.yaml",
    "scenarios/real/sentry/large-mutations-default.yaml",
    "scenarios/real/sentry/privacy-default.yaml",
]


def run(paths: list[str], out: Path, *extra: str, env: dict[str, str] | None = None) -> Any:
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", *paths, "--recorder", "builtin",
         "--recorder", "rrweb", "--json", str(out), *extra],
        cwd=ROOT, capture_output=True, text=True, env={**os.environ, **(env or {})}, timeout=900,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    return json.loads(out.read_text())["scenarios"]


def numbers(results: Any) -> dict[tuple[str, str], Any]:
    return {
        (r["name"], r["recorder"]): (
            r["passed"],
            [(c["name"], round(c["dom_similarity"], 3)) for c in r["checkpoints"]],
            # Mouse moves are sampled in time: how many land in a run is timing, not delivery.
            {k: v for k, v in r.get("events", {}).items() if k != "mouse_move"},
        )
        for r in results
    }


def test_run_through_serve_gives_the_harness_verdicts(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        token = {"REPLAYCHECK_TOKEN": server.token}
        through = run(SCENARIOS, tmp_path / "serve.json", "--ingest", server.ingest_url, env=token)
        _, listed = server.api("/api/sessions?limit=200")
    direct = run(SCENARIOS, tmp_path / "direct.json")
    assert numbers(through) == numbers(direct)
    assert all(r["passed"] for r in through), [r["failures"] for r in through]
    # Every run is a session in the store (2 recorders x 3 scenarios, one of them 2 pages).
    assert listed["total"] == 2 * len(SCENARIOS)


def test_ingest_faults_need_the_harness_ingest(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        done = subprocess.run(
            [sys.executable, "-m", "harness.cli", "run", "scenarios/faults", "--ingest",
             server.ingest_url, "--ingest-token", server.token],
            cwd=ROOT, capture_output=True, text=True, timeout=600,
        )  # fmt: skip
    assert done.returncode == 2
    # One line, before any browser starts, naming the first faulted scenario.
    [line] = done.stderr.strip().splitlines()
    assert "scenarios/faults/" in line and "ingest_faults need the harness's own ingest" in line


def test_a_wrong_token_stops_the_run_at_once(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        done = subprocess.run(
            [sys.executable, "-m", "harness.cli", "run", "scenarios/form.yaml", "--ingest",
             server.ingest_url, "--ingest-token", "wrong"],
            cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"replaycheck: {server.base}: the API token was refused (401)"
    ]


def test_a_scenario_recorded_into_serve_is_a_session_with_its_counts(
    tmp_path: Path, worker: Any
) -> None:
    with running_server(tmp_path) as server:
        result, session = record_scenario(worker, server, ROOT / "scenarios/js-error.yaml")
        status, row = server.api(f"/api/sessions/{session}")
    assert result.passed, result.failures
    assert status == 200
    assert (row["errors"], row["clicks"], row["navigations"]) == (2, 2, 1)
    assert [m["kind"] for m in row["markers"] if m["kind"] == "error"] == ["error", "error"]
    assert row["ended"] is True and row["gaps"] == 0
