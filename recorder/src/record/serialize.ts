// DOM -> JSON text of serialized nodes (format.ts's SerializedNode), written as the walk goes.
// One job loop serves the sliced first snapshot and the subtrees that mutations add later
// (sliced too); both read nodes in their state at the time they run. Written at once, nothing
// of a node lives on but its text: a tree of arrays kept until the walk ends is copied by every
// garbage collection meanwhile (a third of the snapshot's time on a 30,000-node page).

import { DialogState, NodeKind, Validity } from "../format";
import type { Attrs, ElementExtra } from "../format";
import { Kind, St, bits, cfg, flagged, hit, maskText, matches, textMasked } from "./mask";
import { add, doc, now, round, stringify } from "./native";
// The recorder watches what the serializer meets: documents, shadow roots, iframes, unloaded <link>s.
import { found } from "./index";

// A node's id is a property of its own under a symbol nobody else holds: several times cheaper
// than a WeakMap entry per node (~20 ms of 30,000 nodes at 1x, GC included). A node the page
// made non-extensible takes none: it has no id (0), as if new, each time it is met.
const ID = Symbol();
let nextId = 1;
/** Ids below this were assigned before now: a mutation record taken now is newer than those nodes. */
export const boundary = (): number => nextId;
export const idOf = (n: Node | null | undefined): number => (n && (n as unknown as Record<symbol, number>)[ID]) || 0;
/** Give `n` its id (0: it has none). */
const setId = (n: Node, id: number): void => {
  try {
    (n as unknown as Record<symbol, number>)[ID] = id;
  } catch {
    // non-extensible
  }
};

/** Elements whose children are not carried: script, textarea (value instead), <style> read from the CSSOM, blocked. */
export const opaque = new WeakSet<Node>();
export const blocked = new WeakSet<Node>();
/** Canvases a 2D context drew on, and those with drawing not yet captured. */
export const drawn = new WeakSet<Node>();
export const dirtyCanvas = new Set<HTMLCanvasElement>();
/** The last image sent of each canvas: an unchanged frame is not sent again. */
export const lastCanvas = new WeakMap<Node, string>();
/** Elements seen scrolling: only those have their scroll position read (reading forces layout). */
export const scrolled = new WeakSet<Node>();
/** Documents and shadow roots seen with adoptedStyleSheets. */
export const adopters = new Set<Document | ShadowRoot>();
const passwords = new WeakSet<Node>();
/** Custom elements' CustomStateSets (from attachInternals): :state() is not in the DOM. */
export const stateSets = new WeakMap<Node, Set<string>>();

/** A custom element's states as they may leave the page (names, like classes: PII detection only). */
export const statesOf = (el: Element, st: number): string[] | undefined => {
  const set = stateSets.get(el);
  if (!set) return;
  const out: string[] = [];
  for (const s of set) add(out, maskText(s, st, Kind.Attr));
  return out;
};


/**
 * late: the page has finished loading, layout is there to read. again: since the current round
 * (the first snapshot, a round of mutations) started, nodes serialized a second time (moved
 * before it: the round removes them first) and nodes the page added. One of those met again (it
 * moved while the round was sliced: a node met twice moved after it was first met) is kept
 * where it was met first; the next round adds it where it is. seen: the loader's `scrolled`.
 */
export const walk: { late: boolean; again: Set<Node>; seen?: WeakSet<Node> | false } = { late: false, again: new Set() };

/**
 * Nodes listed together (a parent's children, read in one go), visited in order from `next`:
 * each node's text goes to `out` after `sep` ("," once one was written), `close` once all were.
 */
export type Job = [nodes: Node[], next: number, out: string[], st: number, parent: Node | null, close: string, sep?: string];

const SVG = "http://www.w3.org/2000/svg";
const MATHML = "http://www.w3.org/1998/Math/MathML";
export const BUTTON = /^(submit|button|reset|image)$/;
const URL_ATTR = /^(href|src|action|formaction|poster|data|background|cite|longdesc)$/;
/** Elements whose URL loads a document or navigates to one. */
const FRAME = /^(i?frame|object|embed|a|area|form)$/;
const TEXT_ATTR = /^(title|alt|placeholder|label|aria-label|aria-description)$/;
// Node types carried: element 1, text 3, comment 8, document 9, doctype 10.
const CARRIED = (1 << 1) | (1 << 3) | (1 << 8) | (1 << 9) | (1 << 10);

