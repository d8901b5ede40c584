// The player: one session rebuilt by the replaycheck replayer (recorder/src/replay), with
// play/pause, 1-8x, a timeline with markers, skip-inactivity, an events panel, the replayed
// page's URL and a link to the current moment.

import type { Batch } from "../../recorder/src/format";
import type { Replayer, Speed } from "../../recorder/src/replay/index";
import { activityTimes, inactiveSpans, spanAt } from "./activity";
import { clickLabels } from "./labels";
import type { Span } from "./activity";
import { ApiError, batches, clip, deleteSession, session, sessionErrors } from "./api";
import type { Marker, MarkerKind, SessionDetail, SessionError } from "./api";
import { actionList } from "./widgets";
import { h } from "./dom";
import { clock, shortUrl, span, when } from "./format";
import { topBar } from "./shell";

const SPEEDS: Speed[] = [1, 2, 4, 8];
const KINDS: { kind: MarkerKind; label: string }[] = [
  { kind: "navigation", label: "Navigations" },
  { kind: "click", label: "Clicks" },
  { kind: "error", label: "Errors" },
  { kind: "rage_click", label: "Rage clicks" },
  { kind: "dead_click", label: "Dead clicks" },
  { kind: "quick_back", label: "Quick backs" },
  { kind: "error_click", label: "Error clicks" },
  { kind: "checkpoint", label: "Checkpoints" },
];
const KIND_NAME: Record<MarkerKind, string> = {
  navigation: "Navigation",
  click: "Click",
  error: "Error",
  rage_click: "Rage click",
  dead_click: "Dead click",
  quick_back: "Quick back",
  error_click: "Error click",
  checkpoint: "Checkpoint",
};
/** A clip around the current time when the user sets no range: this much either side. */
const CLIP_AROUND_MS = 5000;
const CLIP_MAX_MS = 5 * 60_000; // the server refuses longer clips
const SKIP_KEY = "rc-skip-inactivity";
const SPEED_KEY = "rc-speed";

/** What tests read (window.__rcViewer): the player's state, never a way to change it. */
export interface ViewerProbe {
  time(): number;
  playing(): boolean;
  speed(): number;
}

declare global {
  interface Window {
    replaycheckReplay?: typeof import("../../recorder/src/replay/index");
    __rcViewer?: ViewerProbe;
  }
}

/** The `t` query parameter: a moment in ms, or null when absent or not a number. */
export function momentOf(search: string): number | null {
  const raw = new URLSearchParams(search).get("t");
  if (raw === null || raw.trim() === "") return null;
  const t = Number(raw);
  return Number.isFinite(t) && t >= 0 ? t : null;
}

/** The batches the API returned, those shaped like batches (a stream is attacker-controlled). */
function asBatches(list: unknown[]): Batch[] {
  return list
    .filter(
      (b): b is Batch =>
        typeof b === "object" && b !== null && Array.isArray((b as Batch).events) && Number.isFinite((b as Batch).page) && Number.isFinite((b as Batch).seq),
    )
    .map((b) => ({ ...b, events: b.events.filter((e) => Array.isArray(e)) })); // fromBatches copies each event as an array
}

