"""The session store, both backends against real databases: SQLite files and a throwaway
PostgreSQL cluster (tests/pg.py)."""

from __future__ import annotations

import gzip
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from service import index
from service.store import Project, Store, StoreError, open_store
from service.store.base import IndexEntry
from tests.pg import fresh_database

ROOT = Path(__file__).parents[1]
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
A = Project("a", "Site A", "key-a", ("https://a.example",))
B = Project("b", "Site B", "key-b")


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'rc.db'}"
    return fresh_database(request.getfixturevalue("postgresql_server"))


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    with open_store(store_url) as s:
        s.add_project(A)
        s.add_project(B)
        yield s


def put(
    store: Store,
    session: str,
    page: float,
    seq: int,
    chunk: int = 0,
    *,
    project: str = "a",
    body: bytes = b"{}",
    at: datetime = NOW,
) -> bool:
    return store.put_batch(project, session, page, seq, chunk, True, body, 1, at)


def raw(url: str, query: str) -> list[tuple[object, ...]]:
    """A query on the store's database, bypassing the store."""
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
            return list(conn.execute(query).fetchall())
    with psycopg.connect(url, autocommit=True) as pg:
        cur = pg.execute(query)
        return list(cur.fetchall()) if cur.description else []


def test_put_is_idempotent_and_keeps_the_first_body(store: Store) -> None:
    gz = gzip.compress(b'{"seq": 0}')
    assert put(store, "s", 1.5, 0, body=gz)
    assert not put(store, "s", 1.5, 0, body=gzip.compress(b'{"seq": "retry"}'))
    assert put(store, "s", 1.5, 1, body=b'{"plain": true}')
    assert not put(store, "s", 1.5, 1, body=b'{"plain": true}')
    first, second = store.batches("a", "s")
    assert first.body_gz == gz  # as received, byte for byte
    assert second.body_gz[:2] == b"\x1f\x8b"  # the plain one compressed
    assert second.text() == '{"plain": true}'
    assert [s.batches for s in store.sessions("a")] == [2]


def test_batches_in_order_and_gaps_per_session(store: Store) -> None:
    # Out of order, across pages and chunks; seq 2 of page 1 never arrives.
    for page, seq, chunk, minutes in [(2.0, 0, 0, 5), (1.0, 3, 0, 1), (1.0, 0, 0, 9),
                                      (1.0, 1, 1, 3), (1.0, 1, 0, 2)]:  # fmt: skip
        assert put(store, "gappy", page, seq, chunk, at=NOW + timedelta(minutes=minutes))
    put(store, "whole", 7.0, 0, at=NOW - timedelta(days=1))
    put(store, "whole", 7.0, 1, at=NOW - timedelta(days=1))

    keys = [(b.page, b.seq, b.chunk) for b in store.batches("a", "gappy")]
    assert keys == [(1.0, 0, 0), (1.0, 1, 0), (1.0, 1, 1), (1.0, 3, 0), (2.0, 0, 0)]
    gappy, whole = store.sessions("a")  # the most recently seen first
    assert (gappy.id, gappy.pages, gappy.batches, gappy.gaps) == ("gappy", 2, 4, 1)
    assert (gappy.first_seen, gappy.last_seen) == (NOW + timedelta(minutes=1),
                                                   NOW + timedelta(minutes=9))  # fmt: skip
    assert (whole.id, whole.pages, whole.batches, whole.gaps) == ("whole", 1, 2, 0)
    assert store.batches("a", "nobody") == []


def test_projects_never_see_each_others_sessions(store: Store) -> None:
    assert store.project_by_key("key-a") == A
    assert store.project("b") == B
    assert store.projects() == [A, B]
    put(store, "s", 1.0, 0, project="a", body=b'{"of": "a"}')

    assert store.sessions("b") == []
    assert store.batches("b", "s") == []
    assert not store.delete_session("b", "s")
    assert store.delete_older_than("b", 0, NOW + timedelta(days=1)) == 0
    # The same session id and key in another project is another batch.
    assert put(store, "s", 1.0, 0, project="b", body=b'{"of": "b"}')
    assert [b.text() for b in store.batches("a", "s")] == ['{"of": "a"}']
    assert [b.text() for b in store.batches("b", "s")] == ['{"of": "b"}']


