"""A captured stream: what the recorder sent to the ingest endpoint, decoded."""

from __future__ import annotations

import gzip
import json
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from harness.server import Batch

Event = dict[str, Any]


@dataclass(frozen=True)
class Stream:
    """Events in time order, plus the size of what crossed the wire."""

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


def decode(batches: list[Batch], time_key: str = "timestamp") -> Stream:
    """Decode envelopes {session, page, seq, events}: events sorted by time, gaps reported."""
    texts = [decode_body(b) for b in batches]
    events: list[Event] = []
    seqs: dict[str, set[int]] = defaultdict(set)
    for text in texts:
        envelope = json.loads(text)
        seqs[str(envelope["page"])].add(int(envelope["seq"]))
        events.extend(envelope["events"])
    # Beacons from an unloading page can arrive after the next page's first batch.
    events.sort(key=lambda e: float(e.get(time_key, 0)))
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
