from __future__ import annotations

import base64
import html
import json
from urllib.parse import quote

from harness.adapters.rrweb import RrwebAdapter
from harness.masking import coverage, scan
from harness.server import Batch
from harness.stream import Stream


def stream_of(*events: dict[str, object]) -> Stream:
    body = json.dumps({"page": 1, "seq": 0, "events": list(events)}).encode()
    return RrwebAdapter().decode([Batch(body, "text/plain", "")])


def test_a_value_in_an_event_is_found_with_its_path() -> None:
    stream = stream_of(
        {"timestamp": 1, "data": {"text": "ok"}},
        {"timestamp": 2, "data": {"attributes": [{"title": "mail jane@example.com"}]}},
    )
    [leak] = scan(stream, ("jane@example.com",))
    assert leak.where == "event 1, data.attributes[0].title"


def test_encoded_forms_are_found() -> None:
    name = "Zoë O'Brien & Co"
    for text in (quote(name), base64.b64encode(name.encode()).decode(), html.escape(name)):
        assert scan(stream_of({"timestamp": 1, "href": f"/x?q={text}"}), (name,)), text


def test_json_unicode_escapes_do_not_hide_a_value() -> None:
    # JSON's \u escapes hide "ë" from a plain byte search; the decoded view still has it.
    body = b'{"page": 1, "seq": 0, "events": [{"timestamp": 1, "t": "Zo\\u00eb"}]}'
    stream = RrwebAdapter().decode([Batch(body, "text/plain", "")])
    assert scan(stream, ("Zoë",))


def test_masked_stream_has_no_leak_and_full_coverage() -> None:
    stream = stream_of({"timestamp": 1, "data": {"text": "****@*******.***"}})
    leaks = scan(stream, ("jane@example.com", "Jane Doe"))
    assert leaks == []
    assert coverage(("jane@example.com", "Jane Doe"), leaks) == 1.0


def test_coverage_is_the_share_of_values_that_did_not_leak() -> None:
    stream = stream_of({"timestamp": 1, "v": "Jane Doe"})
    leaks = scan(stream, ("Jane Doe", "jane@example.com"))
    assert coverage(("Jane Doe", "jane@example.com"), leaks) == 0.5
