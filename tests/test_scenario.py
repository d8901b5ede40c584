"""harness.scenario: loading, normalizing and rejecting scenario YAML, and its JSON Schema."""

from __future__ import annotations

import json
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.scenario import (
    EVENT_KINDS,
    MEDIA_BLOCK,
    STEP_KINDS,
    EventExpectation,
    Expect,
    FaultRule,
    OverheadConfig,
    PageRef,
    RecorderConfig,
    Scenario,
    ScenarioError,
    Step,
    Viewport,
    json_schema,
    load_paths,
    load_scenario,
)

FIXTURES = Path(__file__).parent / "fixtures" / "scenario"
PAGE = "page: pages/index.html\n"
MARK = "# <-"  # in error cases, marks the line the error must name


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A folder with the pages scenarios point at."""
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "index.html").write_text("<p>index</p>")
    (tmp_path / "pages" / "next.html").write_text("<p>next</p>")
    return tmp_path


def write(folder: Path, text: str, name: str = "scenario.yaml") -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def line_of(text: str, fragment: str) -> int:
    lines = [i for i, line in enumerate(text.splitlines(), 1) if fragment in line]
    assert len(lines) == 1, f"{fragment!r} should be on exactly one line"
    return lines[0]


def load_error(path: Path) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value


FULL = """\
name: full
description: |
  every key, every step
page: pages/index.html
viewport: {width: 800, height: 600}
recorder:
  mask_all_inputs: false
  mask_all_text: true
  detect_pii: false
  mask: [".pii", "#card"]
  unmask: [".public"]
  block: [".ad"]
  ignore: ["#search"]
  sample_rate: 0.5
  options: {checkoutEveryNth: 10, slim: {script: true}, list: [1, "a", null], since: 2024-01-31}
steps:
  - goto: pages/next.html
  - goto: https://example.com/a?b=1
  - goto: data:text/html,<p>hi</p>
  - click: "#pay"
  - click: {selector: "#pay", count: 3, delay_ms: 50, button: right, position: {x: 5, y: 6.5}}
  - dblclick: {selector: "#row", delay_ms: 10, button: middle, position: [1, 2]}
  - fill: {selector: "#name", value: 007}
  - type: {selector: "#email", text: "jane@example.com", delay_ms: 20}
  - press: Enter
  - press: {selector: "#q", key: Tab}
  - select: {selector: "#country", value: FR}
  - select: {selector: "#langs", value: [en, fr]}
  - check: "#terms"
  - uncheck: {selector: "#news"}
  - hover: ".menu"
  - scroll: {selector: ".pane", x: -5, y: 400}
  - scroll: {y: 100}
  - mouse: {path: [[10, 10], {x: 300, y: 200.5}], steps: 20}
  - wait: 250
  - wait_for: "#done"
  - wait_for: {selector: "#late", timeout_ms: 500}
  - eval: "document.title = 'x'"
  - back: {}
  - reload:
  - offline: true
  - goto: {page: pages/next.html, flush: false}
  - back: {flush: false}
  - checkpoint: after-pay
  - checkpoint: v1.2_final
  - close: {}
expect:
  pixel_mismatch_max: 0.01
  dom_similarity_min: 0.9
  pii: ["Jane Doe", 4111111111111111]
  events:
    click: ">=1"
    dblclick: "<= 2"
    input: "==3"
    scroll: ">0"
    mouse_move: "<100"
    navigation: 2
    error: 0
    rage_click: "1"
  max_stream_bytes: 200000
  lost: "<=5"
  duplicates: 0
overhead:
  runs: 10
  cpu_throttle: 2
  budget_pct: 1.5
  after_load_ms: 1500
ingest_faults:
  - {from: 0, count: 3, status: 500}
  - {from_ms: 1000, for_ms: 5000, status: 503, retry_after: 5, store: true}
  - {hang_ms: 2000}
  - {drop: true}
  - {refuse: true}
