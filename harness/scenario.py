"""Scenario YAML, format version 1: load, validate, normalize, and describe as JSON Schema.

Files are read through yaml.compose() nodes rather than yaml.safe_load() so that every error can
name the file and line of the key or value at fault. One table per block (_SCENARIO, _STEPS and
the blocks they use) drives both validation and json_schema(), so the two cannot drift apart.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import operator
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeAlias
from urllib.parse import urlsplit

import phonenumbers
import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

__all__ = [
    "EVENT_KINDS",
    "MEDIA_BLOCK",
    "PRIVACY_PRESETS",
    "STEP_KINDS",
    "EventExpectation",
    "Expect",
    "FaultRule",
    "OverheadConfig",
    "PageRef",
    "RecorderConfig",
    "Scenario",
    "ScenarioError",
    "Shard",
    "Step",
    "Viewport",
    "json_schema",
    "load_paths",
    "load_scenario",
    "split_suffix",
]

STEP_KINDS: tuple[str, ...] = (
    "goto",
    "click",
    "dblclick",
    "fill",
    "type",
    "press",
    "select",
    "check",
    "uncheck",
    "hover",
    "scroll",
    "mouse",
    "wait",
    "wait_for",
    "eval",
    "back",
    "reload",
    "offline",
    "checkpoint",
    "close",
)
EVENT_KINDS: tuple[str, ...] = (
    "click",
    "dblclick",
    "input",
    "scroll",
    "mouse_move",
    "navigation",
    "error",
    "rage_click",
)


class ScenarioError(Exception):
    """Bad input. str(e) is ONE line: "<file>:<line>: <what is wrong and what to do>".

    ":<line>" is left out when the line is unknown. `file` is the path as the caller gave it.
    """

    def __init__(self, file: Path | str, line: int | None, message: str) -> None:
        # The same three arguments go to Exception so that the error survives pickling.
        super().__init__(file, line, message)
        self.file = Path(file)
        self.line = line
        # Callers print this as one line, whatever YAML or the OS put into it.
        self.message = " ".join(message.splitlines())

    def __str__(self) -> str:
        where = str(self.file) if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Viewport:
    width: int = 1280
    height: int = 720


@dataclass(frozen=True)
class PageRef:
    """A page of the scenario's own folder, and the ?query#fragment it is opened with (part of
    the URL the recorder sees, so part of what the masking verdict checks)."""

    file: Path  # absolute, exists
    suffix: str = ""  # "?tab=2#billing", "#top" or ""

    def __str__(self) -> str:
        return f"{self.file}{self.suffix}"


@dataclass(frozen=True)
class RecorderConfig:
    """The SPEC `recorder:` block: privacy and capture options, the same for every adapter."""

    mask_all_inputs: bool = True
    mask_all_text: bool = False
    detect_pii: bool = True
    mask: tuple[str, ...] = ()
    unmask: tuple[str, ...] = ()
    block: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    sample_rate: float = 1.0
    options: Mapping[str, Any] = field(default_factory=dict)
    # The preset the other keys started from (PRIVACY_PRESETS); after the SPEC keys, so
    # positional use holds.
    privacy: str = "balanced"
    # The region of national phone formats in PII detection (harness/pii.py); None: the page's
    # <html lang> region, else US.
    pii_region: str | None = None

    def __post_init__(self) -> None:
        if self.privacy not in PRIVACY_PRESETS:
            raise ValueError(f"privacy must be one of {', '.join(PRIVACY_PRESETS)}")

    @classmethod
    def preset(cls, privacy: str, **keys: Any) -> RecorderConfig:
        """The `privacy` preset refined by explicit `keys`, as the scenario loader reads them:
        an explicit boolean replaces the preset's (under strict it may not turn masking off),
        explicit selectors add to the preset's (strict's media `block` stays)."""
        if privacy not in PRIVACY_PRESETS:
            raise ValueError(f"privacy must be one of {', '.join(PRIVACY_PRESETS)}")
        preset = PRIVACY_PRESETS[privacy]
        values: dict[str, Any] = {}
        for name, default in preset.items():
            given = keys.pop(name, None)
            if isinstance(default, tuple):
                values[name] = tuple(dict.fromkeys((*default, *(given or ()))))
            elif given is None:
                values[name] = default
            elif privacy == "strict" and default is True and given is False:
                raise ValueError(f"privacy: strict masks everything; {name} cannot be false")
            else:
                values[name] = given
        return cls(**values, **keys, privacy=privacy)

    @property
    def strict(self) -> bool:
        return self.privacy == "strict"


# What strict blocks: what draws pixels no text mask covers (Sentry's blockAllMedia list, plus
# canvas and frames). CSS background images are not elements: strict does not promise them.
MEDIA_BLOCK: tuple[str, ...] = (
    "img",
    "picture",
    "svg",
    "video",
    "audio",
    "canvas",
    "iframe",
    "frame",
    "object",
    "embed",
    "input[type=image]",
)

# The defaults each preset gives the privacy keys (the scenario's explicit keys refine them):
# strict masks all text and every field and blocks media, like Sentry's defaults; balanced is
# the SPEC's default (fields masked, PII detected in text and attributes); relaxed masks
# passwords (always masked) and detected PII only.
_BALANCED: dict[str, Any] = {
    "mask_all_inputs": True,
    "mask_all_text": False,
    "detect_pii": True,
    "mask": (),
    "unmask": (),
    "block": (),
    "ignore": (),
}
PRIVACY_PRESETS: dict[str, dict[str, Any]] = {
    "strict": {**_BALANCED, "mask_all_text": True, "block": MEDIA_BLOCK},
    "balanced": _BALANCED,
    "relaxed": {**_BALANCED, "mask_all_inputs": False},
}


@dataclass(frozen=True)
class Step:
    kind: str
    args: Mapping[str, Any]
    line: int


_COMPARISONS: dict[str, Callable[[int, int], bool]] = {
    "==": operator.eq,
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}


@dataclass(frozen=True)
class EventExpectation:
    op: str  # one of "==", ">=", "<=", ">", "<"
    count: int

    def satisfied_by(self, n: int) -> bool:
        return _COMPARISONS[self.op](n, self.count)

    def __str__(self) -> str:
        return str(self.count) if self.op == "==" else f"{self.op}{self.count}"


@dataclass(frozen=True)
class Expect:
    pixel_mismatch_max: float = 0.001
    dom_similarity_min: float = 0.99
    pii: tuple[str, ...] = ()
    events: Mapping[str, EventExpectation] = field(default_factory=dict)
    max_stream_bytes: int | None = None
    # Delivery under ingest faults: lost events (marked by the recorder) and duplicates allowed.
    lost: EventExpectation = EventExpectation("==", 0)
    duplicates: EventExpectation = EventExpectation("==", 0)


@dataclass(frozen=True)
class FaultRule:
    """One `ingest_faults:` rule: which of a session's ingest requests it takes (by attempt
    index, 0-based over every request the server saw, and by time since the first page load
    started; both when both are given) and what the server does with them."""

    start: int = 0  # `from`
    count: int | None = None  # None: every attempt from `start` on
    from_ms: float = 0.0
    for_ms: float | None = None  # None: from `from_ms` on, for good
    status: int | None = None
    retry_after: int | None = None  # seconds, sent as Retry-After with `status`
    store: bool = False  # keep the batch, answer `status` all the same
    hang_ms: int | None = None  # hold the request, then close without an answer
    drop: bool = False  # read the request, close without an answer
    refuse: bool = False  # close at once, unread

    def matches(self, index: int, elapsed_ms: float) -> bool:
        return (
            index >= self.start
            and (self.count is None or index < self.start + self.count)
            and elapsed_ms >= self.from_ms
            and (self.for_ms is None or elapsed_ms < self.from_ms + self.for_ms)
        )

    def over(self, attempts: int, elapsed_ms: float) -> bool:
        """Whether no later request can match: its attempts or its time window are used up."""
        return (self.count is not None and attempts >= self.start + self.count) or (
            self.for_ms is not None and elapsed_ms >= self.from_ms + self.for_ms
        )

    @property
    def action(self) -> str:
        """The action in words, as the attempt log and the report show it."""
        if self.refuse:
            return "refuse"
        if self.drop:
            return "drop"
        if self.hang_ms is not None:
            return f"hang {self.hang_ms} ms"
        after = f" retry-after {self.retry_after}" if self.retry_after is not None else ""
        return f"{'store, ' if self.store else ''}{self.status}{after}"


@dataclass(frozen=True)
class OverheadConfig:
    runs: int = 30
    cpu_throttle: float = 4.0
    budget_pct: float = 3.0
    after_load_ms: int = 5000
    interactions: int = 5  # loads per arm with clicks made through them (Event Timing)
    click_at: tuple[float, float] = (8.0, 8.0)  # where those clicks land, viewport px


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    file: Path  # absolute
    page: PageRef | None
    url: str | None
    viewport: Viewport
    recorder: RecorderConfig
    steps: tuple[Step, ...]
    expect: Expect
    overhead: OverheadConfig
    ingest_faults: tuple[FaultRule, ...] = ()
    # Recorders expected to fail here, and why: reported as a known failure, not a failure.
    known_failures: Mapping[str, str] = field(default_factory=dict)

    def pages(self) -> list[Path]:
        """The files of `page` and of every page a goto step opens, once each: what the static
        server serves."""
        refs = [] if self.page is None else [self.page]
        refs += [s.args["page"] for s in self.steps if s.kind == "goto" and s.args["page"]]
        return list(dict.fromkeys(ref.file for ref in refs))

    @property
    def faulty(self) -> bool:
        """Whether the scenario injects faults into delivery: the ingest's, or the browser
        taken offline."""
        return bool(self.ingest_faults) or any(step.kind == "offline" for step in self.steps)

    @property
    def checkpoints(self) -> list[str]:
        return [s.args["name"] for s in self.steps if s.kind == "checkpoint"]


# --- YAML nodes to located values -----------------------------------------------------------


@dataclass(frozen=True)
class _Scalar:
    value: bool | int | float | str | None
    text: str  # as written, so that 007 or yes can still be read as text
    line: int


@dataclass(frozen=True)
class _Seq:
    items: tuple[_Value, ...]
    line: int


@dataclass(frozen=True)
class _Entry:
    key_line: int
    value: _Value


@dataclass(frozen=True)
class _Map:
    entries: Mapping[str, _Entry]
    line: int


_Value: TypeAlias = _Scalar | _Seq | _Map

_TAG = "tag:yaml.org,2002:"
_CONSTRUCTED_TAGS = {_TAG + t for t in ("null", "bool", "int", "float")}
# Dates stay text: every value must survive JSON, since recorder.options goes to the page as is.
_TEXT_TAGS = {_TAG + "str", _TAG + "timestamp"}


def _short_tag(tag: str) -> str:
    """The tag as written: "!!python/object" rather than "tag:yaml.org,2002:python/object"."""
    return "!!" + tag.removeprefix(_TAG) if tag.startswith(_TAG) else tag


class _Context:
    """The file being read: where relative pages live, and how to report a problem in it."""

    def __init__(self, shown: Path) -> None:
        self.shown = shown
        self.file = Path(os.path.abspath(shown))
        self.folder = self.file.parent

    def fail(self, line: int | None, message: str) -> NoReturn:
        raise ScenarioError(self.shown, line, message)


class _TreeReader:
    """Turns composed YAML nodes into _Value trees that keep the line of every key and value."""

    def __init__(self, ctx: _Context, loader: yaml.SafeLoader) -> None:
        self._ctx = ctx
        self._loader = loader
        # An alias is the anchored node itself: memoizing keeps alias-heavy files linear, and
        # meeting a node that is still being read means the anchor contains itself.
        self._done: dict[int, _Value] = {}
        self._reading: set[int] = set()

    def read(self, node: Node) -> _Value:
        done = self._done.get(id(node))
        if done is not None:
            return done
        line = node.start_mark.line + 1
        if id(node) in self._reading:
            self._ctx.fail(line, "this anchor contains an alias to itself; remove the recursion")
        self._reading.add(id(node))
        value = self._read(node, line)
        self._reading.discard(id(node))
        self._done[id(node)] = value
        return value

    def _read(self, node: Node, line: int) -> _Value:
        if isinstance(node, ScalarNode):
            return self._scalar(node, line)
        if isinstance(node, SequenceNode) and node.tag == _TAG + "seq":
            return _Seq(tuple(self.read(item) for item in node.value), line)
        if isinstance(node, MappingNode) and node.tag == _TAG + "map":
            return _Map(self._entries(node), line)
        self._ctx.fail(line, f"YAML tag {_short_tag(node.tag)!r} is not supported here; remove it")

    def _scalar(self, node: ScalarNode, line: int) -> _Scalar:
        if node.tag in _TEXT_TAGS:
            return _Scalar(node.value, node.value, line)
        if node.tag not in _CONSTRUCTED_TAGS:
            self._ctx.fail(
                line, f"YAML tag {_short_tag(node.tag)!r} is not supported here; remove it"
            )
        try:
            value = self._loader.construct_object(node)
        except (ValueError, LookupError):  # only an explicit tag, like `!!int abc`, gets here
            tag = _short_tag(node.tag)
            self._ctx.fail(
                line, f"{node.value!r} does not fit its tag {tag}; fix it or drop the tag"
            )
        return _Scalar(value, node.value, line)

    def _entries(self, node: MappingNode) -> dict[str, _Entry]:
        own: dict[str, _Entry] = {}
        merged: dict[str, _Entry] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if key_node.tag == _TAG + "merge":
                self._merge(value_node, merged)
                continue
            if not isinstance(key_node, ScalarNode):
                self._ctx.fail(key_line, "a key must be a plain name, not a list or mapping")
            key = key_node.value
            if key in own:
                first = own[key].key_line
                self._ctx.fail(key_line, f"duplicate key {key!r} (first on line {first}); keep one")
            own[key] = _Entry(key_line, self.read(value_node))
        # Keys written in the mapping itself win over merged ones, as in PyYAML.
        return {**merged, **own}

    def _merge(self, node: Node, into: dict[str, _Entry]) -> None:
        """`<<: *a` or `<<: [*a, *b]`; earlier sources win, as in PyYAML."""
        sources = node.value if isinstance(node, SequenceNode) else [node]
        for source in sources:
            value = self.read(source)
            if not isinstance(value, _Map):
                self._ctx.fail(value.line, "'<<' merges mappings only, like '<<: *defaults'")
            for key, entry in value.entries.items():
                into.setdefault(key, entry)


def _read_bytes(ctx: _Context) -> bytes:
    # Here and in _read_yaml, errors are raised after the except blocks so that they carry no
    # chained traceback.
    try:
        return ctx.shown.read_bytes()
    except FileNotFoundError:
        problem = "no such file"
    except OSError as e:
        problem = f"cannot read the file: {e.strerror or e}"
    ctx.fail(None, problem)


def _read_yaml(ctx: _Context, data: bytes) -> _Value | None:
    try:
        loader = yaml.SafeLoader(data)
        try:
            node = loader.get_single_node()
            return None if node is None else _TreeReader(ctx, loader).read(node)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = None if mark is None else mark.line + 1
        what = ", ".join(part for part in (e.context, e.problem) if part)
    except yaml.YAMLError as e:  # undecodable bytes or control characters: no line to give
        line, what = None, str(e)
    except RecursionError:  # a traceback thousands of frames long is of no use to anyone
        line, what = None, "nested too deeply"
    ctx.fail(line, f"invalid YAML: {what}")


# --- value types: how each value is checked, normalized and described in the schema ----------


def _describe(v: _Value) -> str:
    if isinstance(v, _Map):
        return "a mapping"
    if isinstance(v, _Seq):
        return "a list"
    if v.value is None:
        return "nothing"
    shown = repr(v.value) if isinstance(v.value, str) else v.text
    return shown if len(shown) <= 60 else shown[:57] + "..."


def _is_null(v: _Value) -> bool:
    return isinstance(v, _Scalar) and v.value is None


def _did_you_mean(word: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _bounds(noun: str, lo: float | None, hi: float | None, above: float | None = None) -> str:
    if lo is not None and hi is not None:
        return f"{noun} from {lo:g} to {hi:g}"
    if lo is not None:
        return f"{noun} >= {lo:g}"
    if above is not None:
        return f"{noun} > {above:g}"
    return noun


def _within(n: float, lo: float | None, hi: float | None, above: float | None = None) -> bool:
    return (lo is None or n >= lo) and (hi is None or n <= hi) and (above is None or n > above)


def _drop_none(schema: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schema.items() if v is not None}


class _Type(ABC):
    @abstractmethod
    def parse(self, ctx: _Context, v: _Value, where: str) -> Any:
        """The normalized value, or ctx.fail() naming `where` (like "viewport.width")."""

    @abstractmethod
    def schema(self) -> dict[str, Any]:
        """JSON Schema accepting no more than parse() does (file existence aside)."""


class _Bool(_Type):
    def parse(self, ctx: _Context, v: _Value, where: str) -> bool:
        if isinstance(v, _Scalar) and isinstance(v.value, bool):
            return v.value
        ctx.fail(v.line, f"{where} must be true or false, got {_describe(v)}")

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


@dataclass(frozen=True)
class _Int(_Type):
    lo: int | None = None
    hi: int | None = None

    def parse(self, ctx: _Context, v: _Value, where: str) -> int:
        value = v.value if isinstance(v, _Scalar) else None
        if (
            isinstance(value, int)
            and not isinstance(value, bool)
            and _within(value, self.lo, self.hi)
        ):
            return value
        noun = _bounds("an integer", self.lo, self.hi)
        ctx.fail(v.line, f"{where} must be {noun}, got {_describe(v)}")

    def schema(self) -> dict[str, Any]:
        return _drop_none({"type": "integer", "minimum": self.lo, "maximum": self.hi})


@dataclass(frozen=True)
class _Number(_Type):
    lo: float | None = None
    hi: float | None = None
    above: float | None = None  # exclusive lower bound

    def parse(self, ctx: _Context, v: _Value, where: str) -> float:
        value = v.value if isinstance(v, _Scalar) else None
        if (
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and math.isfinite(value)
            and _within(value, self.lo, self.hi, self.above)
        ):
            return float(value)
        noun = _bounds("a number", self.lo, self.hi, self.above)
        ctx.fail(v.line, f"{where} must be {noun}, got {_describe(v)}")

    def schema(self) -> dict[str, Any]:
        return _drop_none(
            {
                "type": "number",
                "minimum": self.lo,
                "maximum": self.hi,
                "exclusiveMinimum": self.above,
            }
        )


@dataclass(frozen=True)
class _Text(_Type):
    """Text. A plain scalar counts as its source text, so `value: 007` fills in "007"."""

    noun: str = "a string"
    empty_ok: bool = False
    pattern: str | None = None  # anchored, so re.fullmatch and JSON Schema agree
    rule: str = ""  # the pattern in words

    def parse(self, ctx: _Context, v: _Value, where: str) -> str:
        if not isinstance(v, _Scalar) or v.value is None:
            ctx.fail(v.line, f"{where} must be {self.noun}, got {_describe(v)}")
        if not self.empty_ok and not v.text.strip():
            ctx.fail(v.line, f"{where} must not be empty")
        if self.pattern is not None and not re.fullmatch(self.pattern, v.text):
            ctx.fail(v.line, f"{where} {v.text!r} {self.rule}")
        return v.text

    def schema(self) -> dict[str, Any]:
        pattern = self.pattern if self.pattern or self.empty_ok else r"\S"
        return _drop_none({"type": "string", "pattern": pattern})


_SELECTOR = _Text(noun="a selector")
_ANY_TEXT = _Text(empty_ok=True)


@dataclass(frozen=True)
class _Choice(_Type):
    options: tuple[str, ...]

    def parse(self, ctx: _Context, v: _Value, where: str) -> str:
        text = _ANY_TEXT.parse(ctx, v, where)
        if text not in self.options:
            ctx.fail(v.line, f"{where} must be one of {', '.join(self.options)}, got {text!r}")
        return text

    def schema(self) -> dict[str, Any]:
        return {"enum": list(self.options)}


@dataclass(frozen=True)
class _Texts(_Type):
    item: _Text
    example: str

    def parse(self, ctx: _Context, v: _Value, where: str) -> tuple[str, ...]:
        if not isinstance(v, _Seq):
            ctx.fail(v.line, f"{where} must be a list, like {self.example}, got {_describe(v)}")
        return tuple(self.item.parse(ctx, x, f"{where}[{i}]") for i, x in enumerate(v.items))

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": self.item.schema()}


class _TextOrTexts(_Type):
    """select's value: one option, or a list of them for a multiple select."""

    def parse(self, ctx: _Context, v: _Value, where: str) -> str | list[str]:
        if isinstance(v, _Seq):
            return [_ANY_TEXT.parse(ctx, x, f"{where}[{i}]") for i, x in enumerate(v.items)]
        return _ANY_TEXT.parse(ctx, v, where)

    def schema(self) -> dict[str, Any]:
        text = _ANY_TEXT.schema()
        return {"anyOf": [text, {"type": "array", "items": text}]}


