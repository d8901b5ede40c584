// The replaycheck replayer (global `replaycheckReplay`): a recorded stream rebuilt in a sandboxed
// iframe, with seeking, playback at 1-8x, a cursor overlay and simulated :hover.

import { DialogState, EventType, MouseKind, NavigationKind } from "../format";
import type { Batch, DialogEvent, Event as RcEvent, MouseEvent as RcMouseEvent, MouseMoveEvent, SnapshotEvent } from "../format";
import { Overlay } from "./overlay";
import { Keyframe, Page } from "./page";

export type Speed = 1 | 2 | 4 | 8;

export interface ReplayerOptions {
  root: HTMLElement;
  speed?: Speed;
  showCursor?: boolean;
  /** The replay frame's sandbox tokens. Default "allow-same-origin": no script, no forms, no
   * navigation. Tests widen it, or remove it (null), to show that the other layers (policy,
   * filters) hold on their own. */
  sandbox?: string | null;
  /** Origins the replay may load images, media, fonts and styles from, besides the viewer's
   * own. Default: the recorded page's origin (from the stream). */
  origins?: string[];
  /** Load images, media and sheets without credentials (`crossorigin=anonymous`), for a viewer
   * whose cookies the recorded site would otherwise receive (cookies ignore ports: a viewer on
   * the site's host sends its own). Needs CORS on what is loaded (or a proxy that adds it). */
  credentials?: "omit";
  /** Derive keyframes in the background (see Keyframes): by default for a page load long
   * enough to need them (KEYFRAMES_FROM events), one per KEYFRAME_COST_MS of applying events.
   * Tests force them on or off, or give the milliseconds between two (0: after every event). */
  keyframes?: boolean | number;
}

/**
 * Seeking on long sessions. A seek rebuilds the page load from its Snapshot and applies every
 * event up to the target, so its cost grows with the time since the snapshot. Measured with
 * bench/bench_viewer.py on a generated 30-minute single-page session (12k events, a 3k-node
 * page; 2 shared cores): seeks p50 ~85 ms, max 195 ms on a quiet machine and 300-560 ms under
 * load, mostly from a few costly events (a modal dialog shown: ~20 ms of style; a route's
 * subtree: ~5 ms) and ~6 us per small one. Keyframes bound it: a background copy of the
 * replay (a second, hidden frame no step ever touches) applies the events once, in slices,
 * and keeps a copy of its state (Page.capture) each time KEYFRAME_COST_MS of applying has
 * passed since the last one. A seek then starts from the last keyframe at or before the
 * target (a restore costs 10-30 ms, about what building the snapshot does) and applies only
 * the events after it: seeks p50 ~50 ms, max ~90-110 ms under the same loads once keyframes
 * are derived (~0.65 s after opening on a quiet machine, up to ~2 s on a loaded one; seeks
 * before that cost what they did). A cheaper rebuild alone could not do this: the costly
 * events are the page's own. Derived in the replayer, not on the server: the state is
 * the replay DOM's (form values and their dirty flags, sheets, dialogs, focus), which only a
 * browser holds, and the stream stays what the recorder sent. Short streams (under
 * KEYFRAMES_FROM events per page load) have none: a seek there costs a few milliseconds.
 */
const KEYFRAMES_FROM = 1000;
const KEYFRAME_COST_MS = 15;
const SLICE_MS = 12;
/** Each keyframe holds a copy of the page: past this many, every other one goes and the
 * spacing doubles (a session of hours keeps its memory bounded; seeks get slower by that). */
const MAX_KEYFRAMES = 40;

type Listener = (name?: string) => void;

/** Batches (any order, several page loads) as one list in replay order with absolute times. */
export function fromBatches(batches: Batch[]): RcEvent[] {
  const ordered = [...batches].sort((a, b) => a.page - b.page || a.seq - b.seq);
  return ordered.flatMap((batch) =>
    batch.events.map((event) => {
      const copy = [...event] as RcEvent;
      copy[1] += batch.page;
      return copy;
    }),
  );
}