"""


def test_full_scenario_normalizes_every_key_and_step(site: Path) -> None:
    path = write(site, FULL)
    s = load_scenario(path)
    assert (s.name, s.description, s.file) == ("full", "every key, every step\n", path)
    assert (s.page, s.url) == (PageRef(site / "pages" / "index.html"), None)
    assert s.viewport == Viewport(800, 600)
    assert s.recorder == RecorderConfig(
        mask_all_inputs=False,
        mask_all_text=True,
        detect_pii=False,
        mask=(".pii", "#card"),
        unmask=(".public",),
        block=(".ad",),
        ignore=("#search",),
        sample_rate=0.5,
        # Passed through as plain values; a date stays the text it was written as.
        options={
            "checkoutEveryNth": 10,
            "slim": {"script": True},
            "list": [1, "a", None],
            "since": "2024-01-31",
        },
    )
    next_page = site / "pages" / "next.html"
    click = {"count": 1, "delay_ms": 0, "button": "left", "position": None}
    assert [(step.kind, step.args) for step in s.steps] == [
        ("goto", {"url": None, "page": PageRef(next_page), "flush": True}),
        ("goto", {"url": "https://example.com/a?b=1", "page": None, "flush": True}),
        ("goto", {"url": "data:text/html,<p>hi</p>", "page": None, "flush": True}),
        ("click", {"selector": "#pay", **click}),
        (
            "click",
            {
                "selector": "#pay",
                "count": 3,
                "delay_ms": 50,
                "button": "right",
                "position": {"x": 5.0, "y": 6.5},
            },
        ),
        (
            "dblclick",
            {
                "selector": "#row",
                "count": 2,
                "delay_ms": 10,
                "button": "middle",
                "position": {"x": 1.0, "y": 2.0},
            },
        ),
        ("fill", {"selector": "#name", "value": "007"}),  # the text as written
        ("type", {"selector": "#email", "text": "jane@example.com", "delay_ms": 20}),
        ("press", {"selector": None, "key": "Enter"}),
        ("press", {"selector": "#q", "key": "Tab"}),
        ("select", {"selector": "#country", "value": "FR"}),
        ("select", {"selector": "#langs", "value": ["en", "fr"]}),
        ("check", {"selector": "#terms"}),
        ("uncheck", {"selector": "#news"}),
        ("hover", {"selector": ".menu"}),
        ("scroll", {"selector": ".pane", "x": -5, "y": 400}),
        ("scroll", {"selector": None, "x": 0, "y": 100}),
        ("mouse", {"path": [(10.0, 10.0), (300.0, 200.5)], "steps": 20}),
        ("wait", {"ms": 250}),
        ("wait_for", {"selector": "#done", "timeout_ms": 10000}),
        ("wait_for", {"selector": "#late", "timeout_ms": 500}),
        ("eval", {"script": "document.title = 'x'"}),
        ("back", {"flush": True}),
        ("reload", {"flush": True}),
        ("offline", {"offline": True}),
        ("goto", {"url": None, "page": PageRef(next_page), "flush": False}),
        ("back", {"flush": False}),
        ("checkpoint", {"name": "after-pay"}),
        ("checkpoint", {"name": "v1.2_final"}),
        ("close", {}),
    ]
    assert {step.kind for step in s.steps} == set(STEP_KINDS)
    assert [step.line for step in s.steps] == list(range(17, 17 + len(s.steps)))
    assert s.checkpoints == ["after-pay", "v1.2_final"]
    assert s.expect == Expect(
        pixel_mismatch_max=0.01,
        dom_similarity_min=0.9,
        pii=("Jane Doe", "4111111111111111"),
        events={
            "click": EventExpectation(">=", 1),
            "dblclick": EventExpectation("<=", 2),
            "input": EventExpectation("==", 3),
            "scroll": EventExpectation(">", 0),
            "mouse_move": EventExpectation("<", 100),
            "navigation": EventExpectation("==", 2),
            "error": EventExpectation("==", 0),
            "rage_click": EventExpectation("==", 1),
        },
        max_stream_bytes=200000,
        lost=EventExpectation("<=", 5),
        duplicates=EventExpectation("==", 0),
    )
    assert s.ingest_faults == (
        FaultRule(start=0, count=3, status=500),
        FaultRule(from_ms=1000.0, for_ms=5000.0, status=503, retry_after=5, store=True),
        FaultRule(hang_ms=2000),
        FaultRule(drop=True),
        FaultRule(refuse=True),
    )
    assert s.overhead == OverheadConfig(
        runs=10, cpu_throttle=2.0, budget_pct=1.5, after_load_ms=1500
    )
    assert isinstance(s.overhead.cpu_throttle, float)
    assert s.pages() == [site / "pages" / "index.html", next_page]


def test_spec_example_loads() -> None:
    s = load_scenario(FIXTURES / "spec_example.yaml")
    assert s.name == "checkout"
    assert [step.kind for step in s.steps] == list(STEP_KINDS)
    assert s.checkpoints == ["after-pay"]
    assert s.expect.events["click"] == EventExpectation(">=", 1)
    assert s.pages() == [FIXTURES / "pages" / "checkout.html", FIXTURES / "pages" / "next.html"]


def test_defaults(site: Path) -> None:
    s = load_scenario(write(site, PAGE, "checkout.yaml"))
    assert s == Scenario(
        name="checkout",
        description="",
        file=site / "checkout.yaml",
        page=PageRef(site / "pages" / "index.html"),
        url=None,
        viewport=Viewport(1280, 720),
        recorder=RecorderConfig(),
        steps=(Step("checkpoint", {"name": "end"}, 1),),
        expect=Expect(),
        overhead=OverheadConfig(),
    )
    assert RecorderConfig() == RecorderConfig(
        True, False, True, (), (), (), (), 1.0, {}
    )  # the SPEC defaults
    assert Expect() == Expect(0.001, 0.99, (), {}, None)
    assert OverheadConfig() == OverheadConfig(30, 4.0, 3.0)


def test_defaults_are_not_shared_between_scenarios(site: Path) -> None:
    a = load_scenario(write(site, PAGE, "a.yaml"))
    b = load_scenario(write(site, PAGE, "b.yaml"))
    assert a.recorder.options is not b.recorder.options


def test_null_values_count_as_absent(site: Path) -> None:
    text = PAGE + "name:\nviewport:\nrecorder:\n  # nothing yet\nexpect: {pii: }\nsteps:\n"
    s = load_scenario(write(site, text, "nulls.yaml"))
    assert (s.name, s.viewport, s.recorder, s.expect) == (
        "nulls",
        Viewport(),
        RecorderConfig(),
        Expect(),
    )


@pytest.mark.parametrize(
    "url", ["https://example.com/x", "http://localhost:8000/", "file:///tmp/x.html"]
)
def test_url_instead_of_page(site: Path, url: str) -> None:
    s = load_scenario(write(site, f"url: {url}\n"))
    assert (s.url, s.page, s.pages()) == (url, None, [])


def test_paths_are_absolute_when_given_relative(
    site: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(site, PAGE + "steps:\n  - goto: ./pages/../pages/next.html\n", "sub/../s.yaml")
    monkeypatch.chdir(site)
    s = load_scenario("s.yaml")
    assert s.file == site / "s.yaml"
    assert s.pages() == [site / "pages" / "index.html", site / "pages" / "next.html"]


def test_pages_lists_each_page_once_and_skips_urls(site: Path) -> None:
    steps = ["pages/next.html", "https://example.com", "pages/index.html", "pages/next.html"]
    text = PAGE + "steps:\n" + "".join(f"  - goto: {step}\n" for step in steps)
    s = load_scenario(write(site, text))
    assert s.pages() == [site / "pages" / "index.html", site / "pages" / "next.html"]


@pytest.mark.parametrize(
    ("steps", "line"),
    [
        ("", 1),  # no steps key: line 1
        ("steps: []\n", 2),  # the steps key
        ("steps:\n", 2),
        ("steps:\n  - click: '#a'\n  - wait: 5\n", 4),  # the last step
    ],
)
def test_implicit_end_checkpoint(site: Path, steps: str, line: int) -> None:
    s = load_scenario(write(site, PAGE + steps))
    assert s.steps[-1] == Step("checkpoint", {"name": "end"}, line)
    assert s.checkpoints == ["end"]


def test_no_implicit_checkpoint_when_there_is_one(site: Path) -> None:
    text = PAGE + "steps:\n  - checkpoint: mid\n  - click: '#a'\n"
    s = load_scenario(write(site, text))
    assert [step.kind for step in s.steps] == ["checkpoint", "click"]
    assert s.checkpoints == ["mid"]


def test_anchors_aliases_and_merge_keys(site: Path) -> None:
    text = PAGE + (
        "recorder:\n"
        "  <<: {mask: ['.a'], sample_rate: 0.5}\n"
        "  sample_rate: 0.25\n"
        "steps:\n"
        "  - click: &target '#a'\n"
        "  - hover: *target\n"
    )
    s = load_scenario(write(site, text))
    assert (s.recorder.mask, s.recorder.sample_rate) == ((".a",), 0.25)
    assert [step.args["selector"] for step in s.steps[:2]] == ["#a", "#a"]


def test_unquoted_scalars_are_read_as_text_where_text_is_expected(site: Path) -> None:
    text = (
        "name: 2024\n"
        + PAGE
        + "steps:\n  - checkpoint: 1\n  - fill: {selector: '#a', value: yes}\n"
    )
    s = load_scenario(write(site, text))
    assert (s.name, s.checkpoints, s.steps[1].args["value"]) == ("2024", ["1"], "yes")


# Each case: YAML, and text the message must contain. The line marked MARK is the one the
# error must name; with no mark, the error names no line.
ERRORS: dict[str, tuple[str, str]] = {
    # YAML itself
    "syntax": (PAGE + f"name: a: b  {MARK}\n", "invalid YAML: mapping values are not allowed"),
    "tab": (PAGE + f"\tname: x  {MARK}\n", "invalid YAML:"),
    "two documents": (PAGE + f"---  {MARK}\n" + PAGE, "expected a single document"),
    "empty file": ("", "the file is empty"),
    "only comments": ("# nothing\n", "the file is empty"),
    "top is a list": (f"- page: x  {MARK}\n", "a scenario is a mapping"),
    "top is text": (f"just text  {MARK}\n", "a scenario is a mapping"),
    "duplicate key": (
        PAGE + f"page: pages/index.html  {MARK}\n",
        "duplicate key 'page' (first on line 1)",
    ),
    "nested duplicate": (
        PAGE + f"viewport:\n  width: 1\n  width: 2  {MARK}\n",
        "duplicate key 'width' (first on line 3)",
    ),
    "python tag": (
        PAGE + f"name: !!python/object/apply:os.system ['true']  {MARK}\n",
        "YAML tag '!!python/object/apply:os.system' is not supported",
    ),
    "custom tag": (PAGE + f"name: !env HOME  {MARK}\n", "YAML tag '!env' is not supported"),
    "bad tagged value": (
        PAGE + f"viewport: {{width: !!int abc}}  {MARK}\n",
        "does not fit its tag !!int",
    ),
    "recursive alias": (PAGE + f"recorder: {{options: &a [*a]}}  {MARK}\n", "alias to itself"),
    "merge of a non-mapping": (
        PAGE + f"viewport: {{<<: [1]}}  {MARK}\n",
        "'<<' merges mappings only",
    ),
    "list as key": (PAGE + f"? [a]  {MARK}\n: 1\n", "a key must be a plain name"),
    # unknown keys, at every level
    "unknown top key": (
        PAGE + f"nmae: x  {MARK}\n",
        "unknown key 'nmae' in the scenario (known: name, description, page, url, viewport, "
        "recorder, steps, expect, overhead, ingest_faults, known_failures); did you mean 'name'?",
    ),
    "unknown viewport key": (
        PAGE + f"viewport: {{width: 800, hieght: 600}}  {MARK}\n",
        "unknown key 'hieght' in viewport (known: width, height); did you mean 'height'?",
    ),
    "unknown recorder key": (
        PAGE + f"recorder:\n  mask_all_input: true  {MARK}\n",
        "unknown key 'mask_all_input' in recorder",
    ),
    "unknown expect key": (
        PAGE + f"expect:\n  pixel_mismach_max: 0.1  {MARK}\n",
        "unknown key 'pixel_mismach_max' in expect (known: pixel_mismatch_max, "
        "dom_similarity_min, pii, events, max_stream_bytes, lost, duplicates); "
        "did you mean 'pixel_mismatch_max'?",
    ),
    "unknown overhead key": (
        PAGE + f"overhead:\n  run: 5  {MARK}\n",
        "unknown key 'run' in overhead",
    ),
    "unknown step key": (
        PAGE + f"steps:\n  - click: {{selector: '#a', cont: 2}}  {MARK}\n",
        "unknown key 'cont' in click",
    ),
    "dblclick count": (
        PAGE + f"steps:\n  - dblclick: {{selector: '#a', count: 3}}  {MARK}\n",
        "unknown key 'count' in dblclick",
    ),
    "back takes flush only": (
        PAGE + f"steps:\n  - back: {{to: 1}}  {MARK}\n",
        "unknown key 'to' in back (known: flush)",
    ),
    "close takes no keys": (
        PAGE + f"steps:\n  - close: {{to: 1}}  {MARK}\n",
        "unknown key 'to' in close (it takes none)",
    ),
    "a step after close": (
        PAGE + f"steps:\n  - close: {{}}\n  - wait: 1  {MARK}\n",
        "no step can follow close (line 3)",
    ),
    "goto with page and url": (
        PAGE + f"steps:\n  - goto: {{page: pages/index.html, url: 'http://x.org/'}}  {MARK}\n",
        "goto takes either page or url",
    ),
    "offline not a bool": (
        PAGE + f"steps:\n  - offline: yes please  {MARK}\n",
        "offline must be true or false",
    ),
    "fault rule without an action": (
        PAGE + f"ingest_faults:\n  - {{from: 0, count: 3}}  {MARK}\n",
        "ingest_faults[0] needs exactly one action of status, hang_ms, drop, refuse",
    ),
    "fault rule with two actions": (
        PAGE + f"ingest_faults:\n  - {{status: 500, drop: true}}  {MARK}\n",
        "ingest_faults[0] needs exactly one action of status, hang_ms, drop, refuse, "
        "got status, drop",
    ),
    "retry_after without a status": (
        PAGE + f"ingest_faults:\n  - {{refuse: true, retry_after: 5}}  {MARK}\n",
        "ingest_faults[0]: retry_after and store go with a status",
    ),
    "unknown fault key": (
        PAGE + f"ingest_faults:\n  - {{status: 500, for: 3}}  {MARK}\n",
        "unknown key 'for' in ingest_faults[0]",
    ),
    "ingest_faults not a list": (
        PAGE + f"ingest_faults: {{status: 500}}  {MARK}\n",
        "ingest_faults must be a list of rules",
    ),
    "lost not a count": (
        PAGE + f"expect:\n  lost: some  {MARK}\n",
        'expect.lost must be a count like 2, ">=1" or "<3"',
    ),
    "unknown position key": (
        PAGE
        + "steps:\n  - click:\n      selector: '#a'\n"
        + f"      position: {{x: 1, y: 2, z: 3}}  {MARK}\n",
        "unknown key 'z' in click.position",
    ),
    # page and url
    "neither page nor url": (f"name: x  {MARK}\n", "needs 'page' (a file relative to it) or 'url'"),
    "page and url": (
        PAGE + f"url: https://example.com  {MARK}\n",
        "set either 'page' or 'url', not both",
    ),
    "missing page": (
        f"page: pages/nope.html  {MARK}\n",
        "page 'pages/nope.html' not found (relative to ",
    ),
    "page is a folder": (f"page: pages  {MARK}\n", "page 'pages' not found"),
    "ftp url": (
        f"url: ftp://example.com/x  {MARK}\n",
        "url must be an http://, https:// or file:// URL, got 'ftp://example.com/x'",
    ),
    "url without scheme": (f"url: example.com  {MARK}\n", "url must be an http://"),
    "url without host": (f"url: 'http://'  {MARK}\n", "url must be an http://"),
    "malformed url": (f"url: 'http://[::1'  {MARK}\n", "url must be an http://"),
    # types
    "bool as text": (
        PAGE + f"recorder:\n  mask_all_inputs: 'true'  {MARK}\n",
        "recorder.mask_all_inputs must be true or false, got 'true'",
    ),
    "bool as int": (
        PAGE + f"viewport: {{width: true}}  {MARK}\n",
        "viewport.width must be an integer from 1 to 10000, got true",
    ),
    "float as int": (
        PAGE + f"viewport: {{height: 720.5}}  {MARK}\n",
        "viewport.height must be an integer",
    ),
    "bool as number": (
        PAGE + f"overhead: {{cpu_throttle: yes}}  {MARK}\n",
        "overhead.cpu_throttle must be a number >= 1, got yes",
    ),
    "text as number": (
        PAGE + f"recorder: {{sample_rate: '0.5'}}  {MARK}\n",
        "recorder.sample_rate must be a number from 0 to 1, got '0.5'",
    ),
    "text as list": (PAGE + f"recorder: {{mask: .pii}}  {MARK}\n", "recorder.mask must be a list"),
    "mapping in list": (
        PAGE + f"recorder:\n  block:\n    - .ad\n    - {{a: 1}}  {MARK}\n",
        "recorder.block[1] must be a selector, got a mapping",
    ),
    "empty pii": (PAGE + f"expect: {{pii: ['']}}  {MARK}\n", "expect.pii[0] must not be empty"),
    "empty selector": (
        PAGE + f"steps:\n  - click: ''  {MARK}\n",
        "click.selector must not be empty",
    ),
    "blank selector": (
        PAGE + f"steps:\n  - check: {{selector: '  '}}  {MARK}\n",
        "check.selector must not be empty",
    ),
    "list as selector": (
        PAGE + f"steps:\n  - hover: [a]  {MARK}\n",
        "hover takes a selector or {selector}, got a list",
    ),
    "no shorthand": (
        PAGE + f"steps:\n  - fill: '#x'  {MARK}\n",
        "fill takes {selector, value}, got '#x'",
    ),
    "block as number": (
        PAGE + f"viewport: 800  {MARK}\n",
        "viewport must be a mapping {width, height}, got 800",
    ),
    "name as list": (PAGE + f"name: [a]  {MARK}\n", "name must be a string, got a list"),
    "unsafe name": (PAGE + f"name: a/b  {MARK}\n", "name 'a/b' must not contain '/'"),
    "button": (
        PAGE + f"steps:\n  - click: {{selector: '#a', button: primary}}  {MARK}\n",
        "click.button must be one of left, right, middle, got 'primary'",
    ),
    "short position": (
        PAGE + f"steps:\n  - click: {{selector: '#a', position: [1]}}  {MARK}\n",
        "click.position must be a point",
    ),
    "path point": (
        PAGE + f"steps:\n  - mouse: {{path: [[1, 2], [3, x]]}}  {MARK}\n",
        "mouse.path[1][1] must be a number, got 'x'",
    ),
    "empty path": (
        PAGE + f"steps:\n  - mouse: {{path: []}}  {MARK}\n",
        "mouse.path must be a list of points",
    ),
    "select mapping": (
        PAGE + f"steps:\n  - select: {{selector: '#a', value: {{x: 1}}}}  {MARK}\n",
        "select.value must be a string, got a mapping",
    ),
    "options list": (
        PAGE + f"recorder: {{options: [1]}}  {MARK}\n",
        "recorder.options must be a mapping",
    ),
    "eval list": (PAGE + f"steps:\n  - eval: [1]  {MARK}\n", "eval must be a script, got a list"),
    # ranges
    "width 0": (
        PAGE + f"viewport: {{width: 0}}  {MARK}\n",
        "viewport.width must be an integer from 1 to 10000, got 0",
    ),
    "height 10001": (
        PAGE + f"viewport: {{height: 10001}}  {MARK}\n",
        "viewport.height must be an integer from 1 to 10000",
    ),
    "pixel_mismatch_max": (
        PAGE + f"expect: {{pixel_mismatch_max: 1.5}}  {MARK}\n",
        "expect.pixel_mismatch_max must be a number from 0 to 1, got 1.5",
    ),
    "dom_similarity_min": (
        PAGE + f"expect: {{dom_similarity_min: -0.1}}  {MARK}\n",
        "expect.dom_similarity_min must be a number from 0 to 1",
    ),
    "sample_rate": (
        PAGE + f"recorder: {{sample_rate: 2}}  {MARK}\n",
        "recorder.sample_rate must be a number from 0 to 1, got 2",
    ),
    "runs": (
        PAGE + f"overhead: {{runs: 1}}  {MARK}\n",
        "overhead.runs must be an integer >= 2, got 1",
    ),
    "cpu_throttle": (
        PAGE + f"overhead: {{cpu_throttle: 0.5}}  {MARK}\n",
        "overhead.cpu_throttle must be a number >= 1",
    ),
    "budget_pct": (
        PAGE + f"overhead: {{budget_pct: 0}}  {MARK}\n",
        "overhead.budget_pct must be a number > 0, got 0",
    ),
    "not finite": (
        PAGE + f"overhead: {{budget_pct: .inf}}  {MARK}\n",
        "overhead.budget_pct must be a number > 0, got .inf",
    ),
    "after_load_ms": (
        PAGE + f"overhead: {{after_load_ms: 1.5}}  {MARK}\n",
        "overhead.after_load_ms must be an integer from 0 to 600000, got 1.5",
    ),
    "max_stream_bytes": (
        PAGE + f"expect: {{max_stream_bytes: 0}}  {MARK}\n",
        "expect.max_stream_bytes must be an integer >= 1",
    ),
    "wait": (PAGE + f"steps:\n  - wait: -1  {MARK}\n", "wait must be an integer >= 0, got -1"),
    "click count": (
        PAGE + f"steps:\n  - click: {{selector: '#a', count: 0}}  {MARK}\n",
        "click.count must be an integer >= 1",
    ),
    # expect.events
    "unknown event": (
        PAGE + f"expect:\n  events: {{clik: 1}}  {MARK}\n",
        "unknown event 'clik' in expect.events (known events: click, dblclick, input, scroll, "
        "mouse_move, navigation, error, rage_click); did you mean 'click'?",
    ),
    "bad count": (
        PAGE + f"expect:\n  events: {{click: '>=x'}}  {MARK}\n",
        'expect.events.click must be a count like 2, ">=1" or "<3", got \'>=x\'',
    ),
    "negative count": (
        PAGE + f"expect:\n  events: {{click: -1}}  {MARK}\n",
        "expect.events.click must be a count",
    ),
    "bool count": (
        PAGE + f"expect:\n  events: {{click: true}}  {MARK}\n",
        "expect.events.click must be a count",
    ),
    "reversed operator": (
        PAGE + f"expect:\n  events: {{click: '=> 1'}}  {MARK}\n",
        "expect.events.click must be a count",
    ),
    "events list": (
        PAGE + f"expect:\n  events: [click]  {MARK}\n",
        "expect.events must be a mapping",
    ),
    # steps
    "unknown step": (
        PAGE + f"steps:\n  - clik: '#a'  {MARK}\n",
        "unknown step 'clik' (known steps: goto, click, dblclick, fill, type, press, select, "
        "check, uncheck, hover, scroll, mouse, wait, wait_for, eval, back, reload, offline, "
        "checkpoint, close); did you mean 'click'?",
    ),
    "two keys in a step": (
        PAGE + f"steps:\n  - click: '#a'\n    wait: 5  {MARK}\n",
        "a step has exactly one key, found click, wait; start each step with its own '- '",
    ),
    "bare step": (PAGE + f"steps:\n  - click  {MARK}\n", "a step is a mapping with one key"),
    "empty step": (PAGE + f"steps:\n  - {{}}  {MARK}\n", "a step is a mapping with one key"),
    "steps not a list": (
        PAGE + f"steps: {{click: '#a'}}  {MARK}\n",
        "steps must be a list of steps",
    ),
    "missing arg": (PAGE + f"steps:\n  - fill: {{selector: '#a'}}  {MARK}\n", "fill needs 'value'"),
    "missing arg, block form": (
        PAGE + f"steps:\n  - fill:  {MARK}\n      selector: '#a'\n",
        "fill needs 'value'",
    ),
    "null scalar step": (
        PAGE + f"steps:\n  - wait:  {MARK}\n  - click: '#a'\n",
        "wait needs a value",
    ),
    "null block step": (PAGE + f"steps:\n  - click:  {MARK}\n", "click needs 'selector'"),
    "duplicate checkpoint": (
        PAGE + f"steps:\n  - checkpoint: a\n  - click: '#a'\n  - checkpoint: a  {MARK}\n",
        "checkpoint 'a' is already used on line 3",
    ),
    "checkpoint with space": (
        PAGE + f"steps:\n  - checkpoint: a b  {MARK}\n",
        "checkpoint 'a b' may use only letters",
    ),
    "checkpoint with slash": (
        PAGE + f"steps:\n  - checkpoint: ../x  {MARK}\n",
        "checkpoint '../x' may use only",
    ),
    "hidden checkpoint": (PAGE + f"steps:\n  - checkpoint: .x  {MARK}\n", "not start with '.'"),
    "goto missing page": (
        PAGE + f"steps:\n  - goto: pages/nope.html  {MARK}\n",
        "page 'pages/nope.html' not found (relative to ",
    ),
}


@pytest.mark.parametrize(("text", "message"), ERRORS.values(), ids=ERRORS.keys())
def test_error_names_file_and_line(site: Path, text: str, message: str) -> None:
    path = write(site, text)
    err = load_error(path)
    line = line_of(text, MARK) if MARK in text else None
    assert str(err).startswith(f"{path}: " if line is None else f"{path}:{line}: ")
    assert (err.file, err.line) == (path, line)
    assert message in err.message
    assert "\n" not in str(err)


def test_page_and_goto_keep_a_query_and_fragment(site: Path) -> None:
    text = "page: pages/index.html?tab=2#billing\nsteps:\n  - goto: pages/next.html#top\n"
    s = load_scenario(write(site, text))
    assert s.page == PageRef(site / "pages" / "index.html", "?tab=2#billing")
    assert s.steps[0].args["page"] == PageRef(site / "pages" / "next.html", "#top")
    # The server serves the files; the suffix only goes on the URL.
    assert s.pages() == [site / "pages" / "index.html", site / "pages" / "next.html"]


def test_a_file_named_with_a_question_mark_is_found_whole(site: Path) -> None:
    (site / "pages" / "odd?.html").write_text("<p>odd</p>")
    s = load_scenario(write(site, "page: pages/odd?.html\n"))
    assert s.page == PageRef(site / "pages" / "odd?.html")


def test_the_file_part_of_a_page_with_a_query_must_exist(site: Path) -> None:
    err = load_error(write(site, "page: pages/nope.html?tab=2\n"))
    assert err.message == (
        f"page 'pages/nope.html' (of 'pages/nope.html?tab=2') not found (relative to {site})"
    )


def test_missing_page_error_names_the_folder(site: Path) -> None:
    err = load_error(write(site, "page: pages/nope.html\n"))
    assert err.message == f"page 'pages/nope.html' not found (relative to {site})"


def test_undecodable_file(site: Path) -> None:
    path = site / "bad.yaml"
    path.write_bytes(b"page: \xff\xfe\x00\n")
    err = load_error(path)
    assert str(err).startswith(f"{path}: invalid YAML:")
    assert "\n" not in str(err)


def test_deep_nesting_is_an_error_not_a_crash(site: Path) -> None:
    path = write(site, PAGE + "recorder: {options: {a: " + "[" * 500 + "]" * 500 + "}}\n")
    err = load_error(path)
    assert str(err) == f"{path}: invalid YAML: nested too deeply"
    assert err.__context__ is None


def test_missing_and_unreadable_files(site: Path) -> None:
    assert str(load_error(site / "nope.yaml")) == f"{site / 'nope.yaml'}: no such file"
    assert str(load_error(site / "pages")).startswith(f"{site / 'pages'}: cannot read the file")


def test_error_keeps_a_relative_path_as_given(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(site, "name: x\n", "bad.yaml")
    monkeypatch.chdir(site)
    assert str(load_error(Path("bad.yaml"))).startswith("bad.yaml:1: ")


def test_scenario_error_is_one_line_and_pickles() -> None:
    err = ScenarioError("a.yaml", 3, "first\nsecond")
    assert str(err) == "a.yaml:3: first second"
    assert str(ScenarioError(Path("a.yaml"), None, "gone")) == "a.yaml: gone"
    copy = pickle.loads(pickle.dumps(err))
    assert (str(copy), copy.file, copy.line, copy.message) == (
        str(err),
        Path("a.yaml"),
        3,
        "first second",
    )


@pytest.mark.parametrize(
    ("op", "count", "shown", "passes", "fails"),
    [
        ("==", 2, "2", [2], [1, 3]),
        (">=", 1, ">=1", [1, 5], [0]),
        ("<=", 2, "<=2", [0, 2], [3]),
        (">", 0, ">0", [1], [0]),
        ("<", 3, "<3", [2], [3, 4]),
    ],
)
def test_event_expectation(
    op: str, count: int, shown: str, passes: list[int], fails: list[int]
) -> None:
    expectation = EventExpectation(op, count)
    assert str(expectation) == shown
    assert all(expectation.satisfied_by(n) for n in passes)
    assert not any(expectation.satisfied_by(n) for n in fails)


# --- load_paths ---


def test_load_paths_searches_folders_recursively_in_order(site: Path) -> None:
    write(site, "page: ../pages/index.html\n", "suite/b.yaml")
    write(site, "page: ../pages/index.html\n", "suite/a.yml")
    write(site, "page: ../../pages/index.html\n", "suite/deep/c.yaml")
    write(site, "not a scenario", "suite/notes.txt")
    write(site, "not a scenario", "suite/deep/readme.md")
    (site / "suite" / "folder.yaml").mkdir()  # a folder, whatever its name
    names = [s.name for s in load_paths([site / "suite"])]
    assert names == ["a", "b", "c"]


def test_load_paths_keeps_argument_order_and_loads_each_file_once(site: Path) -> None:
    one = write(site, PAGE, "one.yaml")
    write(site, "page: ../pages/index.html\n", "more/two.yaml")
    other = write(site, PAGE, "other.txt")  # named explicitly: loaded whatever its extension
    scenarios = load_paths([one, str(site / "more"), other, site / "more" / "two.yaml"])
    assert [s.name for s in scenarios] == ["one", "two", "other"]


def test_load_paths_missing_path(site: Path) -> None:
    with pytest.raises(ScenarioError) as info:
        load_paths([site / "nope"])
    assert str(info.value) == f"{site / 'nope'}: no such file or folder"
    assert info.value.line is None


def test_load_paths_reports_a_bad_file_found_in_a_folder(site: Path) -> None:
    write(site, "page: ../pages/index.html\n", "suite/a.yaml")
    bad = write(site, "page: ../pages/index.html\nsteps:\n  - clik: x\n", "suite/b.yaml")
    with pytest.raises(ScenarioError) as info:
        load_paths([site / "suite"])
    assert str(info.value).startswith(f"{bad}:3: unknown step 'clik'")


# --- json_schema ---


def subschemas(schema: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema inside `schema`, with a dotted path of property names to it."""
    yield path, schema
    for name, sub in schema.get("properties", {}).items():
        yield from subschemas(sub, f"{path}.{name}" if path else name)
    if "items" in schema:
        yield from subschemas(schema["items"], path)
    for sub in schema.get("anyOf", []) + schema.get("oneOf", []):
        yield from subschemas(sub, path)


