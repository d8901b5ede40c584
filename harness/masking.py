"""Masking verdict: which private values a page held, and where any of them reached the stream.

Secrets come from the scenario (`expect.pii`) and from the live page itself: form values the
recorder should mask (passwords always), text under `mask` selectors, everything under `block`
selectors, and PII the harness's own detector finds in text, attributes, CSS, the URL and the
page's JS errors (URL-decoded too). Each is looked for in every event string and in the raw
batches, in the forms a value takes on its way out: as is, JSON-escaped, URL-encoded,
HTML-escaped, and inside base64 runs (decoded, gunzipped when they hold gzip).
"""

from __future__ import annotations

import base64
import binascii
import gzip
import html
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from harness import pii
from harness.scenario import RecorderConfig
from harness.stream import Event, Stream, decode_body

# Every value the user typed is a secret, whatever its length (a CVV "737", a PIN "42"), but a
# short one occurs by chance in any stream ("1" in every other attribute), so an undeclared value
# is looked for according to its length:
# - 4 characters or more: anywhere in any event string, then in the raw batches;
# - 3 characters: as a whole token of an event string ("cvv=737", not "1737" or "#737373");
# - 1 or 2 characters: only as a whole event string (an input event's value, a value attribute).
# A short value the page also shows in the clear (a text, an attribute name or value, a tag name)
# is no secret at all: the stream carries it anyway, so finding it proves nothing.
# Whatever the length, an occurrence is another word, not the value, when it continues a run of
# ASCII letters or of digits ("mask1" in "unmask1", "4242" in an id or timestamp 17424251);
# and an undeclared value inside a longer text the page shows in the clear (a link's path
# /u/jane/, "Boeing 737 seats") is that text, recorded as it should be. A longer value the page
# shows in the clear as a whole, at any checkpoint (a heading a rename field is prefilled with,
# a posted comment), is no secret either: no recorder can tell that text from any other. That
# holds for form values, masked and blocked content, not for declared values, passwords, card
# fields or the PII a recorder must detect (a card number or an email is looked for wherever
# the page shows it), nor for what a contenteditable element shows: that is its value.
ANYWHERE_LENGTH = 4
TOKEN_LENGTH = 3
# Kinds of secret a clear text equal to it makes no secret (see above).
PAGE_SHOWS = frozenset({"input", "masked", "blocked"})
# The secret standing for strict's promise (secrets()): its `within` holds the unmasked texts.
STRICT, STRICT_KIND = "privacy: strict", "strict"
NUMBER_CHARS = frozenset("0123456789.eE+-")  # what a JSON number is written with
BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


@dataclass(frozen=True)
class Sensitive:
    """One piece of live-page content (harness/js/src/sensitive.ts), or an error the page threw."""

    path: str
    field: str  # "value", "text", "attr:<name>", "css", "url", "error <n>"
    text: str
    input: bool
    password: bool  # a password field, or one a script turned into a text field
    masked: bool
    unmasked: bool
    blocked: bool


@dataclass(frozen=True)
class Secret:
    value: str
    kind: str  # declared | input | password | masked | blocked | a pii.FAMILIES kind
    source: str  # where on the live page it was, e.g. "form > input#email value"
    within: tuple[str, ...] = ()  # longer texts shown in the clear that contain it


@dataclass(frozen=True)
class Leak:
    value: str
    kind: str
    where: str  # "event 12, data.text" or "batch 3, raw bytes"
    source: str

    def to_json(self) -> dict[str, str]:
        return {"value": self.value, "kind": self.kind, "where": self.where, "source": self.source}


def page_errors(errors: Iterable[str]) -> list[Sensitive]:
    """The page's uncaught errors (message and stack) as page content: a recorder that records
    errors must not carry the PII in them."""
    flags = dict.fromkeys(("input", "password", "masked", "unmasked", "blocked"), False)
    return [Sensitive("window", f"error {n}", text, **flags) for n, text in enumerate(errors, 1)]


