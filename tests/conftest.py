"""Shared fixtures: the plugin's browser and server for this test process."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from harness.adapters.base import read_bundle
from harness.worker import Worker
from tests.pg import postgresql_server as postgresql_server

FIXTURES = Path(__file__).parent / "fixtures"
REPLAYCHECK = Path(sys.executable).with_name("replaycheck")

# Fixture scenarios include ones that fail on purpose: tests run them, pytest must not collect them.
collect_ignore = ["fixtures"]


@pytest.fixture(scope="session")
def worker(replaycheck_worker: Worker) -> Worker:
    return replaycheck_worker


@pytest.fixture
def page(worker: Worker) -> Iterator[Page]:
    """A blank page in a context of its own, closed after the test."""
    context = worker.browser.new_context()
    yield context.new_page()
    context.close()


def load_harness(page: Page) -> None:
    """The harness's page bundle (globalThis.__rcHarness) in `page`, as checkpoints load it."""
    page.evaluate(read_bundle("harness.js") + "\n;void 0;")