def types_of(schema: dict[str, Any]) -> list[str]:
    kind = schema.get("type", [])
    return [kind] if isinstance(kind, str) else list(kind)


def test_schema_is_draft07_json() -> None:
    schema = json_schema()
    assert json.loads(json.dumps(schema)) == schema
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"
    assert schema["type"] == "object"
    assert schema["oneOf"] == [{"required": ["page"]}, {"required": ["url"]}]


def test_schema_lists_every_key_step_and_event() -> None:
    props = json_schema()["properties"]
    assert list(props) == [
        "name",
        "description",
        "page",
        "url",
        "viewport",
        "recorder",
        "steps",
        "expect",
        "overhead",
        "ingest_faults",
        "known_failures",
    ]
    assert list(props["steps"]["items"]["properties"]) == list(STEP_KINDS)
    assert list(props["expect"]["properties"]["events"]["properties"]) == list(EVENT_KINDS)
    assert list(props["recorder"]["properties"]) == list(RecorderConfig.__dataclass_fields__)
    assert list(props["expect"]["properties"]) == list(Expect.__dataclass_fields__)
    assert list(props["overhead"]["properties"]) == list(OverheadConfig.__dataclass_fields__)
    assert list(props["viewport"]["properties"]) == ["width", "height"]


def test_schema_rejects_unknown_keys_everywhere() -> None:
    objects = [(path, sub) for path, sub in subschemas(json_schema()) if "object" in types_of(sub)]
    assert len(objects) > 20
    for path, sub in objects:
        if path == "recorder.options":  # adapter options are free by design
            assert "additionalProperties" not in sub
        elif path == "known_failures":  # recorder names are open-ended; reasons are text
            assert sub["additionalProperties"] == {"type": "string"}
        else:
            assert sub["additionalProperties"] is False, path


