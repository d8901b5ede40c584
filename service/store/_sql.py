"""What both SQL backends share: the queries, written once with `?` placeholders, and migrations."""

from __future__ import annotations

import json
from abc import abstractmethod
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from service import fingerprint, index, segments, signals
from service.store.base import (
    SORTS,
    Batch,
    IndexEntry,
    Login,
    Marker,
    Project,
    SessionQuery,
    SessionRow,
    SessionSummary,
    Store,
    StoreError,
    User,
    compressed,
    require_aware,
)

# (version, statements): applied in order, each version once, in one transaction with its row
# in schema_version. Never edit a released version: add the next one.
Migrations = Sequence[tuple[int, Sequence[str]]]

# Tables the index adds to a session (version 2), and what deleting a session deletes.
SESSION_TABLES = ("batches", "indexed", "session_pages", "session_marks", "session_clicks",
                  "session_props", "session_changes", "session_views", "session_errors",
                  "session_events", "session_signals", "session_inputs")  # fmt: skip
SIGNAL_KINDS = ("rage_click", "dead_click", "quick_back", "error_click")


def index_migration(real: str) -> list[str]:
    """Version 2, the index and the logins, in either backend's name for a double (`real`).
    Event times are epoch milliseconds as the recorder gives them."""
    counts = ("clicks", "inputs", "errors", "rage_clicks", "navigations")
    return [
        f"ALTER TABLE projects ADD COLUMN sample_rate {real} NOT NULL DEFAULT 1",
        "ALTER TABLE sessions ADD COLUMN format TEXT",
        f"ALTER TABLE sessions ADD COLUMN start_ms {real}",
        f"ALTER TABLE sessions ADD COLUMN end_ms {real}",
        # Merged activity spans as JSON [[from, to], ...]: active time is their total length.
        "ALTER TABLE sessions ADD COLUMN activity TEXT NOT NULL DEFAULT '[]'",
        f"ALTER TABLE sessions ADD COLUMN active_ms {real} NOT NULL DEFAULT 0",
        *(f"ALTER TABLE sessions ADD COLUMN {c} INTEGER NOT NULL DEFAULT 0" for c in counts),
        "ALTER TABLE sessions ADD COLUMN browser TEXT",
        "ALTER TABLE sessions ADD COLUMN vw INTEGER",
        "ALTER TABLE sessions ADD COLUMN vh INTEGER",
        "ALTER TABLE sessions ADD COLUMN user_id TEXT",
        "ALTER TABLE sessions ADD COLUMN user_props TEXT NOT NULL DEFAULT '{}'",
        f"ALTER TABLE sessions ADD COLUMN last_page {real}",
        "ALTER TABLE sessions ADD COLUMN ended INTEGER NOT NULL DEFAULT 0",
        # Page loads counted (JSON list of time origins), and [page, node] of the last input.
        "ALTER TABLE sessions ADD COLUMN loads TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE sessions ADD COLUMN input_tail TEXT",
        "CREATE INDEX sessions_by_start ON sessions (project, start_ms)",
        "CREATE INDEX sessions_by_user ON sessions (project, user_id)",
        f"CREATE TABLE indexed (project TEXT NOT NULL, session TEXT NOT NULL, page {real}"
        " NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (project, session, page, seq))",
        f"CREATE TABLE session_pages (project TEXT NOT NULL, session TEXT NOT NULL,"
        f" url TEXT NOT NULL, first_ms {real} NOT NULL, PRIMARY KEY (project, session, url))",
        f"CREATE TABLE session_marks (project TEXT NOT NULL, session TEXT NOT NULL,"
        f" t {real} NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL)",
        "CREATE INDEX session_marks_by_session ON session_marks (project, session, t)",
        f"CREATE TABLE session_clicks (project TEXT NOT NULL, session TEXT NOT NULL,"
        f" t {real} NOT NULL, x {real}, y {real}, target INTEGER, label TEXT NOT NULL)",
        "CREATE INDEX session_clicks_by_session ON session_clicks (project, session, t)",
        "CREATE TABLE session_props (project TEXT NOT NULL, session TEXT NOT NULL,"
        " key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (project, session, key))",
        "CREATE TABLE users (name TEXT PRIMARY KEY, project TEXT NOT NULL, password TEXT NOT NULL)",
        f"CREATE TABLE logins (token_hash TEXT PRIMARY KEY, user_name TEXT NOT NULL,"
        f" project TEXT NOT NULL, csrf TEXT NOT NULL, expires {real})",
    ]


