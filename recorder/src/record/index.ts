// replaycheck's recorder: record(options) starts recording this page (docs/stream-format.md).
// Nothing heavy runs at evaluation; the first snapshot starts at DOMContentLoaded and is sliced
// into ~5 ms tasks. Events held until that snapshot is out keep their order behind it.

import { DOCUMENT_TARGET, DialogState, EventType, FORMAT_VERSION, MouseKind, NavigationKind } from "../format";
import type { Event as RcEvent, MouseEvent as MouseEventT, UserProps } from "../format";
import { Kind, bits, cfg, configure, hit, maskText, stateOf, textMasked } from "./mask";
import type { RecordOptions } from "./mask";
import { mutations } from "./mutations";
import type { Round } from "./mutations";
import { warmPii } from "./pii";
import {
  MO,
  add,
  apply,
  clearT,
  defProp,
  doc,
  doFetch,
  getDesc,
  isArray,
  now,
  on,
  round,
  setT,
  stringify,
  ts,
  win,
} from "./native";
import type { Job } from "./serialize";
import {
  BUTTON,
  adopted,
  adopters,
  boundary,
  canvasData,
  sheetCss,
  dirtyCanvas,
  drawn,
  idOf,
  imageData,
  lastCanvas,
  ownState,
  userValidity,
  validity,
  run,
  scrolled,
  stateSets,
  statesOf,
  url,
  walk,
} from "./serialize";
import { enqueue, hide, online, readStats, send, settled, setup, shown } from "./transport";
import type { Stats } from "./transport";

export type { RecordOptions, Stats, UserProps };

export interface Recorder {
  checkpoint(name: string): void;
  /** Resolves with the delivery stats once everything recorded so far is delivered, or after `ms`. */
  flush(ms?: number): Promise<Stats>;
  /** Delivery so far (batches, sent, retried, dropped, queued), for a site's own monitoring. */
  stats(): Stats;
  stop(): void;
  identify: typeof identify;
  track: typeof track;
}

const OBSERVE: MutationObserverInit = { childList: true, subtree: true, attributes: true, characterData: true };
/** Mouse events, in MouseKind order. */
const MOUSE = "mousedown mouseup click dblclick contextmenu";
const CANVAS_DRAW = "fill stroke fillRect strokeRect clearRect fillText strokeText drawImage putImageData reset";
const GL_DRAW = "clear drawArrays drawElements drawArraysInstanced drawElementsInstanced drawRangeElements";
/** Dialog methods, in DialogState order. */
const DIALOG = "close show showModal";
/** At most one frame per canvas per second, and only a changed one (see flushCanvas). */
const CANVAS_MS = 1000;

let started = false; // record() was called: one recording per page
let live = false; // recording (false after stop or a storm)
let ready = false; // the first snapshot and every round are out: events go straight to the queue
let held: (() => void)[] = []; // until then, in order: events, and the rounds held records make
let heldRecords: [MutationRecord[], number][] = [];
let making: Round | 0 = 0; // the round being made, in slices
let observer: MutationObserver;
let limit = 10000;
let errors = 0;
// Mutation records in the current second, and when it started.
let storm = 0,
  stormT = 0;
let t0 = 0;
let walking = false;
// The first snapshot: the walk (stack) writes its JSON text (a slice's pieces, then joined).
const stack: Job[] = [];
const pieces: string[] = [];
const text: string[] = [];
const watched = new WeakSet<object>();
const lastInput = new WeakMap<Node, unknown>();
const lastDialog = new WeakMap<Node, DialogState>();
const scrolls = new Set<Node>();
const sheets = new Set<CSSStyleSheet>();
let moves: [number, number, number][] = [];
let movesT = 0;
let pointer = [0, 0];
// Pending timers (0: none), one per kind of flush.
let scrollTimer = 0,
  moveTimer = 0,
  canvasTimer = 0,
  sheetsTimer = 0,
  resizeTimer = 0;