_REQUIRED: Any = object()


@dataclass(frozen=True)
class _Field:
    name: str
    type: _Type
    description: str
    default: Any = _REQUIRED

    def schema(self) -> dict[str, Any]:
        schema = {**self.type.schema(), "description": self.description}
        # Defaults that are blocks (Viewport(), ...) show up on their own fields instead.
        if isinstance(self.default, bool | int | float | str | dict):
            schema["default"] = copy.deepcopy(self.default)
        elif isinstance(self.default, tuple):
            schema["default"] = list(self.default)
        return schema


class _Block(_Type):
    """A mapping with a fixed set of keys. Unknown keys are errors; a null value means absent."""

    def __init__(self, fields: Sequence[_Field]) -> None:
        self.fields = {f.name: f for f in fields}

    def usage(self) -> str:
        return "{" + ", ".join(self.fields) + "}"

    def parse(self, ctx: _Context, v: _Value, where: str) -> dict[str, Any]:
        return self.read(ctx, v, where, v.line)

    def read(self, ctx: _Context, v: _Value, where: str, line: int) -> dict[str, Any]:
        """Like parse(), reporting missing keys at `line`: a null value's own line is unreliable."""
        if isinstance(v, _Map):
            entries = v.entries
        elif _is_null(v):
            entries = {}
        else:
            ctx.fail(v.line, f"{where} must be a mapping {self.usage()}, got {_describe(v)}")
        for key, given in entries.items():
            if key not in self.fields:
                known = f"known: {', '.join(self.fields)}" if self.fields else "it takes none"
                ctx.fail(
                    given.key_line,
                    f"unknown key {key!r} in {where or 'the scenario'} ({known})"
                    + _did_you_mean(key, list(self.fields)),
                )
        out: dict[str, Any] = {}
        for name, f in self.fields.items():
            entry = entries.get(name)
            if entry is not None and not _is_null(entry.value):
                out[name] = f.type.parse(ctx, entry.value, _join(where, name))
            elif f.default is _REQUIRED:
                ctx.fail(line, f"{where} needs {name!r}: {f.description}")
            else:
                # A copy, so that no two scenarios share a mutable default.
                out[name] = copy.deepcopy(f.default)
        return out

    def schema(self) -> dict[str, Any]:
        required = [name for name, f in self.fields.items() if f.default is _REQUIRED]
        schema: dict[str, Any] = {
            # Like parse(): a null block is an empty one, which is fine when nothing is required.
            "type": "object" if required else ["object", "null"],
            "additionalProperties": False,
            "properties": {name: f.schema() for name, f in self.fields.items()},
        }
        if required:
            schema["required"] = required
        return schema


