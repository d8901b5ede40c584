"""PostgreSQL, where a team outgrows one machine (psycopg 3)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from service.store._insights import InsightsSql
from service.store._sql import Cursor, index_migration, insights_migration
from service.store.base import StoreError

MIGRATIONS = [
    (
        1,
        [
            "CREATE TABLE projects (id TEXT PRIMARY KEY, name TEXT NOT NULL,"
            " ingest_key TEXT NOT NULL UNIQUE, allowed_origins TEXT NOT NULL)",
            "CREATE TABLE sessions (project TEXT NOT NULL, id TEXT NOT NULL,"
            " first_seen TIMESTAMPTZ NOT NULL, last_seen TIMESTAMPTZ NOT NULL,"
            " PRIMARY KEY (project, id))",
            "CREATE INDEX sessions_by_last_seen ON sessions (project, last_seen)",
            "CREATE TABLE batches (project TEXT NOT NULL, session TEXT NOT NULL,"
            " page DOUBLE PRECISION NOT NULL, seq INTEGER NOT NULL, chunk INTEGER NOT NULL,"
            " last BOOLEAN NOT NULL, events INTEGER, received_at TIMESTAMPTZ NOT NULL,"
            " body BYTEA NOT NULL, PRIMARY KEY (project, session, page, seq, chunk))",
        ],
    ),
    (2, index_migration("DOUBLE PRECISION")),
    (3, insights_migration("DOUBLE PRECISION")),
]

# pg_advisory_xact_lock's key for migrations: any constant the app uses for nothing else.
MIGRATION_LOCK = 0x7263_0001


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class PostgresStore(InsightsSql):
    """A connection per thread, each in autocommit with explicit transactions for writes.

    A COMMIT returns once the WAL is flushed (synchronous_commit=on, the server's default;
    a server configured with it off would weaken "acknowledged means durable").
    """

    migrations = MIGRATIONS
    # Two batches of one session indexed at once: the second waits for the first's row.
    _for_update = " FOR UPDATE"

    def __init__(self, url: str) -> None:
        self.url = url
        self._local = threading.local()
        self._conns: list[psycopg.Connection[Any]] = []
        self._conns_lock = threading.Lock()
        self._migrate()

    def _conn(self) -> psycopg.Connection[Any]:
        conn: psycopg.Connection[Any] | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed:
            try:
                conn = psycopg.connect(self.url, autocommit=True)
            except psycopg.OperationalError as e:
                raise StoreError(f"{redacted(self.url)}: {e}") from e
            self._local.conn = conn
            with self._conns_lock:
                self._conns.append(conn)
        return conn

    @contextmanager
    def _write(self) -> Iterator[Cursor]:
        conn = self._conn()
        with conn.transaction(), conn.cursor() as cur:
            yield cur

    @contextmanager
    def _read(self) -> Iterator[Cursor]:
        with self._conn().cursor() as cur:
            yield cur

    def _lock_migrations(self, cur: Cursor) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))

    def _sql(self, query: str) -> str:
        return query.replace("?", "%s")

    def _time_in(self, when: datetime) -> object:
        return when

    def _time_out(self, value: Any) -> datetime:
        when: datetime = value
        return when.astimezone(UTC)

    def close(self) -> None:
        with self._conns_lock:
            for conn in self._conns:
                conn.close()
            self._conns.clear()