def secrets(
    items: Iterable[Sensitive], declared: Iterable[str], config: RecorderConfig
) -> list[Secret]:
    """What must not reach the stream under `config`, one entry per distinct value."""
    items = list(items)
    clear = _shown_in_clear(items, config)
    shown = set(clear)
    # Payment card fields (autocomplete cc-number, cc-csc...): their values stay secrets.
    cards = {
        item.path
        for item in items
        if item.field == "attr:autocomplete" and item.text.strip().lower().startswith("cc-")
    }
    found: dict[str, Secret] = {}
    region = page_region(items, config)

    def add(value: str, kind: str, source: str, card: bool = False) -> None:
        value = value.strip()
        if not value or value in found:
            return
        secret = Secret(value, kind, source)
        if not _anywhere(secret):
            occurs = _finder(secret)
            if any(occurs(text) for text in clear):
                return
        elif kind != "declared":  # a declared value must appear nowhere, clear text or not
            if kind in PAGE_SHOWS and value in shown and not card:
                return  # a PII kind, if the recorder must detect it, comes next
            holders = _clear_holders(value, clear, config, region)
            secret = Secret(value, kind, source, holders)
        found[value] = secret

    for value in declared:
        holder = next((i for i in items if value in i.text), None)
        add(value, "declared", f"{holder.path} {holder.field}" if holder else "expect.pii")
    for item in items:
        source = f"{item.path} {item.field}"
        # `mask` and `block` cover what an element shows and holds (text, form values), not its
        # attributes: ids and classes style the placeholder a recorder puts in a blocked one.
        content = item.field in ("text", "value")
        if item.password:
            add(item.text, "password", source)  # no selector unmasks a password
            continue
        if item.blocked and content:
            add(item.text, "blocked", source)  # not recorded at all, whatever unmask says
        if item.unmasked:
            continue
        if item.input and config.mask_all_inputs:
            add(item.text, "input", source, item.path in cards)
        if content and (item.masked or (config.mask_all_text and item.field == "text")):
            add(item.text, "masked", source)
        if config.detect_pii:
            for match in _detect(item.text, region):
                add(match.value, match.kind, source)
    if config.strict:
        # Strict's promise (no readable text, no media) is checked on the stream's structure
        # by scan(); what `unmask` keeps in the clear is the exception.
        unmasked = {
            item.text.strip()
            for item in items
            if item.unmasked
            and not item.password
            and (item.field in ("text", "value") or item.field.startswith("attr:"))
        }
        found[STRICT] = Secret(STRICT, STRICT_KIND, "recorder.privacy: strict", tuple(unmasked))
    return list(found.values())


def page_region(items: Iterable[Sensitive], config: RecorderConfig) -> str:
    """The region of national phone formats: recorder.pii_region, else the region of the top
    document's <html lang> ("pt-BR": BR), else US (a bare "fr" names no region)."""
    if config.pii_region:
        return config.pii_region
    lang = next((i.text for i in items if i.path == "html" and i.field == "attr:lang"), None)
    return pii.region_from_lang(lang) or pii.DEFAULT_REGION


def _clear_holders(
    value: str, clear: list[str], config: RecorderConfig, region: str
) -> tuple[str, ...]:
    """Longer clear texts holding `value` where a recorder may keep it: not where it is PII the
    recorder must detect (an email in the page URL, a phone number in a link)."""
    return tuple(
        text
        for text in clear
        if value in text
        and text != value
        and not (config.detect_pii and any(m.value == value for m in _detect(text, region)))
    )


def _detect(text: str, region: str) -> list[pii.Match]:
    """PII in `text` and in its URL-decoded forms (`jane%40example.com`, `%2B33+6+12...` in an
    href or a query string): a recorder must mask it there too."""
    forms = {text, unquote(text), unquote_plus(text)} if "%" in text or "+" in text else {text}
    return [match for form in forms for match in pii.find(form, region)]


def _shown_in_clear(items: list[Sensitive], config: RecorderConfig) -> list[str]:
    """What the page shows or carries that no option masks: unmasked text, attribute names and
    values (but an input's value attribute: its value, and a frame's srcdoc: its document), CSS,
    the URL, errors, tag names; not the text inside a contenteditable element (its value)."""
    inputs = {item.path for item in items if item.input}
    editable = tuple(item.path for item in items if item.input and item.field == "text")
    clear: set[str] = set()
    for item in items:
        clear.update(re.findall(r"(?:^|> )([a-z][a-z0-9-]*)", item.path))
        if item.input or item.password or item.blocked:
            continue
        if item.field == "text" and _inside(item.path, editable):
            continue
        if item.field == "text" and not item.unmasked and (item.masked or config.mask_all_text):
            continue
        if item.field.startswith("attr:"):
            name = item.field.removeprefix("attr:")
            clear.add(name)
            if name == "value" and item.path in inputs:
                continue
            if name == "srcdoc":
                continue  # the markup of a frame's document: what masking hides there, it holds
        clear.add(item.text.strip())
    return sorted(clear)


