"""Errors grouped into issues: one fingerprint per kind + normalized message + top stack frame
+ page path, pure functions (docs/serve.md, "Errors").

What varies between occurrences of one bug is taken out before hashing, so they group: numbers,
hex ids and UUIDs in the message and the path, a stack frame's line and column (they move with
every deploy; the function and the file stay), a URL's query and fragment. What the recorder
masked is already stars, and a run of stars of any length is one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

Kind = Literal["error", "console", "network"]
KINDS: tuple[Kind, ...] = ("error", "console", "network")
MAX_MESSAGE = 2000  # characters kept of a message (the recorder cuts console messages there)
MAX_STACK = 8000
MAX_TITLE = 200

_UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
_HEX = re.compile(r"\b(?:0x[0-9a-f]+|(?=[0-9a-f]*\d)[0-9a-f]{8,})\b", re.I)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_STARS = re.compile(r"\*+")
_SPACE = re.compile(r"\s+")
# "    at fn (https://x/app.js:10:5)", "    at https://x/app.js:10:5", "fn@https://x/app.js:10:5"
_V8_FRAME = re.compile(r"^\s*at (?:(?P<fn>.+?) \()?(?P<file>[^()\s]+?)(?::\d+){0,2}\)?\s*$")
_GECKO_FRAME = re.compile(r"^(?P<fn>[^@\s]*)@(?P<file>\S+?)(?::\d+){0,2}$")


@dataclass(frozen=True)
class Occurrence:
    """One error as a batch shows it: t absolute epoch ms, url the page's."""

    t: float
    kind: Kind
    message: str
    stack: str
    url: str


def normalize_message(message: str) -> str:
    """The message with what changes between occurrences (ids, numbers, masked runs) as
    placeholders, whitespace collapsed."""
    text = _UUID.sub("<uuid>", message[:MAX_MESSAGE])
    text = _HEX.sub("<hex>", text)
    text = _NUMBER.sub("<n>", text)
    text = _STARS.sub("*", text)
    return _SPACE.sub(" ", text).strip()


def top_frame(stack: str, page: str = "") -> str:
    """The first stack frame that names a place: "function file-path" without line and column,
    the file's query and fragment, and its host when it is the page's (`page`); "" when the
    stack has none."""
    for line in stack[:MAX_STACK].splitlines():
        found = _V8_FRAME.match(line) or _GECKO_FRAME.match(line.strip())
        if found and found["file"] and (":" in found["file"] or "/" in found["file"]):
            fn = (found["fn"] or "").strip()
            return f"{fn} {_path_of(found['file'], page)}".strip()
    return ""


def _path_of(url: str, page: str = "") -> str:
    """A script's or a request's place without query, fragment or volatile ids; its host only
    when it is not the page's (a site's own host and port say nothing of the bug, and a dev
    server's port changes with every start)."""
    try:
        parts = urlsplit(url)
        own = urlsplit(page).netloc if page else ""
    except ValueError:
        return normalize_path(url)
    host = "" if parts.netloc == own else parts.netloc
    return (host + normalize_path(parts.path)) if host else normalize_path(parts.path or url)


def normalize_path(path: str) -> str:
    """A URL path with ids (numbers, hex, UUIDs) as placeholders: /orders/1815 -> /orders/<n>."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    path = _UUID.sub("<uuid>", path)
    path = _HEX.sub("<hex>", path)
    return re.sub(r"(?<=/)\d+(?=/|$)", "<n>", path) or "/"


def page_path(url: str) -> str:
    try:
        return normalize_path(urlsplit(url).path or "/")
    except ValueError:
        return "/"


@dataclass(frozen=True)
class Grouped:
    fingerprint: str  # 16 hex digits
    title: str  # what the Errors page shows: the normalized message, cut
    frame: str  # top stack frame, "" when none
    path: str  # the page path the occurrence was on, normalized


def group(occurrence: Occurrence) -> Grouped:
    network = occurrence.kind == "network"
    if network:  # "METHOD URL STATUS" as index.py keeps it: its status stays, the URL's ids go
        method, _, rest = occurrence.message.partition(" ")
        url, _, status = rest.rpartition(" ")
        code = int(status) if status.isdigit() else 0
        message = network_message(method, url, code, occurrence.url)
    else:
        message = normalize_message(occurrence.message)
    frame = "" if network else top_frame(occurrence.stack, occurrence.url)
    path = page_path(occurrence.url)
    digest = hashlib.sha256(
        "\0".join((occurrence.kind, message, frame, path)).encode("utf-8", "surrogatepass")
    ).hexdigest()[:16]
    return Grouped(digest, message[:MAX_TITLE], frame, path)


def network_message(method: str, url: str, status: int, page: str = "") -> str:
    """A failed request as an error message: "GET /api/cart/<n> 500" (0: "network error");
    its query and ids go, and its host when it is the page's."""
    where = _path_of(url, page)
    what = str(status) if status else "network error"
    return f"{method.upper()[:16]} {where} {what}"


def is_network_error(status: int) -> bool:
    """Status >= 500 or 0 (the request failed, or was aborted) is an error; a 4xx is recorded
    but is the client's answer, not a failure of the site."""
    return status == 0 or status >= 500
