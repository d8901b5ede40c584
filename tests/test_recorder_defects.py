"""Defects of the built-in recorder and replayer that rrweb does not have (issue 10), each shown
end to end in real Chromium: the scenario in tests/fixtures/recorder/ records with the builtin
recorder, replays, and is judged on pixels, DOM and masking at every checkpoint."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from harness.scenario import load_scenario
from harness.worker import Worker
from tests.conftest import FIXTURES

SCENARIOS = FIXTURES / "recorder"
# format.ts EventType numbers.
INPUT, FOCUS, CANVAS = 3, 13, 14


def run(worker: Worker, name: str, tmp_path: Path) -> list[list[Any]]:
    """Run scenario `name` with the builtin recorder; it must pass. Returns the stream's events."""
    result = worker.run(load_scenario(SCENARIOS / f"{name}.yaml"), "builtin", tmp_path)
    assert result.passed, result.failures
    events: list[list[Any]] = json.loads((tmp_path / name / "builtin" / "stream.json").read_text())
    return events


@pytest.mark.parametrize(
    "name",
    [
        "textarea-script",  # script changes to a textarea's text child reach its replayed value
        "textarea-private",  # and its value attribute and new text stay masked
        "css-rule",  # CSSStyleRule.style.setProperty / removeProperty
        "js-href",  # javascript: links keep their look
        "blocked",  # a block class removed or added later
        "focus",  # autofocus at the start, focus moves inside one shadow tree
        "target",  # :target of the page's fragment
        "defined",  # :defined of custom elements whose definition does not replay
        "border-var",  # border shorthand with var() and one side overridden
        "webgl",  # a WebGL render loop
        "blob",  # blob: image sources
        "import-layer",  # @import layer(), layer, media and supports() conditions
        "frame-opaque",  # a frame the recorder cannot read: an empty frame, reported masked
        "canvas-masked",  # a canvas under masked text: not captured, reported masked
        "card",  # card, one-time code and password autocomplete tokens stay masked under unmask
        "validity",  # masked values keep :invalid, :out-of-range and :placeholder-shown
        "focus-visible",  # keyboard focus rings inside a shadow root, a clicked button none
        "user-invalid",  # :user-invalid and :user-valid once the user left a field
        "states",  # :state() of custom elements' ElementInternals states
    ],
)
def test_scenario_replays_faithfully(worker: Worker, tmp_path: Path, name: str) -> None:
    run(worker, name, tmp_path)


def _canvases(node: list[Any], out: dict[int, list[str]]) -> None:
    """Canvas images of a serialized tree, by node id (format.ts SerializedNode)."""
    if node[0] == 0:
        for child in node[2]:
            _canvases(child, out)
    elif node[0] == 2:
        extra = node[5] if len(node) > 5 else {}
        if "canvas" in extra:
            out[node[1]] = [extra["canvas"]]
        for child in [*node[4], *extra.get("shadow", [])]:
            _canvases(child, out)


def test_animated_canvases_send_only_changed_frames_at_most_once_a_second(
    worker: Worker, tmp_path: Path
) -> None:
    events = run(worker, "dashboard", tmp_path)
    [snapshot] = [e for e in events if e[0] == 1]
    frames: dict[int, list[str]] = {}
    _canvases(snapshot[2], frames)
    for e in events:
        if e[0] == CANVAS:
            frames.setdefault(e[2], []).append(e[3])
    assert len(frames) == 4
    for images in frames.values():
        # 3 s of drawing on every frame: the snapshot's image, then at most one a second,
        # and the charts at rest (redrawn unchanged) send nothing more.
        assert len(images) <= 4, len(images)
        assert all(a != b for a, b in itertools.pairwise(images)), "an unchanged frame was sent"


def test_a_style_whose_text_is_stale_is_sent_from_its_cssom(worker: Worker, tmp_path: Path) -> None:
    # Its text is empty: sending it instead of the rules (for the var() shorthand) would lose .e.
    name = "border-var-inserted"
    result = worker.run(load_scenario(SCENARIOS / f"{name}.yaml"), "builtin", tmp_path)
    [checkpoint] = result.checkpoints
    assert checkpoint.pixel_mismatch == 0
    # What Chromium's serializer lost stays lost: the empty longhands of `.unused`.
    assert all(".unused" in d for d in checkpoint.dom_differences), checkpoint.dom_differences


def test_a_card_holders_name_is_no_secret_under_unmask(worker: Worker, tmp_path: Path) -> None:
    events = run(worker, "card", tmp_path)
    assert "Ada Lovelace" in [e[3] for e in events if e[0] == INPUT]