def _inside(path: str, elements: tuple[str, ...]) -> bool:
    """Whether `path` is one of `elements` or lies under one (a child, a shadow root)."""
    return any(path == e or path.startswith((f"{e} > ", f"{e} >>>")) for e in elements)


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


def _in_a_number(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is part of a number of the batch's JSON text: a digit-only value
    equals one of the stream's own times, ids, coordinates or sizes by chance ("737" was found
    in `[5,737,...]`, a card's expiry "1230" in `[3,1230,...]`), so only strings and keys,
    where recorders put values, count. A quote on one side only is a chunk's edge (a chunk's
    `data` is a slice of the batch's JSON text)."""
    while start and text[start - 1] in NUMBER_CHARS:
        start -= 1
    while end < len(text) and text[end] in NUMBER_CHARS:
        end += 1
    before, after = text[:start].rstrip()[-1:], text[end:].lstrip()[:1]
    return before in '[,:"' and after in ',]}"' and not before == after == '"'


def _anywhere(secret: Secret) -> bool:
    """Whether `secret` is looked for anywhere, not only as a token or a whole string."""
    return secret.kind == "declared" or len(secret.value) >= ANYWHERE_LENGTH


def _finder(secret: Secret, raw: bool = False) -> Callable[[str], bool]:
    """Whether a string holds `secret` in one of its encodings, as its length allows (see
    ANYWHERE_LENGTH): anywhere but inside a longer word or number or a clear text, as a whole
    token, or as the whole string. In a `raw` batch text, a digit-only value is not looked for
    in the JSON's numbers."""
    forms = encodings(secret.value)
    if _anywhere(secret):
        within = [form for text in secret.within for form in encodings(text)]
        numeric = raw and secret.value.isdigit()
        return lambda text: any(
            not _covered(text, start, start + len(form), within)
            and not (numeric and _in_a_number(text, start, start + len(form)))
            for form in forms
            for start in _occurrences(text, form)
        )
    if len(secret.value) >= TOKEN_LENGTH:
        token = re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, forms)) + r")(?!\w)")
        return lambda text: token.search(text) is not None
    return lambda text: text.strip() in forms


def _occurrences(text: str, form: str) -> Iterator[int]:
    """Starts of `form` in `text` (overlapping ones too) that do not continue a run of ASCII
    letters or digits on either side."""
    start = text.find(form)
    while start >= 0:
        end = start + len(form)
        before = text[start - 1] if start else ""
        after = text[end] if end < len(text) else ""
        if not (_glued(before, form[0]) or _glued(form[-1], after)):
            yield start
        start = text.find(form, start + 1)


def _glued(a: str, b: str) -> bool:
    """Whether `a` then `b` reads as one word or one number."""
    if not (a.isascii() and b.isascii()):
        return False
    return (a.isdigit() and b.isdigit()) or (a.isalpha() and b.isalpha())


def _covered(text: str, start: int, end: int, within: list[str]) -> bool:
    """Whether text[start:end] lies inside an occurrence of one of `within`."""
    return any(text.find(w, max(0, end - len(w)), start + len(w)) >= 0 for w in within)


def scan(
    stream: Stream, found: Iterable[Secret], is_mark: Callable[[Event], bool] = lambda _: False
) -> list[Leak]:
    """Every place each secret occurs: in decoded event strings first (with the event and
    field), else in the raw batches, so a value that hides from the decoded view is caught.
    Digits are not looked for in the raw bytes' numbers: "737" is in many a timestamp. The events
    `is_mark` picks are the harness's own checkpoint marks: their names are not the recorder's
    to mask, so they are searched nowhere."""
    leaks: list[Leak] = []
    strings = [
        (index, path, text)
        for index, event in enumerate(stream.events)
        if not is_mark(event)
        for path, text in _strings(event, "")
    ]
    raw = []
    for batch in stream.batches:
        body = decode_body(batch)
        # A chunk of a large batch (the transport protocol) holds `data`, a slice of its text.
        marks = [m for m in json.loads(body).get("events", []) if is_mark(m)]
        # The body as the ingest reads it (gunzipped): the compressed bytes are no text, and
        # searching them found a 3-digit declared value ("737") by chance in 1 of ~1,000 runs.
        raw.append({_unmarked(body.decode("utf-8", errors="replace"), marks)})
    for secret in found:
        if secret.kind == STRICT_KIND:
            leaks.extend(strict_leaks(stream, secret.within, is_mark))
            continue
        occurs = _finder(secret)
        hits = [
            Leak(secret.value, secret.kind, f"event {index}, {path or 'value'}", secret.source)
            for index, path, text in strings
            if occurs(text)
        ]
        if not hits and _anywhere(secret):
            occurs = _finder(secret, raw=True)
            hits = [
                Leak(secret.value, secret.kind, f"batch {index}, raw bytes", secret.source)
                for index, texts in enumerate(raw)
                if any(occurs(text) for text in texts)
            ]
        leaks.extend(hits)
    return leaks


