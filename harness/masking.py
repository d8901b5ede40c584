"""Masking verdict: which private values a page held, and where any of them reached the stream.

Secrets come from the scenario (`expect.pii`) and from the live page itself: form values the
recorder should mask, text under `mask` selectors, and PII the harness's own detector finds in
text, attributes and the URL. Each is looked for in every event string and in the raw batches,
in the forms a value takes on its way out: as is, JSON-escaped, URL-encoded, HTML-escaped, and
inside base64 runs (decoded, gunzipped when they hold gzip).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import html
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from harness import pii
from harness.scenario import RecorderConfig
from harness.stream import Stream, decode_body

# Shorter undeclared values ("42", "FR") occur by chance in any stream: not evidence of a leak.
MIN_SECRET_LENGTH = 4
BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


@dataclass(frozen=True)
class Sensitive:
    """One piece of live-page content (harness/js/src/sensitive.ts)."""

    path: str
    field: str
    text: str
    input: bool
    password: bool
    masked: bool
    unmasked: bool


@dataclass(frozen=True)
class Secret:
    value: str
    kind: str  # declared | input | password | masked | email | card | phone | iban | ssn
    source: str  # where on the live page it was, e.g. "form > input#email value"


@dataclass(frozen=True)
class Leak:
    value: str
    kind: str
    where: str  # "event 12, data.text" or "batch 3, raw bytes"
    source: str

    def to_json(self) -> dict[str, str]:
        return {"value": self.value, "kind": self.kind, "where": self.where, "source": self.source}


def secrets(
    items: Iterable[Sensitive], declared: Iterable[str], config: RecorderConfig
) -> list[Secret]:
    """What must not reach the stream under `config`, one entry per distinct value."""
    found: dict[str, Secret] = {}

    def add(value: str, kind: str, source: str) -> None:
        value = value.strip()
        if value and value not in found and (kind == "declared" or len(value) >= MIN_SECRET_LENGTH):
            found[value] = Secret(value, kind, source)

    items = list(items)
    for value in declared:
        holder = next((i for i in items if value in i.text), None)
        add(value, "declared", f"{holder.path} {holder.field}" if holder else "expect.pii")
    for item in items:
        source = f"{item.path} {item.field}"
        if item.password:
            add(item.text, "password", source)  # no selector unmasks a password
            continue
        if item.unmasked:
            continue
        if item.input and config.mask_all_inputs:
            add(item.text, "input", source)
        if item.masked or (config.mask_all_text and item.field == "text"):
            add(item.text, "masked", source)
        if config.detect_pii:
            for match in pii.find(item.text):
                add(match.value, match.kind, source)
    return list(found.values())


def encodings(value: str) -> list[str]:
    """The forms a value takes on its way out of a page: as is, escaped, encoded."""
    forms = {
        value,
        json.dumps(value)[1:-1],
        quote(value),
        quote_plus(value),
        html.escape(value),
        html.escape(value, quote=False),
    }
    return sorted(f for f in forms if f)


def _strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
        for run in BASE64_RUN.findall(node):
            decoded = _unbase64(run)
            if decoded:
                yield f"{path} (base64)", decoded
    elif isinstance(node, dict):
        for key, child in node.items():
            yield from _strings(child, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _strings(child, f"{path}[{i}]")


def _unbase64(run: str) -> str | None:
    try:
        data = base64.b64decode(run + "=" * (-len(run) % 4))
    except (binascii.Error, ValueError):
        return None
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            return None
    text = data.decode("utf-8", errors="ignore")
    return text if text.isprintable() or "\n" in text else None


def scan(stream: Stream, found: Iterable[Secret]) -> list[Leak]:
    """Every place each secret occurs: in decoded event strings first (with the event and
    field), else in the raw batches, so a value that hides from the decoded view is caught."""
    leaks: list[Leak] = []
    strings = [
        (index, path, text)
        for index, event in enumerate(stream.events)
        for path, text in _strings(event, "")
    ]
    raw = [(b.body, decode_body(b)) for b in stream.batches]
    for secret in found:
        forms = encodings(secret.value)
        hits = [
            Leak(secret.value, secret.kind, f"event {index}, {path or 'value'}", secret.source)
            for index, path, text in strings
            if any(form in text for form in forms)
        ]
        if not hits:
            needles = [form.encode() for form in forms]
            hits = [
                Leak(secret.value, secret.kind, f"batch {index}, raw bytes", secret.source)
                for index, (body, text) in enumerate(raw)
                if any(n in body or n in text for n in needles)
            ]
        leaks.extend(hits)
    return leaks


def coverage(found: list[Secret], leaks: list[Leak]) -> float:
    """Share of the page's secrets that reached the stream masked everywhere."""
    if not found:
        return 1.0
    leaked = {leak.value for leak in leaks}
    return sum(secret.value not in leaked for secret in found) / len(found)
