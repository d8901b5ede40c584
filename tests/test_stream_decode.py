"""Decoding per the transport protocol (issue 16): chunks, dedupe, order, End and Lost markers,
and the delivery counts, on synthetic request bodies made as the protocol says."""

from __future__ import annotations

import gzip
import json
from typing import Any

from harness import masking
from harness.masking import Secret
from harness.server import Batch
from harness.stream import END, LOST, Timeline, decode

BUILTIN = Timeline(lambda e: e[1], lambda e, t: [e[0], t, *e[2:]], relative=True)
RRWEB = Timeline(lambda e: e["timestamp"], lambda e, t: {**e, "timestamp": t}, relative=False)


def body(envelope: dict[str, Any], gz: bool = True) -> Batch:
    text = json.dumps(envelope).encode()
    return Batch(gzip.compress(text) if gz else text, "", "")


def whole(page: float, seq: int, first: int, events: list[Any]) -> Batch:
    return body(
        {"v": 1, "session": "s", "page": page, "seq": seq, "first": first, "events": events}
    )


def chunked(page: float, seq: int, first: int, events: list[Any], parts: int) -> list[Batch]:
    text = json.dumps(
        {"v": 1, "session": "s", "page": page, "seq": seq, "first": first, "events": events}
    )
    size = -(-len(text) // parts)
    return [
        body(
            {
                "v": 1,
                "session": "s",
                "page": page,
                "seq": seq,
                "first": first,
                "n": len(events),
                "chunk": i,
                "last": i == parts - 1,
                "data": text[i * size : (i + 1) * size],
            },
            gz=i % 2 == 0,  # each chunk gzip'd on its own, or plain
        )
        for i in range(parts)
    ]


def events(start: int, n: int) -> list[list[Any]]:
    return [[3, float(start + i), i] for i in range(n)]


def test_chunks_reassemble_in_any_order_and_repeats_count_once() -> None:
    big = events(0, 400)
    parts = chunked(1000, 0, 0, big, 4)
    tail = whole(1000, 1, 400, events(400, 2))
    stream = decode([parts[2], tail, parts[0], parts[3], parts[1], parts[2], tail], BUILTIN)
    assert [e[1] for e in stream.events] == [1000 + i for i in range(402)]
    assert stream.lost == [] and stream.lost_marked == []
    delivery = stream.delivery
    assert delivery is not None
    assert (delivery.recorded, delivery.delivered, delivery.duplicates) == (402, 402, 0)
    assert (delivery.lost_marked, delivery.lost_unmarked) == (0, 0)
    assert delivery.repeated_requests == 2


def test_a_batch_missing_a_chunk_is_lost_and_counted_by_its_n() -> None:
    parts = chunked(1000, 0, 0, events(0, 50), 3)
    stream = decode([parts[0], parts[2], whole(1000, 1, 50, events(50, 5))], BUILTIN)
    assert stream.lost == ["page 1000 batch 0"]
    assert stream.delivery is not None
    assert (stream.delivery.recorded, stream.delivery.delivered) == (55, 5)
    assert stream.delivery.lost_unmarked == 50


def test_first_tells_the_size_of_a_gap_nobody_saw() -> None:
    stream = decode([whole(7, 0, 0, events(0, 3)), whole(7, 2, 10, events(10, 4))], BUILTIN)
    assert stream.lost == ["page 7 batch 1"]
    assert stream.delivery is not None
    assert (stream.delivery.recorded, stream.delivery.lost_unmarked) == (14, 7)


def test_loss_listed_by_end_and_lost_markers_is_marked() -> None:
    batches = [
        whole(5, 0, 0, events(0, 3)),
        # seq 1 given up (dropped); seq 3 held for a next page that never came.
        whole(5, 2, 8, [*events(8, 2), [LOST, 20.0, [[1, 5, "dropped: HTTP 413"]]]]),
        whole(5, 4, 15, [[END, 30.0, [[3, 4, "held"]]]]),
    ]
    stream = decode(batches, BUILTIN)
    assert stream.lost == []
    assert stream.lost_marked == ["page 5 batch 1 (dropped: HTTP 413)", "page 5 batch 3 (held)"]
    delivery = stream.delivery
    assert delivery is not None
    assert (delivery.recorded, delivery.delivered) == (16, 7)
    assert (delivery.lost_marked, delivery.lost_unmarked) == (9, 0)


def test_a_held_batch_sent_by_the_next_page_is_delivered_and_ordered_with_its_page() -> None:
    batches = [
        whole(100, 0, 0, events(0, 2)),
        whole(100, 2, 3, [[END, 9.0, [[1, 1, "held"]]]]),
        whole(200, 0, 0, events(0, 2)),
        whole(100, 1, 2, [[3, 5.0, "late"]]),  # the next page sends it: same page and seq
    ]
    stream = decode(batches, BUILTIN)
    assert [e[2] for e in stream.events if e[0] == 3][:3] == [0, 1, "late"]
    assert stream.lost == [] and stream.lost_marked == []
    assert stream.delivery is not None
    assert (stream.delivery.recorded, stream.delivery.delivered) == (6, 6)


def test_the_browser_side_adds_batches_that_never_arrived() -> None:
    received = [whole(1, 0, 0, events(0, 3))]
    attempted = [*received, whole(1, 1, 3, events(3, 6)), whole(1, 1, 3, events(3, 6))]
    stream = decode(received, BUILTIN, attempted)
    assert stream.lost == ["page 1 batch 1"]
    delivery = stream.delivery
    assert delivery is not None
    assert (delivery.recorded, delivery.delivered, delivery.lost_unmarked) == (9, 3, 6)
    assert (delivery.requests, delivery.retried_requests) == (3, 1)


def test_unreadable_browser_bodies_are_no_evidence() -> None:
    received = [whole(1, 0, 0, events(0, 3))]
    stream = decode(received, BUILTIN, [Batch(b"", "", ""), Batch(b"\x1f\x8bxx", "", "")])
    assert stream.delivery is not None and stream.delivery.recorded == 3


def rr(seq: int, times: list[int], first: int | None = None) -> Batch:
    envelope: dict[str, Any] = {
        "session": "s",
        "page": "1000.5",
        "seq": seq,
        "events": [{"timestamp": t, "type": 3} for t in times],
    }
    if first is not None:
        envelope["first"] = first
    return body(envelope, gz=False)


def test_rrweb_bodies_without_first_count_what_was_seen() -> None:
    received = [rr(0, [1, 2]), rr(2, [5])]
    stream = decode(received, RRWEB, [*received, rr(1, [3, 4])])
    assert stream.lost == ["page 1000.5 batch 1"]
    assert stream.delivery is not None
    assert (stream.delivery.recorded, stream.delivery.lost_unmarked) == (5, 2)


def test_events_a_page_recorded_in_no_batch_seen_are_lost_unmarked() -> None:
    # rrweb's last batch of a page, sent as it unloads: not in the browser's log, never arrived.
    stream = decode([rr(0, [1, 2], 0), rr(1, [3], 2)], RRWEB, emitted={"1000.5": 7})
    assert stream.lost == ["page 1000.5: 4 of 7 recorded events in no batch seen"]
    delivery = stream.delivery
    assert delivery is not None
    assert (delivery.recorded, delivery.delivered, delivery.lost_unmarked) == (7, 3, 4)


def test_a_page_whose_batches_hold_what_it_recorded_lost_nothing() -> None:
    # Read before the page left: its unload batch holds more than the count said.
    stream = decode([rr(0, [1, 2], 0), rr(1, [3, 4], 2)], RRWEB, emitted={"1000.5": 3})
    assert stream.lost == []
    assert stream.delivery is not None and stream.delivery.recorded == 4


def test_the_same_events_under_two_seqs_are_duplicates() -> None:
    # A batch stored by the server but seen as failed, re-sent as a new batch.
    stream = decode([whole(1, 0, 0, events(0, 4)), whole(1, 1, 4, events(0, 4))], BUILTIN)
    assert stream.delivery is not None and stream.delivery.duplicates == 4


def test_the_leak_scan_reads_chunked_bodies() -> None:
    parts = chunked(1000, 0, 0, [[3, 1.0, "4111 1111 1111 1111"], *events(1, 30)], 3)
    stream = decode(parts, BUILTIN)
    card = Secret("4111 1111 1111 1111", "card", "input#card")
    assert [leak.value for leak in masking.scan(stream, [card])] == ["4111 1111 1111 1111"]


def test_a_reload_repeating_its_first_events_makes_no_duplicates() -> None:
    # Times are relative to each page's origin: a reload's first events read the same.
    first = [[8, 0.0, 0], [0, 1.0, "snapshot"]]
    stream = decode([whole(1000, 0, 0, first), whole(2000, 0, 0, first)], BUILTIN)
    assert stream.delivery is not None and stream.delivery.duplicates == 0
