"""`replaycheck demo` end to end: the real command records sessions in real Chromium through a
real `replaycheck serve` into a SQLite store; then another server on that store answers, through
its API, with what the demo said it put there: sessions of several users and screens, error
issues, frustration signals, the saved segment and a funnel with sessions in each step."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import time
from pathlib import Path
from urllib.parse import quote

from tests.serve_helpers import REPLAYCHECK, ROOT, Running, cli, start, stop

PASSWORD = "demo-password-1"
SESSIONS = 6


def test_demo_fills_a_store_the_viewer_serves(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    started = time.monotonic()
    done = subprocess.run(
        [*REPLAYCHECK, "demo", "--sessions", str(SESSIONS), "--store", url, "--no-serve",
         "--password-stdin"],
        input=PASSWORD + "\n", capture_output=True, text=True, cwd=ROOT, timeout=240,
    )  # fmt: skip
    took = time.monotonic() - started
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"login: demo / {PASSWORD}" in out
    assert f"replaycheck serve --store {url}" in out
    token = re.search(r"API token: (\S+)", out)
    link = re.search(r"/funnels\?funnel=([A-Za-z0-9_-]+)", out)
    said = re.search(r"(\d+) sessions of (\d+) users", out)
    errors = re.search(r"(\d+) errors in (\d+) issues", out)
    assert token and link and said and errors, out
    assert int(said[1]) == SESSIONS and int(said[2]) >= 2
    assert len(re.findall(r" recorded$", out, re.M)) == SESSIONS, out

    process, base = start(url, tmp_path / "serve.log")
    try:
        server = Running(base, url, "demo", "", "demo", PASSWORD, token[1], process,
                         tmp_path / "serve.log")  # fmt: skip
        # The login printed logs in.
        status, me = server.api("/api/login", "POST", body={"name": "demo", "password": PASSWORD})
        assert status == 200 and me["project"] == "demo", me

        status, listed = server.api("/api/sessions?limit=200")
        assert status == 200 and listed["total"] == SESSIONS, listed
        sessions = listed["sessions"]
        assert len({s["user_id"] for s in sessions if s["user_id"]}) >= 2
        assert len({(s["viewport"]["width"], s["viewport"]["height"]) for s in sessions}) >= 3
        assert all(s["pages"] and "/shop/" in s["pages"][0] for s in sessions)

        # The broken coupon button (an uncaught TypeError) and the stock check's 500.
        issues = server.api("/api/issues")[1]["issues"]
        kinds = {i["kind"]: i for i in issues}
        assert "percentOff" in kinds["error"]["title"], issues
        assert kinds["network"]["title"].endswith("/stock 500"), issues
        assert sum(i["count"] for i in issues) == int(errors[1])
        assert len(issues) == int(errors[2])

        # The rage-clicked banner, the quick back from a product, the coupon's error clicks.
        rows = server.api("/api/frustration?by=selector")[1]["rows"]
        counts = {(r["kind"], r["key"]): r["count"] for r in rows}
        assert counts.get(("rage_click", "button#promo.promo")) == 1, rows
        assert counts.get(("error_click", "button#apply-coupon.secondary"), 0) >= 2, rows
        assert counts.get(("error_click", "button#stock.secondary")) == 1, rows
        backs = server.api("/api/frustration?kind=quick_back&by=page")[1]["rows"]
        assert backs and "/shop/product.html" in backs[0]["key"], backs

        saved = server.api("/api/segments")[1]["segments"]
        assert [s["name"] for s in saved] == ["checkout trouble"], saved
        segment = quote(json.dumps(saved[0]["segment"]))
        status, matching = server.api(f"/api/sessions?segment={segment}")
        assert status == 200 and matching["total"] >= 1, matching

        funnel = json.loads(base64.urlsafe_b64decode(link[1] + "=" * (-len(link[1]) % 4)))
        assert funnel["steps"][0]["value"].endswith("/shop/list.html*")
        status, answer = server.api(f"/api/funnel?funnel={link[1]}")
        assert status == 200, answer
        reached = [step["sessions"] for step in answer["steps"]]
        assert len(reached) == 5 and reached[0] == SESSIONS and reached[-1] >= 1, reached
        assert reached[2] > reached[-1], reached  # some stop at the cart or at checkout
    finally:
        stop(process)
    assert took < 120, f"the demo took {took:.0f} s for {SESSIONS} sessions"


def test_demo_bad_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'bad.db'}"
    for args, stdin, says in [
        (["--sessions", "0"], "", "1 to 500 sessions"),
        (["--sessions", "many"], "", "not a whole number"),
        (["--password-stdin", "--no-serve"], "short\n", "a password of 8 to"),
    ]:
        done = cli("demo", "--store", url, *args, stdin=stdin)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert says in done.stderr.strip().splitlines()[-1], (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "bad.db").exists()  # refused before the store was touched
