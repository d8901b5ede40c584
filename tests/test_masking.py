from __future__ import annotations

import base64
import gzip
import html
import json
from urllib.parse import quote

from harness.adapters.builtin import BuiltinAdapter
from harness.adapters.rrweb import RrwebAdapter
from harness.masking import Secret, Sensitive, coverage, page_errors, scan, secrets
from harness.scenario import RecorderConfig
from harness.server import Batch
from harness.stream import Stream


def stream_of(*events: dict[str, object]) -> Stream:
    body = json.dumps({"page": 1, "seq": 0, "events": list(events)}).encode()
    return RrwebAdapter().decode([Batch(body, "text/plain", "")])


def declared(*values: str) -> list[Secret]:
    return secrets([], values, RecorderConfig())


def item(text: str, field: str = "text", path: str = "form > input#x", **flags: bool) -> Sensitive:
    defaults = {"input": False, "password": False, "masked": False, "unmasked": False}
    return Sensitive(path, field, text, **{**defaults, "blocked": False, **flags})


def kinds(items: list[Sensitive], config: RecorderConfig | None = None) -> dict[str, str]:
    return {s.value: s.kind for s in secrets(items, (), config or RecorderConfig())}


def test_a_value_in_an_event_is_found_with_its_path() -> None:
    stream = stream_of(
        {"timestamp": 1, "data": {"text": "ok"}},
        {"timestamp": 2, "data": {"attributes": [{"title": "mail jane@acme-mail.com"}]}},
    )
    [leak] = scan(stream, declared("jane@acme-mail.com"))
    assert leak.where == "event 1, data.attributes[0].title"
    assert leak.kind == "declared"


def test_encoded_forms_are_found() -> None:
    name = "Zoë O'Brien & Co"
    for text in (quote(name), html.escape(name), json.dumps(name)):
        assert scan(stream_of({"timestamp": 1, "href": f"/x?q={text}"}), declared(name)), text


def test_a_value_inside_base64_and_gzip_inside_base64_is_found() -> None:
    plain = base64.b64encode(b"prefix jane@acme-mail.com suffix").decode()
    packed = base64.b64encode(gzip.compress(b'{"v":"jane@acme-mail.com"}')).decode()
    for blob in (plain, packed):
        [leak] = scan(stream_of({"timestamp": 1, "data": blob}), declared("jane@acme-mail.com"))
        assert leak.where == "event 0, data (base64)"


def test_json_unicode_escapes_do_not_hide_a_value() -> None:
    # A byte search for "ë" misses its JSON escape; the decoded events still hold it.
    body = b'{"page": 1, "seq": 0, "events": [{"timestamp": 1, "t": "Zo\\u00eb"}]}'
    stream = RrwebAdapter().decode([Batch(body, "text/plain", "")])
    assert scan(stream, declared("Zoë"))


def test_a_compressed_batch_is_searched_too() -> None:
    body = gzip.compress(
        json.dumps({"page": 1, "seq": 0, "events": [{"timestamp": 1, "v": "Jane Doe"}]}).encode()
    )
    stream = RrwebAdapter().decode([Batch(body, "application/octet-stream", "")])
    assert scan(stream, declared("Jane Doe"))


def test_masked_stream_has_no_leak_and_full_coverage() -> None:
    found = declared("jane@acme-mail.com", "Jane Doe")
    leaks = scan(stream_of({"timestamp": 1, "data": {"text": "****@*******.***"}}), found)
    assert leaks == []
    assert coverage(found, leaks) == 1.0


def test_coverage_is_the_share_of_secrets_that_did_not_leak() -> None:
    found = declared("Jane Doe", "jane@acme-mail.com")
    leaks = scan(stream_of({"timestamp": 1, "v": "Jane Doe"}), found)
    assert coverage(found, leaks) == 0.5


def test_page_secrets_follow_the_recorder_config() -> None:
    items = [
        item("Jane Doe", "value", input=True),
        item("hunter22", "value", input=True, password=True, unmasked=True),
        item("Call +33 6 12 34 56 78 today"),
        item("Order 2024-05-17 ready"),
        item("Account holder Ada", masked=True),
        item("jane@acme-mail.com", "attr:title", unmasked=True),
    ]
    assert kinds(items) == {
        "Jane Doe": "input",
        "hunter22": "password",  # unmask never applies to passwords
        "+33 6 12 34 56 78": "phone",
        "Account holder Ada": "masked",
    }
    relaxed = RecorderConfig(mask_all_inputs=False, detect_pii=False)
    assert {s.value for s in secrets(items, (), relaxed)} == {"hunter22", "Account holder Ada"}


def test_a_declared_value_names_the_element_that_held_it() -> None:
    [secret] = secrets([item("Jane Doe", "value", input=True)], ["Jane Doe"], RecorderConfig())
    assert secret.source == "form > input#x value"
    assert secret.kind == "declared"


