"""Pixel fidelity: pixelmatch's comparison (mapbox/pixelmatch 6.x), vectorised with numpy.

Per pixel, as pixelmatch: identical RGBA matches; otherwise the YIQ colour delta (alpha blended
against white) is compared with 35215 * threshold * threshold, and a pixel over it is a mismatch
unless it is anti-aliased (Vysniauskas 2009) in either image. Only the pixels that differ get a
colour delta, and only the candidates over the threshold get the anti-aliasing check.

Every float expression keeps pixelmatch's operations and their order, so counts and diff images
are identical to pixelmatch's, not merely close.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image

Rect = tuple[float, float, float, float]  # x, y, width, height in CSS px == image px

U8 = npt.NDArray[np.uint8]
U32 = npt.NDArray[np.uint32]
F64 = npt.NDArray[np.float64]
Index = npt.NDArray[np.intp]
Mask = npt.NDArray[np.bool_]

# A pixel as one uint32 with R in the low byte and A in the high byte, on any host byte order.
_PIXEL = np.dtype(np.uint32).newbyteorder("<")
_OPAQUE = np.uint32(0xFF000000)


def _colour(r: int, g: int, b: int) -> np.uint32:
    colour: np.uint32 = np.array([r, g, b, 255], dtype=np.uint8).view(_PIXEL)[0]
    return colour


_MAX_DELTA = 35215  # largest possible YIQ delta; the threshold scales it
_GRAY_ALPHA = 0.1  # pixelmatch's default `alpha`: how much of the live image shows in the diff
_RED = _colour(255, 0, 0)
_YELLOW = _colour(255, 255, 0)
_TINT = np.array([80, 120, 255], dtype=np.uint16)  # excluded regions, blended 50% over the gray

# Offsets of the 8 neighbours in pixelmatch's visiting order (x outer, y inner): on equal deltas
# the first darkest / brightest neighbour wins the sibling check.
_DX = np.array([-1, -1, -1, 0, 0, 1, 1, 1])
_DY = np.array([-1, 0, 1, -1, 1, -1, 0, 1])


@dataclass(frozen=True, eq=False)  # eq on ndarray fields would raise, so compare by identity
class PixelResult:
    mismatched: int  # mismatched pixels outside excluded regions
    compared: int  # pixels compared (total minus excluded)
    total: int  # width * height of the larger image
    mismatch: float  # mismatched / total: fraction of viewport pixels (SPEC's pixel_mismatch)
    masked_area: float  # excluded pixels / total
    diff: U8  # HxWx4 diff image: faded live image, mismatches red, anti-aliasing yellow
    bbox: tuple[int, int, int, int] | None  # (x, y, w, h) around the mismatched pixels


def compare(
    live: np.ndarray,
    replay: np.ndarray,
    *,
    threshold: float = 0.1,
    exclude: Sequence[Rect] = (),
    include_aa: bool = False,
) -> PixelResult:
    """Compare two RGBA screenshots the way pixelmatch does, minus the `exclude` rectangles.

    Images of different sizes are compared on their top-left overlap; every other pixel of the
    canvas spanned by both counts as mismatched.
    """
    a, b = _rgba(live), _rgba(replay)
    height, width = max(a.shape[0], b.shape[0]), max(a.shape[1], b.shape[1])
    oh, ow = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    total = width * height
    excluded = _exclusion_mask(exclude, width, height)

    # Flat indices from here on are into the overlap (ow to a row); _on_canvas maps them.
    a32, b32 = _pixels(a[:oh, :ow]), _pixels(b[:oh, :ow])
    differing = np.flatnonzero(a32 != b32)
    # pixelmatch's evaluation order, (35215 * t) * t: t**2 rounds differently at the boundary.
    max_delta = _MAX_DELTA * threshold * threshold
    over = differing[_yiq_delta(np.take(a32, differing), np.take(b32, differing)) > max_delta]
    if excluded is not None:
        over = over[~excluded.reshape(-1)[_on_canvas(over, ow, width)]]
    if include_aa:
        aa = np.zeros(over.shape, dtype=np.bool_)
    else:
        flat, start = _neighbours(over, ow, oh)
        aa = _antialiased(a32, b32, over, flat, start, ow, oh)
        aa |= _antialiased(b32, a32, over, flat, start, ow, oh)
    mismatches = _on_canvas(over[~aa], ow, width)

    # Pixels present in only one image (or neither, when the sizes cross) are mismatches.
    if (oh, ow) != (height, width):
        outside = np.ones((height, width), dtype=np.bool_)
        outside[:oh, :ow] = False
        if excluded is not None:
            outside &= ~excluded
        mismatches = np.concatenate([mismatches, np.flatnonzero(outside)])

    diff = _gray_canvas(a, width, height)
    pixels, channels = diff.view(_PIXEL).reshape(-1), diff.reshape(-1, 4)
    hidden = np.flatnonzero(excluded) if excluded is not None else np.empty(0, dtype=np.intp)
    tinted = (channels[hidden, :3] + _TINT) // 2  # over the gray, before any red or yellow
    pixels[mismatches] = _RED
    pixels[_on_canvas(over[aa], ow, width)] = _YELLOW
    channels[hidden, :3] = tinted

    return PixelResult(
        mismatched=int(mismatches.size),
        compared=total - hidden.size,
        total=total,
        mismatch=mismatches.size / total if total else 0.0,
        masked_area=hidden.size / total if total else 0.0,
        diff=diff,
        bbox=_bbox(mismatches, width),
    )


def load_png(path: Path | str) -> U8:
    """An image file as RGBA uint8, HxWx4."""
    with Image.open(path) as image:
        return _from_pil(image)


def decode_png(data: bytes) -> U8:
    """PNG bytes (a Playwright screenshot) as RGBA uint8, HxWx4."""
    with Image.open(io.BytesIO(data)) as image:
        return _from_pil(image)


def save_png(image: np.ndarray, path: Path | str) -> None:
    Image.fromarray(np.ascontiguousarray(_rgba(image))).save(path, format="PNG")


def _from_pil(image: Image.Image) -> U8:
    return np.array(image.convert("RGBA"), dtype=np.uint8)


def _rgba(image: np.ndarray) -> U8:
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 4:
        raise ValueError(f"expected an HxWx4 uint8 RGBA array, got {image.dtype} {image.shape}")
    return image


def _pixels(image: U8) -> U32:
    """The image as a flat array of whole pixels (copies only a cropped, non-contiguous view)."""
    pixels: U32 = np.ascontiguousarray(image).view(_PIXEL).reshape(-1)
    return pixels


def _on_canvas(idx: Index, overlap_width: int, width: int) -> Index:
    if overlap_width == width:
        return idx
    rows, cols = np.divmod(idx, overlap_width)
    on_canvas: Index = rows * width + cols
    return on_canvas


def _exclusion_mask(rects: Sequence[Rect], width: int, height: int) -> Mask | None:
    """Union of the rectangles, clipped to the canvas and rounded outward; None if empty."""
    mask: Mask | None = None
    for x, y, w, h in rects:
        x0, y0 = math.floor(max(x, 0)), math.floor(max(y, 0))
        x1, y1 = math.ceil(min(x + w, width)), math.ceil(min(y + h, height))
        if x0 < x1 and y0 < y1:
            if mask is None:
                mask = np.zeros((height, width), dtype=np.bool_)
            mask[y0:y1, x0:x1] = True
    return mask


def _channels(pixels: U32) -> tuple[F64, F64, F64]:
    """R, G, B as pixelmatch sees them: translucent pixels blended with white."""
    alpha = (pixels >> 24).astype(np.float64) / 255
    r, g, b = ((pixels >> shift) & 0xFF for shift in (0, 8, 16))
    # 255 + (c - 255) * 1.0 is exact, so opaque pixels keep their values as pixelmatch does.
    return (
        255 + (r.astype(np.float64) - 255) * alpha,
        255 + (g.astype(np.float64) - 255) * alpha,
        255 + (b.astype(np.float64) - 255) * alpha,
    )


def _rgb2y(r: F64, g: F64, b: F64) -> F64:
    y: F64 = r * 0.29889531 + g * 0.58662247 + b * 0.11448223
    return y


def _yiq_delta(pa: U32, pb: U32) -> F64:
    """Squared YIQ distance, with pixelmatch's coefficients and evaluation order.

    pixelmatch negates it when the second pixel is darker, but only its diffColorAlt uses the
    sign (its threshold test takes the absolute value), so the magnitude is all we need.
    """
    r1, g1, b1 = _channels(pa)
    r2, g2, b2 = _channels(pb)
    y = _rgb2y(r1, g1, b1) - _rgb2y(r2, g2, b2)
    i = (r1 * 0.59597799 - g1 * 0.27417610 - b1 * 0.32180189) - (
        r2 * 0.59597799 - g2 * 0.27417610 - b2 * 0.32180189
    )
    q = (r1 * 0.21147017 - g1 * 0.52261711 + b1 * 0.31114694) - (
        r2 * 0.21147017 - g2 * 0.52261711 + b2 * 0.31114694
    )
    delta: F64 = 0.5053 * y * y + 0.299 * i * i + 0.1957 * q * q
    return delta


@cache
def _luma_tables() -> tuple[F64, F64]:
    """r*cr + g*cg for every (r, g) in the low 16 bits of a pixel, and b*cb for every b.

    Summing these gives exactly rgb2y's float result, at a fraction of the cost.
    """
    values = np.arange(256, dtype=np.float64)
    rg = (values[None, :] * 0.29889531 + values[:, None] * 0.58662247).reshape(-1)
    return rg, values * 0.11448223


def _rgb_luma(pixels: U32) -> F64:
    """rgb2y of each pixel's R, G, B as they are, alpha ignored."""
    rg, blue = _luma_tables()
    y: F64 = np.take(rg, pixels & 0xFFFF) + np.take(blue, (pixels >> 16) & 0xFF)
    return y


