"""Leak scan: does a declared PII value appear anywhere in the captured stream?"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

from harness.stream import Stream, decode_body


@dataclass(frozen=True)
class Leak:
    value: str
    where: str  # "event 12, data.text" or "batch 3, raw bytes"

    def to_json(self) -> dict[str, str]:
        return {"value": self.value, "where": self.where}


def encodings(value: str) -> list[str]:
    """The forms a value takes on its way out of a page: as is, escaped, encoded."""
    forms = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        quote(value),
        quote_plus(value),
        html.escape(value),
        base64.b64encode(value.encode()).decode().rstrip("="),
    }
    return sorted(f for f in forms if f)


def _strings(node: Any, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, str):
        yield path, node
    elif isinstance(node, dict):
        for key, child in node.items():
            yield from _strings(child, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _strings(child, f"{path}[{i}]")


def scan(stream: Stream, values: tuple[str, ...]) -> list[Leak]:
    """Every place each value (in any of its encodings) occurs: decoded events first, then the
    raw batches, so a value that hides from the decoded view is still caught."""
    leaks: list[Leak] = []
    for value in values:
        forms = encodings(value)
        found = [
            Leak(value, f"event {index}, {path}")
            for index, event in enumerate(stream.events)
            for path, text in _strings(event, "")
            if any(form in text for form in forms)
        ]
        if not found:
            needles = [form.encode() for form in forms]
            found = [
                Leak(value, f"batch {index}, raw bytes")
                for index, batch in enumerate(stream.batches)
                if any(n in batch.body or n in decode_body(batch) for n in needles)
            ]
        leaks.extend(found)
    return leaks


def coverage(values: tuple[str, ...], leaks: list[Leak]) -> float:
    """Share of declared PII values that reached the stream masked everywhere."""
    if not values:
        return 1.0
    leaked = {leak.value for leak in leaks}
    return (len(values) - len(leaked)) / len(values)
