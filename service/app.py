"""`replaycheck serve`: one Starlette app for the ingest, the JSON API and the viewer.

Routes and shapes: docs/serve.md. Store calls block (sqlite3, psycopg): they run in Starlette's
thread pool, never on the event loop. Logs name requests, never their bodies, cookies or keys.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

import recorder
from service import auth, index, ingest, insights, query, signals
from service.shapes import error as _error
from service.shapes import marker_json as _marker_json
from service.shapes import session_json
from service.store.base import IndexEntry, Login, Project, Store

STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "rc_session"
LOGIN_SECONDS = 12 * 3600
# A page that sent no End (a discarded tab) counts as ended after this long without a batch.
KEY_CACHE_S = 5.0
MAX_JSON = 64 * 1024  # bytes of an API request body (a login)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")
log = logging.getLogger("replaycheck.serve")


@dataclass(frozen=True)
class Settings:
    limits: ingest.Limits = field(default_factory=ingest.Limits)
    retention_days: float | None = None
    secure_cookies: bool = False  # set the cookie's Secure flag (serving over https)
    signals: bool = True  # frustration signals decided at ingest (service/signals.py)


def sampled(session: str, rate: float) -> bool:
    """The recorder's own rule (record/index.ts `sampled`): FNV-1a of the id's UTF-16 units."""
    h = 2166136261
    units = session.encode("utf-16-le")
    for i in range(0, len(units), 2):
        h = ((h ^ int.from_bytes(units[i : i + 2], "little")) * 16777619) & 0xFFFFFFFF
    return h / 4294967296 < rate


class Service:
    """What the routes share: the store, the settings, the login throttle."""

    def __init__(self, store: Store, settings: Settings) -> None:
        self.store = store
        self.settings = settings
        self.throttle = auth.Throttle()
        # Projects by ingest key, read again every KEY_CACHE_S: a request's key is checked on
        # the event loop, without a thread hop to the store (a changed key or origin list
        # applies within that time).
        self._keys: dict[str, Project] = {}
        self._keys_read = -KEY_CACHE_S

    def project_by_key(self, key: str) -> Project | None:
        """Blocking. A key not in the cache (a new project, or garbage) is looked up in the
        store each time: refusing a new project's batches would lose them."""
        now = time.monotonic()
        if now - self._keys_read > KEY_CACHE_S:
            self._keys = {p.ingest_key: p for p in self.store.projects()}
            self._keys_read = now
        found = self._keys.get(key)
        if found is None and key:
            found = self.store.project_by_key(key)
            if found is not None:
                self._keys[key] = found
        return found

    def cached(self, key: str) -> bool:
        """The key's project is known without asking the store."""
        return key in self._keys and time.monotonic() - self._keys_read <= KEY_CACHE_S

    # Ingest.

    def accept(
        self, head: ingest.Head, body: bytes, encoding: str, agent: str
    ) -> ingest.Refusal | None:
        batch = ingest.check_body(body, self.settings.limits, encoding)
        if isinstance(batch, ingest.Refusal):
            return batch
        project = head.project
        if not sampled(batch.session, project.sample_rate):
            return None  # answered 2xx: a recorder must not retry what the project samples out
        browser = index.browser(agent)
        # A whole batch is stored and indexed in one transaction; a chunk is indexed with its
        # batch once all chunks are in (index_batch keeps one of a repeat).
        whole = None if batch.events is None else self._entry(batch, browser, project)
        self.store.put_batch(
            project.id, batch.session, batch.page, batch.seq, batch.chunk, batch.last,
            batch.body, batch.n if whole else None, datetime.now(UTC), whole,
        )  # fmt: skip
        if whole is not None:
            return None
        return self.index_stored(project.id, batch.session, batch.page, batch.seq, browser)

    def _entry(self, batch: ingest.Batch, browser: str | None, project: Project) -> IndexEntry:
        rules = self.rules(project)
        summary = index.summarize(batch.format, batch.page, batch.events or [], rules)
        return IndexEntry(batch.format, summary, browser, rules if self.settings.signals else None)

    def rules(self, project: Project) -> signals.Rules:
        """The project's signal rules; rules stored by an older or a broken release count as
        the defaults (logged), so a batch is never refused for the project's settings."""
        try:
            return signals.Rules.from_json(project.signals)
        except signals.RulesError as e:
            log.warning("project %s: signal rules %s: using the defaults", project.id, e)
            return signals.Rules()

    def index_stored(
        self, project: str, session: str, page: float, seq: int, browser: str | None
    ) -> ingest.Refusal | None:
        """Index one stored batch once all its chunks are in (nothing to do before that)."""
        stored = self.store.chunks(project, session, page, seq)
        if not stored or not stored[-1].last or len(stored) != stored[-1].chunk + 1:
            return None
        parts = []
        for one in stored:
            part = ingest.check_body(one.body_gz, self.settings.limits)
            if isinstance(part, ingest.Refusal):
                return part
            parts.append(part)
        whole = (
            parts[0]
            if parts[0].events is not None
            else ingest.join_chunks(parts, self.settings.limits)
        )
        if isinstance(whole, ingest.Refusal):
            return whole
        found = self.store.project(project)
        if found is None:
            return None  # the project went away: nothing to index for
        self.store.index_batch(project, session, page, seq, self._entry(whole, browser, found))
        return None

    def repair(self) -> int:
        """Index what a killed server stored but never indexed."""
        pending = self.store.unindexed()
        for project, session, page, seq in pending:
            refused = self.index_stored(project, session, page, seq, None)
            if refused is not None:
                log.warning(
                    "stored batch %s/%s/%s not indexable: %s", session, page, seq, refused.reason
                )
        return len(pending)

    # Logins.

    def authenticate(self, request: Request) -> tuple[Login, bool] | None:
        """The request's login and whether it came by cookie (which needs CSRF on writes)."""
        bearer = request.headers.get("authorization", "")
        by_cookie = not bearer
        token = (
            bearer[7:].strip() if bearer[:7].lower() == "bearer " else request.cookies.get(COOKIE)
        )
        if not token or len(token) > 256:
            return None
        login = self.store.login(auth.token_hash(token))
        if login is None or (login.expires is not None and login.expires < time.time()):
            return None
        return login, by_cookie