let lastHref = location.href;
let lastFocus = 0;
let who: [string, UserProps] | undefined; // the last identify(): sent when recording starts
let tracked: RcEvent[] = []; // the last 10 track() calls before record(): sent when it starts
let told: Told | void; // the plugin's: says what a click was on

/** Our code never throws into the page: failures are counted, and too many switch recording off. */
const guard = <A extends unknown[]>(fn: (...a: A) => void, always = false): (...a: A) => void => {
  return (...a) => {
    if (live || always)
      try {
        fn(...a);
      } catch {
        if (++errors > 100) halt("internal errors");
      }
  };
};

/** A capture listener (native.ts's `on`) behind `guard`. */
const listen = (target: EventTarget, type: string, fn: (e: Event) => void, always?: boolean): void => on(target, type, guard(fn, always));

const out = (e: RcEvent): void => {
  if (!live) return;
  // Pointer samples go out before anything later, so the stream stays in time order.
  if (moves.length && e[0] != EventType.MouseMove) flushMoves();
  // Now, or after the first snapshot and the rounds under way are out.
  if (ready) enqueue(e);
  else add(held, () => enqueue(e));
};

// Patching ------------------------------------------------------------------------------------

type Proto = Record<string, unknown> | undefined;

/** Wrap methods (`names`, space-separated): the original always runs and its result is returned, whatever our hook does. */
const after = <T>(proto: Proto, names: string, hook: (self: T, result: unknown, args: unknown[], name: string) => void): void => {
  const safe = guard(hook);
  for (const name of names.split(" ")) {
    const orig = proto?.[name];
    if (typeof orig == "function")
      try {
        proto![name] = function (this: T, ...args: unknown[]) {
          const r = apply(orig, this, args);
          safe(this, r, args, name);
          return r;
        };
      } catch {
        // read-only: recorded without this hook
      }
  }
};

/** Wrap property setters the same way. */
const afterSet = <T>(proto: Proto, names: string, hook: (self: T) => void): void => {
  const safe = guard(hook);
  for (const name of names.split(" ")) {
    const d = proto && getDesc(proto, name);
    const set = d?.set;
    if (set && d.configurable)
      defProp(proto, name, {
        ...d,
        set(this: T, v: unknown) {
          apply(set, this, [v]);
          safe(this);
        },
      });
  }
};

type Realm = typeof globalThis;
const proto = (C: unknown): Proto => (C as { prototype?: Proto } | undefined)?.prototype;

