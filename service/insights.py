"""The API of issue 13 over the index: error issues, frustration signals, funnels and saved
segments (docs/serve.md). Each answer ends in sessions, each with the moment to open it at."""

from __future__ import annotations

import asyncio
import base64
import json
import math
import re
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service import clip, funnels, segments
from service.shapes import error, issue_json, moment_json, ranked_json, rel, session_json
from service.store.base import Login, Store

ERROR_LEAD_MS = 5000.0  # an error's session opens this long before it
MAX_LIMIT = 200
MAX_SEGMENT_NAME = 100
MAX_SEGMENTS = 200
SEGMENT_NAME = re.compile(r"[\w .:-]{1,100}")
SIGNAL_KINDS = ("rage_click", "dead_click", "quick_back", "error_click")
ERROR_KINDS = ("error", "console", "network")

Handler = Callable[[Request], Awaitable[Response]]
Guard = Callable[..., Callable[[Callable[[Request, Login], Awaitable[Response]]], Handler]]


class BadRequest(ValueError):
    """A query parameter that cannot be used: answered 400 with this message."""


def _number(request: Request, name: str, low: float = 0, high: float = 2**53) -> float | None:
    text = request.query_params.get(name)
    if text is None or text == "":
        return None
    try:
        value = float(text)
    except ValueError:
        raise BadRequest(f"{name}={text[:40]!r} is not a number") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise BadRequest(f"{name}={text[:40]!r}: a number from {low:g} to {high:g} expected")
    return value


def _paging(request: Request) -> tuple[int, int]:
    limit = _number(request, "limit", 1, MAX_LIMIT)
    offset = _number(request, "offset", 0, 2**31)
    return int(limit or 50), int(offset or 0)


def _choice(
    request: Request, name: str, choices: tuple[str, ...], default: str | None
) -> str | None:
    value = request.query_params.get(name) or default
    if value is not None and value not in choices:
        raise BadRequest(f"{name}={value[:40]!r}: one of {', '.join(choices)}")
    return value


def _json_param(text: str, what: str) -> Any:
    """A JSON value from a query parameter: JSON text, or base64url JSON (share links)."""
    text = text.strip()
    if len(text) > segments.MAX_JSON:
        raise BadRequest(f"{what}: over {segments.MAX_JSON} characters")
    if not text.startswith(("{", "[")):
        try:
            text = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        except (ValueError, UnicodeDecodeError):
            raise BadRequest(f"{what}: neither JSON nor base64url JSON") from None
    try:
        return json.loads(text)
    except ValueError as e:
        raise BadRequest(f"{what}: not JSON ({e})") from None


def _funnel(request: Request) -> funnels.Funnel:
    text = request.query_params.get("funnel")
    if not text:
        raise BadRequest("funnel= is required: the funnel's JSON {steps, window_ms, segment}")
    try:
        return funnels.parse(_json_param(text, "funnel"))
    except funnels.FunnelError as e:
        raise BadRequest(str(e)) from None


