"""Issue 13's API end to end: batches posted to a real `replaycheck serve` (SQLite and
PostgreSQL), then its error issues, frustration signals, funnels and segments asked for, with
known answers; and one project never sees another's."""

from __future__ import annotations

import base64
import io
import json
import re
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from PIL import Image
from PIL.WebPImagePlugin import WebPImageFile

from service.ingest import EventType as T
from tests.serve_helpers import Running, add_user, cli, running_server, store_param

NOW = time.time() * 1000
# An hour ago, or the day's start when it is younger (UTC): today's bar of the sparklines, whenever
# the suite runs.
PAGE = max(NOW - 3_600_000.0, NOW // 86_400_000 * 86_400_000)
SHOP = "https://s.test"
STACK = "TypeError: cart is undefined\n    at buy (https://s.test/app.js?v=3:10:5)"
BUY = [2, 5, "button", {"id": "buy", "class": "btn"}, [[3, 6, "Buy"]]]
SNAPSHOT = [0, 1, [[2, 2, "html", {}, [[2, 3, "body", {}, [
    BUY, [2, 7, "div", {"class": "promo"}, [[3, 8, "Sale"]]],
    [2, 9, "input", {"name": "coupon", "aria-label": "Coupon"}, []],
]]]]]]  # fmt: skip


def opening(path: str) -> list[list[Any]]:
    return [
        [T.NAVIGATION, 0, 0, SHOP + path],
        [T.META, 0, SHOP + path, "Shop", 1280, 720, 1],
        [T.SNAPSHOT, 1, SNAPSHOT, 0, 0],
    ]


def batch(session: str, seq: int, events: list[list[Any]], page: float = PAGE) -> dict[str, Any]:
    return {"v": 1, "session": session, "page": page, "seq": seq, "first": 0, "events": events}


def identify(user: str) -> list[Any]:
    return [T.IDENTIFY, 2, user, {"plan": "pro"}]


# Each session's batches, as a recorder would post them.
SESSIONS: dict[str, list[dict[str, Any]]] = {
    # Buys: an error just after clicking buy, a failed request, checkout, purchase.
    "s1": [
        batch(
            "s1",
            0,
            [
                *opening("/list"),
                identify("u1"),
                [T.MOUSE, 1000, 2, 5, 10, 10],
                *([T.INPUT, 1200 + k, 9, "*" * k] for k in (1, 2, 3)),  # one edit
                [T.ERROR, 1500, "TypeError: cart is undefined", STACK],
                [T.NAVIGATION, 2000, 1, SHOP + "/cart"],
                [T.CUSTOM, 2100, "checkout_started", {"items": 2}],
                [T.NETWORK, 2500, "POST", SHOP + "/api/cart/1815?token=x", 503, 40],
                [T.CUSTOM, 5000, "purchase", {"total": 20}],
                [T.END, 6000, []],
            ],
        )
    ],
    # Clicks buy and nothing happens (a dead click); the same error later; checks out, no buy.
    "s2": [
        batch(
            "s2",
            0,
            [
                *opening("/list"),
                identify("u2"),
                [T.MOUSE, 1000, 2, 5, 10, 10],
                [
                    T.ERROR,
                    9000,
                    "TypeError: cart is undefined",
                    STACK.replace("v=3:10:5", "v=4:12:1"),
                ],
                [T.CUSTOM, 10_000, "checkout_started", {}],
                [T.SCROLL, 12_000, 0, 0, 100],
            ],
        )
    ],
    # Opens an item and goes back within 5 s; rage-clicks the promo.
    "s3": [
        batch(
            "s3",
            0,
            [
                *opening("/list"),
                [T.NAVIGATION, 1000, 1, SHOP + "/item/7"],
                [T.NAVIGATION, 3000, 3, SHOP + "/list"],
                *([T.MOUSE, 4000 + 200 * i, 2, 7, 50, 50] for i in range(3)),
                [T.CONSOLE, 5000, "error", "payment widget failed for order 1815"],
            ],
        )
    ],
    # Its second batch arrives first: the change at 6 s keeps the click at 1 s alive.
    "s4": [
        batch("s4", 1, [[T.MUTATION, 6000, [], [], [], []], [T.SCROLL, 9000, 0, 0, 5]]),
        batch("s4", 0, [*opening("/settings"), [T.MOUSE, 1000, 2, 5, 10, 10]]),
    ],
}


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Running]:
    with running_server(tmp_path_factory.mktemp("insights"), store_param(request)) as running:
        for batches in SESSIONS.values():
            for b in batches:
                assert running.ingest(b) == 204
        yield running


