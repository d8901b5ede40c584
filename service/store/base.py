"""The store's public face: its records and the one interface both backends implement."""

from __future__ import annotations

import gzip
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.funnels import Funnel
    from service.index import Summary
    from service.segments import Segment
    from service.signals import Rules


def _rules() -> Rules:
    from service.signals import Rules  # here: signals imports the harness, heavy for the store

    return Rules()


GZIP_MAGIC = b"\x1f\x8b"


class StoreError(Exception):
    """A store that cannot be opened or used as asked (bad URL, schema newer than this code)."""


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    ingest_key: str
    allowed_origins: tuple[str, ...] = ()
    # The share of sessions kept: the server enforces a lower rate than a recorder's (the
    # recorder's own rule on the session id, so a visit is kept on all its pages or none).
    sample_rate: float = 1.0
    # Its frustration-signal rules as JSON (service/signals.py Rules; "": the defaults).
    signals: str = ""


@dataclass(frozen=True)
class Batch:
    """One stored request body: a whole batch (chunk 0, last) or one chunk of a batch."""

    page: float
    seq: int
    chunk: int
    last: bool
    body_gz: bytes
    events: int | None
    received_at: datetime

    def text(self) -> str:
        return gzip.decompress(self.body_gz).decode()


@dataclass(frozen=True)
class IndexEntry:
    """What a whole batch adds to its session's index (service/index.py reads it)."""

    format: str  # builtin | rrweb
    summary: Summary
    browser: str | None  # from the request's User-Agent
    # The project's signal rules; None: no signals (serve --no-signals).
    rules: Rules | None = field(default_factory=lambda: _rules())


@dataclass(frozen=True)
class User:
    name: str
    project: str
    password: str  # the KDF's encoded hash (service/auth.py), never the password


@dataclass(frozen=True)
class Login:
    """A signed-in browser (cookie) or an API token: what a request's credential maps to."""

    user: str
    project: str
    csrf: str
    expires: float | None  # Unix seconds; None: an API token, until revoked


@dataclass(frozen=True)
class Marker:
    t: float  # absolute epoch ms
    kind: str  # navigation, click, error, rage_click, checkpoint
    label: str


@dataclass(frozen=True)
class SessionRow:
    """A session as the index has it (the API's SESSION, docs/serve.md)."""

    id: str
    format: str | None
    start: float | None  # epoch ms of the first event
    end: float | None
    active_ms: float
    pages: tuple[str, ...]
    clicks: int
    inputs: int
    errors: int
    rage_clicks: int
    navigations: int
    browser: str | None
    viewport: tuple[int, int] | None
    user_id: str | None
    user_props: dict[str, str | int | float | bool]
    gaps: int
    ended: bool  # the last page said End (a page killed without one ends by timeout in the API)
    last_seen: datetime
    dead_clicks: int = 0
    quick_backs: int = 0
    error_clicks: int = 0

    @property
    def duration_ms(self) -> float:
        return 0.0 if self.start is None or self.end is None else self.end - self.start


SORTS = ("start", "duration", "active", "errors", "clicks")


@dataclass(frozen=True)
class IssueRow:
    """Errors of one fingerprint (service/fingerprint.py): the Errors page's row."""

    fingerprint: str
    kind: str  # error | console | network
    title: str
    frame: str
    path: str
    count: int
    sessions: int
    users: int  # distinct user ids, a session without one counting as one user
    first_ms: float
    last_ms: float
    daily: tuple[int, ...]  # occurrences per day, the last 14 days, today last


@dataclass(frozen=True)
class ErrorRow:
    t: float
    kind: str
    message: str
    stack: str
    url: str
    fingerprint: str


@dataclass(frozen=True)
class Moment:
    """A session at a moment worth opening it at (an error, a signal, a funnel step)."""

    session: SessionRow
    t: float  # absolute epoch ms
    label: str
    detail: str  # an error's stack


@dataclass(frozen=True)
class Ranked:
    kind: str  # a signal kind
    key: str  # a page path or a selector
    count: int
    sessions: int
    example: str  # one signal's label


@dataclass(frozen=True)
class SavedSegment:
    name: str
    definition: Any  # the segment's JSON value
    updated_by: str
    updated_ms: float


@dataclass(frozen=True)
class SessionQuery:
    """The list's filters, all combined with AND (docs/serve.md, QUERY)."""

    url: str | None = None
    error: bool = False
    rage: bool = False
    min_duration: float | None = None
    max_duration: float | None = None
    start_from: float | None = None  # epoch ms
    start_to: float | None = None
    user: str | None = None
    props: tuple[tuple[str, str], ...] = ()
    segment: Segment | None = None  # a segment (service/segments.py), ANDed with the rest
    sort: str = "start"  # one of SORTS
    descending: bool = True
    limit: int = 50
    offset: int = 0


@dataclass(frozen=True)
class SessionSummary:
    id: str
    first_seen: datetime
    last_seen: datetime
    pages: int
    # Distinct (page, seq): the chunks of one batch count once.
    batches: int
    # Seqs missing below their page's highest seq (lost, or not arrived yet).
    gaps: int


