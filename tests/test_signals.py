"""Frustration signals and error fingerprints with known answers (service/signals.py,
service/fingerprint.py), near misses included, and the facts a batch gives them (index.py)."""

from __future__ import annotations

from typing import Any

import pytest

from service import fingerprint as F
from service import signals as S
from service.index import summarize
from service.ingest import EventType as T

PAGE = 1_764_600_000_000.0
RULES = S.Rules()


def click(
    t: float, x: float = 100, y: float = 100, target: int = 5, ok: bool = True
) -> S.ClickFact:
    return S.ClickFact(PAGE + t, x, y, target, 'button "Buy"', ok, "button#buy", "https://s.test/")


def at(t: float) -> float:
    return PAGE + t


# Rage clicks: 3 within 1 s within 30 px on one target ------------------------------------


def test_rage_needs_three_clicks_in_a_second_within_30_px() -> None:
    assert len(S.rage([click(0), click(300), click(600)], RULES)) == 1
    assert S.rage([click(0), click(300)], RULES) == []  # 2 clicks
    assert S.rage([click(0), click(300), click(1001)], RULES) == []  # the third past 1 s
    assert S.rage([click(0), click(300), click(600, x=131)], RULES) == []  # 31 px away
    assert len(S.rage([click(0), click(300), click(600, x=130)], RULES)) == 1  # 30 px: in
    assert S.rage([click(0), click(300), click(600, target=6)], RULES) == []  # another target
    [burst] = S.rage([click(i * 100) for i in range(6)], RULES)
    assert burst.label.startswith("6 clicks") and burst.t == at(0)


def test_rage_uses_the_projects_numbers() -> None:
    two = S.Rules(rage_clicks=2, rage_window_ms=500)
    assert len(S.rage([click(0), click(400)], two)) == 1
    assert S.rage([click(0), click(600)], two) == []


# Dead clicks: a click on a control, no change for 7 s --------------------------------------


def test_dead_click_is_a_control_click_with_no_change_for_7_s() -> None:
    seen = at(20_000)
    assert len(S.dead([click(0)], [], seen, RULES)) == 1
    assert S.dead([click(0)], [at(6_900)], seen, RULES) == []  # a mutation at 6.9 s
    assert S.dead([click(0)], [at(7_000)], seen, RULES) == []  # at 7 s exactly: still in
    assert len(S.dead([click(0)], [at(7_001)], seen, RULES)) == 1  # after: too late
    assert len(S.dead([click(0)], [at(-5)], seen, RULES)) == 1  # a change before it counts not
    assert S.dead([click(0, ok=False)], [], seen, RULES) == []  # not a button, link, control


def test_a_dead_click_waits_until_the_recording_shows_its_whole_window() -> None:
    assert S.dead([click(0)], [], at(6_999), RULES) == []  # undecided yet
    assert len(S.dead([click(0)], [], at(7_000), RULES)) == 1


def test_thinned_changes_answer_as_all_of_them_do() -> None:
    changes = [at(t) for t in range(0, 30_000, 37)]
    kept = S.thin(changes)
    assert len(kept) <= 2 * 31
    for t in range(-500, 31_000, 113):
        c = [click(t)]
        assert S.dead(c, kept, at(60_000), RULES) == S.dead(c, changes, at(60_000), RULES), t


# Error clicks and quick backs --------------------------------------------------------------


def test_error_click_within_a_second() -> None:
    [hit] = S.error_clicks([click(0)], [(at(900), "TypeError: x")], RULES)
    assert hit.kind == "error_click" and hit.label == 'button "Buy": TypeError: x'
    assert S.error_clicks([click(0)], [(at(1_001), "late")], RULES) == []
    assert S.error_clicks([click(0)], [(at(-1), "before")], RULES) == []


def test_quick_back_is_a_page_left_by_going_back_within_5_s() -> None:
    def views(back_after: float, back: bool = True, to: str = "/list") -> list[S.ViewFact]:
        return [
            S.ViewFact(at(0), "/list", False),
            S.ViewFact(at(1_000), "/item/1", False),
            S.ViewFact(at(1_000 + back_after), to, back),
        ]

    [quick] = S.quick_backs(views(4_900), RULES)
    assert (quick.kind, quick.label, quick.t) == ("quick_back", "/item/1", at(5_900))
    assert S.quick_backs(views(5_100), RULES) == []  # stayed 5.1 s
    assert S.quick_backs(views(2_000, back=False), RULES) == []  # a link back, not "back"
    assert S.quick_backs(views(2_000, to="/other"), RULES) == []  # back, but elsewhere


