"""The built-in recorder's delivery (recorder/src/record/transport.ts) in real Chromium, the
ingest failing as production ingests do: statuses, Retry-After, refused and hanging requests,
offline, pages left early. Faults are injected where the browser meets the network
(Playwright's routing); what gets through reaches the real harness server."""

from __future__ import annotations

import gzip
import itertools
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Request, Route

from harness.server import Server
from harness.stream import whole_batches
from harness.worker import Worker

ROOT = Path(__file__).resolve().parent.parent
PAGES = Path(__file__).parent / "fixtures" / "record"
SNAPSHOT, MUTATION, END, LOST = 1, 2, 19, 20
LIMIT = 60000  # bytes per request: the keepalive budget is 64 KiB

# What an attempt gets: an HTTP status (with headers), "abort" (a network failure), "hang" (no
# answer ever), or None (passed to the real server).
Answer = int | tuple[int, dict[str, str]] | str | None


def envelope(body: bytes) -> dict[str, Any]:
    data = gzip.decompress(body) if body[:2] == b"\x1f\x8b" else body
    parsed: dict[str, Any] = json.loads(data)
    return parsed


@dataclass
class Attempt:
    at: float
    page: float
    seq: int
    chunk: int
    size: int
    events: list[Any] | None  # a whole batch's events (None for a chunk)
    tries: int = 0  # attempts of the same (page, seq, chunk) before this one


@dataclass
class Ingest:
    """Every request to the ingest, as attempted by the browser; `plan` answers each."""

    plan: Callable[[int, Attempt], Answer]
    attempts: list[Attempt] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handle(self, route: Route, request: Request) -> None:
        body = request.post_data_buffer or b""
        e = envelope(body)
        attempt = Attempt(
            time.monotonic(), e["page"], e["seq"], e.get("chunk", 0), len(body), e.get("events")
        )
        with self.lock:
            index = len(self.attempts)
            key = (attempt.page, attempt.seq, attempt.chunk)
            attempt.tries = sum((a.page, a.seq, a.chunk) == key for a in self.attempts)
            self.attempts.append(attempt)
        answer = self.plan(index, attempt)
        if answer == "hang":
            return
        if answer == "abort":
            route.abort("connectionrefused")
        elif answer is None:
            route.continue_()
        else:
            status, headers = answer if isinstance(answer, tuple) else (int(answer), {})
            route.fulfill(
                status=status,
                headers={
                    "Access-Control-Allow-Origin": "*",
                    "Access-Control-Expose-Headers": "Retry-After",
                    **headers,
                },
                body="",
            )


@dataclass
class Tab:
    page: Page
    context: BrowserContext
    session: str
    server: Server
    ingest: Ingest
    errors: list[str]

    def flush(self, ms: int = 30000) -> dict[str, int]:
        stats: dict[str, int] = self.page.evaluate(f"window.__rec.flush({ms})")
        return stats

    def batches(self) -> dict[tuple[float, int], dict[str, Any]]:
        """What the server has: each (page, seq) once, chunks joined."""
        return whole_batches(self.server.batches(self.session))

    def wait_for(
        self, done: Callable[[], bool], seconds: float = 20, on: Page | None = None
    ) -> None:
        # Waiting in a page of the context lets Playwright dispatch its routes meanwhile.
        waiter = on or self.page
        deadline = time.monotonic() + seconds
        while not done():
            assert time.monotonic() < deadline, "not delivered in time"
            waiter.wait_for_timeout(100)


Open = Callable[..., Tab]


@pytest.fixture(scope="module")
def bundle() -> str:
    return (ROOT / "recorder" / "dist" / "record.js").read_text()


@pytest.fixture
def open_tab(worker: Worker, bundle: str) -> Iterator[Open]:
    contexts: list[BrowserContext] = []

    def open_tab(page: str, plan: Callable[[int, Attempt], Answer], **options: Any) -> Tab:
        session = uuid.uuid4().hex
        context = worker.browser.new_context(viewport={"width": 800, "height": 600})
        contexts.append(context)
        config = {"ingestUrl": worker.server.ingest_url(session), "session": session, **options}
        context.add_init_script(
            "(function(){if(window.top!==window||location.protocol==='about:')return;"
            f"{bundle};window.__rec=replaycheckRecord.record({json.dumps(config)})}})()"
        )
        ingest = Ingest(plan)
        context.route("**/__ingest/**", ingest.handle)
        tab = context.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(worker.server.mount(PAGES) + page)
        return Tab(tab, context, session, worker.server, ingest, errors)

    yield open_tab
    for context in contexts:
        context.close()


