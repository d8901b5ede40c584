"""The ingest's request validation (service/ingest.py): real bodies as the builtin recorder
(recorder/src/record/transport.ts) and rrweb's harness transport make them, and the ways a body
can be wrong, too big or hostile. One end-to-end case records a page in Chromium."""

from __future__ import annotations

import gzip
import json
import re
import struct
import time
import tracemalloc
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest

from harness import adapters
from harness.scenario import RecorderConfig
from harness.stream import decode_body, whole_batches
from harness.worker import Worker
from service.ingest import (
    MAX_INT,
    Accepted,
    Batch,
    EventType,
    Head,
    Limits,
    Preflight,
    Refusal,
    check_body,
    check_head,
    cors,
    join_chunks,
    validate,
)
from service.store import Project

ROOT = Path(__file__).resolve().parent.parent
PAGES = Path(__file__).parent / "fixtures" / "record"
ORIGIN = "https://shop.example.com"
PROJECT = Project("p1", "Shop", "key-1", (ORIGIN,))
SESSION = "visit-123"
PAGE = 1732600000123.4
LIMITS = Limits()
HEADERS = {"Origin": ORIGIN}  # a gzip body from the recorder: no Content-Type, no encoding
EVENTS: list[Any] = [
    [8, 0, 0, "https://shop.example.com/cart"],
    [0, 12, "https://shop.example.com/cart", "Cart", 800, 600, 1],
    [1, 12, [0, 1, [[2, 2, "html", {}, []]]], 0, 0],
    [6, 340, 2, 5, 100, 120],
    [19, 900, [[3, 12, "held"], [4, 2, "dropped: HTTP 413"]]],
]


def lookup(key: str) -> Project | None:
    return PROJECT if key == PROJECT.ingest_key else None


def dumps(value: object) -> str:
    # JSON.stringify: no spaces, non-ASCII as it is.
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def head(seq: int, session: str = SESSION, page: float = PAGE) -> str:
    """transport.ts's head(): the fields every body starts with."""
    return f'{{"v":1,"session":{dumps(session)},"page":{page!r},"seq":{seq}'


def whole(seq: int = 0, first: int = 0, events: list[Any] = EVENTS) -> bytes:
    return f'{head(seq)},"first":{first},"events":{dumps(events)}}}'.encode()


def chunks(text: str, seq: int, first: int, n: int, size: int) -> list[bytes]:
    """A batch's JSON text in chunks as transport.ts cuts it: slices of `size` characters,
    never between the halves of a surrogate pair (Python strings have none: code points)."""
    slices = [text[i : i + size] for i in range(0, len(text), size)]
    return [
        f'{head(seq)},"first":{first},"n":{n},"chunk":{i},"last":{dumps(i == len(slices) - 1)},'
        f'"data":{dumps(part)}}}'.encode()
        for i, part in enumerate(slices)
    ]


def post(body: bytes, headers: dict[str, str] = HEADERS, query: str = "key=key-1") -> Any:
    return validate("POST", query, headers, body, lookup, LIMITS)


def accepted(body: bytes, headers: dict[str, str] = HEADERS) -> Batch:
    result = post(body, headers)
    assert isinstance(result, Accepted), result
    assert result.project == PROJECT
    return result.batch


def refused(body: bytes, status: int = 400, headers: dict[str, str] = HEADERS) -> str:
    result = post(body, headers)
    assert isinstance(result, Refusal), result
    assert result.status == status, result
    # The recorder can read the status (no retry of a refused batch) and the reason is one line.
    assert result.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert "\n" not in result.reason
    return result.reason


def bomb(prefix: bytes, suffix: bytes, mib: int) -> bytes:
    """A valid gzip of prefix, `mib` MiB of "0" and suffix, made without compressing it all:
    after a full flush the deflate stream holds no reference back, so one compressed MiB
    repeats; the trailer is the whole text's CRC and length."""
    c = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"0" * 2**20
    start = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    once = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    assert once == c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    end = (c.compress(suffix) + c.flush())[:-8]
    crc = zlib.crc32(prefix)
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(suffix, crc)
    size = len(prefix) + mib * 2**20 + len(suffix)
    return start + once * mib + end + struct.pack("<II", crc, size & 0xFFFFFFFF)


