from __future__ import annotations

import json
from typing import Any

from harness.adapters.builtin import BuiltinAdapter
from harness.adapters.rrweb import RrwebAdapter
from harness.events import Interaction, count, rage_clicks
from harness.server import Batch


def clicks(*spec: tuple[float, int, float, float]) -> list[Interaction]:
    return [Interaction("click", t, target, x, y) for t, target, x, y in spec]


def test_three_quick_clicks_on_one_target_are_one_rage_click() -> None:
    assert rage_clicks(clicks((0, 1, 10, 10), (200, 1, 12, 11), (400, 1, 9, 10))) == 1


def test_five_quick_clicks_are_still_one_burst() -> None:
    assert rage_clicks(clicks(*[(i * 100.0, 1, 10.0, 10.0) for i in range(5)])) == 1


def test_two_clicks_are_not_rage() -> None:
    assert rage_clicks(clicks((0, 1, 10, 10), (100, 1, 10, 10))) == 0


def test_slow_clicks_far_clicks_and_other_targets_are_not_rage() -> None:
    assert rage_clicks(clicks((0, 1, 10, 10), (600, 1, 10, 10), (1200, 1, 10, 10))) == 0
    assert rage_clicks(clicks((0, 1, 10, 10), (100, 1, 60, 10), (200, 1, 110, 10))) == 0
    assert rage_clicks(clicks((0, 1, 10, 10), (100, 2, 10, 10), (200, 1, 10, 10))) == 0


def test_two_separate_bursts_count_twice_in_any_input_order() -> None:
    burst = [(i * 100.0, 1, 10.0, 10.0) for i in range(3)]
    later = [(5000 + i * 100.0, 1, 10.0, 10.0) for i in range(3)]
    assert rage_clicks(reversed(clicks(*burst, *later))) == 2


def test_count_reports_every_kind_and_derives_rage_clicks() -> None:
    items = [*clicks(*[(i * 50.0, 7, 5.0, 5.0) for i in range(3)]), Interaction("error", 10)]
    counts = count(items)
    assert counts["click"] == 3
    assert counts["error"] == 1
    assert counts["rage_click"] == 1
    assert counts["scroll"] == 0 and counts["navigation"] == 0


def test_an_edit_counts_once_whether_recorded_per_keystroke_or_per_change() -> None:
    keystrokes = [Interaction("input", t * 10.0, 1) for t in range(8)]
    keystrokes += [Interaction("input", 100.0 + t, 2) for t in range(3)]
    keystrokes.append(Interaction("input", 200.0, 1))  # back to the first field: a new edit
    per_change = [Interaction("input", 70.0, 1), Interaction("input", 102.0, 2)]
    per_change.append(Interaction("input", 200.0, 1))
    assert count(keystrokes)["input"] == count(per_change)["input"] == 3


def test_a_scroll_counts_once_however_its_events_are_throttled() -> None:
    every_100ms = [Interaction("scroll", t * 100.0, 5) for t in range(6)]
    trailing_only = [Interaction("scroll", 500.0, 5)]
    assert count(every_100ms)["scroll"] == count(trailing_only)["scroll"] == 1
    # A pause is timing, not a new scroll; mouse moves and errors do not end one either.
    paused = [*every_100ms, Interaction("mouse_move", 700.0), Interaction("error", 800.0)]
    paused.append(Interaction("scroll", 5000.0, 5))
    assert count(paused)["scroll"] == 1
    # Another target, then the first again: three scrolls.
    later = [Interaction("scroll", 550.0, 0), Interaction("scroll", 2000.0, 5)]
    assert count(every_100ms + later)["scroll"] == 3


def test_a_click_input_navigation_or_checkpoint_ends_a_scroll() -> None:
    for kind in ("click", "dblclick", "input", "navigation", "checkpoint"):
        items = [Interaction("scroll", 0.0, 5), Interaction(kind, 1.0, 9)]
        items.append(Interaction("scroll", 2.0, 5))
        assert count(items)["scroll"] == 2, kind
    assert "checkpoint" not in count([Interaction("checkpoint", 1.0)])