def _luma(pixels: U32) -> F64:
    """pixelmatch's brightness (Y of YIQ, after blending with white) of each pixel."""
    y = _rgb_luma(pixels)
    translucent = pixels < _OPAQUE
    if translucent.any():
        y[translucent] = _rgb2y(*_channels(pixels[translucent]))
    return y


def _count8(mask: Mask) -> Index:
    """True values per row of a (K, 8) mask: a row of 8 one-byte bools read as one uint64 has
    a bit set per True, so this is a popcount instead of a slow short-axis reduction."""
    count: Index = np.bitwise_count(mask.view(np.uint64)[:, 0]).astype(np.intp)
    return count


def _any8(mask: Mask) -> Mask:
    """Whether each row of a (K, 8) mask has a True (read as a uint64, as in _count8)."""
    found: Mask = mask.view(np.uint64)[:, 0] != 0
    return found


def _neighbours(idx: Index, width: int, height: int) -> tuple[Index, Index]:
    """The 8 neighbours of each pixel as a (K, 8) flat-index matrix, and each pixel's starting
    count of equal neighbours.

    A neighbour outside the image points at the pixel itself: it always compares equal, so the
    starting count takes those off, and adds pixelmatch's one for a pixel on the border.
    """
    y, x = np.divmod(idx, width)
    flat: Index = idx[:, None] + (_DY * width + _DX)
    start: Index = np.zeros(idx.shape, dtype=np.intp)
    # Only border pixels lack neighbours; fixing just those keeps the common case one addition.
    edge = np.flatnonzero((x == 0) | (x == width - 1) | (y == 0) | (y == height - 1))
    if edge.size:
        nx, ny = x[edge, None] + _DX, y[edge, None] + _DY
        exists = (nx >= 0) & (nx < width) & (ny >= 0) & (ny < height)
        flat[edge] = np.where(exists, ny * width + nx, idx[edge, None])
        start[edge] = 1 - _count8(~exists)
    return flat, start