def _click(row: Sequence[Any]) -> signals.ClickFact:
    t, x, y, target, label, clickable, selector, url = row
    return signals.ClickFact(t, x, y, target, label, bool(clickable), selector, url)


def insights_migration(real: str) -> list[str]:
    """Version 3, issue 13's facts: what a click was on, the times the page reacted, page views,
    errors and their issues, custom events, frustration signals, and a project's rules."""
    signal_counts = ("dead_clicks", "quick_backs", "error_clicks")
    return [
        "ALTER TABLE projects ADD COLUMN signals TEXT NOT NULL DEFAULT ''",
        *(f"ALTER TABLE sessions ADD COLUMN {c} INTEGER NOT NULL DEFAULT 0" for c in signal_counts),
        "ALTER TABLE session_clicks ADD COLUMN selector TEXT NOT NULL DEFAULT ''",
        "ALTER TABLE session_clicks ADD COLUMN clickable INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE session_clicks ADD COLUMN url TEXT NOT NULL DEFAULT ''",
        f"CREATE TABLE session_changes (project TEXT NOT NULL, session TEXT NOT NULL,"
        f" t {real} NOT NULL)",
        "CREATE INDEX session_changes_by_session ON session_changes (project, session, t)",
        f"CREATE TABLE session_views (project TEXT NOT NULL, session TEXT NOT NULL,"
        f" t {real} NOT NULL, url TEXT NOT NULL, back INTEGER NOT NULL)",
        "CREATE INDEX session_views_by_session ON session_views (project, session, t)",
        f"CREATE TABLE session_errors (project TEXT NOT NULL, session TEXT NOT NULL,"
        f" t {real} NOT NULL, kind TEXT NOT NULL, fingerprint TEXT NOT NULL,"
        f" message TEXT NOT NULL, stack TEXT NOT NULL, url TEXT NOT NULL)",
        "CREATE INDEX session_errors_by_session ON session_errors (project, session, t)",
        "CREATE INDEX session_errors_by_issue ON session_errors (project, fingerprint, t)",
        # (project, X, session): a segment's EXISTS over a session asks exactly that; without
        # the session in the index SQLite scans every row of the kind for each session (3.5 s
        # for an event segment over 10,000 sessions, bench/bench_insights.py; 24 ms with it).
        "CREATE INDEX session_errors_by_issue_session ON session_errors"
        " (project, fingerprint, session)",
        # What an issue is; its counts come from session_errors, so deleting sessions keeps
        # them right.
        "CREATE TABLE issues (project TEXT NOT NULL, fingerprint TEXT NOT NULL,"
        " kind TEXT NOT NULL, title TEXT NOT NULL, frame TEXT NOT NULL, path TEXT NOT NULL,"
        " PRIMARY KEY (project, fingerprint))",
        f"CREATE TABLE session_events (project TEXT NOT NULL, session TEXT NOT NULL,"
        f" t {real} NOT NULL, name TEXT NOT NULL, props TEXT NOT NULL)",
        "CREATE INDEX session_events_by_session ON session_events (project, session, t)",
        "CREATE INDEX session_events_by_name ON session_events (project, name, session)",
        f"CREATE TABLE session_signals (project TEXT NOT NULL, session TEXT NOT NULL,"
        f" t {real} NOT NULL, kind TEXT NOT NULL, label TEXT NOT NULL,"
        f" selector TEXT NOT NULL, url TEXT NOT NULL)",
        "CREATE INDEX session_signals_by_session ON session_signals (project, session, t)",
        "CREATE INDEX session_signals_by_kind ON session_signals (project, kind, session)",
        # Each edit's start: the user's last actions before an error (service/insights.py).
        f"CREATE TABLE session_inputs (project TEXT NOT NULL, session TEXT NOT NULL,"
        f" t {real} NOT NULL, label TEXT NOT NULL)",
        "CREATE INDEX session_inputs_by_session ON session_inputs (project, session, t)",
        # Saved segments (service/segments.py): by name in a project, shared by its users.
        f"CREATE TABLE segments (project TEXT NOT NULL, name TEXT NOT NULL,"
        f" definition TEXT NOT NULL, updated_by TEXT NOT NULL, updated_ms {real} NOT NULL,"
        f" PRIMARY KEY (project, name))",
        # Rage clicks move from the marks to the signals.
        "INSERT INTO session_signals (project, session, t, kind, label, selector, url)"
        " SELECT project, session, t, kind, label, '', '' FROM session_marks"
        " WHERE kind = 'rage_click'",
        "DELETE FROM session_marks WHERE kind = 'rage_click'",
    ]


