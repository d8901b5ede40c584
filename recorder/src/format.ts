// The replaycheck stream format, version 1: the one place that defines it (docs/stream-format.md
// explains it). Compact on purpose: numeric node ids, positional arrays instead of objects,
// times in whole milliseconds relative to the page's time origin.

export const FORMAT_VERSION = 1;

/** What one POST to the ingest endpoint carries. `page` + `seq` make a lost batch visible. */
export interface Batch {
  v: typeof FORMAT_VERSION;
  session: string; // one id for the whole visit, across full page loads
  page: number; // performance.timeOrigin of the page load (epoch ms): absolute time = page + t
  seq: number; // 0, 1, 2 ... per page load
  first: number; // events this page sent in batches before this one: a gap's size is known
  events: Event[];
}

/** A batch too big for one request (60 KB gzipped), in chunks: the `data` of chunks 0..last,
 * joined, is the Batch's JSON text. The ingest keeps one of each (session, page, seq, chunk). */
export interface Chunk {
  v: typeof FORMAT_VERSION;
  session: string;
  page: number;
  seq: number;
  first: number;
  n: number; // events in the whole batch
  chunk: number;
  last: boolean;
  data: string;
}

// Nodes ---------------------------------------------------------------------------------------

export const enum NodeKind {
  Document = 0,
  Doctype = 1,
  Element = 2,
  Text = 3,
  Comment = 4,
}

/** Node ids are positive integers, unique within one page load; 0 means "none". */
export type Id = number;

export type Attrs = Record<string, string>;

/** What an element carries beyond tag, attributes and children; every key optional. */
export interface ElementExtra {
  ns?: 1 | 2; // 1 SVG, 2 MathML (HTML when absent)
  shadow?: SerializedNode[]; // open shadow root's children
  shadowSheets?: string[]; // the shadow root's adoptedStyleSheets, as CSS text
  frame?: SerializedNode | null; // a same-origin iframe's Document (null: it could not be read)
  css?: string; // <style> or readable <link rel=stylesheet>: the sheet's rules from the CSSOM
  value?: string; // input/textarea/select value from the property (masked when masking applies)
  checked?: boolean;
  selected?: boolean; // <option>
  scroll?: [number, number]; // scrollLeft, scrollTop when not 0,0
  dialog?: DialogState; // <dialog> open state (modal is invisible in attributes)
  canvas?: string; // canvas (2D or WebGL) content, or a blob: image's pixels, as a PNG data: URL
  defined?: 1; // a custom element that was :defined (the replay defines its tag: no script runs there)
  masked?: 1; // a value, visible attribute or CSS masked on purpose: the region differs from the page
  blocked?: [number, number]; // not recorded: a placeholder of this width and height
  validity?: number; // a masked form value: 1 | the live field's Validity bits
  states?: string[]; // a custom element's custom states (:state()), from its ElementInternals
}

/** What page styles may show of a field's constraints, kept for a masked value. */
export const enum Validity {
  Masked = 1, // its value was masked on purpose
  Invalid = 2, // :invalid
  OutOfRange = 4, // :out-of-range
  UserInvalid = 8, // :user-invalid (after the user edited and left it): any field
  UserValid = 16, // :user-valid
}

export const enum DialogState {
  Closed = 0,
  Open = 1,
  Modal = 2,
}

export type SerializedNode =
  | [kind: NodeKind.Document, id: Id, children: SerializedNode[], adoptedSheets?: string[]]
  | [kind: NodeKind.Doctype, id: Id, name: string, publicId: string, systemId: string]
  | [kind: NodeKind.Element, id: Id, tag: string, attrs: Attrs, children: SerializedNode[], extra?: ElementExtra]
  | [kind: NodeKind.Text, id: Id, text: string, masked?: 1] // masked: its text was masked on purpose
  | [kind: NodeKind.Comment, id: Id, text: string];

// Events --------------------------------------------------------------------------------------

export const enum EventType {
  Meta = 0,
  Snapshot = 1,
  Mutation = 2,
  Input = 3,
  Scroll = 4,
  MouseMove = 5,
  Mouse = 6,
  Viewport = 7,
  Navigation = 8,
  Error = 9,
  Checkpoint = 10,
  StyleSheet = 11,
  AdoptedSheets = 12,
  Focus = 13,
  Canvas = 14,
  Dialog = 15,
  Stop = 16,
  Define = 17,
  States = 18,
  End = 19,
  Lost = 20,
  Identify = 21,
  Console = 22,
  Network = 23,
  Custom = 24,
}

export const enum MouseKind {
  Down = 0,
  Up = 1,
  Click = 2,
  DblClick = 3,
  ContextMenu = 4,
}

export const enum NavigationKind {
  Load = 0, // a full page load (the Meta of this page follows the same href)
  Push = 1,
  Replace = 2,
  Pop = 3,
  Hash = 4,
}

/** Element ids use this for "the document" (window scroll, document adoptedStyleSheets). */
export const DOCUMENT_TARGET = 0;

export type MetaEvent = [type: EventType.Meta, t: number, href: string, title: string, width: number, height: number, version: typeof FORMAT_VERSION];
export type SnapshotEvent = [type: EventType.Snapshot, t: number, root: SerializedNode, scrollX: number, scrollY: number];
/**
 * Added nodes: parent, next sibling (0 = append), the subtree; removed: parent, node.
 * Apply removes, then adds in array order, then attrs and texts. A parent below 0 is the open
 * shadow root of host -parent (created if the host has none yet). See docs/stream-format.md.
 */
