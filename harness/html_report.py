"""The HTML report a CI user opens when a job fails.

index.html: header counts, then one row per scenario and recorder (failures first, then known
failures, then passes) with a filter by status and by recorder. Each row links to the page beside
that run's PNGs and stream, `<scenario>/<recorder>/index.html`: its failures, each checkpoint's
live / replay / diff images with an overlay of live and replay (an opacity slider and a flip
button), the DOM differences, the masking leaks and the captured stream to download.

The folder is self-contained (relative links, no network, works from file://) and every dynamic
text is escaped: scenario names, failure strings and leaked values come from the pages tested.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from html import escape
from pathlib import Path
from urllib.parse import quote

from harness.report import delivery_text, shows_delivery, status
from harness.runner import CheckpointResult, ScenarioResult
from harness.scenario import Expect

ORDER = ("FAIL", "XFAIL", "PASS")

CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px 32px;color:#222}
h1{font-size:22px;margin:0 0 12px}h2{font-size:17px;margin:28px 0 6px}
a{color:#0645ad}.FAIL{color:#c00}.XFAIL{color:#b35c00}.PASS{color:#080}.bad{color:#c00}
.status{font-weight:bold}table{border-collapse:collapse;margin:8px 0}
th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left;vertical-align:top}
.runs td{white-space:nowrap}
th{background:#f4f4f4}td.n{text-align:right;font-variant-numeric:tabular-nums}
td.why{max-width:560px;overflow:hidden;text-overflow:ellipsis;color:#555}
code{font-size:12px;background:#f4f4f4;padding:0 3px;word-break:break-all}
.images{display:grid;grid-template-columns:repeat(3,1fr);gap:12px}
figure{margin:0}figure img{display:block;width:100%;border:1px solid #ccc}
.compare{margin-top:16px}.stack{position:relative;max-width:960px;margin-top:6px}
.stack .over{position:absolute;top:0;left:0}
"""

FILTER = """
const status = document.getElementById("status"), recorder = document.getElementById("recorder");
function filter() {
  for (const row of document.querySelectorAll("tbody tr")) {
    row.hidden = (status.value !== "" && row.dataset.status !== status.value)
      || (recorder.value !== "" && row.dataset.recorder !== recorder.value);
  }
}
status.onchange = recorder.onchange = filter;
filter();
"""

OVERLAY = """
for (const figure of document.querySelectorAll(".compare")) {
  const range = figure.querySelector("input"), over = figure.querySelector(".over");
  const show = () => { over.style.opacity = range.value / 100; };
  range.oninput = show;
  figure.querySelector("button").onclick = () => {
    range.value = range.value < 50 ? 100 : 0;
    show();
  };
  show();
}
"""


def write(results: Sequence[ScenarioResult], folder: Path) -> Path:
    """index.html in `folder`, and a page per scenario and recorder beside its PNGs."""
    folder.mkdir(parents=True, exist_ok=True)
    ordered = sorted(results, key=lambda r: ORDER.index(status(r)))
    for r in ordered:
        here = folder / r.scenario.name / r.recorder
        here.mkdir(parents=True, exist_ok=True)
        (here / "index.html").write_text(_scenario_page(r, here))
    index = folder / "index.html"
    index.write_text(_index(ordered))
    return index


def _html(title: str, body: str, script: str) -> str:
    return (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{CSS}</style><body>{body}<script>{script}</script>"
    )


def _index(results: list[ScenarioResult]) -> str:
    n = Counter(status(r) for r in results)
    known = "known failure" + ("" if n["XFAIL"] == 1 else "s")
    recorders = "".join(
        f"<option>{escape(name)}</option>" for name in dict.fromkeys(r.recorder for r in results)
    )
    statuses = "".join(f"<option>{s}</option>" for s in ORDER)
    heads = ("status", "scenario", "recorder", "pixel max", "DOM min", "leaks", "gzip", "time")
    body = (
        f"<h1>replaycheck: <span class=FAIL>{n['FAIL']} failed</span>, "
        f"<span class=XFAIL>{n['XFAIL']} {known}</span>, "
        f"<span class=PASS>{n['PASS']} passed</span></h1>"
        f"<label>status <select id=status><option value=''>all</option>{statuses}</select></label> "
        f"<label>recorder <select id=recorder><option value=''>all</option>{recorders}</select>"
        "</label><table class=runs><thead><tr>"
        + "".join(f"<th>{h}</th>" for h in heads)
        + "<th>why</th></tr></thead><tbody>"
        + "".join(map(_row, results))
        + "</tbody></table>"
    )
    return _html("replaycheck report", body, FILTER)


def _row(r: ScenarioResult) -> str:
    s = status(r)
    href = escape(quote(f"{r.scenario.name}/{r.recorder}/index.html"))
    expect = r.scenario.expect
    px = max((c.pixel_mismatch for c in r.checkpoints), default=None)
    sim = min((c.dom_similarity for c in r.checkpoints), default=None)
    gzip = r.stream.get("gzip_bytes")
    why = f"known: {r.known_failure}" if r.known_failure else "; ".join(r.failures)
    cells = [
        f"<td class='status {s}'>{s}</td>",
        f"<td><a href='{href}'>{escape(r.scenario.name)}</a></td>",
        f"<td>{escape(r.recorder)}</td>",
        _number(px, ".5f", px is not None and px > expect.pixel_mismatch_max),
        _number(sim, ".4f", sim is not None and sim < expect.dom_similarity_min),
        _number(len(r.leaks), "d", bool(r.leaks)),
        _number(gzip / 1024 if gzip is not None else None, ".1f", False, " KiB"),
        _number(r.duration_s, ".1f", False, " s"),
        f"<td class=why title='{escape(why)}'>{escape(why)}</td>",
    ]
    return f"<tr data-status={s} data-recorder='{escape(r.recorder)}'>{''.join(cells)}</tr>"


