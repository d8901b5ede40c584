// Privacy, applied in the page before anything is queued. Every text and attribute value the
// recorder carries passes through maskText; what is masked keeps its length and whitespace so
// the replay keeps its layout.

import { add, doc } from "./native";
import { findPii, maskPii, setRegion } from "./pii";

export interface RecordOptions {
  ingestUrl: string;
  session: string;
  maskAllInputs?: boolean;
  maskAllText?: boolean;
  detectPii?: boolean;
  /** Region of national phone formats ("FR"); default the region of `<html lang>`, else US. */
  piiRegion?: string;
  /** Masked values become a fixed "*****" instead of one star per character: hides the length. */
  hideLength?: boolean;
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
  Apart = 16, // in a shadow tree or a frame's document: the loader's scroll listener does not hear it
}

/** What a value is: decides which masking rule applies. */
export const enum Kind {
  Text, // text nodes, comments, human-readable attributes (title, alt, placeholder...)
  Value, // a form value
  Url, // never starred (it would break the page), only PII detection
  Attr, // any other attribute value: only PII detection
  Css, // style sheet text and style attributes: strings drawn by `content:` masked with text
}

export const cfg = { inputs: true, text: false, pii: true, hideLength: false, mask: "", unmask: "", block: "", ignore: "" };

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

export const configure = (o: RecordOptions): void => {
  cfg.inputs = o.maskAllInputs !== false;
  cfg.text = !!o.maskAllText;
  cfg.pii = o.detectPii !== false;
  setRegion(o.piiRegion);
  cfg.hideLength = !!o.hideLength;
  for (const k of ["mask", "unmask", "block", "ignore"] as const) cfg[k] = selectors(o[k]);
};

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
export const stateOf = (n: Node | null): number => {
  let st = 0;
  for (; n; n = up(n)) if (n.nodeType == 1) st |= bits(n as Element);
  return st;
};

const inputMasked = (st: number): boolean => !!(st & St.Password) || ((cfg.inputs || !!(st & St.Mask)) && !(st & St.Unmask));
export const textMasked = (st: number): boolean => (cfg.text || !!(st & St.Mask)) && !(st & St.Unmask);

/** Whether a value of this kind at this place is replaced by stars. */
const starred = (st: number, kind: Kind): boolean =>
  kind == Kind.Value || (kind == Kind.Text && st & St.Input) ? inputMasked(st) : kind == Kind.Text && textMasked(st);

// Masked page text keeps its hyphens: text wraps there (a UUID breaks at them). Values and PII
// spans do not: a password's or an email's shape is the user's.
const star = (s: string, wraps?: boolean): string =>
  cfg.hideLength ? "*****" : s.replace(wraps ? /[^\s-]/g : /\S/g, "*");

const ENCODED = /%[0-9a-f]{2}|\+/i;
/** A URL's pieces (path segments, query names and values, fragment) and CSS url() contents. */
const URL_PART = /[^/?&=#;,\s"'()<>]+/g;
const decode = (s: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};
const hasPii = (s: string): boolean => findPii(s).length > 0;

/**
 * PII spans starred in place; then pieces that hold PII only once URL-decoded (`jane%40x.com`,
 * `%2B33...`, `+` for a space in a query) starred whole, as their encoded form cannot be split.
 */
const detectPii = (text: string): string => {
  const out = maskPii(text, star);
  return ENCODED.test(out)
    ? out.replace(URL_PART, (p) =>
        ENCODED.test(p) && (hasPii(decode(p)) || hasPii(decode(p.replace(/\+/g, " ")))) ? star(p) : p,
      )
    : out;
};

/** Strings drawn by `content:` (directly or through a custom property) carry page text. */
const starCssStrings = (css: string): string =>
  css.replace(/((?:^|[;{\s])(?:content|--[\w-]+)\s*:)([^;}]*)/g, (_m, head: string, value: string) =>
    head + value.replace(/(["'])((?:\\.|(?!\1)[^\\])*)\1/g, (_q, q: string, str: string) => q + star(str) + q),
  );

/** Set when maskText changed a value that shows on screen: the serializer flags that element `masked`. */
export const hit = { v: false };
/** `e` with a trailing 1 when maskText changed a value on screen since hit.v was cleared. */
export const flagged = <T extends unknown[]>(e: T): T => {
  if (hit.v) add(e, 1);
  return e;
};

/** The one gate: `text` as it may leave the page, given its place (`st`) and what it is. */
export const maskText = (text: string, st: number, kind: Kind): string => {
  if (!text) return text;
  const all = starred(st, kind);
  let out = all ? star(text, kind == Kind.Text && !(st & St.Input)) : kind == Kind.Css && textMasked(st) ? starCssStrings(text) : text;
  if (cfg.pii && !all) out = detectPii(out);
  // URLs and other attributes do not draw anything: masking them leaves the pixels alone.
  if (out !== text && kind != Kind.Url && kind != Kind.Attr) hit.v = true;
  return out;
};
