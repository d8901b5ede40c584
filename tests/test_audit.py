"""`replaycheck audit` in real Chromium: rrweb's defaults leak the PII a page shows."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from harness.audit import audit, audit_scenario, fix_for
from harness.cli import main
from harness.masking import Leak
from harness.scenario import PageRef, RecorderConfig
from harness.worker import Worker
from tests.conftest import FIXTURES, REPLAYCHECK

LEAKY = FIXTURES / "audit" / "leaky.html"


def test_rrweb_defaults_leak_page_pii_and_a_hidden_input(worker: Worker) -> None:
    result = audit(worker.browser, worker.server, audit_scenario(str(LEAKY), None), "rrweb")
    leaked = {leak.value: leak for leak in result.leaks}
    assert set(leaked) == {
        "jane@acme-mail.com",
        "4111 1111 1111 1111",
        "+33 6 12 34 56 78",
        "sk_live_51HxSecretToken",
    }
    assert leaked["4111 1111 1111 1111"].source == "html > body > p.card text"
    assert leaked["sk_live_51HxSecretToken"].kind == "input"
    # The email is in the title, an alt text and (URL-encoded) a link: every place is listed.
    assert len([leak for leak in result.leaks if leak.value == "jane@acme-mail.com"]) >= 3
    # "Jane Doe" was typed data in a text input: rrweb masks that one.
    assert "Jane Doe" not in leaked
    assert result.coverage == pytest.approx(1 / 5)


def test_steps_and_options_come_from_a_scenario(worker: Worker) -> None:
    scenario = audit_scenario(str(LEAKY), FIXTURES / "audit" / "steps.yaml")
    assert scenario.page == PageRef(LEAKY.resolve())
    result = audit(worker.browser, worker.server, scenario, "rrweb")
    # With mask_all_inputs off, the typed name is not a secret any more ...
    assert "Ada Lovelace" not in {s.value for s in result.secrets}
    # ... but page PII still is.
    assert "4111 1111 1111 1111" in {leak.value for leak in result.leaks}


def test_cli_reports_leaks_with_fixes_and_writes_json(tmp_path: Path) -> None:
    out = tmp_path / "audit.json"
    # Its own process: this one already runs a Playwright instance.
    run = subprocess.run(
        [str(REPLAYCHECK), "audit", str(LEAKY), "--recorder", "rrweb", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stderr
    text = run.stdout
    assert "LEAK card '4111 1111 1111 1111'" in text
    assert "fix    add 'p.card' to recorder.mask" in text
    data = json.loads(out.read_text())["audit"]
    assert data["recorder"] == "rrweb" and data["secrets"] == 5
    assert {leak["kind"] for leak in data["leaks"]} == {"email", "card", "phone", "input"}


def test_a_missing_page_is_bad_input(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", str(tmp_path / "nope.html")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nope.html" in err


@pytest.mark.parametrize(
    ("kind", "source", "fix"),
    [
        ("blocked", "main > div.ad text", "records content under recorder.block"),
        ("email", "window error 1", "keep PII out of error messages"),
        ("card", "html > head > style#theme css", "keep PII out of CSS text"),
        ("masked", "main > div.pii text", "add 'div.pii' to recorder.mask"),
    ],
)
def test_the_fix_names_what_to_change(kind: str, source: str, fix: str) -> None:
    leak = Leak("x", kind, "event 1, data", source)
    assert fix in fix_for(leak, RecorderConfig(mask=(".pii",), block=(".ad",)))


def test_audit_under_strict_finds_what_a_recorder_leaves_readable(worker: Worker) -> None:
    strict = audit_scenario(str(FIXTURES / "audit" / "strict.html"), None, privacy="strict")
    assert strict.recorder.strict and strict.recorder.mask_all_text
    builtin = audit(worker.browser, worker.server, strict, "builtin")
    assert builtin.leaks == []  # every text starred, the image a placeholder
    rrweb = audit(worker.browser, worker.server, strict, "rrweb")
    fixes = {leak.value: fix_for(leak, strict.recorder) for leak in rrweb.leaks}
    css = "keep personal text out of CSS content: strings (this recorder records CSS text)"
    assert fixes == {
        "Jane Roe": css,
        "Call Jane Roe": "add 'button' (or a selector for that one) to recorder.block",
        "Your name, Jane": "add 'input' (or a selector for that one) to recorder.block",
    }