def _number(value: float | None, spec: str, bad: bool, unit: str = "") -> str:
    shown = "-" if value is None else f"{value:{spec}}{unit}"
    return f"<td class='n{' bad' if bad else ''}'>{shown}</td>"


def _scenario_page(r: ScenarioResult, here: Path) -> str:
    s = status(r)
    title = f"{r.scenario.name} [{r.recorder}]"
    parts = [
        "<a href='../../index.html'>&larr; all scenarios</a>",
        f"<h1><span class={s}>{s}</span> {escape(title)}</h1>",
        f"<p>{escape(r.scenario.description)}</p>" if r.scenario.description else "",
    ]
    if r.known_failure:
        parts.append(f"<p class=XFAIL>known failure: {escape(r.known_failure)}</p>")
    if r.failures:
        items = "".join(f"<li>{escape(f)}</li>" for f in r.failures)
        parts.append(f"<h2>Failures</h2><ul class=failures>{items}</ul>")
    stream = ""
    if (here / "stream.json").is_file():
        stream = "<a href=stream.json download>download stream.json</a>: "
    if r.stream:
        stream += (
            f"{r.stream['events']} events, {r.stream['bytes']} bytes, "
            f"{r.stream['gzip_bytes']} gzipped; "
        )
    events = ", ".join(f"{escape(k)} {v}" for k, v in r.events.items())
    parts.append(
        f"<p>{stream}masking coverage {r.coverage:.0%} ({r.secrets} private values); "
        f"{r.duration_s:.1f} s{'<br>events: ' + events if events else ''}</p>"
    )
    if shows_delivery(r):
        log = "".join(f"<li>{escape(a)}</li>" for a in r.ingest_attempts)
        parts.append(
            f"<h2>Delivery</h2><p>{escape(delivery_text(r.delivery))}</p>"
            + (
                f"<details><summary>ingest requests</summary><ul>{log}</ul></details>"
                if log
                else ""
            )
        )
    parts.extend(_checkpoint(c, r.scenario.expect, here) for c in r.checkpoints)
    if r.leaks:
        rows = "".join(
            f"<tr><td><code>{escape(leak.source)}</code></td><td><code>{escape(leak.value)}"
            f"</code></td><td>{escape(leak.kind)}</td><td>{escape(leak.where)}</td></tr>"
            for leak in r.leaks
        )
        parts.append(
            "<h2>Masking leaks</h2><table class=leaks><thead><tr><th>element</th><th>value</th>"
            f"<th>kind</th><th>in the stream</th></tr></thead><tbody>{rows}</tbody></table>"
        )
    return _html(f"{title}: {s}", "".join(parts), OVERLAY)


def _checkpoint(c: CheckpointResult, expect: Expect, here: Path) -> str:
    px_bad = " class=bad" if c.pixel_mismatch > expect.pixel_mismatch_max else ""
    dom_bad = " class=bad" if c.dom_similarity < expect.dom_similarity_min else ""
    out = (
        f"<section class=checkpoint><h2>Checkpoint {escape(c.name)}</h2><p>"
        f"<span{px_bad}>pixel mismatch {c.pixel_mismatch:.5f}</span> "
        f"(max {expect.pixel_mismatch_max}), "
        f"<span{dom_bad}>DOM similarity {c.dom_similarity:.4f}</span> "
        f"(min {expect.dom_similarity_min}), masked area {c.masked_area:.4f}</p>"
    )
    if c.diff_image:
        diff = Path(c.diff_image)
        stem = diff.name.removesuffix(".diff.png")
        src = {
            kind: escape(quote(os.path.relpath(diff.with_name(f"{stem}.{kind}.png"), here)))
            for kind in ("live", "replay", "diff")
        }
        captions = {
            "live": "live",
            "replay": "replay",
            "diff": "diff: differing pixels red, masked regions blue",
        }
        out += "<div class=images>" + "".join(
            f"<figure><a href='{src[kind]}'><img src='{src[kind]}' alt={kind}></a>"
            f"<figcaption>{caption}</figcaption></figure>"
            for kind, caption in captions.items()
        )
        out += (
            "</div><figure class=compare><figcaption>Overlay: "
            "<label>live <input type=range min=0 max=100 value=50> replay</label> "
            "<button type=button>flip</button></figcaption><div class=stack>"
            f"<img src='{src['live']}' alt='live under'>"
            f"<img class=over src='{src['replay']}' alt='replay over'></div></figure>"
        )
    if c.dom_differences:
        items = "".join(
            f"<li><code>{escape(path)}</code>{escape(sep + what)}</li>"
            for path, sep, what in (d.partition(": ") for d in c.dom_differences)
        )
        out += f"<h3>DOM differences</h3><ul class=dom>{items}</ul>"
    return out + "</section>"
