// Canonical DOM tree for fidelity grading. The same walk runs on the live document and, from
// the replay page, on the replayer iframe's document: so nothing here may rely on the walked
// document's realm (no instanceof across documents, no scripts inside the replay iframe).
// Generic page reads go through ./dom: DOM clobbering (`form.localName` is `<input name=localName>`).
import * as dom from "./dom";

export interface CanonOptions {
  mask: string[];
  block: string[];
  maskAllInputs: boolean;
  maskAllText: boolean;
  /**
   * `ignore` selectors: the recorder records no input events under them, so what the user
   * changed there (value, checked, selected) is not expected in the replay. Default: none.
   */
  ignore?: string[];
  /**
   * The URL the document shows; relative and `#fragment` URLs resolve against it (and its
   * `<base>`). Default: the document's own base. Pass the recorded page URL (rrweb: the Meta
   * event's `href`) when walking a replay document, which lives at another address.
   */
  url?: string;
}

export type CanonNode =
  | CanonDoc
  | { k: "el"; tag: string; attrs: Record<string, string>; children: CanonNode[] }
  | { k: "text"; text: string }
  | CanonSheet
  | { k: "shadow"; children: CanonNode[] }
  | { k: "blocked"; tag: string };

/**
 * A document. Its doctype is not a node here: what it decides is the rendering mode, and a
 * replayer may write another doctype that keeps the mode (rrweb writes a long HTML 4 one for
 * quirks mode) or the same doctype into a document of the other mode.
 */
export interface CanonDoc {
  k: "doc";
  /** `document.compatMode`: "CSS1Compat" (standards, and limited quirks) or "BackCompat". */
  mode: string;
  children: CanonNode[];
}

/** A `<style>`, `<link rel=stylesheet>` or adopted sheet: its CSSOM rules, not its markup. */
export interface CanonSheet {
  k: "sheet";
  /**
   * Rules in cascade order, `@import`ed ones flattened in place and the sheet's own media
   * wrapped around them as an `@media` rule: a replay that inlines imports, or one that
   * splits or joins adjacent sheets, compares equal when it applies the same rules.
   */
  rules: string[];
  /** Only for a sheet whose rules cannot be read (cross-origin): where it came from. */
  href?: string;
}

/** What masked text and masked form values become, whatever the recorder wrote instead. */
export const MASK_TOKEN = "[masked]";

// --- Recorder artefacts: machinery a recorder or replayer adds, never page content. ---

/** Attribute prefixes of replayer bookkeeping: rrweb's `rr_open_mode` (dialogs), `rr_width`... */
const ARTEFACT_ATTR_PREFIXES = ["rr_", "__rrweb"];
/** Attributes a replayer overwrites: rrweb forces autocomplete=off (an autofill hint only). */
const OVERWRITTEN_ATTRS = new Set(["autocomplete"]);
/** Attributes a replayer renames so they stay inert; read back under their page name. */
const RENAMED_ATTRS: Readonly<Record<string, string>> = {
  "rrweb-original-src": "src", // rrweb swaps an inlined image's src for a data: URL
  "rrweb-original-srcset": "srcset",
  "csp-content": "content", // rrweb defuses <meta http-equiv=Content-Security-Policy>
  "rc-href": "href", // the builtin replayer keeps a javascript: link's href inert ("#"), and <base href>
  // The builtin replayer's inert names: a pragma, a ping, a form action, a referrer policy, an
  // SVG animation of href, a frame's or object's document.
  "rc-http-equiv": "http-equiv",
  "rc-ping": "ping",
  "rc-formaction": "formaction",
  "rc-referrerpolicy": "referrerpolicy",
  "rc-attributename": "attributeName",
  "rc-src": "src",
  "rc-data": "data",
  "rc-target": "target",
  "rc-download": "download",
};
/** Class prefixes a replayer toggles: rrweb's `rrweb-paused` on <html>, `:hover` for hover state. */
const ARTEFACT_CLASS_PREFIXES = ["rrweb-", ":"];
/** Whole selectors of rules a replayer injects (rrweb: block placeholder colour, noscript). */
const INJECTED_SELECTORS = new Set(["noscript", ".rr-block"]);

