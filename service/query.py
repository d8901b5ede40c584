"""The session list's query string (docs/serve.md, QUERY) read into a `SessionQuery`, or the
one-line reason it is not one (the API answers 400 with it)."""

from __future__ import annotations

import math
from urllib.parse import parse_qs

from service import segments
from service.store.base import SORTS, SessionQuery

MAX_LIMIT = 200
MAX_TEXT = 512  # characters of a filter value
KNOWN = {"url", "error", "rage", "min_duration", "max_duration", "from", "to", "user", "prop",
         "segment", "sort", "limit", "offset"}  # fmt: skip


def _number(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name}={text[:40]!r} is not a number") from None
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name}={text[:40]!r} is not a finite number >= 0")
    return value


def _flag(name: str, text: str) -> bool:
    if text not in ("", "0", "1", "true", "false"):
        raise ValueError(f"{name}={text[:40]!r}: 1 or 0 expected")
    return text in ("1", "true")


def parse(query_string: str) -> SessionQuery | str:
    try:
        return _parse(parse_qs(query_string, keep_blank_values=True))
    except ValueError as e:
        return str(e)


def _parse(params: dict[str, list[str]]) -> SessionQuery:
    unknown = sorted(set(params) - KNOWN)
    if unknown:
        raise ValueError(f"unknown filter {unknown[0][:40]!r}: one of {', '.join(sorted(KNOWN))}")
    for name, values in params.items():
        if name != "prop" and len(values) > 1:
            raise ValueError(f"{name} given {len(values)} times")
        if any(len(v) > (segments.MAX_JSON if name == "segment" else MAX_TEXT) for v in values):
            raise ValueError(f"{name} longer than {MAX_TEXT} characters")

    def one(name: str) -> str | None:
        values = params.get(name)
        return values[0] if values and values[0] != "" else None

    def number(name: str) -> float | None:
        text = one(name)
        return None if text is None else _number(name, text)

    props: list[tuple[str, str]] = []
    for prop in params.get("prop", []):
        key, colon, value = prop.partition(":")
        if not colon or not key:
            raise ValueError(f"prop={prop[:40]!r}: KEY:VALUE expected")
        props.append((key, value))
    segment = None
    if one("segment") is not None:
        try:
            segment = segments.from_url(one("segment") or "")
        except segments.SegmentError as e:
            raise ValueError(str(e)) from None
    sort = one("sort") or "-start"
    descending = sort.startswith("-")
    if sort.removeprefix("-") not in SORTS:
        raise ValueError(f"sort={sort[:40]!r}: one of {', '.join(SORTS)}, '-' for descending")
    limit = number("limit")
    if limit is not None and not (1 <= limit <= MAX_LIMIT and limit == int(limit)):
        raise ValueError(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    offset = number("offset")
    if offset is not None and (offset != int(offset) or offset > 2**31):
        raise ValueError("offset must be a whole number")
    return SessionQuery(
        url=one("url"),
        error=_flag("error", one("error") or ""),
        rage=_flag("rage", one("rage") or ""),
        min_duration=number("min_duration"),
        max_duration=number("max_duration"),
        start_from=number("from"),
        start_to=number("to"),
        user=one("user"),
        props=tuple(props),
        segment=segment,
        sort=sort.removeprefix("-"),
        descending=descending,
        limit=50 if limit is None else int(limit),
        offset=0 if offset is None else int(offset),
    )