/** The hooks a window's prototypes need: ours, and each same-origin iframe's. */
const patchWindow = (w: Realm | null): void => {
  if (!w || watched.has(w)) return;
  watched.add(w);
  afterSet(proto(w.HTMLInputElement), "value checked", inputChanged);
  afterSet(proto(w.HTMLTextAreaElement), "value", inputChanged);
  afterSet(proto(w.HTMLSelectElement), "value selectedIndex", inputChanged);
  const sheet = proto(w.CSSStyleSheet);
  after(sheet, "insertRule deleteRule addRule removeRule replaceSync", dirtySheet);
  after(sheet, "replace", (s: CSSStyleSheet, r) => (r as Promise<unknown>).then(guard(() => dirtySheet(s)), () => {}));
  after(proto(w.CSSGroupingRule), "insertRule deleteRule", (g: CSSRule) => g.parentStyleSheet && dirtySheet(g.parentStyleSheet));
  // A rule's declarations changed in place (rule.style.setProperty...): its sheet changed.
  const decl = proto(w.CSSStyleDeclaration);
  const ruleChanged = (d: CSSStyleDeclaration): void => {
    const s = d.parentRule?.parentStyleSheet;
    if (s) dirtySheet(s);
  };
  after(decl, "setProperty removeProperty", ruleChanged);
  afterSet(decl, "cssText", ruleChanged);
  for (const C of [w.Document, w.ShadowRoot]) afterSet(proto(C), "adoptedStyleSheets", adoptedChanged);
  after(proto(w.CanvasRenderingContext2D), CANVAS_DRAW, (c: CanvasRenderingContext2D) => canvasDrawn(c.canvas));
  // Reached first, the WebGL interfaces are made then (4 ms, 16 at 4x throttling, on a page that
  // has none): in a task of their own, not in record()'s.
  setT(guard(() => {
    for (const C of [w.WebGLRenderingContext, w.WebGL2RenderingContext])
      after(proto(C), GL_DRAW, (g: WebGLRenderingContext) => canvasDrawn(g.canvas as HTMLCanvasElement));
  }), 0);
  // A WebGL canvas reads back blank once its frame is shown, unless its buffer is preserved.
  const canvas = proto(w.HTMLCanvasElement);
  const getContext = canvas?.getContext;
  if (typeof getContext == "function")
    try {
      canvas!.getContext = function (this: HTMLCanvasElement, type: unknown, attrs?: object, ...rest: unknown[]) {
        if (/webgl/.test(String(type))) attrs = { ...attrs, preserveDrawingBuffer: true };
        return apply(getContext, this, [type, attrs, ...rest]);
      };
    } catch {
      // read-only: WebGL canvases are captured only when the page preserves their buffer
    }
  after(proto(w.CustomElementRegistry), "define", (_r: unknown, _x, args) => w == win && out([EventType.Define, ts(), String(args[0])]));
  after(proto(w.HTMLElement), "attachInternals", (el: Element, r) => {
    const set = (r as ElementInternals).states;
    if (set) {
      stateSets.set(el, set);
      stateOwners.set(set, el);
    }
  });
  after(proto(w.CustomStateSet), "add delete clear", (s: Set<string>) => {
    const el = stateOwners.get(s);
    if (el) statesChanged(el);
  });
  after(proto(w.Element), "attachShadow", (_h: Element, r) => (r as ShadowRoot).mode == "open" && found(r as Node));
  after(proto(w.HTMLDialogElement), DIALOG, (d: Element, _r, _a, name) => dialog(d, DIALOG.split(" ").indexOf(name)));
};

// Watching what the serializer meets ----------------------------------------------------------

export const found = (n: Node): void => {
  if (watched.has(n)) return;
  watched.add(n);
  if (n.nodeType == 9) {
    observer.observe(n, OBSERVE);
    if (n != doc) {
      patchWindow((n as Document).defaultView as unknown as Realm | null);
      docListeners(n as Document);
    }
  } else if (n.nodeType == 11) {
    observer.observe(n, OBSERVE);
    listen(n, "scroll", onScroll); // scroll is not composed: it stops at the shadow root
    // A move between two elements of one shadow tree is not seen outside it.
    listen(n, "focus", onFocus);
  } else {
    const tag = (n as Element).localName;
    listen(n, "load", () => (tag == "iframe" ? frameLoaded(n as HTMLIFrameElement) : tag == "img" ? imageLoaded(n as HTMLImageElement) : linkLoaded(n as HTMLLinkElement)));
  }
};

const docListeners = (d: Document): void => {
  listen(d, "input", onInput);
  listen(d, "change", onInput);
  listen(d, "scroll", onScroll);
  // `close` fires a task after close(): by then the dialog may be open again.
  listen(d, "close", (e: Event) => (e.target as HTMLDialogElement).open || dialog(e.target as Element, DialogState.Closed));
};

/** A same-origin iframe loaded a document: send the iframe again, with it, as a move in place. */
const frameLoaded = (f: HTMLIFrameElement): void => {
  if (!f.isConnected || !f.contentDocument) return; // cross-origin: nothing new to send
  takeRecords(); // changes before this go first
  onRecords([{ type: "childList", target: f.parentNode, addedNodes: [f], removedNodes: [f] } as unknown as MutationRecord]);
};

const linkLoaded = (l: HTMLLinkElement): void => void (l.sheet && dirtySheet(l.sheet));

/** A blob: image loaded: its pixels, as the replay cannot load its URL. */
const imageLoaded = (img: HTMLImageElement): void => {
  const id = idOf(img);
  const data = id && /^blob:/.test(img.src) && imageData(img);
  if (data) out([EventType.Canvas, ts(), id, data]);
};