export class Replayer {
  readonly iframe: HTMLIFrameElement;
  /** Milliseconds from the first event to the last. */
  readonly duration: number;
  private readonly events: RcEvent[];
  private readonly start: number;
  private readonly box: HTMLDivElement;
  private readonly overlay: Overlay;
  private readonly listeners: Record<"checkpoint" | "end", Listener[]> = { checkpoint: [], end: [] };
  private page: Page | undefined;
  /** Index of the Snapshot the current page was built from (-1: none yet). */
  private base = -1;
  /** Index of the last event applied. */
  private applied = -1;
  private time = 0;
  private speed: Speed;
  private url = "";
  private mouse: RcMouseEvent | MouseMoveEvent | undefined;
  /** While playing: the wall clock and offset playback last started from. */
  private clock: { wall: number; from: number } | undefined;
  private frame = 0;
  private readonly origins: string[] | undefined;
  private readonly anonymous: boolean;
  /** URLs the replay's policy kept from loading (an attacker's beacons, the recorded site's
   * resources when it is not allowed): what the viewer reports as blocked. */
  readonly blocked = new Set<string>();
  /** Events not replayed because they are malformed (or broke while applied). */
  skipped = 0;
  private readonly keys: Keyframes | undefined;

  constructor(events: RcEvent[], options: ReplayerOptions) {
    // The given order is the replay order (never interleave page loads: ids are per page load);
    // a time earlier than its predecessor's (a page's last batch, sent while the next one
    // loads) is raised to it, as the harness does when decoding. An event that is not an
    // array with a type and a time is skipped: a stream is attacker-controlled.
    const wellFormed = events.filter((e) => Array.isArray(e) && Number.isInteger(e[0]) && Number.isFinite(e[1]));
    this.skipped = events.length - wellFormed.length;
    this.origins = options.origins;
    this.anonymous = options.credentials === "omit";
    let last = -Infinity;
    this.events = wellFormed.map((e) => {
      if (e[1] >= last) {
        last = e[1];
        return e;
      }
      const raised = [...e] as RcEvent;
      raised[1] = last;
      return raised;
    });
    this.start = this.events[0]?.[1] ?? 0;
    this.duration = (this.events[this.events.length - 1]?.[1] ?? this.start) - this.start;
    this.speed = options.speed ?? 1;

    const doc = options.root.ownerDocument;
    this.box = doc.createElement("div");
    this.box.style.position = "relative";
    this.iframe = doc.createElement("iframe");
    // Same origin so the parent can build and read it; no allow-scripts: nothing recorded runs.
    if (options.sandbox !== null) this.iframe.setAttribute("sandbox", options.sandbox ?? "allow-same-origin");
    // Out of keyboard focus (the player's controls are outside it), and no referrer from it.
    this.iframe.inert = true;
    this.iframe.tabIndex = -1; // Chromium tabs into an inert frame's document all the same
    this.iframe.referrerPolicy = "no-referrer";
    // White like a top-level page's canvas; no pointer events: the viewer cannot scroll it away.
    this.iframe.style.cssText = "position:absolute;left:0;top:0;border:0;display:block;background:#fff;pointer-events:none";
    this.overlay = new Overlay(doc);
    this.overlay.setVisible(options.showCursor ?? true);
    this.box.append(this.iframe, this.overlay.el);
    options.root.append(this.box);
    const keyframes = options.keyframes ?? longestPageLoad(this.events) >= KEYFRAMES_FROM;
    if (keyframes !== false) {
      const every = keyframes === true ? KEYFRAME_COST_MS : keyframes;
      this.keys = new Keyframes(this.events, this.box, options.sandbox, every, (doc, url, root, scroll, blocked) => this.newPage(doc, url, root, scroll, blocked));
    }
    // Open on the first page as it was snapshotted, not on the blank moment before.
    const first = this.events.find((e) => e[0] === EventType.Snapshot);
    this.seek(first ? first[1] - this.start : 0);
  }

  get currentTime(): number {
    return this.time;
  }

  /** The recorded page's URL at the current time (relative URLs in the replay resolve against it). */
  get href(): string {
    return this.url;
  }

  on(event: "checkpoint" | "end", fn: Listener): void {
    this.listeners[event].push(fn);
  }

