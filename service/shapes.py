"""The API's JSON shapes of store records (docs/serve.md: SESSION, MARKER, MOMENT...)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from service.store.base import IssueRow, Marker, Moment, Ranked, SessionRow

# A session whose last batch is older than this has ended, with or without an End event.
SESSION_TIMEOUT_S = 30 * 60


def error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status)


def session_json(row: SessionRow, now: float) -> dict[str, Any]:
    timed_out = now - row.last_seen.timestamp() > SESSION_TIMEOUT_S
    return {
        "id": row.id,
        "format": row.format,
        "start": row.start,
        "end": row.end,
        "duration_ms": row.duration_ms,
        "active_ms": row.active_ms,
        "pages": list(row.pages),
        "clicks": row.clicks,
        "inputs": row.inputs,
        "errors": row.errors,
        "rage_clicks": row.rage_clicks,
        "dead_clicks": row.dead_clicks,
        "quick_backs": row.quick_backs,
        "error_clicks": row.error_clicks,
        "navigations": row.navigations,
        "browser": row.browser,
        "viewport": None
        if row.viewport is None
        else dict(zip(("width", "height"), row.viewport, strict=True)),
        "user_id": row.user_id,
        "user_props": row.user_props,
        "gaps": row.gaps,
        "ended": row.ended or timed_out,
    }


def marker_json(marker: Marker, start: float | None) -> dict[str, Any]:
    return {
        "t": max(0.0, marker.t - (start or marker.t)),
        "kind": marker.kind,
        "label": marker.label,
    }


def rel(t: float, start: float | None) -> float:
    """An absolute time as the player's: ms from the session's start."""
    return max(0.0, t - (start if start is not None else t))


def moment_json(m: Moment, now: float, lead_ms: float = 0.0) -> dict[str, Any]:
    """A session and where to open it: `open_at` is `lead_ms` before the moment (an error's
    few seconds of lead-up)."""
    t = rel(m.t, m.session.start)
    return {
        "session": session_json(m.session, now),
        "t": t,
        "open_at": max(0.0, t - lead_ms),
        "label": m.label,
        "detail": m.detail,
    }


def issue_json(i: IssueRow) -> dict[str, Any]:
    return {
        "fingerprint": i.fingerprint,
        "kind": i.kind,
        "title": i.title,
        "frame": i.frame,
        "path": i.path,
        "count": i.count,
        "sessions": i.sessions,
        "users": i.users,
        "first_ms": i.first_ms,
        "last_ms": i.last_ms,
        "daily": list(i.daily),
    }


def ranked_json(r: Ranked) -> dict[str, Any]:
    return {"kind": r.kind, "key": r.key, "count": r.count, "sessions": r.sessions,
            "example": r.example}  # fmt: skip