/** Run jobs until the stack is empty (true) or `until` has passed (false: call again later). */
export const run = (stack: Job[], until: number): boolean => {
  for (let i = 0; stack.length; i++) {
    if ((i & 15) == 15 && now() > until) return false;
    const job = stack[stack.length - 1]!;
    const n = job[0][job[1]++];
    const out = job[2];
    if (!n) {
      stack.length--;
      // A document left out (a frame's, the snapshot's: their jobs have no parent) stands where a value must: null.
      add(out, (job[6] || job[4] ? "" : "null") + job[5]);
      continue;
    }
    // Moved since its parent was listed: serialized where it is now, or by the mutation batch.
    if (n.parentNode !== job[4]) continue;
    const depth = stack.length;
    const at = out.length;
    try {
      if (one(n, job[3], stack, out, job[6])) job[6] = ",";
    } catch {
      // One odd node (a throwing getter, say) is left out; it must not stop the walk.
      setId(n, 0);
      stack.length = depth;
      out.length = at;
    }
  }
  return true;
};

/** Write `n` (after `sep`) and queue its children: false when it is not carried. */
const one = (n: Node, st: number, stack: Job[], out: string[], sep = ""): boolean => {
  const type = n.nodeType;
  if (!((CARRIED >> type) & 1)) return false;
  let id = idOf(n);
  if (id) {
    if (walk.again.has(n)) return false;
    walk.again.add(n);
  } else setId(n, (id = nextId++));
  if (type == 1) return element(n as Element, id, st, stack, out, sep);
  let s;
  if (type == 3) {
    hit.v = false;
    s = stringify(flagged([NodeKind.Text, id, maskText((n as Text).data, st, Kind.Text)]));
  } else if (type == 8) s = stringify([NodeKind.Comment, id, maskText((n as Comment).data, st, Kind.Text)]);
  else if (type == 9) {
    const sheets = adopted(n as Document, st);
    found(n);
    add(out, `${sep}[${NodeKind.Document},${id},[`);
    return children(n, st, stack, out, sheets ? "]," + stringify(sheets) + "]" : "]]");
  } else {
    const d = n as DocumentType;
    s = stringify([NodeKind.Doctype, id, d.name, d.publicId, d.systemId]);
  }
  add(out, sep + s);
  return true;
};

/** Write `p`'s children as they are now, then `close`: one job for all (cheap even for 10,000
 * rows), or at once for a lone text (a table cell's). True, for one(). */
const children = (p: Node, st: number, stack: Job[], out: string[], close: string): true => {
  let c = p.firstChild;
  if (!c || (c.nodeType == 3 && !c.nextSibling)) {
    if (c) one(c, st, stack, out);
    add(out, close);
  } else {
    // No list for the lone text: one array fewer per table cell for the collector.
    const list: Node[] = [];
    for (; c; c = c.nextSibling) add(list, c);
    add(stack, [list, 0, out, st, p, close]);
  }
  return true;
};

/** What an element without attributes carries: one object for all of them, never written. */
const NO_ATTRS: Attrs = {};

