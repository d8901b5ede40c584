"""The built-in recorder's cost in real Chromium: the changes held during the first snapshot are
made into events in slices, not one long task, and what they make still replays to the live DOM.

The recorder loads as a script tag (served at its own URL), so Chrome's trace names its script
runs by URL. Each run is measured in thread time (the trace's `tdur`): the CPU time of the main
thread during the run, CPU throttling included, time the machine gave other processes not. On a
busy machine a task's wall time stretches by whatever else runs; its thread time does not.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from harness.worker import Worker
from service.ingest import EventType as EventKind
from tests.test_record import LIVE_DUMP, MiniReplay, Recording, bundle, by_id, of, snapshot

__all__ = ["bundle"]  # the session fixture that builds record.js, used here

THROTTLE = 4  # as the overhead bench runs
LONG_MS = 50  # a long task, as browsers count them

# A 2,000-row table (about 20,000 nodes: a first snapshot of many slices), and while it is being
# taken, blocks of 400 rows (2,000 nodes each) added to the feed before it, which the walk has
# listed already: all of them held until the snapshot is out, then made into events.
HELD_PAGE = """<!doctype html><html><head><meta charset="utf-8">{head}</head><body>
<div id="feed"></div><table><tbody>{rows}</tbody></table>
<script>
  const feed = document.getElementById("feed");
  let blocks = 0;
  const block = () => {{
    const b = document.createElement("section");
    b.id = "block-" + blocks;
    for (let i = 0; i < 400; i++) {{
      const row = document.createElement("div");
      row.className = "row";
      row.innerHTML = "<b>" + (blocks * 400 + i) + "</b> <span>entry " + i + "</span>";
      b.append(row);
    }}
    feed.prepend(b);
    if (++blocks < 6) setTimeout(block, 10);
    else window.added = true;
  }};
  // Once the walk is under way (the recorder compiles its PII patterns first, a task each).
  document.addEventListener("DOMContentLoaded", () => setTimeout(block, 100));
</script></body></html>"""

# The churn of tests/fixtures/record/churn.html, plus a block of 120 items added on every step
# and nodes moved into the newest block: a round being made in slices finds nodes moved into
# subtrees it has not serialized yet, and subtrees it serialized changing behind it.
CHURN_PAGE = """<!doctype html><html><head><meta charset="utf-8">{head}</head><body>
<div id="root"></div>
<script>
  let seed = {seed};
  const rand = (n) => {{ seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; }};
  const root = document.getElementById("root");
  for (let i = 0; i < 1500; i++) {{
    const item = document.createElement("div");
    item.innerHTML = "<span>item " + i + "</span> <b>bold</b><i></i>";
    root.appendChild(item);
  }}
  const pick = () => {{ const list = root.querySelectorAll("*"); return list[rand(list.length)]; }};
  let made = 0, newest = null;
  const pool = [];
  const step = () => {{
    const b = document.createElement("section");
    for (let i = 0; i < 120; i++) {{
      const item = document.createElement("p");
      item.innerHTML = "<span>block " + made++ + "</span><em>x</em>";
      b.append(item);
    }}
    const at = pick();
    (at && !at.closest("section") ? at : root).append(b);
    newest = b;
    for (let k = 0; k < 16; k++) {{
      const op = rand(9), el = pick();
      if (!el) continue;
      const inNewest = newest.querySelectorAll("*");
      const into = inNewest[rand(inNewest.length)] || newest;
      if (op === 0) {{ el.remove(); pool.push(el); }}
      // op 1: into a subtree a round may not have serialized yet
      else if (op === 1 && !el.contains(into)) into.appendChild(el);
      else if (op === 2) {{
        const to = pick();
        if (to && !el.contains(to)) to.insertBefore(el, to.firstChild);
      }}
      else if (op === 3) el.setAttribute("data-n", String(made++));
      else if (op === 4) {{
        const t = el.firstChild;
        if (t && t.nodeType === 3) t.data = "changed " + made++;
        else el.prepend("text " + made++);
      }}
      else if (op === 5 && pool.length) into.append(pool.splice(rand(pool.length), 1)[0]);
      else if (op === 6) el.parentNode.appendChild(el);
      else if (op === 7) el.removeAttribute("data-n");
      else if (op === 8 && !el.contains(into)) el.before(into);  // out of the newest block
    }}
  }};
  let steps = 0;
  const loop = () => {{
    step();
    if (++steps < 40) setTimeout(loop, 0);
    else window.churnDone = true;
  }};
  document.addEventListener("DOMContentLoaded", () => setTimeout(loop, 0));
