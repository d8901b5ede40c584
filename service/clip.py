"""`replaycheck clip`: a moment of a stored session as an animated WebP (or an MP4).

The session's batches (what /api/sessions/ID/batches serves) are replayed in headless Chromium
by the builtin replayer (recorder/dist/replay.js), seeked frame by frame through [start, end];
each frame is a screenshot of the replayed page at the recorded viewport, with the cursor, click
ripples and the session time drawn on it with Pillow. Frames are encoded as they are made (never
all in memory). docs/clip.md.

    info = render_clip(store, "default", "visit-1", 2000, 8000, Path("clip.webp"), fps=10)

Safe to call from a worker thread (a threadpool): each call runs its own Playwright and Chromium
unless given a `browser`, which must belong to the calling thread.
"""

from __future__ import annotations

import base64
import bisect
import io
import json
import math
import os
import queue
import secrets
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import Browser, Route, sync_playwright
from playwright.sync_api import Error as PlaywrightError

import recorder
from harness.browser import BrowserUnavailable, launch
from service.store import Store

DEFAULT_FPS = 10
MAX_FPS = 30
MAX_SPAN_MS = 5 * 60 * 1000  # five minutes of session per clip
MAX_FRAMES = 3000  # five minutes at 10 fps
MAX_PIXELS = 3840 * 2160  # a frame's size: a 4K screen
DEFAULT_VIEWPORT = (1280, 720)  # a stream without Meta or Viewport (not from our recorder)
RIPPLE_MS = 500  # as long as the viewer's ripple (recorder/src/replay/overlay.ts)
RIPPLE_RGB = (230, 40, 40)
# Two pointer samples closer than this are one movement: the cursor glides between them.
GLIDE_MS = 250
# A seek's images and fonts: the page has no network (see _Replay), so this only bounds a wait.
READY_TIMEOUT_MS = 1000
# A frame SETTLE_MS after the last change reuses the screenshot before it (the page is still:
# idle stretches cost no screenshot); within it each frame is shot (a CSS transition plays).
SETTLE_MS = 1000
# The page the replay runs in: a made-up origin, answered by the route (no server, no port).
ORIGIN = "http://replaycheck-clip.invalid"

# Event numbers of recorder/src/format.ts.
META, MOUSE_MOVE, MOUSE, VIEWPORT = 0, 5, 6, 7
CLICK, DBLCLICK = 2, 3

# The cursor the viewer's overlay draws (recorder/src/replay/overlay.ts, its SVG path), tip at 1,1.
ARROW = [(1, 1), (1, 19), (5.5, 14.5), (9, 22.5), (12, 21.2), (8.5, 13.5), (15, 13.5)]

# The replayed page at the top-left corner, borderless, nothing of the replayer's own on it.
PAGE_CSS = (
    "html,body{margin:0;padding:0;overflow:hidden;background:#fff}"
    "#root,#root>*{position:absolute;left:0;top:0;margin:0;padding:0}iframe{border:0;display:block}"
)
PAGE_HTML = (
    "<!doctype html><html><head><meta charset='utf-8'><style>" + PAGE_CSS + "</style></head>"
    "<body><div id='root'></div><script src='/replay.js'></script></body></html>"
)


class ClipError(Exception):
    """A clip that cannot be made as asked: one line saying what is wrong and what to do."""


class SessionNotFound(ClipError):
    """No such session (in that project): a route answers 404."""


@dataclass(frozen=True)
class ClipInfo:
    frames: int  # frames rendered (the WebP encoder merges identical neighbours into one)
    width: int
    height: int
    bytes: int  # size of the written file
    duration_ms: float  # end - start


@dataclass(frozen=True)
class _Point:
    t: float  # absolute epoch ms
    x: float
    y: float


