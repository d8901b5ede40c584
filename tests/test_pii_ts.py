"""The recorder's PII detector (recorder/src/record/pii.ts) in Chromium, against the harness's.

The two are separate implementations on purpose (the harness grades the recorder with its own):
the harness's is libphonenumber and python-stdnum, the recorder's compact rules generated from
them (recorder/tools/pii_tables.py). What must hold is that the recorder masks whatever the
harness calls PII, in every family the recorder detects: each harness span lies inside a
recorder span (the recorder may mask a little more, e.g. a 555 number, an unassigned US area
code, but never a look-alike: tests/test_pii_recorder_corpus.py). National ids (CPF, DNI,
codice fiscale) are the harness's alone.
"""

from __future__ import annotations

import inspect
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import phonenumbers
import pytest
from playwright.sync_api import Page

from harness import pii
from harness.adapters.base import read_bundle
from harness.worker import Worker
from tests import test_pii

ROOT = Path(__file__).resolve().parent.parent
PII_TS = ROOT / "recorder" / "src" / "record" / "pii.ts"
MASKING_PAGES = ROOT / "scenarios" / "pages" / "masking"

Span = tuple[str, int, int]


def _python_cases() -> list[str]:
    """Every string of tests/test_pii.py: its parametrize lists and its literal texts."""
    found: list[str] = []
    for _, test in inspect.getmembers(test_pii, inspect.isfunction):
        for mark in getattr(test, "pytestmark", []):
            if mark.name != "parametrize":
                continue
            for case in mark.args[1]:
                found.append(case[0] if isinstance(case, tuple) else case)
    # Texts written inside test bodies (e.g. the several-matches case).
    found.append("Jane <jane@acme-mail.com>, card 4111 1111 1111 1111, phone +33 6 12 34 56 78.")
    return found


# Boundaries where a port could drift: Unicode word characters (Python's \w and \b are Unicode),
# astral characters (JS offsets are UTF-16), overlaps between families, many per text.
EDGE_CASES = [
    "",
    "no digits here at all",
    "éjane@acme-mail.com",  # a letter before: not an email start in Python
    "jane@example.comé",
    "_jane@acme-mail.com",
    "x.jane@acme-mail.com",
    "mail: jane.doe@acme-mail.com, bob@mail.example.org; eve@x.io",
    "😀 jane@acme-mail.com 😀 4111 1111 1111 1111",
    "\U0001d4004111111111111111",  # an astral letter (mathematical bold A) before the digits
    "tel:+33612345678",
    "+33 6 12 34 56 78 and 06 12 34 56 78",
    "a+33 6 12 34 56 78",
    "+33 6 12 34 56 78-9",
    "x(555) 123-4567",
    "555-123-4567 555.123.4567 555-123.4567",
    "ssn: 123-45-6789, 666-12-3456, 900-12-3456, 123-00-6789, 123-45-0000",
    "1123-45-6789",
    "card=4111111111111111&next=1",
    "41111111111111111111",  # 20 digits
    "4111 1111 1111 1111 1111",
    "4012888888881881 5555555555554444 378282246310005 6011111111111117",
    "3530111333300000 30569309025904 2223003122003222",
    "4222222222222",  # 13-digit Visa
    "DE89370400440532013000",
    "DE89 3704 0044 0532 0130 00 EUR",
    "FR14 2004 1010 0505 0001 3M02 606",
    "de89 3704 0044 0532 0130 00",
    "order 2024-05-17 at 10:00, total $1,234.56, build 1.2.3.4567",
    "Contact: jane.doe@acme-mail.com",
    "data-email=jane.doe%40acme-mail.com",
    "?email=jane.doe@acme-mail.com#card=4111-1111-1111-1111",
    'content: "4111 1111 1111 1111"',
    "Ada Lovelace, 123-45-6789, DE89 3704 0044 0532 0130 00, (555) 123-4567",
    # Look-alikes and misses of earlier versions, and IBAN candidates the checks trim or skip.
    "Invoice INV-555-123-4567",
    "Hash 4111111111111111a",
    "tok_4111111111111111 4111111111111111_",
    "tel:+33612345678, +1234567, +123456789012345678",
    "v1.555.123.4567 x-555.123.4567",
    "DE89370400440532013000 EUR DE89370400440532013000PAID",
    "ref AB12 DE89 3704 0044 0532 0130 00 GB82 WEST 1234 5698 7654 32 BIC COBADEFFXXX",
    "iban: gb82west12345698765432; De89 3704 0044 0532 0130 00",
    "FR8620041010050500013M0260 ZZ22370400440532013000",
    "Order 4000 0012 3456 7899",
    "IBAN DE89 3704 0044 0532 0130 00 BIC COBADEFFXXX",
    "USPS 9400 1000 0000 0000 0000 00",
    "UUID 123e4567-e89b-12d3-a456-426614174000",
]


