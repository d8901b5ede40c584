"""The service's commands in `replaycheck` (SPEC.md): serve, user add, project add, clip, demo."""

from __future__ import annotations

import argparse
import getpass
import logging
import re
import secrets
import socket
import sys
from pathlib import Path
from typing import Any

from service import auth
from service.store import Project, Store, StoreError, open_store
from service.store.base import User

DEFAULT_STORE = "sqlite:///replaycheck.db"
DEFAULT_PORT = 8377
DEFAULT_PROJECT = "default"


class CommandError(Exception):
    """One line on stderr, exit status 2."""


def add_commands(commands: Any) -> None:
    serve = commands.add_parser("serve", help="ingest endpoint + session store + viewer")
    serve.add_argument(
        "--store",
        default=DEFAULT_STORE,
        metavar="URL",
        help=f"sqlite:///PATH or postgresql://... (default {DEFAULT_STORE})",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument(
        "--retention-days",
        type=_positive,
        metavar="N",
        help="delete sessions last seen more than N days ago (checked hourly)",
    )
    serve.add_argument(
        "--secure-cookies",
        action="store_true",
        help="mark the login cookie Secure (serving over https)",
    )
    serve.add_argument(
        "--no-signals",
        action="store_true",
        help="index no frustration signals at ingest (rage, dead, quick-back, error clicks)",
    )

    user = commands.add_parser("user", help="viewer logins")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    add = user_commands.add_parser("add", help="create or reset a login (prompts for a password)")
    add.add_argument("name")
    add.add_argument("--project", default=DEFAULT_PROJECT)
    add.add_argument("--store", default=DEFAULT_STORE, metavar="URL")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument(
        "--token",
        action="store_true",
        help="also print an API token (Authorization: Bearer) for scripts and run --ingest",
    )

    project = commands.add_parser("project", help="projects: ingest keys, origins, sampling")
    project_commands = project.add_subparsers(dest="project_command", required=True)
    padd = project_commands.add_parser("add", help="create or update a project; prints its key")
    padd.add_argument("name")
    padd.add_argument(
        "--origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="an origin allowed to send batches (repeat; '*' any; default any)",
    )
    padd.add_argument("--sample-rate", type=_rate, default=1.0)
    padd.add_argument(
        "--signals",
        type=_signals,
        metavar="JSON",
        help='frustration-signal rules, e.g. \'{"dead_click_ignore": ["button.print"],'
        ' "rage_clicks": 4}\' (docs/serve.md; default: kept, else the defaults)',
    )
    padd.add_argument("--store", default=DEFAULT_STORE, metavar="URL")

    clip = commands.add_parser(
        "clip", help="a moment of a stored session as an animated WebP or MP4 (docs/clip.md)"
    )
    clip.add_argument("session", metavar="SESSION_ID")
    clip.add_argument("--from", dest="start", type=_ms, required=True, metavar="MS",
                      help="ms from the session's start, as the viewer's ?t=")  # fmt: skip
    clip.add_argument("--to", dest="end", type=_ms, required=True, metavar="MS")
    clip.add_argument("-o", "--output", type=Path, required=True, metavar="FILE",
                      help="FILE.webp (animated WebP) or FILE.mp4 (needs ffmpeg)")  # fmt: skip
    clip.add_argument("--fps", type=int, default=10, metavar="N", help="frames per second (10)")
    clip.add_argument("--project", metavar="P", help="the session's project (default: found)")
    clip.add_argument("--store", default=DEFAULT_STORE, metavar="URL")

    from service import demo  # here: service.demo imports this module

    demo.add_command(commands, DEFAULT_STORE)


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r}: a number > 0 expected")
    return value


def _rate(text: str) -> float:
    value = _positive(text)
    if value > 1:
        raise argparse.ArgumentTypeError(f"{text!r}: a rate from 0 to 1 expected")
    return value


def _signals(text: str) -> str:
    from service.signals import Rules, RulesError

    try:
        return Rules.from_json(text).to_json()
    except RulesError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _ms(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of ms") from None
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r}: ms from the session's start, 0 or more")
    return value


def dispatch(args: argparse.Namespace) -> int:
    from service.clip import ClipError

    try:
        match args.command:
            case "serve":
                return _serve(args)
            case "user":
                return _user_add(args)
            case "project":
                return _project_add(args)
            case "clip":
                return _clip(args)
            case "demo":
                from service import demo

                return demo.run(args)
    except (StoreError, CommandError, ClipError) as e:
        print(f"replaycheck: {e}", file=sys.stderr)
        return 2
    raise AssertionError(args.command)


