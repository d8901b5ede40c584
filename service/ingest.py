"""Ingest request validation: what `replaycheck serve` checks before it stores a batch.

Pure functions, no HTTP framework: the ASGI app hands over the method, the query string, the
headers and the body, and gets back a typed result (never an exception): a `Refusal` to answer
with its status, reason and headers, a `Preflight` to answer 204, or an `Accepted` batch to store.
The protocol is docs/stream-format.md ("Batches", "Delivery", "Events"). A session id is 1 to 128
characters of A-Z a-z 0-9 . _ : - (sites choose their own: UUIDs, "visit-123"); such an id goes
into a URL, a file name or a log line as it is.

The app calls `check_head` before it reads the body (a Content-Length over the limit is refused
then), reads at most `limits.max_body + 1` bytes, and passes them to `check_body`. `validate`
does both for a body already read.

A project (service.store.Project) allows the origins it lists ("*": any). The ingest key is the
`key` query parameter (`POST https://ingest.example.com/ingest?key=K`): the recorder's
`ingestUrl` carries it unchanged, one route serves every project, and the key is no secret
(every recorded page shows it in its snippet).

Every refusal carries `Access-Control-Allow-Origin` for the request's origin: a browser hides a
response without it from the recorder as a network failure, which the recorder retries ten
times; with it, the recorder reads the 4xx and gives the batch up at once. A refusal shows
nothing but its reason; only an accepted batch needs an allowed origin.
"""

from __future__ import annotations

import enum
import json
import math
import re
import zlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeGuard
from urllib.parse import parse_qs

from service.store.base import GZIP_MAGIC, Project, compressed

# Events as the recorder sends them: positional arrays (builtin) or objects (rrweb).
Event = list[Any] | dict[str, Any]

# seq, chunk, first and n fit a 32-bit signed integer column in either store.
MAX_INT = 2**31 - 1
# A session id: 1 to 128 of these characters (sites pick their own ids: UUIDs, "visit-123").
SESSION_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
MAX_MEMBERS = 16  # gzip members in one body (the recorder's have one)
MAX_KEY = 256  # characters of an ingest key handed to the lookup


class EventType(enum.IntEnum):
    """The builtin event codes: mirrors `EventType` in recorder/src/format.ts."""

    META = 0
    SNAPSHOT = 1
    MUTATION = 2
    INPUT = 3
    SCROLL = 4
    MOUSE_MOVE = 5
    MOUSE = 6
    VIEWPORT = 7
    NAVIGATION = 8
    ERROR = 9
    CHECKPOINT = 10
    STYLE_SHEET = 11
    ADOPTED_SHEETS = 12
    FOCUS = 13
    CANVAS = 14
    DIALOG = 15
    STOP = 16
    DEFINE = 17
    STATES = 18
    END = 19
    LOST = 20
    IDENTIFY = 21
    CONSOLE = 22
    NETWORK = 23
    CUSTOM = 24


_TYPES = frozenset(EventType)

# rrweb 2's EventType: DomContentLoaded 0 ... Annotation 8 (@rrweb/types).
RRWEB_TYPES = range(9)


@dataclass(frozen=True)
class Limits:
    """Byte limits per request body. The builtin recorder sends at most 60 KB, compressed;
    rrweb's harness transport sends whole batches as plain text (the suite's largest: ~6.7 MB)."""

    max_body: int = 8 * 2**20  # bytes on the wire
    max_decoded: int = 16 * 2**20  # bytes of JSON text, after gunzip
    # bytes of a chunked batch's joined text (the recorder keeps at most 8 M characters queued)
    max_batch: int = 32 * 2**20


@dataclass(frozen=True)
class Refusal:
    status: int
    reason: str  # one line, for the response body
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Preflight:
    """An allowed CORS preflight: answer 204 with these headers."""

    headers: Mapping[str, str]


@dataclass(frozen=True)
class Head:
    """A POST whose method, origin, key and headers are fine: its body is to be read."""

    project: Project
    headers: Mapping[str, str]  # CORS headers for the response, whatever its status


