from __future__ import annotations

import gzip
import json
from typing import Any

from harness.server import Batch
from harness.stream import Timeline, decode

ABSOLUTE = Timeline(lambda e: e["timestamp"], lambda e, t: {**e, "timestamp": t}, relative=False)
RELATIVE = Timeline(lambda e: e[1], lambda e, t: [e[0], t, *e[2:]], relative=True)


def batch(page: float, seq: int, events: list[Any], gz: bool = False) -> Batch:
    body = json.dumps({"session": "s", "page": page, "seq": seq, "events": events}).encode()
    if gz:
        return Batch(gzip.compress(body), "application/octet-stream", "")
    return Batch(body, "text/plain", "")


def test_batches_are_ordered_by_page_then_number_whatever_the_arrival() -> None:
    stream = decode(
        [
            batch(2000, 0, [{"timestamp": 2010}]),
            batch(1000, 1, [{"timestamp": 1025}], gz=True),
            batch(1000, 0, [{"timestamp": 1010}, {"timestamp": 1020}]),
        ],
        ABSOLUTE,
    )
    assert [e["timestamp"] for e in stream.events] == [1010, 1020, 1025, 2010]
    assert stream.lost == []
    assert stream.wire_bytes < stream.bytes + 10  # the gzipped batch is smaller on the wire


def test_an_unloading_page_tail_stays_before_the_next_page_and_time_never_goes_back() -> None:
    # Page 1's last batch, sent at pagehide (t=1500), is later than page 2's origin (1400).
    stream = decode(
        [
            batch(1000, 0, [{"timestamp": 1100}]),
            batch(1400, 0, [{"timestamp": 1450, "p": 2}, {"timestamp": 1600, "p": 2}]),
            batch(1000, 1, [{"timestamp": 1500}]),
        ],
        ABSOLUTE,
    )
    assert [(e["timestamp"], e.get("p", 1)) for e in stream.events] == [
        (1100, 1),
        (1500, 1),
        (1500, 2),
        (1600, 2),
    ]


def test_relative_times_are_made_absolute_from_the_page_origin() -> None:
    stream = decode([batch(5000.5, 0, [[0, 0, "meta"], [2, 12, "m"]])], RELATIVE)
    assert stream.events == [[0, 5000.5, "meta"], [2, 5012.5, "m"]]


def test_a_missing_batch_number_is_reported() -> None:
    stream = decode([batch(7, 0, [{"timestamp": 1}]), batch(7, 2, [{"timestamp": 3}])], ABSOLUTE)
    assert stream.lost == ["page 7 batch 1"]


def test_sizes_count_the_decoded_text_and_its_gzip() -> None:
    events = [{"timestamp": float(i), "text": "hello world " * 10} for i in range(50)]
    stream = decode([batch(1, 0, events)], ABSOLUTE)
    assert stream.bytes == len(stream.batches[0].body)
    assert 0 < stream.gzip_bytes < stream.bytes / 5
