"""One browser and one server, reused for every scenario a process runs."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import sync_playwright

from harness.browser import launch
from harness.remote import RemoteIngest
from harness.runner import ScenarioResult, run_scenario
from harness.scenario import Scenario
from harness.server import Server


class Worker:
    def __init__(self, endpoint: str | None = None, remote: RemoteIngest | None = None) -> None:
        self._endpoint = endpoint
        self.remote = remote
        self._playwright = sync_playwright().start()
        try:
            self.browser = launch(self._playwright, endpoint)
        except Exception:
            self._playwright.stop()
            raise
        self.server = Server()

    def run(self, scenario: Scenario, recorder: str, report: Path | None) -> ScenarioResult:
        if not self.browser.is_connected():
            # The last scenario crashed or lost the browser: it failed; the next one runs.
            self.browser = launch(self._playwright, self._endpoint)
        return run_scenario(self.browser, self.server, scenario, recorder, report, self.remote)

    def close(self) -> None:
        self.server.close()
        self.browser.close()
        self._playwright.stop()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