def test_schema_describes_every_key() -> None:
    for path, sub in subschemas(json_schema()):
        for name, prop in sub.get("properties", {}).items():
            assert prop.get("description"), f"{path}.{name}"


def test_schema_steps_have_one_key_each() -> None:
    items = json_schema()["properties"]["steps"]["items"]
    assert (items["minProperties"], items["maxProperties"]) == (1, 1)


def test_schema_defaults_match_the_dataclasses() -> None:
    props = json_schema()["properties"]
    assert props["viewport"]["properties"]["width"]["default"] == Viewport().width
    assert props["recorder"]["properties"]["mask_all_inputs"]["default"] is True
    assert props["recorder"]["properties"]["mask"]["default"] == []
    assert props["expect"]["properties"]["dom_similarity_min"]["default"] == 0.99
    assert props["overhead"]["properties"]["runs"]["default"] == 30
    click = props["steps"]["items"]["properties"]["click"]["anyOf"][1]["properties"]
    assert click["count"]["default"] == 1


def test_schema_knows_every_key_of_the_spec_example() -> None:
    """Walk the SPEC example alongside the schema: every key it uses is a property there."""

    def walk(data: Any, schema: dict[str, Any], path: str) -> None:
        if isinstance(data, dict):
            objects = [s for _, s in subschemas(schema) if "properties" in s]
            assert objects, path
            props = objects[0]["properties"]
            for key, value in data.items():
                assert key in props, f"{path}.{key}"
                if path != "recorder" or key != "options":
                    walk(value, props[key], f"{path}.{key}" if path else key)
        elif isinstance(data, list):
            arrays = [s for _, s in subschemas(schema) if "items" in s]
            for item in data:
                walk(item, arrays[0]["items"], path)

    data = yaml.safe_load((FIXTURES / "spec_example.yaml").read_text())
    walk(data, json_schema(), "")


