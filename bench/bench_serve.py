"""Ingest throughput of `replaycheck serve` (issue 11): RECORDERS simulated recorders, each on
its own keep-alive HTTP connection as a browser's fetch is, post numbered gzip batches of a
realistic size to a running server (its own process, started by the CLI) for SECONDS, on
SQLite and on PostgreSQL (a throwaway cluster, tests/pg.py). Prints batches/s acknowledged and
the latency p50/p99 of each request, and checks afterwards that the store holds every one.

Target on this 2-core machine (client and server share it): 1,000 batches/s on SQLite.

Run: .venv/bin/python bench/bench_serve.py [--recorders 50] [--seconds 10] [--store sqlite]
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.ingest import EventType  # noqa: E402
from tests.serve_helpers import Running, running_server  # noqa: E402

HREF = "https://shop.test/products/42"
MOST_PER_SECOND = 60  # batches per recorder and second made ready (50 x 60: 3,000/s)


def body(session: str, seq: int, rng: random.Random) -> bytes:
    """One second of a user: pointer positions, a few mutations, sometimes a click or input,
    as the builtin recorder batches them (~40 events, ~1.5 KB gzipped)."""
    t = seq * 1000.0
    events: list[list[object]] = []
    if seq == 0:
        events += [
            [EventType.NAVIGATION, 0, 0, HREF],
            [EventType.META, 0, HREF, "Product", 1280, 720, 1],
        ]
    for k in range(30):
        events.append(
            [EventType.MOUSE_MOVE, t + k * 33, [[rng.randint(0, 1280), rng.randint(0, 720), 0]]]
        )
    for k in range(8):
        text = "".join(rng.choice("abcdefghij ") for _ in range(40))
        events.append([EventType.MUTATION, t + k * 120, [], [], [[1000 + k, text]], []])
    if rng.random() < 0.3:
        events.append([EventType.MOUSE, t + 500, 2, 17, 300, 200])
    if rng.random() < 0.2:
        events.append([EventType.INPUT, t + 700, 23, "*****"])
    batch = {"v": 1, "session": session, "page": 1.8e12, "seq": seq, "first": 0, "events": events}
    return gzip.compress(json.dumps(batch, separators=(",", ":")).encode(), 6)


async def recorder(
    server: Running,
    bodies: list[bytes],
    until: float,
    latencies: list[float],
    failures: list[str],
) -> int:
    host, port = server.base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    seq = 0
    path = f"/ingest?key={server.key}"
    try:
        while time.perf_counter() < until and seq < len(bodies):
            data = bodies[seq]
            head = (
                f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: text/plain\r\n"
                f"Content-Encoding: gzip\r\nOrigin: https://shop.test\r\n"
                f"Content-Length: {len(data)}\r\n\r\n"
            ).encode()
            started = time.perf_counter()
            writer.write(head + data)
            await writer.drain()
            status_line = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            if b" 204 " not in status_line:
                failures.append(status_line.decode().strip())
                break
            seq += 1
    finally:
        writer.close()
    return seq


async def load(
    server: Running, recorders: int, seconds: float
) -> tuple[list[int], list[float], list[str], float]:
    latencies: list[float] = []
    failures: list[str] = []
    # Made before the clock starts: the client shares the 2 cores with the server, and making
    # bodies (random text, gzip) would be measured as the server's slowness.
    per = int(seconds * MOST_PER_SECOND)
    bodies = [[body(f"bench-{i}", seq, random.Random(i * 100_000 + seq)) for seq in range(per)]
              for i in range(recorders)]  # fmt: skip
    started = time.perf_counter()
    until = started + seconds
    sent = await asyncio.gather(
        *(recorder(server, bodies[i], until, latencies, failures) for i in range(recorders))
    )
    return list(sent), latencies, failures, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@contextmanager
def store_url(kind: str, tmp: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{tmp / 'bench.db'}"
        return
    from tests.pg import cluster, fresh_database

    with cluster() as superuser:
        yield fresh_database(superuser)


def run(kind: str, recorders: int, seconds: float) -> None:
    with tempfile.TemporaryDirectory() as folder, store_url(kind, Path(folder)) as url:
        with running_server(Path(folder), url) as server:
            sent, latencies, failures, elapsed = asyncio.run(load(server, recorders, seconds))
            stored = 0
            for i, count in enumerate(sent):
                _, got = server.api(f"/api/sessions/bench-{i}/batches")
                stored += len(got["batches"]) if isinstance(got, dict) else 0
                if isinstance(got, dict) and len(got["batches"]) != count:
                    failures.append(
                        f"bench-{i}: {count} acknowledged, {len(got['batches'])} stored"
                    )
        total = sum(sent)
        print(
            f"{kind:10} {recorders} recorders, {seconds:g} s: {total / elapsed:7.0f} batches/s"
            f"  p50 {percentile(latencies, 0.5) * 1000:6.1f} ms"
            f"  p99 {percentile(latencies, 0.99) * 1000:6.1f} ms"
            f"  ({total} acknowledged, {stored} stored)"
        )
        for failure in failures[:5]:
            print(f"  FAILED: {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recorders", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--store", choices=["sqlite", "postgresql"], action="append")
    args = parser.parse_args()
    for kind in args.store or ["sqlite", "postgresql"]:
        run(kind, args.recorders, args.seconds)


if __name__ == "__main__":
    main()