# Accepted -------------------------------------------------------------------------------------


def test_a_whole_gzip_batch_is_accepted_as_sent() -> None:
    body = gzip.compress(whole(seq=2, first=7))
    batch = accepted(body)
    assert (batch.format, batch.session, batch.page, batch.seq) == ("builtin", SESSION, PAGE, 2)
    assert (batch.chunk, batch.last, batch.first, batch.n) == (0, True, 7, len(EVENTS))
    assert batch.events == EVENTS and batch.data is None
    assert batch.body == body, "a gzip body is stored as received"


def test_a_plain_batch_is_accepted_and_stored_gzipped() -> None:
    text = whole()
    batch = accepted(text, {**HEADERS, "Content-Type": "text/plain;charset=UTF-8"})
    assert batch.events == EVENTS
    assert batch.body[:2] == b"\x1f\x8b" and gzip.decompress(batch.body) == text


@pytest.mark.parametrize("content_type", ["", "text/plain", "application/json; charset=utf-8"])
def test_content_types_the_recorders_send_are_accepted(content_type: str) -> None:
    accepted(whole(), {**HEADERS, "Content-Type": content_type})


def test_chunks_are_accepted_and_join_into_the_batch() -> None:
    # Astral and quoted text: escaping and code points survive the slicing.
    events = [*EVENTS, [2, 950, [[2, 0, [3, 9, 'row "1" \U0001f600' * 2000]]], [], [], []]]
    text = whole(seq=3, first=40, events=events).decode()
    bodies = chunks(text, seq=3, first=40, n=len(events), size=10000)
    assert len(bodies) > 2
    got = [accepted(gzip.compress(b)) for b in bodies]
    assert [(b.chunk, b.last, b.n, b.first, b.seq) for b in got] == [
        (i, i == len(bodies) - 1, len(events), 40, 3) for i in range(len(bodies))
    ]
    assert all(b.events is None for b in got)
    joined = "".join(b.data or "" for b in got)
    assert joined == text and json.loads(joined)["events"] == events


def test_chunks_join_into_a_checked_batch() -> None:
    events = [*EVENTS, [10, 950, "x" * 3000]]
    text = whole(seq=3, first=40, events=events).decode()
    got = [accepted(b) for b in chunks(text, seq=3, first=40, n=len(events), size=1000)]
    joined = join_chunks(got[::-1], LIMITS)  # in any order
    assert isinstance(joined, Batch) and joined.events == events
    assert (joined.seq, joined.first, joined.n, joined.chunk, joined.last) == (3, 40, 6, 0, True)
    assert gzip.decompress(joined.body) == text.encode()
    small = join_chunks(got, Limits(max_batch=len(text) - 1))
    assert isinstance(small, Refusal) and small.status == 413


def joined_reason(text: str, n: int, drop: int | None = None) -> str:
    got = [accepted(b) for b in chunks(text, seq=0, first=0, n=n, size=100)]
    if drop is not None:
        del got[drop]
    result = join_chunks(got, LIMITS)
    assert isinstance(result, Refusal) and result.status == 400
    return result.reason


def test_joined_chunks_are_refused_when_wrong() -> None:
    text = whole().decode()
    assert joined_reason(text, len(EVENTS), drop=1).startswith("chunks 0 to the last expected")
    assert joined_reason(text, len(EVENTS), drop=-1).startswith("chunks 0 to the last expected")
    assert joined_reason(text, len(EVENTS) + 1) == "the joined batch is not the one its chunks said"
    bad = whole(events=[*EVENTS, [99, 1]]).decode()
    assert joined_reason(bad, len(EVENTS) + 1) == "event 5: unknown event type 99"
    # A cut between the halves of a surrogate pair (the recorder never cuts there), each half
    # escaped in its chunk as JSON.stringify writes a lone surrogate.
    astral = whole(events=[[10, 1, "\U0001f600"]]).decode()
    cut = astral.index("\U0001f600")
    halves = [astral[:cut] + "\ud83d", "\ude00" + astral[cut + 1 :]]
    bodies = [
        f'{head(0)},"first":0,"n":1,"chunk":{i},"last":{dumps(i == 1)},"data":{json.dumps(h)}}}'
        for i, h in enumerate(halves)
    ]
    split = join_chunks([accepted(b.encode()) for b in bodies], LIMITS)
    assert isinstance(split, Refusal) and split.reason.startswith("joined data is not text")
    a, b = accepted(chunks(text, 0, 0, 5, 100)[0]), accepted(chunks(text, 1, 0, 5, 100)[1])
    assert join_chunks([a, b], LIMITS) == Refusal(400, "chunks of different batches")
    assert join_chunks([accepted(whole())], LIMITS) == Refusal(400, "not chunks")