def _equal_neighbours(centre: U32, around: U32, start: Index) -> Index:
    """pixelmatch's count of neighbours with exactly the same RGBA, border bonus included."""
    count: Index = start + _count8(around == centre[:, None])
    return count


def _antialiased(
    img: U32, other: U32, idx: Index, flat: Index, start: Index, width: int, height: int
) -> Mask:
    """pixelmatch's antialiased(img, x, y, ..., other) for each flat index in `idx`, given its
    neighbourhood from _neighbours."""
    result = np.zeros(idx.shape, dtype=np.bool_)
    centre, around = np.take(img, idx), np.take(img, flat)
    # Identical neighbours have a zero brightness delta, so 3+ of them rule a pixel out before
    # any brightness is computed: that settles most candidates inside flat regions.
    sel = np.flatnonzero(_equal_neighbours(centre, around, start) <= 2)

    # A missing neighbour is the pixel itself, so its delta is zero: never the darkest or the
    # brightest, and `start` has already taken its zero off the count.
    delta = _luma(centre[sel])[:, None] - _luma(around[sel])
    zeroes = start[sel] + _count8(delta == 0)
    # 3+ equal neighbours, or not both a darker and a brighter one: not anti-aliasing.
    keep = np.flatnonzero((zeroes <= 2) & _any8(delta < 0) & _any8(delta > 0))
    delta, sel = delta[keep], sel[keep]
    # argmin/argmax pick the first extreme in visiting order, as pixelmatch's strict < and >.
    darkest = np.take_along_axis(flat[sel], delta.argmin(axis=1)[:, None], axis=1)[:, 0]
    brightest = np.take_along_axis(flat[sel], delta.argmax(axis=1)[:, None], axis=1)[:, 0]
    # Anti-aliased if the darkest or the brightest neighbour is flat (3+ equal siblings) in both.
    result[sel] = _flat_in_both(img, other, darkest, width, height) | _flat_in_both(
        img, other, brightest, width, height
    )
    return result