def strict_leaks(
    stream: Stream, unmasked: Iterable[str], is_mark: Callable[[Event], bool] = lambda _: False
) -> list[Leak]:
    """What a `privacy: strict` stream holds in the clear: readable text (text nodes, comments,
    text attributes, form values, CSS `content:` strings, the title) that no `unmask`ed text of
    the page accounts for, and media that is no placeholder. Read by the adapter of the
    stream's format (the one `is_mark` belongs to, else the first that reads it); a format no
    adapter reads cannot be verified, which fails too."""
    from harness.adapters import ADAPTERS  # here: the adapters import this module's imports
    from harness.adapters.base import Adapter, Readable

    owner = getattr(is_mark, "__self__", None)
    candidates = [owner] if isinstance(owner, Adapter) else []
    candidates += [cls() for cls in ADAPTERS.values()]
    for adapter in candidates:
        found = adapter.readable(stream)
        if found is not None:
            break
    else:
        return [
            Leak(
                "",
                STRICT_KIND,
                "the stream",
                "recorder.privacy: strict cannot be verified: "
                "no adapter reads this stream's format",
            )
        ]
    clear = [text for text in unmasked if text]

    def exempt(item: Readable) -> bool:
        return item.kind != "media" and any(_fits(item.text.strip(), text) for text in clear)

    # A field whose value ends as an unmasked one: its every value (typing it) is unmasked.
    fields = {item.field for item in found if item.field is not None and exempt(item)}
    leaks = []
    for item in found:
        if exempt(item) or (item.kind == "value" and item.field in fields):
            continue
        gap = adapter.strict_gap(item.kind)
        note = f" ({adapter.name}'s known gap: {gap})" if gap else ""
        leaks.append(
            Leak(item.text, STRICT_KIND, item.where, f"recorder.privacy: strict, {item.kind}{note}")
        )
    return leaks


def _fits(recorded: str, clear: str) -> bool:
    """Whether `recorded` is the unmasked `clear` text, with some of it (PII) starred."""
    return len(recorded) == len(clear) and all(
        a == b or a == "*" for a, b in zip(recorded, clear, strict=True)
    )


def _unmarked(text: str, marks: list[Event]) -> str:
    """The JSON `text` without the strings of the `marks` it holds: one occurrence of each
    string goes, which leaves the same number of that string whichever one it was."""
    for mark in marks:
        for path, string in _strings(mark, ""):
            if not path.endswith("(base64)"):
                text = text.replace(json.dumps(string, ensure_ascii=False), '""', 1)
    return text


def coverage(found: list[Secret], leaks: list[Leak]) -> float:
    """Share of the page's secrets that reached the stream masked everywhere."""
    if not found:
        return 1.0
    leaked = {STRICT if leak.kind == STRICT_KIND else leak.value for leak in leaks}
    return sum(secret.value not in leaked for secret in found) / len(found)


# Kinds in the order reports list them: declared values, form and selector kinds, PII families.
KINDS = ("declared", "password", "input", "masked", "blocked", *pii.FAMILIES)


def families(found: Iterable[Secret], leaks: Iterable[Leak]) -> dict[str, dict[str, Any]]:
    """Per kind of secret: how many values the page held, how many reached the stream masked
    everywhere, and each leaked value with where on the page it came from, where it leaked
    first and in how many places. Kinds the page held none of are left out."""
    leaks = list(leaks)
    out: dict[str, dict[str, Any]] = {}
    for secret in found:
        if secret.kind == STRICT_KIND:
            continue  # strict's promise is one verdict on the whole stream, not a value
        entry = out.setdefault(secret.kind, {"held": 0, "masked": 0, "leaks": []})
        entry["held"] += 1
        places = [leak for leak in leaks if leak.value == secret.value]
        if not places:
            entry["masked"] += 1
            continue
        entry["leaks"].append(
            {
                "value": secret.value,
                "source": secret.source,
                "where": places[0].where,
                "places": len(places),
            }
        )
    order = {kind: i for i, kind in enumerate(KINDS)}
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))