def test_scrolls_a_checkpoint_apart_count_apart_in_both_adapters_streams() -> None:
    # Three window scrolls 285 and 298 ms apart, each followed by the harness's checkpoint mark.
    times = (500.0, 785.0, 1083.0)
    builtin: list[list[object]] = [[8, 1.0, 0, "http://x/a.html"]]
    for n, t in enumerate(times):
        builtin += [[4, t, 0, 0, 500 * (n + 1)], [10, t + 1, f"c{n}"]]
    rrweb: list[dict[str, object]] = [{"type": 4, "timestamp": 1001, "data": {}}]
    for n, t in enumerate(times):
        rrweb.append(incremental(int(1000 + t), source=3, id=1, x=0, y=500 * (n + 1)))
        tag = {"tag": "replaycheck.checkpoint", "payload": {"name": f"c{n}"}}
        rrweb.append({"type": 5, "timestamp": int(1001 + t), "data": tag})
    adapters = (BuiltinAdapter(), RrwebAdapter())
    streams = (envelope(1000.0, builtin), envelope(1000.0, rrweb))
    counts = [count(a.interactions(a.decode([s]))) for a, s in zip(adapters, streams, strict=True)]
    assert counts[0] == counts[1]
    assert counts[0]["scroll"] == 3


# --- the same session as each adapter's stream --------------------------------------------------
# Two documents; on the first a click, a double click, a radio checked in a group of three and a
# word typed; pushState, replaceState and a hash change; rrweb takes a checkout snapshot.


def builtin_counts() -> dict[str, int]:
    url = "http://x/a.html"
    first: list[list[object]] = [
        [8, 1.0, 0, url],  # NavigationKind.Load
        [0, 1.0, url, "A", 1280, 720, 1],  # Meta
        [6, 10.0, 2, 7, 5, 5],  # click
        [6, 20.0, 2, 7, 5, 5],
        [6, 30.0, 2, 7, 5, 5],
        [6, 30.0, 3, 7, 5, 5],  # dblclick
        [3, 40.0, 9, True],  # the radio checked
        *([3, 50.0 + i, 11, "*" * i] for i in range(1, 5)),  # typed, one event a key
        [8, 60.0, 1, url + "?step=2"],  # pushState
        [8, 61.0, 2, url + "?step=3"],  # replaceState
        [8, 62.0, 4, url + "?step=3#x"],  # hash change
    ]
    second: list[list[object]] = [[8, 1.0, 0, "http://x/b.html"], [0, 1.0, "http://x/b.html"]]
    batches = [envelope(1000.0, first), envelope(2000.0, second)]
    return count(BuiltinAdapter().interactions(BuiltinAdapter().decode(batches)))


def rrweb_counts() -> dict[str, int]:
    def mouse(t: int, kind: int) -> dict[str, object]:
        return incremental(t, source=2, type=kind, id=7, x=5, y=5)

    first = [
        {"type": 4, "timestamp": 1001, "data": {"href": "http://x/a.html"}},
        {"type": 2, "timestamp": 1001, "data": {}},
        mouse(1010, 2),
        mouse(1020, 2),
        mouse(1030, 2),
        mouse(1030, 4),
        incremental(1040, source=5, id=9, text="pro", isChecked=True),
        incremental(1040, source=5, id=8, text="basic", isChecked=False),  # its group
        incremental(1040, source=5, id=10, text="team", isChecked=False),
        *(incremental(1050 + i, source=5, id=11, text="*" * i, isChecked=False) for i in (1, 2)),
        *(incremental(1053 + i, source=5, id=11, text="*" * i, isChecked=False) for i in (3, 4)),
        {"type": 4, "timestamp": 1070, "data": {"href": "http://x/a.html?step=3#x"}},  # checkout
        {"type": 2, "timestamp": 1070, "data": {}},
    ]
    second = [{"type": 4, "timestamp": 2001, "data": {"href": "http://x/b.html"}}]
    # The checkout's events come in a batch of their own.
    batches = [envelope(1000.0, first[:-2]), envelope(1000.0, first[-2:], 1)]
    batches.append(envelope(2000.0, second))
    return count(RrwebAdapter().interactions(RrwebAdapter().decode(batches)))


def incremental(t: int, **data: object) -> dict[str, object]:
    return {"type": 3, "timestamp": t, "data": data}


def envelope(page: float, events: list[Any], seq: int = 0) -> Batch:
    body = json.dumps({"session": "s", "page": page, "seq": seq, "events": events}).encode()
    return Batch(body, "application/json", "")


def test_both_adapters_count_one_session_the_same() -> None:
    builtin, rrweb = builtin_counts(), rrweb_counts()
    del builtin["mouse_move"], rrweb["mouse_move"]
    assert builtin == rrweb
    assert builtin["navigation"] == 2  # two documents, whatever history did in between
    assert (builtin["click"], builtin["dblclick"], builtin["input"]) == (3, 1, 2)
