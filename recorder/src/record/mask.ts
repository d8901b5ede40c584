// Privacy, applied in the page before anything is queued. Every text and attribute value the
// recorder carries passes through maskText; what is masked keeps its length and whitespace so
// the replay keeps its layout.

import { doc } from "./native";

export interface RecordOptions {
  ingestUrl: string;
  session: string;
  maskAllInputs?: boolean;
  maskAllText?: boolean;
  detectPii?: boolean;
  mask?: string[];
  unmask?: string[];
  block?: string[];
  ignore?: string[];
  sampleRate?: number;
  flushIntervalMs?: number;
  mutationLimit?: number;
}

/** Masking state of a place in the tree, inherited downwards. */
export const enum St {
  Mask = 1, // under a `mask` selector (or maskAllText)
  Unmask = 2, // under an `unmask` selector: exempt, except passwords
  Password = 4, // a password field (or one that has been one)
  Input = 8, // text that is user input: <option> text, contenteditable
}

/** What a value is: decides which masking rule applies. */
export const enum Kind {
  Text, // text nodes, comments, human-readable attributes (title, alt, placeholder...)
  Value, // a form value
  Url, // never starred (it would break the page), only PII detection
  Attr, // any other attribute value: only PII detection
}

export const cfg = { inputs: true, text: false, pii: true, mask: "", unmask: "", block: "", ignore: "" };

/** Valid selectors joined into one list: a bad one must not break matching for the rest. */
const selectors = (list: string[] | undefined): string => {
  const frag = doc.createDocumentFragment();
  return (list || [])
    .filter((s) => {
      try {
        frag.querySelector(s);
        return true;
      } catch {
        return false;
      }
    })
    .join(",");
};

export function configure(o: RecordOptions): void {
  cfg.inputs = o.maskAllInputs !== false;
  cfg.text = !!o.maskAllText;
  cfg.pii = o.detectPii !== false;
  cfg.mask = selectors(o.mask);
  cfg.unmask = selectors(o.unmask);
  cfg.block = selectors(o.block);
  cfg.ignore = selectors(o.ignore);
}

export const matches = (el: Element, sel: string): boolean => !!sel && el.matches(sel);

/** The bits an element adds for itself and what it contains. */
export const bits = (el: Element): number =>
  (matches(el, cfg.mask) ? St.Mask : 0) |
  (matches(el, cfg.unmask) ? St.Unmask : 0) |
  (el.localName == "option" || (el.hasAttribute("contenteditable") && el.getAttribute("contenteditable") != "false")
    ? St.Input
    : 0);

/** Parent across shadow roots (to the host) and same-origin frames (to the iframe element). */
export const up = (n: Node): Node | null =>
  n.parentNode ||
  (n.nodeType == 11 ? (n as ShadowRoot).host : n.nodeType == 9 ? (n as Document).defaultView?.frameElement : null) ||
  null;

/** The state at `n`, from its ancestors: for nodes met outside the snapshot walk. */
export function stateOf(n: Node | null): number {
  let st = 0;
  for (; n; n = up(n)) if (n.nodeType == 1) st |= bits(n as Element);
  return st;
}

const inputMasked = (st: number): boolean => !!(st & St.Password) || ((cfg.inputs || !!(st & St.Mask)) && !(st & St.Unmask));
export const textMasked = (st: number): boolean => (cfg.text || !!(st & St.Mask)) && !(st & St.Unmask);

/** Whether a value of this kind at this place is replaced by stars. */
export const starred = (st: number, kind: Kind): boolean =>
  kind == Kind.Value || (kind == Kind.Text && st & St.Input) ? inputMasked(st) : kind == Kind.Text && textMasked(st);

/** PII detection hook (option detectPii): detectors come with a later issue; identity for now. */
const detectPii = (text: string, _kind: Kind): string => text;

/** Set when maskText changed a value: the serializer flags that element `masked`. */
export const hit = { v: false };

/** The one gate: `text` as it may leave the page, given its place (`st`) and what it is. */
export function maskText(text: string, st: number, kind: Kind): string {
  if (!text) return text;
  const out = starred(st, kind) ? text.replace(/\S/g, "*") : cfg.pii ? detectPii(text, kind) : text;
  if (out !== text) hit.v = true;
  return out;
}