@dataclass(frozen=True)
class Batch:
    """One request body: a whole batch (chunk 0, last, `events`) or one chunk (`data`)."""

    format: Literal["builtin", "rrweb"]
    session: str
    page: float  # performance.timeOrigin of the page load
    seq: int
    chunk: int
    last: bool
    first: int | None  # events the page batched before this batch; None: not said (old rrweb)
    n: int  # events in the whole batch
    events: list[Event] | None  # a whole batch's events
    data: str | None  # a chunk's slice of the batch's JSON text
    body: bytes  # the body gzipped, to store


@dataclass(frozen=True)
class Accepted:
    project: Project
    batch: Batch
    headers: Mapping[str, str]  # CORS headers for the 2xx


def cors(allowed: Collection[str], origin: str | None, preflight: bool) -> dict[str, str] | Refusal:
    """The CORS headers for a request from `origin` to a project allowing `allowed`.

    No Origin (not a browser, or a same-origin GET): no CORS headers, nothing refused, since CORS
    guards browsers' reads and nothing else. "null" (a sandboxed frame, file:) is allowed only when
    listed. A disallowed origin gets 403."""
    if origin is None:
        return {}
    listed = {o.lower().rstrip("/") for o in allowed}
    if "*" not in listed and origin.lower() not in listed:
        return Refusal(
            403, f"origin {_clip(origin)} is not allowed for this project", _echo(origin)
        )
    headers = _echo(origin)
    if preflight:
        headers["Access-Control-Allow-Methods"] = "POST"
        headers["Access-Control-Allow-Headers"] = "Content-Type, Content-Encoding"
        headers["Access-Control-Max-Age"] = "86400"
    else:
        headers["Access-Control-Expose-Headers"] = "Retry-After"
    return headers


def _clip(text: str, size: int = 60) -> str:
    """What a reason quotes of the request: short, so that the reason stays one short line."""
    return text if len(text) <= size else text[: size - 3] + "..."


def _echo(origin: str | None) -> dict[str, str]:
    if origin is None:
        return {}
    return {"Access-Control-Allow-Origin": origin, "Vary": "Origin"}


def check_head(
    method: str,
    query: str,
    headers: Mapping[str, str],
    lookup: Callable[[str], Project | None],
    limits: Limits,
) -> Head | Preflight | Refusal:
    """Everything but the body: method (405), ingest key (401), origin (403), content type and
    encoding (415), Content-Length (400 when malformed, 413 over `limits.max_body`)."""
    h = {k.lower(): v for k, v in headers.items()}
    origin = h.get("origin")
    echo = _echo(origin)
    if method not in ("POST", "OPTIONS"):
        return Refusal(
            405, f"method {_clip(method)} not allowed", {**echo, "Allow": "POST, OPTIONS"}
        )
    keys = parse_qs(query, keep_blank_values=True).get("key", [])
    if len(keys) != 1 or not keys[0]:
        return Refusal(401, "one ingest key expected in the key query parameter", echo)
    project = lookup(keys[0]) if len(keys[0]) <= MAX_KEY else None
    if project is None:
        return Refusal(401, "unknown ingest key", echo)
    allowed = cors(project.allowed_origins, origin, method == "OPTIONS")
    if isinstance(allowed, Refusal):
        return allowed
    if method == "OPTIONS":
        return Preflight(allowed)
    media = h.get("content-type", "").split(";")[0].strip().lower()
    if media not in ("", "text/plain", "application/json"):
        return Refusal(415, f"content type {_clip(media)} not accepted: text/plain or none", echo)
    charset = re.search(r";\s*charset=\"?([^\";\s]+)", h.get("content-type", ""), re.I)
    if charset and charset.group(1).lower() not in ("utf-8", "utf8"):
        return Refusal(415, f"charset {_clip(charset.group(1))} not accepted: UTF-8 only", echo)
    encoding = h.get("content-encoding", "").strip().lower()
    if encoding not in ("", "identity", "gzip"):
        return Refusal(415, f"content encoding {_clip(encoding)} not accepted: gzip or none", echo)
    length = h.get("content-length")
    if length is not None:
        digits = length.strip()
        if not re.fullmatch(r"[0-9]+", digits):
            return Refusal(400, f"malformed Content-Length {_clip(repr(length))}", echo)
        # int() of thousands of digits would raise; 18 digits is an exabyte
        if len(digits) > 18 or int(digits) > limits.max_body:
            return Refusal(413, f"body over {limits.max_body} bytes", echo)
    return Head(project, allowed)


