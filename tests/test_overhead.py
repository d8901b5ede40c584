"""`replaycheck overhead` in real Chromium on a small page, a few pairs at a time: the JSON shape
per SPEC, both injection modes, the adaptive stop, bad input, and a deliberately slow recorder
whose cost must show. Only structure and clearly separated effects are asserted, never timings:
these tests may run beside others under -n, which real measurements must not."""

from __future__ import annotations

import io
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from harness import adapters, overhead
from harness.adapters.rrweb import RrwebAdapter
from harness.cli import main
from harness.overhead import METRICS, OverheadResult, Settings, measure
from harness.progress import Progress
from harness.scenario import RecorderConfig, Scenario, ScenarioError, load_scenario
from harness.stats import Comparison, Stop
from harness.worker import Worker
from tests.conftest import REPLAYCHECK

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>small</title></head>
<body><h1>Orders</h1><ul>{items}</ul>
<script>document.querySelector("h1").textContent += " (" + document.querySelectorAll("li").length
+ ")";</script></body></html>
"""

# Quick: a short watch after load; the statistics do not care how long the window is.
QUICK = Settings(after_load_ms=200, interactions=0)


class SlowRecorder(RrwebAdapter):
    """rrweb behind a script that busy-waits 250 ms first: a recorder with a known cost.

    250 ms rather than less: a page's own task time varies by tens of milliseconds from load to
    load on a busy machine, and a handful of pairs must show this cost every time.
    """

    name = "slow-rrweb"
    busy_ms = 250

    def init_script(self, config: RecorderConfig, ingest_url: str, session: str) -> str:
        busy = (
            "(function(){if(window.top!==window)return;"
            f"var t=performance.now();while(performance.now()-t<{self.busy_ms}){{}}}})();\n"
        )
        return busy + super().init_script(config, ingest_url, session)


def _scenario(tmp_path: Path, overhead_block: str = "{runs: 3, cpu_throttle: 2}") -> Path:
    (tmp_path / "pages").mkdir(exist_ok=True)
    items = "".join(f"<li>order {i}: <b>{i * 7} EUR</b></li>" for i in range(300))
    (tmp_path / "pages" / "small.html").write_text(PAGE.format(items=items))
    path = tmp_path / "small.yaml"
    path.write_text(f"page: pages/small.html\noverhead: {overhead_block}\n")
    return path


def _check_shape(entry: dict[str, object], scenario: Scenario, recorder: str) -> None:
    # The file's entries say how each recorder compares with rrweb measured beside it.
    assert [k for k in entry if k != "versus_rrweb"] == [
        "scenario",
        "file",
        "recorder",
        "inject",
        "runs",
        "cpu_throttle",
        "metrics",
        "budget_pct",
        "passed",
        "stopped",
        "precision_pct",
        "pairs_needed",
        "worst_load",
        "share_precision",
        "share_pairs_needed",
        "interactions",
        "known",
    ]
    assert entry["scenario"] == scenario.name and entry["recorder"] == recorder
    metrics = entry["metrics"]
    assert isinstance(metrics, dict) and list(metrics) == list(METRICS)
    for name, kind in METRICS.items():
        m = metrics[name]
        assert m["kind"] == kind
        if kind == "ratio":
            assert set(m) == {"off", "on", "overhead_pct", "ci95_pct", "kind"}
            lo, hi = m["ci95_pct"]
            assert m["off"] > 0 and m["on"] > 0 and lo <= m["overhead_pct"] <= hi
        else:
            assert set(m) == {"off", "on", "diff", "ci95", "kind"}
            lo, hi = m["ci95"]
            assert lo <= m["diff"] <= hi
    load = metrics["load_ms"]
    assert entry["passed"] == (load["ci95_pct"][1] <= entry["budget_pct"])
    # Nothing is uploaded with the recorder off; the recorder always ships its snapshot.
    assert metrics["upload_bytes"]["off"] == 0 and metrics["upload_bytes"]["on"] > 0
    assert metrics["heap_mb"]["off"] > 0
    worst = entry["worst_load"]
    assert isinstance(worst, dict) and list(worst) == list(overhead.LONGEST)
    for name, arms in worst.items():  # the worst load is at least the mean load
        assert (
            arms["off"] >= metrics[name]["off"] - 1e-3 and arms["on"] >= metrics[name]["on"] - 1e-3
        )


def test_script_tag_measurement_and_a_slow_recorder(worker: Worker, tmp_path: Path) -> None:
    scenario = load_scenario(_scenario(tmp_path, "{runs: 4, cpu_throttle: 2}"))
    recorders = [adapters.get("rrweb"), SlowRecorder()]
    rrweb, slow = measure(worker.browser, worker.server, scenario, recorders, QUICK)
    for result, name in ((rrweb, "rrweb"), (slow, "slow-rrweb")):
        entry = result.to_json()
        _check_shape(entry, scenario, name)
        assert (entry["inject"], entry["runs"], entry["stopped"]) == ("script-tag", 4, "runs")
        assert (entry["cpu_throttle"], entry["budget_pct"]) == (2.0, 3.0)  # budget: the default
    # Four pairs on a shared machine give a wide interval: the estimate, not its bound, is sure.
    assert slow.metrics["task_ms"].estimate > 0
    # Every on-load runs the busy script as one long task: exact lower bounds, not timings.
    assert slow.metrics["script_ms"].on >= SlowRecorder.busy_ms
    assert slow.metrics["tbt_ms"].on >= SlowRecorder.busy_ms - 50
    assert slow.metrics["long_tasks"].on >= 1
    assert slow.metrics["max_task_ms"].on >= SlowRecorder.busy_ms
    # The busy script is the recorder's own: attributed to it by its URL, in every on-load.
    assert slow.metrics["max_recorder_script_ms"].on >= SlowRecorder.busy_ms
    assert slow.metrics["max_recorder_script_ms"].off == 0  # no recorder script with it off
    assert slow.worst["max_recorder_script_ms"][1] >= SlowRecorder.busy_ms
    # The trace says the same: the busy script is one task of the recorder's, and its thread
    # time (less than its wall time when another process took the core) is the recorder's.
    assert slow.metrics["max_recorder_task_ms"].on >= SlowRecorder.busy_ms
    assert slow.metrics["recorder_ms"].on > rrweb.metrics["recorder_ms"].on
    assert slow.metrics["share_total"].on > rrweb.metrics["share_total"].on > 0
    for result in (rrweb, slow):  # nothing of the page's is the recorder's
        assert result.metrics["recorder_ms"].off == 0 and result.metrics["share_total"].off == 0
    # Measured in the same blocks as rrweb: compared with it load by load.
    assert overhead.versus(slow, [rrweb, slow])["recorder_ms"].estimate > 1
    assert overhead.versus(rrweb, [rrweb, slow]) == {}


def test_init_script_injection(worker: Worker, tmp_path: Path) -> None:
    scenario = load_scenario(_scenario(tmp_path))
    settings = Settings(inject="init-script", after_load_ms=200, interactions=2)
    [result] = measure(worker.browser, worker.server, scenario, [adapters.get("rrweb")], settings)
    entry = result.to_json()
    _check_shape(entry, scenario, "rrweb")
    assert (entry["inject"], entry["runs"], entry["stopped"]) == ("init-script", 3, "runs")
    # Two latency loads per arm, clicked through from the first byte to the window's end:
    # Event Timing reports nothing under 16 ms, so no worst interaction is below that.
    latency = entry["interactions"]
    assert (latency["loads"], set(latency)) == (
        2,
        {"loads", "clicks_per_load", "off", "on", "during_recorder_work"},
    )
    assert latency["clicks_per_load"] >= 2
    for arm in ("off", "on"):
        assert latency[arm]["worst"] >= latency[arm]["median"] >= overhead.EVENT_TIMING_MIN_MS


def test_adaptive_stop_says_what_ended_it(worker: Worker, tmp_path: Path) -> None:
    scenario = load_scenario(_scenario(tmp_path, "{runs: 50}"))
    rrweb = [adapters.get("rrweb")]
    loose = Settings(
        min_pairs=2, share_precision=math.inf, after_load_ms=0, cpu_throttle=1, interactions=0
    )
    [result] = measure(worker.browser, worker.server, scenario, rrweb, loose)
    assert (result.stopped, result.runs) == ("precision", 2)
    hurried = Settings(max_seconds=0.001, after_load_ms=0, cpu_throttle=1, interactions=0)
    [result] = measure(worker.browser, worker.server, scenario, rrweb, hurried)
    assert (result.stopped, result.runs) == ("time", 2)  # an interval needs two pairs


def test_unreachable_url_is_bad_input(worker: Worker, tmp_path: Path) -> None:
    path = tmp_path / "gone.yaml"
    path.write_text("url: http://127.0.0.1:9/nothing-here\n")
    scenario = load_scenario(path)
    with pytest.raises(ScenarioError, match="cannot load"):
        measure(worker.browser, worker.server, scenario, [adapters.get("rrweb")], QUICK)


def test_cli_writes_overhead_json_and_a_table(tmp_path: Path) -> None:
    # A process of its own: Playwright's sync API allows one instance per thread.
    path = _scenario(tmp_path)
    out = tmp_path / "out" / "overhead.json"
    args = ["--runs", "2", "--after-load-ms", "0", "--budget", "1e6", "--inject", "init-script"]
    args += ["--recorder", "rrweb"]
    run = subprocess.run(
        [str(REPLAYCHECK), "overhead", str(path), *args, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # Two pairs give no useful interval: the verdict may go either way, the output may not.
    assert run.returncode in (0, 1), run.stderr
    data = json.loads(out.read_text())
    assert list(data) == ["version", "overhead"] and data["version"] == 1
    [entry] = data["overhead"]
    _check_shape(entry, load_scenario(path), "rrweb")
    assert (entry["inject"], entry["runs"], entry["budget_pct"]) == ("init-script", 2, 1e6)
    verdict = "1 passed, 0 failed" if entry["passed"] else "0 passed, 1 failed"
    assert run.returncode == (0 if entry["passed"] else 1)
    assert "load overhead % [95% CI]" in run.stdout and verdict in run.stdout
    assert "small: pair 2" in run.stderr  # progress, as plain lines: stderr is no terminal


class _Unbuilt(RrwebAdapter):
    name = "unbuilt"
    record_bundle = "no-such-bundle.js"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--recorder", "nope"], "unknown recorder 'nope'"),
        (["--recorder", "unbuilt"], "no-such-bundle.js is missing"),
        (["no/such/folder"], "no such"),
    ],
)
def test_cli_bad_input_exits_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    words: str,
) -> None:
    monkeypatch.setitem(adapters.ADAPTERS, "unbuilt", _Unbuilt)
    assert main(["overhead", *args]) == 2
    err = capsys.readouterr().err
    assert words in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "args",
    [
        ["--runs", "1"],
        ["--cpu-throttle", "0.5"],
        ["--budget", "0"],
        ["--budget", "nan"],
        ["--share-precision", "0"],
        ["--interactions", "-1"],
        ["--calibrate", "0"],
    ],
)
def test_cli_rejects_bad_numbers(args: list[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["overhead", *args])
    assert exit.value.code == 2


def test_cli_refuses_a_synthetic_share_of_100_percent(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["overhead", "--calibrate", "100"]) == 2
    assert (
        capsys.readouterr().err == "replaycheck: --calibrate 100: a share is under 100 (percent)\n"
    )


def _result(
    scenario: Scenario, hi: float, budget: float, stopped: Stop = "precision"
) -> OverheadResult:
    c = Comparison("ratio", 10, 100.0, 101.0, 1.0, -1.0, hi)
    d = Comparison("difference", 10, 0.0, 5.0, 5.0, 1.0, 9.0)
    metrics = {name: c if kind == "ratio" else d for name, kind in METRICS.items()}
    worst = {name: (2.0, 12.0) for name in overhead.LONGEST}
    return OverheadResult(
        scenario,
        "rrweb",
        "script-tag",
        4.0,
        budget,
        metrics,
        stopped,
        1.0,
        worst,
        0.5,
        [],
        [],
        None,
    )


def test_pass_is_the_upper_end_within_the_budget(tmp_path: Path) -> None:
    scenario = load_scenario(_scenario(tmp_path))
    assert _result(scenario, hi=3.0, budget=3.0).passed
    assert not _result(scenario, hi=3.01, budget=3.0).passed
    text = overhead.table([_result(scenario, 3.0, 3.0), _result(scenario, 4.0, 3.0)])
    steady, clock = text.split("\n\n")
    assert steady.splitlines()[0].startswith("Attributed to the recorder")
    assert "share in all %" in steady and "recorder ms x rrweb" in steady
    title, header, rule, first, second = clock.splitlines()
    assert title.startswith("Wall clock")
    assert header.split("  ")[0] == "scenario" and set(rule) == {"-"}
    assert "+1.0 [-1.0, +3.0]" in first and "PASS (budget 3%)" in first
    assert "FAIL (budget 3%)" in second and " precision " in second
    assert "longest task ms off -> on" in header and "0 -> 5 (worst 2 -> 12)" in first
    assert "script ms to load [95% CI]" in header and "+5.0 [+1.0, +9.0]" in first


def test_a_run_short_of_its_precision_says_what_reaching_it_takes(tmp_path: Path) -> None:
    # 10 pairs gave +-2.0 points (interval -1 .. +3), a per-pair sd of 2.0 * sqrt(10) / t(9):
    # +-1.0 takes the smallest n with (t(n - 1) * 2.796)^2 <= n: 33 (not 40: t shrinks too).
    result = _result(load_scenario(_scenario(tmp_path)), hi=3.0, budget=3.0, stopped="time")
    assert result.pairs_needed == 33
    clock = overhead.table([result]).split("\n\n")[1].splitlines()
    assert "pairs for load +-1" in clock[1]
    assert clock[3].split()[-5:-3] == [f"~{result.pairs_needed}", "time"]
    out = result.to_json()
    assert out["stopped"] == "time" and out["pairs_needed"] == result.pairs_needed
    # The share (+-4.0 after 10 pairs, per-pair sd 4.0 * sqrt(10) / t(9) = 5.59): +-0.5 takes
    # about (1.97 * 5.59 / 0.5)^2 pairs.
    assert 480 <= result.share_pairs_needed <= 490
    steady = overhead.table([result]).split("\n\n")[0].splitlines()
    column = steady[1].index("pairs for share +-0.5")
    assert steady[3][column:].startswith(f"~{result.share_pairs_needed} ")
    assert out["share_pairs_needed"] == result.share_pairs_needed


def test_timing_sample_counts_up_to_the_window_end() -> None:
    timing = overhead.Timing(
        load=1000.0,
        dcl=900.0,
        # the page's parse task, a recorder task after load, one past the window's end
        tasks=[(200.0, 500.0), (1100.0, 80.0), (3000.0, 900.0)],
        scripts=[
            ("http://h/__rc/overhead-builtin.js", 150.0, 12.0),
            ("http://h/page.js", 300.0, 400.0),
            ("http://h/__rc/overhead-builtin.js", 1110.0, 70.0),
            ("http://h/__rc/overhead-builtin.js", 3000.0, 800.0),
        ],
    )
    sample = overhead.timing_sample(timing, 1500, lambda url: url.endswith("overhead-builtin.js"))
    assert sample == {
        "load_ms": 1000.0,
        "dcl_ms": 900.0,
        "tbt_ms": 450.0 + 30.0,
        "tbt_after_ms": 30.0,
        "long_tasks": 2.0,
        "max_task_ms": 500.0,  # the page's own: the recorder's 80 ms task does not show here
        "max_recorder_script_ms": 70.0,  # ... but here, and the page's 400 ms script does not
    }
    nothing = overhead.timing_sample(overhead.Timing(5.0, 4.0, [], []), 0, lambda url: True)
    assert nothing["max_task_ms"] == nothing["max_recorder_script_ms"] == nothing["long_tasks"] == 0


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_updates_one_line_on_a_terminal_and_prints_lines_otherwise() -> None:
    log = io.StringIO()
    Progress(log).show("pair 1")
    Progress(log).show("pair 2")
    assert log.getvalue() == "pair 1\npair 2\n"
    tty = _Terminal()
    progress = Progress(tty)
    progress.show("pair 1")
    progress.show("pair 2")
    progress.clear()
    assert tty.getvalue() == "\r\x1b[Kpair 1\r\x1b[Kpair 2\r\x1b[K"


def _pytest(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_pytest_collects_overhead_items_only_when_asked(tmp_path: Path) -> None:
    _scenario(tmp_path)
    plain = _pytest("--collect-only", "-q", "--recorder", "rrweb", ".", cwd=tmp_path)
    assert "small.yaml::small[rrweb]" in plain.stdout and "overhead-rrweb" not in plain.stdout
    asked = _pytest("--overhead", "--collect-only", "-q", "--recorder", "rrweb", ".", cwd=tmp_path)
    assert "small.yaml::small[overhead-rrweb]" in asked.stdout
    assert "small.yaml::small[rrweb]" not in asked.stdout  # nothing else runs beside it


def test_overhead_items_skip_among_xdist_workers(tmp_path: Path) -> None:
    _scenario(tmp_path)
    run = _pytest("--overhead", "-n", "2", "-rs", ".", cwd=tmp_path)
    assert run.returncode == 0, run.stdout
    assert "1 skipped" in run.stdout and "not among 2 xdist workers" in run.stdout


@pytest.mark.parametrize("arms", [2, 3, 4])
def test_arm_order_is_balanced(arms: int) -> None:
    blocks = [overhead.arm_order(b, arms) for b in range(2 * arms)]
    assert all(sorted(order) == list(range(arms)) for order in blocks)
    for arm in range(arms):
        positions = [order.index(arm) for order in blocks]
        assert sorted(positions) == sorted(list(range(arms)) * 2)
    for a in range(arms):
        for b in range(a + 1, arms):
            before = sum(order.index(a) < order.index(b) for order in blocks)
            assert before == arms  # half of the 2 * arms blocks


def test_one_recorder_alternates_abba() -> None:
    # off/on, on/off, on/off, off/on: a linear drift cancels out within every four pairs.
    assert [overhead.arm_order(b, 2) for b in range(4)] == [[0, 1], [1, 0], [1, 0], [0, 1]]
