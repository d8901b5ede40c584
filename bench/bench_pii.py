"""Time both PII detectors, the harness's (harness/pii.py) and the recorder's in-page one
(recorder/src/record/pii.ts, in Chromium), and count their false positives on pages with no PII.

Timing: a realistic mix of 10,000 text-node strings: mostly plain words, 5% with digits (prices,
dates, counts, versions), 1% holding PII. Each run calls the detector on all of them; median of 5
runs after 3 warm-up runs.

False positives: every string the harness's live-page scan reads (text, attribute values, CSS,
form values, the URL; through shadow roots and frames) on every bundled page that holds no PII:
the pages of scenarios/pages and the masking corpus's look-alikes page. Target: 0.

Run: .venv/bin/python bench/bench_pii.py
"""

from __future__ import annotations

import gzip
import statistics
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, sync_playwright

from harness import pii
from harness.adapters.base import read_bundle
from harness.browser import launch
from harness.capture import PageWorld, ensure_harness
from harness.server import Server

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "scenarios" / "pages"
# Every bundled page but the masking corpus's, which hold PII on purpose; its look-alikes page
# holds none.
NON_PII_PAGES = [
    *sorted(p for p in PAGES.rglob("*.html") if p.parent != PAGES / "masking"),
    PAGES / "masking" / "lookalikes.html",
]
RECORD_JS = ROOT / "recorder" / "dist" / "record.js"
BUNDLE_BUDGET = 12_288  # gzipped bytes of the record bundle (issue 12)
INSIGHTS_JS = ROOT / "recorder" / "dist" / "insights.js"  # its plugin: console, requests, clicks
INSIGHTS_BUDGET = 1_536
NODES = 10_000
RUNS = 5
WARMUP = 3

# Short UI strings, as most text nodes are.
WORDS_TEXT = (
    "the order account settings profile search results cart checkout shipping delivery "
    "address payment summary welcome back continue cancel save changes help contact us "
    "privacy terms product details reviews rating description features more less menu home"
)
WORDS = WORDS_TEXT.split()
WITH_DIGITS = [
    "Total: $1,234.56",
    "Updated 2024-05-17 10:00",
    "3 items in your cart",
    "Version 10.0.19041.1",
    "Order ORD-2024-000123",
    "Page 4 of 12",
    "Save 20% today",
    "ISBN 978-3-16-148410-0",
]
WITH_PII = [
    "Contact: jane.doe@acme-mail.com",
    "Card ending 4111 1111 1111 1111",
    "Call +33 6 12 34 56 78",
    "Phone (555) 123-4567",
    "Tel. 06 12 34 56 78",  # national: a phone in FR, digits elsewhere
    "Card 6759 6498 2643 8453",
    "IBAN DE89 3704 0044 0532 0130 00",
    "SSN 123-45-6789",
]


