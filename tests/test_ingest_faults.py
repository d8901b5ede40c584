"""The fault-injecting ingest (harness/server.py): each rule answers as it says, seen from a
plain HTTP client; and one browser case end to end."""

from __future__ import annotations

import http.client
import json
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from harness import adapters, drive, report
from harness.drive import record
from harness.runner import ScenarioResult
from harness.scenario import FaultRule, load_scenario
from harness.server import Server
from harness.stream import decode_body
from harness.worker import Worker


def post(url: str, body: bytes = b"{}", timeout: float = 5) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "text/plain"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers)


def test_no_rule_matching_stores_and_answers_204_exposing_retry_after() -> None:
    with Server() as server:
        server.set_faults("s", (FaultRule(start=5, status=500),), time.monotonic())
        status, headers = post(server.ingest_url("s"), b"one")
        assert status == 204
        assert headers["Access-Control-Expose-Headers"] == "Retry-After"
        assert [b.body for b in server.batches("s")] == [b"one"]
        assert [(a.index, a.action) for a in server.attempts("s")] == [(0, "204")]


def test_rules_by_attempt_index_answer_their_status_then_stop() -> None:
    with Server() as server:
        server.set_faults("s", (FaultRule(start=1, count=2, status=500),), time.monotonic())
        statuses = [post(server.ingest_url("s"), str(i).encode())[0] for i in range(4)]
        assert statuses == [204, 500, 500, 204]
        assert [b.body for b in server.batches("s")] == [b"0", b"3"]  # failed ones not stored
        assert [a.action for a in server.attempts("s")] == ["204", "500", "500", "204"]
        assert post(server.ingest_url("other"))[0] == 204  # faults are per session


def test_retry_after_is_sent_and_store_keeps_a_batch_answered_as_failed() -> None:
    with Server() as server:
        rule = FaultRule(status=503, retry_after=5, store=True)
        server.set_faults("s", (rule,), time.monotonic())
        status, headers = post(server.ingest_url("s"), b"kept")
        assert (status, headers["Retry-After"]) == (503, "5")
        assert [b.body for b in server.batches("s")] == [b"kept"]
        assert server.attempts("s")[0].action == "store, 503 retry-after 5"


def test_time_windows_count_from_t0() -> None:
    with Server() as server:
        rule = FaultRule(from_ms=300, for_ms=400, status=429)
        server.set_faults("s", (rule,), time.monotonic())
        before = post(server.ingest_url("s"))[0]
        time.sleep(0.4)
        during = post(server.ingest_url("s"))[0]
        time.sleep(0.4)
        after = post(server.ingest_url("s"))[0]
        assert (before, during, after) == (204, 429, 204)
        times = [a.t_ms for a in server.attempts("s")]
        assert times[0] < 300 <= times[1] < 700 <= times[2]


def raw_post(server: Server, session: str, timeout: float = 5) -> tuple[str, float]:
    """One request on its own connection: what the client met, and after how long."""
    parts = urlsplit(server.ingest_url(session))
    connection = http.client.HTTPConnection(parts.netloc, timeout=timeout)
    started = time.monotonic()
    try:
        connection.request("POST", parts.path, body=b"x" * 100_000)
        outcome = str(connection.getresponse().status)
    except http.client.RemoteDisconnected:  # a ConnectionResetError too: first
        outcome = "closed without an answer"
    except (ConnectionResetError, BrokenPipeError):  # the latter while the body was being sent
        outcome = "reset"
    finally:
        connection.close()
    return outcome, time.monotonic() - started


@pytest.mark.parametrize(
    ("rule", "outcome", "stored"),
    [
        (FaultRule(drop=True), "closed without an answer", False),
        (FaultRule(refuse=True), "reset", False),
        (FaultRule(hang_ms=600), "closed without an answer", False),
    ],
)
def test_drop_refuse_and_hang_give_no_answer(rule: FaultRule, outcome: str, stored: bool) -> None:
    with Server() as server:
        server.set_faults("s", (rule,), time.monotonic())
        met, took = raw_post(server, "s")
        assert met == outcome
        assert bool(server.batches("s")) == stored
        assert (took >= 0.6) == (rule.hang_ms is not None)
        assert [a.action for a in server.attempts("s")] == [rule.action]
        server.clear_faults("s")
        assert raw_post(server, "s")[0] == "204"


PAGE = """<!doctype html><html><head><meta charset="utf-8"></head>
<body><button id="go" onclick="this.textContent = 'clicked ' + ++n">go</button>
<script>let n = 0;</script></body></html>"""

SCENARIO = """page: page.html
ingest_faults:
  - {from: 0, count: 1, status: 500}
steps:
  - click: "#go"
  - checkpoint: clicked
  - click: "#go"
  - close: {}
"""


