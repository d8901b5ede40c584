"""Time the recorder's PII detector (recorder/src/record/pii.ts) in Chromium.

A realistic mix of 10,000 text-node strings: mostly plain words, 5% with digits (prices, dates,
counts, versions), 1% holding PII. Each run calls findPii on all of them; median of 5 runs.

Run: .venv/bin/python bench/bench_pii.py
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from harness.browser import launch

ROOT = Path(__file__).resolve().parent.parent
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
    "Contact: jane.doe@example.com",
    "Card ending 4111 1111 1111 1111",
    "Call +33 6 12 34 56 78",
    "Phone (555) 123-4567",
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


def bundle(out: Path) -> str:
    subprocess.run(
        [
            str(ROOT / "node_modules" / ".bin" / "esbuild"),
            str(ROOT / "recorder" / "src" / "record" / "pii.ts"),
            "--bundle",
            "--minify",
            "--format=iife",
            "--global-name=__pii",
            "--target=chrome100",
            f"--outfile={out}",
            "--log-level=warning",
        ],
        check=True,
    )
    return out.read_text() + "\n;globalThis.__pii = __pii; void 0;"


TIME_ONE_RUN = """texts => {
    const t0 = performance.now();
    let spans = 0;
    for (const t of texts) spans += __pii.findPii(t).length;
    return [performance.now() - t0, spans];
}"""


def main() -> None:
    sample = texts()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        script = bundle(Path(tmp) / "pii.js")
        browser = launch(playwright)
        try:
            page = browser.new_page()
            page.evaluate(script)
            page.evaluate("texts => { globalThis.__texts = texts; }", sample)
            timings: list[float] = []
            spans = 0
            for run in range(WARMUP + RUNS):
                ms, spans = page.evaluate(f"({TIME_ONE_RUN})(globalThis.__texts)")
                if run >= WARMUP:
                    timings.append(ms)
        finally:
            browser.close()
    print(f"pii detector: {statistics.median(timings):.1f} ms per {NODES:,} text nodes")
    print(
        f"  runs: {', '.join(f'{t:.1f}' for t in timings)} ms; {spans} spans found"
        f" ({sum(1 for i in range(NODES) if i % 100 == 0)} PII nodes)"
    )


if __name__ == "__main__":
    main()