// Mutations and the first snapshot -------------------------------------------------------------

const onRecords = (records: MutationRecord[]): void => {
  const t = now();
  if (t - stormT > 1000) (stormT = t), (storm = 0);
  if ((storm += records.length) > limit) return halt(`mutation limit: ${limit}/s`);
  for (const r of records) {
    // <style> text is carried as CSSOM text: a change to it is a sheet change.
    const n = r.type == "characterData" ? r.target.parentNode : r.target;
    const tag = n && (n as Element).localName;
    const sheet = tag == "style" && (n as HTMLStyleElement).sheet;
    if (sheet) dirtySheet(sheet);
    // A textarea's text is its default value, shown while nobody typed: sent as its value.
    else if (tag == "textarea") inputChanged(n as Element);
    else if (tag == "img" && r.attributeName == "src") found(n!);
    for (const a of r.addedNodes) walk.again.add(a);
  }
  const time = ts();
  // Batches are kept until the round that makes them into one event starts: it reads the page
  // as it is then, which is after all of them. Until the snapshot is out, and while a round is
  // being made, that round waits in line behind what came before.
  if (!heldRecords.length)
    add(held, () => {
      making = mutations(heldRecords, time);
      heldRecords = [];
    });
  add(heldRecords, [records, boundary()]);
  if (ready) {
    ready = false;
    go();
  }
};

/** What was held, out in order, the rounds among them made in slices of 5 ms (or until `until`). */
const go = (until = now() + 5): unknown => {
  for (;;) {
    if (making) {
      takeRecords();
      const e = making(until);
      if (e === undefined) return setT(guard(go), 0);
      making = 0;
      if (e) enqueue(e);
    }
    // Events held queue themselves; a round's start makes the next round.
    const fn = held.shift();
    if (!fn) return (ready = true);
    fn();
  }
};

/** Records not yet delivered, handled before we serialize anything outside the observer callback. */
const takeRecords = (): void => {
  const r = observer.takeRecords();
  if (r.length) onRecords(r);
};

const startSnapshot = (): void => {
  if (walking) return;
  walking = true;
  walk.late = doc.readyState == "complete"; // rounds, which come after, say false
  add(stack, [[doc], 0, pieces, 0, null, ""]);
  // The first round: the snapshot. Each slice's pieces become one string: a few long strings
  // live until the snapshot is sent, not one small one per node.
  making = (until) => {
    const done = run(stack, until);
    add(text, pieces.splice(0).join(""));
    if (done) return snapshotDone();
  };
  setT(guard(warm), 0);
};

/** The PII patterns compiled a task each before the first slice, which would pay for them all. */
const warm = (): void => {
  setT(guard(!cfg.pii || warmPii() ? go : warm), 0);
};

/** Finish the first snapshot and the rounds now (checkpoint, flush): the rest in one go. */
const finishSnapshot = (): void => {
  startSnapshot();
  go(Infinity);
};

const snapshotDone = (): null => {
  // Stamped with the recording's start: everything held happened after it. Not queued at the
  // start, which must stay short: masking the URL is the PII detector's first (costly) use.
  const load: RcEvent = [EventType.Navigation, t0, NavigationKind.Load, maskText(lastHref, 0, Kind.Url)];
  // Reached by back/forward (not restored from the bfcache, which makes no new load): said, for quick backs.
  if ((performance.getEntriesByType("navigation")[0] as PerformanceNavigationTiming | undefined)?.type == "back_forward") load[4] = 1;
  enqueue(load);
  enqueue([
    EventType.Meta,
    t0,
    maskText(location.href, 0, Kind.Url),
    maskText(doc.title, stateOf(doc.documentElement), Kind.Text),
    innerWidth,
    innerHeight,
    FORMAT_VERSION,
  ]);
  // Reading the window's scroll forces layout: only when it has scrolled or layout is done.
  const [x, y] = scrolled.has(doc) || walk.late ? [round(scrollX), round(scrollY)] : [0, 0];
  // Its JSON stays in pieces: joined, it would be one ~1.5 MB string to build in one task.
  enqueue([`[${EventType.Snapshot},${t0},`, ...text, `,${x},${y}]`]);
  // Focused before we started (autofocus, a script): the focus event came before us.
  let a = doc.activeElement;
  while (a?.shadowRoot?.activeElement) a = a.shadowRoot.activeElement;
  if (a && a != doc.body && idOf(a)) enqueue(focusEvent(t0, (lastFocus = idOf(a)), a));
  setT(send, 0); // now, in a task of its own: the snapshot is the one batch a replay cannot do without
  return null;
};

