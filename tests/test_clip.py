"""`replaycheck clip`: a session recorded through a running server's ingest, rendered by the CLI
to an animated WebP, and the frames checked pixel by pixel: the page as it was at each moment,
the cursor where the pointer was, a ripple where the click was. Then the refusals: one line,
exit 2."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from harness.worker import Worker
from tests.serve_helpers import (
    REPLAYCHECK,
    ROOT,
    Running,
    cli,
    record_scenario,
    running_server,
)

WIDTH, HEIGHT = 1100, 640  # not the 1280x720 default: the clip must take the recorded one
BAR = (20, 110, 200)  # the header bar's colour
BEFORE = (240, 200, 40)  # #out before the click
AFTER = (120, 40, 160)  # #out after it
BUTTON = (360, 220)  # the centre of #go, where the click lands
PARKED = (600, 450)  # where the pointer rests before the click
FPS = 10

PAGE = f"""<!doctype html><html><head><meta charset="utf-8"><title>Clip</title><style>
body {{ margin: 0; background: #f4f4f0; font: 16px sans-serif; }}
#bar {{ position: absolute; left: 0; top: 0; width: 100%; height: 80px; background: rgb{BAR}; }}
#go {{ position: absolute; left: 300px; top: 200px; width: 120px; height: 40px; border: 0;
  background: rgb(30, 150, 80); color: #fff; }}
#out {{ position: absolute; left: 40px; top: 400px; width: 200px; height: 100px;
  background: rgb{BEFORE}; }}
</style></head><body><div id="bar"></div>
<button id="go" onclick="document.getElementById('out').style.background='rgb{AFTER}'">Go</button>
<div id="out"></div></body></html>
"""

SCENARIO = f"""name: clip
page: clip.html
viewport: {{width: {WIDTH}, height: {HEIGHT}}}
steps:
  - mouse: {{path: [[100, 300], [{PARKED[0]}, {PARKED[1]}]], steps: 12}}
  - wait: 800
  - click: "#go"
  - wait: 1500
  - checkpoint: done