def _open(url: str) -> Store:
    return open_store(url)


def ensure_project(store: Store, project_id: str) -> Project:
    """The project, created (any origin, a random key) when it is new."""
    found = store.project(project_id)
    if found is None:
        found = Project(project_id, project_id, secrets.token_urlsafe(18), ("*",))
        store.add_project(found)
    return found


def _user_add(args: argparse.Namespace) -> int:
    if not 1 <= len(args.name) <= 256 or not args.name.isprintable():
        raise CommandError(f"user name {args.name[:40]!r}: 1 to 256 printable characters")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise CommandError("the two passwords differ")
    if len(password) < 8 or len(password) > auth.MAX_PASSWORD:
        raise CommandError(f"a password of 8 to {auth.MAX_PASSWORD} characters is required")
    with _open(args.store) as store:
        project = ensure_project(store, args.project)
        store.add_user(User(args.name, project.id, auth.hash_password(password)))
        print(f"user {args.name} can log in to project {project.id}")
        print(f"ingest key of {project.id}: {project.ingest_key}")
        if args.token:
            from service.store.base import Login

            token = auth.new_token()
            store.add_login(auth.token_hash(token), Login(args.name, project.id, "", None))
            print(f"API token: {token}")
    return 0


def _project_add(args: argparse.Namespace) -> int:
    with _open(args.store) as store:
        old = store.project(args.name)
        key = old.ingest_key if old else secrets.token_urlsafe(18)
        origins = tuple(o.rstrip("/") for o in args.origin) or ("*",)
        rules = args.signals if args.signals is not None else (old.signals if old else "")
        store.add_project(Project(args.name, args.name, key, origins, args.sample_rate, rules))
        print(
            f"project {args.name}: ingest key {key}, origins {' '.join(origins)},"
            f" sample rate {args.sample_rate:g}" + (f", signals {rules}" if rules else "")
        )
    return 0


def _clip(args: argparse.Namespace) -> int:
    from service.clip import render_clip
    from service.store import SQLITE_PREFIX

    # Opening a SQLite path that is not there would create an empty store.
    if args.store.startswith(SQLITE_PREFIX):
        path = Path(args.store[len(SQLITE_PREFIX) :])
        if not path.is_file():
            raise CommandError(f"--store {args.store}: no such file; give the store serve uses")
    with _open(args.store) as store:
        info = render_clip(
            store, args.project, args.session, args.start, args.end, args.output, args.fps
        )
    print(
        f"{args.output}: {info.frames} frames of {info.width}x{info.height},"
        f" {info.duration_ms / 1000:g} s, {info.bytes} bytes"
    )
    return 0


class _NoKeys(logging.Filter):
    """Access log lines without ingest keys: public, but a log is no place to collect them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                KEY_IN_QUERY.sub("key=***", a) if isinstance(a, str) else a for a in record.args
            )
        return True


KEY_IN_QUERY = re.compile(r"key=[^&\s]*")


def _check_port(host: str, port: int) -> None:
    """One clear line for a port in use or a host that is not this machine's, before the
    server's own multi-line error."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as e:
        raise CommandError(f"--host {host}: not an address of this machine ({e})") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
        except OSError as e:
            raise CommandError(
                f"--port {port}: cannot listen on {host}:{port} ({e.strerror}); another server"
                " may be using it: choose another with --port"
            ) from None


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.app import Settings, create_app

    _check_port(args.host, args.port)
    store = _open(args.store)
    projects = store.projects() or [ensure_project(store, DEFAULT_PROJECT)]
    base = f"http://{args.host}:{args.port}"
    print(f"replaycheck serve: store {args.store}, viewer {base}/", flush=True)
    for project in projects:
        print(f"  project {project.id}: ingest {base}/ingest?key={project.ingest_key}", flush=True)
    app = create_app(
        store,
        Settings(
            retention_days=args.retention_days,
            secure_cookies=args.secure_cookies,
            signals=not args.no_signals,
        ),
    )
    logging.getLogger("uvicorn.access").addFilter(_NoKeys())
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="info", server_header=False)
    finally:
        store.close()
    return 0