def test_rules_are_checked_and_round_trip() -> None:
    rules = S.Rules.from_json('{"dead_click_ignore": ["button.print", "a[download]"]}')
    assert S.Rules.from_json(rules.to_json()) == rules
    for bad, says in [
        ('{"rage_clicks": 1}', "rage_clicks"),
        ('{"dead_click_ms": -1}', "dead_click_ms"),
        ('{"typo": 1}', "unknown key 'typo'"),
        ('{"dead_click_ignore": ["main button"]}', "no spaces or combinators"),
        ("[1]", "not a JSON object"),
    ]:
        with pytest.raises(S.RulesError, match=says):
            S.Rules.from_json(bad)


def test_selectors_match_what_a_click_was_on() -> None:
    sel = S.parse_selector("button.print, a[download], [data-action=export], #dl")
    assert S.matches(sel, "BUTTON", {"class": "btn print"})
    assert S.matches(sel, "a", {"download": "", "href": "/x.pdf"})
    assert S.matches(sel, "div", {"data-action": "export", "role": "button"})
    assert S.matches(sel, "span", {"id": "dl"})
    assert not S.matches(sel, "button", {"class": "printer"})
    assert not S.matches(sel, "a", {"href": "/x"})


# The facts a batch gives ---------------------------------------------------------------------

SNAPSHOT = [0, 1, [[2, 2, "html", {}, [[2, 3, "body", {}, [
    [2, 5, "button", {"id": "buy", "class": "btn primary big"},
     [[2, 6, "span", {}, [[3, 7, "Buy"]]]]],
    [2, 8, "button", {"class": "print"}, [[3, 9, "Print"]]],
    [2, 10, "div", {"class": "card"}, [[3, 11, "Just text"]]],
]]]]]]  # fmt: skip


def page_events() -> list[list[Any]]:
    return [
        [T.NAVIGATION, 1, 0, "https://s.test/list", 1],  # a load from back/forward
        [T.META, 1, "https://s.test/list", "Shop", 1280, 720, 1],
        [T.SNAPSHOT, 2, SNAPSHOT, 0, 0],
        [T.MOUSE, 100, 2, 6, 10, 10],  # on the span inside the buy button
        [T.MOUSE, 200, 2, 8, 10, 40],  # the print button: ignored by the rules below
        [T.MOUSE, 300, 2, 10, 10, 80],  # on a plain div: no control
        [T.MUTATION, 400, [], [], [], []],
        [T.NAVIGATION, 500, 1, "https://s.test/item/7"],
        [
            T.ERROR,
            600,
            "TypeError: cart is undefined",
            "TypeError: x\n    at buy (https://s.test/app.js?v=3:10:5)",
        ],
        [T.CONSOLE, 700, "error", "payment failed for order 1815"],
        [T.CONSOLE, 710, "warn", "deprecated"],  # a warning is no error
        [T.NETWORK, 800, "post", "https://s.test/api/cart/1815?x=1", 503, 40],
        [T.NETWORK, 810, "GET", "https://s.test/api/me", 404, 5],  # a 4xx: the client's
        [T.NETWORK, 820, "GET", "https://s.test/api/me", 0, 5],  # failed: an error
        [T.CUSTOM, 900, "checkout_started", {"items": 2}],
        [T.NAVIGATION, 1000, 3, "https://s.test/list"],  # back
    ]


def test_a_batch_gives_its_clicks_targets_changes_views_errors_and_custom_events() -> None:
    rules = S.Rules(dead_click_ignore=("button.print",))
    s = summarize("builtin", PAGE, page_events(), rules)
    buy, printer, text = s.clicks
    assert (buy.selector, buy.clickable, buy.label) == (
        "button#buy.btn.primary",
        True,
        'button "Buy"',
    )
    assert (printer.selector, printer.clickable) == ("button.print", False)  # ignored
    assert (text.selector, text.clickable) == ("div.card", False)
    assert buy.url == "https://s.test/list"
    assert [(v.t, v.url, v.back) for v in s.views] == [
        (at(1), "https://s.test/list", True),
        (at(500), "https://s.test/item/7", False),
        (at(1000), "https://s.test/list", True),
    ]
    # Reactions at 1, 2, 400, 500 and 1000 ms: the first and last of each second kept.
    assert s.changes == (at(1), at(500), at(1000))
    kinds = [(o.kind, o.message, o.url) for o in s.occurrences]
    assert kinds == [
        ("error", "TypeError: cart is undefined", "https://s.test/item/7"),
        ("console", "payment failed for order 1815", "https://s.test/item/7"),
        ("network", "POST https://s.test/api/cart/1815?x=1 503", "https://s.test/item/7"),
        ("network", "GET https://s.test/api/me 0", "https://s.test/item/7"),
    ]
    # Grouped on the page's own host: no host, no query, no ids.
    titles = [F.group(o).title for o in s.occurrences if o.kind == "network"]
    assert titles == ["POST /api/cart/<n> 503", "GET /api/me network error"]
    assert s.custom == ((at(900), "checkout_started", {"items": 2}),)


