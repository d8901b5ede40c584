"""`replaycheck demo`: a populated viewer in one command (SPEC.md).

It starts a real `replaycheck serve` on a free port for the store, creates the project `demo`
and its login, and records N sessions through that server's HTTP ingest by running scenarios
with the built-in recorder: the harness's own Worker (a browser and a page server per process)
and driver (harness/drive.py), as `replaycheck run --ingest URL` does. The sessions are the
demo shop's (scenarios/demo/: list -> product -> cart -> checkout -> done, with a broken coupon
button, a dead button, a rage-clicked banner, a quick back and a stock check answered 500) and
a few bundled scenarios, each session with its own user id, properties and viewport. Then a
segment is saved through the API and the viewer's address, the login, what went in and a
funnel link are printed; the viewer is served until Ctrl-C (or, with --no-serve, later by
`replaycheck serve --store URL`).

Sessions are recorded without the harness's replay and comparison (the verdict of a fidelity
run): a demo needs the stored sessions, not a verdict on them. The recorder is installed as a
site installs it (recorder/dist/record.js, `replaycheckRecord` on the window), so the shop's
pages can call identify() and track(): the harness's adapter bundle keeps that global to itself.
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from service import auth
from service.cli import CommandError

DEFAULT_SESSIONS = 24
MAX_SESSIONS = 500
# Browsers side by side. More than the cores: a session is mostly a person's pauses, which
# cost no CPU (24 sessions on 2 cores: about 70 s with 4, against 110 s with 2).
DEFAULT_WORKERS = 4
# Not serve's default store: demo data has no place in a team's real one.
DEFAULT_STORE = "sqlite:///replaycheck-demo.db"
PROJECT = "demo"
USER = "demo"
SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
START_TIMEOUT_S = 30.0
SEGMENT_NAME = "checkout trouble"

# One session per entry, taken in turn (and again from the start past the end). The first six
# already give the Errors, Frustration and Funnels pages something each: the shop first.
PLAN = (
    "demo/purchase.yaml",
    "demo/abandon-cart.yaml",
    "demo/coupon-error.yaml",
    "demo/rage-promo.yaml",
    "demo/quick-back.yaml",
    "demo/stock-500.yaml",
    "demo/dead-size-guide.yaml",
    "demo/purchase.yaml",
    "js-error.yaml",
    "demo/abandon-cart.yaml",
    "rage-click.yaml",
    "form.yaml",
    "demo/purchase.yaml",
    "spa-routes.yaml",
    "demo/coupon-error.yaml",
    "multi-page.yaml",
    "demo/abandon-cart.yaml",
)
# A phone, a tablet and desktops: the viewer's viewport segments (mobile, tablet, desktop).
VIEWPORTS = ((1280, 800), (390, 844), (1440, 900), (820, 1180), (1280, 720), (412, 915))
PLANS = ("free", "pro", "team")
COUNTRIES = ("FR", "US", "DE", "JP", "BR")
# The demo shop's pages in order: the funnel printed, and the one the segment looks at.
FUNNEL = {
    "steps": [
        {"kind": "page", "value": f"*/shop/{page}.html*"}
        for page in ("list", "product", "cart", "checkout", "done")
    ],
    "window_ms": 3_600_000,
}
SEGMENT = {
    "all": [
        {"field": "page", "op": "visited", "value": "*/shop/cart.html*"},
        {
            "any": [
                {"field": "error", "op": "had"},
                {"field": "signal", "op": "had", "value": "rage_click"},
                {"field": "signal", "op": "had", "value": "dead_click"},
                {"field": "signal", "op": "had", "value": "error_click"},
            ]
        },
    ]
}


def add_command(commands: Any, serve_store_default: str) -> None:
    demo = commands.add_parser(
        "demo",
        help="a populated viewer in one command: record demo sessions into a store, serve it",
        description="Record demo sessions (the bundled scenarios and a demo shop's, with errors,"
        " rage clicks and abandoned checkouts) in real Chromium through a real `replaycheck"
        " serve`'s ingest, save a segment, print the login and a funnel link, then serve the"
        " viewer until Ctrl-C.",
    )
    demo.add_argument(
        "--sessions",
        type=_sessions,
        default=DEFAULT_SESSIONS,
        metavar="N",
        help=f"sessions to record (1 to {MAX_SESSIONS}, default {DEFAULT_SESSIONS})",
    )
    demo.add_argument(
        "--store",
        default=DEFAULT_STORE,
        metavar="URL",
        help=f"sqlite:///PATH or postgresql://... (default {DEFAULT_STORE}, not serve's"
        f" {serve_store_default})",
    )
    demo.add_argument("--host", default="127.0.0.1", help="where the viewer is served after")
    demo.add_argument("--port", type=int, default=8377, help="the viewer's port after (8377)")
    demo.add_argument(
        "--password-stdin",
        action="store_true",
        help=f"read the password of the login {USER!r} from stdin (default: one is generated)",
    )
    demo.add_argument(
        "-n",
        "--workers",
        type=_workers,
        default=DEFAULT_WORKERS,
        metavar="W",
        help=f"browsers recording side by side (default {DEFAULT_WORKERS})",
    )
    demo.add_argument(
        "--no-serve",
        action="store_true",
        help="record, print, and exit; `replaycheck serve --store URL` serves the viewer later",
    )


def _sessions(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= MAX_SESSIONS:
        raise argparse.ArgumentTypeError(f"{text}: 1 to {MAX_SESSIONS} sessions")
    return value


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if not 1 <= value <= 16:
        raise argparse.ArgumentTypeError(f"{text}: 1 to 16 workers")
    return value


# --- The sessions --------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """One session to record: which scenario, as whom, on which screen."""

    index: int
    scenario: Path
    user: str | None  # None: an anonymous visitor (no identify)
    props: dict[str, str | int | bool]
    viewport: tuple[int, int]

    def label(self) -> str:
        who = self.user or "anonymous"
        return f"{self.scenario.stem} [{who}, {self.viewport[0]}x{self.viewport[1]}]"


def plan(count: int) -> list[Visit]:
    """`count` visits: the PLAN's scenarios in turn; 9 returning users (some with several
    sessions) and every 7th visitor anonymous; the viewports in turn."""
    visits = []
    for i in range(count):
        user = None if i % 7 == 6 else f"u-{101 + (i * 5) % 9}"
        props: dict[str, str | int | bool] = {}
        if user is not None:
            n = int(user[2:])
            props = {"plan": PLANS[n % 3], "country": COUNTRIES[n % 5], "orders": n % 4}
        visits.append(
            Visit(i, SCENARIOS / PLAN[i % len(PLAN)], user, props, VIEWPORTS[i % len(VIEWPORTS)])
        )
    return visits


def _setup_script(visit: Visit, api: str) -> str:
    """The first step of each session: who the user is and where the stock API is, kept in the
    tab's localStorage for the shop's pages (scenarios/demo/shop/shop.js identifies on each),
    and identified at once on this page (the bundled scenarios' pages do not)."""
    values = {"demo.api": api}
    if visit.user is not None:
        values |= {"demo.user": visit.user, "demo.props": json.dumps(visit.props)}
    identify = ""
    if visit.user is not None:
        identify = (
            "if (window.replaycheckRecord)"
            f" window.replaycheckRecord.identify({json.dumps(visit.user)},"
            f" {json.dumps(visit.props)});"
        )
    return (
        f"(() => {{ for (const [k, v] of Object.entries({json.dumps(values)}))"
        f" localStorage.setItem(k, v); {identify} }})()"
    )


# Between a click and the next step: a person's pause, not a script's. Under 1 s, an error one
# click causes would be blamed on the click before it too (an error click: within 1 s).
PACE_MS = (1050, 1450)
PACED = ("click", "dblclick", "back", "goto")


def paced(steps: Sequence[Any], visit: Visit) -> tuple[Any, ...]:
    """`steps` with a wait after each click, back and goto, its length varied by visit."""
    from harness.scenario import Step

    lo, hi = PACE_MS
    out = []
    for n, step in enumerate(steps):
        out.append(step)
        if step.kind in PACED:
            ms = lo + (visit.index * 97 + n * 53) % (hi - lo)
            out.append(Step("wait", {"ms": ms}, step.line))
    return tuple(out)


def _site_recorder() -> Any:
    """The built-in adapter with the recorder as a site installs it: record.js's global
    `replaycheckRecord` left on the window (for the pages' identify and track), its insights
    plugin (insights.js: console, failed requests, click targets) where record() finds it, and
    the handle the harness drives (window.__rcRecorder: checkpoint, flush, stats) over what record()
    returns, as harness/js/src/adapters/builtin-record.ts makes it."""
    import recorder
    from harness.adapters.builtin import BuiltinAdapter
    from harness.scenario import RecorderConfig

    class SiteRecorder(BuiltinAdapter):
        def init_script(self, config: RecorderConfig, ingest_url: str, session: str) -> str:
            options = {
                **self.record_options(config),
                "ingestUrl": ingest_url,
                "session": session,
                "sampleRate": config.sample_rate,
            }
            return (
                "(function(){if(window.top!==window||location.protocol==='about:')return;"
                f"{recorder.bundle('record.js')}\nwindow.replaycheckRecord=replaycheckRecord;"
                f"{recorder.bundle('insights.js')}\nwindow.replaycheckInsights=replaycheckInsights;"
                f"var r=replaycheckRecord.record({json.dumps(options)});"
                "window.__rcRecorder={checkpoint:function(n){r&&r.checkpoint(n)},"
                "flush:function(ms){return r?r.flush(ms):Promise.resolve(null)},"
                "stats:function(){return r?r.stats():null}};})();"
            )

    return SiteRecorder()


_worker: Any = None  # this process's harness Worker (or the reason it could not start)


def _start_worker(ingest: str, token: str) -> None:
    global _worker
    from harness.browser import BrowserUnavailable
    from harness.remote import RemoteIngest
    from harness.worker import Worker

    try:
        _worker = Worker(None, RemoteIngest(ingest, token))
    except BrowserUnavailable as e:
        _worker = str(e)  # said by the first job: an initializer's exception breaks the pool


class _NoBrowser(str):
    """The pool's browser could not start: the demo stops (not one failed session)."""


def _record(visit: Visit, api: str) -> str | None:
    """In a pool process: record one visit through the remote ingest. None, or what failed."""
    from harness.drive import StepFailed, record
    from harness.scenario import ScenarioError, Step, Viewport, load_scenario

    if isinstance(_worker, str):
        return _NoBrowser(_worker)
    try:
        scenario = load_scenario(visit.scenario)
        setup = Step("eval", {"script": _setup_script(visit, api)}, 1)
        scenario = dataclasses.replace(
            scenario,
            viewport=Viewport(*visit.viewport),
            steps=(setup, *paced(scenario.steps, visit)),
        )
        record(_worker.browser, _worker.server, scenario, _site_recorder(), remote=_worker.remote)
    except (StepFailed, ScenarioError) as e:
        return str(e)
    except Exception as e:  # a crashed page: that session is missing, the others go on
        return f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"
    return None


def record_all(
    visits: Sequence[Visit], ingest: str, token: str, api: str, workers: int
) -> Iterator[tuple[Visit, str | None]]:
    """Each visit and what failed (None: recorded), as they finish; in `workers` processes,
    each with its own browser."""
    with ProcessPoolExecutor(
        max_workers=max(1, min(workers, len(visits))),
        initializer=_start_worker,
        initargs=(ingest, token),
    ) as pool:
        # The slowest first (the dead click waits 7.6 s), so no worker is left with it at the end.
        ordered = sorted(visits, key=lambda v: "dead" not in v.scenario.stem)
        futures = {pool.submit(_record, v, api): v for v in ordered}
        for future in as_completed(futures):
            yield futures[future], future.result()


# --- The stock API the shop's product page asks (and the server it records into) -----------


class _StockApi(BaseHTTPRequestHandler):
    """The demo shop's stock service, down: GET /stock answers 500 (a failed request that the
    recorder reports and the service groups as an error issue)."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        down = urlsplit(self.path).path == "/stock"
        body = b"inventory service unavailable" if down else b"not found"
        self.send_response(500 if down else 404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")  # the shop is another origin
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def stock_api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StockApi)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def serving(store_url: str) -> Iterator[str]:
    """A real `replaycheck serve` of the store on a free port, as its own process: its base
    URL. Its log goes to a temporary file, shown if it does not start."""
    port = _free_port()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "harness.cli", "serve", "--store", store_url,
             "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + START_TIMEOUT_S
            while True:
                try:
                    urllib.request.urlopen(base + "/api/me", timeout=2)
                except urllib.error.HTTPError:
                    break  # answering (401): up
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        last = [line for line in log.read().splitlines() if line.strip()]
                        raise CommandError(
                            "the server did not start: " + (last[-1] if last else "no output")
                        ) from None
                    time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


class Api:
    """The JSON API with a Bearer token (docs/serve.md)."""

    def __init__(self, base: str, token: str) -> None:
        self.base, self._token = base, token

    def __call__(self, path: str, method: str = "GET", body: Any = None) -> Any:
        request = urllib.request.Request(
            self.base + path,
            method=method,
            headers={"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"},
            data=None if body is None else json.dumps(body).encode(),
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as answer:
                raw = answer.read()
        except urllib.error.HTTPError as e:
            reason = e.read().decode(errors="replace")[:200]
            raise CommandError(f"{method} {path}: HTTP {e.code} {reason}") from None
        return json.loads(raw) if raw else None

    def session_ids(self) -> set[str]:
        ids: set[str] = set()
        while True:
            page = self(f"/api/sessions?limit=200&offset={len(ids)}")
            ids |= {s["id"] for s in page["sessions"]}
            if not page["sessions"] or len(ids) >= page["total"]:
                return ids


def b64url(value: Any) -> str:
    """base64url of the JSON, unpadded: what the viewer's links carry (viewer/src/segment.ts)."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# --- The command ---------------------------------------------------------------------------


@dataclass
class Totals:
    sessions: int = 0
    users: int = 0
    errors: int = 0  # uncaught errors, console errors and failed requests
    issues: int = 0  # the errors' fingerprints
    signals: dict[str, int] = dataclasses.field(default_factory=dict)


def _totals(api: Api, new: set[str]) -> Totals:
    """What the sessions of this run brought, as the API reports it."""
    totals = Totals(sessions=len(new))
    users, fingerprints = set(), set()
    for sid in sorted(new):
        path = f"/api/sessions/{quote(sid, safe='')}"
        s = api(path)
        errors = api(path + "/errors")["errors"]
        totals.errors += len(errors)
        fingerprints |= {e["fingerprint"] for e in errors}
        for kind in ("rage_clicks", "dead_clicks", "quick_backs", "error_clicks"):
            totals.signals[kind] = totals.signals.get(kind, 0) + int(s.get(kind) or 0)
        if s.get("user_id"):
            users.add(s["user_id"])
    totals.users, totals.issues = len(users), len(fingerprints)
    return totals


def _setup(store_url: str, password: str) -> tuple[str, str]:
    """The project and the login (created, or reset to this password): (ingest key, token)."""
    from service.cli import ensure_project
    from service.store import open_store
    from service.store.base import Login, User

    with open_store(store_url) as store:
        project = ensure_project(store, PROJECT)
        store.add_user(User(USER, project.id, auth.hash_password(password)))
        token = auth.new_token()
        store.add_login(auth.token_hash(token), Login(USER, project.id, "", None))
        return project.ingest_key, token


def run(args: argparse.Namespace) -> int:
    from service import cli as service_cli

    if not (SCENARIOS / "demo").is_dir():
        raise CommandError(
            f"{SCENARIOS / 'demo'}: the demo's scenarios are not here; run the demo from a"
            " replaycheck checkout (they are not in the wheel)"
        )
    import recorder

    try:
        recorder.bundle_path("record.js")
        recorder.bundle_path("insights.js")
    except FileNotFoundError as e:
        raise CommandError(str(e)) from None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if not 8 <= len(password) <= auth.MAX_PASSWORD:
            raise CommandError(f"a password of 8 to {auth.MAX_PASSWORD} characters is required")
    else:
        password = secrets.token_urlsafe(12)
    if not args.no_serve:
        service_cli._check_port(args.host, args.port)  # before minutes of recording, not after
    started = time.monotonic()
    key, token = _setup(args.store, password)
    visits = plan(args.sessions)
    failed: list[str] = []
    print(f"replaycheck demo: recording {len(visits)} sessions into {args.store}", flush=True)
    with serving(args.store) as base, stock_api() as api_url:
        api = Api(base, token)
        before = api.session_ids()
        ingest = f"{base}/ingest?key={key}"
        finished = record_all(visits, ingest, token, api_url, args.workers)
        for done, (visit, problem) in enumerate(finished, 1):
            if isinstance(problem, _NoBrowser):
                raise CommandError(problem)
            verdict = "recorded" if problem is None else f"failed: {problem}"
            print(f"  {done}/{len(visits)} {visit.label()} {verdict}", flush=True)
            if problem is not None:
                failed.append(problem)
        new = api.session_ids() - before
        if not new:
            raise CommandError(f"no session was recorded: {failed[0] if failed else 'unknown'}")
        totals = _totals(api, new)
        api(f"/api/segments/{quote(SEGMENT_NAME)}", "PUT", {"segment": SEGMENT})
        funnel = api(f"/api/funnel?funnel={b64url(FUNNEL)}")
    seconds = time.monotonic() - started
    viewer = f"http://{args.host}:{args.port}"
    signals = ", ".join(f"{n} {k.replace('_', ' ')}" for k, n in totals.signals.items())
    reached = " -> ".join(str(step["sessions"]) for step in funnel["steps"])
    print(
        f"\n{totals.sessions} sessions of {totals.users} users in {seconds:.0f} s"
        + (f" ({len(failed)} failed: {failed[0]})" if failed else "")
        + f"\n  {totals.errors} errors in {totals.issues} issues; signals: {signals}"
        f"\n  funnel list -> product -> cart -> checkout -> done: {reached} sessions"
        f'\n  segment "{SEGMENT_NAME}" saved (cart visitors with an error or a frustration signal)'
        f"\n\nviewer: {viewer}/"
        f"\n  login: {USER} / {password}"
        f"\n  API token: {token}"
        f"\n  funnel: {viewer}/funnels?funnel={b64url(FUNNEL)}"
        f"\n  errors: {viewer}/errors   frustration: {viewer}/frustration",
        flush=True,
    )
    if args.no_serve:
        print(f"serve it: replaycheck serve --store {args.store} --port {args.port}")
        return 0
    print(f"(later, again: replaycheck serve --store {args.store} --port {args.port})\n")
    serve = argparse.Namespace(
        store=args.store, host=args.host, port=args.port, retention_days=None,
        secure_cookies=False, no_signals=False,
    )  # fmt: skip
    try:
        return service_cli._serve(serve)
    except KeyboardInterrupt:
        return 0
