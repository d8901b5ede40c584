"""Issue 13's queries over the index, for both SQL backends: error issues, frustration signals,
funnels and saved segments (docs/serve.md). Every query takes the project."""

from __future__ import annotations

import json
import time
from collections import defaultdict
from typing import Any

from service import fingerprint, funnels, segments
from service.store._sql import SqlStore
from service.store.base import (
    ErrorRow,
    IssueRow,
    Moment,
    Ranked,
    SavedSegment,
    SessionRow,
)

DAY_MS = 86_400_000.0
SPARK_DAYS = 14
MAX_ROWS = 200


class InsightsSql(SqlStore):
    # Errors ------------------------------------------------------------------------------

    def issues(
        self, project: str, since: float | None = None, kind: str | None = None,
        now_ms: float | None = None, limit: int = 100,
    ) -> list[IssueRow]:  # fmt: skip
        now_ms = time.time() * 1000 if now_ms is None else now_ms
        where, params = ["e.project = ?"], [project]
        if since is not None:
            where.append("e.t >= ?")
            params.append(since)  # type: ignore[arg-type]
        if kind is not None:
            where.append("e.kind = ?")
            params.append(kind)
        condition = " AND ".join(where)
        with self._read() as cur:
            rows = self._x(
                cur,
                "SELECT e.fingerprint, COUNT(*), COUNT(DISTINCT e.session),"
                " COUNT(DISTINCT COALESCE(s.user_id, '~' || s.id)), MIN(e.t), MAX(e.t),"
                " i.kind, i.title, i.frame, i.path"
                " FROM session_errors e"
                " JOIN sessions s ON s.project = e.project AND s.id = e.session"
                " JOIN issues i ON i.project = e.project AND i.fingerprint = e.fingerprint"
                f" WHERE {condition}"
                " GROUP BY e.fingerprint, i.kind, i.title, i.frame, i.path"
                " ORDER BY COUNT(*) DESC, MAX(e.t) DESC LIMIT ?",
                *params,
                min(limit, MAX_ROWS),
            ).fetchall()
            daily = self._daily(cur, project, [r[0] for r in rows], now_ms)
        return [
            IssueRow(fp, k, title, frame, path, int(n), int(sess), int(users), first, last,
                     daily.get(fp, (0,) * SPARK_DAYS))
            for fp, n, sess, users, first, last, k, title, frame, path in rows
        ]  # fmt: skip

    def _daily(
        self, cur: Any, project: str, fps: list[str], now_ms: float
    ) -> dict[str, tuple[int, ...]]:
        """Occurrences per day over the last SPARK_DAYS days, the last being today's."""
        if not fps:
            return {}
        base = (now_ms // DAY_MS - (SPARK_DAYS - 1)) * DAY_MS
        marks = ", ".join("?" * len(fps))
        counts: dict[str, list[int]] = {fp: [0] * SPARK_DAYS for fp in fps}
        for fp, t in self._x(
            cur,
            f"SELECT fingerprint, t FROM session_errors WHERE project = ? AND fingerprint IN"
            f" ({marks}) AND t >= ?",
            project, *fps, base,
        ).fetchall():  # fmt: skip
            day = int((t - base) // DAY_MS)
            if 0 <= day < SPARK_DAYS:
                counts[fp][day] += 1
        return {fp: tuple(c) for fp, c in counts.items()}

    def issue(self, project: str, fp: str, now_ms: float | None = None) -> IssueRow | None:
        with self._read() as cur:
            row = self._x(
                cur,
                "SELECT COUNT(*), COUNT(DISTINCT e.session),"
                " COUNT(DISTINCT COALESCE(s.user_id, '~' || s.id)), MIN(e.t), MAX(e.t),"
                " i.kind, i.title, i.frame, i.path FROM session_errors e"
                " JOIN sessions s ON s.project = e.project AND s.id = e.session"
                " JOIN issues i ON i.project = e.project AND i.fingerprint = e.fingerprint"
                " WHERE e.project = ? AND e.fingerprint = ?"
                " GROUP BY i.kind, i.title, i.frame, i.path",
                project, fp,
            ).fetchone()  # fmt: skip
            if row is None:
                return None
            now = time.time() * 1000 if now_ms is None else now_ms
            daily = self._daily(cur, project, [fp], now)
        n, sess, users, first, last, k, title, frame, path = row
        return IssueRow(fp, k, title, frame, path, int(n), int(sess), int(users), first, last,
                        daily[fp])  # fmt: skip

    def issue_sessions(
        self, project: str, fp: str, limit: int = 50, offset: int = 0
    ) -> tuple[int, list[Moment]]:
        """Sessions with the issue, the latest first, each at its first occurrence."""
        with self._read() as cur:
            total = int(self._x(
                cur,
                "SELECT COUNT(DISTINCT session) FROM session_errors"
                " WHERE project = ? AND fingerprint = ?",
                project, fp,
            ).fetchone()[0])  # fmt: skip
            firsts = self._x(
                cur,
                "SELECT session, MIN(t), MAX(t) FROM session_errors"
                " WHERE project = ? AND fingerprint = ? GROUP BY session"
                " ORDER BY MAX(t) DESC, session LIMIT ? OFFSET ?",
                project, fp, min(limit, MAX_ROWS), offset,
            ).fetchall()  # fmt: skip
            moments = []
            rows = self._session_rows(cur, project, [f[0] for f in firsts])
            for session, first, _last in firsts:
                found = self._x(
                    cur,
                    "SELECT message, stack FROM session_errors WHERE project = ? AND session = ?"
                    " AND fingerprint = ? AND t = ? LIMIT 1",
                    project, session, fp, first,
                ).fetchone()  # fmt: skip
                if session in rows:
                    message, stack = found or ("", "")
                    moments.append(Moment(rows[session], first, message, stack))
        return total, moments

    def session_errors(self, project: str, session: str) -> list[ErrorRow]:
        with self._read() as cur:
            rows = self._x(
                cur,
                "SELECT t, kind, message, stack, url, fingerprint FROM session_errors"
                " WHERE project = ? AND session = ? ORDER BY t",
                project, session,
            ).fetchall()  # fmt: skip
        return [ErrorRow(t, k, m, st, u, fp) for t, k, m, st, u, fp in rows]

    def actions_before(
        self, project: str, session: str, t: float, n: int = 5
    ) -> list[tuple[float, str, str]]:
        """The user's last `n` clicks, edits and page views at or before `t`: (t, kind, label)."""

        def last(cur: Any, table: str, columns: str) -> list[Any]:
            return self._x(
                cur,
                f"SELECT t, {columns} FROM {table} WHERE project = ? AND session = ? AND t <= ?"
                " ORDER BY t DESC LIMIT ?",
                project, session, t, n,
            ).fetchall()  # fmt: skip

        with self._read() as cur:
            clicks = last(cur, "session_clicks", "label, selector")
            views = last(cur, "session_views", "url")
            typed = last(cur, "session_inputs", "label")
        found = [(at, "click", label or selector) for at, label, selector in clicks]
        found += [(at, "navigation", url) for at, url in views]
        found += [(at, "input", label or "a field") for at, label in typed]
        return sorted(found)[-n:]

    # Frustration --------------------------------------------------------------------------

    def frustration(
        self, project: str, kind: str | None, by: str, since: float | None = None
    ) -> list[Ranked]:
        """Signals ranked by page (path) or by selector, with the sessions they are in."""
        where, params = ["project = ?"], [project]
        if kind is not None:
            where.append("kind = ?")
            params.append(kind)
        if since is not None:
            where.append("t >= ?")
            params.append(since)  # type: ignore[arg-type]
        with self._read() as cur:
            rows = self._x(
                cur,
                "SELECT kind, url, selector, label, session FROM session_signals"
                f" WHERE {' AND '.join(where)}",
                *params,
            ).fetchall()
        groups: dict[tuple[str, str], list[Any]] = defaultdict(list)
        for k, url, selector, label, session in rows:
            key = fingerprint.page_path(url) if by == "page" else (selector or "(unknown)")
            groups[(k, key)].append((label, session))
        ranked = [
            Ranked(k, key, len(items), len({s for _, s in items}), items[0][0])
            for (k, key), items in groups.items()
        ]
        ranked.sort(key=lambda r: (-r.count, r.kind, r.key))
        return ranked[:MAX_ROWS]

    def frustration_sessions(
        self, project: str, kind: str, by: str, key: str, limit: int = 50, offset: int = 0
    ) -> tuple[int, list[Moment]]:
        """Sessions with signal `kind` on page path / selector `key`, at its first moment."""
        with self._read() as cur:
            rows = self._x(
                cur,
                "SELECT session, t, label, url, selector FROM session_signals"
                " WHERE project = ? AND kind = ? ORDER BY t",
                project, kind,
            ).fetchall()  # fmt: skip
            first: dict[str, tuple[float, str]] = {}
            for session, t, label, url, selector in rows:
                hit = fingerprint.page_path(url) if by == "page" else (selector or "(unknown)")
                if hit == key and session not in first:
                    first[session] = (t, label)
            order = sorted(first, key=lambda s: -first[s][0])
            page = order[offset : offset + min(limit, MAX_ROWS)]
            found = self._session_rows(cur, project, page)
        moments = [Moment(found[s], first[s][0], first[s][1], "") for s in page if s in found]
        return len(order), moments

    # Funnels ------------------------------------------------------------------------------

    def funnel_facts(self, project: str, funnel: funnels.Funnel) -> list[dict[str, list[float]]]:
        """Per step, each session's sorted times of that step's facts, for sessions in the
        funnel's segment and dates."""
        where, params = ["s.project = ?"], [project]
        if funnel.segment is not None:
            text, more = segments.sql(funnel.segment)
            where.append(text)
            params += more
        for column, bound, op in (("s.start_ms", funnel.start_from, ">="),
                                  ("s.start_ms", funnel.start_to, "<=")):  # fmt: skip
            if bound is not None:
                where.append(f"{column} {op} ?")
                params.append(bound)  # type: ignore[arg-type]
        joined = " AND ".join(where)
        out: list[dict[str, list[float]]] = []
        with self._read() as cur:
            for step in funnel.steps:
                times: dict[str, list[float]] = defaultdict(list)
                if step.kind == "page":
                    rows = self._x(
                        cur,
                        "SELECT x.session, x.t FROM session_views x JOIN sessions s"
                        " ON s.project = x.project AND s.id = x.session"
                        f" WHERE x.project = ? AND LOWER(x.url) LIKE ? ESCAPE '\\' AND {joined}"
                        " ORDER BY x.session, x.t",
                        project, segments.url_pattern(step.value).lower(), *params,
                    ).fetchall()  # fmt: skip
                elif step.kind == "event":
                    rows = self._x(
                        cur,
                        "SELECT x.session, x.t FROM session_events x JOIN sessions s"
                        " ON s.project = x.project AND s.id = x.session"
                        f" WHERE x.project = ? AND x.name = ? AND {joined}"
                        " ORDER BY x.session, x.t",
                        project, step.value, *params,
                    ).fetchall()  # fmt: skip
                else:
                    # The selector's most telling piece narrows the clicks in SQL; the
                    # compound match is made here.
                    rows = []
                    for session, t, selector in self._x(
                        cur,
                        "SELECT x.session, x.t, x.selector FROM session_clicks x JOIN sessions s"
                        " ON s.project = x.project AND s.id = x.session"
                        f" WHERE x.project = ? AND x.selector LIKE ? ESCAPE '\\' AND {joined}"
                        " ORDER BY x.session, x.t",
                        project, _prefilter(step), *params,
                    ).fetchall():  # fmt: skip
                        if funnels.click_matches(step, selector):
                            rows.append((session, t))
                for session, t in rows:
                    times[session].append(t)
                out.append(dict(times))
        return out

    def session_rows(self, project: str, ids: list[str]) -> dict[str, SessionRow]:
        with self._read() as cur:
            return self._session_rows(cur, project, ids)

    def _session_rows(self, cur: Any, project: str, ids: list[str]) -> dict[str, SessionRow]:
        if not ids:
            return {}
        from service.store._sql import _ROW

        marks = ", ".join("?" * len(ids))
        rows = self._x(
            cur, f"SELECT {_ROW} FROM sessions s WHERE s.project = ? AND s.id IN ({marks})",
            project, *ids,
        ).fetchall()  # fmt: skip
        return {r.id: r for r in self._rows(cur, project, rows)}

    # Saved segments -----------------------------------------------------------------------

    def save_segment(self, project: str, name: str, definition: Any, user: str) -> None:
        with self._write() as cur:
            self._x(
                cur,
                "INSERT INTO segments (project, name, definition, updated_by, updated_ms)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (project, name) DO UPDATE SET"
                " definition = excluded.definition, updated_by = excluded.updated_by,"
                " updated_ms = excluded.updated_ms",
                project, name, json.dumps(definition), user, time.time() * 1000,
            )  # fmt: skip

    def saved_segments(self, project: str) -> list[SavedSegment]:
        with self._read() as cur:
            rows = self._x(
                cur,
                "SELECT name, definition, updated_by, updated_ms FROM segments"
                " WHERE project = ? ORDER BY name",
                project,
            ).fetchall()
        return [SavedSegment(n, json.loads(d), u, float(t)) for n, d, u, t in rows]

    def delete_segment(self, project: str, name: str) -> bool:
        with self._write() as cur:
            gone: int = self._x(
                cur, "DELETE FROM segments WHERE project = ? AND name = ?", project, name
            ).rowcount
        return gone == 1


def _prefilter(step: funnels.Step) -> str:
    """A LIKE pattern every stored selector matching the step's first compound matches."""
    first = step.compounds[0] if len(step.compounds) == 1 else None
    if first is None:
        return "%"
    if first.id:
        return f"%#{segments.escape_like(first.id)}%"
    if first.classes:
        return f"%.{segments.escape_like(first.classes[0])}%"
    if first.tag:
        return f"{segments.escape_like(first.tag)}%"
    return "%"