def test_known_failures_name_recorders_and_reasons(site: Path) -> None:
    text = PAGE + "known_failures:\n  rrweb: does not record canvas\n"
    s = load_scenario(write(site, text, "known.yaml"))
    assert s.known_failures == {"rrweb": "does not record canvas"}
    assert load_scenario(write(site, PAGE, "none.yaml")).known_failures == {}


def test_known_failures_must_map_recorders_to_reasons(site: Path) -> None:
    text = PAGE + "known_failures:\n  - rrweb\n"
    path = write(site, text, "bad-known.yaml")
    err = load_error(path)
    assert str(err).startswith(f"{path}:{line_of(text, '- rrweb')}: ")
    assert "known_failures must be a mapping" in str(err)


# --- recorder.privacy presets ---


def recorder_of(site: Path, block: str, name: str = "privacy.yaml") -> RecorderConfig:
    return load_scenario(write(site, PAGE + "recorder:\n" + block, name)).recorder


def test_privacy_defaults_to_balanced_which_is_the_spec_default(site: Path) -> None:
    assert recorder_of(site, "  privacy: balanced\n") == RecorderConfig()
    assert RecorderConfig().privacy == "balanced"
    assert RecorderConfig.preset("balanced") == RecorderConfig()


def test_strict_masks_all_text_and_fields_and_blocks_media(site: Path) -> None:
    r = recorder_of(site, "  privacy: strict\n")
    assert (r.privacy, r.mask_all_text, r.mask_all_inputs, r.detect_pii) == (
        "strict",
        True,
        True,
        True,
    )
    assert r.block == MEDIA_BLOCK and r.strict
    assert {"img", "video", "canvas", "iframe", "svg"} <= set(r.block)