def _flat_in_both(img: U32, other: U32, idx: Index, width: int, height: int) -> Mask:
    """pixelmatch's hasManySiblings (3+ neighbours of exactly the same RGBA) in both images."""
    flat, start = _neighbours(idx, width, height)
    many: Mask = _equal_neighbours(np.take(img, idx), np.take(img, flat), start) > 2
    both = np.flatnonzero(many)
    many[both] = (
        _equal_neighbours(np.take(other, idx[both]), np.take(other, flat[both]), start[both]) > 2
    )
    return many


@cache
def _gray_table() -> U8:
    """drawGrayPixel's value for every opaque RGB, indexed by the low 24 bits of a pixel.

    The float formula over a whole screenshot costs ~15 ms; this 16 MiB table, built once per
    process, makes it a single gather.
    """
    table = np.empty(1 << 24, dtype=np.uint8)
    rg, blue = _luma_tables()
    for b in range(256):
        table[b << 16 : (b + 1) << 16] = _gray_values(rg + blue[b], 255.0)
    return table


def _gray_values(luma: F64, alpha: F64 | float) -> U8:
    """drawGrayPixel: luma blended with white at _GRAY_ALPHA * pixel alpha.

    Truncated to uint8, as pixelmatch's Uint8Array/Buffer output (its CLI's PNG) stores it.
    """
    values: U8 = (255 + (luma - 255) * (_GRAY_ALPHA * alpha / 255)).astype(np.uint8)
    return values


def _gray_canvas(live: U8, width: int, height: int) -> U8:
    """Opaque HxWx4 canvas: the live image faded to gray, white where it has no pixels."""
    pixels = _pixels(live)
    gray = np.take(_gray_table(), pixels & 0xFFFFFF)
    translucent = np.flatnonzero(pixels < _OPAQUE)
    if translucent.size:
        px = pixels[translucent]
        # drawGrayPixel takes the unblended colour's brightness and fades it by alpha instead.
        gray[translucent] = _gray_values(_rgb_luma(px), (px >> 24).astype(np.float64))
    packed = (gray.astype(np.uint32) * np.uint32(0x010101) | _OPAQUE).astype(_PIXEL, copy=False)
    image: U8 = packed.view(np.uint8).reshape(live.shape[0], live.shape[1], 4)
    if image.shape[:2] == (height, width):
        return image
    canvas = np.full((height, width, 4), 255, dtype=np.uint8)
    canvas[: live.shape[0], : live.shape[1]] = image
    return canvas


def _bbox(idx: Index, width: int) -> tuple[int, int, int, int] | None:
    """(x, y, w, h) around the flat canvas indices."""
    if not idx.size:
        return None
    rows, cols = np.divmod(idx, width)
    x0, y0 = int(cols.min()), int(rows.min())
    return x0, y0, int(cols.max()) - x0 + 1, int(rows.max()) - y0 + 1