async def _read_body(request: Request, limit: int) -> bytes | None:
    """At most `limit` bytes of the body (more are not read); None: the client went away."""
    body = bytearray()
    try:
        async for piece in request.stream():
            body += piece
            if len(body) >= limit:
                break
    except ClientDisconnect:
        return None
    return bytes(body[:limit])


def _refuse(refusal: ingest.Refusal) -> Response:
    return PlainTextResponse(refusal.reason + "\n", refusal.status, headers=dict(refusal.headers))


def batches_json(store: Store, project: str, session: str, fmt: str) -> bytes:
    """The session's batches as the recorder sent them, chunks joined, in (page, seq) order:
    the JSON text built from the stored texts (no parse and re-dump of megabytes)."""
    texts: list[str] = []
    pending: list[str] = []
    for stored in store.batches(project, session):
        text = stored.text()
        if stored.chunk == 0 and stored.last:
            texts.append(text)
            continue
        if stored.chunk == 0:
            pending = []
        if stored.chunk != len(pending):
            pending = []  # a chunk missing: the batch is not whole yet
            continue
        pending.append(json.loads(text)["data"])
        if stored.last:
            texts.append("".join(pending))
            pending = []
    return (f'{{"format": {json.dumps(fmt)}, "batches": [' + ",".join(texts) + "]}").encode()


Handler = Callable[[Request], Awaitable[Response]]
RETENTION_EVERY_S = 3600.0


def apply_retention(service: Service, now: datetime) -> int:
    days = service.settings.retention_days
    if days is None:
        return 0
    return sum(service.store.delete_older_than(p.id, days, now) for p in service.store.projects())


async def _retention_loop(service: Service) -> None:
    while True:
        gone = await run_in_threadpool(apply_retention, service, datetime.now(UTC))
        if gone:
            log.info("retention: %d sessions deleted", gone)
        await asyncio.sleep(RETENTION_EVERY_S)


