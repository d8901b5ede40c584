"""pytest plugin: scenario YAML files are collected as tests, one item per recorder.

    pytest scenarios/ [--recorder NAME]... [--report DIR] [--browser-endpoint WS_URL] [-n 2]

Each xdist worker process starts one browser and one server, on first use.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import adapters, report
from harness.cli import DEFAULT_RECORDER
from harness.runner import ScenarioResult
from harness.scenario import ScenarioError, load_scenario
from harness.worker import Worker

WORKER_KEY = pytest.StashKey[Worker]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("replaycheck")
    group.addoption(
        "--recorder",
        action="append",
        dest="rc_recorders",
        metavar="NAME",
        help=f"recorder to verify scenarios with, may repeat (default {DEFAULT_RECORDER})",
    )
    group.addoption("--report", dest="rc_report", type=Path, metavar="DIR")
    group.addoption("--browser-endpoint", dest="rc_endpoint", metavar="WS_URL")


def pytest_unconfigure(config: pytest.Config) -> None:
    worker = config.stash.get(WORKER_KEY, None)
    if worker is not None:
        worker.close()


def _worker(config: pytest.Config) -> Worker:
    # Playwright's sync API allows one instance per thread: everything in this process shares it.
    if WORKER_KEY not in config.stash:
        config.stash[WORKER_KEY] = Worker(config.getoption("rc_endpoint"))
    return config.stash[WORKER_KEY]


@pytest.fixture(scope="session")
def replaycheck_worker(pytestconfig: pytest.Config) -> Worker:
    """The process's browser and server (override to bring your own)."""
    return _worker(pytestconfig)


def _is_scenario(path: Path) -> bool:
    """A YAML file with a top-level page: or url: key (cheap, so other YAML is left alone)."""
    if path.suffix not in (".yaml", ".yml"):
        return False
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return False
    return any(line.startswith(("page:", "url:")) for line in text.splitlines())


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if _is_scenario(file_path):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            scenario = load_scenario(self.path)
        except ScenarioError as e:
            raise self.CollectError(str(e)) from None
        recorders = self.config.getoption("rc_recorders") or [DEFAULT_RECORDER]
        for recorder in recorders:
            if recorder not in adapters.ADAPTERS:
                raise self.CollectError(
                    f"unknown recorder {recorder!r} (known: {', '.join(adapters.ADAPTERS)})"
                )
            yield ScenarioItem.from_parent(
                self, name=f"{scenario.name}[{recorder}]", recorder=recorder
            )


class ScenarioFailed(Exception):
    def __init__(self, result: ScenarioResult) -> None:
        super().__init__(report.line(result))
        self.result = result


class ScenarioItem(pytest.Item):
    def __init__(self, *, recorder: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.recorder = recorder

    def runtest(self) -> None:
        try:
            scenario = load_scenario(self.path)
            result = _worker(self.config).run(
                scenario, self.recorder, self.config.getoption("rc_report")
            )
        except ScenarioError as e:
            raise BadInputFailure(str(e)) from None
        self.user_properties.append(("result", result.to_json()))
        if not result.passed:
            raise ScenarioFailed(result)
        if result.known_failure:
            pytest.xfail(f"{self.recorder}: {result.known_failure}")

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        if isinstance(excinfo.value, (ScenarioFailed, BadInputFailure)):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"scenario {self.name}"


class BadInputFailure(Exception):
    """Bad input found while running (an unreachable URL): one line naming file and line."""
