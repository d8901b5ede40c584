"""Adapters' Python side: the regions each says its recorder masks (excluded from pixel scores)."""

from __future__ import annotations

from harness.adapters.builtin import BuiltinAdapter
from harness.scenario import RecorderConfig
from harness.worker import Worker

PAGE = """
<input id="field"><textarea id="area"></textarea><select id="choice"></select>
<div id="editor" contenteditable>typed</div><div id="plain-editor" contenteditable="true">x</div>
<div id="off" contenteditable="false">page text</div><p id="text">page text</p>
"""


def test_builtin_masks_form_fields_and_contenteditable_text(worker: Worker) -> None:
    context = worker.browser.new_context()
    try:
        page = context.new_page()
        page.set_content(PAGE)
        matched = page.evaluate(
            "s => [...document.querySelectorAll(s.join(','))].map(e => e.id)",
            BuiltinAdapter().masked_selectors(RecorderConfig()),
        )
        relaxed = page.evaluate(
            "s => [...document.querySelectorAll(s.join(','))].map(e => e.id)",
            BuiltinAdapter().masked_selectors(RecorderConfig(mask_all_inputs=False)),
        )
    finally:
        context.close()
    assert matched == ["field", "area", "choice", "editor", "plain-editor"]
    assert relaxed == []  # no password field on the page
