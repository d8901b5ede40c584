"""End to end in real Chromium with rrweb: the verifier passes a faithful replay, fails a wrong one,
and turns bad input into exit status 2 with one line naming file and line."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import playwright
import pytest

from harness import adapters, events
from harness.browser import system_chromium
from harness.cli import main
from harness.compare.pixel import load_png
from harness.drive import record
from harness.scenario import load_scenario
from harness.worker import Worker
from tests.conftest import FIXTURES, REPLAYCHECK

E2E = FIXTURES / "e2e"


def test_faithful_replay_passes(worker: Worker, tmp_path: Path) -> None:
    result = worker.run(load_scenario(E2E / "plain.yaml"), "rrweb", tmp_path)
    assert result.passed, result.failures
    assert [c.name for c in result.checkpoints] == ["before", "after"]
    for checkpoint in result.checkpoints:
        assert checkpoint.pixel_mismatch <= 0.001
        assert checkpoint.dom_similarity >= 0.99
    assert result.events["click"] == 1
    assert result.events["navigation"] == 1
    assert result.stream["events"] > 0 and 0 < result.stream["gzip_bytes"] < result.stream["bytes"]
    saved = json.loads((tmp_path / "plain" / "rrweb" / "stream.json").read_text())
    assert len(saved) == result.stream["events"]


def test_canvas_replay_fails_with_diff_where_the_canvas_is(worker: Worker, tmp_path: Path) -> None:
    scenario = load_scenario(E2E / "canvas.yaml")
    result = worker.run(scenario, "rrweb", tmp_path)
    assert not result.passed
    [checkpoint] = result.checkpoints
    assert checkpoint.pixel_mismatch > scenario.expect.pixel_mismatch_max
    assert any("pixel mismatch" in f for f in result.failures)
    assert checkpoint.diff_image is not None
    diff = load_png(checkpoint.diff_image)
    red = (diff[..., 0] == 255) & (diff[..., 1] == 0) & (diff[..., 2] == 0)
    # The heading and text above the canvas replay fine; the bars drawn inside it are missing.
    assert not red[:90].any()
    canvas = red[97:457, 33:673]
    assert canvas.mean() > 0.2
    assert canvas[300, 100]  # inside the first bar


def test_a_page_opened_with_a_query_and_fragment_is_checked_for_pii_in_it(
    worker: Worker, tmp_path: Path
) -> None:
    (tmp_path / "pages").mkdir()
    shutil.copy(E2E / "pages" / "plain.html", tmp_path / "pages" / "plain.html")
    query = "?tab=2&email=rosalind.franklin@acme-mail.org#billing"
    (tmp_path / "s.yaml").write_text(f"page: pages/plain.html{query}\n")
    scenario = load_scenario(tmp_path / "s.yaml")
    recording = record(worker.browser, worker.server, scenario, adapters.get("rrweb"))
    assert recording.checkpoints[0].url.endswith("/pages/plain.html" + query)
    # rrweb's meta event carries the page URL as it is: the verdict finds the email in it.
    result = worker.run(scenario, "rrweb", None)
    assert [(leak.value, leak.source) for leak in result.leaks] == [
        ("rosalind.franklin@acme-mail.org", "document url")
    ]
    assert worker.run(scenario, "builtin", None).passed


@pytest.mark.parametrize(
    ("page", "recorder"),
    [
        # Its docs: a canvas recorded with recordCanvas replays only with UNSAFE_replayCanvas.
        ("canvas.html", "recorder:\n  options: {recordCanvas: true}\n"),
        # Focus is replayed by default (triggerFocus): the focused field's ring is there.
        ("focus.html", "steps:\n  - click: '#name'\n"),
    ],
)
def test_rrweb_is_replayed_as_its_docs_say_a_faithful_replay_needs(
    worker: Worker, tmp_path: Path, page: str, recorder: str
) -> None:
    shutil.copytree(E2E / "pages", tmp_path / "pages")
    (tmp_path / "s.yaml").write_text(f"page: pages/{page}\n{recorder}")
    result = worker.run(load_scenario(tmp_path / "s.yaml"), "rrweb", None)
    assert result.passed, result.failures
    assert result.checkpoints[0].pixel_mismatch == 0


def _bad(tmp_path: Path, text: str, name: str = "bad.yaml") -> Path:
    (tmp_path / "pages").mkdir(exist_ok=True)
    shutil.copy(E2E / "pages" / "plain.html", tmp_path / "pages" / "plain.html")
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("page: pages/plain.html\nsteps:\n  - click: [unclosed\n", 4, "flow"),
        ("page: pages/plain.html\nsteps:\n  - wait: 10\n  - clik: '#go'\n", 4, "unknown step"),
        ("description: x\npage: pages/missing.html\n", 2, "not found"),
    ],
)
def test_bad_yaml_exits_2_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, line: int, words: str
) -> None:
    path = _bad(tmp_path, text)
    assert main(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert f"{path}:{line}:" in err
    assert words in err.lower()


def test_unreachable_url_exits_2_in_a_real_run(tmp_path: Path) -> None:
    # Port 9 (discard) on loopback: nothing listens there, the connection is refused at once.
    path = _bad(tmp_path, "url: http://127.0.0.1:9/\nsteps:\n  - checkpoint: start\n")
    run = subprocess.run(
        [str(REPLAYCHECK), "run", str(path)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert run.stderr.count("\n") == 1, run.stderr
    assert f"{path}:1:" in run.stderr and "cannot load" in run.stderr
    assert "Traceback" not in run.stderr


def test_cli_run_writes_spec_json_and_report(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    report_dir = tmp_path / "report"
    run = subprocess.run(
        [
            str(REPLAYCHECK),
            "run",
            str(E2E / "plain.yaml"),
            str(E2E / "canvas.yaml"),
            "--recorder",
            "rrweb",
            "--json",
            str(out),
            "--report",
            str(report_dir),
            "-n",
            "2",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 1, run.stdout + run.stderr  # canvas fails on purpose
    assert "1 passed, 1 failed" in run.stdout
    data = json.loads(out.read_text())
    assert data["version"] == 1
    assert data["summary"] == {"scenarios": 2, "passed": 1, "failed": 1, "known_failures": 0}
    [plain] = [s for s in data["scenarios"] if s["name"] == "plain"]
    assert set(plain) >= {
        "name",
        "file",
        "recorder",
        "passed",
        "failures",
        "checkpoints",
        "masking",
        "events",
        "stream",
        "duration_s",
    }
    assert set(plain["checkpoints"][0]) >= {
        "name",
        "pixel_mismatch",
        "dom_similarity",
        "masked_area",
        "diff_image",
    }
    assert Path(plain["checkpoints"][0]["diff_image"]).exists()
    assert (report_dir / "index.html").exists()
    assert (report_dir / "plain" / "rrweb" / "after.live.png").exists()


def test_pytest_collects_scenarios_and_runs_them_in_parallel(tmp_path: Path) -> None:
    shutil.copytree(E2E / "pages", tmp_path / "pages")
    for name in ("one", "two"):
        shutil.copy(E2E / "plain.yaml", tmp_path / f"{name}.yaml")
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "2 passed" in run.stdout


LAUNCH_SERVER = """
const { chromium } = require(process.argv[1]);
chromium.launchServer({ executablePath: process.argv[2], args: ["--no-sandbox"] })
  .then((server) => console.log(server.wsEndpoint()));