def test_relaxed_masks_passwords_and_pii_only(site: Path) -> None:
    r = recorder_of(site, "  privacy: relaxed\n")
    assert (r.mask_all_inputs, r.mask_all_text, r.detect_pii, r.block) == (False, False, True, ())


def test_explicit_keys_refine_the_preset(site: Path) -> None:
    r = recorder_of(
        site,
        '  privacy: strict\n  unmask: [".price"]\n  block: [".ad"]\n  mask_all_text: true\n'
        "  sample_rate: 0.5\n",
    )
    # Selectors add to the preset's own; other keys are the scenario's.
    assert r.unmask == (".price",) and r.block == (*MEDIA_BLOCK, ".ad")
    assert (r.mask_all_text, r.sample_rate) == (True, 0.5)
    # A boolean replaces the preset's where that does not weaken strict.
    relaxed = recorder_of(site, "  privacy: relaxed\n  mask_all_inputs: true\n", "r.yaml")
    assert (relaxed.mask_all_inputs, relaxed.privacy) == (True, "relaxed")
    balanced = recorder_of(site, "  privacy: balanced\n  detect_pii: false\n", "b.yaml")
    assert balanced == RecorderConfig(detect_pii=False)
    # A key written as null is absent: the preset's value stays.
    assert recorder_of(site, "  privacy: strict\n  mask_all_text:\n", "n.yaml").mask_all_text