  checkpointTime(name: string): number | undefined {
    const mark = this.events.find((e) => e[0] === EventType.Checkpoint && e[2] === name);
    return mark && mark[1] - this.start;
  }

  setOverlays(visible: boolean): void {
    this.overlay.setVisible(visible);
  }

  /** Elements of the replayed page at the current time whose content was masked on purpose. */
  maskedElements(): Element[] {
    return this.page?.maskedElements() ?? [];
  }

  /** Resolves once keyframes are derived for the whole stream (at once without keyframes):
   * from then on any seek starts from one. */
  keyframesReady(): Promise<number> {
    return this.keys?.done ?? Promise.resolve(0);
  }

  /** Images and fonts loaded: what a screenshot should wait for after a seek. */
  ready(): Promise<void> {
    return this.page?.ready() ?? Promise.resolve();
  }

  /** The state at `offset`: every event with time <= offset applied, synchronously. */
  seek(offset: number): void {
    this.time = Math.min(Math.max(offset, 0), this.duration);
    if (this.clock) this.clock = { wall: performance.now(), from: this.time };
    const target = this.indexAt(this.time);
    let snapshot = target;
    while (snapshot >= 0 && this.events[snapshot]![0] !== EventType.Snapshot) snapshot--;
    // Forwards within the same page load only the missing events, unless a keyframe skips
    // more work than restoring it costs; anything else starts from the last keyframe before
    // the target, or rebuilds from the snapshot.
    const forward = snapshot === this.base && target >= this.applied;
    const key = this.keys?.at(snapshot, target);
    const skips = key && (!forward || key.cost - (this.keys?.at(snapshot, this.applied)?.cost ?? 0) > KEYFRAME_COST_MS);
    if (key && skips && key.index > (forward ? this.applied : -1)) {
      this.restore(snapshot, key);
    } else if (!forward) {
      this.rebuild(snapshot);
    }
    this.advance(target, false);
    this.step(true);
  }

  play(): void {
    if (this.clock) return;
    if (this.time >= this.duration) this.seek(0);
    this.clock = { wall: performance.now(), from: this.time };
    const tick = (): void => {
      if (!this.clock) return;
      this.time = Math.min(this.clock.from + (performance.now() - this.clock.wall) * this.speed, this.duration);
      this.advance(this.indexAt(this.time), true);
      this.step();
      if (this.time < this.duration) {
        this.frame = requestAnimationFrame(tick);
      } else {
        this.pause();
        for (const fn of this.listeners.end) fn();
      }
    };
    this.frame = requestAnimationFrame(tick);
  }

  pause(): void {
    cancelAnimationFrame(this.frame);
    this.clock = undefined;
  }

  setSpeed(speed: Speed): void {
    if (this.clock) this.clock = { wall: performance.now(), from: this.time };
    this.speed = speed;
  }

