"""What both SQL backends share: the queries, written once with `?` placeholders, and migrations."""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from service.store.base import (
    Batch,
    Project,
    SessionSummary,
    Store,
    StoreError,
    compressed,
    require_aware,
)

# (version, statements): applied in order, each version once, in one transaction with its row
# in schema_version. Never edit a released version: add the next one.
Migrations = Sequence[tuple[int, Sequence[str]]]


class Cursor(Protocol):
    """The part of a DB-API cursor both sqlite3 and psycopg provide."""

    @property
    def rowcount(self) -> int: ...

    def execute(self, sql: str, params: Sequence[Any], /) -> object: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class SqlStore(Store):
    migrations: Migrations

    @abstractmethod
    def _write(self) -> AbstractContextManager[Cursor]:
        """A cursor in a write transaction, committed (durably) when the block exits."""

    @abstractmethod
    def _read(self) -> AbstractContextManager[Cursor]: ...

    @abstractmethod
    def _sql(self, query: str) -> str:
        """The backend's form of a query written with `?` placeholders."""

    @abstractmethod
    def _time_in(self, when: datetime) -> object: ...

    @abstractmethod
    def _time_out(self, value: Any) -> datetime: ...

    def _lock_migrations(self, cur: Cursor) -> None:
        """Keep two processes opening one new store from both migrating it."""

    def _x(self, cur: Cursor, query: str, *params: Any) -> Cursor:
        cur.execute(self._sql(query), params)
        return cur

    def _migrate(self) -> None:
        known = max(v for v, _ in self.migrations)
        with self._write() as cur:
            self._lock_migrations(cur)
            self._x(
                cur,
                "CREATE TABLE IF NOT EXISTS schema_version"
                " (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)",
            )
            have = self._x(cur, "SELECT MAX(version) FROM schema_version").fetchone()[0] or 0
            if have > known:
                raise StoreError(
                    f"the store's schema is version {have}, newer than this replaycheck knows"
                    f" ({known}): upgrade replaycheck"
                )
            for version, statements in self.migrations:
                if version <= have:
                    continue
                for statement in statements:
                    self._x(cur, statement)
                self._x(
                    cur,
                    "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
                    version,
                    datetime.now(UTC).isoformat(),
                )

    def schema_version(self) -> int:
        with self._read() as cur:
            version: int = self._x(cur, "SELECT MAX(version) FROM schema_version").fetchone()[0]
            return version

    # Projects.

    def add_project(self, project: Project) -> None:
        with self._write() as cur:
            self._x(
                cur,
                "INSERT INTO projects (id, name, ingest_key, allowed_origins) VALUES (?, ?, ?, ?)",
                project.id,
                project.name,
                project.ingest_key,
                json.dumps(list(project.allowed_origins)),
            )

    def _projects(self, where: str, *params: Any) -> list[Project]:
        with self._read() as cur:
            rows = self._x(
                cur,
                f"SELECT id, name, ingest_key, allowed_origins FROM projects {where} ORDER BY id",
                *params,
            ).fetchall()
        return [Project(i, n, k, tuple(json.loads(o))) for i, n, k, o in rows]

    def project(self, project_id: str) -> Project | None:
        found = self._projects("WHERE id = ?", project_id)
        return found[0] if found else None

    def project_by_key(self, ingest_key: str) -> Project | None:
        found = self._projects("WHERE ingest_key = ?", ingest_key)
        return found[0] if found else None

    def projects(self) -> list[Project]:
        return self._projects("")

    # Batches and sessions.

    def put_batch(
        self,
        project: str,
        session: str,
        page: float,
        seq: int,
        chunk: int,
        last: bool,
        body_gz: bytes,
        events: int | None,
        received_at: datetime,
    ) -> bool:
        require_aware(received_at)
        when = self._time_in(received_at)
        with self._write() as cur:
            new = (
                self._x(
                    cur,
                    "INSERT INTO batches"
                    " (project, session, page, seq, chunk, last, events, received_at, body)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (project, session, page, seq, chunk) DO NOTHING",
                    project,
                    session,
                    page,
                    seq,
                    chunk,
                    last,
                    events,
                    when,
                    compressed(body_gz),
                ).rowcount
                == 1
            )
            if new:
                # CASE, not MIN/LEAST: the two-argument form differs between the backends.
                self._x(
                    cur,
                    "INSERT INTO sessions (project, id, first_seen, last_seen) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (project, id) DO UPDATE SET"
                    " first_seen = CASE WHEN excluded.first_seen < sessions.first_seen"
                    " THEN excluded.first_seen ELSE sessions.first_seen END,"
                    " last_seen = CASE WHEN excluded.last_seen > sessions.last_seen"
                    " THEN excluded.last_seen ELSE sessions.last_seen END",
                    project,
                    session,
                    when,
                    when,
                )
        return new

    def batches(self, project: str, session: str) -> list[Batch]:
        with self._read() as cur:
            rows = self._x(
                cur,
                "SELECT page, seq, chunk, last, body, events, received_at FROM batches"
                " WHERE project = ? AND session = ? ORDER BY page, seq, chunk",
                project,
                session,
            ).fetchall()
        return [
            Batch(p, s, c, bool(last), bytes(body), n, self._time_out(at))
            for p, s, c, last, body, n, at in rows
        ]

    def sessions(self, project: str) -> list[SessionSummary]:
        with self._read() as cur:
            rows = self._x(
                cur,
                "SELECT s.id, s.first_seen, s.last_seen, COUNT(*), SUM(p.n), SUM(p.top + 1 - p.n)"
                " FROM sessions s JOIN ("
                "  SELECT session, page, COUNT(DISTINCT seq) AS n, MAX(seq) AS top"
                "  FROM batches WHERE project = ? GROUP BY session, page"
                " ) p ON p.session = s.id"
                " WHERE s.project = ?"
                " GROUP BY s.id, s.first_seen, s.last_seen"
                " ORDER BY s.last_seen DESC, s.id",
                project,
                project,
            ).fetchall()
        return [
            SessionSummary(i, self._time_out(f), self._time_out(la), int(p), int(b), int(g))
            for i, f, la, p, b, g in rows
        ]

    def delete_session(self, project: str, session: str) -> bool:
        with self._write() as cur:
            self._x(cur, "DELETE FROM batches WHERE project = ? AND session = ?", project, session)
            deleted = (
                self._x(
                    cur, "DELETE FROM sessions WHERE project = ? AND id = ?", project, session
                ).rowcount
                == 1
            )
        return deleted

    def delete_older_than(self, project: str, days: float, now: datetime) -> int:
        require_aware(now)
        cutoff = self._time_in(now - timedelta(days=days))
        with self._write() as cur:
            # The sessions first: on PostgreSQL a put into one of them waits for this delete
            # or, done first, makes it recent again (not deleted, its batches kept).
            gone = self._x(
                cur,
                "DELETE FROM sessions WHERE project = ? AND last_seen < ? RETURNING id",
                project,
                cutoff,
            ).fetchall()
            for (session,) in gone:
                self._x(
                    cur, "DELETE FROM batches WHERE project = ? AND session = ?", project, session
                )
        return len(gone)