// --- Page content that is not layout-significant DOM. ---

/** Scripts never render; rrweb replays a <script> as a <noscript>. */
const DROPPED_TAGS = new Set(["script", "noscript"]);
/** Inline event handlers are script too (rrweb renames some to `_onclick` etc.). */
const EVENT_HANDLER_ATTR = /^(?:[\w-]+:)?_?on[a-z]+$/i;
/** Text in these keeps its whitespace. */
const PREFORMATTED_TAGS = new Set(["pre", "textarea", "listing", "plaintext", "xmp"]);
/** Attributes holding one URL, compared in absolute form (recorders absolutise them). */
const URL_ATTRS = new Set([
  "href",
  "src",
  "action",
  "formaction",
  "poster",
  "background",
  "cite",
  "data",
  "longdesc",
  "xlink:href",
]);
/** Attributes holding a srcset list of `url descriptor` candidates. */
const SRCSET_ATTRS = new Set(["srcset", "imagesrcset"]);
/** HTML's whitespace, not JS's `\s`: a no-break space is layout-significant. */
const WS_RUN = /[ \t\n\r\f]+/g;
const CSS_URL = /url\(\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^)'"\s]*))\s*\)/g;
/** rrweb's replay rewrites device-size media queries to viewport ones (the iframe is no device). */
const DEVICE_MEDIA = /\b(min|max)-device-(width|height)\b/g;

// Node and rule types by number: interface objects belong to one realm, these to every one.
const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const CDATA_SECTION_NODE = 4;
const STYLE_RULE = 1;
const IMPORT_RULE = 3;

interface Context {
  mask: string;
  block: string;
  maskAllInputs: boolean;
  maskAllText: boolean;
  ignore: string;
}

/** What a subtree inherits from its ancestors. */
interface Scope {
  masked: boolean;
  pre: boolean;
  base: string;
}

/** Walk `doc` (and its open shadow roots and same-origin iframes) into a canonical tree. */
export function canonicalDom(doc: Document, opts: CanonOptions): CanonNode {
  const ctx: Context = {
    mask: opts.mask.join(", "),
    block: opts.block.join(", "),
    maskAllInputs: opts.maskAllInputs,
    maskAllText: opts.maskAllText,
    ignore: (opts.ignore ?? []).join(", "),
  };
  const base = documentBase(doc, opts.url);
  return walkDocument(doc, ctx, { masked: opts.maskAllText, pre: false, base });
}

function documentBase(doc: Document, url: string | undefined): string {
  if (url === undefined) return dom.baseURI(doc);
  const base = dom.querySelector(doc, "base[href]");
  const href = base ? dom.getAttribute(base, "href") : null;
  return href ? absoluteUrl(href, url) : url;
}

function walkDocument(doc: Document, ctx: Context, scope: Scope): CanonNode {
  const children: CanonNode[] = [];
  for (const child of dom.childNodes(doc)) {
    if (dom.nodeType(child) === ELEMENT_NODE) {
      const node = walkElement(child as Element, ctx, scope);
      if (node) children.push(node);
    }
  }
  pushAdopted(doc, scope.base, children);
  return { k: "doc", mode: dom.compatMode(doc), children };
}