def check_body(body: bytes, limits: Limits, encoding: str = "") -> Batch | Refusal:
    """Decode, parse and validate one body (at most `limits.max_body + 1` bytes read of it).
    `encoding` is the Content-Encoding header: gzip is recognised by its magic bytes anyway."""
    if len(body) > limits.max_body:
        return Refusal(413, f"body over {limits.max_body} bytes")
    gzipped = body[:2] == GZIP_MAGIC
    if encoding.strip().lower() == "gzip" and not gzipped:
        return Refusal(400, "Content-Encoding gzip, but the body is not gzip")
    if gzipped:
        text = _gunzip(body, limits.max_decoded)
        if isinstance(text, Refusal):
            return text
    elif len(body) > limits.max_decoded:
        return Refusal(413, f"JSON text over {limits.max_decoded} bytes")
    else:
        text = body
    parsed = _parse_json(text)
    if isinstance(parsed, Refusal):
        return parsed
    return _batch(parsed, compressed(body))


def validate(
    method: str,
    query: str,
    headers: Mapping[str, str],
    body: bytes,
    lookup: Callable[[str], Project | None],
    limits: Limits,
) -> Accepted | Preflight | Refusal:
    """`check_head`, then `check_body`: a refused body gets the head's CORS headers too."""
    head = check_head(method, query, headers, lookup, limits)
    if not isinstance(head, Head):
        return head
    encoding = next((v for k, v in headers.items() if k.lower() == "content-encoding"), "")
    batch = check_body(body, limits, encoding)
    if isinstance(batch, Refusal):
        return Refusal(batch.status, batch.reason, {**head.headers, **batch.headers})
    return Accepted(head.project, batch, head.headers)


def join_chunks(chunks: Sequence[Batch], limits: Limits) -> Batch | Refusal:
    """The whole batch that chunks 0..K (K the one with `last`) of one (session, page, seq)
    make, in any order, checked as a whole body is: its events too, and that it is the batch its
    chunks said (session, page, seq, first, n events). The store calls it once all arrived."""
    parts = sorted(chunks, key=lambda c: c.chunk)
    if not parts or any(c.data is None for c in parts):
        return Refusal(400, "not chunks")
    one = parts[0]
    said = (one.session, one.page, one.seq, one.first, one.n)
    if any((c.session, c.page, c.seq, c.first, c.n) != said for c in parts):
        return Refusal(400, "chunks of different batches")
    numbers, lasts = [c.chunk for c in parts], [c.last for c in parts]
    if numbers != list(range(len(parts))) or lasts != [False] * (len(parts) - 1) + [True]:
        return Refusal(400, f"chunks 0 to the last expected, got {_clip(str(numbers))}")
    try:
        text = "".join(c.data or "" for c in parts).encode("utf-8")
    except UnicodeEncodeError as e:
        return Refusal(400, f"joined data is not text (a lone surrogate at {e.start})")
    if len(text) > limits.max_batch:
        return Refusal(413, f"batch over {limits.max_batch} bytes")
    parsed = _parse_json(text)
    if isinstance(parsed, Refusal):
        return parsed
    batch = _batch(parsed, compressed(text))
    if isinstance(batch, Refusal):
        return batch
    got = (batch.session, batch.page, batch.seq, batch.first, batch.n)
    if batch.format != "builtin" or batch.data is not None or got != said:
        return Refusal(400, "the joined batch is not the one its chunks said")
    return batch


def _gunzip(body: bytes, limit: int) -> bytes | Refusal:
    """The members of a gzip body, decompressed; past `limit` bytes it stops (a bomb is never
    inflated beyond limit + 1 bytes)."""
    out = bytearray()
    rest = body
    members = 0
    while rest:
        if members == MAX_MEMBERS:
            # Each member copies the rest of the body: many tiny ones would cost quadratic time.
            return Refusal(400, f"over {MAX_MEMBERS} gzip members")
        members += 1
        if rest[:2] != GZIP_MAGIC:
            return Refusal(400, "bytes after the gzip data")
        inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            out += inflate.decompress(rest, limit + 1 - len(out))
        except zlib.error as e:
            return Refusal(400, f"malformed gzip: {e}")
        if len(out) > limit:
            return Refusal(413, f"JSON text over {limit} bytes")
        if not inflate.eof:
            return Refusal(400, "truncated gzip body")
        rest = inflate.unused_data
    return bytes(out)