def test_concatenated_gzip_members_are_one_body() -> None:
    text = whole()
    assert accepted(gzip.compress(text[:50]) + gzip.compress(text[50:])).events == EVENTS


def test_rrweb_harness_envelope_is_accepted() -> None:
    # harness/js/src/adapters/transport.ts: no v, page as String(performance.timeOrigin).
    events = [
        {"type": 4, "data": {"href": f"{ORIGIN}/", "width": 800, "height": 600}, "timestamp": 1},
        {"type": 2, "data": {"node": {"type": 0, "childNodes": [], "id": 1}}, "timestamp": 2.5},
        {"type": 3, "data": {"source": 1, "positions": []}, "timestamp": 1732600000300},
    ]
    body = dumps({"session": SESSION, "page": str(PAGE), "seq": 4, "first": 9, "events": events})
    batch = accepted(body.encode(), {**HEADERS, "Content-Type": "text/plain"})
    assert (batch.format, batch.page, batch.seq, batch.first, batch.n) == ("rrweb", PAGE, 4, 9, 3)
    assert batch.events == events
    # Older bodies said no first: unknown, not 0.
    old = dumps({"session": SESSION, "page": str(PAGE), "seq": 0, "events": events})
    assert accepted(old.encode()).first is None


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ({"type": 9, "timestamp": 1}, "event 0: unknown rrweb event type 9"),
        ({"type": 2}, "event 0: timestamp is not a number"),
        ([2, 1], "event 0: not an rrweb event object"),
    ],
)
def test_rrweb_events_are_checked(event: object, reason: str) -> None:
    body = dumps({"session": SESSION, "page": str(PAGE), "seq": 0, "events": [event]})
    assert refused(body.encode()) == reason


def test_event_types_mirror_the_format() -> None:
    source = (ROOT / "recorder" / "src" / "format.ts").read_text()
    block = re.search(r"enum EventType \{(.*?)\}", source, re.S)
    assert block
    ts = {name: int(code) for name, code in re.findall(r"(\w+) = (\d+)", block.group(1))}
    snake = {re.sub(r"(?<!^)(?=[A-Z])", "_", name).upper(): code for name, code in ts.items()}
    assert snake == {e.name: e.value for e in EventType}


# Limits ---------------------------------------------------------------------------------------


def test_a_gzip_bomb_is_refused_fast_in_bounded_memory() -> None:
    body = bomb(f'{head(0)},"first":0,"events":[[10,1,"'.encode(), b'"]]}', 1024)
    assert len(body) < 1.2 * 2**20 and struct.unpack("<I", body[-4:])[0] > 2**30
    tracemalloc.start()
    start = time.monotonic()
    result = post(body)
    took = time.monotonic() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert isinstance(result, Refusal) and result.status == 413, result
    assert result.reason == f"JSON text over {LIMITS.max_decoded} bytes"
    assert took < 1, took
    assert peak < 4 * LIMITS.max_decoded, peak


def test_a_content_length_over_the_limit_is_refused_before_the_body() -> None:
    headers = {**HEADERS, "Content-Length": str(LIMITS.max_body + 1)}
    result = check_head("POST", "key=key-1", headers, lookup, LIMITS)
    assert isinstance(result, Refusal) and result.status == 413
    assert isinstance(check_head("POST", "key=key-1", HEADERS, lookup, LIMITS), Head)


@pytest.mark.parametrize(
    ("length", "status"), [("-1", 400), ("1e3", 400), ("\u0663", 400), ("9" * 5000, 413)]
)
def test_a_malformed_content_length_is_refused(length: str, status: int) -> None:
    result = check_head("POST", "key=key-1", {"Content-Length": length}, lookup, LIMITS)
    assert isinstance(result, Refusal) and result.status == status


