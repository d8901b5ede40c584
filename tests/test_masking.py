from __future__ import annotations

import base64
import gzip
import html
import json
from urllib.parse import quote

from harness.adapters.rrweb import RrwebAdapter
from harness.masking import Secret, Sensitive, coverage, scan, secrets
from harness.scenario import RecorderConfig
from harness.server import Batch
from harness.stream import Stream


def stream_of(*events: dict[str, object]) -> Stream:
    body = json.dumps({"page": 1, "seq": 0, "events": list(events)}).encode()
    return RrwebAdapter().decode([Batch(body, "text/plain", "")])


def declared(*values: str) -> list[Secret]:
    return secrets([], values, RecorderConfig())


def item(text: str, field: str = "text", **flags: bool) -> Sensitive:
    defaults = {"input": False, "password": False, "masked": False, "unmasked": False}
    return Sensitive("form > input#x", field, text, **{**defaults, **flags})


def test_a_value_in_an_event_is_found_with_its_path() -> None:
    stream = stream_of(
        {"timestamp": 1, "data": {"text": "ok"}},
        {"timestamp": 2, "data": {"attributes": [{"title": "mail jane@example.com"}]}},
    )
    [leak] = scan(stream, declared("jane@example.com"))
    assert leak.where == "event 1, data.attributes[0].title"
    assert leak.kind == "declared"


def test_encoded_forms_are_found() -> None:
    name = "Zoë O'Brien & Co"
    for text in (quote(name), html.escape(name), json.dumps(name)):
        assert scan(stream_of({"timestamp": 1, "href": f"/x?q={text}"}), declared(name)), text


def test_a_value_inside_base64_and_gzip_inside_base64_is_found() -> None:
    plain = base64.b64encode(b"prefix jane@example.com suffix").decode()
    packed = base64.b64encode(gzip.compress(b'{"v":"jane@example.com"}')).decode()
    for blob in (plain, packed):
        [leak] = scan(stream_of({"timestamp": 1, "data": blob}), declared("jane@example.com"))
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
    found = declared("jane@example.com", "Jane Doe")
    leaks = scan(stream_of({"timestamp": 1, "data": {"text": "****@*******.***"}}), found)
    assert leaks == []
    assert coverage(found, leaks) == 1.0


def test_coverage_is_the_share_of_secrets_that_did_not_leak() -> None:
    found = declared("Jane Doe", "jane@example.com")
    leaks = scan(stream_of({"timestamp": 1, "v": "Jane Doe"}), found)
    assert coverage(found, leaks) == 0.5


def test_page_secrets_follow_the_recorder_config() -> None:
    items = [
        item("Jane Doe", "value", input=True),
        item("hunter22", "value", input=True, password=True, unmasked=True),
        item("Call +33 6 12 34 56 78 today"),
        item("Order 2024-05-17 ready"),
        item("Account holder Ada", masked=True),
        item("jane@example.com", "attr:title", unmasked=True),
        item("42", "value", input=True),
    ]
    kinds = {s.value: s.kind for s in secrets(items, (), RecorderConfig())}
    assert kinds == {
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