def test_strict_cannot_be_weakened(site: Path) -> None:
    text = PAGE + f"recorder:\n  privacy: strict\n  mask_all_text: false  {MARK}\n"
    path = write(site, text, "weak.yaml")
    err = load_error(path)
    assert str(err).startswith(f"{path}:{line_of(text, MARK)}: ")
    assert "mask_all_text cannot be false" in str(err) and "unmask" in str(err)
    with pytest.raises(ValueError, match="mask_all_inputs"):
        RecorderConfig.preset("strict", mask_all_inputs=False)


def test_privacy_must_be_a_known_preset(site: Path) -> None:
    text = PAGE + f"recorder:\n  privacy: paranoid  {MARK}\n"
    path = write(site, text, "unknown.yaml")
    err = load_error(path)
    assert str(err).startswith(f"{path}:{line_of(text, MARK)}: ")
    assert "strict, balanced, relaxed" in str(err)
    with pytest.raises(ValueError):
        RecorderConfig(privacy="paranoid")


def test_schema_lists_the_privacy_presets() -> None:
    privacy = json_schema()["properties"]["recorder"]["properties"]["privacy"]
    assert privacy["enum"] == ["strict", "balanced", "relaxed"]
    assert privacy["default"] == "balanced" and "refine" in privacy["description"]


def test_schema_rejects_a_weakened_strict_as_the_loader_does() -> None:
    recorder = json_schema()["properties"]["recorder"]
    assert recorder["if"] == {
        "required": ["privacy"],
        "properties": {"privacy": {"const": "strict"}},
    }
    kept = recorder["then"]["properties"]
    assert kept == {
        name: {"const": True} for name in ("mask_all_inputs", "mask_all_text", "detect_pii")
    }
    assert all(name in recorder["properties"] for name in kept)