def test_a_body_over_the_limits_is_refused() -> None:
    text = whole()
    # No Content-Length said so: the bytes read are counted.
    over = check_body(text, Limits(max_body=100, max_decoded=10**6))
    assert isinstance(over, Refusal) and (over.status, over.reason) == (413, "body over 100 bytes")
    for body in (text, gzip.compress(text)):
        big = check_body(body, Limits(max_body=10**6, max_decoded=len(text) - 1))
        assert isinstance(big, Refusal) and big.status == 413
        assert big.reason == f"JSON text over {len(text) - 1} bytes"
        fits = check_body(body, Limits(max_body=len(body), max_decoded=len(text)))
        assert isinstance(fits, Batch)


# Malformed bodies -----------------------------------------------------------------------------


def test_a_truncated_gzip_body_is_refused() -> None:
    body = gzip.compress(whole())
    assert refused(body[: len(body) - 12]) == "truncated gzip body"
    assert refused(body[:-4]) == "truncated gzip body"  # the trailer's length missing


def test_many_gzip_members_are_refused_fast() -> None:
    empty = gzip.compress(b"")
    body = empty * (LIMITS.max_body // len(empty))
    start = time.monotonic()
    assert refused(body) == "over 16 gzip members"
    assert time.monotonic() - start < 1
    text = whole()
    sixteen = b"".join(gzip.compress(text[i : i + 1]) for i in range(15)) + gzip.compress(text[15:])
    assert accepted(sixteen).events == EVENTS


def test_a_corrupt_gzip_body_is_refused() -> None:
    body = bytearray(gzip.compress(whole()))
    body[-6] ^= 0xFF  # the CRC
    assert refused(bytes(body)).startswith("malformed gzip")
    assert refused(gzip.compress(whole()) + b"junk") == "bytes after the gzip data"


def test_content_encoding_gzip_on_a_plain_body_is_refused() -> None:
    headers = {**HEADERS, "Content-Encoding": "gzip"}
    assert refused(whole(), headers=headers) == "Content-Encoding gzip, but the body is not gzip"
    assert accepted(gzip.compress(whole()), headers).events == EVENTS


def test_bytes_that_are_not_utf8_are_refused() -> None:
    text = whole(events=[[10, 1, "caf\u00e9"]])
    assert refused(text.replace("é".encode(), b"\xe9")).startswith("body is not UTF-8")
    # json.loads on bytes would read UTF-16 text: the ingest does not.
    assert refused(text.decode().encode("utf-16")).startswith("body is not UTF-8")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_json_numbers_are_refused(constant: str) -> None:
    assert refused(whole().replace(b'"first":0', f'"first":{constant}'.encode())) == (
        f"{constant} is not JSON"
    )


def test_numbers_that_overflow_to_infinity_are_refused() -> None:
    assert refused(whole(events=[[10, 0, "x"]]).replace(b"[10,0,", b"[10,1e999,")) == (
        "event 0: time is not a number"
    )
    body = whole().replace(repr(PAGE).encode(), b"1e999")
    assert refused(body) == "page is not a finite positive number"


def test_deep_nesting_is_refused() -> None:
    deep = "[" * 100000 + "]" * 100000
    body = whole(events=[[10, 1, "x"]]).replace(b'"x"', deep.encode())
    assert refused(gzip.compress(body)) == "JSON nested too deep"


def test_a_duplicate_key_is_refused() -> None:
    body = whole(seq=1).replace(b'"seq":1', b'"seq":1,"seq":2')
    assert refused(body) == "duplicate key 'seq'"
    nested = whole(events=[[2, 1, [], [], [[3, "class", "a"]], []]]).replace(
        b"[]]]}", b'[{"a":1,"a":2}]]]}'
    )
    assert refused(nested) == "duplicate key 'a'"


def test_reasons_quote_the_body_briefly() -> None:
    huge = "9" * 4000
    body = whole(events=[[10, 1, "x"]]).replace(b'"x"', f'"{"k" * 10**6}"'.encode())
    reasons = [
        refused(whole(seq=1).replace(b'"seq":1', f'"seq":{huge}'.encode())),
        refused(whole().replace(b'"v":1', f'"v":"{"x" * 10**6}"'.encode())),
        refused(whole(events=[["t" * 10**6, 1]])),
        refused(
            body.replace(
                b'"session"', b'"' + b"k" * 10**6 + b'":1,"' + b"k" * 10**6 + b'":2,"session"'
            )
        ),
    ]
    assert [r[:20] for r in reasons] == [
        "seq 9999999999999999",
        "unknown format versi",
        "event 0: unknown eve",
        "duplicate key 'kkkkk",
    ]
    assert all(len(r) < 120 for r in reasons), reasons


@pytest.mark.parametrize(
    ("seq", "reason"),
    [
        (str(10**30), f"seq {10**30} out of range 0..{MAX_INT}"),
        (str(10**100), f"seq {str(10**100)[:57]}... out of range 0..{MAX_INT}"),
        (str(MAX_INT + 1), f"seq {MAX_INT + 1} out of range 0..{MAX_INT}"),
        ("-1", f"seq -1 out of range 0..{MAX_INT}"),
        ("1.5", "seq is not an integer"),
        ("true", "seq is not an integer"),
        ('"1"', "seq is not an integer"),
    ],
)
def test_seq_is_a_bounded_integer(seq: str, reason: str) -> None:
    assert refused(whole(seq=1).replace(b'"seq":1', f'"seq":{seq}'.encode())) == reason
    assert accepted(whole(seq=MAX_INT)).seq == MAX_INT


SESSION_REASON = "session is not 1 to 128 of A-Z a-z 0-9 . _ : -"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"[1, 2]", "body is not a JSON object"),
        (b'{"v":1,', "malformed JSON: Expecting property name enclosed in double quotes"),
        (whole().replace(b'"v":1', b'"v":2'), "unknown format version 2: 1 expected"),
        (whole().replace(b'"v":1', b'"v":true'), "unknown format version True: 1 expected"),
        (whole().replace(SESSION.encode(), b""), SESSION_REASON),
        (whole().replace(SESSION.encode(), b"a" * 129), SESSION_REASON),
        (whole().replace(SESSION.encode(), b"visit 123"), SESSION_REASON),
        (whole().replace(SESSION.encode(), b"<script>"), SESSION_REASON),
        (whole().replace(f'"{SESSION}"'.encode(), b"123"), SESSION_REASON),
        (whole().replace(repr(PAGE).encode(), b"0"), "page is not a finite positive number"),
        (whole().replace(repr(PAGE).encode(), b"-5"), "page is not a finite positive number"),
        (whole().replace(repr(PAGE).encode(), b'"1.5"'), "page is not a finite positive number"),
        (whole().replace(b'"first":0', b'"first":-2'), f"first -2 out of range 0..{MAX_INT}"),
        (whole().replace(b'"events":', b'"evts":'), "events is not a list"),
        (whole(events={"a": 1}), "events is not a list"),  # type: ignore[arg-type]
        (whole(events=[*EVENTS, {"type": 1}]), "event 5: not an array of type, time, ..."),
        (whole(events=[*EVENTS, [10]]), "event 5: not an array of type, time, ..."),
        (whole(events=[[99, 0]]), "event 0: unknown event type 99"),
        (whole(events=[[-1, 0]]), "event 0: unknown event type -1"),
        (whole(events=[["1", 0]]), "event 0: unknown event type '1'"),
        (whole(events=[[True, 0]]), "event 0: unknown event type True"),
        (whole(events=[*EVENTS[:3], [6, "x", 0, 0, 0, 0]]), "event 3: time is not a number"),
        (whole(events=[[6, None]]), "event 0: time is not a number"),
    ],
)
def test_malformed_batches_are_refused_with_the_reason(body: bytes, reason: str) -> None:
    assert refused(body).startswith(reason)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("data", "5", "data is not a string"),
        ("last", "1", "last is not true or false"),
        ("chunk", "-1", f"chunk -1 out of range 0..{MAX_INT}"),
        ("chunk", "null", "chunk is not an integer"),
        ("n", "0", f"n 0 out of range 1..{MAX_INT}"),
    ],
)
def test_malformed_chunks_are_refused(field: str, value: str, reason: str) -> None:
    text = whole().decode()
    body = chunks(text, seq=0, first=0, n=len(EVENTS), size=100)[1]
    assert isinstance(post(body), Accepted)
    wrong = {**json.loads(body), field: json.loads(value)}
    assert refused(gzip.compress(dumps(wrong).encode())) == reason