const element = (el: Element, id: number, st: number, stack: Job[], out: string[], sep: string): true => {
  const tag = el.localName;
  const x: ElementExtra = {};
  let attrs = NO_ATTRS;
  const ns = el.namespaceURI;
  if (ns == SVG) x.ns = 1;
  else if (ns == MATHML) x.ns = 2;
  const kst = st | bits(el);
  const own = ownState(el, kst);
  const isBlocked = matches(el, cfg.block);
  // The replay runs no definition: it defines the tag itself to keep :defined styles. Only a
  // custom element has states (attachInternals).
  if (tag.indexOf("-") > 0) {
    if (el.matches(":defined")) x.defined = 1;
    const states = statesOf(el, kst);
    if (states && states.length) x.states = states;
  }
  hit.v = false;
  // Not el.attributes of an element without any: that map, made on first use, lives as long as it.
  if (el.hasAttributes()) {
    attrs = {};
    for (const a of el.attributes) {
      // A blocked element keeps id and class only, so the page's selectors still size it.
      if (isBlocked && a.name != "id" && a.name != "class") continue;
      const v = attrValue(el, a.name, a.value, own);
      if (v != null) attrs[a.name] = v;
    }
  }
  // After the children: a shadow root's (a job of its own, after theirs) or a frame's document,
  // as extra's last field, opened here ("shadow":[) and closed by that job (]}]).
  let more: "frame" | "shadow" | "" = "";
  if (isBlocked) {
    blocked.add(el);
    opaque.add(el);
    const r = el.getBoundingClientRect();
    // Not rounded: a placeholder short by a fraction of a pixel shifts all that follows.
    x.blocked = [r.width, r.height];
  } else {
    formState(el, tag, own, x);
    if (special(el, tag, kst, x, stack, out)) more = "frame";
    const root = el.shadowRoot;
    if (root) {
      const sheets = adopted(root, kst);
      if (sheets) x.shadowSheets = sheets;
      found(root);
      add(stack, [[...root.childNodes], 0, out, kst | St.Apart, root, "]}]"]); // a job even when empty: after the children's
      more = "shadow";
    }
    // Started late, scrolls before us were not seen: read where they may be, a document's root
    // (its window's scroll) or what the loader saw scroll (walk.seen: in our document's light
    // tree, which its listener hears; St.Apart: outside it), else everywhere. Asking each
    // element's style whether it clips was 13% faster than that on a 30,000-node table, and cost
    // bytes the bundle lacks.
    const seen = walk.seen;
    if (scrolled.has(el) || (walk.late && (!el.parentElement || !seen || seen.has(el) || kst & St.Apart))) {
      const left = el.scrollLeft;
      const top = el.scrollTop;
      if (left || top) x.scroll = [round(left), round(top)];
    }
  }
  if (hit.v) x.masked = 1;
  // Its value's JSON less the last character, and extra's closing brace: "frame":0} or "shadow":[]}.
  if (more) x[more] = (more == "frame" ? 0 : []) as never;
  // [1, id, tag, attrs, [children], extra?]. Each JSON.stringify call costs: none for what most
  // elements have (no extra, no attribute).
  let close = "]]";
  for (const _ in x) {
    close = "]," + stringify(x);
    close = more ? close.slice(0, -2) : close + "]";
    break;
  }
  add(out, `${sep}[${NodeKind.Element},${id},${stringify(tag)},${attrs == NO_ATTRS ? "{}" : stringify(attrs)},[`);
  if (opaque.has(el)) add(out, close);
  else children(el, kst, stack, out, close);
  return true;
};

/** Form state read from properties: what script or the user set, not the markup. */
const formState = (el: Element, tag: string, own: number, x: ElementExtra): void => {
  if (tag == "input") {
    const i = el as HTMLInputElement;
    const type = i.type;
    if (type == "checkbox" || type == "radio") {
      if (i.checked != i.hasAttribute("checked")) x.checked = i.checked;
    } else if (type != "file" && !BUTTON.test(type) && i.value != (i.getAttribute("value") ?? "")) {
      if ((x.value = maskText(i.value, own, Kind.Value)) != i.value) x.validity = validity(i);
    }
  } else if (tag == "textarea") {
    opaque.add(el); // its text child is the default value only; the value carries what is shown
    const v = (el as HTMLTextAreaElement).value;
    if (v && (x.value = maskText(v, own, Kind.Value)) != v) x.validity = validity(el);
  } else if (tag == "option") {
    const selected = (el as HTMLOptionElement).selected;
    if (selected != el.hasAttribute("selected")) x.selected = selected;
  }
};

/** A field whose value is masked: what styles may show of its validity, for the replay to keep. */
export const validity = (el: Element): number => {
  const v = (el as HTMLInputElement).validity;
  return Validity.Masked | (v.valid ? 0 : Validity.Invalid) | (v.rangeUnderflow || v.rangeOverflow ? Validity.OutOfRange : 0);
};

/** :user-invalid and :user-valid: only the user's edits set them, the replay cannot. */
export const userValidity = (el: Element): number => {
  try {
    return el.matches(":user-invalid") ? Validity.UserInvalid : el.matches(":user-valid") ? Validity.UserValid : 0;
  } catch {
    return 0; // a browser without them
  }
};