def test_delete_one_session_and_retention(store: Store) -> None:
    put(store, "old", 1.0, 0, at=NOW - timedelta(days=40))
    put(store, "old", 1.0, 1, at=NOW - timedelta(days=31))
    # First seen long ago, but seen within the retention window: kept.
    put(store, "long", 1.0, 0, at=NOW - timedelta(days=45))
    put(store, "long", 1.0, 1, at=NOW - timedelta(days=29))
    put(store, "new", 1.0, 0, at=NOW)

    assert store.delete_older_than("a", 30, NOW) == 1
    assert [s.id for s in store.sessions("a")] == ["new", "long"]
    assert store.batches("a", "old") == []
    assert store.delete_session("a", "long")
    assert not store.delete_session("a", "long")
    assert [s.id for s in store.sessions("a")] == ["new"]
    # Really gone: the same key is new again.
    assert put(store, "long", 1.0, 0)


def test_retention_spares_a_session_a_put_is_making_recent(
    request: pytest.FixtureRequest,
) -> None:
    url = fresh_database(request.getfixturevalue("postgresql_server"))
    store = open_store(url)
    request.addfinalizer(store.close)
    store.add_project(A)
    put(store, "s", 1.0, 0, at=NOW - timedelta(days=40))
    # A put in flight: it has made the session recent but not committed yet.
    with psycopg.connect(url) as putting:
        putting.execute(
            "UPDATE sessions SET last_seen = %s WHERE project = 'a' AND id = 's'", (NOW,)
        )
        retention = threading.Thread(target=store.delete_older_than, args=("a", 30, NOW))
        retention.start()
        deadline = time.monotonic() + 10
        while not raw(url, "SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock'"):
            assert time.monotonic() < deadline, "retention never waited for the put"
            time.sleep(0.01)
        putting.commit()
    retention.join()
    assert [s.id for s in store.sessions("a")] == ["s"]
    assert [b.seq for b in store.batches("a", "s")] == [0]


def test_migrations_run_once_and_a_store_reopens(store_url: str) -> None:
    with open_store(store_url) as first:
        first.add_project(A)
        put(first, "s", 1.0, 0)
        assert first.schema_version() == 3
    with open_store(store_url) as again:
        assert again.schema_version() == 3
        assert again.project("a") == A
        assert [b.seq for b in again.batches("a", "s")] == [0]
    assert raw(store_url, "SELECT version FROM schema_version ORDER BY version") == [
        (1,),
        (2,),
        (3,),
    ]