# Real values and fragments, glued at random and then nudged (a character dropped, added or
# swapped): near-misses of every family's boundaries and checks.
FUZZ_VALUES = [
    "jane.doe@acme-mail.com",
    "4111 1111 1111 1111",
    "4111-1111-1111-1111",
    "3782 822463 10005",
    "+33 6 12 34 56 78",
    "+1 (555) 123-4567",
    "(555) 123-4567",
    "555.123.4567",
    "06 12 34 56 78",
    "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432",
    "gb82 west 1234 5698 7654 32",
    "+33612345678",
    "123-45-6789",
]
FUZZ_PIECES = [
    *"0123456789",
    *" -.+()@_#/:xZé",
    "\U0001d400",
    "😀",
    "ab",
    "2024-05-17",
    " EUR",
    "INV-",
]


def _fuzz_texts(count: int, seed: int = 1815) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = rng.choices(FUZZ_VALUES, k=rng.randint(1, 2))
        parts += rng.choices(FUZZ_PIECES, k=rng.randint(0, 4))
        rng.shuffle(parts)
        chars = list("".join(parts))
        for _ in range(rng.randint(0, 2)):
            at = rng.randrange(len(chars))
            match rng.randrange(3):
                case 0:
                    del chars[at]
                case 1:
                    chars.insert(at, rng.choice(FUZZ_PIECES))
                case _:
                    chars[at] = rng.choice("0123456789 -.")
        texts.append("".join(chars))
    return texts


def _utf16_to_index(text: str, offset: int) -> int:
    return len(text.encode("utf-16-le")[: 2 * offset].decode("utf-16-le"))


@pytest.fixture(scope="module")
def pii_js() -> str:
    return read_bundle("pii.js")  # recorder/src/record/pii.ts alone, built by build.mjs


@pytest.fixture(scope="module")
def page(worker: Worker, pii_js: str) -> Iterator[Page]:
    context = worker.browser.new_context()
    page = context.new_page()
    page.evaluate(pii_js)
    yield page
    context.close()


def ts_find(page: Page, texts: list[str]) -> list[list[Span]]:
    raw: list[list[dict[str, Any]]] = page.evaluate(
        "texts => texts.map((t) => __pii.findPii(t))", texts
    )
    return [
        [
            (s["kind"], _utf16_to_index(text, s["start"]), _utf16_to_index(text, s["end"]))
            for s in spans
        ]
        for text, spans in zip(texts, raw, strict=True)
    ]


def py_find(text: str) -> list[Span]:
    return [(m.kind, m.start, m.end) for m in pii.find(text)]


RECORDER_KINDS = frozenset({"email", "card", "phone", "iban", "ssn"})


def uncovered(text: str, ts: list[Span]) -> list[Span]:
    """The harness's spans in `text` (of the recorder's families) no recorder span covers."""
    return [
        (kind, start, end)
        for kind, start, end in py_find(text)
        if kind in RECORDER_KINDS and not any(s <= start and end <= e for _, s, e in ts)
    ]


def test_python_cases_are_read() -> None:
    cases = _python_cases()
    # Positives and look-alikes both: a refactor of test_pii.py must not empty the parity test.
    assert sum(bool(pii.find(t)) for t in cases) >= 15
    assert sum(not pii.find(t) for t in cases) >= 20


CASES: dict[str, Callable[[], list[str]]] = {
    "test_pii.py": _python_cases,
    "edge cases": lambda: EDGE_CASES,
    "fuzz": lambda: _fuzz_texts(3000),  # about a third of them hold PII
}


# Share of texts holding harness-found PII whose every span the recorder must cover: all of the
# written cases; of the fuzz (fragments glued together at random, e.g. "abZ06 12 34 56 78:+336..."),
# 95.7% measured when the harness moved to libphonenumber: the misses are glued boundaries the
# recorder's compact rules read differently, a floor against regressions until they are fixed.
COVERED = {"test_pii.py": 1.0, "edge cases": 1.0, "fuzz": 0.95}


@pytest.mark.parametrize("group", list(CASES))
def test_the_recorder_masks_what_the_harness_finds(page: Page, group: str) -> None:
    texts = CASES[group]()
    got = ts_find(page, texts)
    holding = [
        (text, ts)
        for text, ts in zip(texts, got, strict=True)
        if any(kind in RECORDER_KINDS for kind, _, _ in py_find(text))
    ]
    missed = [
        f"{text!r}: ts {ts}, py {py_find(text)}" for text, ts in holding if uncovered(text, ts)
    ]
    assert holding
    share = 1 - len(missed) / len(holding)
    assert share >= COVERED[group], f"{share:.1%} covered:\n" + "\n".join(missed[:20])


def test_mask_replaces_each_span(page: Page) -> None:
    text = "Ada <jane.doe@acme-mail.com> paid with 4111 1111 1111 1111 (ref 2024-05-17)."
    masked = page.evaluate("t => __pii.maskPii(t, (s) => s.replace(/\\S/g, '*'))", text)
    assert masked == "Ada <**********************> paid with **** **** **** **** (ref 2024-05-17)."
    assert page.evaluate("t => __pii.maskPii(t, () => '[x]')", "plain text") == "plain text"