// Style sheets --------------------------------------------------------------------------------

const dirtySheet = (s: CSSStyleSheet): void => {
  while (s.parentStyleSheet) s = s.parentStyleSheet;
  sheets.add(s);
  sheetsTimer ||= setT(guard(flushSheets), 0); // once per task, however many rules changed
};

const flushSheets = (): void => {
  clearT(sheetsTimer);
  sheetsTimer = 0;
  for (const s of sheets) {
    const owner = s.ownerNode;
    if (!owner) {
      for (const a of adopters)
        if (!a.isConnected) adopters.delete(a); // let go of shadow roots that are gone
        else if (a.adoptedStyleSheets.includes(s)) adoptedChanged(a);
      continue;
    }
    const id = idOf(owner);
    try {
      if (id) out([EventType.StyleSheet, ts(), id, sheetCss(s, stateOf(owner))]);
    } catch {
      // cross-origin sheet: the replay loads it itself
    }
  }
  sheets.clear();
};

const adoptedChanged = (r: Document | ShadowRoot): void => {
  const owner = r == doc ? DOCUMENT_TARGET : idOf(r.nodeType == 9 ? r : (r as ShadowRoot).host);
  // Before the walk starts, the snapshot reads the document's sheets itself.
  if (r == doc ? walking : owner) out([EventType.AdoptedSheets, ts(), owner, adopted(r, stateOf(r)) || []]);
};

// Input, scroll, pointer, canvas, dialogs ------------------------------------------------------

const onInput = (e: Event): void => inputChanged(e.composedPath()[0] as Element);

const inputChanged = (el: Element): void => {
  const id = idOf(el);
  const i = el as HTMLInputElement;
  // File names and button labels are not input; contenteditable text comes as mutations.
  if (!id || !/^(input|textarea|select)$/.test(el.localName) || i.type == "file" || BUTTON.test(i.type)) return;
  if (cfg.ignore && el.closest(cfg.ignore)) return;
  let v: string | boolean | string[];
  hit.v = false;
  if (i.type == "checkbox" || i.type == "radio") v = i.checked;
  else {
    const st = ownState(el, stateOf(el));
    if (i.type == "select-multiple") {
      v = [];
      for (const o of (el as HTMLSelectElement).selectedOptions) add(v, maskText(o.value, st, Kind.Value));
    } else v = maskText(i.value, st, Kind.Value);
  }
  const state = (hit.v ? (isArray(v) ? 1 : validity(el)) : 0) | userValidity(el);
  // The setter and the input event report one change; a field's state may change alone (a
  // masked value's validity, :user-invalid once the user leaves it: its change event).
  const key = isArray(v) || state ? stringify([v, state]) : v;
  if (lastInput.get(el) === key) return;
  lastInput.set(el, key);
  out(state ? [EventType.Input, ts(), id, v, state] : [EventType.Input, ts(), id, v]);
};

const onFocus = (e: Event): void => {
  const el = e.composedPath()[0] as Element;
  focused(idOf(el), el);
};

// Whether a ring shows is the browser's choice (keyboard or mouse), not in the DOM: sent with it.
const focusEvent = (t: number, id: number, el?: Element): RcEvent =>
  el?.matches(":focus-visible") ? [EventType.Focus, t, id, 1] : [EventType.Focus, t, id];