def open_at_once(store_url: str) -> None:
    """Servers starting on one new database: one migrates, the others wait and find it done."""
    errors: list[BaseException] = []

    def open_close() -> None:
        try:
            open_store(store_url).close()
        except BaseException as e:
            errors.append(e)

    pool = [threading.Thread(target=open_close) for _ in range(8)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert errors == []
    assert raw(store_url, "SELECT version FROM schema_version ORDER BY version") == [
        (1,),
        (2,),
        (3,),
    ]


def test_stores_opened_at_once_migrate_once(store_url: str) -> None:
    open_at_once(store_url)


def test_sqlite_stores_opened_at_once_on_new_files(tmp_path: Path) -> None:
    # Switching a new file to WAL takes a lock SQLite's busy timeout does not wait for.
    for n in range(80):
        open_at_once(f"sqlite:///{tmp_path / f'{n}.db'}")


def test_a_store_newer_than_the_code_is_refused(store_url: str) -> None:
    open_store(store_url).close()
    raw(store_url, "INSERT INTO schema_version VALUES (99, 'future')")
    with pytest.raises(StoreError, match="version 99, newer"):
        open_store(store_url)


def test_sqlite_file_is_in_wal_mode(tmp_path: Path) -> None:
    open_store(f"sqlite:///{tmp_path / 'rc.db'}").close()
    assert raw(f"sqlite:///{tmp_path / 'rc.db'}", "PRAGMA journal_mode") == [("wal",)]


def test_an_unknown_store_url_is_named(tmp_path: Path) -> None:
    for url in ["mysql://db/rc", "sqlite://relative.db", "sqlite:///"]:
        with pytest.raises(StoreError, match=f"unknown store URL '{url}'"):
            open_store(url)
    with pytest.raises(StoreError, match="no-such-dir"):
        open_store(f"sqlite:///{tmp_path / 'no-such-dir' / 'rc.db'}")


def test_concurrent_puts_lose_nothing(store: Store) -> None:
    threads, per = 8, 40
    new: list[list[bool]] = [[] for _ in range(threads)]

    def work(i: int) -> None:
        for seq in range(per):
            new[i].append(put(store, f"own-{i}", 1.0, seq))
            # Every thread also sends the same shared batches: each is new exactly once.
            new[i].append(put(store, "shared", 1.0, seq))

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert all(all(n[0::2]) for n in new)
    assert sum(sum(n[1::2]) for n in new) == per
    sessions = {s.id: s for s in store.sessions("a")}
    assert len(sessions) == threads + 1
    assert all((s.batches, s.gaps) == (per, 0) for s in sessions.values())
    assert [b.seq for b in store.batches("a", "shared")] == list(range(per))


WRITER = """
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from service.store import open_store
store = open_store(sys.argv[1])
seq = 0
while True:
    store.put_batch("a", "s", 1.0, seq, 0, True, b'{"seq": %d}' % seq, 1, datetime.now(UTC))
    print(seq, flush=True)
    seq += 1
"""


def test_a_returned_put_survives_kill_9_of_the_writer(store: Store, store_url: str) -> None:
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, store_url],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None
    acknowledged = -1
    try:
        while acknowledged < 30:
            line = writer.stdout.readline()
            assert line, f"the writer died: {writer.communicate()[1]}"
            acknowledged = int(line)
        # At once: the writer is in (or between) its next puts.
        os.kill(writer.pid, signal.SIGKILL)
    finally:
        writer.kill()
        writer.wait()
    assert writer.returncode == -signal.SIGKILL

    with open_store(store_url) as reopened:
        seqs = [b.seq for b in reopened.batches("a", "s")]
    # Everything acknowledged is there, in one unbroken run (at most the puts after it too).
    assert seqs[: acknowledged + 1] == list(range(acknowledged + 1))
    assert seqs == list(range(len(seqs)))


def test_a_failing_write_among_concurrent_ones_undoes_only_itself(store: Store) -> None:
    """SQLite's group commit puts concurrent writes in one transaction, each in a savepoint: one
    that fails (indexing a batch of a session never put) leaves nothing, the others commit."""
    entry = IndexEntry(
        "builtin", index.summarize("builtin", 1.0, [[8, 0, 0, "https://a.test/"]]), None
    )
    errors: list[Exception] = []

    def failing() -> None:
        for seq in range(30):
            try:
                store.index_batch("a", "ghost", 1.0, seq, entry)
            except StoreError as e:
                errors.append(e)

    def putting(i: int) -> None:
        for seq in range(30):
            assert put(store, f"real-{i}", 1.0, seq)

    pool = [threading.Thread(target=failing)]
    pool += [threading.Thread(target=putting, args=(i,)) for i in range(4)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    assert len(errors) == 30
    assert all(len(store.batches("a", f"real-{i}")) == 30 for i in range(4))
    # The failed index left no trace: the batch, once put, is indexed (not seen as a repeat).
    assert put(store, "ghost", 1.0, 0)
    assert store.index_batch("a", "ghost", 1.0, 0, entry)
    assert store.session("a", "ghost") is not None


def test_schema_3_moves_the_rage_clicks_of_a_schema_2_store_to_the_signals(store_url: str) -> None:
    from service.store import postgres, sqlite

    if store_url.startswith("sqlite:///"):
        old: Store = type("V2", (sqlite.SqliteStore,), {"migrations": sqlite.MIGRATIONS[:2]})(
            store_url.removeprefix("sqlite:///")
        )
    else:
        old = type("V2", (postgres.PostgresStore,), {"migrations": postgres.MIGRATIONS[:2]})(
            store_url
        )
    with old:
        assert old.schema_version() == 2
    raw(
        store_url,
        "INSERT INTO session_marks (project, session, t, kind, label)"
        " VALUES ('a', 's', 5, 'rage_click', '3 clicks'), ('a', 's', 1, 'error', 'x')",
    )
    with open_store(store_url) as new:
        assert new.schema_version() == 3
    assert raw(store_url, "SELECT kind, label FROM session_marks") == [("error", "x")]
    assert raw(store_url, "SELECT session, t, kind, label FROM session_signals") == [
        ("s", 5.0, "rage_click", "3 clicks")
    ]