def gaps(batches: dict[tuple[float, int], dict[str, Any]]) -> list[tuple[float, int]]:
    pages: dict[float, list[int]] = {}
    for page, seq in batches:
        pages.setdefault(page, []).append(seq)
    return [(p, n) for p, seqs in pages.items() for n in range(max(seqs) + 1) if n not in seqs]


def test_failed_requests_are_retried_until_delivered_once(open_tab: Open) -> None:
    tab = open_tab("events.html", lambda i, a: 500 if i < 3 else None)
    for i in range(3):
        tab.page.evaluate(f"document.getElementById('first').textContent = 'step {i}'")
        tab.page.wait_for_timeout(400)
    stats = tab.flush()
    batches = tab.batches()
    assert not gaps(batches) and stats["queued"] == 0 and stats["dropped"] == 0
    assert stats["retried"] >= 3 and stats["sent"] == len(batches)
    first = batches[min(batches)]
    assert any(e[0] == SNAPSHOT for e in first["events"]), "the first snapshot, retried"
    # Each batch says how many events came before it: a gap's size is known.
    ordered = [batches[k] for k in sorted(batches)]
    for before, after in itertools.pairwise(ordered):
        assert after["first"] == before["first"] + len(before["events"])
    assert tab.errors == []


def test_retry_after_is_honoured(open_tab: Open) -> None:
    tab = open_tab("events.html", lambda i, a: (503, {"Retry-After": "3"}) if i == 0 else None)
    tab.flush()
    tries = [a for a in tab.ingest.attempts if (a.seq, a.chunk) == (0, 0)]
    assert len(tries) == 2 and tries[1].at - tries[0].at >= 2.9


def test_backoff_doubles_with_jitter(open_tab: Open) -> None:
    tab = open_tab("events.html", lambda i, a: "abort" if a.seq == 0 and a.tries < 3 else None)
    tab.flush(40000)
    times = [a.at for a in tab.ingest.attempts if a.seq == 0]
    waits = [b - a for a, b in itertools.pairwise(times)]
    assert len(waits) == 3
    # 2 s, 4 s, 8 s, each +-50%
    for wait, base in zip(waits, [2, 4, 8], strict=True):
        assert base * 0.5 - 0.1 <= wait <= base * 1.5 + 0.5, waits


def test_a_refused_batch_is_dropped_and_said_lost(open_tab: Open) -> None:
    tab = open_tab("events.html", lambda i, a: 400 if i == 0 else None)
    tab.page.evaluate("document.getElementById('first').textContent = 'after'")
    stats = tab.flush()
    batches = tab.batches()
    page = min(batches)[0]
    assert gaps(batches) == [(page, 0)] and stats["dropped"] == 1
    marks = [e for b in batches.values() for e in b["events"] if e[0] == LOST]
    assert len(marks) == 1 and marks[0][2][0][0] == 0 and marks[0][2][0][2] == "dropped: HTTP 400"
    assert marks[0][2][0][1] == batches[page, 1]["first"], "as many events as were lost"


def test_a_large_change_goes_in_chunks_under_the_keepalive_budget(open_tab: Open) -> None:
    tab = open_tab("events.html", lambda i, a: None)
    tab.flush()
    # ~1.75 MB of JSON: 30,000 nodes, and text of astral characters so that a cut between the
    # two halves of a surrogate pair would show.
    tab.page.evaluate(
        """() => { const box = document.createElement('div');
        for (let i = 0; i < 30000; i++) { const p = document.createElement('p');
          p.className = 'row-' + i; p.textContent = 'row ' + i + ' \\u{1F600}\\u{1F680}';
          box.append(p); }
        document.getElementById('list').append(box); }"""
    )
    tab.flush()
    sizes = [a.size for a in tab.ingest.attempts]
    assert max(sizes) < LIMIT
    chunked = {(a.page, a.seq) for a in tab.ingest.attempts if a.events is None}
    assert chunked, "the change went in chunks"
    batch = tab.batches()[chunked.pop()]
    added = [add for e in batch["events"] if e[0] == MUTATION for add in e[2]]
    rows = [p for _, _, node in added if node[2] == "div" for p in node[4]]
    texts = [p[4][0][2] for p in rows]
    assert len(texts) == 30000 and texts[-1] == "row 29999 \U0001f600\U0001f680"