"""


def test_runs_against_a_remote_browser_endpoint() -> None:
    # A Playwright browser server, as a team would run one beside its CI.
    driver = Path(playwright.__file__).parent / "driver"
    chromium = system_chromium()
    assert chromium is not None
    server = subprocess.Popen(
        [str(driver / "node"), "-e", LAUNCH_SERVER, str(driver / "package"), str(chromium)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        endpoint = server.stdout.readline().strip()
        assert endpoint.startswith("ws://")
        run = subprocess.run(
            [str(REPLAYCHECK), "run", str(E2E / "plain.yaml"), "--browser-endpoint", endpoint],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stdout + run.stderr
        assert "PASS plain [builtin]" in run.stdout
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_script_tag_injection_records_like_the_init_script(worker: Worker) -> None:
    scenario = load_scenario(E2E / "plain.yaml")
    adapter = adapters.get("rrweb")
    by_tag = record(worker.browser, worker.server, scenario, adapter, inject="script-tag")
    counts = events.count(adapter.interactions(by_tag.stream))
    assert counts["click"] == 1 and counts["navigation"] == 1
    full_snapshots = [e for e in by_tag.stream.events if e["type"] == 2]
    assert len(full_snapshots) == 1
    # The recorder's own script tag is part of the page it records, nothing else differs.
    assert "recorder-" in json.dumps(full_snapshots[0])


def test_builtin_by_script_tag_is_a_loader_that_starts_after_the_load_event(
    worker: Worker,
) -> None:
    scenario = load_scenario(E2E / "plain.yaml")
    adapter = adapters.get("builtin")
    by_tag = record(worker.browser, worker.server, scenario, adapter, inject="script-tag")
    counts = events.count(adapter.interactions(by_tag.stream))
    assert counts["click"] == 1 and counts["navigation"] == 1
    # The first snapshot already holds the script element the loader adds after the load event:
    # the head has the loader's tag first, the page's own children, then the recorder's.
    snapshot = next(e for e in by_tag.stream.events if e[0] == 1)
    html = snapshot[2][2][1]
    head = [n[2] for n in html[4][0][4] if n[0] == 2]
    assert head == ["script", "meta", "title", "style", "script"]


def test_a_known_failure_is_reported_as_such_and_an_unexpected_pass_fails(
    worker: Worker, tmp_path: Path
) -> None:
    bundled = Path(__file__).parents[1] / "scenarios" / "canvas.yaml"
    canvas = worker.run(load_scenario(bundled), "rrweb", None)
    assert canvas.passed and canvas.known_failure is not None
    assert any("pixel mismatch" in f for f in canvas.failures)

    shutil.copytree(E2E / "pages", tmp_path / "pages")
    plain = (E2E / "plain.yaml").read_text() + "known_failures: {rrweb: 'said to fail'}\n"
    (tmp_path / "plain.yaml").write_text(plain)
    result = worker.run(load_scenario(tmp_path / "plain.yaml"), "rrweb", None)
    assert not result.passed
    assert result.failures == [
        "known failure did not happen (said to fail): remove rrweb from known_failures"
    ]