class _Config(_Block):
    """A block read into one of the config dataclasses, whose field defaults it takes."""

    def __init__(self, cls: type[Any], types: Mapping[str, tuple[_Type, str]]) -> None:
        self.cls = cls
        super().__init__(
            [_Field(f.name, *types[f.name], _default_of(f)) for f in dataclasses.fields(cls)]
        )

    def parse(self, ctx: _Context, v: _Value, where: str) -> Any:
        return self.cls(**super().parse(ctx, v, where))


class _RecorderBlock(_Config):
    """The recorder block: `privacy` picks the preset that gives the privacy keys their
    defaults; the keys written refine it (RecorderConfig.preset)."""

    def parse(self, ctx: _Context, v: _Value, where: str) -> Any:
        values = _Block.parse(self, ctx, v, where)
        entries = v.entries if isinstance(v, _Map) else {}
        privacy = values.pop("privacy")
        keys = {
            name: value
            for name, value in values.items()
            if name not in PRIVACY_PRESETS[privacy]
            or (name in entries and not _is_null(entries[name].value))
        }
        try:
            return RecorderConfig.preset(privacy, **keys)
        except ValueError as e:
            line = next(
                (entries[k].key_line for k in keys if k in entries and keys[k] is False),
                v.line,
            )
            ctx.fail(
                line,
                f"{where}: {e}; to keep some text or fields in the clear under strict, list "
                "them in unmask, or start from privacy: balanced",
            )

    def schema(self) -> dict[str, Any]:
        # Strict cannot be weakened: its masking booleans, when written, are true.
        kept = {k: {"const": True} for k, v in PRIVACY_PRESETS["strict"].items() if v is True}
        return {
            **super().schema(),
            "if": {"required": ["privacy"], "properties": {"privacy": {"const": "strict"}}},
            "then": {"properties": kept},
        }


