"""A captured stream: what the recorder sent to the ingest endpoint, decoded."""

from __future__ import annotations

import gzip
import json
import zlib
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
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


# Marker events of the builtin recorder's transport ([19, t, lost] and [20, t, lost]; lost is
# [[seq, events, reason], ...]): End closes a page's stream, Lost reports batches given up.
END, LOST = 19, 20


@dataclass(frozen=True)
class Delivery:
    """What reached the ingest of what the recorder recorded, in events (markers included)."""

    recorded: int  # the union of what arrived, what the browser sent, and what the batches declare
    delivered: int  # events of complete batches that arrived, each batch once
    lost_marked: int  # not delivered, and listed by an End or Lost marker
    lost_unmarked: int  # not delivered, and nothing in the stream says so (a bug)
    duplicates: int  # events in the decoded stream that another batch holds too
    requests: int  # ingest requests: those the browser made, or those received when more
    retried_requests: int  # requests re-sending a (page, seq, chunk) sent before
    repeated_requests: int  # requests the ingest received for a key it already held

    def to_json(self) -> dict[str, int]:
        return {
            "recorded": self.recorded,
            "delivered": self.delivered,
            "lost_marked": self.lost_marked,
            "lost_unmarked": self.lost_unmarked,
            "duplicates": self.duplicates,
            "requests": self.requests,
            "retried_requests": self.retried_requests,
        }


@dataclass(frozen=True)
class Stream:
    """Events in replay order with absolute, non-decreasing times, plus what crossed the wire."""

    events: list[Event]
    batches: list[Batch]
    wire_bytes: int  # as sent, compressed or not
    bytes: int  # uncompressed JSON text of every batch
    gzip_bytes: int  # that text gzipped: the comparable size across recorders
    lost: list[str] = field(default_factory=list)  # "page P batch N": lost, and not marked lost
    lost_marked: list[str] = field(default_factory=list)  # "page P batch N (reason)"
    delivery: Delivery | None = None

    def to_json(self) -> str:
        return json.dumps(self.events, separators=(",", ":"))


def decode_body(batch: Batch) -> bytes:
    """The batch's JSON text, undoing the transport encoding (gzip or deflate)."""
    if batch.content_encoding == "gzip" or batch.body[:2] == b"\x1f\x8b":
        return gzip.decompress(batch.body)
    if batch.content_encoding == "deflate":
        return zlib.decompress(batch.body)
    return batch.body


Key = tuple[float, int]  # (page, seq)


@dataclass
class _Batches:
    """Request bodies read per the transport protocol: chunks reassembled, each (page, seq,
    chunk) once, and what the bodies declare about the batches they belong to."""

    labels: dict[float, str] = field(default_factory=dict)  # page as the envelope wrote it
    chunks: dict[Key, dict[int, str]] = field(default_factory=dict)  # chunk -> data
    last_chunk: dict[Key, int] = field(default_factory=dict)
    whole: dict[Key, dict[str, Any]] = field(default_factory=dict)  # complete batches
    sizes: dict[Key, int] = field(default_factory=dict)  # events of a batch, where known
    firsts: dict[Key, int] = field(default_factory=dict)
    requests: int = 0
    repeated: int = 0  # bodies whose (page, seq, chunk) was read before

    def read(self, envelope: dict[str, Any]) -> None:
        page, seq = float(envelope["page"]), int(envelope["seq"])
        key = (page, seq)
        self.labels.setdefault(page, str(envelope["page"]))
        self.requests += 1
        if "first" in envelope:
            self.firsts[key] = int(envelope["first"])
        if "data" not in envelope:  # a whole batch: chunk 0, the last
            if key in self.whole or 0 in self.chunks.get(key, {}):
                self.repeated += 1
                return
            self.chunks.setdefault(key, {})[0] = ""
            self.last_chunk[key] = 0
            self.whole[key] = envelope
            self.sizes[key] = len(envelope["events"])
            return
        chunk = int(envelope["chunk"])
        held = self.chunks.setdefault(key, {})
        if chunk in held:
            self.repeated += 1
            return
        held[chunk] = str(envelope["data"])
        self.sizes[key] = int(envelope["n"])
        if envelope.get("last"):
            self.last_chunk[key] = chunk
        last = self.last_chunk.get(key)
        if last is not None and key not in self.whole and all(i in held for i in range(last + 1)):
            self.whole[key] = json.loads("".join(held[i] for i in range(last + 1)))

    def label(self, key: Key, note: str = "") -> str:
        page, seq = key
        return f"page {self.labels[page]} batch {seq}" + (f" ({note})" if note else "")


def _envelopes(batches: list[Batch]) -> tuple[list[bytes], list[dict[str, Any]]]:
    texts = [decode_body(b) for b in batches]
    return texts, [json.loads(text) for text in texts]


def whole_batches(batches: list[Batch]) -> dict[Key, dict[str, Any]]:
    """The complete batches among request bodies: each (page, seq) once, chunks joined."""
    received = _Batches()
    for envelope in _envelopes(batches)[1]:
        received.read(envelope)
    return received.whole