function walkElement(el: Element, ctx: Context, outer: Scope): CanonNode | null {
  const tag = dom.localName(el);
  // Blocked first: a blocked link's placeholder has no rel, which isInertLink drops.
  if (ctx.block !== "" && dom.matches(el, ctx.block)) return { k: "blocked", tag };
  if (DROPPED_TAGS.has(tag) || isInertLink(el)) return null;
  if (tag === "style" || isStylesheetLink(el)) {
    return sheetNode((el as HTMLStyleElement | HTMLLinkElement).sheet, outer.base);
  }
  const scope: Scope = {
    masked: outer.masked || (ctx.mask !== "" && dom.matches(el, ctx.mask)),
    pre: outer.pre || PREFORMATTED_TAGS.has(tag),
    base: outer.base,
  };
  const attrs = elementAttrs(el, scope.base);
  const children: CanonNode[] = [];

  const shadow = dom.shadowRoot(el);
  if (shadow) {
    const inner: CanonNode[] = [];
    walkChildren(shadow, ctx, scope, inner);
    pushAdopted(shadow, scope.base, inner);
    children.push({ k: "shadow", children: inner });
  }

  if (tag === "input" || tag === "textarea" || tag === "select" || tag === "option") {
    const masked = scope.masked || maskValues(el, ctx);
    formState(el, attrs, masked, ctx.ignore !== "" && el.closest(ctx.ignore) !== null);
    scope.masked = masked; // a masked <select> masks its options' text: that text is the value
  }
  if (tag === "iframe" || tag === "frame") {
    // Its content is compared directly; how it was loaded differs by design in a replay. A
    // frame no recorder can read (cross-origin, or sandboxed without allow-same-origin) is
    // compared as the element alone: a same-size empty placeholder is its faithful replay.
    delete attrs["src"];
    delete attrs["srcdoc"];
    const inner = unrecordable(el) ? null : dom.contentDocument(el);
    if (inner && !emptyDocument(inner)) children.push(walkDocument(inner, ctx, { ...scope, base: dom.baseURI(inner) }));
  } else if (tag !== "textarea") {
    // A textarea's children are its default value; its `value` property is the state.
    walkChildren(el, ctx, scope, children);
  }
  return { k: "el", tag, attrs: sortedKeys(attrs), children };
}

/** Children of an element or shadow root, adjacent text merged (dropped nodes in between vanish). */
function walkChildren(parent: Node, ctx: Context, scope: Scope, out: CanonNode[]): void {
  let text = "";
  const flush = (): void => {
    // Not String.trim(): that would eat a no-break space too.
    const normal = scope.pre ? text : text.replace(WS_RUN, " ").replace(/^ | $/g, "");
    if (normal !== "") out.push({ k: "text", text: scope.masked ? MASK_TOKEN : normal });
    text = "";
  };
  for (const child of dom.childNodes(parent)) {
    const type = dom.nodeType(child);
    if (type === TEXT_NODE || type === CDATA_SECTION_NODE) {
      text += child.nodeValue ?? "";
    } else if (type === ELEMENT_NODE) {
      const node = walkElement(child as Element, ctx, scope);
      if (node === null) continue;
      flush();
      pushNode(out, node);
    }
  }
  flush();
}

/** Append `node`, joining a stylesheet to the one just before it: adjacent sheets cascade as
 * one, and recorders split or join them (rrweb: one `<style>` per inlined `<link>`). */
function pushNode(out: CanonNode[], node: CanonNode): void {
  const last = out[out.length - 1];
  if (node.k === "sheet" && last?.k === "sheet" && !node.href && !last.href) {
    out[out.length - 1] = { k: "sheet", rules: [...last.rules, ...node.rules] };
  } else {
    out.push(node);
  }
}

function isStylesheetLink(el: Element): boolean {
  return el.localName === "link" && relTokens(el).includes("stylesheet");
}

/** Whether `el` is a frame whose document no recorder can read: cross-origin, or sandboxed
 * without allow-same-origin (an opaque origin; so is its replay's sandbox, if kept). */
function unrecordable(el: Element): boolean {
  const sandbox = dom.getAttribute(el, "sandbox");
  if (sandbox !== null && !sandbox.toLowerCase().split(/\s+/).includes("allow-same-origin")) return true;
  return dom.contentDocument(el) === null;
}

const EMPTY_DOCUMENT_TAGS = new Set(["html", "head", "body"]);

/** A document with nothing in it, which is how a replayer shows a frame it has no content of
 * (rrweb: about:blank), and how a live frame with nothing loaded yet looks. */
function emptyDocument(doc: Document): boolean {
  const root = dom.documentElement(doc);
  return (
    root === null ||
    (dom.queryAll(doc, "*").every((el) => EMPTY_DOCUMENT_TAGS.has(dom.localName(el))) &&
      (dom.textContent(root) ?? "").trim() === "")
  );
}

/**
 * Links that only fetch scripts ahead of time (scripts too), and bare `<link>`s, which do
 * nothing: rrweb replays a script preload as a `<link>` without attributes. (A blocked link's
 * placeholder keeps the recorded size as a style and is compared as the blocked element.)
 */