  /** Last event index at or before `offset` (-1 if none): events are sorted by time. */
  private indexAt(offset: number): number {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.events[mid]![1] - this.start <= offset) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo - 1;
  }

  /** Start from keyframe `key` of the page load whose Snapshot is at `snapshot`. */
  private restore(snapshot: number, key: KeyframeAt): void {
    this.rebuild(snapshot);
    if (snapshot < 0) return;
    try {
      if (key.size) this.resize(key.size[0], key.size[1]);
      this.url = key.url;
      this.mouse = undefined;
      for (let i = key.index; i >= 0 && !this.mouse; i--) {
        const e = this.events[i]!;
        if (e[0] === EventType.Mouse || e[0] === EventType.MouseMove) this.mouse = e;
      }
      this.page = this.newPage(this.document(), key.url, key.frame, [0, 0], this.blocked);
      this.applied = key.index;
    } catch {
      // A keyframe that cannot be built: from the snapshot, as without keyframes.
      this.rebuild(snapshot);
    }
  }

  private newPage(doc: Document, url: string, root: SnapshotEvent[2] | Keyframe, scroll: [number, number], blocked: Set<string>): Page {
    return new Page(doc, url, root, scroll, this.origins ?? originOf(url), blocked, this.anonymous);
  }

  /** Start over from the Snapshot at `index` (-1: an empty document), with the viewport of then. */
  private rebuild(index: number): void {
    let sized = false;
    for (let i = index; i >= 0; i--) {
      const e = this.events[i]!;
      if (e[0] === EventType.Viewport && !sized) {
        this.resize(e[2], e[3]);
        sized = true;
      } else if (e[0] === EventType.Meta) {
        if (!sized) this.resize(e[4], e[5]);
        this.url = e[2];
        break;
      }
    }
    this.mouse = undefined;
    for (let i = index; i >= 0 && !this.mouse; i--) {
      const e = this.events[i]!;
      if (e[0] === EventType.Mouse || e[0] === EventType.MouseMove) this.mouse = e;
    }
    this.page = undefined;
    this.base = index;
    this.applied = index - 1;
    if (index < 0) {
      const doc = this.document();
      doc.open();
      doc.close();
    }
  }

  /** Apply events up to `index`; `live` (playing) also fires checkpoints and click ripples. */
  private advance(index: number, live: boolean): void {
    const skip = new Set<number>();
    while (this.applied < index) {
      const i = ++this.applied;
      if (skip.has(i)) continue;
      const e = this.events[i]!;
      try {
        const closed = !live && e[0] === EventType.Dialog && e[3] !== DialogState.Closed ? this.closedAgain(i, index) : 0;
        if (closed) {
          skip.add(closed);
          continue;
        }
        this.apply(e, i, live);
      } catch {
        // One malformed event must not end the replay: skipped and counted.
        this.skipped++;
      }
    }
  }

  /**
   * For a seek: the index of the Dialog event that closes again, by `index`, the dialog that
   * event `i` shows, when nothing between them can tell it was shown (0 otherwise). Both are
   * then left out: showing and closing a dialog in between leave the DOM and the focus as they
   * were (close() gives the focus back), but showModal() brings the style of the whole page up
   * to date, ~20 ms a dialog on a 3k-node page: of a 30-minute seek, half the time. Told apart:
   * the dialog open already, or removed (or an ancestor: a node added again is a new node),
   * its open attribute set, another dialog shown or closed (the focus it gives back), a new page.
   */
  private closedAgain(i: number, index: number): number {
    const e = this.events[i] as DialogEvent;
    const chain = this.page?.closedDialog(e[2]);
    if (!chain) return 0;
    for (let k = i + 1; k <= index && k < i + 20000; k++) {
      const next = this.events[k]!;
      switch (next[0]) {
        case EventType.Dialog:
          return next[2] === e[2] && next[3] === DialogState.Closed ? k : 0;
        case EventType.Snapshot:
        case EventType.Meta:
          return 0;
        case EventType.Mutation:
          if (!Array.isArray(next[3]) || !Array.isArray(next[4])) return 0;
          if (next[3].some((r) => !Array.isArray(r) || chain.has(r[1]))) return 0;
          if (next[4].some((a) => !Array.isArray(a) || (a[0] === e[2] && String(a[1]).toLowerCase() === "open"))) return 0;
      }
    }
    return 0;
  }

  private apply(e: RcEvent, index: number, live: boolean): void {
    const page = this.page;
    switch (e[0]) {
      case EventType.Meta:
        this.url = e[2];
        this.resize(e[4], e[5]);
        break;
      case EventType.Snapshot:
        this.base = index;
        this.page = this.newPage(this.document(), this.url, e[2], [e[3], e[4]], this.blocked);
        break;
      case EventType.MouseMove:
        this.mouse = e;
        break;
      case EventType.Mouse:
        this.mouse = e;
        if (live && (e[2] === MouseKind.Click || e[2] === MouseKind.DblClick)) this.overlay.ripple(e[4], e[5]);
        break;
      case EventType.Viewport:
        this.resize(e[2], e[3]);
        break;
      case EventType.Navigation:
        // A full load's URL comes with the Meta that follows it.
        if (e[2] !== NavigationKind.Load) this.url = e[3];
        break;
      case EventType.Checkpoint:
        if (live) for (const fn of this.listeners.checkpoint) fn(e[2]);
        break;
      default:
        if (page) applyToPage(page, e);
    }
  }

  /** What depends on the whole step being applied: scroll, focus, cursor, hover; after a seek
   * (`seeked`) every held scroll position, as a replay built straight to this moment has. */
  private step(seeked = false): void {
    // Each part on its own: a malformed pointer position or URL must not stop the others, nor
    // the seek or the playback that called this.
    let valid: [number, number] | null = null;
    try {
      const at = this.cursor();
      if (at && Number.isFinite(at[0]) && Number.isFinite(at[1])) valid = at;
    } catch {
      this.skipped++;
    }
    for (const part of [
      () => this.overlay.moveCursor(valid),
      () => this.page?.flush(seeked),
      () => this.page?.hover(valid),
      () => this.page?.target(String(this.url)),
    ])
      try {
        part();
      } catch {
        this.skipped++;
      }
  }

  /** The cursor position at the current time, from the last pointer event applied. */
  private cursor(): [number, number] | null {
    const m = this.mouse;
    if (!m) return null;
    if (m[0] === EventType.Mouse) return [m[4], m[5]];
    const now = this.start + this.time;
    let at = m[2][0];
    for (const p of m[2]) if (m[1] + p[2] <= now) at = p;
    return at ? [at[0], at[1]] : null;
  }

  private resize(width: number, height: number): void {
    const size = screenSize(width, height);
    if (!size) return;
    for (const style of [this.box.style, this.iframe.style]) {
      style.width = `${size[0]}px`;
      style.height = `${size[1]}px`;
    }
  }

  private document(): Document {
    const doc = this.iframe.contentDocument;
    if (!doc) throw new Error("replaycheck: the replay root must be in a document");
    return doc;
  }
}