# Method, key, content type --------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "post"])
def test_other_methods_are_refused(method: str) -> None:
    result = validate(method, "key=key-1", HEADERS, whole(), lookup, LIMITS)
    assert isinstance(result, Refusal) and result.status == 405
    assert result.headers["Allow"] == "POST, OPTIONS"


@pytest.mark.parametrize("query", ["", "key=", "key=nope", "key=key-1&key=key-1", "k=key-1"])
def test_an_unknown_or_missing_key_is_refused(query: str) -> None:
    result = post(whole(), query=query)
    assert isinstance(result, Refusal) and result.status == 401, result


def test_the_key_is_the_key_query_parameter() -> None:
    seen: list[str] = []

    def spy(key: str) -> Project | None:
        seen.append(key)
        return lookup(key)

    result = validate("POST", "x=1&key=key-1", HEADERS, whole(), spy, LIMITS)
    assert isinstance(result, Accepted) and seen == ["key-1"]
    result = validate("POST", f"key={'k' * 300}", HEADERS, whole(), spy, LIMITS)
    assert isinstance(result, Refusal) and result.status == 401 and seen == ["key-1"]


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"Content-Type": "application/octet-stream"}, "content type application/octet-stream"),
        ({"Content-Type": "multipart/form-data; boundary=x"}, "content type multipart/form-data"),
        ({"content-type": "image/png"}, "content type image/png"),
        ({"Content-Type": "text/plain; charset=ISO-8859-1"}, "charset ISO-8859-1"),
        ({"Content-Encoding": "br"}, "content encoding br"),
    ],
)
def test_a_wrong_content_type_is_refused(headers: dict[str, str], reason: str) -> None:
    assert refused(gzip.compress(whole()), 415, {**HEADERS, **headers}).startswith(reason)