def test_never_throws(page: Page) -> None:
    results = page.evaluate(
        """() => [
            __pii.findPii(null).length,
            __pii.findPii(undefined).length,
            __pii.findPii(42).length,
            __pii.maskPii(null, (s) => s),
            __pii.maskPii("mail jane@acme-mail.com", () => { throw new Error("boom"); }),
        ]"""
    )
    # A mask that throws fails closed: everything visible is starred.
    assert results == [0, 0, 0, None, "**** ******************"]


def test_ten_thousand_plain_strings(page: Page) -> None:
    found = page.evaluate(
        """() => {
            const words = ["Settings", "Your order has shipped", "Total", "Add to cart",
                           "page 3 of 12", "v1.2.3", "2024-05-17", "$1,234.56", "ORD-2024-000123"];
            let spans = 0;
            for (let i = 0; i < 10000; i++) {
                spans += __pii.findPii(words[i % words.length] + " " + i).length;
            }
            return spans;
        }"""
    )
    assert found == 0


# Every text node, attribute value and frame URL of a page, through shadow roots and frames.
COLLECT = """() => {
    const out = [location.href];
    const walk = (root) => {
        for (const node of root.childNodes) {
            if (node.nodeType === 3 || node.nodeType === 8) out.push(node.data);
            if (node.nodeType !== 1) continue;
            for (const attr of node.attributes) out.push(attr.value);
            if (node.shadowRoot) walk(node.shadowRoot);
            if (node.tagName === "IFRAME" && node.contentDocument) {
                out.push(node.contentDocument.location.href);
                walk(node.contentDocument);
            }
            walk(node);
        }
    };
    walk(document);
    return out;
}"""


@pytest.mark.parametrize("name", sorted(p.name for p in MASKING_PAGES.glob("*.html")))
def test_the_recorder_masks_what_the_harness_finds_on_the_masking_pages(
    worker: Worker, pii_js: str, name: str
) -> None:
    """The bundled masking pages, as loaded: every string the harness finds PII in is masked."""
    context = worker.browser.new_context()
    try:
        page = context.new_page()
        page.goto(worker.server.mount(MASKING_PAGES) + name, wait_until="load")
        page.evaluate(pii_js)
        texts: list[str] = page.evaluate(COLLECT)
        got = ts_find(page, texts)
    finally:
        context.close()
    missed = [
        f"{text!r}: ts {ts}, py {py_find(text)}"
        for text, ts in zip(texts, got, strict=True)
        if uncovered(text, ts)
    ]
    assert not missed, "\n".join(missed)
    if name == "lookalikes.html":
        assert not [t for t, spans in zip(texts, got, strict=True) if spans]
    else:
        assert any(got), f"{name} is a masking page with no PII either detector finds"


def test_warming_compiles_a_family_a_call_and_finds_the_same(worker: Worker, pii_js: str) -> None:
    """warmPii: the recorder's first snapshot compiles the patterns a task each, not in one
    slice; detection is the same whether it ran fully, partly or not at all."""
    text = "Jane <jane@acme-mail.com>, card 4111 1111 1111 1111, phone +33 6 12 34 56 78."
    context = worker.browser.new_context()
    try:
        page = context.new_page()
        page.evaluate(pii_js)
        warmed = page.evaluate(
            """(text) => {
              const calls = [__pii.warmPii(), __pii.warmPii()];  // two families of five
              const partly = __pii.findPii(text);  // compiles the rest
              calls.push(__pii.warmPii());
              return { calls, partly, all: __pii.findPii(text) };
            }""",
            text,
        )
    finally:
        context.close()
    assert warmed["calls"] == [False, False, True]
    assert warmed["partly"] == warmed["all"]
    assert [s["kind"] for s in warmed["all"]] == [k for k, _, _ in py_find(text)]


def test_a_short_national_number_is_found_where_the_region_has_them(page: Page) -> None:
    """findPii skips the card, SSN and phone patterns for a text with fewer digits than the
    region's shortest national number (E.164: 8): every libphonenumber example number of a
    region whose numbers are shorter than 8 digits is still found in national form there."""
    cases = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in (phonenumbers.PhoneNumberType.FIXED_LINE, phonenumbers.PhoneNumberType.MOBILE):
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            text = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.NATIONAL)
            if sum(c.isdigit() for c in text) < 8:
                cases.append((region, text))
    assert len(cases) > 50
    try:
        found = page.evaluate(
            "cases => cases.map(([r, t]) => (__pii.setRegion(r), __pii.findPii(t).length))",
            cases,
        )
    finally:
        page.evaluate("__pii.setRegion()")
    missed = [case for case, n in zip(cases, found, strict=True) if not n]
    # The detector's own limits, the same without the digit gate: New Caledonia's dd.dd.dd
    # reads as a date; in a region with a national prefix (Kiribati's 0), 5 digits written
    # without it read as a code.
    assert missed == [("KI", "31234"), ("NC", "20.12.34"), ("NC", "75.12.34")]