class _Malformed(Exception):
    """A body that breaks the format; its message is the refusal's reason."""


def _no_constant(name: str) -> Any:
    raise _Malformed(f"{name} is not JSON")


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # A duplicate key makes a body mean two things: this ingest and another JSON reader could
    # see different dedupe keys (session, page, seq, chunk) or events in it.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Malformed(f"duplicate key {_clip(repr(key))}")
        out[key] = value
    return out


def _parse_json(text: bytes) -> dict[str, Any] | Refusal:
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as e:
        return Refusal(400, f"body is not UTF-8 (byte {e.start})")
    try:
        value = json.loads(decoded, parse_constant=_no_constant, object_pairs_hook=_unique)
    except _Malformed as e:
        return Refusal(400, str(e))
    except RecursionError:
        return Refusal(400, "JSON nested too deep")
    except ValueError as e:
        return Refusal(400, f"malformed JSON: {e}")
    if not isinstance(value, dict):
        return Refusal(400, "body is not a JSON object")
    return value


def _number(value: object) -> TypeGuard[int | float]:
    """A finite JSON number (bool is an int in Python, not in JSON)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _int(value: object, name: str, low: int = 0) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Malformed(f"{name} is not an integer")
    if not low <= value <= MAX_INT:
        raise _Malformed(f"{name} {_clip(str(value))} out of range {low}..{MAX_INT}")
    return value


def _batch(obj: dict[str, Any], stored: bytes) -> Batch | Refusal:
    try:
        return _read(obj, stored)
    except _Malformed as e:
        return Refusal(400, str(e))


def _read(obj: dict[str, Any], stored: bytes) -> Batch:
    # rrweb's harness transport (harness/js/src/adapters/transport.ts) sends no `v`, the page as
    # a string, and rrweb's event objects.
    fmt: Literal["builtin", "rrweb"] = "builtin" if "v" in obj else "rrweb"
    if fmt == "builtin" and (obj["v"] != 1 or isinstance(obj["v"], bool)):
        raise _Malformed(f"unknown format version {_clip(repr(obj['v']))}: 1 expected")
    session = obj.get("session")
    if not isinstance(session, str) or not SESSION_ID.fullmatch(session):
        raise _Malformed("session is not 1 to 128 of A-Z a-z 0-9 . _ : -")
    page = obj.get("page")
    if fmt == "rrweb" and isinstance(page, str):
        try:
            page = float(page)
        except ValueError:
            raise _Malformed("page is not a number") from None
    if not _number(page) or page <= 0:
        raise _Malformed("page is not a finite positive number")
    seq = _int(obj.get("seq"), "seq")
    first = None if obj.get("first") is None else _int(obj["first"], "first")
    if fmt == "builtin" and "data" in obj:
        data, last = obj["data"], obj.get("last")
        if not isinstance(data, str):
            raise _Malformed("data is not a string")
        if not isinstance(last, bool):
            raise _Malformed("last is not true or false")
        chunk, n = _int(obj.get("chunk"), "chunk"), _int(obj.get("n"), "n", 1)
        return Batch(fmt, session, float(page), seq, chunk, last, first, n, None, data, stored)
    events = obj.get("events")
    if not isinstance(events, list):
        raise _Malformed("events is not a list")
    check = _builtin_event if fmt == "builtin" else _rrweb_event
    for i, event in enumerate(events):
        problem = check(event)
        if problem:
            raise _Malformed(f"event {i}: {problem}")
    return Batch(fmt, session, float(page), seq, 0, True, first, len(events), events, None, stored)


def _builtin_event(event: object) -> str | None:
    if not isinstance(event, list) or len(event) < 2:
        return "not an array of type, time, ..."
    kind, t = event[0], event[1]
    if not isinstance(kind, int) or isinstance(kind, bool) or kind not in _TYPES:
        return f"unknown event type {_clip(repr(kind))}"
    if not _number(t):
        return "time is not a number"
    return None


def _rrweb_event(event: object) -> str | None:
    if not isinstance(event, dict):
        return "not an rrweb event object"
    kind = event.get("type")
    if not isinstance(kind, int) or isinstance(kind, bool) or kind not in RRWEB_TYPES:
        return f"unknown rrweb event type {_clip(repr(kind))}"
    if not _number(event.get("timestamp")):
        return "timestamp is not a number"
    return None