def other_project(server: Running, name: str, *options: str) -> tuple[str, str]:
    """A new project of `server`'s store (`project add NAME OPTIONS`) and a user of it: its
    ingest key and that user's API token. Its sessions stay out of the shared project's counts."""
    done = cli("project", "add", name, *options, "--store", server.store_url)
    assert done.returncode == 0, done.stderr
    key = re.search(r"ingest key (\S+),", done.stdout)
    assert key, done.stdout
    _, token = add_user(server.store_url, f"{name}-user", name)
    return key.group(1), token


def post(server: Running, key: str, body: dict[str, Any]) -> int:
    request = urllib.request.Request(
        f"{server.base}/ingest?key={key}", json.dumps(body).encode(), {"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return int(answer.status)


def ok(server: Running, path: str) -> Any:
    status, body = server.api(path)
    assert status == 200, (path, body)
    return body


def b64(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


# Errors ----------------------------------------------------------------------------------


def test_errors_group_into_issues_with_their_sessions_and_users(server: Running) -> None:
    issues = {i["title"]: i for i in ok(server, "/api/issues")["issues"]}
    typeerror = issues["TypeError: cart is undefined"]
    # Two sessions, two users, grouped though the script's version and line moved.
    assert (typeerror["count"], typeerror["sessions"], typeerror["users"]) == (2, 2, 2)
    assert (typeerror["kind"], typeerror["frame"], typeerror["path"]) == (
        "error",
        "buy /app.js",
        "/list",
    )
    assert (
        sum(typeerror["daily"]) == 2
        and typeerror["daily"][-1] >= 1
        and len(typeerror["daily"]) == 14
    )
    network = issues["POST /api/cart/<n> 503"]
    assert (network["kind"], network["path"]) == ("network", "/cart")  # the page after pushState
    assert issues["payment widget failed for order <n>"]["kind"] == "console"
    assert set(issues) == {"TypeError: cart is undefined", "POST /api/cart/<n> 503",
                           "payment widget failed for order <n>"}  # fmt: skip
    only_network = ok(server, "/api/issues?kind=network")["issues"]
    assert [i["title"] for i in only_network] == ["POST /api/cart/<n> 503"]
    assert ok(server, f"/api/issues/{typeerror['fingerprint']}")["count"] == 2


def test_an_issue_opens_its_sessions_before_the_error_with_the_last_actions(
    server: Running,
) -> None:
    fp = next(i["fingerprint"] for i in ok(server, "/api/issues")["issues"] if i["kind"] == "error")
    found = ok(server, f"/api/issues/{fp}/sessions")
    assert found["total"] == 2
    by_id = {m["session"]["id"]: m for m in found["sessions"]}
    s1 = by_id["s1"]
    assert s1["t"] == 1500 and s1["open_at"] == 0  # 5 s before, clipped at the start
    assert by_id["s2"]["open_at"] == 9000 - 5000
    assert "at buy" in s1["detail"]
    before = [(a["kind"], a["label"]) for a in s1["before"]]
    assert before == [
        ("navigation", SHOP + "/list"), ("click", 'button "Buy"'), ("input", 'input "Coupon"')
    ]  # fmt: skip
    errors = ok(server, "/api/sessions/s1/errors")["errors"]
    assert [(e["kind"], e["t"]) for e in errors] == [("error", 1500), ("network", 2500)]
    assert server.api("/api/issues/0000000000000000")[0] == 404


# Frustration -----------------------------------------------------------------------------


def test_signals_are_ranked_and_open_their_sessions(server: Running) -> None:
    rows = ok(server, "/api/frustration?by=selector")["rows"]
    got = {(r["kind"], r["key"]): (r["count"], r["sessions"]) for r in rows}
    assert got[("dead_click", "button#buy.btn")] == (1, 1)  # s2 only: s4's change came later
    assert got[("rage_click", "div.promo")] == (1, 1)
    assert got[("error_click", "button#buy.btn")] == (1, 1)  # s1: the error 0.5 s after
    pages = {(r["kind"], r["key"]) for r in ok(server, "/api/frustration?by=page")["rows"]}
    assert ("quick_back", "/item/<n>") in pages
    dead = ok(server, "/api/frustration/sessions?kind=dead_click&by=selector&key=button%23buy.btn")
    assert dead["total"] == 1 and dead["sessions"][0]["session"]["id"] == "s2"
    assert dead["sessions"][0]["t"] == 1000
    row = ok(server, "/api/sessions/s3")
    assert (row["rage_clicks"], row["quick_backs"], row["dead_clicks"]) == (1, 1, 0)
    assert {m["kind"] for m in row["markers"]} >= {"rage_click", "quick_back"}
    assert ok(server, "/api/sessions/s4")["dead_clicks"] == 0
    assert server.api("/api/frustration?kind=angry")[0] == 400


# Funnels ----------------------------------------------------------------------------------

FUNNEL = {"steps": [
    {"kind": "page", "value": "*/list"},
    {"kind": "event", "value": "checkout_started"},
    {"kind": "event", "value": "purchase"},
]}  # fmt: skip


def test_a_funnel_counts_its_steps_and_lists_who_dropped(server: Running) -> None:
    result = ok(server, f"/api/funnel?funnel={quote(json.dumps(FUNNEL))}")
    assert [s["sessions"] for s in result["steps"]] == [3, 2, 1]
    assert result["steps"][1]["median_ms_from_previous"] == (2100 + 10_000) / 2
    assert result["steps"][2]["from_previous"] == 0.5
    dropped = ok(server, f"/api/funnel/dropoff?funnel={b64(FUNNEL)}&step=2")
    assert dropped["total"] == 1
    [only] = dropped["sessions"]
    assert only["session"]["id"] == "s2" and only["t"] == 10_000  # at its step 2
    windowed = {**FUNNEL, "window_ms": 5000}
    assert [s["sessions"] for s in ok(server, f"/api/funnel?funnel={b64(windowed)}")["steps"]] == [
        3,
        1,
        1,
    ]
    segmented = {**FUNNEL, "segment": {"all": [{"field": "user", "op": "is", "value": "u2"}]}}
    assert [s["sessions"] for s in ok(server, f"/api/funnel?funnel={b64(segmented)}")["steps"]] == [
        1,
        1,
        0,
    ]
    clicks = {"steps": [{"kind": "page", "value": "/list"}, {"kind": "click", "value": "#buy"}]}
    assert [s["sessions"] for s in ok(server, f"/api/funnel?funnel={b64(clicks)}")["steps"]] == [
        3,
        2,
    ]
    hover = {"steps": [{"kind": "page", "value": "/"}, {"kind": "hover", "value": "x"}]}
    for bad, says in [({"steps": []}, "2 to 10 steps"), (hover, "kind")]:
        status, body = server.api(f"/api/funnel?funnel={b64(bad)}")
        assert status == 400 and says in body["error"], body


# Segments ---------------------------------------------------------------------------------


def ids(server: Running, segment: Any) -> set[str]:
    found = ok(server, f"/api/sessions?segment={quote(json.dumps(segment))}")["sessions"]
    return {s["id"] for s in found}


def test_segments_combine_with_and_or_drive_the_list_and_are_saved(server: Running) -> None:
    assert ids(server, {"all": [{"field": "event", "op": "had", "value": "purchase"}]}) == {"s1"}
    either = {"any": [{"field": "user", "op": "is", "value": "u2"},
                      {"field": "signal", "op": "had", "value": "quick_back"}]}  # fmt: skip
    assert ids(server, either) == {"s2", "s3"}
    nested = {"all": [{"field": "page", "op": "visited", "value": "*/list"},
                      {"any": [{"field": "error", "op": "had"},
                               {"field": "clicked", "op": "text", "value": "sale"}]},
                      {"field": "prop", "key": "plan", "op": "unset"}]}  # fmt: skip
    assert ids(server, nested) == {"s3"}
    long_on_desktop = {"all": [{"field": "viewport", "op": "is", "value": "desktop"},
                               {"field": "duration", "op": "gte", "value": 11}]}  # fmt: skip
    assert ids(server, long_on_desktop) == {"s2"}

    saved = {"all": [{"field": "issue", "op": "had", "value": _fp(server)}]}
    status, body = server.api("/api/segments/has%20error", "PUT", body={"segment": saved})
    assert status == 200, body
    listed = ok(server, "/api/segments")["segments"]
    assert [(s["name"], s["updated_by"]) for s in listed] == [("has error", "ada")]
    assert ids(server, listed[0]["segment"]) == {"s1", "s2"}

    def one(condition: dict[str, Any]) -> dict[str, Any]:
        return {"segment": {"all": [condition]}}

    for bad, says in [(one({"field": "mood", "op": "is", "value": "x"}), "field"),
                      (one({"field": "user", "op": "like", "value": "x"}), "op"),
                      ({"nope": 1}, "segment")]:  # fmt: skip
        status, body = server.api("/api/segments/bad", "PUT", body=bad)
        assert status == 400 and says in body["error"], body
    status, body = server.api("/api/sessions?segment=%7Bnot%20json")
    assert status == 400 and "not JSON" in body["error"]
    assert server.api("/api/segments/has%20error", "DELETE")[0] == 204
    assert server.api("/api/segments/has%20error", "DELETE")[0] == 404


def _fp(server: Running) -> str:
    return str(
        next(i["fingerprint"] for i in ok(server, "/api/issues")["issues"] if i["kind"] == "error")
    )


def test_another_project_sees_none_of_it(server: Running) -> None:
    _, token = add_user(server.store_url, "eve", "other")
    fp = _fp(server)
    for path, key in [("/api/issues", "issues"), ("/api/frustration", "rows"),
                      ("/api/segments", "segments")]:  # fmt: skip
        status, body = server.api(path, token=token)
        assert status == 200 and body[key] == [], body
    assert server.api(f"/api/issues/{fp}", token=token)[0] == 404
    assert server.api(f"/api/issues/{fp}/sessions", token=token)[1]["total"] == 0
    assert server.api("/api/sessions/s1/errors", token=token)[0] == 404
    funnel = server.api(f"/api/funnel?funnel={b64(FUNNEL)}", token=token)[1]
    assert [s["sessions"] for s in funnel["steps"]] == [0, 0, 0]
    assert server.api("/api/issues")[0] == 200 and server.api("/api/issues", token="nope")[0] == 401


def test_the_player_exports_a_clip_of_a_moment(server: Running) -> None:
    request = urllib.request.Request(
        server.base + "/api/sessions/s1/clip?from=0&to=1500&fps=4",
        headers={"Authorization": f"Bearer {server.token}"},
    )
    with urllib.request.urlopen(request, timeout=120) as answer:
        assert answer.headers["Content-Type"] == "image/webp"
        assert "s1-0-1500.webp" in answer.headers["Content-Disposition"]
        clip = Image.open(io.BytesIO(answer.read()))
    assert isinstance(clip, WebPImageFile)
    assert (clip.n_frames, clip.size) == (6, (1280, 720))  # 1.5 s at 4 fps, the viewport
    status, body = server.api("/api/sessions/s1/clip?from=900&to=100")
    assert status == 400 and "from 900 must be before to 100" in body["error"], body
    _, token = add_user(server.store_url, "mallory", "elsewhere")
    assert server.api("/api/sessions/s1/clip?from=0&to=1000", token=token)[0] == 404


def test_a_projects_own_signal_rules_apply_at_ingest(server: Running) -> None:
    rules = '{"dead_click_ignore": ["button#buy"], "rage_clicks": 2}'
    key, token = other_project(server, "tuned", "--signals", rules)
    events = [*opening("/list"), [T.MOUSE, 1000, 2, 5, 10, 10], [T.MOUSE, 1300, 2, 7, 50, 50],
              [T.MOUSE, 1500, 2, 7, 50, 50], [T.SCROLL, 12_000, 0, 0, 1]]  # fmt: skip
    assert post(server, key, batch("t1", 0, events)) == 204
    status, row = server.api("/api/sessions/t1", token=token)
    assert status == 200, row
    assert (row["dead_clicks"], row["rage_clicks"]) == (0, 1)  # buy ignored; 2 clicks a rage
    bad = cli(
        "project", "add", "tuned", "--signals", '{"rage_clicks": 1}', "--store", server.store_url
    )
    assert bad.returncode == 2 and "rage_clicks must be 2 to 20" in bad.stderr.splitlines()[-1]


def test_serve_no_signals_indexes_none(tmp_path: Path) -> None:
    with running_server(tmp_path, args=["--no-signals"]) as plain:
        for b in SESSIONS["s2"] + SESSIONS["s3"]:
            assert plain.ingest(b) == 204
        rows = {s["id"]: s for s in ok(plain, "/api/sessions")["sessions"]}
        assert [(r["dead_clicks"], r["rage_clicks"], r["quick_backs"]) for r in rows.values()] == [
            (0, 0, 0), (0, 0, 0)
        ]  # fmt: skip
        assert ok(plain, "/api/frustration")["rows"] == []
        assert len(ok(plain, "/api/issues")["issues"]) == 2  # errors are still grouped


def test_erasing_a_user_takes_their_errors_and_signals_out_of_every_count(
    server: Running,
) -> None:
    key, token = other_project(server, "erasable")
    for session, user in (("e1", "gone"), ("e2", "kept")):
        events = [*opening("/list"), identify(user), *SESSIONS["s3"][0]["events"][3:]]
        assert post(server, key, batch(session, 0, events)) == 204

    def counts() -> tuple[int, int]:
        issues = server.api("/api/issues", token=token)[1]["issues"]
        rows = server.api("/api/frustration", token=token)[1]["rows"]
        return sum(i["count"] for i in issues), sum(r["count"] for r in rows)

    # Each: a console error; a quick back, a rage burst of 3 clicks, each within 1 s of the error.
    assert counts() == (2, 10)
    assert server.api("/api/users/gone", "DELETE", token=token) == (200, {"deleted": 1})
    assert counts() == (1, 5)


def test_a_dead_click_is_decided_by_a_later_batch_with_no_reaction_in_it(server: Running) -> None:
    # The click, then a batch a second of pointer samples only (no reaction): the batch after
    # the 7 s shows the window whole though the click is 7.5 s before that batch's start.
    moves = [[T.MOUSE_MOVE, 1000 * n, [[5, 5, 0]]] for n in range(2, 8)]
    batches = [
        batch("q1", 0, [*opening("/quiet"), [T.MOUSE, 1000, 2, 5, 10, 10]]),
        *(batch("q1", i + 1, [m]) for i, m in enumerate(moves)),
        batch("q1", 8, [[T.MOUSE_MOVE, 8500, [[6, 6, 0]]]]),
    ]
    key, token = other_project(server, "quiet")
    for b in batches:
        assert post(server, key, b) == 204
    assert server.api("/api/sessions/q1", token=token)[1]["dead_clicks"] == 1


def test_an_error_or_a_change_in_the_clicks_own_millisecond_is_its_doing(server: Running) -> None:
    events = [
        *opening("/sync"),
        [T.MOUSE, 1000, 2, 5, 10, 10],
        [T.ERROR, 1000, "TypeError: thrown by the handler", ""],
        [T.MUTATION, 1000, [], [], [], []],
        [T.SCROLL, 9000, 0, 0, 1],
    ]
    key, token = other_project(server, "sync")
    assert post(server, key, batch("z1", 0, events)) == 204
    row = server.api("/api/sessions/z1", token=token)[1]
    assert (row["error_clicks"], row["dead_clicks"]) == (1, 0)
