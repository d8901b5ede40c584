"""Pixel comparison: known answers, exclusions, sizes, diff colours, and equivalence with a plain
loop-by-loop port of pixelmatch (6.x index.js) on small synthetic screenshots."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageDraw, ImageFont
from playwright.sync_api import Page

from harness.adapters.builtin import BuiltinAdapter
from harness.adapters.rrweb import RrwebAdapter
from harness.compare import pixel
from harness.scenario import RecorderConfig
from harness.worker import Worker
from tests.conftest import load_harness

U8 = npt.NDArray[np.uint8]
RED = [255, 0, 0, 255]
YELLOW = [255, 255, 0, 255]
# Gray of a white and of a black live pixel (255 + (Y - 255) * 0.1, truncated).
WHITE_GRAY = [255, 255, 255, 255]
BLACK_GRAY = [229, 229, 229, 255]


# --- reference: pixelmatch 6.x, transcribed line by line; slow and obviously faithful ---------


def _rgb2y(r: float, g: float, b: float) -> float:
    return r * 0.29889531 + g * 0.58662247 + b * 0.11448223


def _rgb2i(r: float, g: float, b: float) -> float:
    return r * 0.59597799 - g * 0.27417610 - b * 0.32180189


def _rgb2q(r: float, g: float, b: float) -> float:
    return r * 0.21147017 - g * 0.52261711 + b * 0.31114694


def _blend(c: float, a: float) -> float:
    return 255 + (c - 255) * a


def _color_delta(img1: bytes, img2: bytes, k: int, m: int, y_only: bool) -> float:
    r1: float = img1[k + 0]
    g1: float = img1[k + 1]
    b1: float = img1[k + 2]
    a1: float = img1[k + 3]
    r2: float = img2[m + 0]
    g2: float = img2[m + 1]
    b2: float = img2[m + 2]
    a2: float = img2[m + 3]
    if a1 == a2 and r1 == r2 and g1 == g2 and b1 == b2:
        return 0
    if a1 < 255:
        a1 /= 255
        r1, g1, b1 = _blend(r1, a1), _blend(g1, a1), _blend(b1, a1)
    if a2 < 255:
        a2 /= 255
        r2, g2, b2 = _blend(r2, a2), _blend(g2, a2), _blend(b2, a2)
    y1 = _rgb2y(r1, g1, b1)
    y2 = _rgb2y(r2, g2, b2)
    y = y1 - y2
    if y_only:
        return y
    i = _rgb2i(r1, g1, b1) - _rgb2i(r2, g2, b2)
    q = _rgb2q(r1, g1, b1) - _rgb2q(r2, g2, b2)
    delta = 0.5053 * y * y + 0.299 * i * i + 0.1957 * q * q
    return -delta if y1 > y2 else delta


def _has_many_siblings(img: bytes, x1: int, y1: int, width: int, height: int) -> bool:
    x0, y0 = max(x1 - 1, 0), max(y1 - 1, 0)
    x2, y2 = min(x1 + 1, width - 1), min(y1 + 1, height - 1)
    pos = (y1 * width + x1) * 4
    zeroes = 1 if x1 in (x0, x2) or y1 in (y0, y2) else 0
    for x in range(x0, x2 + 1):
        for y in range(y0, y2 + 1):
            if x == x1 and y == y1:
                continue
            pos2 = (y * width + x) * 4
            if img[pos : pos + 4] == img[pos2 : pos2 + 4]:
                zeroes += 1
            if zeroes > 2:
                return True
    return False


def _antialiased(img: bytes, x1: int, y1: int, width: int, height: int, img2: bytes) -> bool:
    x0, y0 = max(x1 - 1, 0), max(y1 - 1, 0)
    x2, y2 = min(x1 + 1, width - 1), min(y1 + 1, height - 1)
    pos = (y1 * width + x1) * 4
    zeroes = 1 if x1 in (x0, x2) or y1 in (y0, y2) else 0
    min_, max_ = 0.0, 0.0
    min_x = min_y = max_x = max_y = 0
    for x in range(x0, x2 + 1):
        for y in range(y0, y2 + 1):
            if x == x1 and y == y1:
                continue
            delta = _color_delta(img, img, pos, (y * width + x) * 4, True)
            if delta == 0:
                zeroes += 1
                if zeroes > 2:
                    return False
            elif delta < min_:
                min_, min_x, min_y = delta, x, y
            elif delta > max_:
                max_, max_x, max_y = delta, x, y
    if min_ == 0 or max_ == 0:
        return False
    return (
        _has_many_siblings(img, min_x, min_y, width, height)
        and _has_many_siblings(img2, min_x, min_y, width, height)
    ) or (
        _has_many_siblings(img, max_x, max_y, width, height)
        and _has_many_siblings(img2, max_x, max_y, width, height)
    )


def reference(
    live: U8, replay: U8, threshold: float = 0.1, include_aa: bool = False
) -> tuple[int, U8, list[int]]:
    """pixelmatch(live, replay, output, ...) with default colours and alpha: the count, the output
    (stored through a Uint8Array, so truncated) and each pixel's class (0 same, 1 diff, 2 AA)."""
    height, width = live.shape[:2]
    img1, img2 = live.tobytes(), replay.tobytes()
    output = bytearray(width * height * 4)
    classes = [0] * (width * height)
    max_delta = 35215 * threshold * threshold
    diff = 0

    def draw(pos: int, r: float, g: float, b: float) -> None:
        output[pos : pos + 4] = bytes([int(r) & 0xFF, int(g) & 0xFF, int(b) & 0xFF, 255])

    for y in range(height):
        for x in range(width):
            pos = (y * width + x) * 4
            delta = _color_delta(img1, img2, pos, pos, False)
            if abs(delta) > max_delta:
                if not include_aa and (
                    _antialiased(img1, x, y, width, height, img2)
                    or _antialiased(img2, x, y, width, height, img1)
                ):
                    draw(pos, 255, 255, 0)
                    classes[pos // 4] = 2
                else:
                    draw(pos, 255, 0, 0)
                    classes[pos // 4] = 1
                    diff += 1
            else:
                r, g, b, a = img1[pos : pos + 4]
                val = _blend(_rgb2y(r, g, b), 0.1 * a / 255)
                draw(pos, val, val, val)
    out = np.frombuffer(bytes(output), dtype=np.uint8).reshape(height, width, 4)
    return diff, out, classes


# --- synthetic screenshots ---------------------------------------------------------------------


def blank(width: int = 32, height: int = 32, color: tuple[int, ...] = (255, 255, 255, 255)) -> U8:
    return np.array(Image.new("RGBA", (width, height), color))


def scene(seed: int, shift: int = 0, text: str = "Hello", scale: int = 1) -> U8:
    """A 64x48 page-ish image: shapes touching the borders, an outline, a diagonal, text. At
    scale > 1 it is drawn that much larger and box-filtered down, which anti-aliases every edge."""
    rng = np.random.default_rng(seed)
    size = (64 * scale, 48 * scale)
    image = Image.new("RGBA", size, (250, 250, 250, 255))
    draw = ImageDraw.Draw(image)

    def box(values: list[int]) -> list[int]:
        return [v * scale + shift for v in values]

    draw.rectangle(box([-2, 30, 20, 50]), fill=(40, 90, 200, 255))
    draw.ellipse(box([30, 4, 58, 28]), outline=(200, 30, 30, 255), width=2 * scale)
    draw.line(box([0, 0, 63, 47]), fill=(0, 0, 0, 255), width=scale)
    for _ in range(3):
        x, y = (int(v) for v in rng.integers(0, 56, 2))
        colour = (*(int(c) for c in rng.integers(0, 256, 3)), 255)
        draw.rectangle(box([x, y % 40, x + 6, y % 40 + 4]), fill=colour)
    font = ImageFont.load_default(size=11 * scale)
    draw.text((22 * scale + shift, 32 * scale), text, font=font, fill=(20, 20, 20, 255))
    if scale > 1:
        image = image.resize((64, 48), Image.Resampling.BOX)
    return np.array(image)


def noisy(image: U8, seed: int, amount: int, fraction: float) -> U8:
    """Nudge a fraction of pixels by up to `amount` per channel (near the threshold on purpose)."""
    rng = np.random.default_rng(seed)
    out = image.astype(np.int16)
    hit = rng.random(image.shape[:2]) < fraction
    out[hit, :3] += rng.integers(-amount, amount + 1, (int(hit.sum()), 3)).astype(np.int16)
    return np.clip(out, 0, 255).astype(np.uint8)


def translucent(image: U8, seed: int) -> U8:
    """Some pixels see-through, including fully transparent ones of different colours."""
    rng = np.random.default_rng(seed)
    out = image.copy()
    out[rng.random(image.shape[:2]) < 0.15, 3] = rng.choice([0, 1, 128, 254])
    out[:6, :6, 3] = 0
    return out


PAIRS: dict[str, Callable[[], tuple[U8, U8]]] = {
    "text-changed": lambda: (scene(1), scene(1, text="Hallo")),
    "shift-1px": lambda: (scene(2), scene(2, shift=1)),
    "aa-shift": lambda: (scene(3, scale=4), scene(3, scale=4, shift=1)),
    "aa-vs-aliased": lambda: (scene(4), scene(4, scale=4)),
    "noise": lambda: (scene(5), noisy(scene(5), seed=5, amount=40, fraction=0.3)),
    "aa-noise": lambda: (scene(6, scale=4), noisy(scene(6, scale=4, shift=2), 6, 25, 0.1)),
    "translucent": lambda: (translucent(scene(7), 7), translucent(scene(7, shift=1), 8)),
}


# --- equivalence with the reference -----------------------------------------------------------


@pytest.mark.parametrize("include_aa", [False, True], ids=["aa-excluded", "aa-included"])
@pytest.mark.parametrize("threshold", [0.1, 0.03])
@pytest.mark.parametrize("name", sorted(PAIRS))
def test_matches_pixelmatch(name: str, threshold: float, include_aa: bool) -> None:
    live, replay = PAIRS[name]()
    expected, expected_diff, _ = reference(live, replay, threshold, include_aa)
    result = pixel.compare(live, replay, threshold=threshold, include_aa=include_aa)
    assert result.mismatched == expected
    np.testing.assert_array_equal(result.diff, expected_diff)


def test_reference_cases_exercise_every_branch() -> None:
    """The equivalence test means something only if the cases hit mismatches and AA pixels, and
    both images' sibling checks (dropping either one changes the answer somewhere)."""
    classes = [reference(*PAIRS[name]())[2] for name in sorted(PAIRS)]
    assert sum(c.count(1) for c in classes) > 100
    assert sum(c.count(2) for c in classes) > 100
    assert min(max(c.count(1), c.count(2)) for c in classes) > 0


def test_matches_pixelmatch_with_exclusions() -> None:
    """Excluded pixels drop out of the count and are tinted; the rest is pixelmatch's answer."""
    live, replay = PAIRS["aa-shift"]()
    rects = [(3.5, 2.2, 20.0, 11.0), (15, 8, 10, 30), (50, 40, 100, 100)]
    _, expected_diff, classes = reference(live, replay)
    excluded = np.zeros(live.shape[:2], dtype=bool)
    excluded[2:14, 3:24] = excluded[8:38, 15:25] = excluded[40:, 50:] = True
    expected = sum(1 for i, c in enumerate(classes) if c == 1 and not excluded.flat[i])
    # Excluded pixels are never compared: the tint goes over the plain gray, as for live vs live.
    gray = reference(live, live)[1]
    tinted = expected_diff.copy()
    tinted[excluded, :3] = (gray[excluded, :3].astype(int) + np.array([80, 120, 255])) // 2

    result = pixel.compare(live, replay, exclude=rects)
    assert 0 < result.mismatched == expected < classes.count(1)
    assert result.compared == live.shape[0] * live.shape[1] - int(excluded.sum())
    np.testing.assert_array_equal(result.diff, tinted)


# --- known answers -----------------------------------------------------------------------------


def test_identical_images() -> None:
    live = scene(1)
    result = pixel.compare(live, live.copy())
    assert (result.mismatched, result.mismatch, result.bbox) == (0, 0.0, None)
    assert (result.compared, result.total, result.masked_area) == (64 * 48, 64 * 48, 0.0)


def test_red_square_on_white_counts_every_pixel() -> None:
    live, replay = blank(), blank()
    replay[5:15, 8:18] = (255, 0, 0, 255)
    result = pixel.compare(live, replay)
    assert result.mismatched == 100
    assert result.mismatch == 100 / 1024
    assert result.bbox == (8, 5, 10, 10)


@pytest.mark.parametrize(
    ("gray", "counted"),
    [(250, False), (229, False), (228, True)],  # 0.5053 * 26**2 < 35215 * 0.01 < 0.5053 * 27**2
)
def test_threshold_on_gray_step(gray: int, counted: bool) -> None:
    live, replay = blank(), blank(color=(gray, gray, gray, 255))
    assert pixel.compare(live, replay).mismatched == (1024 if counted else 0)


def test_threshold_zero_counts_any_visible_change() -> None:
    live, replay = blank(), blank(color=(254, 255, 255, 255))
    assert pixel.compare(live, replay).mismatched == 0
    assert pixel.compare(live, replay, threshold=0.0).mismatched == 1024


def test_alpha_is_blended_with_white() -> None:
    """Transparent black looks white; half-transparent black is a mid gray."""
    live = blank()
    assert pixel.compare(live, blank(color=(0, 0, 0, 0))).mismatched == 0
    assert pixel.compare(live, blank(color=(0, 0, 0, 128))).mismatched == 1024
    # Different bytes, zero delta: not over even a zero threshold.
    clear = blank(color=(0, 0, 0, 0)), blank(color=(255, 0, 0, 0))
    assert pixel.compare(*clear, threshold=0.0).mismatched == 0


def thresholds_around(delta: float) -> tuple[float, float]:
    """The two adjacent thresholds whose 35215 * t**2 lands just below and at-or-above delta."""
    t = math.sqrt(delta / 35215)
    while 35215 * t * t < delta:
        t = math.nextafter(t, math.inf)
    while 35215 * t * t >= delta:
        t = math.nextafter(t, 0)
    return t, math.nextafter(t, math.inf)


@pytest.mark.parametrize(
    ("one", "two"),
    [
        ((255, 255, 255, 255), (200, 120, 60, 255)),
        ((10, 200, 30, 255), (40, 40, 250, 255)),
        ((0, 0, 255, 100), (255, 255, 0, 255)),
        ((90, 10, 10, 255), (90, 10, 10, 37)),
    ],
)
def test_delta_is_exact_at_the_threshold(one: tuple[int, ...], two: tuple[int, ...]) -> None:
    """Thresholds one float apart either side of the reference delta: any deviation in the
    formula's coefficients or evaluation order flips one of the two answers."""
    live, replay = blank(color=one), blank(color=two)
    delta = abs(_color_delta(live.tobytes(), replay.tobytes(), 0, 0, False))
    below, above = thresholds_around(delta)
    assert pixel.compare(live, replay, threshold=below).mismatched == 1024
    assert pixel.compare(live, replay, threshold=above).mismatched == 0


def test_diff_colours_at_known_pixels() -> None:
    live, replay = blank(), blank()
    live[0:4, 0:4] = (0, 0, 0, 255)
    replay[0:4, 0:4] = (0, 0, 0, 255)
    replay[20:24, 20:24] = (255, 0, 0, 255)
    result = pixel.compare(live, replay, exclude=[(28, 28, 4, 4)])
    assert result.diff.shape == (32, 32, 4)
    assert result.diff[0, 0].tolist() == BLACK_GRAY
    assert result.diff[10, 10].tolist() == WHITE_GRAY
    assert result.diff[21, 21].tolist() == RED
    assert result.diff[30, 30].tolist() == [167, 187, 255, 255]  # (255 + tint) // 2
    assert (result.diff[..., 3] == 255).all()


# --- anti-aliasing -----------------------------------------------------------------------------


def aa_edge(column: int) -> U8:
    """White, a 2 px black vertical line at x=5..6, and an anti-aliasing column at x=7."""
    image = blank(16, 12)
    image[:, 5:7] = (0, 0, 0, 255)
    image[:, 7] = (column, column, column, 255)
    return image


def test_antialiased_edge_is_not_counted() -> None:
    live, replay = aa_edge(128), aa_edge(200)
    result = pixel.compare(live, replay)
    assert result.mismatched == 0
    assert (result.diff[:, 7] == YELLOW).all()
    assert (result.diff[:, 8] == WHITE_GRAY).all()

    counted = pixel.compare(live, replay, include_aa=True)
    assert counted.mismatched == 12
    assert counted.bbox == (7, 0, 1, 12)
    assert (counted.diff[:, 7] == RED).all()


def test_antialiasing_needs_a_flat_neighbour_in_both_images() -> None:
    """Around the edge, the replay is noise: the darkest and brightest neighbours are flat in the
    live image only, so the edge column becomes a real difference."""
    live, replay = aa_edge(128), aa_edge(200)
    noise = np.random.default_rng(0).integers(0, 256, (12, 16, 3))
    replay[:, :7, :3], replay[:, 8:, :3] = noise[:, :7], noise[:, 8:]
    _, _, classes = reference(live, replay)
    assert [classes[y * 16 + 7] for y in range(12)] == [1] * 12
    result = pixel.compare(live, replay)
    assert (result.diff[:, 7] == RED).all()


def test_supersampled_line_against_aliased_line() -> None:
    """A diagonal drawn with and without anti-aliasing: the soft edge pixels are AA, not diffs."""
    aliased = Image.new("RGBA", (48, 32), (255, 255, 255, 255))
    ImageDraw.Draw(aliased).line([(2, 3), (45, 28)], fill=(0, 0, 0, 255), width=2)
    smooth = Image.new("RGBA", (192, 128), (255, 255, 255, 255))
    ImageDraw.Draw(smooth).line([(8, 12), (180, 112)], fill=(0, 0, 0, 255), width=8)
    live, replay = np.array(aliased), np.array(smooth.resize((48, 32), Image.Resampling.BOX))

    result = pixel.compare(live, replay)
    counted = pixel.compare(live, replay, include_aa=True)
    yellow = int((result.diff == YELLOW).all(axis=-1).sum())
    assert yellow > 10
    assert counted.mismatched == result.mismatched + yellow
    assert result.mismatched == reference(live, replay)[0]


# --- exclusions --------------------------------------------------------------------------------


def red_square() -> tuple[U8, U8]:
    live, replay = blank(), blank()
    replay[5:15, 5:15] = (255, 0, 0, 255)
    return live, replay


def test_overlapping_exclusions_count_once() -> None:
    result = pixel.compare(*red_square(), exclude=[(0, 0, 8, 8), (4, 4, 6, 6)])
    assert result.masked_area == 84 / 1024  # 64 + 36 - 16 overlap
    assert result.compared == 1024 - 84
    assert result.mismatched == 100 - 25  # the square's [5, 10) x [5, 10) corner is excluded
    assert result.bbox == (5, 5, 10, 10)


@pytest.mark.parametrize(
    ("rect", "area"),
    [
        ((-5, -5, 10, 10), 25),  # clipped at the top-left
        ((30, 28, 100, 100), 8),  # clipped at the bottom-right
        ((100, 100, 5, 5), 0),  # entirely outside
        ((4, 4, -3, 2), 0),  # negative width
        ((10.5, 10.2, 2.0, 1.0), 6),  # rounded outward: x 10..12, y 10..11
        ((3.9, 3.9, 0.2, 0.2), 4),  # a sliver still covers the pixels it touches
    ],
)
def test_exclusion_clipping_and_rounding(rect: pixel.Rect, area: int) -> None:
    result = pixel.compare(blank(), blank(), exclude=[rect])
    assert result.masked_area == area / 1024
    assert result.compared == 1024 - area


def test_excluded_mismatches_are_not_counted() -> None:
    result = pixel.compare(*red_square(), exclude=[(5, 5, 10, 10)])
    assert (result.mismatched, result.bbox) == (0, None)
    assert result.diff[9, 9].tolist() == [167, 187, 255, 255]


# --- sizes -------------------------------------------------------------------------------------


def test_taller_replay_counts_the_extra_rows() -> None:
    live, replay = blank(10, 10), blank(10, 12)
    result = pixel.compare(live, replay)
    assert (result.total, result.mismatched, result.bbox) == (120, 20, (0, 10, 10, 2))
    assert result.diff.shape == (12, 10, 4)
    assert (result.diff[10:] == RED).all()
    assert (result.diff[:10] == WHITE_GRAY).all()


def test_crossed_sizes_use_the_spanning_canvas() -> None:
    live, replay = blank(10, 20), blank(20, 10)
    result = pixel.compare(live, replay, exclude=[(10, 0, 10, 5)])
    assert (result.total, result.compared) == (400, 350)
    assert result.mismatched == 300 - 50
    assert result.bbox == (0, 5, 20, 15)
    # Where the live image has no pixels, the diff's background is white (then tinted if masked).
    assert result.diff[2, 15].tolist() == [167, 187, 255, 255]
    assert result.diff[15, 15].tolist() == RED
    assert (result.diff[..., 3] == 255).all()


def test_size_mismatch_inside_the_overlap_is_still_compared() -> None:
    live, replay = blank(16, 16), blank(20, 16)
    replay[2:4, 2:4] = (0, 0, 0, 255)
    result = pixel.compare(live, replay)
    assert result.mismatched == 4 + 4 * 16
    assert result.bbox == (2, 0, 18, 16)


def test_empty_image_against_a_small_one() -> None:
    result = pixel.compare(np.zeros((0, 0, 4), dtype=np.uint8), blank(2, 2))
    assert (result.total, result.mismatched, result.mismatch) == (4, 4, 1.0)
    empty = pixel.compare(np.zeros((0, 0, 4), dtype=np.uint8), np.zeros((0, 3, 4), np.uint8))
    assert (empty.total, empty.mismatch, empty.masked_area, empty.bbox) == (0, 0.0, 0.0, None)


def test_rejects_non_rgba_arrays() -> None:
    with pytest.raises(ValueError, match="RGBA"):
        pixel.compare(np.zeros((4, 4, 3), dtype=np.uint8), blank(4, 4))
    with pytest.raises(ValueError, match="RGBA"):
        pixel.compare(blank(4, 4), np.zeros((4, 4, 4), dtype=np.float32))


# --- PNG I/O -----------------------------------------------------------------------------------


def test_png_round_trip(tmp_path: Path) -> None:
    image = scene(9)
    path = tmp_path / "diff.png"
    pixel.save_png(image, path)
    np.testing.assert_array_equal(pixel.load_png(path), image)
    np.testing.assert_array_equal(pixel.decode_png(path.read_bytes()), image)


def test_decode_converts_rgb_to_opaque_rgba() -> None:
    buffer = io.BytesIO()
    Image.new("RGB", (3, 2), (10, 20, 30)).save(buffer, format="PNG")
    image = pixel.decode_png(buffer.getvalue())
    assert image.shape == (2, 3, 4)
    assert image.dtype == np.uint8
    assert image[1, 2].tolist() == [10, 20, 30, 255]


# --- masked regions as painted, in Chromium ---------------------------------------------------

VERDICTS = Path(__file__).parent / "fixtures" / "verdicts"
DIST = Path(__file__).resolve().parents[1] / "harness" / "js" / "dist"
# What a recorder replays for painted.html: blocked elements as bare same-size placeholders, the
# password field (shown as text by then) with its value starred.
REPLAYED = """() => {
  for (const el of document.querySelectorAll('.ad, .clip')) {
    const box = el.getBoundingClientRect();
    el.replaceWith(Object.assign(document.createElement('div'), {style: `position: absolute;
      left: ${box.left}px; top: ${box.top}px; width: ${box.width}px; height: ${box.height}px;
      background: #ccc`}));
  }
  document.getElementById('pw').value = '********';
}"""


def test_what_masked_and_blocked_elements_paint_is_excluded(worker: Worker, page: Page) -> None:
    page.set_viewport_size({"width": 640, "height": 480})
    page.add_init_script(path=str(DIST / "harness-init.js"))  # the password watcher
    page.goto(worker.server.mount(VERDICTS) + "painted.html")
    page.click("#show")  # a "show password" button: the field is a text field now
    load_harness(page)
    masks = {"block": [".ad", ".clip"], "text": [], "fields": [], "unmask": []}
    rects = page.evaluate("m => __rcHarness.maskedRects(document, m)", masks)
    live = pixel.decode_png(page.screenshot())
    page.evaluate(REPLAYED)
    replay = pixel.decode_png(page.screenshot())
    result = pixel.compare(live, replay, exclude=[(x, y, w, h) for x, y, w, h in rects])
    assert result.mismatched == 0
    ad, clip, field = rects
    # The blocked .ad: its outline (3px), its shadow (right 6+4+2, down 8+4+2), its text running
    # past its right edge and its child overflowing below it.
    assert ad[0] == 97 and ad[1] == 97
    assert ad[0] + ad[2] >= 270 + 1 and ad[1] + ad[3] == 100 + 40 + 90
    assert clip == [400, 100, 100, 40]  # overflow: hidden: its child paints inside it only
    # The switched password field: its content box (inside 2px borders, 1px and 2px padding).
    assert field[:2] == [104, 403], field
    # Their border boxes alone, without the switched password field, leave pixels that differ.
    boxes = [(100.0, 100.0, 200.0, 50.0), (400.0, 100.0, 100.0, 40.0)]
    assert pixel.compare(live, replay, exclude=boxes).mismatched > 0


def test_fields_whose_input_a_recorder_ignores_are_excluded(page: Page) -> None:
    # builtin ignores a field under an `ignore` selector (closest), rrweb one matching it.
    config = RecorderConfig(mask_all_inputs=False, ignore=(".no-track",))
    page.set_content(
        "<form class='no-track'><input id='inside'><p id='text'>t</p></form>"
        "<input id='itself' class='no-track'><input id='kept'>"
    )
    load_harness(page)
    found = {}
    for adapter in (BuiltinAdapter(), RrwebAdapter()):
        masks = adapter.masks(config)
        found[adapter.name] = page.evaluate(
            "s => [...document.querySelectorAll(s.join(','))].map(e => e.id)", masks["fields"]
        )
        rects = page.evaluate("m => __rcHarness.maskedRects(document, m)", masks)
        assert len(rects) == len(found[adapter.name])
    assert found == {"builtin": ["inside", "itself"], "rrweb": ["itself"]}