/** Focus on node `id`: seen by the document and by a shadow root, sent once. */
const focused = (id: number, el?: Element): void => {
  if (id == lastFocus) return;
  lastFocus = id;
  out(focusEvent(ts(), id, el));
};

const onScroll = (e: Event): void => {
  const t = e.target as Node;
  scrolled.add(t);
  if (t == doc || idOf(t)) {
    scrolls.add(t);
    scrollTimer ||= setT(guard(flushScroll), 100);
  }
};

const flushScroll = (): void => {
  clearT(scrollTimer);
  scrollTimer = 0;
  for (const t of scrolls) {
    const w = (t as Document).defaultView;
    out([EventType.Scroll, ts(), t == doc ? DOCUMENT_TARGET : idOf(t), round(w ? w.scrollX : (t as Element).scrollLeft), round(w ? w.scrollY : (t as Element).scrollTop)]);
  }
  scrolls.clear();
};

const onMove = (e: Event): void => {
  pointer = [(e as MouseEvent).clientX, (e as MouseEvent).clientY];
  moveTimer ||= setT(guard(sampleMove), 50);
};

/** At most one position per 50 ms: the latest. */
const sampleMove = (): void => {
  moveTimer = 0;
  const t = ts();
  if (!moves.length) movesT = t;
  add(moves, [round(pointer[0]!), round(pointer[1]!), t - movesT]);
  if (moves.length >= 20) flushMoves();
};

const flushMoves = (): void => {
  const m = moves;
  moves = [];
  if (m.length) out([EventType.MouseMove, movesT, m]);
};

/** Called on every draw call (thousands a frame in WebGL): the common case returns first. */
const canvasDrawn = (c: HTMLCanvasElement): void => {
  if (dirtyCanvas.has(c)) return;
  drawn.add(c);
  dirtyCanvas.add(c);
  canvasTimer ||= setT(guard(flushCanvas), CANVAS_MS);
};

const flushCanvas = (): void => {
  clearT(canvasTimer);
  canvasTimer = 0;
  for (const c of dirtyCanvas) {
    const id = idOf(c);
    // Not serialized yet: the snapshot reads it then. Under masked text: never captured.
    const data = id && c.isConnected && !textMasked(stateOf(c)) && canvasData(c);
    // A chart redrawn unchanged on every frame sends nothing new.
    if (data && data != lastCanvas.get(c)) {
      lastCanvas.set(c, data);
      out([EventType.Canvas, ts(), id, data]);
    }
  }
  dirtyCanvas.clear();
};

const stateOwners = new WeakMap<object, Element>();
const lastStates = new WeakMap<Node, string>();

const statesChanged = (el: Element): void => {
  const id = idOf(el);
  const states = statesOf(el, stateOf(el));
  const key = stringify(states);
  if (!id || !states || lastStates.get(el) === key) return;
  lastStates.set(el, key);
  out([EventType.States, ts(), id, states]);
};

const dialog = (d: Element, state: DialogState): void => {
  const id = idOf(d);
  if (!id || d.localName != "dialog" || lastDialog.get(d) === state) return;
  lastDialog.set(d, state);
  out([EventType.Dialog, ts(), id, state]);
};

const navigated = (kind: NavigationKind): void => {
  const href = location.href;
  if (kind == NavigationKind.Pop) {
    if (href == lastHref) return; // popstate and hashchange for one fragment change
    if (href.split("#")[0] == lastHref.split("#")[0]) kind = NavigationKind.Hash;
  }
  lastHref = href;
  out([EventType.Navigation, ts(), kind, maskText(href, 0, Kind.Url)]);
};

const error = (message: string, stack: unknown): void => {
  out([EventType.Error, ts(), maskText(message, 0, Kind.Attr), maskText(String(stack || ""), 0, Kind.Attr)]);
};

// Lifecycle -----------------------------------------------------------------------------------

/** Everything pending, out now: observer records, sheets, scrolls, canvases, pointer samples. */
const drain = (): void => {
  takeRecords();
  if (walking) go(Infinity);
  flushSheets();
  flushScroll();
  flushCanvas();
  flushMoves();
};

