"""Pages whose own code could break or fool the verifier (DOM clobbering, replaced built-ins,
polyfilled and closed shadow roots) and pages that are not still when a checkpoint comes (smooth
scrolling, animations in shadow roots and frames, late images, sprites and fonts). Each is judged
without a harness error; where the recorder copes, its faithful replay is judged faithful."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness import adapters
from harness.compare.pixel import save_png
from harness.drive import record
from harness.runner import ScenarioResult
from harness.scenario import load_scenario
from harness.worker import Worker
from tests.conftest import FIXTURES

HOSTILE = FIXTURES / "hostile"
RECORDERS = ["builtin", "rrweb"]
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")


def _no_harness_error(result: ScenarioResult) -> None:
    assert not [f for f in result.failures if "harness error" in f], result.failures


def _elements(node: dict[str, Any], tag: str) -> list[dict[str, Any]]:
    found = [node] if node.get("k") == "el" and node.get("tag") == tag else []
    for child in node.get("children", []):
        found += _elements(child, tag)
    return found


def test_a_clobbered_form_and_document_are_read_through(worker: Worker) -> None:
    scenario = load_scenario(HOSTILE / "clobber.yaml")
    recording = record(worker.browser, worker.server, scenario, adapters.get("builtin"))
    initial, filled = recording.checkpoints
    # form.childNodes, form.attributes, form.localName... are its inputs: the walk goes around.
    [signup] = [f for f in _elements(filled.dom, "form") if f["attrs"].get("id") == "signup"]
    assert signup["attrs"]["class"] == "card"
    assert len(_elements(signup, "input")) == 24
    assert initial.dom["mode"] == "CSS1Compat"  # document.compatMode is an <img> here
    paths = {item.path for item in filled.sensitive}
    assert 'html > body > form#signup > input[name="tagName"]' in paths
    [email] = [s for s in filled.sensitive if s.field == "value" and "email" in s.path]
    assert (email.path, email.text) == (
        "html > body > form#newsletter > input#email",
        "ada@acme-mail.org",
    )
    for recorder in RECORDERS:
        # Both recorders break on this page themselves (recorder findings): a verdict,
        # never a harness error.
        _no_harness_error(worker.run(scenario, recorder, None))


def test_replaced_builtins_neither_break_nor_fool_the_verdict(worker: Worker) -> None:
    scenario = load_scenario(HOSTILE / "overrides.yaml")
    recording = record(worker.browser, worker.server, scenario, adapters.get("builtin"))
    initial, broken = recording.checkpoints
    # Nothing changed on screen: the scans after the page broke its built-ins read the same.
    assert broken.dom == initial.dom
    assert len(_elements(broken.dom, "b")) == 1  # in the shadow root
    assert len(_elements(broken.dom, "p")) == 2  # one in the iframe
    assert [(s.path, s.field) for s in broken.sensitive] == [
        (s.path, s.field) for s in initial.sensitive
    ]
    result = worker.run(scenario, "builtin", None)
    assert result.passed, result.failures
    # rrweb's transport (as sites deploy it) calls the page's JSON.stringify: its own finding.
    _no_harness_error(worker.run(scenario, "rrweb", None))


def test_frozen_nodes_are_recorded_and_changes_around_them_replay(worker: Worker) -> None:
    scenario = load_scenario(HOSTILE / "frozen.yaml")
    recording = record(worker.browser, worker.server, scenario, adapters.get("builtin"))
    snapshot = recording.stream.to_json()
    assert "A paragraph the page sealed, and its text." in snapshot and "Frozen nodes" in snapshot
    for recorder in RECORDERS:
        result = worker.run(scenario, recorder, None)
        assert result.passed, (recorder, result.failures)


def test_a_polyfilled_shadow_root_is_not_taken_for_a_real_one(worker: Worker) -> None:
    scenario = load_scenario(HOSTILE / "polyfill-shadow.yaml")
    recording = record(worker.browser, worker.server, scenario, adapters.get("rrweb"))
    cards = _elements(recording.checkpoints[0].dom, "x-card")
    synthetic = next(c for c in cards if c["attrs"]["id"] == "synthetic")
    # What is rendered: the light DOM child, no shadow root (the fragment is the page's fiction).
    assert [c["k"] for c in synthetic["children"]] == ["el"]
    opened = next(c for c in cards if c["attrs"]["id"] == "open")
    assert opened["children"][0]["k"] == "shadow"
    result = worker.run(scenario, "rrweb", None)
    assert result.passed, result.failures
    # The builtin recorder records the fragment as a shadow root: its own finding.
    _no_harness_error(worker.run(scenario, "builtin", None))


def test_a_closed_shadow_root_is_judged(worker: Worker) -> None:
    scenario = load_scenario(HOSTILE / "closed-shadow.yaml")
    for recorder in RECORDERS:
        result = worker.run(scenario, recorder, None)
        _no_harness_error(result)
        # Neither recorder can read a closed root: its content is missing from the replay.
        assert any("pixel mismatch" in f for f in result.failures), result.failures


# rrweb's replay of a frame animation is left out: rrweb builds a frame's document with
# document.open() and never closes it, and Chromium may then not paint that frame at all (seen
# blank for 3.5 s and more, until document.close(); rrweb-io/rrweb#678: frames blank until one
# seeks again). That is rrweb's defect, not the settling this test is about, and it comes and goes.
@pytest.mark.parametrize(
    ("name", "recorder"),
    [
        (name, recorder)
        for name in ["smooth-scroll", "shadow-animation", "frame-animation"]
        for recorder in RECORDERS
        if (name, recorder) != ("frame-animation", "rrweb")
    ],
)
def test_checkpoints_wait_until_the_page_is_still(worker: Worker, name: str, recorder: str) -> None:
    result = worker.run(load_scenario(HOSTILE / f"{name}.yaml"), recorder, None)
    assert result.passed, result.failures
    assert [c.pixel_mismatch for c in result.checkpoints] == [0.0] * len(result.checkpoints)


@pytest.mark.skipif(not FONT.is_file(), reason="needs Debian's fonts-dejavu-core")
@pytest.mark.parametrize("recorder", RECORDERS)
def test_checkpoints_wait_for_late_images_sprites_and_fonts(
    worker: Worker, tmp_path: Path, recorder: str
) -> None:
    shutil.copytree(HOSTILE, tmp_path / "hostile")
    pages = tmp_path / "hostile" / "pages"
    # A photo large enough to take a while to load and decode, and a web font, in the frame.
    noise = np.random.default_rng(1).integers(0, 256, (2400, 3200, 4), dtype=np.uint8)
    noise[..., 3] = 255
    save_png(noise, pages / "big.png")
    shutil.copy(FONT, pages / "font.ttf")
    result = worker.run(load_scenario(tmp_path / "hostile" / "loading.yaml"), recorder, None)
    assert result.passed, result.failures
    assert result.checkpoints[0].pixel_mismatch == 0.0
