"""The harness's PII detector (harness/pii.py) on the generated corpus (tests/pii_corpus.py):
recall per family and false positives, with the thresholds of issue 12's "Done when", and the
reserved-example-address case through `replaycheck audit` in real Chromium.

Run with -s to see the table: .venv/bin/pytest tests/test_pii_corpus.py -q -s
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers
import pytest

from harness import pii
from tests import pii_corpus
from tests.conftest import REPLAYCHECK
from tests.pii_corpus import LOOKALIKE_REGIONS, Case, corpus, lookalikes, text_with

# A detector as the table reads it: (text, region) -> [(kind, start, end)].
Detector = Callable[[str, str | None], Sequence[tuple[str, int, int]]]
KIND = {
    "phone_international": "phone",
    "phone_national": "phone",
    "iban": "iban",
    "card": "card",
    "ssn": "ssn",
    "national_id": "national_id",
}
# Issue 12, "Done when", for the harness detector: share of each family found.
THRESHOLDS = {
    "phone_international": 0.99,
    "phone_national": 0.95,
    "iban": 1.0,
    "card": 1.0,
    "ssn": 1.0,
    "national_id": 1.0,
}


@dataclass
class Row:
    family: str
    found: int = 0
    total: int = 0
    missed: list[str] = field(default_factory=list)  # notes and texts, for the failure message

    @property
    def recall(self) -> float:
        return self.found / self.total if self.total else 1.0


def harness_detector(text: str, region: str | None) -> list[tuple[str, int, int]]:
    return [(m.kind, m.start, m.end) for m in pii.find(text, region)]


def _hit(case: Case, detector: Detector) -> bool:
    """Whether the case's value, in a sentence, is found as its family (a broken IBAN: whether
    anything is found in it)."""
    text = text_with(case.text)
    start = text.index(case.text)
    end = start + len(case.text)
    spans = detector(text, case.region)
    if case.family in pii_corpus.MUST_NOT_FIND:
        return any(s < end and start < e for _, s, e in spans)
    return any(kind == KIND[case.family] and s <= start and e >= end for kind, s, e in spans)


def measure(detector: Detector) -> tuple[list[Row], list[str]]:
    """Per family found/total (for iban_broken: how many fired, target 0) and every false
    positive on the look-alikes (in each of LOOKALIKE_REGIONS)."""
    rows: list[Row] = []
    for family, cases in corpus().items():
        row = Row(family, total=len(cases))
        for case in cases:
            hit = _hit(case, detector)
            row.found += hit
            if hit == (family in pii_corpus.MUST_NOT_FIND):
                row.missed.append(f"{case.note}: {case.text!r}")
        rows.append(row)
    false = [
        f"{region}: {text!r} -> {text_with(text)[s:e]!r} ({kind})"
        for text in lookalikes()
        for region in LOOKALIKE_REGIONS
        for kind, s, e in detector(text_with(text), region)
    ]
    return rows, false


def table(rows: list[Row], false: list[str], name: str = "harness") -> str:
    lines = [f"{'family':<20} {name + ' found/total':>22}"]
    for row in rows:
        label = "fired/total (0)" if row.family in pii_corpus.MUST_NOT_FIND else ""
        lines.append(f"{row.family:<20} {row.found:>10} / {row.total:<5} {row.recall:7.1%} {label}")
    count = len(lookalikes())
    lines.append(
        f"{'look-alikes':<20} {len(false):>10} false positives"
        f" ({count} strings x {len(LOOKALIKE_REGIONS)} regions)"
    )
    return "\n".join(lines)


@pytest.fixture(scope="module")
def measured() -> tuple[list[Row], list[str]]:
    rows, false = measure(harness_detector)
    print("\n" + table(rows, false))
    return rows, false


@pytest.mark.parametrize("family", sorted(THRESHOLDS))
def test_recall_per_family(measured: tuple[list[Row], list[str]], family: str) -> None:
    [row] = [r for r in measured[0] if r.family == family]
    assert row.total > 0
    assert row.recall >= THRESHOLDS[family], f"{row.found}/{row.total}, missed: {row.missed}"


def test_broken_ibans_fire_nothing(measured: tuple[list[Row], list[str]]) -> None:
    [row] = [r for r in measured[0] if r.family == "iban_broken"]
    assert row.total > 0 and row.found == 0, row.missed


def test_no_false_positive_on_the_look_alikes(measured: tuple[list[Row], list[str]]) -> None:
    assert measured[1] == []


def test_the_measure_can_fail() -> None:
    """A detector that finds nothing scores 0 on every family, one that finds everything
    fires on every broken IBAN and look-alike: the thresholds above are not vacuous."""
    rows, false = measure(lambda text, region: [])
    assert all(row.found == 0 for row in rows) and false == []
    rows, false = measure(lambda text, region: [("phone", 0, len(text))])
    broken = [r for r in rows if r.family == "iban_broken"]
    assert broken[0].found == broken[0].total and len(false) == len(lookalikes()) * len(
        LOOKALIKE_REGIONS
    )


def test_the_corpus_covers_what_the_issue_lists() -> None:
    cases = corpus()
    assert corpus() == cases  # deterministic
    notes = {family: {c.note for c in found} for family, found in cases.items()}
    # Every phonenumbers region with an example number, in each format.
    regions = {n.split()[0] for n in notes["phone_international"]}
    with_examples = {
        r
        for r in phonenumbers.SUPPORTED_REGIONS
        if phonenumbers.example_number_for_type(r, phonenumbers.PhoneNumberType.FIXED_LINE)
        or phonenumbers.example_number_for_type(r, phonenumbers.PhoneNumberType.MOBILE)
    }
    assert regions == with_examples and len(regions) > 240
    assert all(c.region for c in cases["phone_national"])
    # Every IBAN country of stdnum's registry (the same 89 pii.IBAN_COUNTRIES lists), 3 forms.
    countries = {n.split()[0] for n in notes["iban"]}
    assert countries == set(pii.IBAN_LENGTHS) == {cc for cc, _ in pii_corpus.iban_countries()}
    for form in ("compact", "spaced", "dashed"):
        assert sum(form in n for n in notes["iban"]) == len(countries)
    networks = {n.rsplit(" ", 2)[0] for n in notes["card"]}
    assert networks == set(pii_corpus.NETWORKS)
    assert {n.split()[-1] for n in notes["ssn"]} == {"dashes", "spaces", "dots"}
    assert "you@example.com" in lookalikes()


def test_text_with_embeds_the_value() -> None:
    for value in ("+33 6 12 34 56 78", "DE89 3704 0044 0532 0130 00"):
        sentence = text_with(value)
        assert value in sentence and text_with(value) == sentence


CHECKOUT = """<!doctype html><html lang="{lang}"><head><title>Checkout</title></head>
<body><form class="checkout">
<label>Email <input type="email" name="email" placeholder="{placeholder}"></label>
<label>Phone <input type="tel" name="tel" placeholder="06 12 34 56 78"></label>
<button type="submit">Pay</button></form>
<p class="help">Questions? Call {phone}</p>
</body></html>"""


def _audit(tmp_path: Path, html: str, *args: str) -> tuple[int, str, dict[str, object]]:
    page = tmp_path / "checkout.html"
    page.write_text(html)
    out = tmp_path / "audit.json"
    # rrweb records attributes and text as they are: whatever the harness calls PII leaks.
    run = subprocess.run(
        [str(REPLAYCHECK), "audit", str(page), "--recorder", "rrweb", "--json", str(out), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode in (0, 1), run.stderr
    data: dict[str, object] = json.loads(out.read_text())["audit"]
    return run.returncode, run.stdout, data


def test_a_reserved_example_address_in_a_placeholder_is_no_leak(tmp_path: Path) -> None:
    html = CHECKOUT.format(lang="en", placeholder="you@example.com", phone="our help desk")
    code, text, data = _audit(tmp_path, html)
    assert code == 0, text
    assert "LEAK" not in text and data["leaks"] == [] and data["region"] == "US"
    # The same form with someone's address as its placeholder: that one is reported.
    html = CHECKOUT.format(lang="en", placeholder="jane.doe@acme-mail.com", phone="our help desk")
    code, text, data = _audit(tmp_path, html)
    assert code == 1 and "LEAK email 'jane.doe@acme-mail.com'" in text
    source = 'html > body > form.checkout > label:nth-of-type(1) > input[name="email"]'
    assert f"from   {source} attr:placeholder" in text
    families = data["families"]
    assert isinstance(families, dict) and families["email"]["held"] == 1
    assert families["email"]["leaks"][0]["value"] == "jane.doe@acme-mail.com"


def test_national_phone_formats_follow_html_lang_and_region(tmp_path: Path) -> None:
    html = CHECKOUT.format(lang="fr-FR", placeholder="vous@exemple.test", phone="01 23 45 67 89")
    code, text, data = _audit(tmp_path, html)
    # lang="fr-FR": French national numbers are phone numbers, in the text and the placeholder.
    assert code == 1 and data["region"] == "FR", text
    families = data["families"]
    assert isinstance(families, dict)
    phone = families["phone"]
    assert (phone["held"], phone["masked"]) == (2, 0)
    assert [(leak["value"], leak["source"]) for leak in phone["leaks"]] == [
        (
            "06 12 34 56 78",
            'html > body > form.checkout > label:nth-of-type(2) > input[name="tel"]'
            " attr:placeholder",
        ),
        ("01 23 45 67 89", "html > body > p.help text"),
    ]
    assert all(leak["where"].startswith("event ") for leak in phone["leaks"])
    assert "  phone           2 held,    0 masked, 2 leaked" in text
    # --region US: the same digits are no US number.
    code, text, data = _audit(tmp_path, html, "--region", "US")
    assert code == 0 and data["region"] == "US" and data["leaks"] == [], text


def test_run_json_states_per_family_what_the_page_held_and_where_it_leaked(
    tmp_path: Path,
) -> None:
    """recorder.pii_region: FR on a page whose <html lang> names no region: French national
    numbers are phone numbers; `run --json`'s masking section counts them per family."""
    html = CHECKOUT.format(lang="en", placeholder="you@example.com", phone="01 23 45 67 89")
    (tmp_path / "checkout.html").write_text(html)
    scenario = tmp_path / "region.yaml"
    scenario.write_text("name: region\npage: checkout.html\nrecorder:\n  pii_region: FR\n")
    out = tmp_path / "run.json"
    run = subprocess.run(
        [str(REPLAYCHECK), "run", str(scenario), "--recorder", "rrweb", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr  # a leak fails the run
    [result] = json.loads(out.read_text())["scenarios"]
    families = result["masking"]["families"]
    assert set(families) == {"phone"}  # the reserved placeholder address is no secret
    assert (families["phone"]["held"], families["phone"]["masked"]) == (2, 0)
    assert {leak["value"] for leak in families["phone"]["leaks"]} == {
        "06 12 34 56 78",
        "01 23 45 67 89",
    }
    assert "masking: phone '01 23 45 67 89' from html > body > p.help text" in run.stdout