def test_mask_covers_text_and_values_not_attributes() -> None:
    items = [
        item("notes-block", "attr:id", "div#notes-block", masked=True),
        item("pii wide", "attr:class", "div#notes-block", masked=True),
        item("Internal notes", "attr:title", "div#notes-block", masked=True),
        item("Adviser notes", "text", "div#notes-block", masked=True),
        item("Ada", "value", "div#notes-block > input#nick", input=True, masked=True),
    ]
    relaxed = RecorderConfig(mask_all_inputs=False)
    assert kinds(items, relaxed) == {"Adviser notes": "masked", "Ada": "masked"}
    assert kinds(items, RecorderConfig(mask_all_inputs=False, mask_all_text=True)) == {
        "Adviser notes": "masked",
        "Ada": "masked",
    }


def test_a_password_stays_a_secret_under_unmask_and_when_short() -> None:
    items = [item("pw1", "value", input=True, password=True, unmasked=True)]
    assert kinds(items, RecorderConfig(mask_all_inputs=False, detect_pii=False)) == {
        "pw1": "password"
    }


def test_blocked_text_and_values_are_secrets_not_the_placeholder_attributes() -> None:
    items = [
        item("partner-slot", "attr:id", "div#partner-slot", blocked=True),
        item("ad", "attr:class", "div#partner-slot", blocked=True),
        item("Offer for Lord Byron", "text", "div#partner-slot > p", blocked=True),
        item("PROMO-1815", "value", "div#partner-slot > input#promo", input=True, blocked=True),
        item("Sponsored", "text", "div#partner-slot", blocked=True, unmasked=True),
    ]
    relaxed = RecorderConfig(mask_all_inputs=False, detect_pii=False)
    assert kinds(items, relaxed) == {
        "Offer for Lord Byron": "blocked",
        "PROMO-1815": "blocked",
        "Sponsored": "blocked",  # a recorder cannot record part of what it does not record
    }


def test_css_and_page_errors_are_searched_for_pii_only() -> None:
    items = [
        item('#card::after { content: "4111 1111 1111 1111"; }', "css", "html > head > style"),
        item("--owner: 'DE89 3704 0044 0532 0130 00'", "attr:style", "p.owner"),
        *page_errors(["Error: declined for ada@acme-mail.org\n    at pay (billing.js:3:7)"]),
    ]
    # CSS is not text: mask_all_text does not make a style sheet one masked secret.
    found = secrets(items, (), RecorderConfig(mask_all_text=True))
    assert {(s.value, s.kind, s.source) for s in found} == {
        ("4111 1111 1111 1111", "card", "html > head > style css"),
        ("DE89 3704 0044 0532 0130 00", "iban", "p.owner attr:style"),
        ("ada@acme-mail.org", "email", "window error 1"),
    }
    assert secrets(items, (), RecorderConfig(detect_pii=False)) == []


def test_url_encoded_pii_is_decoded_before_detection() -> None:
    href = "profile.html?email=jane%40acme-mail.com&tel=%2B33612345678&alt=%2B33+6+12+34+56+78"
    assert kinds([item(href, "attr:href", "a#profile")]) == {
        "jane@acme-mail.com": "email",
        "+33612345678": "phone",
        "+33 6 12 34 56 78": "phone",
    }
    # The decoded value is searched in every encoding: its URL-encoded form is a leak.
    [leak, *_] = scan(
        stream_of({"timestamp": 1, "href": href}),
        secrets([item(href, "attr:href", "a#profile")], (), RecorderConfig()),
    )
    assert leak.where == "event 0, href"


def test_short_typed_values_are_secrets_found_only_as_tokens_or_whole_strings() -> None:
    items = [
        item("737", "value", "input#cvv", input=True),
        item("2", "value", "input#qty", input=True),
    ]
    found = secrets(items, (), RecorderConfig())
    assert {s.value for s in found} == {"737", "2"}

    def leaked(*strings: str) -> set[str]:
        events = [{"timestamp": 1, "v": text} for text in strings]
        return {leak.value for leak in scan(stream_of(*events), found)}

    assert leaked("737", "2") == {"737", "2"}
    assert leaked("cvv=737&qty=2 ") == {"737"}  # "2" only as a whole string
    assert leaked("*** 1737 #737373 width: 737px", "12", "h2") == set()
    # Nor in the raw bytes (timestamps, coordinates): only the decoded strings count.
    assert scan(stream_of({"timestamp": 737, "x": 2}), found) == []