/** Per-tag extras; true when it queued a same-origin frame's document. */
const special = (el: Element, tag: string, kst: number, x: ElementExtra, stack: Job[], out: string[]): boolean | void => {
  // A script of any namespace or case goes without its text: a marker that can never run.
  if (/^script$/i.test(tag)) opaque.add(el);
  switch (tag) {
    case "style":
      try {
        x.css = sheetCss((el as HTMLStyleElement).sheet!, kst);
        opaque.add(el);
      } catch {
        // no sheet (not in a rendered document): the text children carry it
      }
      break;
    case "link": {
      if (!/stylesheet/i.test(el.getAttribute("rel") || "")) break;
      const sheet = (el as HTMLLinkElement).sheet;
      if (!sheet) found(el); // still loading: its load event sends it
      else
        try {
          x.css = sheetCss(sheet, kst);
        } catch {
          // cross-origin: the replay loads the (absolute) href itself
        }
      break;
    }
    case "canvas":
      // A canvas under masked text may show text: never captured, so the replay's differs.
      if (textMasked(kst)) x.masked = 1;
      else if (drawn.has(el)) {
        dirtyCanvas.delete(el as HTMLCanvasElement);
        const data = canvasData(el as HTMLCanvasElement);
        if (data) lastCanvas.set(el, (x.canvas = data));
      }
      break;
    case "img":
      // A blob: URL dies with the page: its pixels go instead, now or once loaded.
      if (/^blob:/.test((el as HTMLImageElement).src)) {
        const data = imageData(el as HTMLImageElement);
        if (data) x.canvas = data;
        else found(el);
      }
      break;
    case "dialog":
      if ((el as HTMLDialogElement).open) x.dialog = el.matches(":modal") ? DialogState.Modal : DialogState.Open;
      break;
    case "iframe":
      found(el);
      try {
        const d = (el as HTMLIFrameElement).contentDocument;
        if (d) {
          add(stack, [[d], 0, out, kst | St.Apart, null, "}]"]);
          return true;
        }
      } catch {
        // cross-origin
      }
  }
};

/** The canvas as a PNG data URL; none when cross-origin images tainted it. */
export const canvasData = (c: HTMLCanvasElement): string | undefined => {
  try {
    return c.toDataURL();
  } catch {
    return undefined;
  }
};

/** A loaded image's pixels as a PNG data URL. */
export const imageData = (img: HTMLImageElement): string | undefined => {
  if (!img.complete || !img.naturalWidth) return;
  const c = doc.createElement("canvas");
  c.width = img.naturalWidth;
  c.height = img.naturalHeight;
  c.getContext("2d")?.drawImage(img, 0, 0);
  return canvasData(c);
};

/**
 * autocomplete tokens of credentials: card number, security code and expiry (what a payment
 * needs besides the name), one-time codes, passwords in a text field. Not cc-name: a name, which
 * the page may show anyway, so `unmask` may reveal it.
 */
const SECRET = /(^|\s)(cc-(number|csc|exp(-month|-year)?)|one-time-code|(current|new)-password)(\s|$)/i;

/** The state of an element's own attributes and value from its place's (`st`, its own bits in):
 * Input is for what it contains (option text); a secret field is a password. */
export const ownState = (el: Element, st: number): number => (st & ~St.Input) | (isPassword(el) ? St.Password : 0);

export const isPassword = (el: Element): boolean => {
  const tag = el.localName;
  if (tag != "input" && tag != "textarea") return false;
  // Once a secret field, always masked: switching it to type=text must not reveal it.
  if ((tag == "input" && (el as HTMLInputElement).type == "password") || SECRET.test(el.getAttribute("autocomplete") || ""))
    passwords.add(el);
  return passwords.has(el);
};

