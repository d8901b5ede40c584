"""The store's public face: its records and the one interface both backends implement."""

from __future__ import annotations

import gzip
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

GZIP_MAGIC = b"\x1f\x8b"


class StoreError(Exception):
    """A store that cannot be opened or used as asked (bad URL, schema newer than this code)."""


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    ingest_key: str
    allowed_origins: tuple[str, ...] = ()


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
    def add_project(self, project: Project) -> None: ...

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
    ) -> bool:
        """Store one request body once per (project, session, page, seq, chunk).

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
    def schema_version(self) -> int: ...

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
