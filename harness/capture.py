"""A checkpoint's evidence from one side (live page or replay): screenshot and canonical DOM."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from playwright.sync_api import Page

from harness.adapters.base import read_bundle
from harness.compare.pixel import Rect
from harness.masking import Sensitive
from harness.scenario import RecorderConfig


@dataclass(frozen=True)
class Capture:
    name: str
    png: bytes
    dom: dict[str, Any]
    url: str  # the recorded page's address: the replay resolves relative URLs against it
    masked: list[Rect] = field(default_factory=list)
    sensitive: list[Sensitive] = field(default_factory=list)  # live side only


class World(Protocol):
    """Where the page-side helpers run: a JavaScript world of a page's top frame."""

    def call(self, function: str, arg: Any = None) -> Any:
        """`function` (JS source) called with `arg`, awaited; its result by value."""

    def run(self, source: str) -> None:
        """A script evaluated for its effects."""


class PageWorld:
    """The page's own world: for the replay page, which is ours and runs no page scripts."""

    def __init__(self, page: Page) -> None:
        self.page = page

    def call(self, function: str, arg: Any = None) -> Any:
        return self.page.evaluate(function, arg)

    def run(self, source: str) -> None:
        self.page.evaluate(source)


class HarnessScriptError(Exception):
    """A page-side helper threw in the isolated world."""


class IsolatedWorld:
    """A world of a recorded page that its scripts cannot reach (the DevTools protocol's isolated
    world, as extensions and Playwright's own utility script use): the page's DOM, but built-ins
    and DOM prototypes of its own, so a page replacing `Array.from`, `Element.prototype.matches`,
    `JSON.stringify` or `MutationObserver` cannot break or fool a verdict. Named properties (DOM
    clobbering) reach every world: harness/js/src/dom.ts goes around them."""

    NAME = "replaycheck-harness"

    def __init__(self, page: Page) -> None:
        self._cdp = page.context.new_cdp_session(page)
        self._cdp.send("Page.enable")  # else scripts added for new documents never run

    def add_init_script(self, source: str) -> None:
        """Run `source` in this world of every frame, before the page's own scripts."""
        self._cdp.send(
            "Page.addScriptToEvaluateOnNewDocument", {"source": source, "worldName": self.NAME}
        )

    def _context(self) -> int:
        # The top frame's context in this world: one per document, created on first use, the
        # same one (with the init script's state) for every call with the same name.
        frame = self._cdp.send("Page.getFrameTree")["frameTree"]["frame"]["id"]
        world = self._cdp.send(
            "Page.createIsolatedWorld", {"frameId": frame, "worldName": self.NAME}
        )
        return int(world["executionContextId"])

    def call(self, function: str, arg: Any = None) -> Any:
        answer = self._cdp.send(
            "Runtime.callFunctionOn",
            {
                "functionDeclaration": function,
                "executionContextId": self._context(),
                "arguments": [{"value": arg}],
                "awaitPromise": True,
                "returnByValue": True,
            },
        )
        return _value(answer)

    def run(self, source: str) -> None:
        _value(
            self._cdp.send(
                "Runtime.evaluate",
                {"expression": source, "contextId": self._context(), "awaitPromise": True},
            )
        )


def _value(answer: dict[str, Any]) -> Any:
    details = answer.get("exceptionDetails")
    if details:
        thrown = details.get("exception", {}).get("description") or details.get("text", "")
        raise HarnessScriptError(str(thrown).splitlines()[0] if thrown else "script failed")
    return answer["result"].get("value")


def ensure_harness(world: World) -> None:
    """Load the page-side helpers (global __rcHarness) once per document."""
    if not world.call("() => typeof globalThis.__rcHarness !== 'undefined'"):
        world.run(read_bundle("harness.js"))


def canonical_dom(world: World, document: str, options: dict[str, Any], arg: Any = None) -> Any:
    """The canonical tree of `document` (a JS expression over `arg`), shipped as one JSON string:
    a 30,000-node tree crosses the Playwright channel ten times faster that way."""
    text = world.call(
        f"([arg, o]) => JSON.stringify(globalThis.__rcHarness.canonicalDom({document}, o))",
        [arg, options],
    )
    return json.loads(text)


def sensitive_content(world: World, config: RecorderConfig) -> list[Sensitive]:
    """What on the live page could hold private data, and where (harness/js/src/sensitive.ts)."""
    items = world.call(
        "s => JSON.stringify(globalThis.__rcHarness.sensitiveContent(document, s))",
        {"mask": list(config.mask), "unmask": list(config.unmask), "block": list(config.block)},
    )
    return [Sensitive(**item) for item in json.loads(items)]


def canon_options(config: RecorderConfig, masked_selectors: list[str]) -> dict[str, Any]:
    """What the canonicaliser treats as masked: the same on the live and the replay side."""
    return {
        "mask": [*config.mask, *masked_selectors],
        "block": list(config.block),
        "maskAllInputs": config.mask_all_inputs,
        "maskAllText": config.mask_all_text,
        "ignore": list(config.ignore),
    }