function isInertLink(el: Element): boolean {
  if (el.localName !== "link") return false;
  const rel = relTokens(el);
  if ((rel.length === 0 && dom.attributes(el).length === 0) || rel.includes("modulepreload")) return true;
  const as = (el.getAttribute("as") ?? "").toLowerCase();
  const href = el.getAttribute("href") ?? "";
  return (
    (rel.includes("preload") && as === "script") ||
    (rel.includes("prefetch") && /\.m?js(?:[?#]|$)/i.test(href))
  );
}

function relTokens(el: Element): string[] {
  return (el.getAttribute("rel") ?? "")
    .toLowerCase()
    .split(WS_RUN)
    .filter((token) => token !== "");
}

function elementAttrs(el: Element, base: string): Record<string, string> {
  const found = new Map<string, string>();
  const renamed = new Map<string, string>();
  for (const attr of dom.attributes(el)) {
    const name = attr.name;
    if (EVENT_HANDLER_ATTR.test(name)) continue;
    if (OVERWRITTEN_ATTRS.has(name)) continue;
    if (ARTEFACT_ATTR_PREFIXES.some((prefix) => name.startsWith(prefix))) continue;
    const alias = RENAMED_ATTRS[name];
    if (alias !== undefined) {
      renamed.set(alias, attr.value);
    } else {
      found.set(name, attr.value);
    }
  }
  for (const [name, value] of renamed) found.set(name, value);

  const attrs: Record<string, string> = {};
  for (const [name, raw] of found) {
    const value = attrValue(el, name, raw, base);
    if (value !== null) attrs[name] = value;
  }
  return attrs;
}

/** Sorted attribute names make the JSON stable and diffable (comparison ignores order). */
function sortedKeys(record: Record<string, string>): Record<string, string> {
  const sorted: Record<string, string> = {};
  for (const name of Object.keys(record).sort()) sorted[name] = record[name] ?? "";
  return sorted;
}

/** Canonical form of one attribute value; null drops it (empty class or style). */
function attrValue(el: Element, name: string, value: string, base: string): string | null {
  if (name === "class") {
    const classes = value
      .split(WS_RUN)
      .filter((c) => c !== "" && !ARTEFACT_CLASS_PREFIXES.some((prefix) => c.startsWith(prefix)));
    const canonical = Array.from(new Set(classes)).sort().join(" ");
    return canonical === "" ? null : canonical;
  }
  if (name === "style") {
    const canonical = styleDeclarations(el, value, base);
    return canonical === "" ? null : canonical;
  }
  // A script URL's code is script, not content: recorders need not carry it.
  if (URL_ATTRS.has(name)) return isScriptUrl(value) ? "javascript:" : absoluteUrl(value, base);
  if (SRCSET_ATTRS.has(name)) {
    return value
      .split(",")
      .map((candidate) => {
        const [url = "", ...descriptors] = candidate.trim().split(WS_RUN);
        return [absoluteUrl(url, base), ...descriptors].join(" ");
      })
      .join(", ");
  }
  return value;
}

/** The inline style as sorted longhand declarations, as the browser parsed them. */
function styleDeclarations(el: Element, raw: string, base: string): string {
  const style = dom.inlineStyle(el);
  if (!style) return absoluteCssUrls(raw.trim(), base);
  return sortedDeclarations(style, base).join("; ");
}

const SUBSTITUTED = /\b(?:var|env)\(/i;

/**
 * A declaration block as sorted longhand declarations: their order is no part of the cascade,
 * and Chromium moves `!important` ones last when it parses a rule's text. The longhands of a
 * shorthand with var() have no value before computing: that shorthand's declaration stands
 * for them.
 */
function sortedDeclarations(style: CSSStyleDeclaration, base: string): string[] {
  const decls: string[] = [];
  const longhands = new Set<string>();
  let pending = false;
  for (let i = 0; i < style.length; i++) {
    const prop = style.item(i);
    longhands.add(prop);
    const value = style.getPropertyValue(prop);
    if (value === "") {
      pending = true;
      continue;
    }
    const important = style.getPropertyPriority(prop) ? " !important" : "";
    decls.push(`${prop}: ${absoluteCssUrls(value, base)}${important}`);
  }
  if (pending) {
    for (const decl of splitSelectors(style.cssText, ";")) {
      const colon = decl.indexOf(":");
      const name = decl.slice(0, colon).trim();
      const value = decl.slice(colon + 1);
      if (!longhands.has(name) && SUBSTITUTED.test(value)) decls.push(absoluteCssUrls(decl, base));
    }
  }
  return decls.sort();
}

function maskValues(el: Element, ctx: Context): boolean {
  if (ctx.maskAllInputs || ctx.maskAllText) return true;
  return el.localName === "input" && (el as HTMLInputElement).type === "password";
}

/** Replace attribute state by the live properties of a form control (what the user sees). */
function formState(
  el: Element,
  attrs: Record<string, string>,
  masked: boolean,
  ignored: boolean,
): void {
  const tag = el.localName;
  if (ignored) {
    // The recorder was told not to record what the user does here: no state to compare.
    for (const name of ["value", "checked", "selected"]) delete attrs[name];
    return;
  }
  if (tag === "input") {
    const input = el as HTMLInputElement;
    if (input.type === "checkbox" || input.type === "radio") setFlag(attrs, "checked", input.checked);
    if (input.type === "file") {
      delete attrs["value"]; // a local path only the live browser knows
    } else {
      // The property even where it mirrors the attribute: a replayer may set either.
      attrs["value"] = masked ? MASK_TOKEN : input.value;
    }
  } else if (tag === "textarea") {
    attrs["value"] = masked ? MASK_TOKEN : (el as HTMLTextAreaElement).value;
  } else if (tag === "option") {
    // Masked: which option is selected is the value itself (and a masked value selects none).
    setFlag(attrs, "selected", !masked && (el as HTMLOptionElement).selected);
    if (masked && "value" in attrs) attrs["value"] = MASK_TOKEN;
  } else if (tag === "select") {
    attrs["value"] = masked ? MASK_TOKEN : (el as HTMLSelectElement).value;
  }
}

function setFlag(attrs: Record<string, string>, name: string, on: boolean): void {
  if (on) {
    attrs[name] = "";
  } else {
    delete attrs[name];
  }
}

function pushAdopted(root: Document | ShadowRoot, base: string, out: CanonNode[]): void {
  for (const sheet of dom.adoptedSheets(root)) {
    const node = sheetNode(sheet, base);
    if (node) pushNode(out, node);
  }
}

/** A stylesheet node, or null for a sheet holding only rules a replayer injected. */
function sheetNode(sheet: CSSStyleSheet | null, base: string): CanonSheet | null {
  if (!sheet) return { k: "sheet", rules: [] };
  const sheetBase = sheet.href ?? base;
  let list: CSSRuleList;
  try {
    list = sheet.cssRules;
  } catch {
    return { k: "sheet", rules: [], href: absoluteUrl(sheetBase, base) };
  }
  const rules = serializeRules(list, sheetBase);
  if (rules.length === 0 && list.length > 0) return null;
  return { k: "sheet", rules: wrapped(rules, mediaPrelude(sheet.media)) };
}

/** `@media <list>` for a non-empty media list, else null. */
function mediaPrelude(media: MediaList): string | null {
  const text = media.mediaText.replace(DEVICE_MEDIA, "$1-$2");
  return text === "" ? null : `@media ${text}`;
}

/** Rules inside a conditional group rule, serialized as one (as serializeRule writes them). */
function wrapped(rules: string[], prelude: string | null): string[] {
  return prelude === null || rules.length === 0 ? rules : [`${prelude} { ${rules.join(" ")} }`];
}

function serializeRules(list: CSSRuleList, base: string): string[] {
  const out: string[] = [];
  for (const rule of Array.from(list)) {
    if (rule.type === IMPORT_RULE) {
      out.push(...importedRules(rule as CSSImportRule, base));
    } else {
      const text = serializeRule(rule, base);
      if (text !== null) out.push(text);
    }
  }
  return out;
}

/**
 * An `@import`'s rules in its place, as a recorder inlines them: one by one, inside the
 * `@layer`, `@supports` and `@media` conditions of the import, outermost last.
 */
function importedRules(rule: CSSImportRule, base: string): string[] {
  const inner = rule.styleSheet;
  let rules: string[] | null = null;
  try {
    if (inner) rules = serializeRules(inner.cssRules, inner.href ?? base);
  } catch {
    rules = null; // cross-origin
  }
  if (rules === null) {
    // Unreadable or not loaded: keep the @import itself.
    const media = rule.media.mediaText;
    return [`@import url("${absoluteUrl(rule.href, base)}")${media ? ` ${media}` : ""};`];
  }
  const layer = rule.layerName;
  if (layer !== null && layer !== undefined) {
    rules = wrapped(rules, layer === "" ? "@layer" : `@layer ${layer}`);
  }
  const supports = rule.supportsText;
  if (supports) {
    rules = wrapped(rules, `@supports ${supports.startsWith("(") ? supports : `(${supports})`}`);
  }
  return wrapped(rules, mediaPrelude(rule.media));
}

/** One rule's normalised text: absolute URLs, injected selectors removed. */
function serializeRule(rule: CSSRule, base: string): string | null {
  if (rule.type === STYLE_RULE) {
    const styleRule = rule as CSSStyleRule;
    const selectors = splitSelectors(styleRule.selectorText).filter((s) => !isInjected(s));
    if (selectors.length === 0) return null;
    const nested = styleRule.cssRules ? serializeRules(styleRule.cssRules, base) : [];
    const decls = sortedDeclarations(styleRule.style, base).map((decl) => `${decl};`);
    const body = [...decls, ...nested];
    return `${selectors.join(", ")} { ${body.join(" ")} }`;
  }
  if ("cssRules" in rule) {
    const text = rule.cssText;
    const prelude = text.slice(0, text.indexOf("{")).trim().replace(DEVICE_MEDIA, "$1-$2");
    const inner = serializeRules((rule as CSSGroupingRule).cssRules, base);
    return `${prelude} { ${inner.join(" ")} }`;
  }
  return absoluteCssUrls(rule.cssText, base);
}

/**
 * Split a selector list at top-level commas (not inside `:is(...)`, `[...]` or strings), or a
 * declaration block at its semicolons.
 */
function splitSelectors(list: string, separator = ","): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = "";
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === "\\") {
      i++;
    } else if (quote !== "") {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "(" || c === "[") {
      depth++;
    } else if (c === ")" || c === "]") {
      depth--;
    } else if (c === separator && depth === 0) {
      out.push(list.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(list.slice(start).trim());
  return out.filter((s) => s !== "");
}

const CLASS_IN_SELECTOR = /\.((?:\\.|[\w-])+)/g;

function isInjected(selector: string): boolean {
  if (INJECTED_SELECTORS.has(selector)) return true;
  for (const match of selector.matchAll(CLASS_IN_SELECTOR)) {
    const name = (match[1] ?? "").replace(/\\(.)/g, "$1");
    if (ARTEFACT_CLASS_PREFIXES.some((prefix) => name.startsWith(prefix))) return true;
  }
  return false;
}

function absoluteCssUrls(css: string, base: string): string {
  return css.replace(CSS_URL, (whole, dq?: string, sq?: string, bare?: string) => {
    const url = dq ?? sq ?? bare ?? "";
    // A fragment-only url(#id) points into the document itself, wherever that is.
    if (url === "" || url.startsWith("#")) return whole;
    return `url("${absoluteUrl(url, base)}")`;
  });
}

/** `value` resolved as browsers resolve it: the URL parser ignores leading and trailing C0
 * controls and spaces, and tabs and newlines anywhere, but not a no-break space or a BOM. */
function absoluteUrl(value: string, base: string): string {
  if (value.replace(/[\u0000-\u0020]/g, "") === "") return value;
  try {
    return new URL(value, base).href;
  } catch {
    return value;
  }
}

function isScriptUrl(value: string): boolean {
  try {
    return new URL(value, "http://x/").protocol === "javascript:";
  } catch {
    return false;
  }
}