def _default_of(f: dataclasses.Field[Any]) -> Any:
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return f.default


_XY = _Block(
    [
        _Field("x", _Number(), "x coordinate in CSS pixels"),
        _Field("y", _Number(), "y coordinate in CSS pixels"),
    ]
)


@dataclass(frozen=True)
class _Point(_Type):
    """[x, y] or {x, y}, read as {"x", "y"} (as_mapping) or as an (x, y) tuple."""

    as_mapping: bool

    def parse(self, ctx: _Context, v: _Value, where: str) -> Any:
        if isinstance(v, _Seq) and len(v.items) == 2:
            x, y = (_Number().parse(ctx, item, f"{where}[{i}]") for i, item in enumerate(v.items))
        elif isinstance(v, _Map):
            xy = _XY.parse(ctx, v, where)
            x, y = xy["x"], xy["y"]
        else:
            ctx.fail(v.line, f"{where} must be a point, [x, y] or {{x, y}}, got {_describe(v)}")
        return {"x": x, "y": y} if self.as_mapping else (x, y)

    def schema(self) -> dict[str, Any]:
        pair = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2}
        return {"anyOf": [pair, _XY.schema()]}


class _Path(_Type):
    """mouse's path: at least one point."""

    def parse(self, ctx: _Context, v: _Value, where: str) -> list[tuple[float, float]]:
        if not isinstance(v, _Seq) or not v.items:
            ctx.fail(v.line, f"{where} must be a list of points, like [[10, 10], [300, 200]]")
        point = _Point(as_mapping=False)
        return [point.parse(ctx, p, f"{where}[{i}]") for i, p in enumerate(v.items)]

    def schema(self) -> dict[str, Any]:
        return {"type": "array", "items": _Point(as_mapping=False).schema(), "minItems": 1}


class _FreeMap(_Type):
    """recorder.options: any mapping, passed through as plain Python values."""

    def parse(self, ctx: _Context, v: _Value, where: str) -> dict[str, Any]:
        if not isinstance(v, _Map):
            ctx.fail(v.line, f"{where} must be a mapping, got {_describe(v)}")
        return {key: _plain(entry.value) for key, entry in v.entries.items()}

    def schema(self) -> dict[str, Any]:
        return {"type": ["object", "null"]}


class _Reasons(_Type):
    """known_failures: recorder name -> why it is expected to fail this scenario."""

    def parse(self, ctx: _Context, v: _Value, where: str) -> dict[str, str]:
        if not isinstance(v, _Map):
            ctx.fail(v.line, f'{where} must be a mapping like {{rrweb: "why"}}, got {_describe(v)}')
        return {
            key: _ANY_TEXT.parse(ctx, entry.value, _join(where, key))
            for key, entry in v.entries.items()
        }

    def schema(self) -> dict[str, Any]:
        return {"type": ["object", "null"], "additionalProperties": {"type": "string"}}


