"""Segments: filters over sessions combined with AND/OR, read from JSON and compiled to one SQL
condition for either store (docs/serve.md, "Segments"). Pure: no I/O.

A segment is a tree: `{"all": [...]}` (AND) or `{"any": [...]}` (OR) of conditions or of
segments again, at most MAX_DEPTH deep and MAX_CONDITIONS conditions in all. A condition is
`{"field": F, "op": O, "value": V}`:

| field | ops | value |
|---|---|---|
| user | is, is_not, contains, set, unset | text |
| prop | is, is_not, contains, set, unset | text; "key" names the property |
| page | visited, not_visited | URL pattern: * matches any run of characters, else "contains" |
| clicked | selector, text, not_selector | a click's selector (button#buy.primary) or text |
| issue | had, not_had | an issue's fingerprint |
| signal | had, not_had | rage_click, dead_click, quick_back, error_click |
| error | had, not_had | (none): any error of any kind |
| event | had, not_had | a custom event's name (`replaycheckRecord.track`) |
| browser | is, is_not | a name (Chrome) or a name and major version (Chrome 131) |
| viewport | is, is_not | mobile (< 768 px wide), tablet (768-1023), desktop (>= 1024) |
| duration, active | gte, lte | seconds |
| date | gte, lte | epoch ms of the session's start |
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

MAX_DEPTH = 4
MAX_CONDITIONS = 30
MAX_VALUE = 512
MAX_JSON = 16_384  # characters of a segment's JSON (a URL carries it)
SIGNALS = ("rage_click", "dead_click", "quick_back", "error_click")
VIEWPORTS = {"mobile": (0, 767), "tablet": (768, 1023), "desktop": (1024, 1_000_000)}
TEXT_OPS = ("is", "is_not", "contains", "set", "unset")
FIELDS: dict[str, tuple[str, ...]] = {
    "user": TEXT_OPS,
    "prop": TEXT_OPS,
    "page": ("visited", "not_visited"),
    "clicked": ("selector", "text", "not_selector"),
    "issue": ("had", "not_had"),
    "signal": ("had", "not_had"),
    "error": ("had", "not_had"),
    "event": ("had", "not_had"),
    "browser": ("is", "is_not"),
    "viewport": ("is", "is_not"),
    "duration": ("gte", "lte"),
    "active": ("gte", "lte"),
    "date": ("gte", "lte"),
}
NO_VALUE = {("error", "had"), ("error", "not_had"), ("user", "set"), ("user", "unset"),
            ("prop", "set"), ("prop", "unset")}  # fmt: skip


class SegmentError(ValueError):
    """A segment that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: str | float | None
    key: str | None = None  # prop's


@dataclass(frozen=True)
class Group:
    any: bool  # OR when true, else AND
    parts: tuple[Condition | Group, ...]


Segment = Group


def parse(raw: object) -> Segment:
    """A segment from its JSON value (already decoded); SegmentError says what is wrong."""
    count = [0]
    return _group(raw, "segment", 1, count)


def loads(text: str) -> Segment:
    if len(text) > MAX_JSON:
        raise SegmentError(f"segment: over {MAX_JSON} characters")
    try:
        raw = json.loads(text)
    except ValueError as e:
        raise SegmentError(f"segment: not JSON ({e})") from None
    return parse(raw)


def from_url(text: str) -> Segment:
    """The `segment=` query value: the JSON, or its base64url form (what the viewer's share
    links carry)."""
    text = text.strip()
    if text.startswith("{"):
        return loads(text)
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        raise SegmentError("segment: neither JSON nor base64url JSON") from None
    return loads(decoded)


def to_json(segment: Segment) -> Any:
    def node(n: Condition | Group) -> Any:
        if isinstance(n, Group):
            return {("any" if n.any else "all"): [node(p) for p in n.parts]}
        out: dict[str, Any] = {"field": n.field, "op": n.op}
        if n.value is not None:
            out["value"] = n.value
        if n.key is not None:
            out["key"] = n.key
        return out

    return node(segment)


def _group(raw: object, where: str, depth: int, count: list[int]) -> Group:
    if depth > MAX_DEPTH:
        raise SegmentError(f"{where}: nested deeper than {MAX_DEPTH}")
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in ("all", "any"):
        raise SegmentError(f'{where}: {{"all": [...]}} or {{"any": [...]}} expected')
    (kind, parts), = raw.items()  # fmt: skip
    if not isinstance(parts, list):
        raise SegmentError(f"{where}.{kind}: a list expected")
    out: list[Condition | Group] = []
    for i, part in enumerate(parts):
        here = f"{where}.{kind}[{i}]"
        if isinstance(part, dict) and ("all" in part or "any" in part):
            out.append(_group(part, here, depth + 1, count))
        else:
            count[0] += 1
            if count[0] > MAX_CONDITIONS:
                raise SegmentError(f"segment: more than {MAX_CONDITIONS} conditions")
            out.append(_condition(part, here))
    return Group(kind == "any", tuple(out))