def test_fingerprints_group_what_varies_and_split_what_differs() -> None:
    def fp(
        message: str, stack: str = "", url: str = "https://s.test/a/1", kind: F.Kind = "error"
    ) -> str:
        return F.group(F.Occurrence(0, kind, message, stack, url)).fingerprint

    stack = "TypeError: x\n    at buy (https://s.test/app.js?v=3:10:5)\n    at https://s.test/lib.js:1:1"
    moved = "TypeError: x\n    at buy (https://s.test/app.js?v=4:12:9)"
    base = fp("order 1815 failed", stack)
    assert base == fp("order 99 failed", moved, "https://s.test/a/2")  # ids, lines, query
    assert fp("order ***** failed", stack) == fp("order ** failed", stack)  # masked: one star
    assert base != fp("order 1815 failed", "    at pay (https://s.test/app.js:10:5)")  # function
    assert base != fp("order 1815 failed", stack, "https://s.test/b/1")  # another page
    assert base != fp("order 1815 failed", stack, kind="console")
    assert F.top_frame(stack) == "buy s.test/app.js"
    assert F.top_frame("Error\n    at https://s.test/x/12/app.js:1:2") == "s.test/x/<n>/app.js"
    assert F.top_frame("fn@https://s.test/a.js:3:4") == "fn s.test/a.js"
    assert F.top_frame("no frames here") == ""
    assert F.normalize_message("id 123e4567-e89b-12d3-a456-426614174000 at 0xdeadbeef99") == (
        "id <uuid> at <hex>"
    )
    assert F.normalize_message("ref 5f2b9c1ad3e4 in  2.5s") == "ref <hex> in <n>s"


def test_what_the_recorder_says_a_click_was_on_comes_first() -> None:
    rules = S.Rules(dead_click_ignore=("button.print",))
    told = [
        [T.NAVIGATION, 1, 0, "https://s.test/list"],
        # A node the batch does not show, and one it shows as something else: the recorder knows.
        [T.MOUSE, 100, 2, 77, 5, 5, ["a#more.link", "  More\n deals ", 1]],
        [T.MOUSE, 200, 2, 8, 5, 5, ["button.print.big", "Print", 1]],  # ignored by the rules
        [T.MOUSE, 300, 2, 9, 5, 5, ["div.card", "Just text", 0]],
        [T.MOUSE, 400, 2, 10, 5, 5, "garbage"],  # not the shape: the snapshot's answer, none
    ]
    more, printer, card, garbage = summarize("builtin", PAGE, told, rules).clicks
    assert (more.selector, more.label, more.clickable) == ("a#more.link", 'a "More deals"', True)
    assert (printer.selector, printer.clickable) == ("button.print.big", False)
    assert (card.selector, card.clickable) == ("div.card", False)
    assert (garbage.selector, garbage.label) == ("", "")


def test_a_text_field_or_a_select_waits_for_the_user_and_is_no_dead_click_candidate() -> None:
    fields = [0, 1, [[2, 2, "html", {}, [[2, 3, "body", {}, [
        [2, 4, "input", {"type": "email", "id": "mail"}, []],
        [2, 5, "select", {}, []],
        [2, 6, "input", {"type": "checkbox"}, []],
        [2, 7, "label", {}, [[3, 8, "Remember me"]]],
    ]]]]]]  # fmt: skip
    events = [[T.SNAPSHOT, 1, fields, 0, 0], *([T.MOUSE, 10 * n, 2, n, 1, 1] for n in (4, 5, 6, 7))]
    mail, select, box, label = summarize("builtin", PAGE, events).clicks
    assert (mail.selector, mail.clickable) == ("input#mail", False)
    assert (select.selector, select.clickable) == ("select", False)
    assert (box.selector, box.clickable) == ("input", True)
    assert (label.selector, label.clickable) == ("label", False)