class _Timeline:
    """The events as the replayer orders them (fromBatches, then its own filter and raise), and
    what the frames need from them: the offsets, the viewport, the pointer."""

    def __init__(self, batches: list[Any]) -> None:
        good = [
            b
            for b in batches
            if isinstance(b, dict)
            and isinstance(b.get("events"), list)
            and _number(b.get("page"))
            and _number(b.get("seq"))
        ]
        good.sort(key=lambda b: (b["page"], b["seq"]))
        self.events: list[list[Any]] = []
        last = -math.inf
        for batch in good:
            for e in batch["events"]:
                if not (isinstance(e, list) and len(e) >= 2 and _integer(e[0]) and _number(e[1])):
                    continue  # the replayer skips it too
                # A time before its predecessor's (a page's tail sent while the next page
                # loads) is raised to it, as the replayer does.
                last = max(last, e[1] + batch["page"])
                self.events.append([e[0], last, *e[2:]])
        self.start = self.events[0][1] if self.events else 0.0
        self.duration = (self.events[-1][1] - self.start) if self.events else 0.0
        points: list[_Point] = []
        self.clicks: list[_Point] = []
        for e in self.events:
            if e[0] == MOUSE_MOVE and len(e) >= 3 and isinstance(e[2], list):
                points += [
                    _Point(e[1] + p[2], p[0], p[1])
                    for p in e[2]
                    if isinstance(p, list) and len(p) >= 3 and all(_number(v) for v in p[:3])
                ]
            elif e[0] == MOUSE and len(e) >= 6 and _number(e[4]) and _number(e[5]):
                points.append(_Point(e[1], e[4], e[5]))
                if e[2] in (CLICK, DBLCLICK):
                    self.clicks.append(_Point(e[1], e[4], e[5]))
        points.sort(key=lambda p: p.t)
        self.points = points
        self._times = [p.t for p in points]
        # When the replayed page may look different: an event, or a pointer sample (hover).
        self.changes = sorted([e[1] for e in self.events] + self._times)

    def still(self, offset: float, shot: float) -> bool:
        """Whether the page at `offset` looks as it did at `shot` (an earlier offset): nothing
        happened since SETTLE_MS before `shot`, so transitions and loads it started are over."""
        i = bisect.bisect_right(self.changes, self.start + offset) - 1
        return i < 0 or self.changes[i] < self.start + shot - SETTLE_MS

    def viewport(self, offset: float, fallback: tuple[int, int] | None) -> tuple[int, int]:
        """The replayed viewport at `offset`: the last Meta or Viewport by then (the first one
        when none is yet)."""
        found: tuple[int, int] | None = None
        for e in self.events:
            if e[1] - self.start > offset and found:
                break
            size = None
            if e[0] == META and len(e) >= 6:
                size = e[4], e[5]
            elif e[0] == VIEWPORT and len(e) >= 4:
                size = e[2], e[3]
            if size and all(_number(v) and v > 0 for v in size):
                found = (round(size[0]), round(size[1]))
        return found or fallback or DEFAULT_VIEWPORT

    def cursor(self, now: float) -> tuple[float, float] | None:
        """The pointer at absolute time `now`: the last sample, gliding to the next when the two
        are one movement (the recorder samples every ~50 ms; a clip frame falls in between)."""
        i = bisect.bisect_right(self._times, now) - 1
        if i < 0:
            return None
        p = self.points[i]
        if i + 1 < len(self.points):
            q = self.points[i + 1]
            if 0 < q.t - p.t <= GLIDE_MS:
                k = (now - p.t) / (q.t - p.t)
                return p.x + (q.x - p.x) * k, p.y + (q.y - p.y) * k
        return p.x, p.y