def _plain(v: _Value) -> Any:
    if isinstance(v, _Map):
        return {key: _plain(entry.value) for key, entry in v.entries.items()}
    if isinstance(v, _Seq):
        return [_plain(item) for item in v.items]
    return v.value


_COUNT_PATTERN = r"^\s*(==|>=|<=|>|<)?\s*([0-9]+)\s*$"


class _Count(_Type):
    """A count expectation: N (exactly N) or a comparison like ">=1"."""

    def parse(self, ctx: _Context, v: _Value, where: str) -> EventExpectation:
        value = v.value if isinstance(v, _Scalar) else None
        if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return EventExpectation("==", value)
        if isinstance(value, str) and (m := re.fullmatch(_COUNT_PATTERN, value)):
            return EventExpectation(m[1] or "==", int(m[2]))
        ctx.fail(v.line, f'{where} must be a count like 2, ">=1" or "<3", got {_describe(v)}')

    def schema(self) -> dict[str, Any]:
        return {
            "anyOf": [
                {"type": "integer", "minimum": 0},
                {"type": "string", "pattern": _COUNT_PATTERN},
            ]
        }


class _Events(_Type):
    """expect.events: event kind -> N (exactly N) or a comparison like ">=1"."""

    def parse(self, ctx: _Context, v: _Value, where: str) -> dict[str, EventExpectation]:
        if not isinstance(v, _Map):
            ctx.fail(v.line, f'{where} must be a mapping like {{click: ">=1"}}, got {_describe(v)}')
        out = {}
        for kind, entry in v.entries.items():
            if kind not in EVENT_KINDS:
                ctx.fail(
                    entry.key_line,
                    f"unknown event {kind!r} in {where} (known events: {', '.join(EVENT_KINDS)})"
                    + _did_you_mean(kind, EVENT_KINDS),
                )
            out[kind] = _Count().parse(ctx, entry.value, f"{where}.{kind}")
        return out

    def schema(self) -> dict[str, Any]:
        return {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {
                kind: {
                    **_Count().schema(),
                    "description": f'how many {kind} events the stream holds: N, or like ">=1"',
                }
                for kind in EVENT_KINDS
            },
        }


_FAULT_ACTIONS = ("status", "hang_ms", "drop", "refuse")


class _FaultRules(_Type):
    """ingest_faults: a list of rules, each {when..., one action}, read as FaultRule."""

    block = _Block(
        [
            _Field(
                "from",
                _Int(lo=0),
                "first request attempt (0-based, over every request to the session's ingest) "
                "the rule takes",
                0,
            ),
            _Field("count", _Int(lo=1), "how many attempts from `from`; default: all", None),
            _Field(
                "from_ms",
                _Int(lo=0),
                "the rule takes requests from this many ms after the first page load started",
                0,
            ),
            _Field(
                "for_ms", _Int(lo=1), "for this many ms from `from_ms`; default: for good", None
            ),
            _Field("status", _Int(200, 599), "answer with this HTTP status", None),
            _Field(
                "retry_after",
                _Int(lo=0),
                "with `status`: a Retry-After header of this many seconds",
                None,
            ),
            _Field(
                "store",
                _Bool(),
                "with `status`: store the batch all the same (stored, but failed to the client)",
                False,
            ),
            _Field(
                "hang_ms",
                _Int(lo=1),
                "hold the request this many ms, then close the connection without an answer",
                None,
            ),
            _Field("drop", _Bool(), "read the request, then close without an answer", False),
            _Field(
                "refuse",
                _Bool(),
                "close the connection at once (a reset), the request unread",
                False,
            ),
        ]
    )

    def parse(self, ctx: _Context, v: _Value, where: str) -> tuple[FaultRule, ...]:
        if not isinstance(v, _Seq):
            ctx.fail(
                v.line,
                f"{where} must be a list of rules, like - {{from: 0, count: 3, status: 500}}",
            )
        return tuple(self._rule(ctx, item, f"{where}[{i}]") for i, item in enumerate(v.items))

    def _rule(self, ctx: _Context, v: _Value, where: str) -> FaultRule:
        values = self.block.parse(ctx, v, where)
        actions = [a for a in _FAULT_ACTIONS if values[a] not in (None, False)]
        if len(actions) != 1:
            ctx.fail(
                v.line,
                f"{where} needs exactly one action of {', '.join(_FAULT_ACTIONS)}"
                + (f", got {', '.join(actions)}" if actions else ""),
            )
        if values["status"] is None and (values["retry_after"] is not None or values["store"]):
            ctx.fail(v.line, f"{where}: retry_after and store go with a status; add one")
        return FaultRule(
            start=values["from"],
            count=values["count"],
            from_ms=float(values["from_ms"]),
            for_ms=None if values["for_ms"] is None else float(values["for_ms"]),
            status=values["status"],
            retry_after=values["retry_after"],
            store=values["store"],
            hang_ms=values["hang_ms"],
            drop=values["drop"],
            refuse=values["refuse"],
        )

    def schema(self) -> dict[str, Any]:
        flag = {"const": True, "description": "this rule's action"}
        rule = {
            **self.block.schema(),
            "type": "object",
            "oneOf": [
                {"required": ["status"]},
                {"required": ["hang_ms"]},
                {"required": ["drop"], "properties": {"drop": flag}},
                {"required": ["refuse"], "properties": {"refuse": flag}},
            ],
            "dependencies": {"retry_after": ["status"]},
            "if": {"required": ["store"], "properties": {"store": flag}},
            "then": {"required": ["status"]},
        }
        return {"type": ["array", "null"], "items": rule}


class _PagePath(_Type):
    """A file relative to the scenario's folder, which must exist, optionally followed by a
    ?query and #fragment (a file whose own name holds '?' or '#' is still found whole)."""

    def parse(self, ctx: _Context, v: _Value, where: str) -> PageRef:
        text = _Text(noun="a file path").parse(ctx, v, where)
        whole = Path(os.path.abspath(ctx.folder / text))
        if whole.is_file():
            return PageRef(whole)
        name, suffix = split_suffix(text)
        page = Path(os.path.abspath(ctx.folder / name))
        if not page.is_file():
            of = f" (of {text!r})" if suffix else ""
            ctx.fail(v.line, f"page {name!r}{of} not found (relative to {ctx.folder})")
        return PageRef(page, suffix)

    def schema(self) -> dict[str, Any]:
        return _Text().schema()


def split_suffix(text: str) -> tuple[str, str]:
    """ "a.html?x=1#y" -> ("a.html", "?x=1#y"): the file part and what the URL adds to it."""
    at = min((i for i in (text.find("?"), text.find("#")) if i >= 0), default=len(text))
    return text[:at], text[at:]