const halt = (reason: string): void => {
  if (!live) return;
  live = false;
  try {
    observer.disconnect();
    enqueue([EventType.Stop, ts(), reason]);
    send();
  } catch {
    // nothing more we can do, and nothing to throw into the page
  }
};

/** Sampling is per session, not per page: a sampled visit is recorded on every page. */
const sampled = (session: string, rate: number): boolean => {
  let h = 2166136261;
  for (let i = 0; i < session.length; i++) h = Math.imul(h ^ session.charCodeAt(i), 16777619);
  return (h >>> 0) / 4294967296 < rate;
};

/** A site's properties as sent (identify, track): at most 50, keys of at most 64 characters with a
 * string (clipped to 256), finite number or boolean value; anything else is left out. */
const props = (o: unknown): UserProps => {
  const p: UserProps = {};
  let n = 0;
  for (const k in typeof o == "object" ? o : {}) {
    const v = (o as UserProps)[k],
      type = typeof v;
    if (n < 50 && k.length <= 64 && (type == "string" || type == "boolean" || (type == "number" && isFinite(v as number)))) {
      p[k] = type == "string" ? (v as string).slice(0, 256) : v!;
      n++;
    }
  }
  return p;
};

/**
 * Who the user is, as the site knows it: one Identify event, now or when recording starts (the
 * last call before then). Per page: the site calls it on every page. The id is clipped to 256
 * characters, `props` as `props` keeps them. Never throws; anything else is ignored.
 */
export const identify = (id: string, p?: UserProps): void => {
  try {
    if (typeof id != "string") return;
    who = [id.slice(0, 256), props(p)];
    if (live) out([EventType.Identify, ts(), ...who]);
  } catch {
    // a hostile props object (a throwing getter, a Proxy): not sent
  }
};

/**
 * A site's own event (a funnel step): one Custom event, now or, for the last 10 calls before
 * record(), when recording starts (stamped with its start). The name is clipped to 256
 * characters, `props` as identify's. Never throws; a call after stop() sends nothing.
 */
export const track = (name: string, p?: UserProps): void => {
  try {
    if (typeof name != "string") return;
    const e: RcEvent = [EventType.Custom, ts(), name.slice(0, 256), props(p)];
    if (live) out(e);
    else if (!started) (tracked = tracked.slice(-9)), add(tracked, e);
  } catch {
    // as identify
  }
};

/** The plugin's part of each Mouse event `ev` on `t` (a click's target, ev[6]); never throws. */
export type Told = (ev: MouseEventT, t: Node) => void;
/**
 * What the core gives the insights plugin (recorder/src/insights), which record() finds as
 * window.replaycheckInsights when it starts: a tuple (no property names to ship, issue 12). Emit
 * an event (`out`: dropped once recording stopped, held behind the first snapshot); `guard` and
 * `after` (never throw into the page; the originals run first); masking (maskText, an element's
 * state: stateOf, ownState, bits, cfg, of which only cfg.block is read: the other fields' names
 * are mangled, build.mjs); the time base (performance.now); serialize.ts's url; the ingest URL
 * (the recorder's own requests are not recorded); the capture listener `on`.
 */
export type Core = [
  out: typeof out,
  guard: typeof guard,
  after: typeof after,
  maskText: typeof maskText,
  now: typeof now,
  url: typeof url,
  ingest: string,
  on: typeof on,
  cfg: typeof cfg,
  stateOf: typeof stateOf,
  ownState: typeof ownState,
  bits: typeof bits,
];
/** The plugin: starts its capture given the core; returns its part of each Mouse event. */
export type Plugin = (core: Core) => Told | void;

/**
 * Start recording. `scrolled`: what scrolled before (the loader's, replaycheckLoader.scrolled):
 * started after the load, the snapshot reads those elements' scroll positions, not every
 * element's style to find where one may be.
 */
