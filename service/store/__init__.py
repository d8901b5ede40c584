"""The session store: one small interface (`Store`), SQLite embedded or PostgreSQL by URL."""

from __future__ import annotations

from service.store.base import (
    Batch,
    Project,
    SessionSummary,
    Store,
    StoreError,
    compressed,
)

__all__ = [
    "Batch",
    "Project",
    "SessionSummary",
    "Store",
    "StoreError",
    "compressed",
    "open_store",
]

SQLITE_PREFIX = "sqlite:///"


def open_store(url: str) -> Store:
    """`sqlite:///PATH` (relative, or absolute as sqlite:////abs/path) or `postgresql://...`."""
    # Backends import lazily: the SQLite default never needs psycopg loaded.
    if url.startswith(SQLITE_PREFIX) and len(url) > len(SQLITE_PREFIX):
        from service.store.sqlite import SqliteStore

        return SqliteStore(url[len(SQLITE_PREFIX) :])
    if url.startswith(("postgresql://", "postgres://")):
        from service.store.postgres import PostgresStore

        return PostgresStore(url)
    raise StoreError(
        f"unknown store URL {url!r}: use sqlite:///PATH or postgresql://USER@HOST:PORT/DB"
    )