def test_flush_returns_by_its_deadline_while_requests_hang(open_tab: Open) -> None:
    tab = open_tab("events.html", lambda i, a: "hang")
    start = time.monotonic()
    stats = tab.flush(1500)
    assert time.monotonic() - start < 4 and stats["queued"] >= 1 and stats["sent"] == 0


def test_offline_waits_for_online_and_then_delivers(open_tab: Open) -> None:
    tab = open_tab("events.html", lambda i, a: None)
    tab.flush()
    tab.context.set_offline(True)
    before = len(tab.ingest.attempts)
    tab.page.evaluate("document.getElementById('first').textContent = 'offline'")
    tab.page.wait_for_timeout(3000)
    during = len(tab.ingest.attempts) - before
    tab.context.set_offline(False)
    stats = tab.flush()
    assert not gaps(tab.batches()) and stats["dropped"] == 0
    assert '"offline"' in json.dumps(list(tab.batches().values())), "the change made offline"
    assert during == 0, "offline, the recorder waits for `online` rather than spending attempts"


def test_what_a_page_could_not_deliver_is_sent_by_the_next(open_tab: Open) -> None:
    failing = threading.Event()
    failing.set()
    tab = open_tab("nav-a.html", lambda i, a: 503 if failing.is_set() else None)
    tab.page.wait_for_timeout(1500)
    tab.page.click("#go")
    tab.page.wait_for_selector("#arrived")
    failing.clear()
    tab.flush()
    tab.wait_for(lambda: len({p for p, _ in tab.batches()}) == 2 and not gaps(tab.batches()))
    batches = tab.batches()
    first = min(p for p, _ in batches)
    a = [batches[k] for k in sorted(batches) if k[0] == first]
    assert any(e[0] == SNAPSHOT for e in a[0]["events"])
    end = a[-1]["events"][-1]
    assert end[0] == END and {entry[2] for entry in end[2]} == {"held"}
    assert {entry[0] for entry in end[2]} == {b["seq"] for b in a[:-1]}, "held: all it had"


def test_a_page_left_before_its_snapshot_is_out_is_still_replayable(open_tab: Open) -> None:
    tab = open_tab("table.html", lambda i, a: None)
    tab.page.goto(tab.page.url.replace("table.html", "nav-b.html"))
    tab.flush()
    first = min(p for p, _ in tab.batches())
    tab.wait_for(lambda: any(k[0] == first and k[1] >= 1 for k in tab.batches()))
    batches = tab.batches()
    snapshot = next(
        e for k in sorted(batches) if k[0] == first for e in batches[k]["events"] if e[0] == 1
    )
    assert json.dumps(snapshot).count('"tr"') == 3000


def test_what_a_page_left_for_good_could_not_deliver_is_marked(open_tab: Open) -> None:
    def plan(i: int, a: Attempt) -> Answer:
        ends = a.events is not None and any(e[0] == END for e in a.events)
        return None if ends else 503  # the ingest fails all but the page's last word

    tab = open_tab("events.html", plan)
    tab.page.evaluate("document.getElementById('first').textContent = 'then left'")
    tab.page.wait_for_timeout(1500)
    other = tab.context.new_page()  # another tab stays open: the context lives on
    tab.page.close(run_before_unload=True)  # the tab is closed: no next page will send them

    def end() -> dict[str, Any] | None:
        return next((b for b in tab.batches().values() if b["events"][-1][0] == END), None)

    tab.wait_for(lambda: end() is not None, 10, on=other)
    last = end()
    assert last is not None
    # Every batch before it was answered 503: all are listed, with all their events. (Those
    # sent by keepalive at pagehide may still arrive: Playwright's routing does not see them.)
    lost = last["events"][-1][2]
    assert sorted(entry[0] for entry in lost) == list(range(last["seq"]))
    assert {entry[2] for entry in lost} == {"held"}
    assert sum(entry[1] for entry in lost) == last["first"]
