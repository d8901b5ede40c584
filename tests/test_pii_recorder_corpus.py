"""The recorder's PII detector (recorder/src/record/pii.ts, the built harness/js/dist/pii.js) in
Chromium on the generated corpus (tests/pii_corpus.py, issue 12): every case in running text,
per-family recall at least 97%, no check-broken IBAN and no look-alike found in any of the
corpus's look-alike regions. National phone numbers are looked for in their own region
(`setRegion`, the recorder's `piiRegion`). Prints the table (pytest -s).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from typing import Any

import pytest
from playwright.sync_api import Page

from harness.adapters.base import read_bundle
from harness.worker import Worker
from tests.pii_corpus import LOOKALIKE_REGIONS, MUST_NOT_FIND, corpus, lookalikes

# The recorder's families (issue 12): national ids are the harness's alone.
RECALL_FAMILIES = ("phone_international", "phone_national", "iban", "card", "ssn")
MIN_RECALL = 0.97
# A page's text around the value: the value must be found as a whole inside it.
SENTENCE = "Contact: {}, thanks."
# RFC 2606/6761 example addresses: the recorder masks them still, as tests/test_record.py and
# the masking corpus use example.org addresses as the PII to mask (an open conflict, see below).
RESERVED_EMAIL = "@"

FIND_ALL = """([cases, sentence]) => cases.map(([text, region]) => {
    __pii.setRegion(region);
    const page = sentence.replace("{}", text), at = page.indexOf(text);
    return __pii.findPii(page).some((s) => s.start <= at && s.end >= at + text.length);
})"""
FIND_ANY = """([texts, region, sentence]) => {
    __pii.setRegion(region);
    return texts.map((t) => __pii.findPii(sentence.replace("{}", t)).map((s) => s.kind));
}"""


@pytest.fixture(scope="module")
def page(worker: Worker) -> Iterator[Page]:
    context = worker.browser.new_context()
    page = context.new_page()
    page.evaluate(read_bundle("pii.js"))  # recorder/src/record/pii.ts alone, built by build.mjs
    yield page
    context.close()


@cache
def _results(page_id: int, page: Page) -> dict[str, list[tuple[str, bool]]]:
    out: dict[str, list[tuple[str, bool]]] = {}
    for family, cases in corpus().items():
        # Regions only matter to national formats; the others are read with the default (US).
        args: list[Any] = [[[c.text, c.region or "US"] for c in cases], SENTENCE]
        found: list[bool] = page.evaluate(FIND_ALL, args)
        out[family] = [(f"{c.note}: {c.text!r}", hit) for c, hit in zip(cases, found, strict=True)]
    return out


def _false_positives(page: Page) -> list[str]:
    out: list[str] = []
    texts = lookalikes()
    for region in LOOKALIKE_REGIONS:
        kinds: list[list[str]] = page.evaluate(FIND_ANY, [texts, region, SENTENCE])
        out += [f"{region} {t!r}: {k}" for t, k in zip(texts, kinds, strict=True) if k]
    return out


def test_recall_per_family_and_table(page: Page) -> None:
    results = _results(id(page), page)
    fps = _false_positives(page)
    print("\nrecorder pii.ts on tests/pii_corpus.py (found / total):")
    for family, rows in results.items():
        found = sum(hit for _, hit in rows)
        goal = "none" if family in MUST_NOT_FIND else ">=97%" if family in RECALL_FAMILIES else "-"
        print(f"  {family:20} {found:4} / {len(rows):4}  {100 * found / len(rows):5.1f}%  {goal}")
    emails = [line for line in fps if RESERVED_EMAIL in line.split(":")[0]]
    print(f"  look-alikes x {len(LOOKALIKE_REGIONS)} regions: {len(fps) - len(emails)} found,")
    print(f"    and {len(emails)} reserved example emails (masked on purpose, see below)")
    for line in fps:
        if line not in emails:
            print(f"    {line}")
    for family in RECALL_FAMILIES:
        rows = results[family]
        missed = [what for what, hit in rows if not hit]
        assert len(rows) - len(missed) >= MIN_RECALL * len(rows), (family, missed)


def test_no_check_broken_iban(page: Page) -> None:
    results = _results(id(page), page)
    for family in MUST_NOT_FIND:
        assert [what for what, hit in results[family] if hit] == []


def test_no_lookalike_but_reserved_emails(page: Page) -> None:
    fps = [line for line in _false_positives(page) if RESERVED_EMAIL not in line.split(":")[0]]
    assert fps == []


@pytest.mark.xfail(
    strict=True,
    reason="the recorder still masks RFC 2606/6761 example addresses: tests/test_record.py and"
    " scenarios/pages/masking use example.org addresses as PII to mask",
)
def test_no_reserved_email(page: Page) -> None:
    assert [line for line in _false_positives(page) if RESERVED_EMAIL in line] == []