def _number(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _integer(v: object) -> bool:
    return isinstance(v, int | float) and _number(v) and float(v).is_integer()


def frame_plan(start_ms: float, end_ms: float, fps: int) -> list[tuple[float, int]]:
    """(offset, duration in ms) of each frame: one every 1000/fps ms from `start_ms`, the last
    one ending at `end_ms`; durations are whole ms that add up to end - start."""
    step = 1000 / fps
    count = max(1, math.ceil((end_ms - start_ms) / step - 1e-9))
    edges = [round(min(k * step, end_ms - start_ms)) for k in range(count)] + [
        round(end_ms - start_ms)
    ]
    return [(start_ms + k * step, max(1, edges[k + 1] - edges[k])) for k in range(count)]


def render_clip(
    store: Store,
    project: str | None,
    session_id: str,
    start_ms: float,
    end_ms: float,
    out: Path,
    fps: int = DEFAULT_FPS,
    *,
    browser: Browser | None = None,
) -> ClipInfo:
    """Render [start_ms, end_ms) of the session (offsets from its first event, as the viewer's
    `?t=`) to `out`: an animated WebP, or an MP4 when `out` ends in .mp4 (ffmpeg on PATH).
    `project` None: the session's project, looked up (it must be in exactly one). Raises
    SessionNotFound or ClipError (one line) for anything asked that cannot be made; `out` is
    written whole or not at all."""
    mp4 = _check_output(out)
    if not 1 <= fps <= MAX_FPS:
        raise ClipError(f"--fps {fps}: from 1 to {MAX_FPS} frames per second")
    if not (_number(start_ms) and _number(end_ms)) or start_ms < 0:
        raise ClipError(f"--from {start_ms}: a time of 0 ms or more is needed")
    if start_ms >= end_ms:
        raise ClipError(f"--from {start_ms:g} must be before --to {end_ms:g} (ms from the start)")
    if end_ms - start_ms > MAX_SPAN_MS:
        raise ClipError(
            f"--from {start_ms:g} --to {end_ms:g}: {(end_ms - start_ms) / 1000:g} s asked,"
            f" a clip is at most {MAX_SPAN_MS // 1000} s: make several"
        )
    plan = frame_plan(start_ms, end_ms, fps)
    if len(plan) > MAX_FRAMES:
        raise ClipError(
            f"{len(plan)} frames asked, a clip has at most {MAX_FRAMES}: lower --fps or the range"
        )
    project = _project_of(store, project, session_id)
    row = store.session(project, session_id)
    if row is None:
        raise SessionNotFound(f"no session {session_id!r} in project {project!r}")
    if row.format == "rrweb":
        raise ClipError(
            f"session {session_id} was recorded with rrweb: clip plays sessions of the builtin"
            " recorder only (the builtin replayer cannot play rrweb's events)"
        )
    # Import here: service.app may import this module for its route.
    from service.app import batches_json

    stream = json.loads(batches_json(store, project, session_id, row.format or "builtin"))
    timeline = _Timeline(stream["batches"])
    if not timeline.events:
        raise ClipError(f"session {session_id} has no replayable events yet")
    if end_ms > timeline.duration:
        raise ClipError(
            f"--to {end_ms:g}: session {session_id} is {timeline.duration:.0f} ms long"
            f" (times are ms from its start, 0 to {timeline.duration:.0f})"
        )
    width, height = timeline.viewport(start_ms, row.viewport)
    if width * height > MAX_PIXELS:
        raise ClipError(f"the recorded viewport {width}x{height} is larger than a clip renders")
    painter = _Painter(timeline, width, height, fps)
    try:
        with _Replay(browser, timeline.events, width, height) as replay:
            written = _pipeline(
                replay, timeline, painter, plan, lambda frame: _write(out, mp4, plan, fps, frame)
            )
    except PlaywrightError as e:
        # A stream the replayer cannot rebuild, a browser that crashed: one line, not a trace.
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ClipError(f"the replay of session {session_id} failed: {first}") from None
    return ClipInfo(len(plan), width, height, written, end_ms - start_ms)


class _Aborted(Exception):
    """The capturing side failed: the encoder stops (its error is the one raised)."""


def _pipeline(
    replay: _Replay,
    timeline: _Timeline,
    painter: _Painter,
    plan: list[tuple[float, int]],
    write: Callable[[Callable[[int], Image.Image]], int],
) -> int:
    """Screenshots are taken in this thread (Playwright's objects belong to the thread that made
    them); decoding, painting and encoding run in another, so Chromium renders the next frame
    while the last one is encoded. `write` gets frame(k) for k = 0, 1, ...; its result."""
    shots: queue.Queue[bytes | _Aborted | None] = queue.Queue(maxsize=8)
    done = threading.Event()
    written: list[int] = []
    failed: list[BaseException] = []
    base: list[Image.Image] = []

    def frame(k: int) -> Image.Image:
        item = shots.get()
        if isinstance(item, _Aborted):
            raise item
        if item is not None:  # None: the page is still, the last screenshot stands
            shot = Image.open(io.BytesIO(item)).convert("RGB")
            base[:] = [shot if shot.size == painter.size else shot.resize(painter.size)]
        image = base[0].copy()
        painter.paint(image, plan[k][0])
        return image

    def encode() -> None:
        try:
            written.append(write(frame))
        except BaseException as e:
            failed.append(e)
        finally:
            done.set()

    def send(item: bytes | _Aborted | None) -> None:
        while not done.is_set():
            try:
                shots.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    encoder = threading.Thread(target=encode, name="clip-encoder", daemon=True)
    encoder.start()
    try:
        shot_at: float | None = None
        for offset, _ in plan:
            if done.is_set():
                break  # the encoder failed: its error follows
            if shot_at is None or not timeline.still(offset, shot_at):
                send(replay.capture(offset))
                shot_at = offset
            else:
                send(None)
    except BaseException:
        send(_Aborted())
        encoder.join()
        raise
    encoder.join()
    if failed:
        raise failed[0]
    return written[0]


def _check_output(out: Path) -> bool:
    """True for an MP4; a ClipError for an output that cannot be written (before any work)."""
    suffix = out.suffix.lower()
    if suffix not in (".webp", ".mp4"):
        raise ClipError(f"-o {out}: the file must end in .webp (animated WebP) or .mp4")
    if suffix == ".mp4" and shutil.which("ffmpeg") is None:
        raise ClipError(
            f"-o {out}: MP4 needs ffmpeg on PATH, and there is none: install it"
            " (apt-get install ffmpeg) or write a .webp"
        )
    parent = out.parent if str(out.parent) else Path(".")
    if out.is_dir():
        raise ClipError(f"-o {out}: a directory; give a file name")
    if not parent.is_dir():
        raise ClipError(f"-o {out}: no directory {parent}; create it first")
    if not os.access(parent, os.W_OK | os.X_OK) or (out.exists() and not os.access(out, os.W_OK)):
        raise ClipError(f"-o {out}: not writable here; choose another path")
    with _temporary(out):
        pass  # a file can be made there (a read-only filesystem passes the checks above)
    return suffix == ".mp4"


def _project_of(store: Store, project: str | None, session_id: str) -> str:
    if project is not None:
        if store.project(project) is None:
            raise SessionNotFound(f"no project {project!r} in this store")
        return project
    holders = [p.id for p in store.projects() if store.session(p.id, session_id) is not None]
    if not holders:
        raise SessionNotFound(
            f"no session {session_id!r} in this store: see the viewer's list for ids,"
            " or check --store"
        )
    if len(holders) > 1:
        raise ClipError(
            f"session {session_id!r} is in projects {', '.join(holders)}: add --project"
        )
    return holders[0]


class _Painter:
    """What is drawn over a replayed frame: click ripples, the cursor, the session time."""

    def __init__(self, timeline: _Timeline, width: int, height: int, fps: int) -> None:
        self.timeline = timeline
        self.fps = fps
        self.width = width
        self.height = height
        self.size = (width, height)
        self.font = ImageFont.load_default(size=13)
        self.click_times = [c.t for c in timeline.clicks]

    def paint(self, image: Image.Image, offset: float) -> None:
        now = self.timeline.start + offset
        layer = Image.new("RGBA", image.size, (0, 0, 0, 0))
        draw = ImageDraw.Draw(layer)
        lo = bisect.bisect_left(self.click_times, now - RIPPLE_MS)
        for click in self.timeline.clicks[lo:]:
            age = now - click.t
            if age < 0:
                break
            # A ring growing from 8 to 24 px, fading (not to nothing:
            # at 10 fps its last frame must still show).
            k = age / RIPPLE_MS
            r = 8 + 16 * k
            alpha = round(255 * (1 - 0.7 * k))
            box = (click.x - r, click.y - r, click.x + r, click.y + r)
            draw.ellipse(box, outline=(*RIPPLE_RGB, alpha), width=3)
        at = self.timeline.cursor(now)
        if at is not None:
            arrow = [(at[0] + x - 1, at[1] + y - 1) for x, y in ARROW]
            draw.polygon(arrow, fill=(17, 17, 17, 255), outline=(255, 255, 255, 255), width=1)
        # The session time, bottom right: where in the session a clip shows (and every frame
        # differs, so the encoder merges none: a clip has its duration x fps frames).
        label = _clock(offset, self.fps)
        _, _, w, h = draw.textbbox((0, 0), label, font=self.font)
        where = (self.width - w - 14, self.height - h - 12)
        box = draw.textbbox(where, label, font=self.font)
        draw.rounded_rectangle(
            (box[0] - 6, box[1] - 4, box[2] + 6, box[3] + 4), radius=4, fill=(0, 0, 0, 150)
        )
        draw.text(where, label, font=self.font, fill=(255, 255, 255, 255))
        image.paste(Image.alpha_composite(image.convert("RGBA"), layer).convert("RGB"))


def _clock(offset: float, fps: int) -> str:
    """m:ss.t, or m:ss.cc above 10 fps: a new label every frame."""
    if fps <= 10:
        tenths = int(offset // 100)
        return f"{tenths // 600}:{tenths // 10 % 60:02d}.{tenths % 10}"
    cents = int(offset // 10)
    return f"{cents // 6000}:{cents // 100 % 60:02d}.{cents % 100:02d}"


class _Replay:
    """The builtin replayer in a page of its own, at the recorded viewport: seek, screenshot."""

    def __init__(
        self, browser: Browser | None, events: list[list[Any]], width: int, height: int
    ) -> None:
        self._given = browser
        self._events = events
        self._size = (width, height)
        self._stack: list[Callable[[], None]] = []

    def __enter__(self) -> _Replay:
        try:
            self._script = recorder.bundle("replay.js")
        except FileNotFoundError as e:
            raise ClipError(str(e)) from None
        try:
            browser = self._given
            if browser is None:
                playwright = sync_playwright().start()
                self._stack.append(playwright.stop)
                try:
                    browser = launch(playwright)
                except BrowserUnavailable as e:
                    raise ClipError(str(e)) from None
                self._stack.append(browser.close)
            width, height = self._size
            context = browser.new_context(
                viewport={"width": width, "height": height}, device_scale_factor=1
            )
            self._stack.append(context.close)
            # No network: the page and the replayer come from this route, anything else the
            # replayed page asks for is refused (a recorded page is attacker-controlled: a
            # server rendering it must not fetch what it names).
            context.route("**/*", self._answer)
            self.page = context.new_page()
            self.page.goto(ORIGIN + "/", wait_until="load")
            self.page.evaluate(
                """text => {
                    const R = window.replaycheckReplay;
                    const root = document.getElementById("root");
                    window.__clip = new R.Replayer(JSON.parse(text),
                        {root, showCursor: false, keyframes: false});
                }""",
                json.dumps(self._events),
            )
            self._cdp = context.new_cdp_session(self.page)
            self._stack.append(self._cdp.detach)
        except BaseException:
            self.close()
            raise
        return self

    def _answer(self, route: Route) -> None:
        url = route.request.url
        if url == ORIGIN + "/":
            headers = {"Content-Security-Policy": recorder.REPLAY_PAGE_CSP}
            route.fulfill(body=PAGE_HTML, content_type="text/html; charset=utf-8", headers=headers)
        elif url == ORIGIN + "/replay.js":
            route.fulfill(body=self._script, content_type="text/javascript")
        else:
            route.abort("blockedbyclient")

    def capture(self, offset: float) -> bytes:
        """The replayed page at `offset` (ms from the session start), as a PNG."""
        self.page.evaluate(
            """([t, wait]) => {
                window.__clip.seek(t);
                return Promise.race([window.__clip.ready(),
                                     new Promise(done => setTimeout(done, wait))]);
            }""",
            [offset, READY_TIMEOUT_MS],
        )
        width, height = self._size
        shot = self._cdp.send(
            "Page.captureScreenshot",
            {
                "format": "png",
                "optimizeForSpeed": True,
                "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
            },
        )
        return base64.b64decode(shot["data"])

    def close(self) -> None:
        while self._stack:
            # The browser may have gone away first: nothing left to close then.
            with suppress(PlaywrightError):
                self._stack.pop()()

    def __exit__(self, *exc: object) -> None:
        self.close()


class _FrameStream(Image.Image):
    """A multi-frame image whose frame k is made when the encoder seeks to it: Pillow's WebP
    writer takes the frames one by one (seek, encode), so a clip is never all in memory."""

    def __init__(self, count: int, make: Callable[[int], Image.Image]):
        super().__init__()
        self._mode = "RGB"
        self.n_frames = count
        self._make = make
        self._at = -1
        self.seek(0)

    def seek(self, frame: int) -> None:
        # One pass, forwards: the writer's closing seek back to frame 0 keeps the last frame.
        if frame > self._at:
            image = self._make(frame)
            self.im = image.im
            self._size = image.size
            self._at = frame

    def tell(self) -> int:
        return max(self._at, 0)


def _write(
    out: Path,
    mp4: bool,
    plan: list[tuple[float, int]],
    fps: int,
    frame: Callable[[int], Image.Image],
) -> int:
    """Encode the frames into a temporary file beside `out`, then move it there: its size."""
    with _temporary(out) as tmp:
        if mp4:
            _write_mp4(tmp, len(plan), fps, frame)
        else:
            stream = _FrameStream(len(plan), frame)
            stream.save(
                tmp,
                "WEBP",
                save_all=True,
                duration=[d for _, d in plan],
                loop=0,
                # Lossless (exact colours, and flat pages compress well). Method 1 at the least
                # effort: 5x smaller than method 0 (its colour cache) and about as fast.
                lossless=True,
                quality=0,
                method=1,
            )
        written = tmp.stat().st_size
        tmp.replace(out)
    return written


def _write_mp4(tmp: Path, count: int, fps: int, frame: Callable[[int], Image.Image]) -> None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        raise ClipError("MP4 needs ffmpeg on PATH, and there is none: install it or write .webp")
    first = frame(0)  # its size is the video's
    width, height = first.size
    command = [
        ffmpeg, "-hide_banner", "-loglevel", "error", "-y",
        "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{width}x{height}", "-framerate", str(fps),
        "-i", "-",
        # H.264 in yuv420p (what players take) needs even sides.
        "-vf", "pad=ceil(iw/2)*2:ceil(ih/2)*2:color=white",
        "-c:v", "libx264", "-pix_fmt", "yuv420p", "-movflags", "+faststart",
        "-f", "mp4", str(tmp),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stderr=subprocess.PIPE)
    assert process.stdin is not None
    try:
        process.stdin.write(first.tobytes())
        for k in range(1, count):
            process.stdin.write(frame(k).tobytes())
        process.stdin.close()
    except BrokenPipeError:
        pass  # ffmpeg stopped: its own message follows
    except BaseException:
        process.kill()
        process.wait()
        raise
    error = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.wait() != 0:
        line = error.strip().splitlines()[-1] if error.strip() else f"status {process.returncode}"
        raise ClipError(f"ffmpeg could not write the MP4: {line}")


@contextmanager
def _temporary(out: Path) -> Iterator[Path]:
    """A new file beside `out` (same filesystem: the final move is atomic), gone on failure.
    Made with the umask's mode, as `out` would be (mkstemp's is 0600)."""
    parent = out.parent if str(out.parent) else Path(".")
    tmp = parent / f".{out.stem}.{secrets.token_hex(6)}{out.suffix}"
    try:
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as e:
        why = e.strerror or type(e).__name__
        raise ClipError(f"-o {out}: cannot write there ({why}); choose another path") from None
    try:
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)
