"""Time harness.compare.pixel.compare on 1280x720 screenshot pairs.

Run: .venv/bin/python bench/bench_pixel.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from harness.compare import pixel

WIDTH, HEIGHT = 1280, 720
RUNS = 50
WARMUP = 3  # the first call builds pixel's lookup tables


def page(seed: int) -> Image.Image:
    """A deterministic page-like screenshot: header, text lines, buttons, a photo-like block."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGBA", (WIDTH, HEIGHT), (255, 255, 255, 255))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=16)
    draw.rectangle((0, 0, WIDTH, 56), fill=(33, 37, 41, 255))
    draw.text((24, 18), "replaycheck bench - dashboard", font=font, fill=(255, 255, 255, 255))
    for line in range(18):
        words = " ".join(f"word{int(n)}" for n in rng.integers(0, 1000, 9))
        draw.text((24, 80 + 30 * line), words, font=font, fill=(20, 20, 20, 255))
    for i in range(4):
        draw.rounded_rectangle(
            (760 + 120 * i, 80, 860 + 120 * i, 116), radius=8, fill=(13, 110, 253, 255)
        )
    # A smooth gradient with mild noise stands in for a photo: many distinct colours.
    ys, xs = np.mgrid[0:240, 0:440]
    photo = np.stack([xs * 255 // 440, ys * 255 // 240, (xs + ys) * 255 // 680], axis=-1)
    photo = np.clip(photo + rng.integers(-6, 7, photo.shape), 0, 255).astype(np.uint8)
    image.paste(Image.fromarray(photo), (780, 160))
    return image


def mostly_equal(base: Image.Image) -> Image.Image:
    """A 200x100 block repainted and one line of text changed."""
    image = base.copy()
    draw = ImageDraw.Draw(image)
    draw.rectangle((300, 400, 499, 499), fill=(240, 200, 200, 255))
    draw.rectangle((24, 80, 700, 100), fill=(255, 255, 255, 255))
    draw.text((24, 80), "a different first line of text", font=ImageFont.load_default(size=16))
    return image


def scattered(base: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """A copy with `fraction` of the pixels, chosen at random, set to random opaque colours."""
    rng = np.random.default_rng(seed)
    image = base.copy()
    flat = image.reshape(-1, 4)
    chosen = rng.choice(flat.shape[0], int(flat.shape[0] * fraction), replace=False)
    flat[chosen, :3] = rng.integers(0, 256, (chosen.size, 3))
    return image


def bench(name: str, live: np.ndarray, replay: np.ndarray) -> None:
    for _ in range(WARMUP):
        result = pixel.compare(live, replay)
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        result = pixel.compare(live, replay)
        times.append(time.perf_counter() - start)
    median_ms = statistics.median(times) * 1000
    print(
        f"pixel compare {WIDTH}x{HEIGHT} {name}: median {median_ms:.1f} ms (n={RUNS}),"
        f" mismatched {result.mismatched}"
    )


def main() -> None:
    base = page(seed=1)
    live = np.array(base)
    bench("identical", live, live.copy())
    bench("mostly-equal", live, np.array(mostly_equal(base)))
    bench("5%-scattered", live, scattered(live, 0.05, seed=2))


if __name__ == "__main__":
    main()