class _Url(_Type):
    def parse(self, ctx: _Context, v: _Value, where: str) -> str:
        text = _Text(noun="a URL").parse(ctx, v, where)
        try:
            parts = urlsplit(text)
        except ValueError:  # e.g. an unclosed "[" in the host
            parts = None
        if parts is None or not (
            parts.scheme == "file" or (parts.scheme in ("http", "https") and parts.netloc)
        ):
            ctx.fail(v.line, f"{where} must be an http://, https:// or file:// URL, got {text!r}")
        return text

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "pattern": r"^(https?://[^/?#\s]|file:)"}


# "http:", "data:", "about:"... at least two letters, so that "c:/x" would still be a path.
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:")


class _GotoTarget(_Type):
    """goto's value: a URL (anything with a scheme) or a page path; read as {"url", "page"}."""

    def parse(self, ctx: _Context, v: _Value, where: str) -> dict[str, Any]:
        text = _Text(noun="a page path or a URL").parse(ctx, v, where)
        if _SCHEME.match(text):
            return {"url": text, "page": None}
        return {"url": None, "page": _PagePath().parse(ctx, v, where)}

    def schema(self) -> dict[str, Any]:
        return _Text().schema()


_FLUSH = _Field(
    "flush",
    _Bool(),
    "let the recorder send what it holds before leaving (the harness waits for it); false: "
    "leave at once, as a user does",
    True,
)


class _GotoStep:
    """goto: a page path or URL, or {page | url, flush}; read as {"url", "page", "flush"}."""

    description = "open a page: a path relative to this file, or a URL, or {page | url, flush}"
    block = _Block(
        [
            _Field("page", _PagePath(), "page to open, relative to this file", None),
            _Field("url", _Url(), "URL to open instead of a page", None),
            _FLUSH,
        ]
    )

    def parse(self, ctx: _Context, v: _Value, kind: str, line: int) -> dict[str, Any]:
        if _is_null(v):
            ctx.fail(line, f"{kind} needs a value: {self.description}")
        if not isinstance(v, _Map):
            return {**_GotoTarget().parse(ctx, v, kind), "flush": True}
        values = self.block.read(ctx, v, kind, line)
        if (values["page"] is None) == (values["url"] is None):
            ctx.fail(v.line, f"{kind} takes either page or url, like {{page: next.html}}")
        return values

    def schema(self) -> dict[str, Any]:
        block = {**self.block.schema(), "type": "object"}
        block["oneOf"] = [{"required": ["page"]}, {"required": ["url"]}]
        return {"anyOf": [_GotoTarget().schema(), block]}


@dataclass(frozen=True)
class _Keyed(_Type):
    """A bare value read as the one-key args {key: value}, like wait's {"ms": 250}."""

    key: str
    type: _Type

    def parse(self, ctx: _Context, v: _Value, where: str) -> dict[str, Any]:
        return {self.key: self.type.parse(ctx, v, where)}

    def schema(self) -> dict[str, Any]:
        return self.type.schema()


# --- steps -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _ScalarStep:
    """A step written with a bare value only, like `- wait: 250`."""

    description: str
    type: _Type  # returns the whole args mapping

    def parse(self, ctx: _Context, v: _Value, kind: str, line: int) -> dict[str, Any]:
        if _is_null(v):
            ctx.fail(line, f"{kind} needs a value: {self.description}")
        return dict(self.type.parse(ctx, v, kind))

    def schema(self) -> dict[str, Any]:
        return self.type.schema()


@dataclass(frozen=True)
class _BlockStep:
    """A step written as a mapping of arguments, or as a bare value filling in `shorthand`."""

    description: str
    block: _Block
    shorthand: str | None = None
    fixed: Mapping[str, Any] = field(default_factory=dict)  # args the user cannot set

    def parse(self, ctx: _Context, v: _Value, kind: str, line: int) -> dict[str, Any]:
        if isinstance(v, _Scalar) and v.value is not None:
            if self.shorthand is None:
                ctx.fail(v.line, f"{kind} takes {self.usage()}, got {_describe(v)}")
            v = _Map({self.shorthand: _Entry(v.line, v)}, v.line)
        elif isinstance(v, _Seq):
            ctx.fail(v.line, f"{kind} takes {self.usage()}, got {_describe(v)}")
        return {**self.block.read(ctx, v, kind, line), **self.fixed}

    def usage(self) -> str:
        bare = "" if self.shorthand is None else f"a {self.shorthand} or "
        return bare + self.block.usage()

    def schema(self) -> dict[str, Any]:
        if self.shorthand is None:
            return self.block.schema()
        bare = self.block.fields[self.shorthand].type.schema()
        return {"anyOf": [bare, self.block.schema()]}


def _selector_field(of: str) -> _Field:
    return _Field("selector", _SELECTOR, f"selector of {of}")


def _click_fields(with_count: bool) -> list[_Field]:
    count = _Field("count", _Int(lo=1), "number of clicks", 1)
    return [
        _selector_field("the element to click"),
        *([count] if with_count else []),
        _Field("delay_ms", _Int(lo=0), "milliseconds between mouse down and up", 0),
        _Field("button", _Choice(("left", "right", "middle")), "mouse button", "left"),
        _Field(
            "position",
            _Point(as_mapping=True),
            "where to click, relative to the element's top-left corner; default: its center",
            None,
        ),
    ]


def _selector_only(what: str) -> _BlockStep:
    block = _Block([_selector_field(f"the element to {what}")])
    return _BlockStep(f"{what} an element: a selector", block, "selector")


_CHECKPOINT_NAME = _Text(
    noun="a checkpoint name",
    pattern=r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$",
    rule="may use only letters, digits, '-', '_' and '.', and not start with '.'; "
    "it names report files",
)

