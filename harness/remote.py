"""`replaycheck run --ingest URL`: the recorder posts to a running `replaycheck serve`, and the
stream is read back from its store through the API, so a team verifies fidelity and masking
through the path it deploys (dedupe, chunk joining, storage), not the harness's own ingest.

The URL is the project's ingest URL as `serve` prints it (`http://HOST:PORT/ingest?key=KEY`);
reading needs an API token of a user of that project (`replaycheck user add NAME --token`),
from `--ingest-token` or the REPLAYCHECK_TOKEN environment variable.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from urllib.parse import parse_qs, quote, urlsplit

from harness.server import Batch

TOKEN_ENV = "REPLAYCHECK_TOKEN"
TIMEOUT_S = 60.0


class RemoteError(Exception):
    """The serve URL or token is unusable: one line for the user."""


class RemoteIngest:
    def __init__(self, url: str, token: str | None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise RemoteError(f"--ingest {url!r}: an http(s) URL expected, as `serve` prints it")
        if not parse_qs(parts.query).get("key"):
            raise RemoteError(f"--ingest {url!r}: the URL has no ?key= (the project's ingest key)")
        if not token:
            raise RemoteError(
                f"--ingest needs an API token (--ingest-token or ${TOKEN_ENV}):"
                " `replaycheck user add NAME --token` prints one"
            )
        self.url = url
        self.base = f"{parts.scheme}://{parts.netloc}"
        self._token = token

    def ingest_url(self, session: str) -> str:
        return self.url

    def _get(self, path: str) -> bytes | None:
        request = urllib.request.Request(
            self.base + path, headers={"Authorization": f"Bearer {self._token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S) as answer:
                body: bytes = answer.read()
                return body
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            if e.code == 401:
                raise RemoteError(f"{self.base}: the API token was refused (401)") from None
            raise RemoteError(f"{self.base}{path}: HTTP {e.code}") from None
        except OSError as e:
            raise RemoteError(f"{self.base}: cannot reach the server ({e})") from None

    def check(self) -> None:
        """Fail at the start, not after the first scenario, on a wrong URL or token."""
        self._get("/api/me")

    def batches(self, session: str) -> list[Batch]:
        """The session's batches as the store returns them (each once, chunks joined)."""
        body = self._get(f"/api/sessions/{quote(session, safe='')}/batches")
        if body is None:
            return []
        return [
            Batch(json.dumps(b).encode(), "text/plain", "") for b in json.loads(body)["batches"]
        ]