export const record = (options: RecordOptions, scrolled?: WeakSet<Node>): Recorder | null => {
  try {
    if (started || !MO || !doFetch || !sampled(options.session, options.sampleRate ?? 1)) return null;
    started = live = true;
    configure(options);
    // Anything else would throw at each element, and each would be left out of the snapshot.
    walk.seen = scrolled instanceof WeakSet && scrolled;
    setup(options.ingestUrl, options.session);
    limit = options.mutationLimit || limit;
    observer = new MO(guard(onRecords));
    t0 = ts();
    if (who) out([EventType.Identify, t0, ...who]);
    for (const e of tracked) out(((e[1] = t0), e));

    patchWindow(win);
    // The insights plugin, when its script ran before this (the loader's `insights`): it starts
    // its capture now; guarded, a failing plugin costs only its own capture.
    guard(() => (told = (win as unknown as { replaycheckInsights?: Plugin }).replaycheckInsights?.([out, guard, after, maskText, now, url, options.ingestUrl, on, cfg, stateOf, ownState, bits])))();
    after(proto(History), "pushState replaceState", (_h, _r, _a, name) => navigated(name[0] == "p" ? NavigationKind.Push : NavigationKind.Replace));
    listen(win, "popstate", () => navigated(NavigationKind.Pop));
    listen(win, "hashchange", () => navigated(NavigationKind.Pop)); // classified as Hash above
    docListeners(doc);
    MOUSE.split(" ").forEach((type, kind: MouseKind) =>
      listen(doc, type, (e: Event) => {
        const m = e as MouseEvent,
          t = m.composedPath()[0] as Element,
          ev: MouseEventT = [EventType.Mouse, ts(), kind, idOf(t), round(m.clientX), round(m.clientY)];
        told?.(ev, t);
        out(ev);
      }),
    );
    listen(doc, "mousemove", onMove);
    listen(doc, "focus", onFocus);
    // Focus leaving to nothing: without it the replay keeps a stale focus ring.
    listen(doc, "blur", (e: Event) => (e as FocusEvent).relatedTarget || focused(0));
    listen(win, "resize", () => {
      resizeTimer ||= setT(guard(() => {
        resizeTimer = 0;
        out([EventType.Viewport, ts(), innerWidth, innerHeight]);
      }), 100);
    });
    listen(win, "error", (e: Event) => e instanceof ErrorEvent && error(e.message, e.error?.stack));
    listen(win, "unhandledrejection", (e: Event) => {
      const r: unknown = (e as PromiseRejectionEvent).reason;
      error(r instanceof Error ? r.message : String(r), r instanceof Error && r.stack);
    });
    // Hiding may be the last chance: what is undelivered is kept even when recording has
    // stopped. Leaving finishes the first snapshot: a page left early is still replayable.
    const leave = (end: boolean): void => {
      try {
        if (live && end) finishSnapshot();
        if (live && ready) drain();
      } finally {
        hide(end);
      }
    };
    listen(win, "pagehide", () => leave(true), true);
    listen(doc, "visibilitychange", () => (doc.visibilityState == "hidden" ? leave(false) : shown()), true);
    listen(win, "pageshow", (e: Event) => (e as PageTransitionEvent).persisted && shown(), true);
    listen(win, "online", online, true);

    const interval = options.flushIntervalMs || 1000;
    const tick = guard(() => {
      flushMoves();
      send();
      setT(tick, interval);
    });
    setT(tick, interval);
    if (doc.readyState == "loading") listen(doc, "DOMContentLoaded", startSnapshot);
    else startSnapshot();

    return {
      checkpoint: guard((name: string) => {
        finishSnapshot();
        drain();
        out([EventType.Checkpoint, ts(), name]);
      }),
      flush(ms = 10000) {
        guard(() => {
          finishSnapshot();
          drain();
        })();
        send();
        return settled(ms);
      },
      stats: readStats,
      identify,
      track,
      stop: guard(() => {
        drain();
        halt("stopped");
      }),
    };
  } catch {
    live = false;
    return null;
  }
};