export type MutationEvent = [
  type: EventType.Mutation,
  t: number,
  adds: [parent: Id, next: Id, node: SerializedNode][],
  removes: [parent: Id, node: Id][],
  // masked: 1 when the value was masked (the element's region then differs on purpose)
  attrs: [node: Id, name: string, value: string | null, masked?: 1][],
  texts: [node: Id, text: string, masked?: 1][],
];
// state: Validity bits: Masked, then Invalid and OutOfRange of a masked value, the User ones of any field.
export type InputEvent = [type: EventType.Input, t: number, node: Id, value: string | boolean | string[], state?: number];
/** node: DOCUMENT_TARGET for the top window, a same-origin frame's Document id for its window. */
export type ScrollEvent = [type: EventType.Scroll, t: number, node: Id, x: number, y: number];
/** Sampled pointer positions; dt is each position's offset from t. */
export type MouseMoveEvent = [type: EventType.MouseMove, t: number, positions: [x: number, y: number, dt: number][]];
/** What a click was on (MouseKind.Click only): the closest link, button or control of the target,
 * else the target; its selector (tag#id.class.class, as service/index.py `selector` builds it from
 * the snapshot) and its label (its text, else aria-label, title, alt, value, placeholder, name; at
 * most 60 characters), each masked as the snapshot masks them; control 1 when such a control was found. */
export type ClickTarget = [selector: string, label: string, control: 0 | 1];
export type MouseEvent = [type: EventType.Mouse, t: number, kind: MouseKind, node: Id, x: number, y: number, target?: ClickTarget];
export type ViewportEvent = [type: EventType.Viewport, t: number, width: number, height: number];
// back: 1 on a Load reached by back/forward (the navigation timing entry's type is back_forward).
export type NavigationEvent = [type: EventType.Navigation, t: number, kind: NavigationKind, href: string, back?: 1];
export type ErrorEvent = [type: EventType.Error, t: number, message: string, stack: string];
export type CheckpointEvent = [type: EventType.Checkpoint, t: number, name: string];
/** A <style>/<link> sheet whose rules changed (insertRule, deleteRule, replaceSync): its new text. */
export type StyleSheetEvent = [type: EventType.StyleSheet, t: number, owner: Id, css: string];
/** adoptedStyleSheets of the document (DOCUMENT_TARGET), of a frame's Document (its id) or of the shadow root of host `owner`. */
export type AdoptedSheetsEvent = [type: EventType.AdoptedSheets, t: number, owner: Id, sheets: string[]];
// visible: 1 when the page drew :focus-visible (keyboard focus; text fields always).
export type FocusEvent = [type: EventType.Focus, t: number, node: Id, visible?: 1];
/** A canvas's content now, or a blob: image's pixels once loaded. */
export type CanvasEvent = [type: EventType.Canvas, t: number, node: Id, dataUrl: string];
export type DialogEvent = [type: EventType.Dialog, t: number, node: Id, state: DialogState];
/** The recorder switched itself off (mutation storm, internal error budget): why. */
export type StopEvent = [type: EventType.Stop, t: number, reason: string];
/** customElements.define(tag) in the top document: its elements are :defined from now on. */
export type DefineEvent = [type: EventType.Define, t: number, tag: string];
// The custom states (ElementInternals.states, :state()) of a custom element, all of them.
export type StatesEvent = [type: EventType.States, t: number, node: Id, states: string[]];

/** A batch this page did not deliver: "held" (in sessionStorage for the next page of the session)
 * or "dropped: why" (gone for good). */
export type LostEntry = [seq: number, events: number, reason: string];
/** The page's last event (pagehide): no batch of this page has a higher seq, and these are not delivered. */
export type EndEvent = [type: EventType.End, t: number, lost: LostEntry[]];
/** Batches this page gave up on, said as soon as it did. */
export type LostEvent = [type: EventType.Lost, t: number, lost: LostEntry[]];
/** What the site says of the user (`identify`): an id (at most 256 characters) and at most 50
 * properties (keys at most 64 characters, strings at most 256), sent as given, not masked. */
export type UserProps = Record<string, string | number | boolean>;
export type IdentifyEvent = [type: EventType.Identify, t: number, id: string, props: UserProps];
/** console.error / console.warn: the message (its arguments joined by spaces, at most 2,000
 * characters), masked like page text. */
export type ConsoleEvent = [type: EventType.Console, t: number, level: "error" | "warn", message: string];
/** A failed request (fetch or XHR): status >= 400, or 0 for a network failure or abort. t is its
 * start; url masked like any URL (query values with PII starred). No bodies, no headers. */
export type NetworkEvent = [type: EventType.Network, t: number, method: string, url: string, status: number, duration: number];
/** `replaycheckRecord.track(name, props)`: a site's own event (name at most 256 characters, props
 * as `identify`'s), sent as given, not masked. */
export type CustomEvent = [type: EventType.Custom, t: number, name: string, props: UserProps];

export type Event =
  | MetaEvent
  | SnapshotEvent
  | MutationEvent
  | InputEvent
  | ScrollEvent
  | MouseMoveEvent
  | MouseEvent
  | ViewportEvent
  | NavigationEvent
  | ErrorEvent
  | CheckpointEvent
  | StyleSheetEvent
  | AdoptedSheetsEvent
  | FocusEvent
  | CanvasEvent
  | DialogEvent
  | StopEvent
  | DefineEvent
  | StatesEvent
  | EndEvent
  | LostEvent
  | IdentifyEvent
  | ConsoleEvent
  | NetworkEvent
  | CustomEvent;