def test_a_failed_first_batch_is_lost_and_pagehide_requests_of_a_closed_page_arrive(
    worker: Worker, tmp_path: Path
) -> None:
    """rrweb's harness transport does not retry: the first batch, answered 500, is gone, and
    the harness knows it was recorded from the browser's side. The click after the checkpoint
    goes only in the beacon sent at pagehide when the tab closes."""
    (tmp_path / "page.html").write_text(PAGE)
    (tmp_path / "s.yaml").write_text(SCENARIO)
    scenario = load_scenario(tmp_path / "s.yaml")
    recording = record(worker.browser, worker.server, scenario, adapters.get("rrweb"))
    stream, delivery = recording.stream, recording.stream.delivery
    assert recording.attempts[0].action == "500"
    assert delivery is not None
    assert len(stream.lost) == 1 and stream.lost[0].endswith("batch 0")
    assert delivery.recorded == delivery.delivered + delivery.lost_unmarked
    assert delivery.lost_unmarked >= 2  # rrweb's Meta and full snapshot at least
    # Everything stored had arrived before the context closed (the attempt log is read then),
    # the pagehide beacon with the last click included.
    assert len(stream.batches) == len(recording.attempts) - 1
    assert "clicked 2" in stream.to_json()


LEAVE_WHILE_FAILING = """page: page.html
ingest_faults:
  - {from_ms: 0, for_ms: 4000, status: 500}
steps:
  - click: "#go"
  - goto: {page: "page.html?next", flush: false}
  - click: "#go"
"""


def test_a_last_batch_lost_as_its_page_unloads_is_counted(worker: Worker, tmp_path: Path) -> None:
    """rrweb's last batch of a page goes at pagehide, where the browser's request log does not
    see it; answered 500, it is gone. The page told the harness what it recorded as it left:
    the loss is counted, not invisible."""
    (tmp_path / "page.html").write_text(PAGE)
    (tmp_path / "s.yaml").write_text(LEAVE_WHILE_FAILING)
    scenario = load_scenario(tmp_path / "s.yaml")
    recording = record(worker.browser, worker.server, scenario, adapters.get("rrweb"))
    stream, delivery = recording.stream, recording.stream.delivery
    assert delivery is not None
    # The next page's requests are in the log (and, on a slow machine, the first page's made
    # while it was visible): the page whose events no batch holds is the one that was left.
    pages = {float(json.loads(decode_body(body))["page"]) for body in recording.attempted}
    unseen = [lost for lost in stream.lost if lost.endswith("recorded events in no batch seen")]
    assert len(unseen) == 1
    first_page = unseen[0].split(":")[0].removeprefix("page ")
    assert float(first_page) < max(pages)
    assert delivery.recorded == delivery.delivered + delivery.lost_unmarked
    assert "clicked 1" not in stream.to_json()  # the first page's click went in that batch


def test_a_body_cut_short_by_the_client_is_not_stored() -> None:
    """A page unloading mid-upload: the ingest saw part of a body and answered nothing."""
    with Server() as server:
        parts = urlsplit(server.ingest_url("s"))
        host, port = parts.netloc.split(":")
        with socket.create_connection((host, int(port))) as client:
            client.sendall(
                f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n"
                'Content-Length: 1000\r\n\r\n{"seq": 0'.encode()
            )
            client.shutdown(socket.SHUT_WR)
            assert client.recv(100) == b""  # closed, unanswered
        assert server.batches("s") == []


def test_the_report_line_shows_delivery_when_faults_were_injected(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text(PAGE)
    (tmp_path / "s.yaml").write_text(SCENARIO)
    (tmp_path / "calm.yaml").write_text("page: page.html\n")
    delivery = {"recorded": 10, "delivered": 10, "lost_marked": 0, "lost_unmarked": 0,
                "duplicates": 0, "requests": 4, "retried_requests": 1}  # fmt: skip
    faulty = ScenarioResult(load_scenario(tmp_path / "s.yaml"), "builtin", delivery=delivery)
    calm = ScenarioResult(load_scenario(tmp_path / "calm.yaml"), "builtin", delivery=delivery)
    assert "delivered 10/10 events" in report.line(faulty)
    assert "4 requests, 1 retried" in report.line(faulty)
    assert "delivered" not in report.line(calm)
    lossy = ScenarioResult(calm.scenario, "builtin", delivery={**delivery, "delivered": 8})
    assert "delivered 8/10 events" in report.line(lossy)  # loss shows, faults or not


def test_a_hanging_ingest_holds_the_end_of_a_recording_no_longer_than_its_deadline(
    worker: Worker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drive, "FLUSH_DEADLINE_MS", 1000)
    monkeypatch.setattr(drive, "DELIVERY_DEADLINE_S", 2.0)
    (tmp_path / "page.html").write_text(PAGE)
    (tmp_path / "s.yaml").write_text(
        'page: page.html\ningest_faults:\n  - {hang_ms: 20000}\nsteps:\n  - click: "#go"\n'
    )
    started = time.monotonic()
    recording = drive.record(
        worker.browser, worker.server, load_scenario(tmp_path / "s.yaml"), adapters.get("rrweb")
    )
    # The checkpoint's flush (1 s), then the end (2 s), with time to spare for the rest.
    assert time.monotonic() - started < 10
    assert recording.attempts and all(a.action == "hang 20000 ms" for a in recording.attempts)
    assert recording.stream.delivery is not None
    assert recording.stream.delivery.delivered == 0 < recording.stream.delivery.recorded
