"""Progress on the terminal: one line redrawn in place, never in a log or a CI transcript."""

from __future__ import annotations

import shutil
import threading
import time
from typing import TextIO


class Progress:
    """One line that updates in place on a terminal; plain lines otherwise (logs, CI)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self.tty = stream.isatty()

    def show(self, text: str) -> None:
        if self.tty:
            width = shutil.get_terminal_size().columns - 1
            self._stream.write("\r\x1b[K" + text[:width])
        else:
            self._stream.write(text + "\n")
        self._stream.flush()

    def clear(self) -> None:
        if self.tty:
            self._stream.write("\r\x1b[K")
            self._stream.flush()


def run_line(done: int, total: int, failed: int, seconds: float) -> str:
    return f"{done}/{total} scenarios, {failed} failed, {seconds:.0f} s"


class RunProgress:
    """`replaycheck run`'s live line under the result lines, its clock ticking each second while
    a scenario runs; on anything but a terminal it shows nothing (the result lines say it)."""

    def __init__(self, stream: TextIO, total: int) -> None:
        self._line = Progress(stream)
        self._total, self._done, self._failed = total, 0, 0
        self._started = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        if self._line.tty:
            self._ticker = threading.Thread(target=self._tick, daemon=True)
            self._ticker.start()

    def result(self, text: str, failed: bool) -> None:
        """Print a finished scenario's lines (stdout) above the progress line."""
        with self._lock:
            self._line.clear()
            print(text, flush=True)
            self._done += 1
            self._failed += failed
            self._draw()

    def close(self) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
        with self._lock:
            self._line.clear()

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            with self._lock:
                self._draw()

    def _draw(self) -> None:
        if self._line.tty:
            seconds = time.monotonic() - self._started
            self._line.show(run_line(self._done, self._total, self._failed, seconds))