_STEPS: dict[str, _ScalarStep | _BlockStep | _GotoStep] = {
    "goto": _GotoStep(),
    "click": _BlockStep(
        "click an element: a selector, or {selector, count, delay_ms, button, position}",
        _Block(_click_fields(with_count=True)),
        "selector",
    ),
    "dblclick": _BlockStep(
        "double-click an element: a selector, or {selector, delay_ms, button, position}",
        _Block(_click_fields(with_count=False)),
        "selector",
        {"count": 2},
    ),
    "fill": _BlockStep(
        "set a field's value at once: {selector, value}",
        _Block(
            [
                _selector_field("the field to fill"),
                _Field("value", _ANY_TEXT, "the text to put in the field"),
            ]
        ),
    ),
    "type": _BlockStep(
        "type text key by key: {selector, text, delay_ms}",
        _Block(
            [
                _selector_field("the field to type into"),
                _Field("text", _ANY_TEXT, "the text to type"),
                _Field("delay_ms", _Int(lo=0), "milliseconds between key presses", 0),
            ]
        ),
    ),
    "press": _BlockStep(
        "press a key: a key name like Enter, or {selector, key}",
        _Block(
            [
                _Field(
                    "selector",
                    _SELECTOR,
                    "selector of the element to press the key on; default: the focused one",
                    None,
                ),
                _Field("key", _Text(noun="a key name"), "key name, like Enter or Control+A"),
            ]
        ),
        "key",
    ),
    "select": _BlockStep(
        "choose options in a <select>: {selector, value}",
        _Block(
            [
                _selector_field("the <select> element"),
                _Field("value", _TextOrTexts(), "option value, or a list of them"),
            ]
        ),
    ),
    "check": _selector_only("check"),
    "uncheck": _selector_only("uncheck"),
    "hover": _selector_only("hover"),
    "scroll": _BlockStep(
        "scroll an element, or the window when there is no selector: {selector, x, y}",
        _Block(
            [
                _Field("selector", _SELECTOR, "element to scroll; default: the window", None),
                _Field("x", _Int(), "horizontal scroll position to go to, in CSS pixels", 0),
                _Field("y", _Int(), "vertical scroll position to go to, in CSS pixels", 0),
            ]
        ),
    ),
    "mouse": _BlockStep(
        "move the mouse through points: {path: [[x, y], ...], steps}",
        _Block(
            [
                _Field("path", _Path(), "points in CSS pixels from the viewport's top-left"),
                _Field("steps", _Int(lo=1), "intermediate moves between two points", 10),
            ]
        ),
    ),
    "wait": _ScalarStep("pause for this many milliseconds", _Keyed("ms", _Int(lo=0))),
    "wait_for": _BlockStep(
        "wait until an element is visible: a selector, or {selector, timeout_ms}",
        _Block(
            [
                _selector_field("the element to wait for"),
                _Field("timeout_ms", _Int(lo=1), "give up after this many milliseconds", 10000),
            ]
        ),
        "selector",
    ),
    "eval": _ScalarStep("run JavaScript in the page", _Keyed("script", _Text(noun="a script"))),
    "back": _BlockStep("go back in history: {} or {flush}", _Block([_FLUSH])),
    "reload": _BlockStep("reload the page: {} or {flush}", _Block([_FLUSH])),
    "offline": _ScalarStep(
        "take the browser off the network (true) or back on (false), as the browser's offline "
        "mode does: requests fail, navigator.onLine and online/offline events follow",
        _Keyed("offline", _Bool()),
    ),
    "checkpoint": _ScalarStep(
        "compare the live page and its replay here: a name (letters, digits, '-', '_', '.')",
        _Keyed("name", _CHECKPOINT_NAME),
    ),
    "close": _BlockStep(
        "leave for good: close the page as a user closes a tab, its pagehide handlers run; "
        "the last step (checkpoints go before it): {}",
        _Block([]),
    ),
}


class _Steps(_Type):
    def parse(self, ctx: _Context, v: _Value, where: str) -> tuple[Step, ...]:
        if not isinstance(v, _Seq):
            ctx.fail(v.line, f'{where} must be a list of steps, like - click: "#pay"')
        steps = tuple(self._step(ctx, item) for item in v.items)
        first_line: dict[str, int] = {}
        for step in steps:
            if step.kind == "checkpoint":
                name = step.args["name"]
                if name in first_line:
                    ctx.fail(
                        step.line,
                        f"checkpoint {name!r} is already used on line {first_line[name]}; "
                        "give each checkpoint its own name",
                    )
                first_line[name] = step.line
        closes = [step for step in steps if step.kind == "close"]
        if closes and closes[0] is not steps[-1]:
            after = steps[steps.index(closes[0]) + 1]
            ctx.fail(
                after.line,
                f"no step can follow close (line {closes[0].line}): the page is gone; "
                "put checkpoints before it",
            )
        return steps

    def _step(self, ctx: _Context, item: _Value) -> Step:
        if not isinstance(item, _Map) or not item.entries:
            ctx.fail(
                item.line,
                f'a step is a mapping with one key, like - click: "#pay", got {_describe(item)}',
            )
        (kind, entry), *others = item.entries.items()
        if others:
            ctx.fail(
                others[0][1].key_line,
                f"a step has exactly one key, found {', '.join(item.entries)}; "
                "start each step with its own '- '",
            )
        spec = _STEPS.get(kind)
        if spec is None:
            ctx.fail(
                entry.key_line,
                f"unknown step {kind!r} (known steps: {', '.join(STEP_KINDS)})"
                + _did_you_mean(kind, STEP_KINDS),
            )
        return Step(kind, spec.parse(ctx, entry.value, kind, entry.key_line), entry.key_line)

    def schema(self) -> dict[str, Any]:
        steps = {
            kind: {**spec.schema(), "description": spec.description}
            for kind, spec in _STEPS.items()
        }
        return {
            "type": ["array", "null"],
            "items": {
                "type": "object",
                "minProperties": 1,
                "maxProperties": 1,
                "additionalProperties": False,
                "properties": steps,
            },
        }


# --- the scenario ----------------------------------------------------------------------------

_SELECTORS = _Texts(_SELECTOR, '[".pii"]')