def create_app(store: Store, settings: Settings | None = None) -> Starlette:
    service = Service(store, settings or Settings())

    def logged_in(
        api: bool, write: bool = False
    ) -> Callable[[Callable[[Request, Login], Awaitable[Response]]], Handler]:
        def wrap(handler: Callable[[Request, Login], Awaitable[Response]]) -> Handler:
            async def run(request: Request) -> Response:
                found = await run_in_threadpool(service.authenticate, request)
                if found is None:
                    if api:
                        return _error(401, "not logged in: POST /api/login first")
                    target = request.url.path + (
                        f"?{request.url.query}" if request.url.query else ""
                    )
                    return RedirectResponse(f"/login?next={_quote(target)}", 303)
                login, by_cookie = found
                if write and by_cookie:
                    sent = request.headers.get("x-csrf-token", "")
                    if not hmac.compare_digest(sent.encode(), login.csrf.encode()):
                        return _error(
                            403, "missing or wrong X-CSRF-Token header (from GET /api/me)"
                        )
                return await handler(request, login)

            return run

        return wrap

    async def ingest_route(request: Request) -> Response:
        headers = dict(request.headers)
        limits = service.settings.limits
        key = request.query_params.get("key", "")
        # The store is asked off the loop; check_head then only reads the cache.
        project = (
            service._keys.get(key)
            if service.cached(key)
            else await run_in_threadpool(service.project_by_key, key)
        )
        head = ingest.check_head(
            request.method, request.url.query, headers, lambda _: project, limits
        )
        if isinstance(head, ingest.Refusal):
            return _refuse(head)
        if isinstance(head, ingest.Preflight):
            return Response(status_code=204, headers=dict(head.headers))
        body = await _read_body(request, limits.max_body + 1)
        if body is None:
            return Response(status_code=400)
        refused = await run_in_threadpool(
            service.accept,
            head,
            body,
            headers.get("content-encoding", ""),
            headers.get("user-agent", ""),
        )
        if refused is not None:
            return _refuse(
                ingest.Refusal(refused.status, refused.reason, {**head.headers, **refused.headers})
            )
        return Response(status_code=204, headers=dict(head.headers))

    async def login_route(request: Request) -> Response:
        body = await _read_body(request, MAX_JSON + 1)
        try:
            if body is None or len(body) > MAX_JSON:
                raise ValueError
            sent = json.loads(body)
            name, password = sent["name"], sent["password"]
            if not isinstance(name, str) or not isinstance(password, str):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return _error(400, 'a JSON body {"name": ..., "password": ...} expected')
        if len(password) > auth.MAX_PASSWORD or len(name) > 256:
            return _error(400, "name or password too long")
        if service.throttle.blocked(name):
            return _error(429, "too many failed logins for this name: wait a few minutes")
        user = await run_in_threadpool(store.user, name)
        ok = await run_in_threadpool(
            auth.check_password, password, None if user is None else user.password
        )
        if user is None or not ok:
            service.throttle.failed(name)
            return _error(401, "wrong name or password")
        token, csrf = auth.new_token(), auth.new_token()
        login = Login(user.name, user.project, csrf, time.time() + LOGIN_SECONDS)
        await run_in_threadpool(store.add_login, auth.token_hash(token), login)
        answer = JSONResponse({"user": user.name, "project": user.project, "csrf": csrf})
        answer.set_cookie(
            COOKIE, token, max_age=LOGIN_SECONDS, httponly=True, samesite="strict",
            secure=service.settings.secure_cookies, path="/",
        )  # fmt: skip
        return answer

    @logged_in(api=True, write=True)
    async def logout_route(request: Request, login: Login) -> Response:
        token = request.cookies.get(COOKIE)
        if token:
            await run_in_threadpool(store.delete_login, auth.token_hash(token))
        answer = Response(status_code=204)
        answer.delete_cookie(COOKIE, path="/")
        return answer

    @logged_in(api=True)
    async def me_route(request: Request, login: Login) -> Response:
        return JSONResponse({"user": login.user, "project": login.project, "csrf": login.csrf})

    @logged_in(api=True)
    async def sessions_route(request: Request, login: Login) -> Response:
        parsed = query.parse(request.url.query)
        if isinstance(parsed, str):
            return _error(400, parsed)
        total, rows = await run_in_threadpool(store.query_sessions, login.project, parsed)
        now = time.time()
        return JSONResponse({"total": total, "sessions": [session_json(r, now) for r in rows]})

    @logged_in(api=True)
    async def session_route(request: Request, login: Login) -> Response:
        session = request.path_params["id"]
        row = await run_in_threadpool(store.session, login.project, session)
        if row is None:
            return _error(404, "no such session in this project")
        marks = await run_in_threadpool(store.markers, login.project, session)
        body = session_json(row, time.time())
        body["markers"] = [_marker_json(m, row.start) for m in marks]
        return JSONResponse(body)

    @logged_in(api=True)
    async def session_batches_route(request: Request, login: Login) -> Response:
        session = request.path_params["id"]
        row = await run_in_threadpool(store.session, login.project, session)
        if row is None:
            return _error(404, "no such session in this project")
        body = await run_in_threadpool(
            batches_json, store, login.project, session, row.format or "builtin"
        )
        return Response(body, media_type="application/json")

    @logged_in(api=True, write=True)
    async def delete_session_route(request: Request, login: Login) -> Response:
        gone = await run_in_threadpool(
            store.delete_session, login.project, request.path_params["id"]
        )
        return Response(status_code=204) if gone else _error(404, "no such session in this project")

    @logged_in(api=True, write=True)
    async def erase_user_route(request: Request, login: Login) -> Response:
        deleted = await run_in_threadpool(
            store.delete_user, login.project, request.path_params["user"]
        )
        return JSONResponse({"deleted": deleted})

    async def login_page(request: Request) -> Response:
        return _shell()

    @logged_in(api=False)
    async def viewer_page(request: Request, login: Login) -> Response:
        return _shell()

    async def bundle(request: Request) -> Response:
        # The recorder and its loader are for any site's pages (a script tag needs no CORS);
        # the replayer is the viewer's.
        name = request.url.path.removeprefix("/static/")
        return FileResponse(recorder.bundle_path(name), media_type="text/javascript")

    async def static(request: Request) -> Response:
        name = request.path_params["name"]
        path = STATIC / name
        if name not in STATIC_FILES or not path.is_file():
            return PlainTextResponse("not found\n", 404)
        return FileResponse(path, media_type=STATIC_FILES[name])

    async def favicon(request: Request) -> Response:
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        repaired = await run_in_threadpool(service.repair)
        if repaired:
            log.info("indexed %d batches a previous server stored but did not index", repaired)
        retention = None
        if service.settings.retention_days is not None:
            retention = asyncio.create_task(_retention_loop(service))
        yield
        if retention is not None:
            retention.cancel()

    routes = [
        Route(
            "/ingest", ingest_route, methods=["POST", "OPTIONS", "GET", "PUT", "DELETE", "PATCH"]
        ),
        Route("/api/login", login_route, methods=["POST"]),
        Route("/api/logout", logout_route, methods=["POST"]),
        Route("/api/me", me_route),
        Route("/api/sessions", sessions_route),
        Route("/api/sessions/{id}", session_route),
        Route("/api/sessions/{id}", delete_session_route, methods=["DELETE"]),
        Route("/api/sessions/{id}/batches", session_batches_route),
        Route("/api/users/{user}", erase_user_route, methods=["DELETE"]),
        *insights.routes(store, logged_in),
        Route("/login", login_page),
        Route("/", viewer_page),
        Route("/sessions/{id}", viewer_page),
        # The viewer's other pages (one app: viewer/src routes by path).
        *(
            Route(path, viewer_page)
            for path in ("/errors", "/errors/{fp}", "/frustration", "/funnels", "/segments")
        ),
        *(
            Route(f"/static/{name}", bundle)
            for name in ("replay.js", "record.js", "insights.js", "loader.js")
        ),
        Route("/static/{name}", static),
        # Browsers ask for it whatever the page links: the same icon, not a 404 in every console.
        Route("/favicon.ico", favicon),
    ]
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(GZipMiddleware, minimum_size=4096, compresslevel=1),
        ],
        lifespan=lifespan,
    )
    app.state.service = service
    return app


STATIC_FILES = {
    "viewer.js": "text/javascript",
    "viewer.css": "text/css",
    "favicon.svg": "image/svg+xml",
}


def _shell() -> Response:
    path = STATIC / "viewer.html"
    if not path.is_file():
        return PlainTextResponse("the viewer is not built: run `make setup` (npm run build)\n", 500)
    return FileResponse(path, media_type="text/html")


def _quote(path: str) -> str:
    from urllib.parse import quote

    return quote(path, safe="/")


class SecurityHeaders:
    """Every answer: no sniffing, no referrer (session ids stay out of other sites' logs);
    HTML: the replayer's CSP (its about:blank replay frame inherits it) and no framing."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                kinds = dict(headers).get(b"content-type", b"")
                headers.append((b"x-content-type-options", b"nosniff"))
                headers.append((b"referrer-policy", b"no-referrer"))
                if kinds.startswith(b"text/html"):
                    headers.append((b"content-security-policy", recorder.REPLAY_PAGE_CSP.encode()))
                    headers.append((b"x-frame-options", b"DENY"))
                if scope["path"].startswith("/api/"):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