/** An attribute as it may leave the page, or null when it must not (handlers, a script's source). */
export const attrValue = (el: Element, name: string, v: string, st: number): string | null => {
  const tag = el.localName.toLowerCase();
  // The name as a replayer might read it: lower-cased, without a prefix (xlink:href is href).
  const n = name.toLowerCase().replace(/.*:/, "");
  if (/^on/.test(n) || (tag == "script" && /^(src|href)$/.test(n))) return null;
  const base = el.baseURI;
  const frame = FRAME.test(tag) || /action$/.test(n);
  if (URL_ATTR.test(n)) return maskText(url(v, base, frame), st, Kind.Url);
  const srcset = /srcset$/.test(n);
  // URLs in lists and text: srcsets, pings, an animation's values (whichever attribute it
  // animates: that may change), a refresh's target (whatever http-equiv says). Read leniently,
  // in pieces; if one would run script (or load a document where that can), none go.
  if (srcset || n == "ping" || (/^(to|from|by|values)$/.test(n) && /^(set|animate)/.test(tag)) || (tag == "meta" && n == "content"))
    for (const p of v.replace(/[\t\n\r]/g, "").split(/[\s;,]/))
      if (unsafe(p.replace(/^[\0- \d.]*(url=)?['"]?[\0- ]*/i, ""), !srcset)) return null;
  if (srcset)
    return maskText(
      v.replace(/(^|,)(\s*)([^\s,]+)/g, (_m, comma: string, space: string, u: string) => comma + space + url(u, base, false)),
      st,
      Kind.Url,
    );
  if (n == "style") return maskText(cssUrls(v, base), st, Kind.Css);
  // A srcdoc frame's own document is serialized besides; its markup (scripts and all) is not
  // shipped a second time: the attribute stays, empty.
  if (n == "srcdoc") return "";
  const kind =
    n == "value" && (tag == "option" || tag == "input" || tag == "textarea")
      ? tag == "input" && BUTTON.test((el as HTMLInputElement).type)
        ? Kind.Text // a button's label
        : Kind.Value
      : TEXT_ATTR.test(n)
        ? Kind.Text
        : Kind.Attr;
  return maskText(v, st, kind);
};

/**
 * The scheme alone of a URL that would run script or, in a frame or link (`frame`), put a
 * document's markup there: what the page's link or frame keeps in the replay. Else "".
 */
const unsafe = (u: string, frame: boolean): string =>
  ((/^(java|vb)script:/i.exec(u) || (frame && /^data:(?=\s*(text\/html|[^,;]*xml))/i.exec(u)) || [""])[0]).toLowerCase();

/**
 * A URL as the browser reads it (C0 controls and spaces at the ends, tab and newlines anywhere,
 * stripped), absolute by the URL parser: fragment-only references (SVG <use href="#i">) and data:
 * URLs stay as they are. One that is unsafe goes as its scheme: the replay keeps a link's look.
 */
export const url = (u: string, base: string, frame: boolean): string => {
  u = u.replace(/^[\0- ]+|[\0- ]+$|[\t\n\r]/g, "");
  if (u && u[0] != "#" && !/^data:/i.test(u))
    try {
      u = new URL(u, base).href;
    } catch {
      // not a URL the browser would load either
    }
  return unsafe(u, frame) || u;
};

const cssUrls = (css: string, base: string): string =>
  css.replace(/url\(\s*(["']?)(.*?)\1\s*\)/g, (m, _q: string, u: string) => {
    const a = url(u, base, false);
    return a == u ? m : 'url("' + a + '")';
  });

/**
 * Chromium serializes the longhands of a shorthand holding var() as empty (`border-top-color: ;`)
 * once another declaration overrides part of it, and no API gives the shorthand back: then a
 * <style> whose text still parses to what its CSSOM holds (no insertRule since) is sent as its text.
 */
const EMPTY = /:\s*;/;

/** A sheet's rules from the CSSOM (so insertRule'd rules count), readable @imports inlined. Throws when cross-origin. */
const cssOf = (sheet: CSSStyleSheet): string => {
  // @imports are inlined only when all of them can be: one kept as it is (cross-origin, or not
  // loaded yet) must stay before every other rule, so the others stay @imports too, in order.
  const rules = Array.from(sheet.cssRules);
  const inline = rules.every((r) => {
    try {
      return r.type != 3 || !!(r as CSSImportRule).styleSheet!.cssRules;
    } catch {
      return false;
    }
  });
  let css = "";
  for (const r of rules) {
    let text = r.cssText;
    if (r.type == 3 && inline) {
      const i = r as CSSImportRule;
      text = cssOf(i.styleSheet!);
      // The import's conditions and layer, around its rules: layer innermost, as it names
      // where the rules go, media and supports only decide whether they apply.
      if (i.layerName != null) text = "@layer " + i.layerName + "{" + text + "}";
      if (i.supportsText) text = "@supports (" + i.supportsText + "){" + text + "}";
      if (i.media.mediaText) text = "@media " + i.media.mediaText + "{" + text + "}";
    }
    css += text;
  }
  const owner = sheet.ownerNode;
  if (EMPTY.test(css) && (owner as Element | null)?.localName == "style") {
    const text = owner!.textContent || "";
    const copy = new CSSStyleSheet();
    copy.replaceSync(text);
    let again = "";
    for (const r of copy.cssRules) again += r.cssText;
    if (again == css) css = text;
  }
  return cssUrls(css, sheet.href || (sheet.ownerNode || doc).baseURI);
};

/** A sheet's CSS as it may leave the page, given its owner's masking state `st`. Throws when cross-origin. */
export const sheetCss = (sheet: CSSStyleSheet, st: number): string => maskText(cssOf(sheet), st, Kind.Css);

/** adoptedStyleSheets of a document or shadow root as CSS text, if any. */
export const adopted = (r: Document | ShadowRoot, st: number): string[] | undefined => {
  const list = r.adoptedStyleSheets;
  if (!list || !list.length) return;
  adopters.add(r);
  const out: string[] = [];
  for (const s of list) add(out, sheetCss(s, st));
  return out;
};
