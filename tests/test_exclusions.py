"""What the pixel and DOM verdicts leave out for masked, blocked and unrecordable content: only
what masking changes, so a faithful replay passes and an unfaithful one cannot hide in it."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page

from harness.scenario import load_scenario
from harness.worker import Worker
from tests.conftest import FIXTURES, load_harness

PAGES = FIXTURES / "verdicts" / "exclusions"


@pytest.mark.parametrize("recorder", ["builtin", "rrweb"])
def test_text_in_body_under_mask_all_text_excludes_its_lines_not_the_page(
    worker: Worker, recorder: str
) -> None:
    result = worker.run(load_scenario(PAGES / "text.yaml"), recorder, None)
    assert result.passed, result.failures
    [checkpoint] = result.checkpoints
    # Before: the line box of text in <body> was the body, the whole page but its margin.
    assert 0 < checkpoint.masked_area < 0.15


def test_a_canvas_the_replay_lacks_fails_under_mask_all_text(
    worker: Worker, tmp_path: Path
) -> None:
    # rrweb records no canvas by default: its replay has no drawing, however much text is masked.
    scenario = load_scenario(PAGES / "canvas.yaml")
    result = worker.run(scenario, "rrweb", tmp_path)
    assert not result.passed
    [checkpoint] = result.checkpoints
    assert checkpoint.pixel_mismatch > scenario.expect.pixel_mismatch_max
    assert checkpoint.masked_area < 0.15


@pytest.mark.parametrize("recorder", ["builtin", "rrweb"])
def test_a_cross_origin_frame_is_compared_as_its_box(worker: Worker, recorder: str) -> None:
    result = worker.run(load_scenario(PAGES / "frame.yaml"), recorder, None)
    [checkpoint] = result.checkpoints
    # The frame's content (322 x 182 with its border, 320 x 180 inside) is left out, no more.
    assert checkpoint.masked_area == pytest.approx(320 * 180 / (1280 * 720), rel=0.01)
    assert checkpoint.dom_similarity == 1.0, checkpoint.dom_differences
    assert result.passed, result.failures


def test_masked_rects_of_a_cross_origin_frame_are_its_content_box(
    worker: Worker, page: Page
) -> None:
    page.goto(worker.server.mount(PAGES) + "frame.html")
    page.wait_for_function("() => document.getElementById('other').contentDocument === null")
    page.wait_for_timeout(300)
    load_harness(page)
    masks: dict[str, list[str]] = {"block": [], "text": [], "fields": [], "unmask": []}
    rects = page.evaluate("m => __rcHarness.maskedRects(document, m)", masks)
    box = page.evaluate(
        "() => { const r = document.getElementById('other').getBoundingClientRect();"
        " return [r.left + 2, r.top + 2, r.width - 4, r.height - 4]; }"
    )
    assert rects == [pytest.approx(box)]


def test_a_canvas_the_replay_reports_masked_is_excluded_as_its_own_box(
    worker: Worker, page: Page
) -> None:
    # builtin does not capture a canvas under masked text and lists it in maskedElements().
    result = worker.run(load_scenario(PAGES / "canvas.yaml"), "builtin", None)
    assert result.passed, result.failures
    page.set_content(
        "<iframe style='border: 0; width: 600px; height: 400px' srcdoc=\"<body>text"
        " <canvas width=200 height=120 style='border: 1px solid'></canvas> after\"></iframe>"
    )
    page.wait_for_function("() => document.querySelector('iframe').contentDocument.body")
    load_harness(page)
    rects, box = page.evaluate(
        """() => {
          const f = document.querySelector('iframe');
          const c = f.contentDocument.querySelector('canvas');
          const r = c.getBoundingClientRect();
          return [__rcHarness.elementRects([c], f), [r.left, r.top, r.width, r.height]];
        }"""
    )
    assert rects == [box]  # not its line, not the body


def test_masked_text_in_a_button_covers_the_button_height_from_the_text_on(
    page: Page,
) -> None:
    # A mask of another width resizes the button: its borders and what follows on the line move.
    page.set_content(
        "<body style='margin: 8px'>before <button style='padding: 10px; border: 3px solid'>"
        "Draw</button> after<p style='margin-top: 40px'>next line</p></body>"
    )
    load_harness(page)
    masks = {"block": [], "text": ["button", "p"], "fields": [], "unmask": []}
    [line, alone] = page.evaluate("m => __rcHarness.maskedRects(document, m)", masks)
    button, text, last = page.evaluate(
        """() => {
          const b = document.querySelector('button').getBoundingClientRect();
          const r = document.createRange();
          r.selectNodeContents(document.querySelector('button').firstChild);
          const t = r.getBoundingClientRect();
          r.selectNodeContents(document.querySelector('p').firstChild);
          const p = r.getBoundingClientRect();
          return [[b.top, b.bottom], [t.left, t.top], [p.left, p.top, p.width, p.height]];
        }"""
    )
    x, y, w, h = line
    assert x == text[0]  # the button's left border and padding stay compared
    assert (y, y + h) == (button[0], button[1])
    assert x + w == 1280 - 8  # to the line's end: the body's content edge
    assert alone == last  # nothing follows it on its line: its glyphs alone


def test_masked_content_strings_css_draws_are_excluded(page: Page) -> None:
    # Masking stars `content:` strings too (builtin): where ::after draws is left out.
    page.set_content(
        "<style>.pii::after { content: 'Ada Lovelace'; } .deco::after { content: ''; }</style>"
        "<p><span class='pii'></span> after</p><p class='deco'>x</p>"
    )
    load_harness(page)
    masks = {"block": [], "text": [".pii", ".deco"], "fields": [], "unmask": []}
    rects = page.evaluate("m => __rcHarness.maskedRects(document, m)", masks)
    span = page.evaluate(
        "() => { const r = document.querySelector('.pii').getBoundingClientRect();"
        " return [r.left, r.top, r.width, r.height]; }"
    )
    # The span's line, to its end (" after" follows it); the empty decoration's x only.
    assert rects[0][:2] == span[:2] and rects[0][0] + rects[0][2] > span[0] + span[2]
    assert len(rects) == 2 and rects[1][2] < 20