def _like(text: str) -> str:
    """`text` as a LIKE pattern matching it anywhere, its own % and _ literal."""
    return f"%{segments.escape_like(text.lower())}%"


_ORDER = {
    "start": "COALESCE(s.start_ms, 0)",
    "duration": "COALESCE(s.end_ms - s.start_ms, 0)",
    "active": "s.active_ms",
    "errors": "s.errors",
    "clicks": "s.clicks",
}
assert set(_ORDER) == set(SORTS)
_ROW = (
    "s.id, s.format, s.start_ms, s.end_ms, s.active_ms, s.clicks, s.inputs, s.errors,"
    " s.rage_clicks, s.navigations, s.browser, s.vw, s.vh, s.user_id, s.user_props, s.ended,"
    " s.last_seen, s.dead_clicks, s.quick_backs, s.error_clicks"
)


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

    # Appended to a SELECT of the session row that index_batch then rewrites.
    _for_update = ""

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
                "INSERT INTO projects (id, name, ingest_key, allowed_origins, sample_rate, signals)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
                " ingest_key = excluded.ingest_key, allowed_origins = excluded.allowed_origins,"
                " sample_rate = excluded.sample_rate, signals = excluded.signals",
                project.id,
                project.name,
                project.ingest_key,
                json.dumps(list(project.allowed_origins)),
                project.sample_rate,
                project.signals,
            )

    def _projects(self, where: str, *params: Any) -> list[Project]:
        with self._read() as cur:
            rows = self._x(
                cur,
                "SELECT id, name, ingest_key, allowed_origins, sample_rate, signals FROM projects"
                f" {where} ORDER BY id",
                *params,
            ).fetchall()
        return [
            Project(i, n, k, tuple(json.loads(o)), float(r), sig) for i, n, k, o, r, sig in rows
        ]

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
        indexed: IndexEntry | None = None,
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
            if indexed is not None:
                self._index_in(cur, project, session, page, seq, indexed)
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

    def _purge(self, cur: Cursor, project: str, session: str) -> None:
        for table in SESSION_TABLES:
            self._x(cur, f"DELETE FROM {table} WHERE project = ? AND session = ?", project, session)

    def delete_session(self, project: str, session: str) -> bool:
        with self._write() as cur:
            self._purge(cur, project, session)
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
                self._purge(cur, project, session)
        return len(gone)

    # The index.

    def chunks(self, project: str, session: str, page: float, seq: int) -> list[Batch]:
        with self._read() as cur:
            rows = self._x(
                cur,
                "SELECT page, seq, chunk, last, body, events, received_at FROM batches"
                " WHERE project = ? AND session = ? AND page = ? AND seq = ? ORDER BY chunk",
                project,
                session,
                page,
                seq,
            ).fetchall()
        return [
            Batch(p, s, c, bool(last), bytes(body), n, self._time_out(at))
            for p, s, c, last, body, n, at in rows
        ]

    def index_batch(
        self, project: str, session: str, page: float, seq: int, entry: IndexEntry
    ) -> bool:
        with self._write() as cur:
            return self._index_in(cur, project, session, page, seq, entry)

    def _index_in(
        self, cur: Cursor, project: str, session: str, page: float, seq: int, entry: IndexEntry
    ) -> bool:
        fmt, summary, browser = entry.format, entry.summary, entry.browser
        fresh = self._x(
            cur,
            "INSERT INTO indexed (project, session, page, seq) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (project, session, page, seq) DO NOTHING",
            project,
            session,
            page,
            seq,
        ).rowcount
        if fresh != 1:
            return False
        row = self._x(
            cur,
            "SELECT start_ms, end_ms, activity, browser, vw, user_id, user_props, last_page,"
            " ended, format, loads, input_tail FROM sessions WHERE project = ? AND id = ?"
            + self._for_update,
            project,
            session,
        ).fetchone()
        if row is None:
            raise StoreError(f"index_batch before put_batch for session {session!r}")
        (start, end, activity, had_browser, vw, user_id, props, last_page, ended, had,
         loads, tail) = row  # fmt: skip
        # A page's load counts once (rrweb repeats its Meta at a checkout), and an edit typed
        # across a flush is one edit: the harness's counts (service/index.py `combine`).
        seen = set(json.loads(loads))
        new_loads = [load for load in summary.loads if load not in seen]
        navigations = summary.navigations if new_loads or not summary.loads else 0
        marks = [m for m in summary.marks if navigations or m.kind != "navigation"]
        tail_page, tail_node = json.loads(tail) if tail else (None, None)
        goes_on = (
            summary.inputs > 0
            and tail_page == page
            and summary.first_input is not None
            and summary.first_input == tail_node
        )
        if summary.inputs:
            tail = json.dumps([page, summary.last_input])
        starts = [t for t in (start, summary.start) if t is not None]
        ends = [t for t in (end, summary.end) if t is not None]
        spans = index.merge_spans(tuple((a, b) for a, b in json.loads(activity)), summary.activity)
        merged_props = {**json.loads(props), **summary.user_props}
        if last_page is None or page > last_page:
            last_page, ended = page, summary.ended
        elif page == last_page:
            ended = bool(ended) or summary.ended
        viewport = (None, None) if vw is not None or summary.viewport is None else summary.viewport
        self._x(
            cur,
            "UPDATE sessions SET format = ?, start_ms = ?, end_ms = ?, activity = ?,"
            " active_ms = ?, clicks = clicks + ?, inputs = inputs + ?,"
            " errors = errors + ?, navigations = navigations + ?, browser = ?,"
            " vw = COALESCE(vw, ?), vh = COALESCE(vh, ?), user_id = ?, user_props = ?,"
            " last_page = ?, ended = ?, loads = ?, input_tail = ?"
            " WHERE project = ? AND id = ?",
            had or fmt,
            min(starts) if starts else None,
            max(ends) if ends else None,
            json.dumps(spans),
            index.active_ms(spans, max(ends) if ends else None),
            len(summary.clicks),
            summary.inputs - goes_on,
            sum(m.kind == "error" for m in summary.marks),
            navigations,
            had_browser or browser,
            viewport[0],
            viewport[1],
            summary.user_id or user_id,
            json.dumps(merged_props),
            last_page,
            int(bool(ended)),
            json.dumps(sorted(seen | set(new_loads))),
            tail,
            project,
            session,
        )
        for url in dict.fromkeys(summary.urls):
            self._x(
                cur,
                "INSERT INTO session_pages (project, session, url, first_ms)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (project, session, url) DO UPDATE SET"
                " first_ms = CASE WHEN excluded.first_ms < session_pages.first_ms"
                " THEN excluded.first_ms ELSE session_pages.first_ms END",
                project,
                session,
                url,
                summary.start if summary.start is not None else page,
            )
        for key, value in summary.user_props.items():
            self._x(
                cur,
                "INSERT INTO session_props (project, session, key, value) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (project, session, key) DO UPDATE SET value = excluded.value",
                project,
                session,
                key,
                _prop_text(value),
            )
        for mark in marks:
            self._mark(cur, project, session, mark.t, mark.kind, mark.label)
        for view in summary.views:
            self._x(
                cur,
                "INSERT INTO session_views (project, session, t, url, back) VALUES (?, ?, ?, ?, ?)",
                project, session, view.t, view.url, int(view.back),
            )  # fmt: skip
        for t in summary.changes:
            self._x(
                cur, "INSERT INTO session_changes (project, session, t) VALUES (?, ?, ?)",
                project, session, t,
            )  # fmt: skip
        for click in summary.clicks:
            self._x(
                cur,
                "INSERT INTO session_clicks (project, session, t, x, y, target, label, selector,"
                " clickable, url) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                project, session, click.t, click.x, click.y, click.target, click.label,
                click.selector, int(click.clickable),
                click.url or self._url_at(cur, project, session, click.t),
            )  # fmt: skip
        for occurrence in summary.occurrences:
            if not occurrence.url:
                occurrence = replace(
                    occurrence, url=self._url_at(cur, project, session, occurrence.t)
                )
            grouped = fingerprint.group(occurrence)
            self._x(
                cur,
                "INSERT INTO issues (project, fingerprint, kind, title, frame, path)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (project, fingerprint) DO NOTHING",
                project, grouped.fingerprint, occurrence.kind, grouped.title, grouped.frame,
                grouped.path,
            )  # fmt: skip
            self._x(
                cur,
                "INSERT INTO session_errors (project, session, t, kind, fingerprint, message,"
                " stack, url) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                project, session, occurrence.t, occurrence.kind, grouped.fingerprint,
                occurrence.message, occurrence.stack, occurrence.url,
            )  # fmt: skip
        for t, label in summary.typed:
            self._x(
                cur, "INSERT INTO session_inputs (project, session, t, label) VALUES (?, ?, ?, ?)",
                project, session, t, label,
            )  # fmt: skip
        for t, name, event_props in summary.custom:
            self._x(
                cur,
                "INSERT INTO session_events (project, session, t, name, props)"
                " VALUES (?, ?, ?, ?, ?)",
                project, session, t, name, json.dumps(event_props),
            )  # fmt: skip
        if entry.rules is not None:
            shown = (end, max(ends) if ends else None)  # the session's end before and after
            self._signal(cur, project, session, summary, entry.rules, *shown)
        return True

    def _url_at(self, cur: Cursor, project: str, session: str, t: float) -> str:
        """The page's URL at `t`: the last page view before it (a batch after the page's first
        shows no URL itself)."""
        row = self._x(
            cur,
            "SELECT url FROM session_views WHERE project = ? AND session = ? AND t <= ?"
            " ORDER BY t DESC LIMIT 1",
            project, session, t,
        ).fetchone()  # fmt: skip
        return str(row[0]) if row else ""

    def _signal(
        self,
        cur: Cursor,
        project: str,
        session: str,
        summary: index.Summary,
        rules: signals.Rules,
        seen_before: float | None,
        seen_until: float | None,
    ) -> None:
        """The session's frustration signals again where this batch can change them: rage
        clicks and quick backs over the whole session when it brought clicks or views, dead
        and error clicks for the clicks within reach of its time span, or of the time it
        adds to what the session showed (`seen_before`: a click's window may end in this batch
        though none of its facts is in it). Facts from every batch: arrival order does not
        matter."""
        changed = False
        if summary.clicks:
            rows = self._x(
                cur,
                "SELECT t, x, y, target, label, clickable, selector, url FROM session_clicks"
                " WHERE project = ? AND session = ? ORDER BY t",
                project, session,
            ).fetchall()  # fmt: skip
            found = signals.rage((_click(r) for r in rows), rules)
            self._replace(cur, project, session, "rage_click", found)
            changed = True
        if summary.views:
            views = self._x(
                cur,
                "SELECT t, url, back FROM session_views WHERE project = ? AND session = ?"
                " ORDER BY t",
                project, session,
            ).fetchall()  # fmt: skip
            found = signals.quick_backs(
                [signals.ViewFact(t, u, bool(b)) for t, u, b in views], rules
            )
            self._replace(cur, project, session, "quick_back", found)
            changed = True
        if summary.start is not None and summary.end is not None and seen_until is not None:
            reach = rules.reach_ms
            lo = min(summary.start, seen_before or summary.start) - reach
            hi = summary.end
            rows = self._x(
                cur,
                "SELECT t, x, y, target, label, clickable, selector, url FROM session_clicks"
                " WHERE project = ? AND session = ? AND t >= ? AND t <= ? ORDER BY t",
                project, session, lo, hi,
            ).fetchall()  # fmt: skip
            # Dead and error clicks sit at their clicks' times: none in reach, nothing to redo
            # (most batches: one query, not seven).
            if rows:
                self._x(
                    cur,
                    "DELETE FROM session_signals WHERE project = ? AND session = ?"
                    " AND kind IN ('dead_click', 'error_click') AND t >= ? AND t <= ?",
                    project, session, lo, hi,
                )  # fmt: skip
                clicks = [_click(r) for r in rows]
                changes = [t for (t,) in self._x(
                    cur,
                    "SELECT t FROM session_changes WHERE project = ? AND session = ?"
                    " AND t >= ? AND t <= ? ORDER BY t",
                    project, session, lo, hi + reach,
                ).fetchall()]  # fmt: skip
                errors = [(t, m) for t, m in self._x(
                    cur,
                    "SELECT t, message FROM session_errors WHERE project = ? AND session = ?"
                    " AND t >= ? AND t <= ? ORDER BY t",
                    project, session, lo, hi + reach,
                ).fetchall()]  # fmt: skip
                found = signals.dead(clicks, changes, seen_until, rules)
                found += signals.error_clicks(clicks, errors, rules)
                self._insert_signals(cur, project, session, found)
                changed = True
        if changed:
            counts = dict.fromkeys(SIGNAL_KINDS, 0)
            for kind, n in self._x(
                cur,
                "SELECT kind, COUNT(*) FROM session_signals WHERE project = ? AND session = ?"
                " GROUP BY kind",
                project, session,
            ).fetchall():  # fmt: skip
                counts[kind] = int(n)
            self._x(
                cur,
                "UPDATE sessions SET rage_clicks = ?, dead_clicks = ?, quick_backs = ?,"
                " error_clicks = ? WHERE project = ? AND id = ?",
                *(counts[k] for k in SIGNAL_KINDS), project, session,
            )  # fmt: skip

    def _replace(
        self, cur: Cursor, project: str, session: str, kind: str, found: list[signals.Signal]
    ) -> None:
        self._x(
            cur,
            "DELETE FROM session_signals WHERE project = ? AND session = ? AND kind = ?",
            project, session, kind,
        )  # fmt: skip
        self._insert_signals(cur, project, session, found)

    def _insert_signals(
        self, cur: Cursor, project: str, session: str, found: list[signals.Signal]
    ) -> None:
        for sig in found:
            self._x(
                cur,
                "INSERT INTO session_signals (project, session, t, kind, label, selector, url)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                project, session, sig.t, sig.kind, sig.label, sig.selector, sig.url,
            )  # fmt: skip

    def _mark(
        self, cur: Cursor, project: str, session: str, t: float, kind: str, label: str
    ) -> None:
        self._x(
            cur,
            "INSERT INTO session_marks (project, session, t, kind, label) VALUES (?, ?, ?, ?, ?)",
            project,
            session,
            t,
            kind,
            label,
        )

    def unindexed(self) -> list[tuple[str, str, float, int]]:
        with self._read() as cur:
            rows = self._x(
                cur,
                "SELECT b.project, b.session, b.page, b.seq FROM batches b"
                " WHERE b.last = ? AND NOT EXISTS (SELECT 1 FROM indexed i"
                "  WHERE i.project = b.project AND i.session = b.session"
                "  AND i.page = b.page AND i.seq = b.seq)"
                " AND (SELECT COUNT(*) FROM batches c WHERE c.project = b.project"
                "  AND c.session = b.session AND c.page = b.page AND c.seq = b.seq) = b.chunk + 1"
                " ORDER BY b.project, b.session, b.page, b.seq",
                True,
            ).fetchall()
        return [(p, s, float(page), int(seq)) for p, s, page, seq in rows]

    def query_sessions(self, project: str, query: SessionQuery) -> tuple[int, list[SessionRow]]:
        where: list[str] = ["s.project = ?"]
        params: list[object] = [project]
        if query.url:
            where.append(
                "EXISTS (SELECT 1 FROM session_pages p WHERE p.project = s.project"
                " AND p.session = s.id AND LOWER(p.url) LIKE ? ESCAPE '\\')"
            )
            params.append(_like(query.url))
        if query.error:
            where.append("s.errors > 0")
        if query.rage:
            where.append("s.rage_clicks > 0")
        compared: list[tuple[str, object]] = [
            ("COALESCE(s.end_ms - s.start_ms, 0) >= ?", query.min_duration),
            ("COALESCE(s.end_ms - s.start_ms, 0) <= ?", query.max_duration),
            ("s.start_ms >= ?", query.start_from),
            ("s.start_ms <= ?", query.start_to),
            ("s.user_id = ?", query.user),
        ]
        for condition, value in compared:
            if value is not None:
                where.append(condition)
                params.append(value)
        for key, value in query.props:
            where.append(
                "EXISTS (SELECT 1 FROM session_props q WHERE q.project = s.project"
                " AND q.session = s.id AND q.key = ? AND q.value = ?)"
            )
            params += [key, value]
        if query.segment is not None:
            text, more = segments.sql(query.segment)
            where.append(text)
            params += more
        condition = " AND ".join(where)
        order = f"{_ORDER[query.sort]} {'DESC' if query.descending else 'ASC'}, s.id"
        with self._read() as cur:
            total = int(
                self._x(
                    cur, f"SELECT COUNT(*) FROM sessions s WHERE {condition}", *params
                ).fetchone()[0]
            )
            rows = self._x(
                cur,
                f"SELECT {_ROW} FROM sessions s WHERE {condition} ORDER BY {order}"
                " LIMIT ? OFFSET ?",
                *params,
                query.limit,
                query.offset,
            ).fetchall()
            return total, self._rows(cur, project, rows)

    def _rows(self, cur: Cursor, project: str, rows: list[Any]) -> list[SessionRow]:
        """Session rows with their pages and gaps, read in two queries for all of them."""
        ids = [r[0] for r in rows]
        if not ids:
            return []
        marks = ", ".join("?" * len(ids))
        pages: dict[str, list[str]] = {i: [] for i in ids}
        for session, url in self._x(
            cur,
            f"SELECT session, url FROM session_pages WHERE project = ? AND session IN ({marks})"
            " ORDER BY first_ms, url",
            project,
            *ids,
        ).fetchall():
            pages[session].append(url)
        gaps: dict[str, int] = dict.fromkeys(ids, 0)
        for session, n, top in self._x(
            cur,
            "SELECT session, COUNT(DISTINCT seq), MAX(seq) FROM batches"
            f" WHERE project = ? AND session IN ({marks}) GROUP BY session, page",
            project,
            *ids,
        ).fetchall():
            gaps[session] += int(top) + 1 - int(n)
        out = []
        for (i, fmt, start, end, active, clicks, inputs, errors, rage, navs, browser, vw, vh,
             user_id, props, ended, last_seen, dead, backs, error_clicks) in rows:  # fmt: skip
            out.append(
                SessionRow(
                    i,
                    fmt,
                    start,
                    end,
                    float(active),
                    tuple(pages[i]),
                    int(clicks),
                    int(inputs),
                    int(errors),
                    int(rage),
                    int(navs),
                    browser,
                    None if vw is None else (int(vw), int(vh)),
                    user_id,
                    json.loads(props),
                    gaps[i],
                    bool(ended),
                    self._time_out(last_seen),
                    int(dead),
                    int(backs),
                    int(error_clicks),
                )
            )
        return out

    def session(self, project: str, session: str) -> SessionRow | None:
        with self._read() as cur:
            rows = self._x(
                cur, f"SELECT {_ROW} FROM sessions s WHERE s.project = ? AND s.id = ?",
                project, session,
            ).fetchall()  # fmt: skip
            found = self._rows(cur, project, rows)
        return found[0] if found else None

    def markers(self, project: str, session: str) -> list[Marker]:
        with self._read() as cur:
            marks = self._x(
                cur,
                "SELECT t, kind, label FROM session_marks WHERE project = ? AND session = ?",
                project,
                session,
            ).fetchall()
            clicks = self._x(
                cur,
                "SELECT t, label FROM session_clicks WHERE project = ? AND session = ?",
                project,
                session,
            ).fetchall()
            marks += self._x(
                cur,
                "SELECT t, kind, label FROM session_signals WHERE project = ? AND session = ?",
                project,
                session,
            ).fetchall()
        found = [Marker(t, k, label) for t, k, label in marks]
        found += [Marker(t, "click", label) for t, label in clicks]
        return sorted(found, key=lambda m: (m.t, m.kind))

    def delete_user(self, project: str, user_id: str) -> int:
        with self._write() as cur:
            gone = self._x(
                cur,
                "DELETE FROM sessions WHERE project = ? AND user_id = ? RETURNING id",
                project,
                user_id,
            ).fetchall()
            for (session,) in gone:
                self._purge(cur, project, session)
        return len(gone)

    # Logins.

    def add_user(self, user: User) -> None:
        with self._write() as cur:
            self._x(
                cur,
                "INSERT INTO users (name, project, password) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET project = excluded.project,"
                " password = excluded.password",
                user.name,
                user.project,
                user.password,
            )
            # A new password signs the old ones out.
            self._x(cur, "DELETE FROM logins WHERE user_name = ?", user.name)

    def user(self, name: str) -> User | None:
        with self._read() as cur:
            row = self._x(
                cur, "SELECT name, project, password FROM users WHERE name = ?", name
            ).fetchone()
        return None if row is None else User(*row)

    def add_login(self, token_hash: str, login: Login) -> None:
        with self._write() as cur:
            self._x(
                cur,
                "INSERT INTO logins (token_hash, user_name, project, csrf, expires)"
                " VALUES (?, ?, ?, ?, ?)",
                token_hash,
                login.user,
                login.project,
                login.csrf,
                login.expires,
            )

    def login(self, token_hash: str) -> Login | None:
        with self._read() as cur:
            row = self._x(
                cur,
                "SELECT user_name, project, csrf, expires FROM logins WHERE token_hash = ?",
                token_hash,
            ).fetchone()
        return None if row is None else Login(*row)

    def delete_login(self, token_hash: str) -> None:
        with self._write() as cur:
            self._x(cur, "DELETE FROM logins WHERE token_hash = ?", token_hash)


def _prop_text(value: object) -> str:
    """A property as the filter compares it: JSON's spelling for true/false and numbers."""
    return value if isinstance(value, str) else json.dumps(value)
