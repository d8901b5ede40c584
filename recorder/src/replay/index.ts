// The replaycheck replayer (global `replaycheckReplay`): a recorded stream rebuilt in a sandboxed
// iframe, with seeking, playback at 1-8x, a cursor overlay and simulated :hover.

import { EventType, MouseKind, NavigationKind } from "../format";
import type { Batch, Event as RcEvent, MouseEvent as RcMouseEvent, MouseMoveEvent } from "../format";
import { Overlay } from "./overlay";
import { Page } from "./page";

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
}

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
    // Forwards within the same page load only the missing events; anything else rebuilds.
    if (snapshot !== this.base || target < this.applied) this.rebuild(snapshot);
    this.advance(target, false);
    this.step();
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
    while (this.applied < index) {
      const i = ++this.applied;
      try {
        this.apply(this.events[i]!, i, live);
      } catch {
        // One malformed event must not end the replay: skipped and counted.
        this.skipped++;
      }
    }
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
        this.page = new Page(this.document(), this.url, e[2], [e[3], e[4]], this.origins ?? originOf(this.url), this.blocked, this.anonymous);
        break;
      case EventType.Mutation:
        page?.mutate(e);
        break;
      case EventType.Input:
        page?.input(e[2], e[3], e[4]);
        break;
      case EventType.Scroll:
        page?.scroll(e[2], e[3], e[4]);
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
      case EventType.StyleSheet:
        page?.sheet(e[2], e[3]);
        break;
      case EventType.AdoptedSheets:
        page?.adopted(e[2], e[3]);
        break;
      case EventType.Focus:
        page?.focus(e[2], e[3]);
        break;
      case EventType.Canvas:
        page?.canvas(e[2], e[3]);
        break;
      case EventType.Dialog:
        page?.dialog(e[2], e[3]);
        break;
      case EventType.Define:
        page?.define(e[2]);
        break;
      case EventType.States:
        page?.states(e[2], e[3]);
        break;
      // Error and Stop change nothing on screen.
    }
  }

  /** What depends on the whole step being applied: scroll, focus, cursor, hover. */
  private step(): void {
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
      () => this.page?.flush(),
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
    if (!(width > 0 && height > 0)) return;
    // A recorded size is attacker-controlled: within what a screen can be.
    width = Math.min(Math.round(width), 16384);
    height = Math.min(Math.round(height), 16384);
    for (const style of [this.box.style, this.iframe.style]) {
      style.width = `${width}px`;
      style.height = `${height}px`;
    }
  }

  private document(): Document {
    const doc = this.iframe.contentDocument;
    if (!doc) throw new Error("replaycheck: the replay root must be in a document");
    return doc;
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
