"""pytest plugin: scenario YAML files are collected as tests, one item per recorder.

    pytest scenarios/ [--recorder NAME]... [--report DIR] [--browser-endpoint WS_URL] [-n 2]
    pytest --overhead bench/overhead/ [--recorder NAME]... [--overhead-runs N] ...

Each xdist worker process starts one browser and one server, on first use.

With --overhead the session measures page-load overhead (items marked `overhead`, one per
scenario and recorder) and nothing else. Overhead items skip themselves when several xdist
workers run: timings taken beside other browser work measure the neighbours.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness import adapters, overhead, report
from harness.browser import BrowserUnavailable
from harness.cli import DEFAULT_RECORDER, bounded, shard_arg
from harness.remote import TOKEN_ENV, RemoteError, RemoteIngest
from harness.runner import ScenarioResult
from harness.scenario import ScenarioError, Shard, load_scenario
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
    group.addoption(
        "--ingest",
        dest="rc_ingest",
        metavar="URL",
        help="scenarios send their batches to a running `replaycheck serve` (its ingest URL"
        f" with ?key=) and are verified from its store; the API token from ${TOKEN_ENV}",
    )
    group.addoption(
        "--shard",
        dest="rc_shard",
        type=shard_arg,
        metavar="I/N",
        help="run the I-th of N shares of the scenario items (for N parallel CI jobs); the same"
        " split as `replaycheck run --shard`",
    )
    group.addoption(
        "--overhead",
        action="store_true",
        dest="rc_overhead",
        help="measure the scenarios' page-load overhead instead of running anything else;"
        " one at a time, so not under -n",
    )
    group.addoption(
        "--overhead-runs",
        dest="rc_overhead_runs",
        type=bounded(int, 2),
        metavar="N",
        help="most pairs of loads (default: the scenario's overhead.runs)",
    )
    group.addoption(
        "--overhead-cpu-throttle",
        dest="rc_overhead_cpu_throttle",
        type=bounded(float, 1.0),
        metavar="X",
        help="CPU slowdown factor (default: the scenario's overhead.cpu_throttle)",
    )
    group.addoption(
        "--overhead-budget",
        dest="rc_overhead_budget",
        type=bounded(float, 0.0, strict=True),
        metavar="PCT",
        help="allowed load-time overhead (default: the scenario's overhead.budget_pct)",
    )
    group.addoption(
        "--overhead-inject",
        dest="rc_overhead_inject",
        choices=["script-tag", "init-script"],
        default=overhead.Settings.inject,
        help="how the recorder reaches the page (default: a script tag, as sites do)",
    )
    group.addoption(
        "--overhead-max-seconds",
        dest="rc_overhead_max_seconds",
        type=bounded(float, 0.0, strict=True),
        default=overhead.Settings.max_seconds,
        metavar="S",
        help="stop adding pairs after this long, per item",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "overhead: a page-load overhead measurement (collected with --overhead)"
    )
    if config.getoption("rc_overhead"):
        config.pluginmanager.register(_OverheadSession(), "replaycheck-overhead")


def pytest_unconfigure(config: pytest.Config) -> None:
    worker = config.stash.get(WORKER_KEY, None)
    if worker is not None:
        worker.close()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shard: Shard | None = config.getoption("rc_shard")
    if shard is None:
        return
    mine = shard.files(item.path for item in items if isinstance(item, ScenarioItem))
    others = [i for i in items if isinstance(i, ScenarioItem) and i.path not in mine]
    if others:
        config.hook.pytest_deselected(items=others)
        items[:] = [i for i in items if not isinstance(i, ScenarioItem) or i.path in mine]


def _worker(config: pytest.Config) -> Worker:
    # Playwright's sync API allows one instance per thread: everything in this process shares it.
    if WORKER_KEY not in config.stash:
        url = config.getoption("rc_ingest")
        remote = None
        if url is not None:
            try:
                remote = RemoteIngest(url, os.environ.get(TOKEN_ENV))
                remote.check()
            except RemoteError as e:
                raise pytest.UsageError(str(e)) from None
        config.stash[WORKER_KEY] = Worker(config.getoption("rc_endpoint"), remote)
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
        except (ScenarioError, BrowserUnavailable) as e:
            raise BadInputFailure(str(e)) from None
        self.user_properties.append(("result", result.to_json()))
        if result.bad_input is not None:
            raise BadInputFailure(result.bad_input)
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
    """Bad input found while running (an unreachable URL) or no browser: one line naming what
    and where."""


# Overhead ------------------------------------------------------------------------------------


class _OverheadSession:
    """Registered with --overhead: collects overhead items and deselects everything else."""

    def pytest_collect_file(
        self, file_path: Path, parent: pytest.Collector
    ) -> pytest.Collector | None:
        if _is_scenario(file_path):
            return OverheadFile.from_parent(parent, path=file_path)
        return None

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        others = [item for item in items if not isinstance(item, OverheadItem)]
        if others:
            config.hook.pytest_deselected(items=others)
            items[:] = [item for item in items if isinstance(item, OverheadItem)]


class OverheadFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        try:
            scenario = load_scenario(self.path)
        except ScenarioError as e:
            raise self.CollectError(str(e)) from None
        for recorder in self.config.getoption("rc_recorders") or [DEFAULT_RECORDER]:
            if recorder not in adapters.ADAPTERS:
                raise self.CollectError(
                    f"unknown recorder {recorder!r} (known: {', '.join(adapters.ADAPTERS)})"
                )
            item = OverheadItem.from_parent(
                self, name=f"{scenario.name}[overhead-{recorder}]", recorder=recorder
            )
            item.add_marker("overhead")
            yield item


def parallel_workers() -> int:
    """How many xdist workers share this run (1 without xdist)."""
    return int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))


class OverheadFailed(Exception):
    def __init__(self, result: overhead.OverheadResult) -> None:
        load = result.metrics[overhead.PRIMARY]
        share = result.metrics[overhead.SHARE]
        super().__init__(
            f"{result.scenario.name} [{result.recorder}]: load-time overhead {load.estimate:+.1f}%"
            f" [{load.lo:+.1f}, {load.hi:+.1f}] exceeds the budget of {result.budget_pct:g}%"
            f" ({result.runs} pairs, stopped by {result.stopped}); the recorder's share of"
            f" main-thread time: {share.estimate:.1f}% [{share.lo:.1f}, {share.hi:.1f}]"
        )


class OverheadItem(pytest.Item):
    def __init__(self, *, recorder: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.recorder = recorder

    def runtest(self) -> None:
        workers = parallel_workers()
        if workers > 1:
            # Skipped rather than serialized with a lock: a lock would cover scenario items but
            # not the other browser tests the remaining workers run meanwhile.
            pytest.skip(
                f"overhead is measured with nothing else running, not among {workers} xdist"
                " workers: run it without -n, as `make bench` does"
            )
        option = self.config.getoption
        settings = overhead.Settings(
            runs=option("rc_overhead_runs"),
            cpu_throttle=option("rc_overhead_cpu_throttle"),
            budget_pct=option("rc_overhead_budget"),
            inject=option("rc_overhead_inject"),
            max_seconds=option("rc_overhead_max_seconds"),
        )
        try:
            worker = _worker(self.config)
            scenario = load_scenario(self.path)
            [result] = overhead.measure(
                worker.browser, worker.server, scenario, [adapters.get(self.recorder)], settings
            )
        except (ScenarioError, BrowserUnavailable) as e:
            raise BadInputFailure(str(e)) from None
        self.user_properties.append(("overhead", result.to_json()))
        if not result.passed:
            raise OverheadFailed(result)

    def repr_failure(
        self,
        excinfo: pytest.ExceptionInfo[BaseException],
        style: Any = None,
    ) -> str:
        if isinstance(excinfo.value, (OverheadFailed, BadInputFailure)):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo, style=style))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"overhead {self.name}"
