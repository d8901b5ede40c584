"""Logins: passwords through scrypt (stdlib hashlib, RFC 7914), random tokens stored hashed.

A browser signs in with a name and password and gets a session token in an HttpOnly cookie;
scripts (and `replaycheck run --ingest`) use an API token from `replaycheck user add --token`.
The store keeps only SHA-256 of a token: a copy of the database signs nobody in.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time

# scrypt cost: 16 MiB and ~50 ms here per hash (OWASP's minimum is N=2^17 r=8 p=1 at 128 MiB;
# the viewer's few logins a day afford it, but a test suite creating users does not).
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
MAX_PASSWORD = 1024  # characters: hashing a megabyte of password is a denial of service
# A hash the check runs for unknown users, so that timing does not tell which names exist.
_DUMMY = ""


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(
        password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=2**26, dklen=32
    )
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${key.hex()}"


def check_password(password: str, encoded: str | None) -> bool:
    """True when `password` is the one `encoded` was made from; None: an unknown user (the
    same work is done, and False returned)."""
    global _DUMMY
    if encoded is None:
        _DUMMY = _DUMMY or hash_password(secrets.token_hex(8))
        encoded = _DUMMY
    try:
        kind, n, r, p, salt, key = encoded.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode(),
            salt=bytes.fromhex(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            maxmem=2**26,
            dklen=len(key) // 2,
        )
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), key) and encoded is not _DUMMY


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Throttle:
    """At most `limit` failed logins per name in `window` seconds: password guessing gets 429."""

    def __init__(self, limit: int = 10, window: float = 300.0) -> None:
        self.limit, self.window = limit, window
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, name: str, now: float) -> list[float]:
        kept = [t for t in self._failures.get(name, []) if now - t < self.window]
        if kept:
            self._failures[name] = kept
        else:
            self._failures.pop(name, None)
        return kept

    def blocked(self, name: str) -> bool:
        with self._lock:
            return len(self._recent(name, time.monotonic())) >= self.limit

    def failed(self, name: str) -> None:
        with self._lock:
            now = time.monotonic()
            self._failures[name] = [*self._recent(name, now), now]
