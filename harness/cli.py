"""replaycheck: the command line (see SPEC.md)."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import TypeVar

import phonenumbers

from harness import adapters, baseline, overhead, report
from harness.adapters.base import Adapter
from harness.audit import audit, audit_scenario, text_report
from harness.browser import BrowserUnavailable
from harness.calibration import Synthetic
from harness.junit import write_junit
from harness.progress import RunProgress
from harness.remote import TOKEN_ENV, RemoteError, RemoteIngest
from harness.runner import ScenarioResult
from harness.scenario import (
    PRIVACY_PRESETS,
    Scenario,
    ScenarioError,
    Shard,
    json_schema,
    load_paths,
    load_scenario,
)
from harness.worker import Worker
from service import cli as service_cli

DEFAULT_PATHS = ["scenarios"]
DEFAULT_OVERHEAD_PATHS = ["bench/overhead"]
DEFAULT_RECORDER = "builtin"

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2
EXIT_INTERRUPTED = 130  # as a shell reports a command ended by Ctrl-C


class BadInput(Exception):
    """Reported as one line on stderr with exit status 2."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="replaycheck", description="Verify session-replay recorders against real Chromium."
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="run scenarios: record, replay, compare")
    run.add_argument("paths", nargs="*", default=DEFAULT_PATHS, metavar="PATHS")
    run.add_argument(
        "--recorder",
        action="append",
        dest="recorders",
        metavar="NAME",
        help=f"recorder to verify, may repeat (known: {', '.join(adapters.ADAPTERS)};"
        f" default {DEFAULT_RECORDER})",
    )
    run.add_argument("--json", type=Path, metavar="FILE", help="write the result JSON here")
    run.add_argument("--report", type=Path, metavar="DIR", help="keep PNGs, streams, index.html")
    run.add_argument(
        "--baseline", type=Path, metavar="FILE", help="fail what got worse than this result JSON"
    )
    run.add_argument("-n", "--workers", type=bounded(int, 1), default=1, metavar="WORKERS")
    run.add_argument("--browser-endpoint", metavar="WS_URL", help="a Playwright run-server")
    run.add_argument(
        "--shard",
        type=shard_arg,
        metavar="I/N",
        help="run the I-th of N shares of the scenarios (for N parallel CI jobs)",
    )
    run.add_argument("--junit", type=Path, metavar="FILE", help="write JUnit XML here")
    run.add_argument(
        "--ingest",
        metavar="URL",
        help="send batches to a running `replaycheck serve` (its ingest URL with ?key=) and"
        " verify what its store returns",
    )
    run.add_argument(
        "--ingest-token",
        metavar="TOKEN",
        default=os.environ.get(TOKEN_ENV),
        help=f"API token for reading back (default ${TOKEN_ENV}; `user add NAME --token`)",
    )

    audit = commands.add_parser("audit", help="masking audit of any page: what leaks, and the fix")
    audit.add_argument("target", metavar="URL_OR_PATH")
    audit.add_argument(
        "--steps", type=Path, metavar="FILE", help="drive the page with this scenario's steps"
    )
    audit.add_argument("--recorder", default=DEFAULT_RECORDER, metavar="NAME")
    audit.add_argument(
        "--region",
        type=_region,
        metavar="XX",
        help="region of national phone formats (ISO 3166, e.g. FR; default: recorder.pii_region,"
        " else the page's <html lang> region, else US)",
    )
    audit.add_argument(
        "--privacy",
        choices=tuple(PRIVACY_PRESETS),
        help="audit under this preset (strict: no readable text or media may be recorded);"
        " default: the --steps scenario's, else balanced",
    )
    audit.add_argument("--json", type=Path, metavar="FILE")
    audit.add_argument("--browser-endpoint", metavar="WS_URL")

    _add_overhead_parser(commands)

    validate = commands.add_parser("validate", help="check scenario files, errors with file:line")
    validate.add_argument("paths", nargs="+", metavar="PATHS")

    commands.add_parser("schema", help="print the JSON Schema of the scenario format")
    service_cli.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        match args.command:
            case "run":
                return _run(args)
            case "overhead":
                return _overhead(args)
            case "audit":
                return _audit(args)
            case "validate":
                scenarios = _scenarios(args.paths)
                print(f"{len(scenarios)} scenarios valid")
                return EXIT_OK
            case "schema":
                print(json.dumps(json_schema(), indent=2))
                return EXIT_OK
            case "serve" | "user" | "project" | "clip" | "demo":
                return service_cli.dispatch(args)
    except (ScenarioError, BadInput, BrowserUnavailable) as e:
        print(f"replaycheck: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("\nreplaycheck: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    raise AssertionError(args.command)


def shard_arg(text: str) -> Shard:
    """An argparse type: I/N."""
    try:
        return Shard.parse(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _scenarios(paths: Sequence[str], shard: Shard | None = None) -> list[Scenario]:
    scenarios = load_paths(paths)
    if not scenarios:
        raise BadInput(f"no scenario files (*.yaml) under {', '.join(paths)}")
    if shard is None:
        return scenarios
    mine = shard.files(s.file for s in scenarios)
    return [s for s in scenarios if s.file in mine]


def _recorders(names: Sequence[str] | None) -> list[Adapter]:
    """The adapters named (once each, default builtin), each with its bundles built."""
    found = []
    for name in dict.fromkeys(names or [DEFAULT_RECORDER]):
        if name not in adapters.ADAPTERS:
            raise BadInput(f"unknown recorder {name!r} (known: {', '.join(adapters.ADAPTERS)})")
        adapter = adapters.get(name)
        try:
            adapter.check_bundles()
        except FileNotFoundError as e:
            raise BadInput(f"recorder {name!r} cannot be loaded: {e}") from None
        found.append(adapter)
    return found


def _writable(path: Path | None, option: str, folder: bool = False) -> None:
    """Fail before the run, not after it, when an output cannot be written."""
    if path is None:
        return
    parent = path if folder else path.parent
    nearest = next(p for p in (parent, *parent.parents) if p.exists())
    if not nearest.is_dir():
        raise BadInput(f"{option} {path}: {nearest} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise BadInput(f"{option} {path}: cannot create {parent} ({e.strerror})") from None
    if not folder and path.is_dir():
        raise BadInput(f"{option} {path}: is a folder; give a file name")
    if not os.access(parent, os.W_OK):
        raise BadInput(f"{option} {path}: {parent} is not writable; choose another place")


def _run(args: argparse.Namespace) -> int:
    recorders = [a.name for a in _recorders(args.recorders)]
    try:
        previous = baseline.load(args.baseline) if args.baseline else {}
    except baseline.BaselineError as e:
        raise BadInput(str(e)) from None
    scenarios = _scenarios(args.paths, args.shard)
    remote = _remote(args.ingest, args.ingest_token)
    # Before any browser starts: a faulted ingest is the harness's own, not a serve's.
    faulted = [s.file for s in scenarios if s.ingest_faults] if remote else []
    if faulted:
        raise BadInput(
            f"{faulted[0]}: ingest_faults need the harness's own ingest: run without --ingest"
        )
    _writable(args.json, "--json")
    _writable(args.junit, "--junit")
    _writable(args.report, "--report", folder=True)
    jobs = [(s.file, r) for s in scenarios for r in recorders]
    if not jobs:
        print(f"shard {args.shard} has no scenarios (the suite has fewer than {args.shard.count})")
    results: list[ScenarioResult] = []
    progress = RunProgress(sys.stderr, len(jobs))
    try:
        for result in _results(jobs, args.workers, args.browser_endpoint, args.report, remote):
            result.failures.extend(baseline.regressions(result, previous))
            progress.result(report.line(result), failed=not result.passed)
            results.append(result)
    finally:
        progress.close()
        # What finished is written even when the run stops early (a browser that cannot start).
        order = {job: i for i, job in enumerate(jobs)}
        results.sort(key=lambda r: order[(r.scenario.file, r.recorder)])
        _write_results(results, args)
    if len(recorders) > 1:
        print("\n" + report.table(results))
    if args.report:
        print(f"report: {args.report / 'index.html'}")
    s = report.summary(results)
    known = f" ({s['known_failures']} known failures among them)" if s["known_failures"] else ""
    print(f"{s['passed']} passed, {s['failed']} failed{known}")
    bad = [r.bad_input for r in results if r.bad_input is not None]
    for reason in bad:
        print(f"replaycheck: {reason}", file=sys.stderr)
    return EXIT_BAD_INPUT if bad else EXIT_OK if s["failed"] == 0 else EXIT_FAILED


def _write_results(results: list[ScenarioResult], args: argparse.Namespace) -> None:
    if args.json:
        report.write_json(results, args.json)
    if args.junit:
        write_junit(results, args.junit)
    if args.report:
        report.write_json(results, args.report / "results.json")
        report.write_html(results, args.report)


def _region(text: str) -> str:
    region = text.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise argparse.ArgumentTypeError(f"{text!r} is no region phonenumbers knows (e.g. FR)")
    return region


def _audit(args: argparse.Namespace) -> int:
    [recorder] = _recorders([args.recorder])
    scenario = audit_scenario(args.target, args.steps, args.region, args.privacy)
    _writable(args.json, "--json")
    with Worker(args.browser_endpoint) as worker:
        try:
            result = audit(worker.browser, worker.server, scenario, recorder.name)
        except ScenarioError as e:
            # Without --steps the scenario is the audit's own: name the target, not its file.
            raise (e if args.steps else BadInput(f"{args.target}: {e.message}")) from None
    print(text_report(result))
    if args.json:
        args.json.write_text(json.dumps({"version": 1, "audit": result.to_json()}, indent=2) + "\n")
    return EXIT_OK if not result.leaks else EXIT_FAILED


Number = TypeVar("Number", int, float)


def bounded(
    convert: Callable[[str], Number], lo: Number, strict: bool = False
) -> Callable[[str], Number]:
    """An argparse type: a finite number >= lo (> lo when strict)."""

    def parse(text: str) -> Number:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not math.isfinite(value) or value < lo or (strict and value == lo):
            raise argparse.ArgumentTypeError(f"must be {'>' if strict else '>='} {lo}, got {text}")
        return value

    return parse


def _add_overhead_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    defaults = overhead.Settings()
    cmd = commands.add_parser(
        "overhead",
        help="page-load overhead of recorders: paired loads with the recorder off and on",
        description="Load each scenario's page with the recorder off and on, in alternating"
        " pairs, and report the overhead with 95% intervals. The scenario's overhead: block"
        " gives runs, cpu_throttle, budget_pct and after_load_ms; options override it."
        " Measure on a quiet machine: other work running beside it shows up as noise.",
    )
    cmd.add_argument("paths", nargs="*", default=DEFAULT_OVERHEAD_PATHS, metavar="PATHS")
    cmd.add_argument(
        "--recorder",
        action="append",
        dest="recorders",
        metavar="NAME",
        help=f"recorder to measure, may repeat; all are measured in the same blocks of loads"
        f" (default {DEFAULT_RECORDER})",
    )
    cmd.add_argument("--runs", type=bounded(int, 2), metavar="N", help="most pairs of loads")
    cmd.add_argument(
        "--cpu-throttle", type=bounded(float, 1.0), metavar="X", help="CPU slowdown factor"
    )
    cmd.add_argument(
        "--budget",
        type=bounded(float, 0.0, strict=True),
        metavar="PCT",
        help="allowed load-time overhead: passes when the interval's upper end is within it",
    )
    cmd.add_argument(
        "--inject",
        choices=["script-tag", "init-script"],
        default=defaults.inject,
        help="a script tag in the served HTML, as sites do (default), or a browser init script",
    )
    cmd.add_argument("--json", type=Path, metavar="FILE", help="write the overhead JSON here")
    cmd.add_argument(
        "--max-seconds",
        type=bounded(float, 0.0, strict=True),
        default=defaults.max_seconds,
        metavar="S",
        help=f"stop adding pairs after this long, per scenario (default {defaults.max_seconds:g})",
    )
    cmd.add_argument(
        "--precision",
        type=bounded(float, 0.0, strict=True),
        default=defaults.precision_pct,
        metavar="PCT",
        help="the load-time interval's target half-width: the table says how many pairs"
        f" reaching +-PCT points would take (default {defaults.precision_pct:g})",
    )
    cmd.add_argument(
        "--share-precision",
        type=bounded(float, 0.0, strict=True),
        default=defaults.share_precision,
        metavar="PTS",
        help="stop once every recorder's share of main-thread time is known within +-PTS"
        f" points, after {defaults.min_pairs} pairs (default {defaults.share_precision:g})",
    )
    cmd.add_argument(
        "--interactions",
        type=bounded(int, 0),
        metavar="N",
        help="loads per arm with a click every 100 ms, for interaction latency; 0: none"
        " (default: the scenario's overhead.interactions)",
    )
    cmd.add_argument(
        "--calibrate",
        nargs="?",
        const=20.0,
        type=bounded(float, 0.0, strict=True),
        metavar="PCT",
        help="also measure a synthetic recorder that burns PCT%% of each load's main-thread"
        " time (default 20), to see the attribution find it on this machine",
    )
    cmd.add_argument(
        "--after-load-ms",
        type=bounded(int, 0),
        metavar="MS",
        help="how long to watch after the load event for deferred work"
        " (default: the scenario's overhead.after_load_ms)",
    )


def _overhead(args: argparse.Namespace) -> int:
    recorders = _recorders(args.recorders)
    scenarios = _scenarios(args.paths)
    _writable(args.json, "--json")
    settings = overhead.Settings(
        runs=args.runs,
        cpu_throttle=args.cpu_throttle,
        budget_pct=args.budget,
        inject=args.inject,
        precision_pct=args.precision,
        max_seconds=args.max_seconds,
        after_load_ms=args.after_load_ms,
        share_precision=args.share_precision,
        interactions=args.interactions,
    )
    if args.calibrate is not None and args.calibrate >= 100:
        raise BadInput(f"--calibrate {args.calibrate:g}: a share is under 100 (percent)")
    measured: list[overhead.Recorder] = list(recorders)
    if args.calibrate is not None:
        measured.append(Synthetic(args.calibrate / 100))
    results = overhead.measure_each([(s, settings) for s in scenarios], measured)
    print(overhead.table(results))
    if args.json:
        overhead.write_json(results, args.json)
    passed = sum(r.passed for r in results)
    print(f"{passed} passed, {len(results) - passed} failed")
    return EXIT_OK if passed == len(results) else EXIT_FAILED


Job = tuple[Path, str]


Remote = tuple[str, str] | None  # (ingest URL, token): picklable for the pool's processes


def _remote(url: str | None, token: str | None) -> Remote:
    """--ingest, checked once before any scenario runs."""
    if url is None:
        return None
    try:
        RemoteIngest(url, token).check()
    except RemoteError as e:
        raise BadInput(str(e)) from None
    assert token is not None
    return url, token


def _results(
    jobs: list[Job], workers: int, endpoint: str | None, out: Path | None, remote: Remote = None
) -> Iterator[ScenarioResult]:
    """Results as they finish; a browser that cannot start stops the run."""
    if not jobs:
        return
    if workers <= 1:
        with Worker(endpoint, remote and RemoteIngest(*remote)) as worker:
            for file, recorder in jobs:
                yield worker.run(load_scenario(file), recorder, out)
        return
    with ProcessPoolExecutor(
        max_workers=min(workers, len(jobs)),
        initializer=_start_worker,
        initargs=(endpoint, remote),
    ) as pool:
        for outcome in pool.map(_run_job, jobs, [out] * len(jobs)):
            if isinstance(outcome, str):
                raise BadInput(outcome)
            yield outcome


_worker: Worker | str | None = None


def _start_worker(endpoint: str | None, remote: Remote = None) -> None:
    global _worker
    try:
        _worker = Worker(endpoint, remote and RemoteIngest(*remote))
    except BrowserUnavailable as e:
        _worker = str(e)  # said by the first job: an initializer's exception breaks the pool


def _run_job(job: Job, out: Path | None) -> ScenarioResult | str:
    """In a pool process; what stops the run comes back as its message (exceptions may not
    pickle)."""
    assert _worker is not None
    if isinstance(_worker, str):
        return _worker
    try:
        return _worker.run(load_scenario(job[0]), job[1], out)
    except (ScenarioError, BrowserUnavailable) as e:
        return str(e)


if __name__ == "__main__":
    sys.exit(main())