/** A recorded size within what a screen can be (it is attacker-controlled); null if none. */
function screenSize(width: number, height: number): [number, number] | null {
  if (!(width > 0 && height > 0)) return null;
  return [Math.min(Math.round(width), 16384), Math.min(Math.round(height), 16384)];
}

/** What an event does to the page load it belongs to (the ones a Page applies). */
function applyToPage(page: Page, e: RcEvent): void {
  switch (e[0]) {
    case EventType.Mutation:
      page.mutate(e);
      break;
    case EventType.Input:
      page.input(e[2], e[3], e[4]);
      break;
    case EventType.Scroll:
      page.scroll(e[2], e[3], e[4]);
      break;
    case EventType.StyleSheet:
      page.sheet(e[2], e[3]);
      break;
    case EventType.AdoptedSheets:
      page.adopted(e[2], e[3]);
      break;
    case EventType.Focus:
      page.focus(e[2], e[3]);
      break;
    case EventType.Canvas:
      page.canvas(e[2], e[3]);
      break;
    case EventType.Dialog:
      page.dialog(e[2], e[3]);
      break;
    case EventType.Define:
      page.define(e[2]);
      break;
    case EventType.States:
      page.states(e[2], e[3]);
      break;
    // Error and Stop change nothing on screen.
  }
}

/** The most events any page load has from its Snapshot on. */
function longestPageLoad(events: RcEvent[]): number {
  let longest = 0;
  let from = -1;
  events.forEach((e, i) => {
    if (e[0] === EventType.Snapshot) from = i;
    if (from >= 0) longest = Math.max(longest, i - from);
  });
  return longest;
}

interface KeyframeAt {
  /** Events up to this index are applied in `frame`. */
  index: number;
  /** The Snapshot its page load was built from. */
  base: number;
  frame: Keyframe;
  url: string;
  size: [number, number] | null;
  /** Milliseconds the background copy spent applying events from the Snapshot to here. */
  cost: number;
}

type PageMaker = (doc: Document, url: string, root: SnapshotEvent[2], scroll: [number, number], blocked: Set<string>) => Page;

/**
 * The background copy that keyframes come from: the stream applied once, in slices of at most
 * SLICE_MS between the viewer's own work, in a hidden frame of its own with the replay's
 * sandbox and filters (it builds the same untrusted content). No step runs there: no hover,
 * focus or scroll is applied, so its state is the one a replay built straight to a moment has
 * before its step. Hidden in a closed shadow root: the viewer's document holds one replay frame.
 */
