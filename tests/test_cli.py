"""The command line as CI uses it: shards, JUnit, a live progress line, results written whatever
fails, and for every bad input or broken environment one line on stderr and exit status 2."""

from __future__ import annotations

import json
import os
import pty
import re
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from harness import junit
from harness.adapters import base
from harness.cli import main
from harness.runner import ScenarioResult
from harness.scenario import Shard, load_scenario
from harness.worker import Worker
from tests.conftest import FIXTURES, REPLAYCHECK

E2E = FIXTURES / "e2e"
PLAIN = "page: pages/plain.html\n"


def suite(tmp_path: Path, **scenarios: str) -> Path:
    """A folder of scenarios on the e2e pages: name -> YAML text."""
    shutil.copytree(E2E / "pages", tmp_path / "pages", dirs_exist_ok=True)
    for name, text in scenarios.items():
        (tmp_path / f"{name}.yaml").write_text(text)
    return tmp_path


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and err.startswith("replaycheck: "), err
    return err.strip()


def one_line_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Runs the CLI in-process, for what fails before a browser starts (this process has its
    own Playwright already); asserts exit 2 with a single line on stderr, and returns it."""
    assert main(argv) == 2
    return one_line(capsys.readouterr().err)


def one_line_exit_2_apart(argv: list[str], **env: str) -> str:
    """The same, run as its own process: for what fails as the browser starts."""
    run = subprocess.run(
        [str(REPLAYCHECK), *argv],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    assert run.returncode == 2, run.stdout + run.stderr
    return one_line(run.stderr)


# --shard ------------------------------------------------------------------------------------


def test_shards_cover_every_file_once_whatever_the_order() -> None:
    files = [Path(f"/suite/s{i:02}.yaml") for i in range(11)]
    shares = [Shard(i, 4).files(files) for i in range(1, 5)]
    assert sorted(f for share in shares for f in share) == sorted(files)
    assert [len(share) for share in shares] == [3, 3, 3, 2]
    assert Shard(2, 4).files(reversed(files)) == shares[1]


@pytest.mark.parametrize("text", ["0/2", "3/2", "1", "a/b", "1/0", "-1/2"])
def test_a_bad_shard_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="I/N"):
        Shard.parse(text)


def test_run_and_pytest_split_a_suite_the_same_way(tmp_path: Path) -> None:
    folder = suite(tmp_path, a=PLAIN, b=PLAIN, c=PLAIN)
    collected = []
    for index in (1, 2):
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "--collect-only", "-q", "--shard", f"{index}/2"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=folder,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        collected.append(sorted(line for line in run.stdout.splitlines() if "::" in line))
    assert collected == [
        ["a.yaml::a[builtin]", "c.yaml::c[builtin]"],
        ["b.yaml::b[builtin]"],
    ]
    report = tmp_path / "shard.xml"
    run = subprocess.run(
        [str(REPLAYCHECK), "run", str(folder), "--shard", "2/2", "--junit", str(report)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    cases = ET.parse(report).getroot().iter("testcase")
    assert [case.get("name") for case in cases] == ["b[builtin]"]


# --junit, and results written whatever fails --------------------------------------------------


def test_results_are_written_when_scenarios_fail_or_hold_bad_input(tmp_path: Path) -> None:
    folder = suite(
        tmp_path,
        fails=PLAIN + "expect:\n  events: {click: 5}\n",
        passes=PLAIN,
        unreachable="url: http://127.0.0.1:9/\n",
    )
    out, xml = tmp_path / "out" / "result.json", tmp_path / "out" / "junit.xml"
    run = subprocess.run(
        [str(REPLAYCHECK), "run", str(folder), "--json", str(out), "--junit", str(xml)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # Bad input wins the exit status, and is said in one line; the other scenarios still ran.
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.count("\n") == 1 and "unreachable.yaml:1: cannot load" in run.stderr
    assert "1 passed, 2 failed" in run.stdout
    data = json.loads(out.read_text())
    verdicts = {s["name"]: (s["passed"], s["bad_input"] is not None) for s in data["scenarios"]}
    assert verdicts == {
        "fails": (False, False),
        "passes": (True, False),
        "unreachable": (False, True),
    }
    suite_xml = ET.parse(xml).getroot().find("testsuite")
    assert suite_xml is not None
    assert {k: suite_xml.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "3",
        "failures": "1",
        "errors": "1",
        "skipped": "0",
    }
    failure = suite_xml.find("testcase[@name='fails[builtin]']/failure")
    assert failure is not None and "click" in (failure.get("message") or "")


def test_junit_marks_a_known_failure_as_skipped() -> None:
    scenario = load_scenario(E2E / "plain.yaml")
    known = ScenarioResult(scenario, "rrweb", ["pixel mismatch"], known_failure="no canvas")
    passed = ScenarioResult(scenario, "builtin", duration_s=1.5)
    xml = junit.to_xml([known, passed])
    assert (xml.get("tests"), xml.get("skipped"), xml.get("failures")) == ("2", "1", "0")
    skipped = xml.find("testcase[@name='plain[rrweb]']/skipped")
    assert skipped is not None and skipped.get("message") == "no canvas"
    assert xml.find("testcase[@name='plain[builtin]']/*") is None


def test_a_step_that_times_out_says_which_element_why_and_where_and_no_nan(
    tmp_path: Path,
) -> None:
    folder = suite(
        tmp_path,
        missing=PLAIN + "steps:\n  - click: '#nope'\n",
        hidden=PLAIN + "steps:\n  - eval: \"document.getElementById('go').hidden = true\"\n"
        "  - click: '#go'\n",
    )
    argv = [str(REPLAYCHECK), "run", str(folder), "--recorder", "builtin", "--recorder", "rrweb"]
    run = subprocess.run([*argv, "-n", "2"], capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    assert (
        "step click '#nope' (line 3) timed out after 5000 ms: no element matches '#nope';"
        " the page was http://" in run.stdout
    )
    assert "/pages/plain.html ('Plain')" in run.stdout
    assert (
        "step click '#go' (line 4) timed out after 5000 ms: element is not visible"
        ' (<button id="go"' in run.stdout
    )
    table = run.stdout[run.stdout.index("scenario |") :]
    assert "nan" not in table
    # Stopped before any checkpoint or stream: dashes.
    assert re.search(r"\nmissing +\| FAIL +- +- +- \| FAIL +- +- +-\n", table), table


# The live progress line ------------------------------------------------------------------------


def run_on_a_terminal(argv: list[str], cwd: Path) -> tuple[int, str]:
    """The command with stdout and stderr on a pseudo-terminal, as a person runs it."""
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        argv, stdout=follower, stderr=follower, stdin=subprocess.DEVNULL, cwd=cwd
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return proc.wait(timeout=120), b"".join(chunks).decode()


def test_progress_line_on_a_terminal_and_not_in_a_log(tmp_path: Path) -> None:
    folder = suite(tmp_path, one=PLAIN, two=PLAIN + "expect:\n  events: {click: 5}\n")
    code, screen = run_on_a_terminal([str(REPLAYCHECK), "run", str(folder)], folder)
    assert code == 1, screen
    assert "\r\x1b[K1/2 scenarios, 0 failed, " in screen
    assert "\r\x1b[K2/2 scenarios, 1 failed, " in screen
    # The line is cleared before each result line and at the end.
    assert screen.index("PASS one") < screen.index("1/2 scenarios")
    assert screen.rstrip().endswith("1 passed, 1 failed")
    logged = subprocess.run(
        [str(REPLAYCHECK), "run", str(folder / "one.yaml")], capture_output=True, text=True
    )
    assert "scenarios," not in logged.stdout + logged.stderr


# One line and exit 2 for bad input and a broken environment ---------------------------------


def test_a_missing_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(base, "DIST", tmp_path / "dist")
    err = one_line_exit_2(["run", str(E2E / "plain.yaml")], capsys)
    assert "recorder 'builtin' cannot be loaded" in err and "make setup" in err
    err = one_line_exit_2(["overhead", str(E2E / "plain.yaml"), "--recorder", "rrweb"], capsys)
    assert "recorder 'rrweb' cannot be loaded" in err


@pytest.mark.parametrize("workers", ["1", "2"])
def test_no_chromium_found(workers: str) -> None:
    nowhere = {"REPLAYCHECK_CHROMIUM": "/nowhere/chromium"}
    err = one_line_exit_2_apart(["run", str(E2E / "plain.yaml"), "-n", workers], **nowhere)
    assert "REPLAYCHECK_CHROMIUM=/nowhere/chromium: no such file" in err
    err = one_line_exit_2_apart(["audit", str(E2E / "pages" / "plain.html")], **nowhere)
    assert "no such file" in err


def test_an_unreachable_browser_endpoint() -> None:
    argv = ["run", str(E2E / "plain.yaml"), "--browser-endpoint", "ws://127.0.0.1:9/"]
    assert "cannot connect to the browser at ws://127.0.0.1:9/" in one_line_exit_2_apart(argv)


def test_an_unwritable_report_folder_or_json_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    plain = str(E2E / "plain.yaml")
    err = one_line_exit_2(["run", plain, "--report", str(blocker / "report")], capsys)
    assert f"--report {blocker / 'report'}: {blocker} is a file, not a folder" in err
    err = one_line_exit_2(["run", plain, "--json", str(blocker / "r.json")], capsys)
    assert "--json" in err and "is a file, not a folder" in err
    err = one_line_exit_2(["run", plain, "--junit", str(tmp_path)], capsys)
    assert "is a folder; give a file name" in err


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("not json at all", "not a replaycheck result JSON"),
        ('{"version": 2, "scenarios": []}', "of version 2, not 1"),
        ('["a list"]', "of version None, not 1"),
    ],
)
def test_a_baseline_that_is_not_a_result_json_of_this_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, words: str
) -> None:
    path = tmp_path / "base.json"
    path.write_text(content)
    err = one_line_exit_2(["run", str(E2E / "plain.yaml"), "--baseline", str(path)], capsys)
    assert str(path) in err and words in err


@pytest.mark.parametrize("command", ["run", "validate", "overhead"])
def test_a_scenario_folder_with_no_yaml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    (tmp_path / "notes.txt").write_text("no scenarios here")
    err = one_line_exit_2([command, str(tmp_path)], capsys)
    assert f"no scenario files (*.yaml) under {tmp_path}" in err


def test_a_page_that_crashes_its_browser_fails_that_scenario_and_the_others_run(
    tmp_path: Path,
) -> None:
    folder = suite(
        tmp_path,
        a_crash=PLAIN + "steps:\n  - goto: chrome://crash\n",
        b_after=PLAIN,
    )
    run = subprocess.run(
        [str(REPLAYCHECK), "run", str(folder)], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert "the page crashed (its renderer process died) opening chrome://crash" in run.stdout
    assert "PASS b_after [builtin]" in run.stdout and "1 passed, 1 failed" in run.stdout
    assert run.stderr == ""


def test_a_worker_starts_a_new_browser_when_its_browser_is_gone(worker: Worker) -> None:
    worker.browser.close()  # as if it had crashed: disconnected
    result = worker.run(load_scenario(E2E / "plain.yaml"), "builtin", None)
    assert result.passed, result.failures
    assert worker.browser.is_connected()