def compressed(body: bytes) -> bytes:
    """The body as stored: gzip as received, a plain body compressed here."""
    return body if body[:2] == GZIP_MAGIC else gzip.compress(body, compresslevel=6, mtime=0)


def require_aware(when: datetime) -> None:
    # A naive datetime means local time to one backend and UTC to another: refuse it.
    if when.tzinfo is None or when.utcoffset() is None:
        raise ValueError(f"a timezone-aware datetime is required, got {when!r}")


class Store(ABC):
    """Every session query takes the project: no project reads another's sessions."""

    @abstractmethod
    def add_project(self, project: Project) -> None:
        """Create the project, or update the one with its id."""

    @abstractmethod
    def project(self, project_id: str) -> Project | None: ...

    @abstractmethod
    def project_by_key(self, ingest_key: str) -> Project | None: ...

    @abstractmethod
    def projects(self) -> list[Project]: ...

    @abstractmethod
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
        """Store one request body once per (project, session, page, seq, chunk), and with
        `indexed` (a whole batch) add it to the index in the same transaction.

        `body_gz` is kept as received when it is gzip (magic 1f 8b), compressed when plain.
        True when it was new; False for a repeat (the first body stays). A put that returned
        is committed (durable).
        """

    @abstractmethod
    def batches(self, project: str, session: str) -> list[Batch]:
        """The session's stored bodies in (page, seq, chunk) order; [] for an unknown session."""

    @abstractmethod
    def sessions(self, project: str) -> list[SessionSummary]:
        """The project's sessions, the most recently seen first."""

    @abstractmethod
    def delete_session(self, project: str, session: str) -> bool:
        """Delete a session and its batches; False when the project has no such session."""

    @abstractmethod
    def delete_older_than(self, project: str, days: float, now: datetime) -> int:
        """Delete the project's sessions last seen more than `days` before `now`; their count."""

    @abstractmethod
    def chunks(self, project: str, session: str, page: float, seq: int) -> list[Batch]:
        """The stored chunks of one batch, in chunk order."""

    @abstractmethod
    def index_batch(
        self, project: str, session: str, page: float, seq: int, entry: IndexEntry
    ) -> bool:
        """Add what one whole batch says to its session's index, once per (session, page, seq):
        False for a batch already indexed. Committed when it returns."""

    @abstractmethod
    def unindexed(self) -> list[tuple[str, str, float, int]]:
        """(project, session, page, seq) of batches whose every chunk is stored but that were
        never indexed: a server killed between a chunk's put and its index (repaired at start)."""

    @abstractmethod
    def query_sessions(self, project: str, query: SessionQuery) -> tuple[int, list[SessionRow]]:
        """The total matching and one page of them."""

    @abstractmethod
    def session(self, project: str, session: str) -> SessionRow | None: ...

    @abstractmethod
    def markers(self, project: str, session: str) -> list[Marker]:
        """Navigations, clicks, errors, checkpoints and signals, in time order."""

    # Insights (issue 13; service/store/_insights.py).

    @abstractmethod
    def issues(
        self, project: str, since: float | None = None, kind: str | None = None,
        now_ms: float | None = None, limit: int = 100,
    ) -> list[IssueRow]:  # fmt: skip
        """Error issues, the most frequent first."""

    @abstractmethod
    def issue(self, project: str, fp: str, now_ms: float | None = None) -> IssueRow | None: ...

    @abstractmethod
    def issue_sessions(
        self, project: str, fp: str, limit: int = 50, offset: int = 0
    ) -> tuple[int, list[Moment]]: ...

    @abstractmethod
    def session_errors(self, project: str, session: str) -> list[ErrorRow]: ...

    @abstractmethod
    def actions_before(
        self, project: str, session: str, t: float, n: int = 5
    ) -> list[tuple[float, str, str]]: ...

    @abstractmethod
    def frustration(
        self, project: str, kind: str | None, by: str, since: float | None = None
    ) -> list[Ranked]: ...

    @abstractmethod
    def frustration_sessions(
        self, project: str, kind: str, by: str, key: str, limit: int = 50, offset: int = 0
    ) -> tuple[int, list[Moment]]: ...

    @abstractmethod
    def funnel_facts(self, project: str, funnel: Funnel) -> list[dict[str, list[float]]]: ...

    @abstractmethod
    def session_rows(self, project: str, ids: list[str]) -> dict[str, SessionRow]: ...

    @abstractmethod
    def save_segment(self, project: str, name: str, definition: Any, user: str) -> None: ...

    @abstractmethod
    def saved_segments(self, project: str) -> list[SavedSegment]: ...

    @abstractmethod
    def delete_segment(self, project: str, name: str) -> bool: ...

    @abstractmethod
    def delete_user(self, project: str, user_id: str) -> int:
        """Erase every session identified as `user_id`; their count."""

    # Logins.

    @abstractmethod
    def add_user(self, user: User) -> None:
        """Create or replace the login `user.name`."""

    @abstractmethod
    def user(self, name: str) -> User | None: ...

    @abstractmethod
    def add_login(self, token_hash: str, login: Login) -> None: ...

    @abstractmethod
    def login(self, token_hash: str) -> Login | None: ...

    @abstractmethod
    def delete_login(self, token_hash: str) -> None: ...

    @abstractmethod
    def schema_version(self) -> int: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