class Keyframes {
  readonly done: Promise<number>;
  private readonly list: KeyframeAt[] = [];
  private readonly iframe: HTMLIFrameElement;
  private page: Page | undefined;
  private base = -1;
  private next = 0;
  private url = "";
  private size: [number, number] | null = null;
  private cost = 0;
  private since = 0;

  constructor(
    private readonly events: RcEvent[],
    box: HTMLElement,
    sandbox: string | null | undefined,
    private every: number,
    private readonly makePage: PageMaker,
  ) {
    const doc = box.ownerDocument;
    const holder = doc.createElement("div");
    holder.style.cssText = "position:absolute;left:0;top:0;width:0;height:0;overflow:hidden;pointer-events:none";
    this.iframe = doc.createElement("iframe");
    if (sandbox !== null) this.iframe.setAttribute("sandbox", sandbox ?? "allow-same-origin");
    this.iframe.inert = true;
    this.iframe.tabIndex = -1;
    this.iframe.referrerPolicy = "no-referrer";
    this.iframe.setAttribute("aria-hidden", "true");
    this.iframe.style.cssText = "position:absolute;left:0;top:0;border:0;display:block";
    holder.attachShadow({ mode: "closed" }).append(this.iframe);
    box.append(holder);
    const win = doc.defaultView;
    this.done = new Promise((resolve) => {
      // One slice per task: the viewer's own work (a seek, a frame) waits SLICE_MS at most.
      // Not only in idle time: a viewer busy seeking would starve it, and keyframes are what
      // its seeks need. The first slice waits for idle time (after the first frame).
      const slice = (): void => {
        const until = performance.now() + SLICE_MS;
        while (this.next < this.events.length && performance.now() < until) this.apply(this.next++);
        if (this.next < this.events.length) setTimeout(slice, 0);
        else resolve(this.list.length);
      };
      if (win?.requestIdleCallback) win.requestIdleCallback(slice, { timeout: 200 });
      else setTimeout(slice, 0);
    });
  }

  /** The last keyframe of the page load built from Snapshot `base` at or before `index`. */
  at(base: number, index: number): KeyframeAt | undefined {
    let lo = 0;
    let hi = this.list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.list[mid]!.index <= index) lo = mid + 1;
      else hi = mid;
    }
    const key = this.list[lo - 1];
    return key && key.base === base ? key : undefined;
  }

  private apply(i: number): void {
    const e = this.events[i]!;
    const started = performance.now();
    try {
      switch (e[0]) {
        case EventType.Meta:
          this.url = e[2];
          this.resize(e[4], e[5]);
          break;
        case EventType.Viewport:
          this.resize(e[2], e[3]);
          break;
        case EventType.Navigation:
          if (e[2] !== NavigationKind.Load) this.url = e[3];
          break;
        case EventType.Snapshot: {
          const doc = this.iframe.contentDocument;
          if (!doc) return;
          this.page = this.makePage(doc, this.url, e[2], [e[3], e[4]], new Set());
          this.base = i;
          this.cost = this.since = 0;
          break;
        }
        default:
          if (this.page) applyToPage(this.page, e);
      }
    } catch {
      // Skipped, as the replay skips it.
    }
    // A snapshot's own building is no work a keyframe saves.
    const spent = e[0] === EventType.Snapshot ? 0 : performance.now() - started;
    this.cost += spent;
    this.since += spent;
    if (this.page && this.since >= this.every) {
      this.list.push({ index: i, base: this.base, frame: this.page.capture(), url: this.url, size: this.size, cost: this.cost });
      this.since = 0;
      if (this.list.length > MAX_KEYFRAMES) {
        const kept = this.list.filter((_, n) => n % 2 === 1);
        this.list.splice(0, this.list.length, ...kept);
        this.every = Math.max(this.every * 2, 1);
      }
    }
  }

  private resize(width: number, height: number): void {
    const size = screenSize(width, height);
    if (!size) return;
    this.size = size;
    this.iframe.style.width = `${size[0]}px`;
    this.iframe.style.height = `${size[1]}px`;
  }
}

function originOf(href: unknown): string[] {
  try {
    const url = new URL(String(href));
    return url.protocol === "http:" || url.protocol === "https:" ? [url.origin] : [];
  } catch {
    return [];
  }
}