def routes(store: Store, logged_in: Guard) -> list[Route]:
    def guarded(
        write: bool = False,
    ) -> Callable[[Callable[[Request, Login], Awaitable[Response]]], Handler]:
        """logged_in, with a BadRequest answered 400."""

        def wrap(handler: Callable[[Request, Login], Awaitable[Response]]) -> Handler:
            async def run(request: Request, login: Login) -> Response:
                try:
                    return await handler(request, login)
                except BadRequest as e:
                    return error(400, str(e))

            return logged_in(api=True, write=write)(run)

        return wrap

    # Errors -------------------------------------------------------------------------------

    @guarded()
    async def issues_route(request: Request, login: Login) -> Response:
        since = _number(request, "since")
        kind = _choice(request, "kind", ERROR_KINDS, None)
        found = await run_in_threadpool(store.issues, login.project, since, kind)
        return JSONResponse({"issues": [issue_json(i) for i in found]})

    @guarded()
    async def issue_route(request: Request, login: Login) -> Response:
        found = await run_in_threadpool(store.issue, login.project, request.path_params["fp"])
        if found is None:
            return error(404, "no such issue in this project")
        return JSONResponse(issue_json(found))

    @guarded()
    async def issue_sessions_route(request: Request, login: Login) -> Response:
        limit, offset = _paging(request)
        fp = request.path_params["fp"]
        total, moments = await run_in_threadpool(
            store.issue_sessions, login.project, fp, limit, offset
        )
        now = time.time()
        out = []
        for m in moments:
            body = moment_json(m, now, ERROR_LEAD_MS)
            before = await run_in_threadpool(store.actions_before, login.project, m.session.id, m.t)
            body["before"] = [
                {"t": rel(t, m.session.start), "kind": k, "label": label} for t, k, label in before
            ]
            out.append(body)
        return JSONResponse({"total": total, "sessions": out})

    @guarded()
    async def session_errors_route(request: Request, login: Login) -> Response:
        session = request.path_params["id"]
        row = await run_in_threadpool(store.session, login.project, session)
        if row is None:
            return error(404, "no such session in this project")
        found = await run_in_threadpool(store.session_errors, login.project, session)
        out = []
        for e in found:
            before = await run_in_threadpool(store.actions_before, login.project, session, e.t)
            out.append({
                "t": rel(e.t, row.start), "kind": e.kind, "message": e.message, "stack": e.stack,
                "url": e.url, "fingerprint": e.fingerprint,
                "before": [{"t": rel(t, row.start), "kind": k, "label": label}
                           for t, k, label in before],
            })  # fmt: skip
        return JSONResponse({"errors": out})

    # Frustration --------------------------------------------------------------------------

    @guarded()
    async def frustration_route(request: Request, login: Login) -> Response:
        kind = _choice(request, "kind", SIGNAL_KINDS, None)
        by = _choice(request, "by", ("page", "selector"), "page") or "page"
        since = _number(request, "since")
        found = await run_in_threadpool(store.frustration, login.project, kind, by, since)
        return JSONResponse({"by": by, "rows": [ranked_json(r) for r in found]})

    @guarded()
    async def frustration_sessions_route(request: Request, login: Login) -> Response:
        kind = _choice(request, "kind", SIGNAL_KINDS, None)
        if kind is None:
            raise BadRequest(f"kind= is required: one of {', '.join(SIGNAL_KINDS)}")
        by = _choice(request, "by", ("page", "selector"), "page") or "page"
        key = request.query_params.get("key", "")
        if not key or len(key) > 512:
            raise BadRequest("key= is required: the page path or selector (at most 512 characters)")
        limit, offset = _paging(request)
        total, moments = await run_in_threadpool(
            store.frustration_sessions, login.project, kind, by, key, limit, offset
        )
        now = time.time()
        return JSONResponse(
            {"total": total, "sessions": [moment_json(m, now, 2000.0) for m in moments]}
        )

    # Funnels ------------------------------------------------------------------------------

    async def _walk(login: Login, funnel: funnels.Funnel) -> list[funnels.Reached]:
        facts = await run_in_threadpool(store.funnel_facts, login.project, funnel)
        return funnels.walk(funnel, sorted(facts[0]), facts)

    @guarded()
    async def funnel_route(request: Request, login: Login) -> Response:
        funnel = _funnel(request)
        reached = await _walk(login, funnel)
        return JSONResponse(funnels.as_json(funnel, funnels.results(funnel, reached)))

    @guarded()
    async def funnel_dropoff_route(request: Request, login: Login) -> Response:
        """Sessions that reached step k and not k+1, each at the moment of step k."""
        funnel = _funnel(request)
        step = _number(request, "step", 1, len(funnel.steps) - 1)
        if step is None or step != int(step):
            raise BadRequest(f"step= is required: a whole number from 1 to {len(funnel.steps) - 1}")
        limit, offset = _paging(request)
        dropped = funnels.dropped(await _walk(login, funnel), int(step))
        page = dropped[offset : offset + limit]
        rows = await run_in_threadpool(store.session_rows, login.project, [r.session for r in page])
        now = time.time()
        out = []
        for r in page:
            row = rows.get(r.session)
            if row is not None:
                t = rel(r.times[-1], row.start)
                out.append({"session": session_json(row, now), "t": t, "open_at": t,
                            "reached": [rel(x, row.start) for x in r.times]})  # fmt: skip
        return JSONResponse({"total": len(dropped), "step": int(step), "sessions": out})

    # Clips: the player's "Export clip" (docs/clip.md) --------------------------------------

    rendering = asyncio.Semaphore(1)  # a render is a Chromium for seconds: one at a time

    @guarded()
    async def clip_route(request: Request, login: Login) -> Response:
        start = _number(request, "from")
        end = _number(request, "to")
        if start is None or end is None:
            raise BadRequest("from= and to= are required: ms from the session's start")
        fps = _number(request, "fps", 1, clip.MAX_FPS)
        if rendering.locked():
            return error(429, "another clip is being made: try again in a few seconds")
        async with rendering:
            with tempfile.TemporaryDirectory(prefix="rc-clip-") as folder:
                out = Path(folder) / "clip.webp"
                try:
                    await run_in_threadpool(
                        clip.render_clip, store, login.project, request.path_params["id"],
                        start, end, out, int(fps or clip.DEFAULT_FPS),
                    )  # fmt: skip
                except clip.SessionNotFound:
                    return error(404, "no such session in this project")
                except clip.ClipError as e:
                    return error(400, str(e).replace("--from", "from").replace("--to", "to"))
                body = out.read_bytes()
        name = f"{request.path_params['id']}-{start:.0f}-{end:.0f}.webp"
        disposition = {"Content-Disposition": f'attachment; filename="{name}"'}
        return Response(body, media_type="image/webp", headers=disposition)

    # Saved segments -----------------------------------------------------------------------

    @guarded()
    async def segments_route(request: Request, login: Login) -> Response:
        found = await run_in_threadpool(store.saved_segments, login.project)
        return JSONResponse({"segments": [
            {"name": s.name, "segment": s.definition, "updated_by": s.updated_by,
             "updated_ms": s.updated_ms} for s in found
        ]})  # fmt: skip

    @guarded(write=True)
    async def save_segment_route(request: Request, login: Login) -> Response:
        name = request.path_params["name"]
        if not SEGMENT_NAME.fullmatch(name):
            raise BadRequest("a segment's name: 1 to 100 letters, digits, spaces, . : _ -")
        body = await request.body()
        if len(body) > segments.MAX_JSON:
            return error(413, f"a segment's JSON is at most {segments.MAX_JSON} bytes")
        try:
            raw = json.loads(body)
        except ValueError:
            raise BadRequest('a JSON body {"segment": {...}} expected') from None
        if not isinstance(raw, dict) or "segment" not in raw:
            raise BadRequest('a JSON body {"segment": {...}} expected')
        try:
            segment = segments.parse(raw["segment"])
        except segments.SegmentError as e:
            raise BadRequest(str(e)) from None
        have = await run_in_threadpool(store.saved_segments, login.project)
        if len(have) >= MAX_SEGMENTS and name not in {s.name for s in have}:
            raise BadRequest(f"at most {MAX_SEGMENTS} saved segments per project: delete some")
        await run_in_threadpool(
            store.save_segment, login.project, name, segments.to_json(segment), login.user
        )
        return JSONResponse({"name": name, "segment": segments.to_json(segment)})

    @guarded(write=True)
    async def delete_segment_route(request: Request, login: Login) -> Response:
        gone = await run_in_threadpool(
            store.delete_segment, login.project, request.path_params["name"]
        )
        return Response(status_code=204) if gone else error(404, "no such segment in this project")

    return [
        Route("/api/issues", issues_route),
        Route("/api/issues/{fp}", issue_route),
        Route("/api/issues/{fp}/sessions", issue_sessions_route),
        Route("/api/sessions/{id}/errors", session_errors_route),
        Route("/api/frustration", frustration_route),
        Route("/api/frustration/sessions", frustration_sessions_route),
        Route("/api/funnel", funnel_route),
        Route("/api/funnel/dropoff", funnel_dropoff_route),
        Route("/api/sessions/{id}/clip", clip_route),
        Route("/api/segments", segments_route),
        Route("/api/segments/{name}", save_segment_route, methods=["PUT"]),
        Route("/api/segments/{name}", delete_segment_route, methods=["DELETE"]),
    ]