"""


@dataclass
class Recorded:
    server: Running
    session: str
    rrweb: str
    duration_ms: float
    click_ms: float  # the click, ms from the session's start (the API's marker)
    viewport: dict[str, int]


@pytest.fixture(scope="module")
def recorded(worker: Worker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Recorded]:
    tmp = tmp_path_factory.mktemp("clip")
    (tmp / "clip.html").write_text(PAGE)
    (tmp / "clip.yaml").write_text(SCENARIO)
    with running_server(tmp) as server:
        _, session = record_scenario(worker, server, tmp / "clip.yaml")
        _, rrweb = record_scenario(worker, server, ROOT / "scenarios/js-error.yaml", "rrweb")
        status, detail = server.api(f"/api/sessions/{session}")
        assert status == 200, detail
        clicks = [m["t"] for m in detail["markers"] if m["kind"] == "click"]
        assert len(clicks) == 1, detail["markers"]
        yield Recorded(server, session, rrweb, detail["duration_ms"], clicks[0], detail["viewport"])


def frames(path: Path) -> tuple[list[Image.Image], list[int]]:
    """Every frame of an animated image (RGB) and its duration in ms."""
    images, durations = [], []
    with Image.open(path) as clip:
        assert clip.format == "WEBP" and getattr(clip, "is_animated", False)
        for k in range(getattr(clip, "n_frames", 1)):
            clip.seek(k)
            images.append(clip.convert("RGB"))
            durations.append(int(clip.info["duration"]))
    return images, durations


def near(pixel: Any, rgb: tuple[int, int, int], tolerance: int = 8) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel[:3], rgb, strict=True))


def count(image: Image.Image, box: tuple[int, int, int, int], test: Any) -> int:
    """Pixels in box (left, top, right, bottom) for which test(pixel) holds."""
    x0, y0, x1, y1 = box
    return sum(test(image.getpixel((x, y))) for x in range(x0, x1) for y in range(y0, y1))


def red(p: Any) -> bool:
    return bool(p[0] > 170 and p[1] < 110 and p[2] < 110)


def dark(p: Any) -> bool:
    return bool(max(p[:3]) < 60)


def test_clip_renders_the_session_with_cursor_and_ripple(
    recorded: Recorded, tmp_path: Path
) -> None:
    # From before the click to well after it: the click is about 1 s after the start.
    start = max(0.0, round(recorded.click_ms - 1000))
    end = min(recorded.duration_ms, start + 2500)
    out = tmp_path / "clip.webp"
    done = cli("clip", recorded.session, "--from", str(start), "--to", str(end), "-o", str(out),
               "--fps", str(FPS), "--store", recorded.server.store_url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert str(out) in done.stdout and "frames" in done.stdout
    umask = os.umask(0)
    os.umask(umask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~umask  # as any new file, not 0600
    assert [p.name for p in tmp_path.iterdir()] == ["clip.webp"]  # no temporary file left

    images, durations = frames(out)
    expected = (end - start) * FPS / 1000
    assert abs(len(images) - expected) <= 1, (len(images), expected)
    assert abs(sum(durations) - (end - start)) <= 1000 / FPS
    assert all(d == pytest.approx(1000 / FPS, abs=1) for d in durations[:-1]), durations
    # The recorded viewport, as the API has it.
    assert recorded.viewport == {"width": WIDTH, "height": HEIGHT}
    assert all(image.size == (WIDTH, HEIGHT) for image in images)

    def at(ms: float) -> Image.Image:
        """The frame showing the moment `ms` from the session start (the first at or after it)."""
        k = -int(-(ms - start) * FPS // 1000)
        return images[min(k, len(images) - 1)]

    click = recorded.click_ms
    before, clicked, later = at(click - 300), at(click), at(click + 1000)
    # The page: its header bar throughout, #out yellow before the click and purple after.
    for image in (before, clicked, later):
        assert near(image.getpixel((WIDTH // 2, 40)), BAR), image.getpixel((WIDTH // 2, 40))
    assert near(before.getpixel((140, 450)), BEFORE), before.getpixel((140, 450))
    assert near(later.getpixel((140, 450)), AFTER), later.getpixel((140, 450))

    # The ripple: red around the click in the frame at the click, none there before or long after.
    ring = (BUTTON[0] - 25, BUTTON[1] - 25, BUTTON[0] + 25, BUTTON[1] + 25)
    assert count(clicked, ring, red) >= 20, count(clicked, ring, red)
    assert count(before, ring, red) == 0
    assert count(later, ring, red) == 0
    # The cursor: dark arrow pixels below-right of the resting pointer before the click (the
    # page is light there), gone from there once the pointer moved to the button.
    parked = (PARKED[0], PARKED[1], PARKED[0] + 16, PARKED[1] + 24)
    assert count(before, parked, dark) >= 15, count(before, parked, dark)
    assert count(later, parked, dark) == 0
    on_button = (BUTTON[0], BUTTON[1], BUTTON[0] + 16, BUTTON[1] + 24)
    assert count(later, on_button, dark) >= 15


def test_clip_at_25_fps_has_a_frame_every_40_ms(recorded: Recorded, tmp_path: Path) -> None:
    out = tmp_path / "fast.webp"
    done = cli("clip", recorded.session, "--from", "100", "--to", "1300", "-o", str(out),
               "--fps", "25", "--store", recorded.server.store_url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    images, durations = frames(out)
    assert durations == [40] * 30  # none merged: the time label differs in every frame
    assert len({image.tobytes() for image in images}) == 30


def refusal(*args: str, env: dict[str, str] | None = None) -> str:
    """Run a clip that must be refused: its one stderr line."""
    done = subprocess.run(
        [*REPLAYCHECK, "clip", *args],
        capture_output=True, text=True, cwd=ROOT, timeout=120, env=env,
    )  # fmt: skip
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("replaycheck: "), done.stderr
    return lines[0]


def test_clip_refuses_bad_input_in_one_line(recorded: Recorded, tmp_path: Path) -> None:
    store = ("--store", recorded.server.store_url)
    out = str(tmp_path / "x.webp")
    line = refusal("no-such-session", "--from", "0", "--to", "1000", "-o", out, *store)
    assert "no session 'no-such-session'" in line
    line = refusal(recorded.session, "--from", "2000", "--to", "2000", "-o", out, *store)
    assert "--from 2000 must be before --to 2000" in line
    beyond = str(round(recorded.duration_ms + 5000))
    line = refusal(recorded.session, "--from", "0", "--to", beyond, "-o", out, *store)
    assert f"--to {beyond}" in line and f"{recorded.duration_ms:.0f} ms long" in line
    line = refusal(recorded.session, "--from", "0", "--to", "1000", "-o",
                   str(tmp_path / "missing" / "x.webp"), *store)  # fmt: skip
    assert "no directory" in line
    (tmp_path / "d.webp").mkdir()
    line = refusal(recorded.session, "--from", "0", "--to", "1000", "-o", str(tmp_path / "d.webp"),
                   *store)  # fmt: skip
    assert "a directory" in line
    line = refusal(recorded.session, "--from", "0", "--to", "1000", "-o", str(tmp_path / "x.gif"),
                   *store)  # fmt: skip
    assert ".webp" in line and ".mp4" in line
    line = refusal(recorded.session, "--from", "0", "--to", "400000", "-o", out, *store)
    assert "at most 300 s" in line
    line = refusal(recorded.rrweb, "--from", "0", "--to", "500", "-o", out, *store)
    assert "rrweb" in line
    line = refusal(recorded.session, "--from", "0", "--to", "1000", "-o", out,
                   "--store", f"sqlite:///{tmp_path / 'none.db'}")  # fmt: skip
    assert "no such file" in line
    # MP4 without ffmpeg on PATH (an empty one).
    empty = tmp_path / "bin"
    empty.mkdir()
    env = {**os.environ, "PATH": str(empty)}
    line = refusal(recorded.session, "--from", "0", "--to", "1000", "-o",
                   str(tmp_path / "x.mp4"), *store, env=env)  # fmt: skip
    assert "ffmpeg" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin", "d.webp"]  # nothing written


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="MP4 needs ffmpeg on PATH")
def test_clip_writes_an_mp4_with_ffmpeg(recorded: Recorded, tmp_path: Path) -> None:
    out = tmp_path / "clip.mp4"
    done = cli("clip", recorded.session, "--from", "0", "--to", "2000", "-o", str(out),
               "--store", recorded.server.store_url)  # fmt: skip
    assert done.returncode == 0, done.stderr
    probe = subprocess.run(
        ["ffmpeg", "-hide_banner", "-i", str(out), "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
        capture_output=True, timeout=60,
    )  # fmt: skip
    assert probe.returncode == 0, probe.stderr[-500:]
    assert b"h264" in probe.stderr and f"{WIDTH}x{HEIGHT}".encode() in probe.stderr
    size = WIDTH * HEIGHT * 3
    assert len(probe.stdout) // size == 2000 * FPS // 1000
    last = Image.frombytes("RGB", (WIDTH, HEIGHT), probe.stdout[-size:])
    assert near(last.getpixel((WIDTH // 2, 40)), BAR, 12)