def _attempted_envelopes(batches: list[Batch]) -> list[dict[str, Any]]:
    """What the browser sent, as far as it can be read: a body the browser's log kept no
    copy of is not evidence of anything."""
    out = []
    for batch in batches:
        try:
            envelope = json.loads(decode_body(batch))
        except (ValueError, OSError, EOFError, zlib.error):
            continue
        if isinstance(envelope, dict) and "page" in envelope and "seq" in envelope:
            out.append(envelope)
    return out


def decode(
    batches: list[Batch],
    timeline: Timeline,
    attempted: Sequence[Batch] = (),
    emitted: Mapping[str, int] | None = None,
) -> Stream:
    """Decode envelopes {session, page, seq, events} (or their chunks), page by page, batch by
    batch, each (page, seq, chunk) once; `attempted` (every body the browser sent, answered
    or not) and `emitted` (page -> events the recorder said it had recorded there, read in the
    page) only add to what is known to have been recorded.

    Pages are never interleaved: a page's last events (sent while it unloads) may carry times
    after the next page's time origin; they are kept before it and the next page's early times
    are raised to match, so times never go backwards.
    """
    texts, envelopes = _envelopes(batches)
    received = _Batches()
    for envelope in envelopes:
        received.read(envelope)
    sent = _Batches()
    for envelope in _attempted_envelopes(list(attempted)):
        sent.read(envelope)

    events: list[Event] = []
    marked: dict[Key, tuple[int, str]] = {}  # from End and Lost markers: (events, reason)
    ends: dict[float, int] = {}  # page -> seq of the batch that ended it
    # (page, event JSON) -> that page's batches holding it: pages are apart (a reload's first
    # events, relative to its own time origin, are the same text as the page's before).
    holders: dict[tuple[float, str], set[int]] = defaultdict(set)
    last = float("-inf")
    for key in sorted(received.whole):
        page, seq = key
        origin = page if timeline.relative else 0.0
        for event in received.whole[key]["events"]:
            if isinstance(event, list) and event[:1] in ([END], [LOST]) and len(event) > 2:
                if event[0] == END:
                    ends[page] = seq
                for lost_seq, count, reason in event[2]:
                    marked.setdefault((page, int(lost_seq)), (int(count), str(reason)))
            holders[(page, json.dumps(event, sort_keys=True))].add(seq)
            time = timeline.time_of(event) + origin
            last = max(last, time)
            events.append(timeline.with_time(event, last))

    delivered = {key: len(received.whole[key]["events"]) for key in received.whole}
    recorded, missing = _recorded(received, sent, marked, ends)
    received.labels = {**sent.labels, **received.labels}  # a batch only the browser saw
    lost = [received.label(key) for key in missing if key not in marked]
    for label, count in (emitted or {}).items():
        # Events in no batch anyone saw (the browser's log misses what a page sends as it
        # unloads): lost, and the page's batches never said so.
        unseen = count - recorded.get(float(label), 0)
        if unseen > 0:
            recorded[float(label)] = count
            lost.append(f"page {label}: {unseen} of {count} recorded events in no batch seen")
    lost_marked = [received.label(key, marked[key][1]) for key in missing if key in marked]
    marked_events = sum(marked[key][0] for key in missing if key in marked)
    total = sum(recorded.values())
    joined = b"\n".join(texts)
    return Stream(
        events=events,
        batches=batches,
        wire_bytes=sum(len(b.body) for b in batches),
        bytes=len(joined),
        gzip_bytes=len(gzip.compress(joined, compresslevel=6)),
        lost=lost,
        lost_marked=lost_marked,
        delivery=Delivery(
            recorded=total,
            delivered=sum(delivered.values()),
            lost_marked=marked_events,
            lost_unmarked=max(total - sum(delivered.values()) - marked_events, 0),
            duplicates=sum(len(keys) - 1 for keys in holders.values()),
            requests=max(sent.requests, received.requests),
            retried_requests=sent.repeated,
            repeated_requests=received.repeated,
        ),
    )


def _recorded(
    received: _Batches, sent: _Batches, marked: dict[Key, tuple[int, str]], ends: dict[float, int]
) -> tuple[dict[float, int], list[Key]]:
    """Events each page recorded, and the batches (page, seq) that never arrived whole.

    A page's batches are those numbered up to the highest seq anyone knows of (arrived, sent,
    listed by a marker, or ended by End); a batch's size is what its body or a marker says,
    and where batches carry `first` (the events of the page's batches before), the batches
    between them count what it says."""
    sizes = {**{key: count for key, (count, _) in marked.items()}, **sent.sizes, **received.sizes}
    firsts = {**sent.firsts, **received.firsts}
    pages: dict[float, int] = {}
    for page, seq in [*sizes, *firsts, *ends.items()]:
        pages[page] = max(pages.get(page, -1), seq)
    recorded: dict[float, int] = {}
    missing: list[Key] = []
    for page, top in sorted(pages.items()):
        keys = [(page, seq) for seq in range(top + 1)]
        declared = [firsts[k] + sizes[k] for k in keys if k in firsts and k in sizes]
        recorded[page] = max([sum(sizes.get(k, 0) for k in keys), *declared])
        missing += [k for k in keys if k not in received.whole]
    return recorded, missing
