"""`replaycheck serve` over real HTTP: a server process started by the CLI, requests that try to
get in, faults that must lose nothing, and the data lifecycle (delete, erasure, retention)."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from recorder import bundle_path
from service.app import sampled
from service.ingest import EventType
from service.store import open_store
from tests.serve_helpers import (
    PASSWORD,
    Running,
    add_user,
    cli,
    running_server,
    start,
    stop,
    store_param,
)

HREF = "https://shop.test/cart"


def batch(
    session: str,
    seq: int,
    events: list[list[Any]] | None = None,
    page: float = 1_764_600_000_000.5,
    first: int = 0,
) -> dict[str, Any]:
    if events is None:
        events = [[EventType.CHECKPOINT, seq * 10, f"c{seq}"]]
    return {"v": 1, "session": session, "page": page, "seq": seq, "first": first, "events": events}


def opening(href: str = HREF) -> list[list[Any]]:
    """A page's first events: Navigation(Load) and Meta."""
    return [[EventType.NAVIGATION, 0, 0, href], [EventType.META, 0, href, "Cart", 1280, 720, 1]]


class Client:
    """Raw HTTP to the server: what a recorder or an attacker sends, byte for byte."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            answer = conn.getresponse()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
        finally:
            conn.close()

    def post(
        self, key: str, body: bytes | dict[str, Any], headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        data = json.dumps(body).encode() if isinstance(body, dict) else body
        status, _, text = self.request(
            "POST", f"/ingest?key={key}", data, {"Content-Type": "text/plain", **(headers or {})}
        )
        return status, text


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    with running_server(tmp_path_factory.mktemp("serve"), store_param(request)) as running:
        yield running


@pytest.fixture
def client(server: Running) -> Client:
    return Client(server.base)


def login(client: Client, name: str, password: str) -> tuple[int, dict[str, str], Any]:
    status, headers, body = client.request(
        "POST", "/api/login", json.dumps({"name": name, "password": password}).encode(),
        {"Content-Type": "application/json"},
    )  # fmt: skip
    return status, headers, json.loads(body)


def cookie_of(headers: dict[str, str]) -> str:
    return headers["set-cookie"].split(";")[0]


# Ingest: what a recorder sends, and what is refused.


def test_a_batch_is_stored_once_and_indexed(server: Running, client: Client) -> None:
    events = [*opening(), [EventType.MOUSE, 50, 2, 7, 10, 10], [EventType.ERROR, 60, "boom", ""]]
    for _ in range(3):  # a retried batch
        assert client.post(server.key, batch("once", 0, events))[0] == 204
    assert client.post(server.key, batch("once", 2, [[EventType.END, 90, []]], first=4))[0] == 204
    status, row = server.api("/api/sessions/once")
    assert status == 200
    assert (row["clicks"], row["errors"], row["navigations"], row["pages"]) == (1, 1, 1, [HREF])
    # seq 1 never came: the gap stays visible.
    assert row["gaps"] == 1
    assert row["ended"] is True
    kinds = [m["kind"] for m in row["markers"]]
    assert kinds == ["navigation", "click", "error_click", "error"]  # the click led to it
    _, stored = server.api("/api/sessions/once/batches")
    assert [b["seq"] for b in stored["batches"]] == [0, 2]
    assert stored["batches"][0]["events"] == events


def test_chunks_are_joined_and_indexed_once_all_arrived(server: Running, client: Client) -> None:
    whole = batch("chunked", 0, [*opening(), [EventType.ERROR, 5, "x" * 3000, ""]])
    text = json.dumps(whole)
    parts = [text[i : i + 1000] for i in range(0, len(text), 1000)]
    envelope = {k: whole[k] for k in ("v", "session", "page", "seq", "first")}
    # Out of order, the last one first: nothing is indexed until all are in.
    order = [len(parts) - 1, *range(len(parts) - 1)]
    for i in order:
        chunk = {**envelope, "n": 3, "chunk": i, "last": i == len(parts) - 1, "data": parts[i]}
        assert client.post(server.key, gzip.compress(json.dumps(chunk).encode()))[0] == 204
        if i == order[0]:
            assert server.api("/api/sessions/chunked")[1]["errors"] == 0
    assert server.api("/api/sessions/chunked")[1]["errors"] == 1
    _, stored = server.api("/api/sessions/chunked/batches")
    assert stored["batches"] == [whole]


BOMB = gzip.compress(b" " * (64 * 2**20), compresslevel=9)


@pytest.mark.parametrize(
    ("body", "headers", "status", "reason"),
    [
        (b"{not json", {}, 400, "malformed JSON"),
        (json.dumps({"v": 1, "session": "s", "page": 1, "seq": 0}).encode(), {}, 400, "events"),
        (b"x" * (9 * 2**20), {}, 413, "body over"),
        (BOMB, {"Content-Encoding": "gzip"}, 413, "JSON text over"),
        (b"{}", {"Content-Type": "application/x-www-form-urlencoded"}, 415, "content type"),
    ],
    ids=["malformed-json", "no-events", "oversized", "gzip-bomb", "content-type"],
)
def test_a_bad_request_gets_a_clear_4xx(
    server: Running, client: Client, body: bytes, headers: dict[str, str], status: int, reason: str
) -> None:
    got, text = client.post(server.key, body, headers)
    assert got == status
    assert reason in text.decode()
    assert len(text.decode().splitlines()) == 1


def test_a_wrong_key_is_401_and_an_unlisted_origin_403(
    server: Running, client: Client, tmp_path: Path
) -> None:
    assert client.post("not-a-key", batch("k", 0))[0] == 401
    status, _, text = client.request("POST", "/ingest", json.dumps(batch("k", 0)).encode())
    assert status == 401 and b"ingest key" in text
    done = add_user(server.store_url, "origins", "narrow")
    # A project that lists its site's origin refuses others (CORS).
    with open_store(server.store_url) as store:
        project = store.project("narrow")
        assert project is not None
        store.add_project(
            type(project)(project.id, project.name, project.ingest_key, ("https://shop.test",))
        )
    key = done[0]
    assert client.post(key, batch("k", 0), {"Origin": "https://evil.test"})[0] == 403
    assert client.post(key, batch("k", 0), {"Origin": "https://shop.test"})[0] == 204


def test_bad_requests_beside_good_ones_lose_nothing(server: Running, client: Client) -> None:
    """Recorders ingesting while others send garbage: every good batch is stored."""
    good_threads, per = 6, 25
    failures: list[str] = []

    def good(i: int) -> None:
        mine = Client(server.base)
        for seq in range(per):
            status, text = mine.post(server.key, batch(f"busy-{i}", seq))
            if status != 204:
                failures.append(f"{status} {text!r}")

    def bad() -> None:
        mine = Client(server.base)
        for n in range(40):
            mine.post(server.key, [b"{", BOMB, b"[]", b"\xff\xfe"][n % 4])
            mine.post("wrong", batch("busy-0", 99))

    pool = [threading.Thread(target=good, args=(i,)) for i in range(good_threads)]
    pool.append(threading.Thread(target=bad))
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert failures == []
    for i in range(good_threads):
        _, stored = server.api(f"/api/sessions/busy-{i}/batches")
        assert [b["seq"] for b in stored["batches"]] == list(range(per))


# Logins, CSRF, projects apart.


def test_without_login_the_api_is_401_and_the_viewer_redirects(
    server: Running, client: Client
) -> None:
    for path in ("/api/sessions", "/api/sessions/once", "/api/sessions/once/batches", "/api/me"):
        status, _, _ = client.request("GET", path)
        assert status == 401, path
    status, headers, _ = client.request("GET", "/sessions/once?t=5")
    assert status == 303
    assert headers["location"] == "/login?next=/sessions/once%3Ft%3D5"
    assert (
        client.request("GET", "/api/sessions", headers={"Authorization": "Bearer nope"})[0] == 401
    )
    assert client.request("DELETE", "/api/sessions/once")[0] == 401


def test_login_sets_a_strict_httponly_cookie_and_writes_need_csrf(
    server: Running, client: Client
) -> None:
    assert client.post(server.key, batch("doomed", 0, opening()))[0] == 204
    status, headers, body = login(client, server.user, server.password)
    assert status == 200
    flags = headers["set-cookie"].lower()
    assert "httponly" in flags and "samesite=strict" in flags
    cookie = {"Cookie": cookie_of(headers)}
    status, _, listed = client.request("GET", "/api/sessions?url=shop.test", headers=cookie)
    assert status == 200 and "doomed" in [s["id"] for s in json.loads(listed)["sessions"]]
    # A cross-site form or fetch carries the cookie (were SameSite not there) but not the token.
    assert client.request("DELETE", "/api/sessions/doomed", headers=cookie)[0] == 403
    wrong = {**cookie, "X-CSRF-Token": "guess"}
    assert client.request("DELETE", "/api/sessions/doomed", headers=wrong)[0] == 403
    right = {**cookie, "X-CSRF-Token": body["csrf"]}
    assert client.request("DELETE", "/api/sessions/doomed", headers=right)[0] == 204
    assert server.api("/api/sessions/doomed")[0] == 404
    # Signed out: the cookie opens nothing any more.
    assert client.request("POST", "/api/logout", headers=right)[0] == 204
    assert client.request("GET", "/api/sessions", headers=cookie)[0] == 401


def test_wrong_passwords_are_refused_then_throttled(server: Running, client: Client) -> None:
    assert login(client, server.user, "wrong password")[0] == 401
    assert login(client, "nobody", server.password)[0] == 401
    statuses = [login(client, "guessed", f"try {n}")[0] for n in range(12)]
    assert statuses[:10] == [401] * 10 and statuses[10:] == [429, 429]
    assert login(client, server.user, server.password)[0] == 200  # another name is not locked


def test_one_project_cannot_read_another_projects_session(server: Running, client: Client) -> None:
    assert client.post(server.key, batch("private", 0, opening()))[0] == 204
    _, other_token = add_user(server.store_url, "eve", "other")
    for path in ("/api/sessions/private", "/api/sessions/private/batches"):
        assert server.api(path, token=other_token)[0] == 404
    assert server.api("/api/sessions/private", "DELETE", token=other_token)[0] == 404
    _, listed = server.api("/api/sessions?limit=200", token=other_token)
    assert listed["total"] == 0
    assert server.api("/api/sessions/private")[0] == 200  # still there for its own project


def test_list_filters_sort_and_page(server: Running, client: Client) -> None:
    pages = {
        "f-a": "https://f.test/checkout",
        "f-b": "https://f.test/home",
        "f-c": "https://f.test/checkout?step=2",
    }
    for i, (session, href) in enumerate(pages.items()):
        events = [*opening(href), [EventType.CHECKPOINT, 1000 * (i + 1), "x"]]
        if session == "f-c":
            events.append([EventType.ERROR, 10, "bad", ""])
            events.append([EventType.IDENTIFY, 20, "user-7", {"plan": "pro", "seats": 3}])
        assert client.post(server.key, batch(session, 0, events, page=1.8e12 + i))[0] == 204

    def ids(query: str) -> list[str]:
        status, body = server.api(f"/api/sessions?{query}")
        assert status == 200, body
        return [s["id"] for s in body["sessions"] if s["id"].startswith("f-")]

    assert ids("url=CHECKOUT&sort=start") == ["f-a", "f-c"]
    assert ids("url=checkout&error=1") == ["f-c"]
    assert ids("user=user-7") == ["f-c"]
    assert ids("prop=plan:pro&prop=seats:3") == ["f-c"]
    assert ids("prop=plan:free") == []
    assert ids("url=f.test&sort=-duration") == ["f-c", "f-b", "f-a"]
    assert ids("url=f.test&min_duration=1500&max_duration=2500") == ["f-b"]
    assert ids(f"url=f.test&from={1.8e12 + 1}&to={1.8e12 + 1.5}") == ["f-b"]
    _, first = server.api("/api/sessions?url=f.test&sort=start&limit=2")
    _, second = server.api("/api/sessions?url=f.test&sort=start&limit=2&offset=2")
    assert first["total"] == second["total"] == 3
    assert [s["id"] for s in first["sessions"] + second["sessions"]] == ["f-a", "f-b", "f-c"]
    status, body = server.api("/api/sessions?sort=password")
    assert status == 400 and "sort" in body["error"]
    assert server.api("/api/sessions?limit=100000")[0] == 400
    assert server.api("/api/sessions?url=%25")[1]["total"] == 0  # % is literal, not a wildcard


# Lifecycle: erasure, retention.


def test_erasure_deletes_every_session_of_a_user_id(server: Running, client: Client) -> None:
    ident = [EventType.IDENTIFY, 5, "erase-me", {}]
    for session in ("e-1", "e-2"):
        assert client.post(server.key, batch(session, 0, [*opening(), ident]))[0] == 204
    assert client.post(server.key, batch("e-3", 0, opening()))[0] == 204
    status, body = server.api("/api/users/erase-me", "DELETE")
    assert (status, body) == (200, {"deleted": 2})
    assert server.api("/api/sessions/e-1")[0] == server.api("/api/sessions/e-2")[0] == 404
    assert server.api("/api/sessions/e-1/batches")[0] == 404
    assert server.api("/api/sessions/e-3")[0] == 200


def test_retention_deletes_old_sessions_at_start(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    key, token = add_user(url, "ada", "default")
    now = datetime.now(UTC)
    with open_store(url) as store:
        for session, age in (("old", 40), ("recent", 2)):
            body = json.dumps(batch(session, 0, opening())).encode()
            store.put_batch("default", session, 1.0, 0, 0, True, body, 2, now - timedelta(days=age))
    process, base = start(url, tmp_path / "serve.log", ["--retention-days", "30"])
    try:
        running = Running(base, url, "default", key, "ada", PASSWORD, token, process, tmp_path)
        assert running.api("/api/sessions/old")[0] == 404
        assert running.api("/api/sessions/recent")[0] == 200
    finally:
        stop(process)


def test_sampling_follows_the_recorders_rule(server: Running, client: Client) -> None:
    done = cli("project", "add", "sampled", "--sample-rate", "0.5", "--store", server.store_url)
    assert done.returncode == 0, done.stderr
    key = re.search(r"ingest key (\S+),", done.stdout)
    assert key, done.stdout
    _, token = add_user(server.store_url, "sam", "sampled")
    kept = {f"sample-{n}": sampled(f"sample-{n}", 0.5) for n in range(40)}
    assert 5 < sum(kept.values()) < 35
    for session in kept:
        assert client.post(key.group(1), batch(session, 0, opening()))[0] == 204
    stored = {s: server.api(f"/api/sessions/{s}", token=token)[0] == 200 for s in kept}
    assert stored == kept


def test_sampling_matches_the_recorder_in_the_browser(page: Any) -> None:
    from recorder import bundle

    page.set_content("<p>x</p>")
    ids = [f"visit-{n}" for n in range(200)] + ["ünï-çødé", "a" * 128]
    # The bundle evaluated afresh for each id: a page records once, so a second record() of one
    # bundle says null whatever the sampling.
    got = page.evaluate(
        """([ids, code]) => ids.map(id => {
            (0, eval)(code + ";globalThis.replaycheckRecord = replaycheckRecord;");
            const options = {ingestUrl: "/nowhere", session: id, sampleRate: 0.3};
            const r = replaycheckRecord.record(options);
            if (r) r.stop();
            return r !== null;
        })""",
        [ids, bundle("record.js")],
    )
    assert got == [sampled(i, 0.3) for i in ids]


# Durability.


def test_kill_9_during_concurrent_ingest_loses_no_acknowledged_batch(tmp_path: Path) -> None:
    with running_server(tmp_path) as server:
        acknowledged: dict[str, list[int]] = {}
        stop_at = threading.Event()

        def recorder(i: int) -> None:
            session, mine = f"kill-{i}", Client(server.base)
            acknowledged[session] = []
            for seq in range(10_000):
                try:
                    events = opening() if seq == 0 else [[EventType.MOUSE, seq, 2, 1, 5, 5]]
                    status, _ = mine.post(server.key, batch(session, seq, events))
                except OSError:
                    return  # the server is gone
                if status == 204:
                    acknowledged[session].append(seq)
                if stop_at.is_set():
                    return

        pool = [threading.Thread(target=recorder, args=(i,)) for i in range(8)]
        for t in pool:
            t.start()
        while sum(len(a) for a in acknowledged.values()) < 300:
            threading.Event().wait(0.02)
        os.kill(server.process.pid, signal.SIGKILL)
        stop_at.set()
        for t in pool:
            t.join()
        server.process.wait()
        process, base = start(server.store_url, tmp_path / "again.log")
        try:
            again = Running(base, server.store_url, "default", server.key, "ada", PASSWORD,
                            server.token, process, tmp_path)  # fmt: skip
            for session, seqs in acknowledged.items():
                _, stored = again.api(f"/api/sessions/{session}/batches")
                have = {b["seq"] for b in stored["batches"]}
                assert set(seqs) <= have, f"{session}: acknowledged but lost"
                # The index holds every stored batch (a put without its index is repaired).
                assert again.api(f"/api/sessions/{session}")[1]["clicks"] == len(have) - (0 in have)
        finally:
            stop(process)


def test_logs_carry_no_credentials_or_content(server: Running, client: Client) -> None:
    secret = "4111 1111 1111 1111 holder Jane Roe"
    assert client.post(server.key, batch("logged", 0, [[EventType.ERROR, 1, secret, ""]]))[0] == 204
    login(client, server.user, server.password)

    # The start banner shows the ingest URL (the snippet needs it); no request line does.
    def log() -> str:
        lines = server.log.read_text().splitlines()
        return "\n".join(line for line in lines if "ingest http" not in line)

    # uvicorn writes a request's access line after the response: under load, a moment later.
    deadline = time.monotonic() + 10
    while "POST /api/login" not in log() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "POST /ingest?key=***" in log()  # the access log is on
    log_text = log()
    # The whole card number: its first digits alone also occur in client port numbers (":41110").
    for leaked in (server.key, server.token, server.password, "Jane Roe", "4111 1111 1111 1111"):
        assert leaked not in log_text


def test_serve_refuses_a_port_in_use_and_a_bad_store_in_one_line(
    server: Running, tmp_path: Path
) -> None:
    port = urlsplit(server.base).port
    done = cli("serve", "--store", f"sqlite:///{tmp_path / 'x.db'}", "--port", str(port))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"replaycheck: --port {port}: cannot listen on 127.0.0.1:{port} (Address already in use);"
        " another server may be using it: choose another with --port"
    ]
    done = cli("serve", "--store", "mysql://x", "--port", "0")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "replaycheck: unknown store URL 'mysql://x': use sqlite:///PATH or"
        " postgresql://USER@HOST:PORT/DB"
    ]


def test_the_recorder_bundles_are_served_for_site_snippets(server: Running, client: Client) -> None:
    for name in ("record.js", "insights.js", "loader.js", "replay.js"):
        status, headers, body = client.request("GET", f"/static/{name}")
        assert status == 200 and headers["content-type"].startswith("text/javascript")
        assert body == bundle_path(name).read_bytes()
    assert client.request("GET", "/static/../app.py")[0] == 404
    assert client.request("GET", "/static/viewer.html")[0] == 404
