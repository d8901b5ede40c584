"""The embedded default: one SQLite file in WAL mode (stdlib sqlite3)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from service.store._insights import InsightsSql
from service.store._sql import Cursor, index_migration, insights_migration
from service.store.base import StoreError

BUSY_TIMEOUT_MS = 10_000

MIGRATIONS = [
    (
        1,
        [
            "CREATE TABLE projects (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
            " ingest_key TEXT NOT NULL UNIQUE, allowed_origins TEXT NOT NULL)",
            # Times are Unix seconds (REAL): they compare and index as numbers.
            "CREATE TABLE sessions (project TEXT NOT NULL, id TEXT NOT NULL,"
            " first_seen REAL NOT NULL, last_seen REAL NOT NULL, PRIMARY KEY (project, id))",
            "CREATE INDEX sessions_by_last_seen ON sessions (project, last_seen)",
            "CREATE TABLE batches (project TEXT NOT NULL, session TEXT NOT NULL,"
            " page REAL NOT NULL, seq INTEGER NOT NULL, chunk INTEGER NOT NULL,"
            " last INTEGER NOT NULL, events INTEGER, received_at REAL NOT NULL,"
            " body BLOB NOT NULL, PRIMARY KEY (project, session, page, seq, chunk))",
        ],
    ),
    (2, index_migration("REAL")),
    (3, insights_migration("REAL")),
]


class SqliteStore(InsightsSql):
    """Writes go through one connection under a lock (SQLite has one writer at a time anyway,
    and its busy-wait is slower than a lock); reads use a connection per thread, which WAL lets
    run beside a write.

    synchronous=FULL: in WAL mode NORMAL already survives a killed process (the WAL is in the
    OS's cache), but a commit could be lost to a power cut or an OS crash after the client got
    its 2xx. FULL syncs the WAL at every commit, so an acknowledged batch is on disk.
    """

    migrations = MIGRATIONS

    def __init__(self, path: str) -> None:
        self.path = path
        self._lock = threading.Lock()
        # Group commit (_write): transactions opened, the last committed, those that failed.
        self._in_transaction = False
        self._opened = self._committed = 0
        self._failed: set[int] = set()
        self._local = threading.local()
        self._conns: list[sqlite3.Connection] = []
        self._conns_lock = threading.Lock()
        self._writer = self._connect()
        mode = self._enable_wal()
        if mode != "wal":
            raise StoreError(f"sqlite:///{path}: WAL mode refused (journal_mode={mode})")
        self._migrate()

    def _enable_wal(self) -> str:
        # Switching a new file to WAL takes its lock without SQLite's busy handler: another
        # process (or thread) opening the same new file at that moment makes it fail at once.
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                mode: str = self._writer.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                return mode
            except sqlite3.OperationalError as e:
                if e.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
                time.sleep(0.005)

    def _connect(self) -> sqlite3.Connection:
        try:
            # isolation_level=None: no implicit transactions; _write says BEGIN and COMMIT.
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        except sqlite3.OperationalError as e:
            raise StoreError(f"sqlite:///{self.path}: {e}") from e
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        with self._conns_lock:
            self._conns.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[Cursor]:
        """Group commit: writers that come while a COMMIT (an fsync, with synchronous=FULL) is
        under way put their changes into the next transaction, each in a savepoint of its
        own, and the first of them to get the lock commits them all. A write returns once its
        transaction is committed, so "returned" still means durable, at one fsync per group
        instead of one per write (50 recorders: about 10 writes per fsync)."""
        with self._lock:
            cur = self._writer.cursor()
            if not self._in_transaction:
                # IMMEDIATE takes the write lock now: another process's writer waits here
                # (busy_timeout) instead of failing at its first write.
                cur.execute("BEGIN IMMEDIATE")
                self._in_transaction = True
                self._opened += 1
            mine = self._opened
            cur.execute("SAVEPOINT write")
            try:
                yield cur
            except BaseException:
                cur.execute("ROLLBACK TO write")
                cur.execute("RELEASE write")
                raise
            cur.execute("RELEASE write")
        with self._lock:
            if mine in self._failed:
                raise StoreError(f"sqlite:///{self.path}: the commit of this write failed")
            if self._committed < mine:
                self._in_transaction = False
                try:
                    cur.execute("COMMIT")
                except sqlite3.Error as e:
                    self._failed.add(mine)
                    if self._writer.in_transaction:
                        self._writer.execute("ROLLBACK")
                    raise StoreError(f"sqlite:///{self.path}: commit failed: {e}") from e
                self._committed = mine

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._local.conn = self._connect()
        yield conn.cursor()

    def _sql(self, query: str) -> str:
        return query

    def _time_in(self, when: datetime) -> object:
        return when.timestamp()

    def _time_out(self, value: Any) -> datetime:
        return datetime.fromtimestamp(value, UTC)

    def close(self) -> None:
        with self._conns_lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
