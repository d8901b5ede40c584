"""A captured stream: what the recorder sent to the ingest endpoint, decoded."""

from __future__ import annotations

import gzip
import json
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.server import Batch

Event = Any  # a recorder's own event shape (rrweb: objects; builtin: arrays)


@dataclass(frozen=True)
class Timeline:
    """Where a recorder keeps an event's time, and relative to what."""

    time_of: Callable[[Event], float]
    with_time: Callable[[Event, float], Event]
    relative: bool  # times count from the page's time origin (the envelope's `page`)


@dataclass(frozen=True)
class Stream:
    """Events in replay order with absolute, non-decreasing times, plus what crossed the wire."""

    events: list[Event]
    batches: list[Batch]
    wire_bytes: int  # as sent, compressed or not
    bytes: int  # uncompressed JSON text of every batch
    gzip_bytes: int  # that text gzipped: the comparable size across recorders
    lost: list[str] = field(default_factory=list)  # "page P batch N" gaps in the numbering

    def to_json(self) -> str:
        return json.dumps(self.events, separators=(",", ":"))


def decode_body(batch: Batch) -> bytes:
    """The batch's JSON text, undoing the transport encoding (gzip or deflate)."""
    if batch.content_encoding == "gzip" or batch.body[:2] == b"\x1f\x8b":
        return gzip.decompress(batch.body)
    if batch.content_encoding == "deflate":
        return zlib.decompress(batch.body)
    return batch.body


def decode(batches: list[Batch], timeline: Timeline) -> Stream:
    """Decode envelopes {session, page, seq, events}, page by page, batch by batch.

    Pages are never interleaved: a page's last events (sent while it unloads) may carry times
    after the next page's time origin; they are kept before it and the next page's early times
    are raised to match, so times never go backwards.
    """
    texts = [decode_body(b) for b in batches]
    envelopes = sorted(
        (json.loads(text) for text in texts), key=lambda e: (float(e["page"]), int(e["seq"]))
    )
    events: list[Event] = []
    seqs: dict[str, set[int]] = defaultdict(set)
    last = float("-inf")
    for envelope in envelopes:
        origin = float(envelope["page"])
        seqs[str(envelope["page"])].add(int(envelope["seq"]))
        for event in envelope["events"]:
            time = timeline.time_of(event) + (origin if timeline.relative else 0.0)
            last = max(last, time)
            events.append(timeline.with_time(event, last))
    lost = [
        f"page {page} batch {n}"
        for page, numbers in sorted(seqs.items())
        for n in range(max(numbers) + 1)
        if n not in numbers
    ]
    joined = b"\n".join(texts)
    return Stream(
        events=events,
        batches=batches,
        wire_bytes=sum(len(b.body) for b in batches),
        bytes=len(joined),
        gzip_bytes=len(gzip.compress(joined, compresslevel=6)),
        lost=lost,
    )