export async function playerPage(root: HTMLElement, id: string): Promise<void> {
  document.title = `Session ${id} · replaycheck`;
  const back = `/${sessionStorage.getItem("rc-list") ?? ""}`;
  const head = h("div", { class: "player-head" }, h("div", { class: "skeleton title" }));
  const body = h("div", { class: "player-body" }, h("div", { class: "player-loading", id: "player-status", role: "status" }, "Loading session…"));
  root.replaceChildren(
    topBar(h("a", { class: "crumb", href: back, id: "back" }, "Sessions"), h("span", { class: "crumb-sep" }, "/"), h("span", { class: "crumb current mono" }, id)),
    h("main", { class: "player-page" }, head, body),
  );

  let detail: SessionDetail;
  let stream: { format: string; batches: unknown[] };
  try {
    [detail, stream] = await Promise.all([session(id), batches(id)]);
  } catch (err) {
    const missing = err instanceof ApiError && err.status === 404;
    head.replaceChildren(h("h1", {}, missing ? "Session not found" : "Could not load this session"));
    body.replaceChildren(
      h("div", { class: "notice", id: "player-status" }, missing ? "No session with this id in your project. It may have been deleted or expired." : String(err instanceof Error ? err.message : err), h("p", {}, h("a", { href: back }, "Back to the sessions"))),
    );
    return;
  }
  renderHead(head, detail, back);
  const markers = [...detail.markers].sort((a, b) => a.t - b.t);
  const lib = window.replaycheckReplay;
  const playable = stream.format === "builtin" && detail.format === "builtin" && lib;

  if (!playable) {
    body.replaceChildren(
      h(
        "section",
        { class: "player-main" },
        h(
          "div",
          { class: "notice unsupported", id: "unsupported" },
          h("h2", {}, lib ? "This session cannot play here" : "The replayer did not load"),
          h(
            "p",
            {},
            lib
              ? `It was recorded with ${stream.format === "rrweb" || detail.format === "rrweb" ? "rrweb" : `the “${stream.format}” format`}. Only sessions recorded with replaycheck's builtin recorder play in this viewer; its list entry and events stay searchable.`
              : "/static/replay.js is missing: the viewer cannot rebuild sessions without it.",
          ),
        ),
      ),
      eventsPanel(markers, null).panel,
    );
    return;
  }

  const replayRoot = h("div", { id: "replay", class: "replay" });
  const stage = h("div", { id: "stage", class: "stage", tabindex: -1 }, replayRoot);
  const events = lib.fromBatches(asBatches(stream.batches));
  nameClicks(markers, events);
  // Cookies ignore ports: a recorded site on the viewer's host would get the viewer's own
  // cookies with every image the replay loads. Then load without credentials.
  const sameHost = detail.pages.some((p) => {
    try {
      return new URL(p).hostname === location.hostname;
    } catch {
      return false;
    }
  });
  let speed: Speed = SPEEDS.find((s) => String(s) === localStorage.getItem(SPEED_KEY)) ?? 1;
  const url = h("span", { id: "url", class: "url-text" });
  const scaleLabel = h("span", { id: "scale", class: "scale" });
  const main = h("section", { class: "player-main" }, h("div", { class: "addressbar" }, h("span", { class: "lock", "aria-hidden": "true" }), url, scaleLabel), stage);
  // The replay frame must be in the document before the replayer builds into it.
  body.replaceChildren(main);
  let replayer: Replayer;
  try {
    replayer = new lib.Replayer(events, { root: replayRoot, speed, ...(sameHost ? { credentials: "omit" as const } : {}) });
  } catch (err) {
    stage.replaceChildren(h("div", { class: "notice", id: "player-status" }, h("h2", {}, "This recording could not be replayed"), h("p", {}, String(err instanceof Error ? err.message : err))));
    return;
  }
  const duration = replayer.duration;
  const idle: Span[] = inactiveSpans(activityTimes(events), duration);
  let playing = false;
  let skip = localStorage.getItem(SKIP_KEY) !== "0";

  // Controls -------------------------------------------------------------------------------
  const playButton = h("button", { id: "play", class: "btn play", type: "button", "aria-label": "Play", title: "Play (space)" }, h("span", { class: "play-icon", "aria-hidden": "true" }));
  const time = h("span", { id: "time", class: "time mono" });
  const range = h("input", { id: "timeline", type: "range", min: 0, max: Math.max(1, Math.round(duration)), step: 1, value: 0, "aria-label": "Timeline" });
  const progress = h("div", { class: "progress" });
  const hoverTime = h("div", { class: "hover-time mono", hidden: true });
  const track = h("div", { class: "track" }, ...idle.map((s) => place(h("div", { class: "idle", title: `Inactive ${span(s.to - s.from)}` }), s.from, s.to - s.from)), progress);
  const markerStrip = h("div", { class: "markers", id: "markers" });
  const timeline = h("div", { class: "timeline", id: "timeline-wrap" }, markerStrip, h("div", { class: "rail" }, track, range, hoverTime));
  const speedGroup = h(
    "div",
    { id: "speed", class: "segmented", role: "group", "aria-label": "Speed" },
    ...SPEEDS.map((s) => h("button", { type: "button", "data-speed": s, "aria-pressed": s === speed ? "true" : "false", title: `${s}× speed (key ${s})` }, `${s}×`)),
  );
  const skipBox = h("input", { id: "skip-inactive", type: "checkbox", checked: skip });
  const copyButton = h("button", { id: "copy-link", class: "btn", type: "button", title: "Copy a link that opens the session at this moment" }, "Copy link to this moment");
  const momentLink = h("input", { id: "moment-link", class: "moment-link mono", readonly: true, "aria-label": "Link to this moment" });
  const momentBox = h("div", { class: "moment", hidden: true }, momentLink);
  const toast = h("div", { id: "toast", class: "toast", role: "status", "aria-live": "polite" });
  // Export clip: the range the user sets (seconds), or 5 s either side of now when left empty.
  const clipFrom = h("input", { id: "clip-from", type: "number", min: 0, step: "any", placeholder: "auto", inputmode: "decimal", class: "clip-input", title: "Seconds from the start; empty: 5 s before now" });
  const clipTo = h("input", { id: "clip-to", type: "number", min: 0, step: "any", placeholder: "auto", inputmode: "decimal", class: "clip-input", title: "Seconds from the start; empty: 10 s after the start of the clip" });
  const clipButton = h("button", { id: "export-clip", class: "btn", type: "button", title: "Download the range as an animated WebP (at most 5 min)" }, "Export clip");
  const clipStatus = h("span", { id: "clip-status", class: "clip-status", role: "status", "aria-live": "polite" });
  const clipBar = h(
    "div",
    { class: "clip-bar", id: "clip-bar" },
    h("span", { class: "field-label" }, "Clip"),
    h("label", { class: "clip-field" }, h("span", {}, "from"), clipFrom),
    h("label", { class: "clip-field" }, h("span", {}, "to"), clipTo, h("span", { class: "muted" }, "s")),
    clipButton,
    h("span", { class: "muted clip-hint" }, "empty: 10 s around now, at most 5 min"),
    clipStatus,
  );
  stage.append(toast);

  for (const m of markers) {
    const marker = h("button", {
      type: "button",
      class: `marker kind-${m.kind}`,
      "data-kind": m.kind,
      "data-t": m.t,
      title: `${KIND_NAME[m.kind] ?? m.kind} · ${clock(m.t)}\n${m.label}`,
      "aria-label": `${KIND_NAME[m.kind] ?? m.kind} at ${clock(m.t)}: ${m.label}`,
      // Hundreds of clicks would be hundreds of tab stops: the events panel lists them.
      tabindex: m.kind === "click" ? -1 : null,
    });
    marker.style.setProperty("left", `${pct(m.t)}%`);
    marker.addEventListener("click", () => seekTo(m.t));
    markerStrip.append(marker);
  }

  const { panel, list: eventList, items } = eventsPanel(markers, (m) => seekTo(m.t));
  main.append(
    h(
      "div",
      { class: "controls" },
      timeline,
      h(
        "div",
        { class: "control-row" },
        playButton,
        time,
        h("div", { class: "spacer" }),
        h("label", { class: "toggle", title: `Jump over stretches of ${span(5000)} or more without user activity` }, skipBox, h("span", {}, "Skip inactivity")),
        speedGroup,
        copyButton,
      ),
      clipBar,
      momentBox,
    ),
  );
  body.append(panel);
  void errorsSection(id, panel, (t) => seekTo(t), events);

  // State changes ---------------------------------------------------------------------------
  function pct(t: number): number {
    return duration > 0 ? Math.min(100, Math.max(0, (t / duration) * 100)) : 0;
  }
  function place(el: HTMLElement, from: number, width: number): HTMLElement {
    el.style.setProperty("left", `${pct(from)}%`);
    el.style.setProperty("width", `${pct(from + width) - pct(from)}%`);
    return el;
  }
  function play(): void {
    replayer.play();
    playing = true;
    render();
  }
  function pause(): void {
    replayer.pause();
    playing = false;
    render();
  }
  function toggle(): void {
    if (playing) pause();
    else play();
  }
  function seekTo(t: number): void {
    replayer.seek(t);
    keepFocus();
    render();
  }
  function setSpeed(s: Speed): void {
    speed = s;
    replayer.setSpeed(s);
    localStorage.setItem(SPEED_KEY, String(s));
    for (const b of speedGroup.querySelectorAll("button")) b.setAttribute("aria-pressed", b.dataset["speed"] === String(s) ? "true" : "false");
    render();
  }
  let toastTimer = 0;
  function say(text: string): void {
    toast.textContent = text;
    toast.classList.add("shown");
    clearTimeout(toastTimer);
    toastTimer = window.setTimeout(() => toast.classList.remove("shown"), 1800);
  }
  replayer.on("end", () => {
    playing = false;
    render();
  });

  playButton.addEventListener("click", toggle);
  for (const b of speedGroup.querySelectorAll("button")) b.addEventListener("click", () => setSpeed(Number(b.dataset["speed"]) as Speed));
  skipBox.addEventListener("change", () => {
    skip = skipBox.checked;
    localStorage.setItem(SKIP_KEY, skip ? "1" : "0");
  });
  copyButton.addEventListener("click", () => {
    const link = `${location.origin}/sessions/${encodeURIComponent(id)}?t=${Math.round(replayer.currentTime)}`;
    momentLink.value = link;
    momentBox.hidden = false;
    const copied = navigator.clipboard?.writeText(link);
    if (copied) copied.then(() => say("Link copied"), () => (momentLink.select(), say("Copy the link below")));
    else (momentLink.select(), say("Copy the link below"));
  });
  momentLink.addEventListener("focus", () => momentLink.select());
  clipButton.addEventListener("click", () => {
    const now = replayer.currentTime;
    const seconds = (input: HTMLInputElement): number | null => (input.value.trim() === "" || !Number.isFinite(Number(input.value)) ? null : Number(input.value) * 1000);
    const f = seconds(clipFrom);
    const t = seconds(clipTo);
    let from: number;
    let to: number;
    if (f === null && t === null) {
      // 10 s around now, shifted inside the session near its ends.
      to = Math.min(duration, Math.max(0, now - CLIP_AROUND_MS) + 2 * CLIP_AROUND_MS);
      from = Math.max(0, to - 2 * CLIP_AROUND_MS);
    } else if (t === null) {
      from = f!;
      to = Math.min(duration, from + 2 * CLIP_AROUND_MS);
    } else {
      to = t;
      from = f ?? Math.max(0, to - 2 * CLIP_AROUND_MS);
    }
    from = Math.round(from);
    to = Math.round(to);
    clipButton.disabled = true;
    clipStatus.className = "clip-status busy";
    clipStatus.textContent = `making clip ${clock(from)}–${clock(to)}...${to - from > CLIP_MAX_MS ? " (over 5 min: the server may refuse)" : ""}`;
    clip(id, from, to).then(
      ({ blob, name }) => {
        const href = URL.createObjectURL(blob);
        const a = h("a", { href, download: name, hidden: true });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(href), 60_000);
        clipStatus.className = "clip-status done";
        clipStatus.textContent = `Clip ${clock(from)}–${clock(to)} downloaded (${Math.max(1, Math.round(blob.size / 1024))} KB)`;
      },
      (err: unknown) => {
        clipStatus.className = "clip-status bad";
        clipStatus.textContent = `No clip: ${err instanceof ApiError ? `${err.message} (${err.status})` : String(err instanceof Error ? err.message : err)}`;
      },
    ).finally(() => (clipButton.disabled = false));
  });

  // Dragging the timeline seeks as it moves (once per frame); playback resumes on release.
  let dragging = false;
  let resume = false;
  let pendingSeek: number | null = null;
  range.addEventListener("pointerdown", () => {
    dragging = true;
    resume = playing;
    if (playing) pause();
  });
  range.addEventListener("input", () => {
    pendingSeek = Number(range.value);
  });
  const release = (): void => {
    if (!dragging) return;
    dragging = false;
    if (pendingSeek !== null) seekTo(pendingSeek);
    pendingSeek = null;
    if (resume) play();
  };
  // The value as committed (a release, a key, a value set by script): where the replay goes.
  range.addEventListener("change", () => {
    pendingSeek = null;
    seekTo(Number(range.value));
    release();
  });
  range.addEventListener("pointerup", release);
  range.addEventListener("pointercancel", release);
  range.addEventListener("pointermove", (e) => {
    const box = range.getBoundingClientRect();
    const x = Math.min(Math.max(e.clientX - box.left, 0), box.width);
    hoverTime.textContent = clock((x / Math.max(1, box.width)) * duration);
    hoverTime.style.setProperty("left", `${x}px`);
    hoverTime.hidden = false;
  });
  range.addEventListener("pointerleave", () => (hoverTime.hidden = true));

  // Keyboard: space plays/pauses anywhere but in text fields; arrows step 5 s; 1/2/4/8 speed.
  const typingIn = (t: EventTarget | null): boolean =>
    t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement || (t instanceof HTMLInputElement && !["range", "checkbox", "button"].includes(t.type)) || (t instanceof HTMLElement && t.isContentEditable);
  document.addEventListener("keydown", (e) => {
    if (typingIn(e.target) || e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === " " || e.code === "Space") {
      e.preventDefault(); // no page scroll, no click on a focused button as well
      if (!e.repeat) toggle();
    } else if ((e.key === "ArrowLeft" || e.key === "ArrowRight") && e.target !== range) {
      e.preventDefault();
      seekTo(replayer.currentTime + (e.key === "ArrowLeft" ? -5000 : 5000));
    } else if (["1", "2", "4", "8"].includes(e.key)) {
      setSpeed(Number(e.key) as Speed);
    }
  });
  // A focused button activates on Space's keyup: that would toggle a second time.
  document.addEventListener("keyup", (e) => {
    if ((e.key === " " || e.code === "Space") && !typingIn(e.target)) e.preventDefault();
  });

  // The replay at the stage's size: scaled down (never up: text stays crisp) and centred.
  const box = replayRoot.firstElementChild as HTMLElement | null;
  let fitted = "";
  function fit(): void {
    if (!box) return;
    const w = box.offsetWidth || 1;
    const hgt = box.offsetHeight || 1;
    const sw = stage.clientWidth;
    const sh = stage.clientHeight;
    const key = `${w}x${hgt}@${sw}x${sh}`;
    if (key === fitted) return;
    fitted = key;
    const s = Math.min(sw / w, sh / hgt, 1);
    replayRoot.style.setProperty("width", `${w}px`);
    replayRoot.style.setProperty("height", `${hgt}px`);
    replayRoot.style.setProperty("transform", `translate(${Math.max(0, (sw - w * s) / 2)}px, ${Math.max(0, (sh - hgt * s) / 2)}px) scale(${s})`);
    scaleLabel.textContent = `${w}×${hgt} · ${Math.round(s * 100)}%`;
  }
  const resized = new ResizeObserver(fit);
  resized.observe(stage);
  if (box) resized.observe(box);

  // Every frame: skip idle stretches while playing, then show the state.
  let shown = { time: -1, url: "", playing: !playing, current: -2 };
  function render(): void {
    const t = replayer.currentTime;
    if (t !== shown.time) {
      time.textContent = `${clock(t)} / ${clock(duration)}`;
      if (!dragging) range.value = String(Math.round(t));
      range.setAttribute("aria-valuetext", `${clock(t)} of ${clock(duration)}`);
      progress.style.setProperty("width", `${pct(t)}%`);
    }
    const href = replayer.href;
    if (href !== shown.url) {
      url.textContent = href || "—";
      url.title = href;
    }
    if (playing !== shown.playing) {
      playButton.classList.toggle("playing", playing);
      playButton.setAttribute("aria-label", playing ? "Pause" : "Play");
      playButton.title = playing ? "Pause (space)" : "Play (space)";
      playButton.setAttribute("aria-pressed", playing ? "true" : "false");
    }
    // The event panel follows the replay: the last event at or before now.
    let current = -1;
    for (let lo = 0, hi = markers.length - 1; lo <= hi; ) {
      const mid = (lo + hi) >> 1;
      if (markers[mid]!.t <= t) (current = mid), (lo = mid + 1);
      else hi = mid - 1;
    }
    if (current !== shown.current) {
      items[shown.current]?.classList.remove("current");
      const li = items[current];
      if (li) {
        li.classList.add("current");
        const top = li.offsetTop - eventList.offsetTop;
        if (top < eventList.scrollTop || top + li.offsetHeight > eventList.scrollTop + eventList.clientHeight) eventList.scrollTop = top - eventList.clientHeight / 3;
      }
    }
    shown = { time: t, url: href, playing, current };
  }
  // The replay focuses what the recorded page focused, and that takes the browser's focus into
  // the (inert) replay frame, where key presses go nowhere: the player's keys would stop
  // working mid-playback. The focus goes back to where it was in the player.
  let lastFocus: HTMLElement = stage;
  document.addEventListener("focusin", (e) => {
    if (e.target instanceof HTMLElement && e.target !== replayer.iframe) lastFocus = e.target;
  });
  const keepFocus = (): void => {
    if (document.activeElement !== replayer.iframe) return;
    (lastFocus.isConnected ? lastFocus : stage).focus({ preventScroll: true });
  };
  const frame = (): void => {
    keepFocus();
    if (playing && skip && !dragging) {
      const idleNow = spanAt(idle, replayer.currentTime);
      if (idleNow) {
        replayer.seek(idleNow.to);
        say(`Skipped ${span(idleNow.to - idleNow.from)} of inactivity`);
      }
    }
    if (dragging && pendingSeek !== null) {
      replayer.seek(pendingSeek);
      pendingSeek = null;
    }
    render();
    requestAnimationFrame(frame);
  };

  window.__rcViewer = Object.freeze({ time: () => replayer.currentTime, playing: () => playing, speed: () => speed });
  const moment = momentOf(location.search);
  if (moment !== null) replayer.seek(moment);
  fit();
  render();
  requestAnimationFrame(frame);
  stage.dataset["ready"] = "1";
}