def texts() -> list[str]:
    """A deterministic mix: node i is PII every 100th, has digits 5 in 100, else 1-8 words."""
    out: list[str] = []
    for i in range(NODES):
        if i % 100 == 0:
            out.append(WITH_PII[(i // 100) % len(WITH_PII)])
        elif i % 100 in (13, 31, 47, 64, 82):
            out.append(WITH_DIGITS[i % len(WITH_DIGITS)])
        else:
            count = 1 + (i * 7) % 8
            out.append(" ".join(WORDS[(i * 3 + k * 11) % len(WORDS)] for k in range(count)))
    return out


TIME_ONE_RUN = """texts => {
    const t0 = performance.now();
    let spans = 0;
    for (const t of texts) spans += __pii.findPii(t).length;
    return [performance.now() - t0, spans];
}"""


def time_python(sample: list[str]) -> tuple[list[float], int]:
    timings: list[float] = []
    spans = 0
    for run in range(WARMUP + RUNS):
        t0 = time.perf_counter()
        spans = sum(len(pii.find(t)) for t in sample)
        if run >= WARMUP:
            timings.append((time.perf_counter() - t0) * 1000)
    return timings, spans


def time_ts(page: Page, sample: list[str], region: str) -> tuple[list[float], int]:
    """The recorder's detector with national formats of `region` (its piiRegion)."""
    page.evaluate(
        "([texts, region]) => { globalThis.__texts = texts; __pii.setRegion(region); }",
        [sample, region],
    )
    timings: list[float] = []
    spans = 0
    for run in range(WARMUP + RUNS):
        ms, spans = page.evaluate(f"({TIME_ONE_RUN})(globalThis.__texts)")
        if run >= WARMUP:
            timings.append(ms)
    return timings, spans


def false_positives(browser: Browser, script: str) -> tuple[int, list[str], list[str]]:
    """Strings read on the non-PII pages, and what each detector found in them."""
    server = Server()
    context = browser.new_context()
    strings = 0
    python: list[str] = []
    ts: list[str] = []
    try:
        page = context.new_page()
        for html in NON_PII_PAGES:
            page.goto(server.url_for(html, html.parent), wait_until="load")
            ensure_harness(PageWorld(page))
            page.evaluate(script)
            items: list[dict[str, Any]] = page.evaluate(
                "s => window.__rcHarness.sensitiveContent(document, s)",
                {"mask": [], "unmask": [], "block": []},
            )
            texts = [item["text"] for item in items]
            strings += len(texts)
            where = html.relative_to(ROOT)
            python += [f"{where}: {m.kind} {m.value!r}" for t in texts for m in pii.find(t)]
            found: list[list[dict[str, Any]]] = page.evaluate(
                "texts => texts.map((t) => __pii.findPii(t))", texts
            )
            ts += [
                f"{where}: {s['kind']} {t[s['start'] : s['end']]!r}"
                for t, spans in zip(texts, found, strict=True)
                for s in spans
            ]
    finally:
        context.close()
        server.close()
    return strings, python, ts


def _runs(timings: list[float]) -> str:
    return ", ".join(f"{t:.1f}" for t in timings)


def main() -> None:
    sample = texts()
    py_timings, py_spans = time_python(sample)
    script = read_bundle("pii.js")
    with sync_playwright() as playwright:
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.evaluate(script)
            ts_timings, ts_spans = time_ts(page, sample, "US")
            fr_timings, fr_spans = time_ts(page, sample, "FR")
            strings, py_false, ts_false = false_positives(browser, script)
        finally:
            browser.close()
    pii_nodes = sum(1 for i in range(NODES) if i % 100 == 0)
    print(f"pii detector, ms per {NODES:,} text nodes (median of {RUNS} runs):")
    print(f"  python (harness/pii.py)  {statistics.median(py_timings):7.1f} ms")
    print(f"      runs: {_runs(py_timings)} ms; {py_spans} spans found ({pii_nodes} PII nodes)")
    print(f"  in-page ts (pii.ts)      {statistics.median(ts_timings):7.1f} ms")
    print(f"      runs: {_runs(ts_timings)} ms; {ts_spans} spans found ({pii_nodes} PII nodes)")
    print(f"  in-page ts, region FR    {statistics.median(fr_timings):7.1f} ms")
    print(f"      runs: {_runs(fr_timings)} ms; {fr_spans} spans found ({pii_nodes} PII nodes)")
    # Level 9 as issue 12 measures (gzip -9c; zlib's deflate may come a few bytes under it).
    for name, path, budget in (
        ("record bundle", RECORD_JS, BUNDLE_BUDGET),
        ("insights plugin", INSIGHTS_JS, INSIGHTS_BUDGET),
    ):
        size = len(gzip.compress(path.read_bytes(), compresslevel=9))
        print(f"{name}: {size:,} bytes gzipped (budget {budget:,})")
    print(
        f"false positives on {len(NON_PII_PAGES)} non-PII pages ({strings:,} strings;"
        f" target 0): python {len(py_false)}, ts {len(ts_false)}"
    )
    for line in sorted(set(py_false) | set(ts_false)):
        print(f"  {line}")


if __name__ == "__main__":
    main()
