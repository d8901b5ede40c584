"""A real `replaycheck serve` for tests: the CLI creates a user and a token, the server runs as
its own process (so a test can kill -9 it) on a free port, and scenarios record into it
through its ingest (harness/remote.py)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from harness.remote import RemoteIngest
from harness.runner import ScenarioResult, run_scenario
from harness.scenario import load_scenario
from harness.worker import Worker
from tests.pg import free_port, fresh_database

ROOT = Path(__file__).parents[1]
REPLAYCHECK = [sys.executable, "-m", "harness.cli"]
PASSWORD = "correct horse battery"
START_TIMEOUT_S = 30.0


@dataclass
class Running:
    base: str  # http://127.0.0.1:PORT
    store_url: str
    project: str
    key: str  # the project's ingest key
    user: str
    password: str
    token: str  # an API token of `user`
    process: subprocess.Popen[str]
    log: Path

    @property
    def ingest_url(self) -> str:
        return f"{self.base}/ingest?key={self.key}"

    def ingest(self, batch: dict[str, Any]) -> int:
        """POST one batch as the recorder does (JSON, text/plain): the status."""
        request = urllib.request.Request(
            self.ingest_url, json.dumps(batch).encode(), {"Content-Type": "text/plain"}
        )
        with urllib.request.urlopen(request, timeout=30) as answer:
            return int(answer.status)

    def remote(self) -> RemoteIngest:
        return RemoteIngest(self.ingest_url, self.token)

    def api(
        self, path: str, method: str = "GET", token: str | None = None, body: Any = None
    ) -> tuple[int, Any]:
        """An API request with the token (or `token`), `body` sent as JSON: status and the JSON
        answer."""
        request = urllib.request.Request(
            self.base + path,
            method=method,
            headers={"Authorization": f"Bearer {token or self.token}",
                     "Content-Type": "application/json"},
            data=None if body is None else json.dumps(body).encode(),
        )  # fmt: skip
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                body = answer.read()
                return answer.status, json.loads(body) if body else None
        except urllib.error.HTTPError as e:
            body = e.read()
            return e.code, json.loads(body) if body.startswith(b"{") else body.decode()


def cli(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*REPLAYCHECK, *args], input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=120
    )


def add_user(store_url: str, name: str, project: str) -> tuple[str, str]:
    """(ingest key, API token) of a new user of `project`."""
    done = cli("user", "add", name, "--project", project, "--store", store_url,
               "--password-stdin", "--token", stdin=PASSWORD + "\n")  # fmt: skip
    assert done.returncode == 0, done.stderr
    key = re.search(r"ingest key of \S+: (\S+)", done.stdout)
    token = re.search(r"API token: (\S+)", done.stdout)
    assert key and token, done.stdout
    return key.group(1), token.group(1)


def start(store_url: str, log: Path, args: Sequence[str] = ()) -> tuple[subprocess.Popen[str], str]:
    port = free_port()
    out = log.open("a")
    process = subprocess.Popen(
        [*REPLAYCHECK, "serve", "--store", store_url, "--port", str(port), *args],
        cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    out.close()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT_S
    while True:
        try:
            urllib.request.urlopen(base + "/api/me", timeout=2)
        except urllib.error.HTTPError:
            return process, base  # answering (401): up
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"serve did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.1)


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def running_server(
    tmp: Path, store_url: str | None = None, project: str = "default", args: Sequence[str] = ()
) -> Iterator[Running]:
    url = store_url or f"sqlite:///{tmp / 'rc.db'}"
    key, token = add_user(url, "ada", project)
    log = tmp / "serve.log"
    process, base = start(url, log, args)
    try:
        yield Running(base, url, project, key, "ada", PASSWORD, token, process, log)
    finally:
        stop(process)


def record_scenario(
    worker: Worker, server: Running, scenario: Path, recorder: str = "builtin"
) -> tuple[ScenarioResult, str]:
    """Run `scenario` with its batches going through `server`'s ingest: the result, and the id
    of the session it recorded (the newest in the project)."""
    before = {s["id"] for s in server.api("/api/sessions?limit=200")[1]["sessions"]}
    result = run_scenario(
        worker.browser, worker.server, load_scenario(scenario), recorder, None, server.remote()
    )
    after = [s["id"] for s in server.api("/api/sessions?limit=200")[1]["sessions"]]
    new = [s for s in after if s not in before]
    assert len(new) == 1, f"{len(new)} new sessions after {scenario}"
    return result, new[0]


def store_param(request: pytest.FixtureRequest) -> str | None:
    """The store of a fixture parametrized ["sqlite", "postgresql"]: None (running_server's
    own SQLite file) or a fresh database on the session's PostgreSQL server."""
    if request.param == "postgresql":
        return fresh_database(request.getfixturevalue("postgresql_server"))
    return None
