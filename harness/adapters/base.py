"""The adapter interface: how one recorder is injected, marked, collected and replayed.

Every adapter speaks one small in-page protocol, so the harness never needs to know a recorder's
API: its record bundle defines `window.__rcRecorder = {checkpoint(name), flush()}` in the top
frame, and its replay bundle defines
`window.__rcReplay = {load(events, options), seek(name), frame()}` (options: `replay_options()`)
and optionally `maskedElements()` (elements whose content the recorder masked on purpose).
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypedDict

from playwright.sync_api import ElementHandle, Page

import recorder
from harness.compare.pixel import Rect
from harness.events import Interaction
from harness.scenario import RecorderConfig
from harness.server import Batch, Server, script_tag
from harness.stream import Event, Stream, Timeline, decode


class Masks(TypedDict):
    """Selectors of what a recorder leaves out (the page's `Masks`): `block`ed elements are
    not recorded at all; `text` masks the text of a match's subtree (and its fields); `fields`
    are form fields or editable blocks whose values are masked or not recorded; `unmask` keeps
    text and fields in the clear whatever `text` and `fields` say."""

    block: list[str]
    text: list[str]
    fields: list[str]
    unmask: list[str]


@dataclass(frozen=True)
class Readable:
    """What a `privacy: strict` recording holds that it promised not to: readable text (a text
    node, a comment, a human-readable attribute, a form value, a CSS `content:` string, the
    document title) or media content (an image, video, canvas or frame that is no placeholder)."""

    kind: str  # "text", "comment", "title", "value", "css", "attr:<name>", "media"
    text: str
    where: str  # "event 3, <p> text node 17"
    field: Any = None  # the form field's node id, for a value: its every value is one field's


# Attributes a page shows as text (recorder/src/record/serialize.ts, TEXT_ATTR).
TEXT_ATTRS = frozenset({"title", "alt", "placeholder", "label", "aria-label", "aria-description"})
BUTTON_TYPES = frozenset({"submit", "button", "reset"})  # an input's value is its label
FIELD_TAGS = frozenset({"input", "textarea", "select", "option"})  # a value attribute is data
# Elements strict blocks (scenario.MEDIA_BLOCK) by tag: their content is media, not text.
MEDIA_TAGS = frozenset(
    {"img", "picture", "svg", "video", "audio", "canvas", "iframe", "frame", "object", "embed"}
)
# Masking stars every character but spaces and hyphens (where text wraps: builtin keeps them).
_LEGIBLE = re.compile(r"[^\s*-]")
# A `content:` declaration or a custom property, and the strings in its value (what masked
# text masks in CSS).
_CSS_DRAWN = re.compile(r"(?:^|[;{\s])(?:content|--[\w-]+)\s*:([^;}]*)")
_CSS_STRING = re.compile(r"([\"'])((?:\\.|(?!\1)[^\\])*)\1")


def legible(text: str) -> bool:
    """Whether `text` has a character masking did not star."""
    return _LEGIBLE.search(text) is not None


def css_strings(css: str) -> Iterator[str]:
    """The readable strings CSS draws (`content:` and custom properties): masked text stars
    them."""
    for declaration in _CSS_DRAWN.finditer(css):
        for string in _CSS_STRING.finditer(declaration[1]):
            if legible(string[2]):
                yield string[2]


class StreamReader:
    """What each adapter's strict reader shares: the Readables found, and where it is."""

    def __init__(self) -> None:
        self.found: list[Readable] = []
        self.at = ""  # "event 3": set by the reader as it walks

    def add(self, kind: str, text: str, what: str, field: Any = None) -> None:
        self.found.append(Readable(kind, text, f"{self.at}, {what}", field))

    def text(self, kind: str, text: str, what: str, field: Any = None) -> None:
        if legible(text):
            self.add(kind, text, what, field)

    def css(self, css: str, what: str) -> None:
        for string in css_strings(css):
            self.add("css", string, what)


# Shipped in the wheel (package data), built by build.mjs.
DIST = Path(__file__).resolve().parent.parent / "js" / "dist"


def read_bundle(name: str) -> str:
    """A harness bundle (js/dist); FileNotFoundError says how to build it."""
    return recorder.bundle(name, DIST)


class Adapter(ABC):
    name: ClassVar[str]
    record_bundle: ClassVar[str]  # file in js/dist defining window.__rcRecorder
    replay_bundle: ClassVar[str]  # file in js/dist defining window.__rcReplay
    replay_css: ClassVar[tuple[Path, ...]] = ()
    timeline: ClassVar[Timeline]
    # Wait before a checkpoint mark so throttled observers (scroll, mouse) have emitted.
    checkpoint_settle_ms: ClassVar[int] = 0
    # Wait before the final flush so batched observers have emitted everything.
    final_settle_ms: ClassVar[int] = 0
    # What this recorder cannot keep out of a `privacy: strict` recording, by Readable kind
    # ("attr" for every attribute): the verdict still fails it, naming the gap.
    strict_gaps: ClassVar[Mapping[str, str]] = {}

    def check_bundles(self) -> None:
        """Raises FileNotFoundError, saying how to build them, when a file this adapter needs in
        the browser is missing: before a run, not in the middle of one."""
        for name in (self.record_bundle, self.replay_bundle, "harness.js", "harness-init.js"):
            read_bundle(name)
        for css in self.replay_css:
            recorder.bundle_path(css.name, css.parent)

    # Recording --------------------------------------------------------------------------------

    @abstractmethod
    def record_options(self, config: RecorderConfig) -> dict[str, Any]:
        """The recorder's own options for the shared privacy keys, raw `options` merged last."""

    def init_script(self, config: RecorderConfig, ingest_url: str, session: str) -> str:
        """The recorder as an init script, guarded so child frames evaluate nothing of it."""
        page_config = {
            "ingestUrl": ingest_url,
            "session": session,
            "sampleRate": config.sample_rate,
            "options": self.record_options(config),
        }
        return (
            "(function(){if(window.top!==window||location.protocol==='about:')return;"
            f"var __rcConfig={json.dumps(page_config)};\n{read_bundle(self.record_bundle)}\n}})();"
        )

    def head_html(
        self,
        config: RecorderConfig,
        ingest_url: str,
        session: str,
        asset: Callable[[str, str], str],
    ) -> str:
        """The markup first in the page's <head> under `--inject script-tag`: the recorder as a
        site installs it (here, a script tag loading it). `asset(suffix, body)` serves a
        script and returns its URL."""
        return script_tag(asset("", self.init_script(config, ingest_url, session)))

    def mark_checkpoint(self, page: Page, name: str) -> None:
        page.evaluate("n => window.__rcRecorder && window.__rcRecorder.checkpoint(n)", name)

    def flush(self, page: Page, deadline_ms: int | None = None) -> None:
        """Send what the recorder holds and wait for its answers; with `deadline_ms`, no longer
        than that (the recorder is given the deadline too: a hanging ingest must not hold the
        harness, whatever the recorder does with it)."""
        page.evaluate(
            """ms => {
              const r = window.__rcRecorder;
              if (!r) return null;
              const flushed = r.flush(ms ?? undefined);
              if (ms == null) return flushed;
              return Promise.race([flushed, new Promise(f => setTimeout(f, ms))]);
            }""",
            deadline_ms,
        )

    def decode(
        self,
        batches: list[Batch],
        attempted: Sequence[Batch] = (),
        emitted: Mapping[str, int] | None = None,
    ) -> Stream:
        """The stream of what the ingest received; `attempted`, every body the browser sent
        (answered or not), and `emitted`, events per page the recorder said it recorded, tell
        what was recorded but lost on the way."""
        return decode(batches, self.timeline, attempted, emitted)

    def readable(self, stream: Stream) -> list[Readable] | None:
        """Readable text and media content in `stream` (what `privacy: strict` promises to
        keep out), or None when this adapter does not read the stream's format: then strict
        cannot be verified, and the verdict says so."""
        return None

    def strict_gap(self, kind: str) -> str | None:
        """This recorder's known gap for a Readable kind, if it has one."""
        return self.strict_gaps.get(kind) or self.strict_gaps.get(kind.split(":", 1)[0])

    @abstractmethod
    def interactions(self, stream: Stream) -> list[Interaction]:
        """The stream's clicks, inputs, scrolls, moves, navigations and errors, and the
        checkpoint marks (kind "checkpoint")."""

    @abstractmethod
    def is_checkpoint_mark(self, event: Event) -> bool:
        """Whether `event` is a mark `mark_checkpoint` made: the harness's, not the recorder's."""

    @abstractmethod
    def masks(self, config: RecorderConfig) -> Masks:
        """What this recorder leaves out of a recording under `config`, by kind: the pixel score
        excludes each kind only where it changes the picture (harness/js/src/page.ts)."""

    def masked_selectors(self, config: RecorderConfig) -> list[str]:
        """Elements this recorder masks or blocks under `config`: the DOM comparison masks them."""
        masks = self.masks(config)
        return [*masks["fields"], *masks["text"], *masks["block"]]

    # Replay -----------------------------------------------------------------------------------

    def replay_url(self, server: Server) -> str:
        """A page that loads the replayer; served once per server."""
        hrefs = [
            server.add_asset(css.name, css.read_bytes(), "text/css") for css in self.replay_css
        ]
        links = "".join(f'<link rel="stylesheet" href="{href}">' for href in hrefs)
        script = server.add_asset(
            self.replay_bundle, read_bundle(self.replay_bundle), "text/javascript"
        )
        html = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            f"{links}<style>{REPLAY_PAGE_CSS}</style></head>"
            f"<body><div id='root'></div><script src='{script}'></script></body></html>"
        )
        return server.add_asset(
            f"replay-{self.name}.html",
            html,
            "text/html; charset=utf-8",
            {"Content-Security-Policy": REPLAY_PAGE_CSP, "Referrer-Policy": "no-referrer"},
        )

    def replay_options(self, config: RecorderConfig) -> dict[str, Any]:
        """The replayer's own options for a stream recorded under `config`: what its docs say a
        faithful replay of that recording needs."""
        return {}

    def load(self, page: Page, stream: Stream, config: RecorderConfig) -> None:
        # As JSON text: Playwright's structured serialization of a large event list takes
        # seconds per megabyte, JSON.parse in the page milliseconds.
        page.evaluate(
            "([text, options]) => window.__rcReplay.load(JSON.parse(text), options)",
            [stream.to_json(), self.replay_options(config)],
        )

    def replay_masked_rects(
        self, page: Page, frame: ElementHandle, config: RecorderConfig
    ) -> list[Rect]:
        """Regions of the replay at the current time that the recording masked on purpose:
        those the replay protocol's optional `maskedElements()` names, and the masked text and
        fields of `masks` as the replay shows them (a mask of another width). Excluded from pixel
        scores with those of `masks` on the live page; blocked elements are placed by the live
        page alone (a placeholder elsewhere is a difference)."""
        masks = self.masks(config)
        rects: list[list[float]] = page.evaluate(
            """([f, masks]) => [
                 ...(window.__rcReplay.maskedElements
                   ? window.__rcHarness.elementRects(window.__rcReplay.maskedElements(), f) : []),
                 ...window.__rcHarness.maskedRects(f.contentDocument, masks),
               ]""",
            [frame, {**masks, "block": []}],
        )
        return [(r[0], r[1], r[2], r[3]) for r in rects]

    def seek(self, page: Page, checkpoint: str) -> ElementHandle:
        """Seek to the checkpoint mark; returns the iframe holding the replayed document."""
        page.evaluate("n => window.__rcReplay.seek(n)", checkpoint)
        frame = page.evaluate_handle("() => window.__rcReplay.frame()").as_element()
        if frame is None:
            raise RuntimeError(f"{self.name} replayer has no frame after seeking to {checkpoint}")
        return frame


# The replayed page sits at the top-left corner, borderless, with any replayer overlay (cursor,
# click ripple, tail, controller) hidden: a fidelity screenshot shows only the page.
REPLAY_PAGE_CSS = (
    "html,body{margin:0;padding:0;overflow:hidden;background:#fff}"
    "#root,#root>*{position:absolute;left:0;top:0;margin:0;padding:0}"
    "iframe{border:0;display:block}"
    ".replayer-mouse,.replayer-mouse-tail,canvas.replayer-mouse-tail{display:none!important}"
)
# The replay page's own policy (recorder.REPLAY_PAGE_CSP), inherited by the replay frame's
# documents: what a replay may load comes from this server (where the harness serves the
# recorded pages) or data:/blob: URLs.
REPLAY_PAGE_CSP = recorder.REPLAY_PAGE_CSP
