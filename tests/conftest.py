"""Shared fixtures: one real browser and server per test process, reused by end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.worker import Worker

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def worker() -> Iterator[Worker]:
    with Worker() as w:
        yield w