_SCENARIO = _Block(
    [
        _Field(
            "name",
            _Text(
                pattern=r"^(?!\.\.?$)[^/\\]+$",
                rule="must not contain '/' or '\\' nor be '.' or '..'; it names the report folder",
            ),
            "scenario name in reports; default: the file name without extension",
            None,
        ),
        _Field("description", _ANY_TEXT, "free text", ""),
        _Field(
            "page",
            _PagePath(),
            "HTML file to open first, relative to this file (served by the built-in server), "
            "optionally with a ?query and #fragment; set this or url",
            None,
        ),
        _Field("url", _Url(), "URL to open first (http, https or file); set this or page", None),
        _Field(
            "viewport",
            _Config(
                Viewport,
                {
                    "width": (_Int(1, 10000), "viewport width in CSS pixels"),
                    "height": (_Int(1, 10000), "viewport height in CSS pixels"),
                },
            ),
            "browser viewport size",
            Viewport(),
        ),
        _Field(
            "recorder",
            _RecorderBlock(
                RecorderConfig,
                {
                    "mask_all_inputs": (_Bool(), "mask the value of every form field"),
                    "mask_all_text": (_Bool(), "mask all text in the page"),
                    "detect_pii": (
                        _Bool(),
                        "mask emails, card numbers, phone numbers and IBAN/SSN-like values "
                        "found in text and attributes",
                    ),
                    "mask": (_SELECTORS, "mask text under elements matching these selectors"),
                    "unmask": (_SELECTORS, "exempt elements matching these selectors from masking"),
                    "block": (
                        _SELECTORS,
                        "do not record these elements; replay shows a same-size placeholder",
                    ),
                    "ignore": (_SELECTORS, "do not record input events from these elements"),
                    "sample_rate": (_Number(0, 1), "sampling rate, from 0 to 1"),
                    "options": (
                        _FreeMap(),
                        "adapter-specific raw options, passed through unchanged",
                    ),
                    "pii_region": (
                        _Choice(tuple(sorted(phonenumbers.SUPPORTED_REGIONS))),
                        "region (ISO 3166 code, e.g. FR) whose national phone formats count as "
                        "phone numbers in the PII verdict; default: the region of the page's "
                        "<html lang> (pt-BR: BR), else US. International numbers are found "
                        "whatever it is",
                    ),
                    "privacy": (
                        _Choice(tuple(PRIVACY_PRESETS)),
                        "the preset the privacy keys start from: strict masks all text and "
                        "fields and blocks images, video, audio, svg, canvas and frames "
                        "(same-size placeholders), and the verdict fails any readable text or "
                        "media in the stream; balanced masks fields and detected PII; relaxed "
                        "masks passwords and detected PII only. Keys given refine it: booleans "
                        "replace the preset's (strict cannot be weakened: unmask instead), "
                        "selectors add to its own",
                    ),
                },
            ),
            "privacy and capture options, meaning the same for every recorder adapter",
            RecorderConfig(),
        ),
        _Field(
            "steps",
            _Steps(),
            "actions, run in order; a scenario without a checkpoint step gets one at its end",
            (),
        ),
        _Field(
            "expect",
            _Config(
                Expect,
                {
                    "pixel_mismatch_max": (
                        _Number(0, 1),
                        "largest fraction of viewport pixels that may differ between the live "
                        "page and its replay, per checkpoint",
                    ),
                    "dom_similarity_min": (
                        _Number(0, 1),
                        "smallest DOM similarity (0 to 1) between the live page and its replay, "
                        "per checkpoint",
                    ),
                    "pii": (
                        _Texts(_Text(), '["Jane Doe"]'),
                        "values that must appear nowhere in the captured stream",
                    ),
                    "events": (_Events(), "event counts the captured stream must have, by kind"),
                    "max_stream_bytes": (_Int(lo=1), "largest allowed stream size in bytes"),
                    "lost": (
                        _Count(),
                        "how many recorded events may be lost and marked lost by the recorder "
                        '(under ingest_faults): N or like "<=10"; loss not marked always fails',
                    ),
                    "duplicates": (
                        _Count(),
                        'how many events may appear twice in the decoded stream: N or like "<=2"',
                    ),
                },
            ),
            "what a run must achieve to pass",
            Expect(),
        ),
        _Field(
            "overhead",
            _Config(
                OverheadConfig,
                {
                    "runs": (_Int(lo=2), "page loads with the recorder off, and as many on"),
                    "cpu_throttle": (_Number(lo=1), "CPU slowdown factor while measuring"),
                    "budget_pct": (
                        _Number(above=0),
                        "allowed page-load overhead in percent (upper end of the 95% interval)",
                    ),
                    "after_load_ms": (
                        _Int(lo=0, hi=600_000),
                        "how long each load is watched after its load event for deferred work "
                        "(the recorder's and the page's); long enough for that work to finish",
                    ),
                    "interactions": (
                        _Int(lo=0, hi=1000),
                        "loads per arm in which a click is made every 100 ms from the page's "
                        "first byte to the window's end, to measure interaction latency; 0: none",
                    ),
                    "click_at": (
                        _Point(as_mapping=False),
                        "where those clicks land, [x, y] in viewport pixels: a spot where a "
                        "click does nothing that changes the page (default [8, 8])",
                    ),
                },
            ),
            "page-load overhead measurement, read by `replaycheck overhead`",
            OverheadConfig(),
        ),
        _Field(
            "ingest_faults",
            _FaultRules(),
            "faults the harness's ingest injects into this scenario's requests: rules like "
            "{from: 0, count: 3, status: 500} or {from_ms: 2000, for_ms: 5000, refuse: true}; "
            "the first rule matching a request applies, none: stored and answered 204",
            (),
        ),
        _Field(
            "known_failures",
            _Reasons(),
            "recorders expected to fail this scenario, with the reason (a known gap of a "
            "third-party recorder); they are reported as known failures, and an unexpected "
            "pass is a failure so the list stays true",
            {},
        ),
    ]
)


def _scenario(ctx: _Context, root: _Value) -> Scenario:
    if not isinstance(root, _Map):
        ctx.fail(
            root.line,
            f"a scenario is a mapping with keys like page, steps and expect, got {_describe(root)}",
        )
    values = _SCENARIO.parse(ctx, root, "")
    if values["page"] is None and values["url"] is None:
        ctx.fail(root.line, "a scenario needs 'page' (a file relative to it) or 'url'; add one")
    if values["page"] is not None and values["url"] is not None:
        line = max(root.entries["page"].key_line, root.entries["url"].key_line)
        ctx.fail(line, "set either 'page' or 'url', not both")
    steps: tuple[Step, ...] = values["steps"]
    if not any(step.kind == "checkpoint" for step in steps):
        steps_key = root.entries.get("steps")
        line = steps[-1].line if steps else steps_key.key_line if steps_key else 1
        # Before a close, while there is still a page to compare.
        at = len(steps) - 1 if steps and steps[-1].kind == "close" else len(steps)
        steps = (*steps[:at], Step("checkpoint", {"name": "end"}, line), *steps[at:])
    return Scenario(
        name=values["name"] if values["name"] is not None else ctx.shown.stem,
        description=values["description"],
        file=ctx.file,
        page=values["page"],
        url=values["url"],
        viewport=values["viewport"],
        recorder=values["recorder"],
        steps=steps,
        expect=values["expect"],
        overhead=values["overhead"],
        ingest_faults=values["ingest_faults"],
        known_failures=values["known_failures"],
    )


def load_scenario(path: Path | str) -> Scenario:
    """Read and validate one scenario file; any problem is a ScenarioError naming file and line."""
    ctx = _Context(Path(path))
    root = _read_yaml(ctx, _read_bytes(ctx))
    if root is None:
        ctx.fail(None, "the file is empty; a scenario needs at least 'page' or 'url'")
    return _scenario(ctx, root)


def load_paths(paths: Sequence[Path | str]) -> list[Scenario]:
    """Scenario files, or folders searched recursively for *.yaml and *.yml (sorted).

    A file named twice, directly or through a folder, is loaded once.
    """
    files: dict[str, Path] = {}
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.suffix in (".yaml", ".yml") and p.is_file()
            )
        elif path.exists():
            found = [path]
        else:
            raise ScenarioError(path, None, "no such file or folder")
        for p in found:
            files.setdefault(os.path.abspath(p), p)
    return [load_scenario(p) for p in files.values()]


@dataclass(frozen=True)
class Shard:
    """`--shard I/N`: the I-th of N shares of a suite (1-based), for N parallel CI jobs."""

    index: int
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
        if not match or not 1 <= int(match[1]) <= int(match[2]):
            raise ValueError(f"a shard is I/N with 1 <= I <= N, like 2/4; got {text!r}")
        return cls(int(match[1]), int(match[2]))

    def files(self, files: Iterable[Path]) -> set[Path]:
        """This share of `files`: every N-th in the order of their absolute paths, so N jobs
        given the same suite run each scenario (with all its recorders) exactly once."""
        ordered = sorted({Path(os.path.abspath(f)) for f in files}, key=Path.as_posix)
        return set(ordered[self.index - 1 :: self.count])

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def json_schema() -> dict[str, Any]:
    """JSON Schema (draft-07) of scenario format version 1, for editors like yaml-language-server.

    It accepts no more than load_scenario() does, apart from checks it cannot express (that
    pages exist, that checkpoint names are unique); text fields ask for strings, though the
    loader also reads an unquoted number as its text.
    """
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "title": "replaycheck scenario",
        "description": "A replaycheck scenario, format version 1",
        **_SCENARIO.schema(),
        "type": "object",
        "oneOf": [{"required": ["page"]}, {"required": ["url"]}],
    }