# CORS -----------------------------------------------------------------------------------------


def test_an_allowed_origin_is_echoed() -> None:
    result = post(gzip.compress(whole()))
    assert isinstance(result, Accepted)
    assert result.headers == {
        "Access-Control-Allow-Origin": ORIGIN,
        "Vary": "Origin",
        "Access-Control-Expose-Headers": "Retry-After",
    }


def test_a_preflight_from_an_allowed_origin() -> None:
    result = validate("OPTIONS", "key=key-1", HEADERS, b"", lookup, LIMITS)
    assert isinstance(result, Preflight)
    assert result.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert result.headers["Vary"] == "Origin"
    assert "POST" in result.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in result.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize("method", ["POST", "OPTIONS"])
def test_a_disallowed_origin_is_refused(method: str) -> None:
    evil = "https://evil.example"
    result = validate(method, "key=key-1", {"Origin": evil}, whole(), lookup, LIMITS)
    assert isinstance(result, Refusal) and result.status == 403
    assert result.reason == f"origin {evil} is not allowed for this project"
    # The browser shows the recorder the 403 (no retry), and nothing else.
    assert result.headers == {"Access-Control-Allow-Origin": evil, "Vary": "Origin"}


def test_cors_rules() -> None:
    assert cors([ORIGIN], None, preflight=False) == {}, "not a browser: nothing to say"
    assert isinstance(cors([ORIGIN], "null", preflight=False), Refusal)
    assert isinstance(cors([ORIGIN], "https://shop.example.com.evil.example", False), Refusal)
    assert isinstance(cors([ORIGIN], "http://shop.example.com", False), Refusal)
    assert not isinstance(cors([ORIGIN + "/"], "https://Shop.example.com", False), Refusal)
    anyone = cors(["*"], "https://a.example", preflight=False)
    assert isinstance(anyone, dict) and anyone["Access-Control-Allow-Origin"] == "https://a.example"


def test_a_request_without_origin_is_accepted_without_cors_headers() -> None:
    result = validate("POST", "key=key-1", {}, gzip.compress(whole()), lookup, LIMITS)
    assert isinstance(result, Accepted) and result.headers == {}


# End to end -----------------------------------------------------------------------------------