def test_a_short_value_the_page_shows_in_the_clear_is_no_evidence() -> None:
    typed = [
        item("737", "value", "form > input#cvv", input=True),
        item("h2", "value", "form > input#tag", input=True),
        item("id", "value", "form > input#attr", input=True),
        item("42", "value", "form > input#age", input=True),
        item("1", "value", "form > input#qty", input=True),
    ]
    page = [
        item("Boeing 737 seats", "text", "main > p"),
        item("Section", "text", "main > h2"),  # the tag name h2
        item("main", "attr:id", "main"),  # the attribute name id
        item("42", "attr:value", "form > input#age"),  # the field's own default: still a secret
        item("1", "text", "main > span.badge", masked=True),  # masked: not shown in the clear
    ]
    assert kinds(typed + page) == {"42": "input", "1": "input"}
    # Long values are looked for whatever the page shows.
    long = [item("Boeing", "value", "form > input#maker", input=True), *page]
    assert kinds(long) == {"Boeing": "input", "1": "masked"}


def test_a_value_inside_a_longer_word_or_number_is_another_value() -> None:
    items = [
        item("mask1", "text", "main > p.secret", masked=True),
        item("unmask1", "text", "main > p.shown"),
        item("4242", "value", "form > input#pin", input=True),
    ]
    found = secrets(items, ["42"], RecorderConfig())
    assert {s.value for s in found} == {"mask1", "4242", "42"}

    def leaked(*events: dict[str, object]) -> set[str]:
        return {leak.value for leak in scan(stream_of(*events), found)}

    # The clear text, ids, timestamps (in the raw bytes too): no value of the page in them.
    coincidences = leaked(
        {"timestamp": 1764582342, "data": {"text": "unmask1", "id": "row-142420"}},
        {"timestamp": 1764582343, "data": {"class": "mask12 n1424", "at": "17424251"}},
    )
    assert coincidences == set()
    # The values themselves, at word boundaries, in any string.
    leaks = leaked({"timestamp": 1, "data": {"text": "mask1 (unmask1)", "v": "pin=4242;cvv=42"}})
    assert leaks == {"mask1", "4242", "42"}


def test_an_undeclared_value_inside_a_text_shown_in_the_clear_is_that_text() -> None:
    href = "https://example.com/u/jane.doe/profile"
    items = [
        item("jane.doe", "text", "main > span.user", masked=True),
        item(href, "attr:href", "main > a"),
    ]
    found = secrets(items, [], RecorderConfig(detect_pii=False))
    [secret] = found
    assert secret.within == (href,)
    assert scan(stream_of({"timestamp": 1, "data": {"href": href}}), found) == []
    [leak] = scan(stream_of({"timestamp": 1, "data": {"href": href, "text": "jane.doe"}}), found)
    assert leak.where == "event 0, data.text"
    # A declared value must appear nowhere, even inside a text the page shows.
    assert scan(stream_of({"timestamp": 1, "data": {"href": href}}), declared("jane.doe"))


def test_pii_inside_a_clear_text_is_still_pii() -> None:
    url = "https://example.com/account?email=jane@acme-mail.com"
    items = [item(url, "url", "document"), item("jane@acme-mail.com", "text", "p.me", masked=True)]
    found = secrets(items, [], RecorderConfig())
    assert {(s.value, s.within) for s in found} == {("jane@acme-mail.com", ())}
    [leak] = scan(stream_of({"timestamp": 1, "data": {"href": url}}), found)
    assert leak.where == "event 0, data.href"


def test_a_frames_srcdoc_holds_its_masked_text_it_does_not_show_it() -> None:
    srcdoc = "<p>Paid by Grace Hopper</p>"
    items = [
        item(srcdoc, "attr:srcdoc", "iframe#receipt"),
        item("Paid by Grace Hopper", "text", "iframe#receipt >>> > p", masked=True),
    ]
    found = secrets(items, [], RecorderConfig(detect_pii=False))
    assert [(s.value, s.within) for s in found] == [("Paid by Grace Hopper", ())]
    [leak] = scan(stream_of({"timestamp": 1, "attributes": {"srcdoc": srcdoc}}), found)
    assert leak.where == "event 0, attributes.srcdoc"