</script></body></html>"""


def _open(
    worker: Worker, bundle: str, body: str, throttle: float = THROTTLE, **format_args: Any
) -> tuple[Recording, str]:
    """The page `body` with the recorder as a script tag in its head, CPU throttled."""
    session = uuid.uuid4().hex
    server = worker.server
    script = server.add_asset(f"rc-cost-{session}.js", bundle, "text/javascript")
    options = {"ingestUrl": server.ingest_url(session), "session": session, "flushIntervalMs": 200}
    start = f"window.__rec = replaycheckRecord.record({json.dumps(options)})"
    head = f'<script src="{script}"></script><script>{start}</script>'
    url = server.add_asset(
        f"rc-cost-{session}.html", body.format(head=head, **format_args), "text/html"
    )
    context = worker.browser.new_context(viewport={"width": 800, "height": 600})
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": throttle})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return Recording(page, session, server, errors), script


def _longest_run(trace: bytes, script: str) -> float:
    """The most thread time one call into `script` took in `trace`, ms."""
    parsed = json.loads(trace)
    events: list[dict[str, Any]] = parsed["traceEvents"] if isinstance(parsed, dict) else parsed
    return max(
        (
            e.get("tdur", e.get("dur", 0)) / 1000
            for e in events
            if e.get("name") == "FunctionCall"
            and e.get("ph") == "X"
            and e.get("args", {}).get("data", {}).get("url") == script
        ),
        default=0.0,
    )


def _live_equals_replay(rec: Recording, html_id: str) -> None:
    events = rec.events()
    replay = MiniReplay(snapshot(events))
    for e in of(events, EventKind.MUTATION):
        replay.apply(e)
    node = by_id(snapshot(events), html_id)[1]
    assert replay.dump(replay.nodes[node]) == rec.page.evaluate(LIVE_DUMP, html_id)
    assert rec.errors == []


def test_changes_held_during_the_snapshot_are_made_into_events_in_slices(
    worker: Worker, bundle: str
) -> None:
    """12,000 nodes added while the snapshot is taken: serialized in one go after it, that was a
    run of 100 ms and more at 4x. Made in slices, no run of the recorder's is a long task, and
    the feed replays to what the page shows."""
    rows = "".join(
        f"<tr><td>{i}</td><td>name {i}</td><td>{i * 7 % 1000}.5</td></tr>\n" for i in range(2000)
    )
    blank = (
        worker.browser.new_page()
    )  # tracing needs a page of the browser; ours is in a context of its own
    worker.browser.start_tracing(page=blank, categories=["devtools.timeline"])
    try:
        rec, script = _open(worker, bundle, HELD_PAGE, rows=rows)
        rec.page.wait_for_function("window.added", timeout=30000)
        # The rounds' own time to finish: a flush would finish them in one go.
        rec.page.wait_for_timeout(2000)
    finally:
        trace = worker.browser.stop_tracing()
        blank.close()
    try:
        longest = _longest_run(trace, script)
        assert 0 < longest < LONG_MS, f"the recorder's longest run: {longest:.1f} ms of thread time"
        _live_equals_replay(rec, "feed")
    finally:
        rec.page.context.close()


@pytest.mark.parametrize("seed", [3, 11])
def test_rounds_made_in_slices_replay_to_the_live_dom(
    worker: Worker, bundle: str, seed: int
) -> None:
    """Nodes moved into a block a round has not serialized yet, and out of one it has: every
    round reads the page at its start and leaves what changes meanwhile to the next."""
    rec, _ = _open(worker, bundle, CHURN_PAGE, throttle=2, seed=seed)
    try:
        rec.page.wait_for_function("window.churnDone", timeout=30000)
        _live_equals_replay(rec, "root")
    finally:
        rec.page.context.close()