def _condition(raw: object, where: str) -> Condition:
    if not isinstance(raw, dict):
        raise SegmentError(f"{where}: a condition {{field, op, value}} expected")
    unknown = sorted(set(raw) - {"field", "op", "value", "key"})
    if unknown:
        raise SegmentError(f"{where}: unknown key {unknown[0][:40]!r}")
    field, op, value, key = raw.get("field"), raw.get("op"), raw.get("value"), raw.get("key")
    if field not in FIELDS:
        raise SegmentError(f"{where}: field {str(field)[:40]!r}: one of {', '.join(FIELDS)}")
    assert isinstance(field, str)
    if op not in FIELDS[field]:
        raise SegmentError(
            f"{where}: {field} op {str(op)[:40]!r}: one of {', '.join(FIELDS[field])}"
        )
    assert isinstance(op, str)
    if field == "prop":
        if not isinstance(key, str) or not key or len(key) > 64:
            raise SegmentError(f"{where}: prop needs a key (1 to 64 characters)")
    elif key is not None:
        raise SegmentError(f"{where}: only prop takes a key")
    if (field, op) in NO_VALUE:
        return Condition(field, op, None, key)
    if field in ("duration", "active", "date"):
        if not isinstance(value, int | float) or isinstance(value, bool) or not value >= 0:
            raise SegmentError(f"{where}: {field} needs a number >= 0")
        if value > 1e15:
            raise SegmentError(f"{where}: {field} out of range")
        return Condition(field, op, float(value), key)
    if not isinstance(value, str) or not value or len(value) > MAX_VALUE:
        raise SegmentError(f"{where}: {field} needs a text value (1 to {MAX_VALUE} characters)")
    if field == "signal" and value not in SIGNALS:
        raise SegmentError(f"{where}: signal {value[:40]!r}: one of {', '.join(SIGNALS)}")
    if field == "viewport" and value not in VIEWPORTS:
        raise SegmentError(f"{where}: viewport {value[:40]!r}: one of {', '.join(VIEWPORTS)}")
    return Condition(field, op, value, key)


# SQL: a condition over the sessions row `s`, with `?` placeholders (both stores' _sql turns
# them into their own).


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def url_pattern(pattern: str) -> str:
    """A URL pattern as a LIKE pattern: * any run of characters; without a *, "contains"."""
    if "*" not in pattern:
        return f"%{escape_like(pattern)}%"
    return "%".join(escape_like(p) for p in pattern.split("*"))


def sql(segment: Segment) -> tuple[str, list[Any]]:
    """`segment` as one SQL condition over `s` (sessions) and its parameters."""
    params: list[Any] = []
    text = _sql_node(segment, params)
    return text, params


def _sql_node(node: Condition | Group, params: list[Any]) -> str:
    if isinstance(node, Group):
        if not node.parts:
            return "1=1" if not node.any else "1=0"
        joined = (" OR " if node.any else " AND ").join(_sql_node(p, params) for p in node.parts)
        return f"({joined})"
    return _sql_condition(node, params)


def _exists(table: str, where: str) -> str:
    same = "x.project = s.project AND x.session = s.id"
    return f"EXISTS (SELECT 1 FROM {table} x WHERE {same} AND {where})"


def _sql_condition(c: Condition, params: list[Any]) -> str:
    f, op, v = c.field, c.op, c.value
    negate = op.startswith("not_") or op in ("is_not", "unset")
    if f == "user":
        if op in ("set", "unset"):
            return "s.user_id IS NOT NULL" if op == "set" else "s.user_id IS NULL"
        if op == "contains":
            params.append(f"%{escape_like(str(v).lower())}%")
            return "LOWER(COALESCE(s.user_id, '')) LIKE ? ESCAPE '\\'"
        params.append(v)
        return "s.user_id = ?" if op == "is" else "(s.user_id IS NULL OR s.user_id <> ?)"
    if f == "prop":
        params.append(c.key)
        if op in ("set", "unset"):
            inner = _exists("session_props", "x.key = ?")
        elif op == "contains":
            params.append(f"%{escape_like(str(v).lower())}%")
            inner = _exists("session_props", "x.key = ? AND LOWER(x.value) LIKE ? ESCAPE '\\'")
        else:
            params.append(v)
            inner = _exists("session_props", "x.key = ? AND x.value = ?")
        return f"NOT {inner}" if negate else inner
    if f == "page":
        params.append(url_pattern(str(v)).lower())
        inner = _exists("session_pages", "LOWER(x.url) LIKE ? ESCAPE '\\'")
        return f"NOT {inner}" if negate else inner
    if f == "clicked":
        if op == "text":
            params.append(f"%{escape_like(str(v).lower())}%")
            return _exists("session_clicks", "LOWER(x.label) LIKE ? ESCAPE '\\'")
        params.append(v)
        inner = _exists("session_clicks", "x.selector = ?")
        return f"NOT {inner}" if negate else inner
    if f in ("issue", "signal", "event", "error"):
        table, column = {
            "issue": ("session_errors", "x.fingerprint = ?"),
            "signal": ("session_signals", "x.kind = ?"),
            "event": ("session_events", "x.name = ?"),
            "error": ("session_errors", "1=1"),
        }[f]
        if f != "error":
            params.append(v)
        inner = _exists(table, column)
        if f == "error":  # uncaught errors are counted on the row too (older sessions)
            inner = f"(s.errors > 0 OR {inner})"
        return f"NOT {inner}" if negate else inner
    if f == "browser":
        text = str(v)
        params.extend([text, f"{escape_like(text)} %"])
        inner = "(s.browser = ? OR s.browser LIKE ? ESCAPE '\\')"
        return f"NOT COALESCE({inner}, 1=0)" if negate else inner
    if f == "viewport":
        low, high = VIEWPORTS[str(v)]
        params.extend([low, high])
        inner = "(s.vw IS NOT NULL AND s.vw >= ? AND s.vw <= ?)"
        return f"NOT {inner}" if negate else inner
    assert isinstance(v, float)
    column = {
        "duration": "COALESCE(s.end_ms - s.start_ms, 0)",
        "active": "s.active_ms",
        "date": "COALESCE(s.start_ms, 0)",
    }[f]
    params.append(v * 1000 if f in ("duration", "active") else v)
    return f"{column} {'>=' if op == 'gte' else '<='} ?"