def test_a_value_the_page_shows_as_a_whole_is_no_secret_unless_it_must_be() -> None:
    shown = [
        item("Doing", "text", "main > section > h2"),  # a column heading, later a field's value
        item("Kofi Mensah", "text", "main > ol > li > strong"),  # a posted comment's author
        item("jane@acme-mail.com", "text", "main > p.contact"),
        item("4111 1111 1111 1111", "text", "main > p.card"),
        item("Open sesame", "text", "main > p.hint"),
        item("cc-number", "attr:autocomplete", "form > input#card"),
    ]
    typed = [
        item("Doing", "value", "form > input#column-name", input=True),
        item("Kofi Mensah", "value", "form > input#author", input=True),
        item("jane@acme-mail.com", "value", "form > input#email", input=True),
        item("4111 1111 1111 1111", "value", "form > input#card", input=True),
        item("Open sesame", "value", "form > input#pw", input=True, password=True),
        item("Mary Jones", "value", "form > input#name", input=True),  # shown nowhere
        item("Ada Lovelace", "value", "form > input#nick", input=True),
        item("Ada Lovelace", "text", "form > div#bio"),  # a contenteditable shows its value
        item("Ada Lovelace", "text", "form > div#bio", input=True),
    ]
    found = secrets(shown + typed, ["Kofi Mensah"], RecorderConfig())
    assert {s.value: s.kind for s in found} == {
        "Kofi Mensah": "declared",  # expect.pii: nowhere, shown or not
        "jane@acme-mail.com": "email",  # PII the recorder must detect
        "4111 1111 1111 1111": "card",
        "Open sesame": "password",
        "Mary Jones": "input",
        "Ada Lovelace": "input",
    }
    # A card field stays a secret where the recorder detects no PII.
    relaxed = secrets(shown + typed, [], RecorderConfig(detect_pii=False))
    assert {s.value for s in relaxed} == {
        "4111 1111 1111 1111",
        "Open sesame",
        "Mary Jones",
        "Ada Lovelace",
    }
    # The recorder that keeps a value in the clear is still caught where the page shows it not.
    stream = stream_of(
        {"timestamp": 1, "data": {"text": "Doing"}},
        {"timestamp": 2, "data": {"source": 5, "text": "Mary Jones"}},
    )
    assert [leak.value for leak in scan(stream, relaxed)] == ["Mary Jones"]


def builtin_stream(*events: list[object]) -> Stream:
    body = json.dumps({"page": 1000, "seq": 0, "events": list(events)}).encode()
    return BuiltinAdapter().decode([Batch(body, "application/json", "")])


def test_the_harness_checkpoint_marks_are_not_scanned() -> None:
    found = secrets([item("harb", "value", "form > input#q", input=True)], [], RecorderConfig())
    adapter = BuiltinAdapter()
    marked = builtin_stream([3, 5.0, 4, "****"], [10, 6.0, "harb"])
    assert scan(marked, found, adapter.is_checkpoint_mark) == []
    assert [leak.where for leak in scan(marked, found)] == ["event 1, [2]"]
    # Only the mark's payload: the value elsewhere, in the events or the raw bytes, is a leak.
    typed = builtin_stream([3, 5.0, 4, "harb"], [10, 6.0, "harb"])
    [leak] = scan(typed, found, adapter.is_checkpoint_mark)
    assert leak.where == "event 0, [3]"
    keyed = builtin_stream([2, 5.0, {"harb": 1}], [10, 6.0, "harb"])
    [leak] = scan(keyed, found, adapter.is_checkpoint_mark)
    assert leak.where == "batch 0, raw bytes"
    rrweb = RrwebAdapter()
    tag = {"tag": "replaycheck.checkpoint", "payload": {"name": "harb"}}
    mark = {"type": 5, "timestamp": 2, "data": tag}
    assert scan(stream_of({"timestamp": 1, "data": {"text": "****"}}, mark), found) != []
    assert scan(stream_of(mark), found, rrweb.is_checkpoint_mark) == []


def test_digits_are_looked_for_in_strings_and_keys_not_in_the_json_numbers() -> None:
    """A CVC or a card's expiry among timestamps, coordinates and node ids: a number in the
    batch's JSON is no leak of it, a string or a key holding it is (found flaky when the raw
    text was searched: "737" in `[5,737,...]`, "1230" in `[3,1230,...]`)."""
    numbers = stream_of({"timestamp": 737, "data": {"x": 737, "id": 737, "positions": [737]}})
    assert scan(numbers, declared("737")) == []
    [leak] = scan(stream_of({"timestamp": 1, "data": {"text": "cvc 737"}}), declared("737"))
    assert leak.where == "event 0, data.text"
    expiry = builtin_stream([3, 1230, 4, "****"], [3, 12.1230, 1230e3, -1230])
    assert scan(expiry, declared("1230")) == []
    [leak] = scan(builtin_stream([2, 5.0, {"1230": 1}]), declared("1230"))
    assert leak.where == "batch 0, raw bytes"
    # A chunk's data is a slice of the batch's text: a number may open or close it.
    batch = {"page": 1000, "seq": 0, "events": [[3, 5.0, 4, "****"], [3, 1230, 4, "****"]]}
    text = json.dumps(batch, separators=(",", ":"))
    cut = text.index("1230")
    chunks = [
        {"page": 1000, "seq": 0, "chunk": i, "n": 2, "data": data, **({"last": 1} if i else {})}
        for i, data in enumerate([text[:cut], text[cut:]])
    ]
    sliced = BuiltinAdapter().decode(
        [Batch(json.dumps(c).encode(), "application/json", "") for c in chunks]
    )
    assert len(sliced.events) == 2
    assert scan(sliced, declared("1230")) == []
