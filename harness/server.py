"""The local HTTP server: scenario pages, harness assets, and the recorder ingest endpoint."""

from __future__ import annotations

import mimetypes
import re
import socket
import struct
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from harness.scenario import FaultRule

INGEST_PREFIX = "/__ingest/"
ASSET_PREFIX = "/__rc/"
MOUNT_PREFIX = "/m"


@dataclass(frozen=True)
class Batch:
    """One request body as the recorder sent it: bytes on the wire plus how they were encoded."""

    body: bytes
    content_type: str
    content_encoding: str


@dataclass(frozen=True)
class Attempt:
    """One request to a session's ingest, as the fault-injecting ingest handled it."""

    index: int  # 0-based over the session's requests
    t_ms: float  # since the session's fault clock started (set_faults' t0)
    action: str  # "204" when no rule matched, else FaultRule.action


@dataclass
class _Faults:
    rules: tuple[FaultRule, ...]
    t0: float  # time.monotonic() when the scenario's first page load started
    attempts: list[Attempt]
    in_flight: int = 0  # requests being handled (a hang holds one)


class Server:
    """A threaded server on 127.0.0.1: folders mounted under /m<N>/, named assets under /__rc/."""

    def __init__(self, log_requests: bool = False) -> None:
        # With log_requests, "METHOD path" of every request answered (an attacker origin in tests).
        self._requests: list[str] | None = [] if log_requests else None
        self._cookies: dict[str, str | None] = {}  # path -> Cookie header, with log_requests
        self._mounts: dict[tuple[Path, str | None], str] = {}
        self._assets: dict[str, tuple[bytes, str, dict[str, str]]] = {}
        self._batches: dict[str, list[Batch]] = defaultdict(list)
        self._faults: dict[str, _Faults] = {}
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()

    @property
    def origin(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def requests(self) -> list[str]:
        """Every request answered so far, as "METHOD path" (a server made with log_requests)."""
        with self._lock:
            return list(self._requests or [])

    def cookie_sent(self, path: str) -> str | None:
        """The Cookie header of the last request for `path` (a server made with log_requests)."""
        with self._lock:
            return self._cookies.get(path)

    # Static pages -----------------------------------------------------------------------------

    def mount(self, folder: Path, head_html: str | None = None) -> str:
        """Serve `folder`; returns its URL prefix (one per folder and markup).

        With `head_html` (e.g. a script tag), every HTML page served from this prefix has it
        first thing in its <head>: a recorder installed the way a site installs it.
        """
        key = (folder.resolve(), head_html)
        with self._lock:
            if key not in self._mounts:
                self._mounts[key] = f"{MOUNT_PREFIX}{len(self._mounts)}/"
            return self.origin + self._mounts[key]

    def url_for(self, page: Path, root: Path, head_html: str | None = None) -> str:
        """URL of `page` served from the mount of `root` (page must be inside root)."""
        relative = page.resolve().relative_to(root.resolve())
        return self.mount(root, head_html) + relative.as_posix()

    def _resolve_mount(self, path: str) -> tuple[Path, str | None] | None:
        with self._lock:
            mounts = list(self._mounts.items())
        for (folder, head_html), prefix in mounts:
            if path.startswith(prefix):
                target = (folder / unquote(path[len(prefix) :])).resolve()
                if target.is_relative_to(folder):
                    return (target / "index.html" if target.is_dir() else target), head_html
        return None

    # Harness assets ---------------------------------------------------------------------------

    def add_asset(
        self,
        name: str,
        body: bytes | str,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> str:
        """Serve `body` at /__rc/<name> (with `headers`); returns the absolute URL."""
        data = body.encode() if isinstance(body, str) else body
        with self._lock:
            self._assets[name] = (data, content_type, headers or {})
        return f"{self.origin}{ASSET_PREFIX}{name}"

    # Ingest -----------------------------------------------------------------------------------

    def ingest_url(self, session: str) -> str:
        return f"{self.origin}{INGEST_PREFIX}{session}"

    def batches(self, session: str) -> list[Batch]:
        """Everything ingested for `session`, in arrival order."""
        with self._lock:
            return list(self._batches.get(session, []))

    def _ingest(self, session: str, batch: Batch) -> None:
        with self._lock:
            self._batches[session].append(batch)

    def set_faults(self, session: str, rules: tuple[FaultRule, ...], t0: float) -> None:
        """From now on, requests to `session`'s ingest meet `rules` (the first that matches
        wins); `t0` (time.monotonic()) is when their `from_ms` counts from."""
        with self._lock:
            self._faults[session] = _Faults(rules, t0, [])

    def clear_faults(self, session: str) -> None:
        with self._lock:
            self._faults.pop(session, None)

    def attempts(self, session: str) -> list[Attempt]:
        """Every request to `session`'s ingest since set_faults, in arrival order."""
        with self._lock:
            faults = self._faults.get(session)
            return list(faults.attempts) if faults else []

    def faults_over(self, session: str) -> bool:
        """Whether no rule of `session` can take a request any more."""
        with self._lock:
            faults = self._faults.get(session)
            if faults is None:
                return True
            elapsed_ms = (time.monotonic() - faults.t0) * 1000
            return all(r.over(len(faults.attempts), elapsed_ms) for r in faults.rules)

    def in_flight(self, session: str) -> int:
        """Requests to `session`'s faulty ingest not yet answered or closed."""
        with self._lock:
            faults = self._faults.get(session)
            return faults.in_flight if faults else 0

    def _settled(self, session: str) -> None:
        with self._lock:
            faults = self._faults.get(session)
            if faults is not None:
                faults.in_flight -= 1

    def _fault_for(self, session: str) -> FaultRule | None:
        """The rule this request meets, logging the attempt; None: store it and answer 204."""
        with self._lock:
            faults = self._faults.get(session)
            if faults is None:
                return None
            index, t_ms = len(faults.attempts), (time.monotonic() - faults.t0) * 1000
            rule = next((r for r in faults.rules if r.matches(index, t_ms)), None)
            action = "204" if rule is None else rule.action
            faults.attempts.append(Attempt(index, round(t_ms, 1), action))
            faults.in_flight += 1
            return rule

    @property
    def _faulty(self) -> bool:
        with self._lock:
            return bool(self._faults)


class _QuietServer(ThreadingHTTPServer):
    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        # A browser that closes a page or context mid-response is no error of ours (nor its
        # traceback the user's business); anything else still is.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler_for(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass  # A fidelity run serves hundreds of requests; the report says what matters.

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            if server._requests is not None:
                with server._lock:
                    server._requests.append(f"{self.command} {self.path}")
                    server._cookies[self.path] = self.headers.get("Cookie")

        def _send(
            self,
            status: int,
            body: bytes,
            content_type: str = "text/plain",
            headers: dict[str, str] | None = None,
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            # The recorder posts from whatever origin it records, including real sites.
            self.send_header("Access-Control-Allow-Origin", "*")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            if server._faulty:
                # Chromium silently re-sends a request whose reused connection closed with no
                # answer: while faults are injected no connection is reused, so every attempt
                # the ingest counts is one the page made.
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_OPTIONS(self) -> None:
            self.send_response(HTTPStatus.NO_CONTENT)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "Content-Type, Content-Encoding")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            session = path[len(INGEST_PREFIX) :] if path.startswith(INGEST_PREFIX) else None
            if session is None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._send(HTTPStatus.NOT_FOUND, b"not found")
                return
            rule = server._fault_for(session)
            try:
                self._answer(session, rule)
            finally:
                server._settled(session)

        def _answer(self, session: str, rule: FaultRule | None) -> None:
            if rule is not None and rule.refuse:
                # An RST before reading the body: to the page, a network failure like a refused
                # connection (it had to connect to send the request line the session is in).
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                # Closed here: the server's own shutdown(SHUT_WR) would send a FIN first.
                self.connection.close()
                self.close_connection = True
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if len(body) < length:
                # The client went away mid-body (a page unloading): nothing was delivered.
                self.close_connection = True
                return
            if rule is not None and rule.hang_ms is not None:
                time.sleep(rule.hang_ms / 1000)
            if rule is not None and rule.status is None:  # hang or drop: no answer at all
                self.close_connection = True
                return
            if rule is None or rule.store:
                batch = Batch(
                    body,
                    self.headers.get("Content-Type", ""),
                    self.headers.get("Content-Encoding", ""),
                )
                server._ingest(session, batch)
            headers = {"Access-Control-Expose-Headers": "Retry-After"}
            if rule is not None and rule.retry_after is not None:
                headers["Retry-After"] = str(rule.retry_after)
            status = HTTPStatus.NO_CONTENT if rule is None or rule.status is None else rule.status
            self._send(status, b"", headers=headers)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path.startswith(ASSET_PREFIX):
                with server._lock:
                    asset = server._assets.get(path[len(ASSET_PREFIX) :])
                if asset is None:
                    self._send(HTTPStatus.NOT_FOUND, b"no such asset")
                else:
                    body, content_type, headers = asset
                    self._send(HTTPStatus.OK, body, content_type, headers)
                return
            resolved = server._resolve_mount(path)
            if resolved is None or not resolved[0].is_file():
                self._send(HTTPStatus.NOT_FOUND, b"not found")
                return
            target, head_html = resolved
            content_type = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
            body = target.read_bytes()
            if head_html and content_type == "text/html":
                body = _with_head_html(body, head_html)
            if content_type.startswith("text/") or content_type.endswith("javascript"):
                content_type += "; charset=utf-8"
            self._send(HTTPStatus.OK, body, content_type)

        do_HEAD = do_GET

    return Handler


_HEAD = re.compile(rb"<head(\s[^>]*)?>", re.IGNORECASE)


def _with_head_html(html: bytes, markup: str) -> bytes:
    """`html` with `markup` first in its head, or first of all if it has none."""
    match = _HEAD.search(html)
    at = match.end() if match else 0
    return html[:at] + markup.encode() + html[at:]


def script_tag(src: str) -> str:
    """A classic (parser-blocking) script tag loading `src`."""
    return f'<script src="{src}"></script>'
