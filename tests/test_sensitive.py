"""What the harness finds on a live page (harness/js/src/sensitive.ts, the password watcher, page
errors), recorded in real Chromium: the secrets a recorder must keep out of its stream."""

from __future__ import annotations

from harness import adapters, masking
from harness.drive import record
from harness.scenario import load_scenario
from harness.worker import Worker
from tests.conftest import FIXTURES

SCENARIO = FIXTURES / "sensitive" / "sensitive.yaml"


def test_every_source_of_secrets_on_a_live_page(worker: Worker) -> None:
    scenario = load_scenario(SCENARIO)
    recording = record(worker.browser, worker.server, scenario, adapters.get("builtin"))
    content = [item for capture in recording.checkpoints for item in capture.sensitive]
    content += masking.page_errors(recording.page_errors)
    found = {s.value: (s.kind, s.source) for s in masking.secrets(content, (), scenario.recorder)}
    assert {value: kind for value, (kind, _) in found.items()} == {
        "Adviser notes: call after nine": "masked",
        "Offer for Lord Byron": "blocked",
        "PROMO-1815": "blocked",
        "4111 1111 1111 1111": "card",
        "DE89 3704 0044 0532 0130 00": "iban",
        "+44 20 7946 0958": "phone",
        "123-45-6789": "ssn",
        "jane@acme-mail.com": "email",
        "+33612345678": "phone",
        # Shown as text fields at the checkpoint: typed, unmasked, set by script, in a shadow root.
        "Difference Engine": "password",
        "Analytical": "password",
        "sk-by-script-1815": "password",
        "0417": "password",
        "737": "input",
        "2": "input",
        "ada.lovelace@acme-mail.org": "email",
    }
    assert found["4111 1111 1111 1111"][1] == "html > head > style:nth-of-type(1) css"
    assert found["+44 20 7946 0958"][1] == "html > head > style#runtime css"
    assert found["123-45-6789"][1] == "document adoptedStyleSheets css"
    assert found["0417"][1] == "html > body > secret-box#box >>> > label > input#pin value"
    assert found["ada.lovelace@acme-mail.org"][1] == "window error 1"
