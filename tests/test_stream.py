from __future__ import annotations

import gzip
import json

from harness.server import Batch
from harness.stream import decode


def batch(page: str, seq: int, events: list[dict[str, object]], gz: bool = False) -> Batch:
    body = json.dumps({"session": "s", "page": page, "seq": seq, "events": events}).encode()
    if gz:
        return Batch(gzip.compress(body), "text/plain", "gzip")
    return Batch(body, "text/plain", "")


def test_events_are_ordered_by_time_across_batches_and_pages() -> None:
    stream = decode(
        [
            batch("b", 0, [{"timestamp": 30}]),
            batch("a", 0, [{"timestamp": 10}, {"timestamp": 20}]),
            batch("a", 1, [{"timestamp": 25}], gz=True),
        ]
    )
    assert [e["timestamp"] for e in stream.events] == [10, 20, 25, 30]
    assert stream.lost == []
    assert stream.wire_bytes < stream.bytes + 10  # the gzipped batch is smaller on the wire


def test_a_missing_batch_number_is_reported() -> None:
    stream = decode([batch("a", 0, [{"timestamp": 1}]), batch("a", 2, [{"timestamp": 3}])])
    assert stream.lost == ["page a batch 1"]


def test_sizes_count_the_decoded_text_and_its_gzip() -> None:
    events = [{"timestamp": float(i), "text": "hello world " * 10} for i in range(50)]
    stream = decode([batch("a", 0, events)])
    assert stream.bytes == len(stream.batches[0].body)
    assert 0 < stream.gzip_bytes < stream.bytes / 5
