"""Shared fixtures: the plugin's browser and server for this test process."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.worker import Worker
from tests.pg import postgresql_server as postgresql_server

FIXTURES = Path(__file__).parent / "fixtures"
REPLAYCHECK = Path(sys.executable).with_name("replaycheck")

# Fixture scenarios include ones that fail on purpose: tests run them, pytest must not collect them.
collect_ignore = ["fixtures"]


@pytest.fixture(scope="session")
def worker(replaycheck_worker: Worker) -> Worker:
    return replaycheck_worker