/** Clicks the index could not name get the name the stream gives them (see labels.ts). */
function nameClicks(markers: Marker[], events: readonly unknown[]): void {
  if (!markers.some((m) => m.kind === "click" && !m.label)) return;
  const clicks = clickLabels(events);
  let i = 0;
  for (const m of markers) {
    if (m.kind !== "click") continue;
    while (i < clicks.length && clicks[i]!.t < m.t - 1) i++;
    const c = clicks[i];
    if (c && Math.abs(c.t - m.t) <= 1) {
      if (!m.label) m.label = c.label;
      i++;
    }
  }
}

function renderHead(head: HTMLElement, s: SessionDetail, back: string): void {
  const chip = (label: string, value: string | Node, cls = ""): HTMLElement => h("div", { class: `chip ${cls}`.trim() }, h("span", { class: "chip-label" }, label), h("span", { class: "chip-value" }, value));
  const props = Object.entries(s.user_props ?? {});
  const remove = h("button", { class: "btn ghost danger", type: "button", id: "delete-session" }, "Delete");
  remove.addEventListener("click", () => {
    if (!confirm(`Delete session ${s.id}? Its recording is removed for good.`)) return;
    remove.disabled = true;
    deleteSession(s.id).then(
      () => location.assign(back),
      (err: unknown) => {
        remove.disabled = false;
        alert(`Could not delete: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  });
  head.replaceChildren(
    h(
      "div",
      { class: "head-title" },
      h("h1", { id: "session-title" }, shortUrl(s.pages[0] ?? s.id)),
      h("div", { class: "head-actions" }, remove),
    ),
    h(
      "div",
      { class: "chips", id: "session-meta" },
      chip("Started", when(s.start)),
      chip("Duration", span(s.duration_ms)),
      chip("Active", span(s.active_ms)),
      chip("User", s.user_id ?? "anonymous"),
      ...props.map(([k, v]) => chip(k, String(v))),
      chip("Browser", `${s.browser ?? "unknown"}${s.viewport ? ` · ${s.viewport.width}×${s.viewport.height}` : ""}`),
      chip("Pages", String(s.pages.length)),
      s.errors ? chip("Errors", String(s.errors), "error") : null,
      s.rage_clicks ? chip("Rage clicks", String(s.rage_clicks), "rage") : null,
      s.gaps ? chip("Missing", `${s.gaps} ${s.gaps === 1 ? "batch" : "batches"}`, "warn") : null,
      s.ended ? null : chip("Status", "still recording", "live"),
    ),
  );
}

/** The events panel: markers as a list (click: seek), filterable by kind. */
function eventsPanel(markers: Marker[], onPick: ((m: Marker) => void) | null): { panel: HTMLElement; list: HTMLOListElement; items: HTMLLIElement[] } {
  const items = markers.map((m) => {
    const li = h(
      "li",
      { class: `event kind-${m.kind}`, "data-kind": m.kind, "data-t": m.t, tabindex: onPick ? 0 : null, title: m.label },
      h("span", { class: "ev-dot", "aria-hidden": "true" }),
      h("span", { class: "ev-text" }, h("span", { class: "ev-kind" }, KIND_NAME[m.kind] ?? m.kind), h("span", { class: "ev-label" }, m.label)),
      h("span", { class: "ev-time mono" }, clock(m.t)),
    );
    if (onPick) {
      li.addEventListener("click", () => onPick(m));
      li.addEventListener("keydown", (e) => {
        if (e.key === "Enter") onPick(m);
      });
    }
    return li;
  });
  const list = h("ol", { id: "events", class: "events" }, ...items);
  if (!items.length) list.append(h("li", { class: "empty muted" }, "No events recorded."));
  const filters = h(
    "div",
    { class: "kind-filters", id: "kind-filters" },
    ...KINDS.filter(({ kind }) => markers.some((m) => m.kind === kind)).map(({ kind, label }) => {
      const n = markers.filter((m) => m.kind === kind).length;
      const b = h("button", { type: "button", class: `kind-chip kind-${kind}`, "data-kind": kind, "aria-pressed": "true" }, h("span", { class: "ev-dot", "aria-hidden": "true" }), `${label} `, h("span", { class: "count" }, n));
      b.addEventListener("click", () => {
        const on = b.getAttribute("aria-pressed") !== "true";
        b.setAttribute("aria-pressed", on ? "true" : "false");
        // Hidden on the list and on the timeline alike.
        document.body.classList.toggle(`hide-${kind}`, !on);
      });
      return b;
    }),
  );
  const panel = h("aside", { class: "sidebar" }, h("div", { class: "sidebar-head" }, h("h2", {}, "Events"), h("span", { class: "muted" }, String(markers.length))), filters, list);
  return { panel, list, items };
}

const ERROR_KIND: Record<string, string> = { error: "JS error", console: "Console error", network: "Failed request" };

/** The session's errors (GET /api/sessions/ID/errors) at the top of the sidebar: message,
 * kind, stack and the last actions before it; a click seeks to it. With ?issue=FP the first
 * error of that issue is shown expanded. */
async function errorsSection(id: string, panel: HTMLElement, seek: (t: number) => void, events: readonly unknown[]): Promise<void> {
  let found: SessionError[];
  try {
    found = (await sessionErrors(id)).errors;
  } catch {
    return; // the events panel still lists the error markers
  }
  if (!found.length) return;
  // Clicks the index could not name (see labels.ts) get the stream's name, as markers do.
  if (found.some((e) => e.before.some((a) => a.kind === "click" && !a.label))) {
    const clicks = clickLabels(events);
    for (const e of found) {
      for (const a of e.before) {
        if (a.kind === "click" && !a.label) a.label = clicks.find((c) => Math.abs(c.t - a.t) <= 1)?.label ?? "";
      }
    }
  }
  const wanted = new URLSearchParams(location.search).get("issue");
  const open = wanted ? found.findIndex((e) => e.fingerprint === wanted) : -1;
  const items = found.map((e, i) => {
    const body = h(
      "div",
      { class: "err-body", id: `err-body-${i}`, hidden: i !== open },
      e.url ? h("div", { class: "err-url mono", title: e.url }, shortUrl(e.url)) : null,
      e.stack ? h("pre", { class: "stack" }, e.stack) : h("p", { class: "muted" }, "No stack."),
      h("span", { class: "field-label" }, "Before it"),
      actionList(e.before),
    );
    const head = h(
      "button",
      { type: "button", class: "err-head", "aria-expanded": i === open ? "true" : "false", "aria-controls": `err-body-${i}`, title: "Go to this error" },
      h("span", { class: "ev-dot", "aria-hidden": "true" }),
      h("span", { class: "ev-text" }, h("span", { class: "ev-kind" }, ERROR_KIND[e.kind] ?? e.kind), h("span", { class: "err-message" }, e.message)),
      h("span", { class: "ev-time mono" }, clock(e.t)),
    );
    head.addEventListener("click", () => {
      const expanded = head.getAttribute("aria-expanded") === "true";
      // A click goes to the error and opens (or closes) its details.
      seek(e.t);
      head.setAttribute("aria-expanded", expanded ? "false" : "true");
      body.hidden = expanded;
    });
    return h("li", { class: `err-item kind-error${i === open ? " wanted" : ""}`, "data-t": e.t, "data-kind": e.kind, "data-fp": e.fingerprint ?? "" }, head, body);
  });
  const section = h(
    "section",
    { class: "errors-panel", id: "errors-panel", "aria-label": "Errors" },
    h("div", { class: "sidebar-head" }, h("h2", {}, "Errors"), h("span", { class: "muted" }, String(found.length))),
    h("ol", { class: "err-list", id: "session-errors" }, ...items),
  );
  panel.prepend(section);
  items[open]?.scrollIntoView({ block: "nearest" });
}