def test_every_body_the_builtin_recorder_sends_is_accepted(worker: Worker) -> None:
    bundle = (ROOT / "recorder" / "dist" / "record.js").read_text()
    session = uuid.uuid4().hex
    server = worker.server
    config = {"ingestUrl": server.ingest_url(session), "session": session}
    context = worker.browser.new_context(viewport={"width": 800, "height": 600})
    try:
        context.add_init_script(
            "(function(){if(window.top!==window||location.protocol==='about:')return;"
            f"{bundle};window.__rec=replaycheckRecord.record({json.dumps(config)})}})()"
        )
        tab = context.new_page()
        tab.goto(server.mount(PAGES) + "events.html")
        tab.click("#btn")
        tab.fill("#field", "hello")
        # Text that does not compress: a change too big for one request goes in chunks.
        tab.evaluate(
            """() => { const box = document.createElement('div');
            for (let i = 0; i < 4000; i++) { const p = document.createElement('p');
              p.textContent = Array.from({length: 6}, () => Math.random().toString(36)).join(' ');
              box.append(p); }
            document.body.append(box); }"""
        )
        tab.evaluate("window.__rec.flush(20000)")
        tab.goto("about:blank")  # pagehide: the End batch by sendBeacon
        deadline = time.monotonic() + 10
        while not any(b"[19," in decode_body(b) for b in server.batches(session)):
            assert time.monotonic() < deadline, "no End batch"
            time.sleep(0.1)
    finally:
        context.close()
    sent = server.batches(session)
    project = Project("p", "P", "k", (server.origin,))
    got: list[Batch] = []
    for b in sent:
        headers = {"Origin": server.origin, "Content-Type": b.content_type}
        if b.content_encoding:
            headers["Content-Encoding"] = b.content_encoding
        result = validate("POST", "key=k", headers, b.body, lambda k: project, LIMITS)
        assert isinstance(result, Accepted), result
        got.append(result.batch)
    assert {b.session for b in got} == {session} and {b.format for b in got} == {"builtin"}
    assert any(not b.last or b.chunk for b in got), "some batch went in chunks"
    # gzip by fetch, and the End batch as plain text by sendBeacon
    assert {b.body[:2] == b"\x1f\x8b" for b in sent} == {True, False}
    assert {b.content_type for b in sent} == {"", "text/plain;charset=UTF-8"}
    # The events are the recorder's, whole batches and chunks joined.
    expected = whole_batches(sent)
    ours: dict[tuple[float, int], list[Any]] = {}
    for key in expected:
        parts = sorted((b for b in got if (b.page, b.seq) == key), key=lambda b: b.chunk)
        if parts[0].events is not None:
            ours[key] = parts[0].events
        else:
            joined = join_chunks(parts, LIMITS)
            assert isinstance(joined, Batch), joined
            ours[key] = joined.events or []
    assert ours == {k: v["events"] for k, v in expected.items()}
    kinds = [e[0] for k in sorted(ours) for e in ours[k]]
    assert kinds[:3] == [EventType.NAVIGATION, EventType.META, EventType.SNAPSHOT]
    assert EventType.MOUSE in kinds and EventType.INPUT in kinds and kinds[-1] == EventType.END


def test_every_body_rrwebs_harness_transport_sends_is_accepted(worker: Worker) -> None:
    rrweb = adapters.get("rrweb")
    session = uuid.uuid4().hex
    server = worker.server
    context = worker.browser.new_context(viewport={"width": 800, "height": 600})
    try:
        context.add_init_script(
            rrweb.init_script(RecorderConfig(), server.ingest_url(session), session)
        )
        tab = context.new_page()
        tab.goto(server.mount(PAGES) + "events.html")
        tab.click("#btn")
        tab.fill("#field", "hello")
        rrweb.flush(tab, 20000)
    finally:
        context.close()
    sent = server.batches(session)
    project = Project("p", "P", "k", (server.origin,))
    events: list[Any] = []
    for b in sent:
        headers = {"Origin": server.origin, "Content-Type": b.content_type}
        result = validate("POST", "key=k", headers, b.body, lambda k: project, LIMITS)
        assert isinstance(result, Accepted), result
        assert (result.batch.format, result.batch.session) == ("rrweb", session)
        assert result.batch.events == json.loads(decode_body(b))["events"]
        events += result.batch.events or []
    assert {e["type"] for e in events} >= {2, 3, 4}  # FullSnapshot, IncrementalSnapshot, Meta
