// One page load rebuilt inside the replay iframe: the snapshot turned into DOM, then the
// incremental events applied to it. Everything the recording carries is treated as untrusted:
// the iframe is sandboxed without scripts, and handlers and javascript: URLs are dropped too.

import { DialogState, DOCUMENT_TARGET, NodeKind, Validity } from "../format";
import type { Attrs, ElementExtra, Id, MutationEvent, SerializedNode } from "../format";
import { HOVER_CLASS, TARGET_CLASS, USER_INVALID_CLASS, USER_VALID_CLASS, absoluteCss, absoluteUrl, hasTwins, simulateHover } from "./css";

type Tasks = (() => void)[];
type ScrollTarget = Element | Document;

const NAMESPACES = { 1: "http://www.w3.org/2000/svg", 2: "http://www.w3.org/1998/Math/MathML" };
const ATTR_NAMESPACES: Record<string, string> = {
  xlink: "http://www.w3.org/1999/xlink",
  xml: "http://www.w3.org/XML/1998/namespace",
  xmlns: "http://www.w3.org/2000/xmlns/",
};
/** Attributes holding one URL: checked by scheme and made absolute. */
const URL_ATTRS = new Set([
  "href",
  "src",
  "action",
  "poster",
  "background",
  "cite",
  "data",
  "longdesc",
  "xlink:href",
]);
const SRCSET_ATTRS = new Set(["srcset", "imagesrcset"]);
/** Schemes a replayed URL may have; anything else (javascript:, vbscript:, file:...) is dropped. */
const SAFE_SCHEMES = new Set(["http:", "https:", "mailto:", "tel:"]);
/** Elements whose URL may be a data: one: images and media, never a document or a link. */
const DATA_OK = new Set(["img", "source", "video", "audio", "track", "input", "image", "use", "feimage"]);
/** Elements that would load a document of their own: theirs is never loaded here. */
const EMBEDS = new Set(["iframe", "frame", "object", "embed"]);
/**
 * Attributes kept under an inert name (the harness canonicaliser reads them back): a
 * <meta http-equiv> acts when inserted, ping posts, formaction submits, a referrer policy
 * could leak the viewer's URL, and an SVG animation of href sets a URL no filter has seen.
 */
const INERT_ATTRS: Record<string, string> = {
  "http-equiv": "rc-http-equiv",
  ping: "rc-ping",
  formaction: "rc-formaction",
  referrerpolicy: "rc-referrerpolicy",
  target: "rc-target",
  download: "rc-download",
};
/** What a reviewer's key or click would make the replayed page do (follow a link, submit):
 * stopped in the capture phase, from the replayer, since the page's own code never runs. */
const ACTIVATIONS = ["click", "auxclick", "dblclick", "keydown", "keypress", "submit", "dragstart"];
const stopActivation = (e: Event): void => {
  e.preventDefault();
  e.stopImmediatePropagation();
};
/** Elements that fetch what they show, for `anonymous`. */
const LOADERS = new Set(["img", "video", "audio", "link", "image", "use"]);
const ANIMATIONS = new Set(["set", "animate", "animatetransform", "animatemotion"]);
/** The one policy of every replayed document: no script, no frame, no form, no base, no
 * referrer; images, media, fonts and styles only from `origins` (and the viewer's own). */
function policy(origins: string[]): string {
  const from = ["'self'", ...origins.filter((o) => /^https?:\/\/[^\s;,']+$/.test(o))].join(" ");
  const csp =
    "default-src 'none'; script-src 'none'; object-src 'none'; frame-src 'none'; worker-src 'none'; " +
    "connect-src 'none'; form-action 'none'; base-uri 'none'; manifest-src 'none'; " +
    `img-src ${from} data: blob:; media-src ${from} data: blob:; font-src ${from} data:; style-src ${from} 'unsafe-inline'`;
  return `<meta http-equiv="Content-Security-Policy" content="${csp}"><meta name="referrer" content="no-referrer">`;
}
const BLOCKED_BACKGROUND = "repeating-linear-gradient(45deg,#ccc 0 10px,#ddd 10px 20px)";
/**
 * A javascript: link keeps an inert href, so `:link` and `a[href]` still style it; the recorded
 * (code-less) URL is kept under this name, which the harness canonicaliser reads back as href.
 * A <base href> is kept under it too: relative URLs are resolved here, never by the document.
 */
export const SCRIPT_HREF = "rc-href";

// Node types by number: interface objects belong to one realm and the iframe is another.
const ELEMENT_NODE = 1;
const TEXT_NODE = 3;
const DOCUMENT_NODE = 9;
const FRAGMENT_NODE = 11;

export class Page {
  readonly nodes = new Map<Id, Node>();
  /** The id of each node in `nodes` (the last one given to it). */
  private readonly ids = new WeakMap<Node, Id>();
  /** Scroll positions to hold, re-applied when late images make the layout grow. */
  private readonly scrolls = new Map<ScrollTarget, [number, number]>();
  private readonly unscrolled = new Set<ScrollTarget>();
  /** Iframes filled from `extra.frame`, and the document each was filled with. */
  private readonly frames = new Map<Element, Document>();
  /** Replayer-only rules, one <style> per document or shadow root (see paint()). */
  private readonly injected = new Map<Node, CSSStyleSheet>();
  private readonly paints = new Map<Element, [rule: CSSStyleRule, className: string]>();
  // What a keyframe (capture()) needs beyond the tree, which the DOM does not say:
  /** The doctype written for each filled document's compat mode (see fill()). */
  private readonly modes = new Map<Document, string>();
  /** Each adopted sheet's CSS text as given to replaceSync. */
  private readonly sources = new WeakMap<CSSStyleSheet, string>();
  /** Modal dialogs by when they were shown: their order in the top layer. */
  private readonly modals = new Map<Element, number>();
  private shown = 0;
  /** Tags defined (define()) per document's window. */
  private readonly defined = new Map<Document, Set<string>>();
  private hovered = new Set<Element>();
  private targeted: Element | null = null;
  /** Nodes the recorder masked on purpose (extra.masked, flagged texts and attribute values). */
  private readonly masked = new Set<Node>();
  private focusTarget: Id | undefined;
  private focusVisible = false;
  /** Where relative URLs resolve: the page URL, then its <base href>. */
  private base: string;

  constructor(
    private readonly doc: Document,
    href: string,
    /** A Snapshot's root, or a keyframe (then `scroll` is unused: it holds its own). */
    root: SerializedNode | Keyframe,
    scroll: [number, number],
    /** Origins the replay may load images, media, fonts and styles from (and the viewer's own). */
    private readonly origins: string[],
    /** URLs the policy kept from loading, for the viewer's report. */
    private readonly blocked: Set<string>,
    /** Load what the replay shows without credentials (`crossorigin=anonymous`): cookies
     * ignore ports, so a viewer on the recorded site's host would send its own. */
    private readonly anonymous = false,
  ) {
    this.base = href;
    if (root instanceof Keyframe) {
      this.restore(doc, root);
      return;
    }
    this.fill(doc, root);
    this.holdScroll(doc, scroll);
  }

  /**
   * Elements showing content the recorder masked on purpose: flagged elements, the parents of
   * flagged texts, and the elements a masked sheet draws starred `content:` strings on.
   */
  maskedElements(): Element[] {
    const out = new Set<Element>();
    for (const n of this.masked) {
      if (!call(connectedOf, n)) {
        this.masked.delete(n);
        continue;
      }
      const el = isEl(n) ? (n as Element) : (call(parentElementOf, n) as Element | null);
      if (!el) continue;
      out.add(el);
      const sheet = (el as HTMLStyleElement).sheet;
      if (localName(el) === "style" && sheet) for (const t of drawnBy(sheet, call(N.getRootNode, el) as ParentNode)) out.add(t);
    }
    return [...out];
  }

  // --- building ------------------------------------------------------------------------------

  /** Replace `doc`'s content by a serialized Document, in the compat mode its doctype implies. */
  private fill(doc: Document, sn: SerializedNode): void {
    if (sn[0] !== NodeKind.Document) return;
    const [, id, children, adopted] = sn;
    const doctype = children.find((c) => c[0] === NodeKind.Doctype);
    // Only the parser sets the compat mode: it reads a doctype of ours for the recorded one's
    // mode (recorded text is never parsed here), then the recorded doctype is built by DOM.
    this.open(doc, modeDoctype(doctype?.[0] === NodeKind.Doctype ? doctype : null));
    this.setNode(id, doc);
    const tasks: Tasks = [];
    for (const child of children) insert(doc, this.build(child, doc, tasks, ""), null);
    this.adopt(doc, adopted ?? []);
    runTasks(tasks);
  }

  /** `doc` emptied, in the compat mode `mode` (a doctype of ours) gives, with the policy. */
  private open(doc: Document, mode: string): void {
    call(D.open, doc);
    // The policy outlives its <meta>: nothing here runs, submits or loads a frame, and what
    // loads comes from the recorded site (the replay is a security boundary).
    call(D.write, doc, mode + policy(this.origins));
    call(D.close, doc);
    call(D.replaceChildren, doc);
    this.modes.set(doc, mode);
    call(N.addEventListener, doc, "securitypolicyviolation", (e: SecurityPolicyViolationEvent) => this.blocked.add(e.blockedURI));
    for (const type of ACTIVATIONS) call(N.addEventListener, doc, type, stopActivation, true);
    // document.open() dropped any earlier listener. Image loads do not bubble: capture them.
    call(N.addEventListener, doc, "load", () => this.flushScroll(true), true);
  }

  /** A node for `sn`; work that needs it connected (form state, frames, sheets) goes to `tasks`. */
  private build(sn: SerializedNode, doc: Document, tasks: Tasks, parentTag: string): Node {
    let node: Node;
    switch (sn[0]) {
      case NodeKind.Element:
        node = this.element(sn[2], sn[3], sn[4], sn[5] ?? {}, doc, tasks);
        break;
      case NodeKind.Text:
        node = call(D.createTextNode, doc, this.text(parentTag, sn[2])) as Text;
        if (sn[3]) this.masked.add(node);
        break;
      case NodeKind.Comment:
        node = call(D.createComment, doc, sn[2]) as Comment;
        break;
      case NodeKind.Doctype:
        node = (call(implementationOf, doc) as DOMImplementation).createDocumentType(sn[2], sn[3], sn[4]);
        break;
      default:
        node = call(D.createComment, doc, "") as Comment; // a Document is never a child: keep the id harmlessly
    }
    this.setNode(sn[1], node);
    return node;
  }

  private element(
    tag: string,
    attrs: Attrs,
    children: SerializedNode[],
    extra: ElementExtra,
    doc: Document,
    tasks: Tasks,
  ): Element {
    // A linked sheet arrives as its rules: a <style> holds them (the link's URL may not load here).
    const asStyle = tag.toLowerCase() === "link" && !extra.ns && extra.css !== undefined;
    const el = createElement(doc, asStyle ? "style" : tag, extra.ns);
    // Checks read the element's own name: `SCRIPT` and `Script` are scripts too.
    tag = asStyle ? "link" : localName(el);
    // A script (any namespace) is kept as an empty element: no attribute, no text, nothing to run.
    if (tag === "script") return el;
    if (this.anonymous && LOADERS.has(tag)) call(E.setAttribute, el, "crossorigin", "anonymous");
    // An iframe without its document could not be read (cross-origin): an empty frame here.
    if (extra.masked || (tag === "iframe" && !extra.frame)) this.masked.add(el);
    if (extra.defined) this.define(tag, doc);
    if (extra.states) setStates(el, extra.states);
    for (const [name, value] of Object.entries(attrs)) {
      // A dialog's open state is applied by show()/showModal() once connected.
      if (!(tag === "dialog" && name === "open")) this.setAttr(el, name, value);
    }

    if (extra.blocked) {
      this.placeholder(el, extra.blocked, tasks);
      return el;
    }
    // Recorded with scripting on, <noscript> content is inert text; here scripting is off.
    if (tag === "noscript") (el as HTMLElement).style.setProperty("display", "none", "important");

    const content = tag === "template" ? (el as HTMLTemplateElement).content : el;
    for (const child of children) content.appendChild(this.build(child, doc, tasks, tag));
    if (extra.shadow || extra.shadowSheets) this.shadow(el, extra.shadow ?? [], extra.shadowSheets ?? [], doc, tasks);
    if (extra.css !== undefined) this.setSheet(el, extra.css);
    if (tag === "style" || asStyle) tasks.push(() => simulateHover((el as HTMLStyleElement).sheet));

    if (extra.value !== undefined || extra.checked !== undefined || extra.selected !== undefined) {
      tasks.push(() => formState(el, extra));
    }
    if (tag === "dialog") {
      const state = extra.dialog ?? ("open" in attrs ? DialogState.Open : DialogState.Closed);
      tasks.push(() => this.setDialog(el, state));
    }
    if (extra.scroll) this.holdScroll(el, extra.scroll);
    // A blob: image's pixels are painted the way a canvas's are.
    if (tag === "canvas" || extra.canvas) tasks.push(() => this.paint(el, extra.canvas));
    const frame = extra.frame;
    if (frame) {
      // An iframe without src holds an about:blank document once connected: fill that one.
      tasks.push(() => {
        const inner = (el as HTMLIFrameElement).contentDocument;
        if (inner) {
          this.frames.set(el, inner);
          this.fill(inner, frame);
        }
      });
    }
    return el;
  }

  private shadow(host: Element, children: SerializedNode[], sheets: string[], doc: Document, tasks: Tasks): void {
    let root: ShadowRoot;
    try {
      root = attachShadow(host);
    } catch {
      return; // not a valid shadow host in this browser
    }
    for (const child of children) root.appendChild(this.build(child, doc, tasks, ""));
    this.adopt(root, sheets);
  }

  /** A blocked element: same tag and attributes, the recorded size, a neutral pattern. */
  private placeholder(el: Element, [width, height]: [number, number], tasks: Tasks): void {
    const style = (el as HTMLElement).style;
    style.setProperty("box-sizing", "border-box", "important");
    style.setProperty("width", `${width}px`, "important");
    style.setProperty("height", `${height}px`, "important");
    style.setProperty("background", BLOCKED_BACKGROUND, "important");
    tasks.push(() => {
      // An inline box ignores width and height.
      if (view(ownerDoc(el))?.getComputedStyle(el).display === "inline") {
        style.setProperty("display", "inline-block", "important");
      }
    });
  }

  private text(parentTag: string, text: string): string {
    if (parentTag === "script") return ""; // never carried into the replay, even inert
    return parentTag === "style" ? absoluteCss(text, this.base) : text;
  }

  /**
   * Set (or with null remove) one attribute, minus anything that could run, navigate, submit or
   * load a document: names are compared lower-cased, URLs as the URL parser reads them.
   */
  private setAttr(el: Element, name: string, value: string | null): void {
    let lower = name.toLowerCase();
    const tag = localName(el);
    if (tag === "script") return; // kept empty (see element())
    if (tag === "dialog" && lower === "open") {
      if (value === null || !(el as HTMLDialogElement).open) this.setDialog(el, value === null ? DialogState.Closed : DialogState.Open);
      return;
    }
    if (lower.startsWith("on") || lower === "srcdoc") return; // handlers are script; frames are filled by us
    if (this.anonymous && lower === "crossorigin") return; // ours: credentials stay omitted
    if (tag === "style" && lower === "href") return; // a <link> replayed as <style>
    if ((tag === "base" && lower === "href") || (EMBEDS.has(tag) && (lower === "src" || lower === "data"))) {
      // Resolved here (base) or never loaded (a frame's or object's document): kept inert.
      if (tag === "base" && value !== null) this.base = safeUrl(value, this.base, "base") ?? this.base;
      name = lower = tag === "base" ? SCRIPT_HREF : `rc-${lower}`;
    } else if (INERT_ATTRS[lower]) {
      name = lower = INERT_ATTRS[lower]!;
    } else if (ANIMATIONS.has(tag) && lower === "attributename" && value !== null && /href$/i.test(value.trim())) {
      name = lower = "rc-attributename"; // animating href would set a URL no filter has seen
    }
    if (value === null) {
      call(E.removeAttribute, el, name);
      if (lower === "href") call(E.removeAttribute, el, SCRIPT_HREF);
      this.keepPaint(el, lower);
      return;
    }
    if (URL_ATTRS.has(lower) || lower === "rc-formaction") {
      const url = safeUrl(value, this.base, tag);
      if (url === null) {
        if (lower !== "href" && lower !== "xlink:href") return;
        call(E.setAttribute, el, SCRIPT_HREF, "javascript:");
        value = "#";
      } else {
        call(E.removeAttribute, el, SCRIPT_HREF);
        value = url;
      }
    } else if (lower === SCRIPT_HREF || lower === "rc-src" || lower === "rc-data") {
      value = safeUrl(value, this.base, "") ?? "javascript:";
    } else if (SRCSET_ATTRS.has(lower)) {
      const candidates: string[] = [];
      for (const candidate of value.split(",")) {
        const [url = "", ...descriptors] = candidate.split(/[\t\n\f\r ]+/).filter((p) => p);
        const safe = url && safeUrl(url, this.base, tag);
        if (safe) candidates.push([safe, ...descriptors].join(" "));
      }
      value = candidates.join(", ");
    } else if (lower === "style") {
      value = absoluteCss(value, this.base);
    }
    const prefix = name.includes(":") ? name.slice(0, name.indexOf(":")) : name;
    const ns = ATTR_NAMESPACES[prefix];
    try {
      if (ns) call(E.setAttributeNS, el, ns, name, value);
      else call(E.setAttribute, el, name, value);
    } catch {
      // A name the HTML parser accepted but setAttribute does not (`"`, `<`...): unrenderable.
    }
    this.keepPaint(el, lower);
  }

  /** After a canvas's attribute changed: keep its paint class; a resize clears its bitmap. */
  private keepPaint(el: Element, attr: string): void {
    const paint = this.paints.get(el);
    if (paint && attr === "class") classes(el).add(paint[1]);
    if (paint && el.localName === "canvas" && (attr === "width" || attr === "height")) this.paint(el);
  }

  /** A <style>'s (or replayed <link>'s) rules as recorded from the CSSOM. */
  private setSheet(el: Element, css: string): void {
    const text = absoluteCss(css, this.base);
    const first = el.firstChild;
    if (first && nodeType(first) === TEXT_NODE) {
      // Keep the recorded text node (its id may be mutated later), drop any siblings.
      (first as Text).data = text;
      while (first.nextSibling) first.nextSibling.remove();
    } else {
      el.textContent = text;
    }
    simulateHover((el as HTMLStyleElement).sheet);
  }

  /** Constructable sheets must come from the realm of the document they are adopted into. */
  private adopt(target: Document | ShadowRoot, sheets: string[]): void {
    const win = view(ownerDoc(target) ?? (target as Document)) as (Window & typeof globalThis) | null;
    if (!win) return;
    this.adoptTexts(target, win, sheets.map((css) => absoluteCss(css, this.base)));
  }

  private adoptTexts(target: Document | ShadowRoot, win: Window & typeof globalThis, texts: string[]): void {
    target.adoptedStyleSheets = texts.map((text) => {
      const sheet = new win.CSSStyleSheet();
      sheet.replaceSync(text);
      simulateHover(sheet);
      this.sources.set(sheet, text);
      return sheet;
    });
  }

  // --- keyframes ------------------------------------------------------------------------------

  /**
   * This page's state as a keyframe: what a Page built from it (restore()) holds, exactly as
   * if every event applied here had been applied there. Taken from a page no step has touched
   * (no hover, focus or scroll applied: the replayer's background copy), so the state is the
   * one a replay built straight to this moment has before its step. The tree is copied by the
   * browser (cloneNode: attributes, text, open shadow roots, template contents, form values
   * and their dirty flags); the rest is listed: sheets the CSSOM changed, option selectedness,
   * dialogs' modality, focus, held scroll positions and the replayer's own records.
   */
  capture(): Keyframe {
    const copy = new Map<Node, Node>(); // live node -> its copy
    const frame = new Keyframe();
    const docs = new Map<Document, number>();
    const iframes: [twin: Element, live: Element][] = [];
    const visit = (doc: Document): number => {
      const index = frame.docs.length;
      docs.set(doc, index);
      const children = (Array.from(call(childNodesOf, doc) as NodeList) as Node[]).map((child) => {
        const clone = call(N.cloneNode, child, true) as Node;
        pair(child, clone, copy, (live, twin) => this.note(frame, live, twin, iframes));
        return clone;
      });
      frame.docs.push({
        mode: this.modes.get(doc) ?? "<!DOCTYPE html>",
        children,
        adopted: this.texts(doc.adoptedStyleSheets),
        defined: [...(this.defined.get(doc) ?? [])],
      });
      return index;
    };
    visit(this.doc);
    // Frames' documents, once their iframe's copy is known (nested frames join the list).
    for (let i = 0; i < iframes.length; i++) {
      const [twin, live] = iframes[i]!;
      const inner = this.frames.get(live);
      frame.frameOf.push([twin, inner && call(connectedOf, live) ? visit(inner) : -1]);
    }
    const ref = (n: Node): Node | number | undefined => (nodeType(n) === DOCUMENT_NODE ? docs.get(n as Document) : copy.get(n));
    for (const [id, node] of this.nodes) {
      // Nothing ever puts a detached node back (an add builds new nodes), so what an event
      // does to one shows nowhere, and its id can be forgotten; but a Focus event naming a
      // detached element leaves the focus as it is, where an unknown id blurs: an element stands in.
      const r = ref(node) ?? (isEl(node) && typeof (node as HTMLElement).focus === "function" ? DETACHED : undefined);
      if (r !== undefined) frame.nodes.push([id, r]);
    }
    for (const n of this.masked) {
      const r = copy.get(n);
      if (r) frame.masked.push(r);
    }
    for (const [target, at] of this.scrolls) {
      const r = ref(target as Node);
      if (r !== undefined) frame.scrolls.push([r, at]);
    }
    for (const [el, [rule, className]] of this.paints) {
      const r = copy.get(el);
      const sheet = rule.parentStyleSheet;
      if (r && sheet) frame.paints.push([r as Element, Array.from(sheet.cssRules).indexOf(rule), className]);
    }
    for (const [root, sheet] of this.injected) {
      const owner = sheet.ownerNode && copy.get(sheet.ownerNode);
      const r = ref(root);
      if (owner && r !== undefined) frame.injected.push([r, owner as Element, Array.from(sheet.cssRules, (rule) => rule.cssText)]);
    }
    for (const [el] of [...this.modals].sort((a, b) => a[1] - b[1])) {
      const r = copy.get(el);
      if (r && (el as HTMLDialogElement).open && el.matches(":modal")) frame.modals.push(r as Element);
    }
    let active = call(activeOf, this.doc) as Element | null;
    for (let inner = active && shadowOf(active)?.activeElement; inner; inner = shadowOf(inner)?.activeElement) active = inner;
    // Only a dialog's focusing steps move the focus in a page no step touched (focus() is the step's).
    const body = call(D.querySelector, this.doc, "body");
    const focused = active && active !== body && active !== this.doc.documentElement && copy.get(active);
    if (focused) frame.active = [focused as Element, active!.matches(":focus-visible")];
    frame.focus = this.focusTarget === undefined ? undefined : [this.focusTarget, this.focusVisible];
    frame.base = this.base;
    return frame;
  }

  /** What the copy of `live` (`twin`) needs besides the clone itself. */
  private note(frame: Keyframe, live: Node, twin: Node, iframes: [Element, Element][]): void {
    if (nodeType(live) === FRAGMENT_NODE) {
      const sheets = (live as ShadowRoot).adoptedStyleSheets;
      if (sheets.length) frame.shadowSheets.push([twin, this.texts(sheets)]);
      return;
    }
    if (!isEl(live)) return;
    const tag = localName(live);
    if (tag === "style") {
      // The text is copied; the twin rules simulateHover added are made again, if they were there.
      if (hasTwins((live as HTMLStyleElement).sheet)) frame.twinned.push(twin as Element);
    } else if (tag === "option") {
      frame.selected.push([twin as Element, (live as HTMLOptionElement).selected]);
    } else if (tag === "input" || tag === "textarea") {
      if ((live as HTMLInputElement).validity.customError) frame.invalid.push(twin as Element);
    } else if (tag === "iframe" && this.frames.has(live)) {
      iframes.push([twin as Element, live]);
    }
  }

  private texts(sheets: readonly CSSStyleSheet[]): string[] {
    return sheets.map((sheet) => this.sources.get(sheet) ?? Array.from(sheet.cssRules, (rule) => rule.cssText).join("\n"));
  }

  /** Build this page from a keyframe (see capture()): the copies are copied again, into `doc`. */
  private restore(doc: Document, frame: Keyframe): void {
    const copy = new Map<Node, Node>(); // keyframe node -> node here
    const docs: Document[] = [];
    const fill = (target: Document, index: number): void => {
      const state = frame.docs[index]!;
      docs[index] = target;
      this.open(target, state.mode);
      for (const tag of state.defined) this.define(tag, target);
      for (const child of state.children) {
        const node = call(D.importNode, target, child, true) as Node;
        pair(child, node, copy);
        insert(target, node, null);
      }
      const win = view(target) as (Window & typeof globalThis) | null;
      if (win && state.adopted.length) this.adoptTexts(target, win, state.adopted);
      // Frames are filled once connected (an iframe's about:blank document exists from then on).
      for (const [twin, inner] of frame.frameOf) {
        const el = copy.get(twin) as HTMLIFrameElement | undefined;
        if (inner < 0 || !el || docs[inner] || ownerDoc(el) !== target) continue;
        const innerDoc = el.contentDocument;
        if (innerDoc) {
          this.frames.set(el, innerDoc);
          fill(innerDoc, inner);
        }
      }
    };
    fill(doc, 0);
    const get = (r: Node | number): Node | undefined => (typeof r === "number" ? docs[r] : copy.get(r));
    for (const [twin, texts] of frame.shadowSheets) {
      const root = copy.get(twin) as ShadowRoot | undefined;
      const win = root && (view(ownerDoc(root)) as (Window & typeof globalThis) | null);
      if (root && win) this.adoptTexts(root, win, texts);
    }
    for (const twin of frame.twinned) simulateHover((copy.get(twin) as HTMLStyleElement | undefined)?.sheet ?? null);
    for (const [root, owner, rules] of frame.injected) {
      const sheet = (copy.get(owner) as HTMLStyleElement | undefined)?.sheet;
      const target = get(root);
      if (!sheet || !target) continue;
      for (const rule of rules) sheet.insertRule(rule, sheet.cssRules.length);
      this.injected.set(target, sheet);
    }
    for (const [twin, index, className] of frame.paints) {
      const el = copy.get(twin) as Element | undefined;
      const sheet = el && this.injected.get(call(N.getRootNode, el) as Node);
      const rule = sheet?.cssRules[index];
      if (el && rule) this.paints.set(el, [rule as CSSStyleRule, className]);
    }
    runTasks(
      frame.selected.map(([twin, selected]) => () => {
        const option = copy.get(twin) as HTMLOptionElement | undefined;
        if (option && option.selected !== selected) option.selected = selected;
      }),
    );
    for (const twin of frame.invalid) (copy.get(twin) as HTMLInputElement | undefined)?.setCustomValidity("masked");
    // Open dialogs are open (the attribute was copied); modal ones are shown again, in order,
    // while the document is not rendered: showModal() brings the whole document's style up to
    // date (~20 ms on a 3k-node page), which the first frame of this new document does anyway.
    // Its focusing steps then find nothing to focus: the focus is set below, as it was.
    if (frame.modals.length) {
      const win = view(doc) as (Window & typeof globalThis) | null;
      const hide = win && new win.CSSStyleSheet();
      hide?.replaceSync(":root { display: none !important }");
      const sheets = [...doc.adoptedStyleSheets]; // a live array: a copy
      if (hide) doc.adoptedStyleSheets = [...sheets, hide];
      runTasks(frame.modals.map((twin) => () => copy.has(twin) && this.setDialog(copy.get(twin) as Element, DialogState.Modal)));
      if (hide) doc.adoptedStyleSheets = sheets;
    }
    let stand: Node | undefined;
    for (const [id, r] of frame.nodes) {
      // A detached node's id: one detached element stands in for all (see capture()).
      const node = r === DETACHED ? (stand ??= call(D.createElement, doc, "span") as Node) : get(r);
      if (node) this.setNode(id, node);
    }
    for (const r of frame.masked) {
      const node = copy.get(r);
      if (node) this.masked.add(node);
    }
    for (const [r, at] of frame.scrolls) {
      const target = get(r);
      if (target) this.holdScroll(target as ScrollTarget, at);
    }
    if (frame.active) {
      const el = copy.get(frame.active[0]) as HTMLElement | undefined;
      try {
        el?.focus({ preventScroll: true, focusVisible: frame.active[1] } as FocusOptions);
      } catch {
        // not focusable here: the document keeps the focus on its body, as it would
      }
    }
    if (frame.focus) [this.focusTarget, this.focusVisible] = frame.focus;
    this.base = frame.base;
  }

  // --- incremental events --------------------------------------------------------------------

  mutate([, , adds, removes, attrs, texts]: MutationEvent): void {
    for (const [, id] of removes) detach(this.nodes.get(id));
    const tasks: Tasks = [];
    for (const [parentId, nextId, sn] of adds) {
      // A shadow root has no id of its own: it is named by minus its host's id.
      // A root attached after its host was sent (a custom element upgraded late) arrives this way.
      const host = parentId < 0 ? (this.nodes.get(-parentId) as Element | undefined) : undefined;
      const parent = parentId < 0 ? (host?.shadowRoot ?? (host && attachShadow(host))) : this.nodes.get(parentId);
      if (!parent) continue;
      const tag = isEl(parent) ? (parent as Element).localName : "";
      const node = this.build(sn, ownerDoc(parent) ?? (parent as Document), tasks, tag);
      const container = tag === "template" ? (parent as HTMLTemplateElement).content : parent;
      const next = nextId ? this.nodes.get(nextId) : undefined;
      insert(container, node, next && parentOf(next) === container ? next : null);
      if (tag === "style") tasks.push(() => simulateHover((parent as HTMLStyleElement).sheet));
    }
    runTasks(tasks);
    for (const [id, name, value, masked] of attrs) {
      const el = this.nodes.get(id);
      if (!isEl(el)) continue;
      this.setAttr(el as Element, name, value);
      if (masked) this.masked.add(el);
    }
    for (const [id, text, masked] of texts) {
      const node = this.nodes.get(id);
      if (!node) continue;
      if (masked) this.masked.add(node);
      const parent = parentOf(node) as Element | null;
      node.nodeValue = this.text(parent?.localName ?? "", text);
      if (parent?.localName === "style") simulateHover((parent as HTMLStyleElement).sheet);
    }
  }

  /** A form value: text, a checkbox or radio state, or the selected values of a <select multiple>. */
  input(id: Id, value: string | boolean | string[], state = 0): void {
    const el = this.nodes.get(id) as Element | undefined;
    if (!el) return;
    if (state & Validity.Masked) this.masked.add(el);
    // Styled through the twins of :user-invalid and :user-valid rules (css.ts).
    classes(el).toggle(USER_INVALID_CLASS, !!(state & Validity.UserInvalid));
    classes(el).toggle(USER_VALID_CLASS, !!(state & Validity.UserValid));
    if (Array.isArray(value)) {
      for (const option of Array.from((el as HTMLSelectElement).options ?? [])) option.selected = value.includes(option.value);
    } else if (typeof value === "boolean") {
      (el as HTMLInputElement).checked = value;
    } else {
      setValue(el, value);
      if (state & Validity.Masked) keepValidity(el, value, state);
    }
  }

  states(id: Id, states: string[]): void {
    const el = this.nodes.get(id);
    if (isEl(el)) setStates(el as Element, states);
  }

  scroll(id: Id, x: number, y: number): void {
    const target = id === DOCUMENT_TARGET ? this.doc : this.nodes.get(id);
    if (isEl(target) || nodeType(target) === DOCUMENT_NODE) this.holdScroll(target as ScrollTarget, [x, y]);
  }

  /** A sheet's rules changed through the CSSOM, or a <link> loaded after it was serialized. */
  sheet(id: Id, css: string): void {
    let el = this.nodes.get(id) as Element | undefined;
    if (!isEl(el)) return;
    if (el.localName === "link") {
      // Its rules are here now: a <style> holds them, as for a link read at snapshot time.
      const style = call(D.createElement, ownerDoc(el), "style") as HTMLStyleElement;
      for (const attr of Array.from(el.attributes)) if (attr.name !== "href") style.setAttribute(attr.name, attr.value);
      el.replaceWith(style);
      this.setNode(id, (el = style));
    }
    this.setSheet(el, css);
  }

  /** adoptedStyleSheets of the document, a frame's document, or a shadow host's root. */
  adopted(id: Id, sheets: string[]): void {
    const target = id === DOCUMENT_TARGET ? this.doc : this.nodes.get(id);
    if (nodeType(target) === DOCUMENT_NODE) {
      this.adopt(target as Document, sheets);
    } else if (isEl(target)) {
      const root = (target as Element).shadowRoot;
      if (root) this.adopt(root, sheets);
    }
  }

  /**
   * Define a custom element's tag with an empty class: no definition of the page runs here, and
   * without one `:defined` styles do not apply. Once per tag and window.
   */
  define(tag: string, doc = this.doc): void {
    const win = view(doc) as (Window & typeof globalThis) | null;
    try {
      if (win && !win.customElements.get(tag)) win.customElements.define(tag, class extends win.HTMLElement {});
      if (win?.customElements.get(tag)) this.defined.set(doc, (this.defined.get(doc) ?? new Set()).add(tag));
    } catch {
      // not a valid custom element name here
    }
  }

  /** Simulated :target: the class on the element the URL's fragment names. */
  target(href: string): void {
    const hash = href.indexOf("#");
    let id = hash < 0 ? "" : href.slice(hash + 1);
    try {
      id = decodeURIComponent(id);
    } catch {
      // kept as written
    }
    const el = id ? ((call(D.getElementById, this.doc, id) ?? call(D.querySelector, this.doc, `a[name="${CSS.escape(id)}"]`)) as Element | null) : null;
    if (el === this.targeted && el && classes(el).contains(TARGET_CLASS)) return;
    if (this.targeted) classes(this.targeted).remove(TARGET_CLASS);
    if (this.targeted && call(E.getAttribute, this.targeted, "class") === "") call(E.removeAttribute, this.targeted, "class");
    if (el) classes(el).add(TARGET_CLASS);
    this.targeted = el;
  }

  private setNode(id: Id, node: Node): void {
    this.nodes.set(id, node);
    this.ids.set(node, id);
  }

  /** The ids of dialog `id` and of its ancestors (through shadow roots), when it is a closed
   * dialog in the document; null otherwise. */
  closedDialog(id: Id): Set<Id> | null {
    const el = this.nodes.get(id);
    if (!isEl(el) || localName(el as Element) !== "dialog" || (el as HTMLDialogElement).open || !call(connectedOf, el)) return null;
    const chain = new Set<Id>([id]);
    for (let n: Node | null = el!; n; ) {
      const nid = this.ids.get(n);
      if (nid !== undefined) chain.add(nid);
      n = nodeType(n) === FRAGMENT_NODE ? (n as ShadowRoot).host : parentOf(n);
    }
    return chain;
  }

  /** setDialog(), keeping the order modal dialogs were shown in (the top layer's). */
  private setDialog(el: Element, state: DialogState): void {
    setDialog(el, state);
    this.modals.delete(el);
    if ((el as HTMLDialogElement).open && el.matches(":modal")) this.modals.set(el, ++this.shown);
  }

  dialog(id: Id, state: DialogState): void {
    const el = this.nodes.get(id);
    if (isEl(el)) this.setDialog(el as Element, state);
  }

  /** Focus is applied once per step (flush): intermediate focus changes have no visible effect. */
  focus(id: Id, visible?: 1): void {
    this.focusTarget = id;
    this.focusVisible = !!visible;
  }

  canvas(id: Id, url: string): void {
    const el = this.nodes.get(id);
    if (isEl(el)) this.paint(el as Element, url);
  }

  /**
   * Show a canvas's recorded image (or, without one, a transparent image of its bitmap size).
   * With scripting off, as in this sandbox, a <canvas> renders only its fallback content, so
   * the image is the element's CSS `content`: it then lays out like the canvas did, sized by
   * its bitmap unless the page's CSS sizes it. The rule lives in an injected sheet and targets
   * a ":"-prefixed class: both are replayer artefacts to the harness canonicaliser.
   */
  private paint(el: Element, url?: string): void {
    if (!call(connectedOf, el)) return;
    let paint = this.paints.get(el);
    if (!paint) {
      const root = call(N.getRootNode, el) as Node;
      let sheet = this.injected.get(root);
      if (!sheet) {
        const style = call(D.createElement, ownerDoc(el), "style") as HTMLStyleElement;
        const doc = nodeType(root) === DOCUMENT_NODE ? (root as Document) : null;
        (doc ? (doc.head ?? doc.documentElement) : root).appendChild(style);
        sheet = style.sheet!;
        this.injected.set(root, sheet);
      }
      const className = `:canvas${sheet.cssRules.length}`;
      const rule = sheet.cssRules[sheet.insertRule(`.\\${className}{}`, sheet.cssRules.length)] as CSSStyleRule;
      paint = [rule, className];
      this.paints.set(el, paint);
      classes(el).add(className);
    }
    const canvas = el as HTMLCanvasElement;
    const image =
      url ??
      "data:image/svg+xml," +
        encodeURIComponent(`<svg xmlns="http://www.w3.org/2000/svg" width="${canvas.width}" height="${canvas.height}"/>`);
    paint[0].style.setProperty("content", `url("${image.replace(/["\\]/g, "\\$&")}")`);
  }

  // --- state applied once per step -----------------------------------------------------------

  private holdScroll(target: ScrollTarget, at: [number, number]): void {
    this.scrolls.set(target, at);
    this.unscrolled.add(target);
  }

  /**
   * Scroll positions and focus, after the DOM of a step is complete (layout needs it all).
   * `all`: every held position again (after a seek: as a replay built straight to this moment
   * would, on this layout), not only the ones that changed.
   */
  flush(all = false): void {
    this.flushScroll(all);
    if (this.focusTarget !== undefined) {
      const el = this.nodes.get(this.focusTarget) as HTMLElement | undefined;
      if (el?.focus) {
        // Focusing the focused element again changes nothing, its ring neither.
        if (el.matches(":focus") && el.matches(":focus-visible") !== this.focusVisible) el.blur();
        el.focus({ preventScroll: true, focusVisible: this.focusVisible });
        // Not focusable at this moment (in a dialog not shown yet, hidden, inert): the focus is
        // nowhere, as in a replay built straight to here, not where an earlier step left it;
        // unless a modal dialog took it (its focusing steps run in either replay).
        const root = call(N.getRootNode, el) as Document | ShadowRoot;
        const active = deepActive(this.doc);
        if (root.activeElement !== el && active && !active.closest("dialog:modal")) active.blur();
      } else {
        (call(activeOf, this.doc) as HTMLElement | null)?.blur();
      }
      this.focusTarget = undefined;
    }
  }

  private flushScroll(all: boolean): void {
    for (const target of all ? this.scrolls.keys() : this.unscrolled) {
      const [left, top] = this.scrolls.get(target) ?? [0, 0];
      const scroller = nodeType(target) === DOCUMENT_NODE ? view(target as Document) : (target as Element);
      // `instant`: the page's `scroll-behavior: smooth` would make this asynchronous.
      scroller?.scrollTo({ left, top, behavior: "instant" });
    }
    this.unscrolled.clear();
  }

  /** Simulated :hover: the hover class on the element under the cursor and its ancestors. */
  hover(at: [number, number] | null): void {
    const chain = new Set(at ? hoverChain(this.doc, at[0], at[1]) : []);
    for (const el of this.hovered) {
      if (chain.has(el)) continue;
      classes(el).remove(HOVER_CLASS);
      if (call(E.getAttribute, el, "class") === "") call(E.removeAttribute, el, "class");
    }
    // Adding again each step: a recorded class mutation may have overwritten it.
    for (const el of chain) if (!classes(el).contains(HOVER_CLASS)) classes(el).add(HOVER_CLASS);
    this.hovered = chain;
  }

  /** Images and fonts of the replayed document (and its frames) have loaded. */
  ready(): Promise<void> {
    // Content that loaded since the last scroll may have made the page long enough only now.
    return loaded(this.doc).then(() => this.flushScroll(true));
  }
}

const DETACHED = -1;

/** A page's state at one moment, made by Page.capture() and built by new Page(..., keyframe). */
export class Keyframe {
  /** The top document (0) and same-origin frames' documents: copies of their children. */
  readonly docs: { mode: string; children: Node[]; adopted: string[]; defined: string[] }[] = [];
  /** Node ids: a copied node, a document's index, or DETACHED (an element not in the tree). */
  readonly nodes: [Id, Node | number][] = [];
  readonly frameOf: [iframe: Element, doc: number][] = [];
  readonly shadowSheets: [root: Node, texts: string[]][] = [];
  readonly twinned: Element[] = [];
  readonly selected: [option: Element, selected: boolean][] = [];
  readonly invalid: Element[] = [];
  readonly masked: Node[] = [];
  readonly scrolls: [target: Node | number, at: [number, number]][] = [];
  readonly paints: [el: Element, rule: number, className: string][] = [];
  readonly injected: [root: Node | number, owner: Element, rules: string[]][] = [];
  readonly modals: Element[] = [];
  active: [el: Element, visible: boolean] | undefined;
  focus: [Id, boolean] | undefined;
  base = "";
}

// --- helpers without page state ----------------------------------------------------------------

/**
 * Walk `a` and its copy `b` (same shape) together: shadow roots and template contents too,
 * mapping each node of `a` to its twin; `each` sees every pair.
 */
function pair(a: Node, b: Node, map: Map<Node, Node>, each?: (a: Node, b: Node) => void): void {
  map.set(a, b);
  each?.(a, b);
  if (isEl(a) && isEl(b)) {
    const ra = shadowOf(a as Element);
    const rb = shadowOf(b as Element);
    if (ra && rb) pair(ra, rb, map, each);
    if (localName(a as Element) === "template" && localName(b as Element) === "template") {
      pair((a as HTMLTemplateElement).content, (b as HTMLTemplateElement).content, map, each);
    }
  }
  let x = call(firstChildOf, a) as Node | null;
  let y = call(firstChildOf, b) as Node | null;
  while (x && y) {
    pair(x, y, map, each);
    x = call(nextSiblingOf, x) as Node | null;
    y = call(nextSiblingOf, y) as Node | null;
  }
}

/** The focused element of `doc`, inside shadow roots and same-origin frames. */
function deepActive(doc: Document): HTMLElement | null {
  let active = call(activeOf, doc) as HTMLElement | null;
  for (;;) {
    const root = active && shadowOf(active);
    const inner = root ? (root.activeElement as HTMLElement | null) : active && localName(active) === "iframe" ? ((call(frameDocOf, active) as Document | null)?.activeElement as HTMLElement | null) : null;
    if (!inner || inner === active) return active;
    active = inner;
  }
}

/** An open shadow root the browser copies with its host (keyframes copy trees by cloneNode). */
function attachShadow(host: Element): ShadowRoot {
  return host.attachShadow({ mode: "open", clonable: true } as ShadowRootInit);
}

/**
 * `value` as a URL the replay may hold: parsed as browsers parse it (leading and trailing
 * controls and spaces, tabs and newlines anywhere are ignored; nothing else is trimmed), of a
 * safe scheme (data: and blob: only for images and media); null otherwise. A fragment stays as written.
 */
function safeUrl(value: string, base: string, tag: string): string | null {
  const bare = value.replace(/[\u0000-\u0020]/g, "");
  if (bare === "" || bare.startsWith("#")) return value; // the document itself, or a place in it
  let url: URL;
  try {
    url = new URL(value, base);
  } catch {
    return null;
  }
  // An image or media element may show a data: or blob: URL (a blob: one is dead here: its pixels
  // come as a canvas); nothing else may hold one (a data:text/html document, a blob: page).
  if (url.protocol === "data:" || url.protocol === "blob:") return DATA_OK.has(tag) ? value.replace(/^[\u0000-\u0020]+/, "") : null;
  return SAFE_SCHEMES.has(url.protocol) ? url.href : null;
}

/** Public ids whose doctype means limited-quirks mode (HTML, "the initial insertion mode"). */
const LIMITED_QUIRKS = /^-\/\/W3C\/\/DTD XHTML 1\.0 (Frameset|Transitional)\/\//i;
const LIMITED_IF_SYSTEM = /^-\/\/W3C\/\/DTD HTML 4\.01 (Frameset|Transitional)\/\//i;

/**
 * A doctype of ours that puts the parser in the mode the recorded one did. The mode is read
 * from an inert parse (DOMParser runs nothing and loads nothing) of the recorded doctype, its
 * ids stripped of what could end the token, so no recorded text reaches the replay's parser.
 */
function modeDoctype(doctype: [NodeKind.Doctype, Id, string, string, string] | null): string {
  if (!doctype) return "";
  const [, , name, publicId, systemId] = doctype;
  const clean = (t: string): string => `"${t.replace(/[^\w \-./:+()#,;=?&~%@!*$]/g, "")}"`;
  const ids = publicId ? ` PUBLIC ${clean(publicId)}${systemId ? ` ${clean(systemId)}` : ""}` : systemId ? ` SYSTEM ${clean(systemId)}` : "";
  const probe = `<!DOCTYPE ${name.replace(/[^\w-]/g, "") || "x"}${ids}><title></title>`;
  const quirks = new DOMParser().parseFromString(probe, "text/html").compatMode === "BackCompat";
  if (quirks) return "";
  if (LIMITED_QUIRKS.test(publicId) || (systemId && LIMITED_IF_SYSTEM.test(publicId)))
    return '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" "about:legacy-compat">';
  return "<!DOCTYPE html>";
}

// DOM methods through the prototypes, never through the recorded nodes: a recorded <img
// name=createElement> shadows document.createElement, a form's <input name=setAttribute> the
// form's setAttribute (named properties override built-ins on documents and forms).
const D = Document.prototype;
const E = Element.prototype;
const N = Node.prototype;
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
const call = (fn: Function, self: unknown, ...args: unknown[]): unknown => Reflect.apply(fn, self, args);
const getter = (proto: object, name: string): (() => unknown) => Object.getOwnPropertyDescriptor(proto, name)!.get!;
const localNameOf = getter(E, "localName");
const ownerDocumentOf = getter(N, "ownerDocument");
const defaultViewOf = getter(D, "defaultView");
const implementationOf = getter(D, "implementation");
const activeOf = getter(D, "activeElement");
const fontsOf = getter(D, "fonts");
const classListOf = getter(E, "classList");
const nodeTypeOf = getter(N, "nodeType");
const parentNodeOf = getter(N, "parentNode");
const parentElementOf = getter(N, "parentElement");
const connectedOf = getter(N, "isConnected");
const shadowRootOf = getter(E, "shadowRoot");
const clientLeftOf = getter(E, "clientLeft");
const clientTopOf = getter(E, "clientTop");
const frameDocOf = getter(HTMLIFrameElement.prototype, "contentDocument");
const childNodesOf = getter(N, "childNodes");
const firstChildOf = getter(N, "firstChild");
const nextSiblingOf = getter(N, "nextSibling");
const classes = (el: Element): DOMTokenList => call(classListOf, el) as DOMTokenList;
const nodeType = (n: Node | null | undefined): number | undefined => (n ? (call(nodeTypeOf, n) as number) : undefined);
const isEl = (n: Node | null | undefined): n is Element => nodeType(n) === ELEMENT_NODE;
const parentOf = (n: Node): Node | null => call(parentNodeOf, n) as Node | null;
const shadowOf = (el: Element): ShadowRoot | null => call(shadowRootOf, el) as ShadowRoot | null;
/** Take `node` out of the tree, if it is in one. */
function detach(node: Node | undefined): void {
  const parent = node && parentOf(node);
  if (parent) call(N.removeChild, parent, node);
}
const localName = (el: Element): string => call(localNameOf, el) as string;
const ownerDoc = (n: Node): Document => call(ownerDocumentOf, n) as Document;
const view = (doc: Document): Window | null => call(defaultViewOf, doc) as Window | null;

function createElement(doc: Document, tag: string, ns: ElementExtra["ns"]): Element {
  try {
    return (ns ? call(D.createElementNS, doc, NAMESPACES[ns], tag) : call(D.createElement, doc, tag)) as Element;
  } catch {
    return call(D.createElement, doc, "span") as Element; // a tag name the DOM refuses: keep the subtree visible
  }
}

function insert(parent: Node, node: Node, next: Node | null): void {
  try {
    call(N.insertBefore, parent, node, next);
  } catch {
    // A hierarchy the DOM refuses (text directly in a Document...): skip that node.
  }
}

/** Tasks can queue more (a frame filled inside a frame): run until none is left. */
function runTasks(tasks: Tasks): void {
  for (let i = 0; i < tasks.length; i++) {
    try {
      tasks[i]!();
    } catch {
      // One element's state failing to apply must not stop the others.
    }
  }
}

function setValue(el: Node, value: string): void {
  try {
    (el as HTMLInputElement).value = value;
  } catch {
    // <input type=file> only accepts "".
  }
}

/** valueAsNumber steps of the types that have one: a value just outside min or max. */
const UNIT: Record<string, number> = { number: 1, range: 1, date: 864e5, week: 6048e5, month: 1, time: 6e4, "datetime-local": 6e4 };

const validityOf = (f: HTMLInputElement): number =>
  (f.validity.valid ? 0 : Validity.Invalid) | (f.validity.rangeUnderflow || f.validity.rangeOverflow ? Validity.OutOfRange : 0);

/** Values of `f`'s type that may give it another validity than its masked value. */
function candidates(f: HTMLInputElement, masked: string): string[] {
  const stars = "*".repeat(Math.max(1, masked.replace(/\s/g, "").length - 2));
  if (f.type === "email") return [stars + "@x"];
  if (f.type === "url") return ["x:" + stars];
  const unit = UNIT[f.type];
  if (!unit) return [];
  const num = (s: string): number => ((f.value = s), f.valueAsNumber);
  const [lo, hi] = [num(f.min), num(f.max)];
  const out: string[] = [];
  for (const n of [0, lo, hi, lo - unit, hi + unit]) {
    if (!Number.isFinite(n)) continue;
    f.valueAsNumber = n;
    if (f.value) out.push(f.value);
  }
  return out;
}

/**
 * A masked value with the live field's :invalid and :out-of-range (`bits`), and not empty
 * (:placeholder-shown) unless it was: page styles show them outside the masked box. Stars are
 * no email, no number: a value of the field's type is chosen here, never sent; where none fits
 * (a pattern), an invalid field is made so by setCustomValidity, a valid one stays invalid.
 */
function keepValidity(el: Element, masked: string, bits: number): void {
  const f = el as HTMLInputElement;
  if (f.localName !== "input" && f.localName !== "textarea") return;
  try {
    f.setCustomValidity("");
    const want = bits & (Validity.Invalid | Validity.OutOfRange);
    const fits = (): boolean => (f.value === "") === (masked === "") && validityOf(f) === want;
    if (fits()) return;
    for (const value of candidates(f, masked)) {
      f.value = value;
      if (fits()) return;
    }
    f.value = masked;
    if (want & Validity.Invalid && f.validity.valid) f.setCustomValidity("masked");
  } catch {
    // a field in an odd state (detached, a value its type refuses): the masked value stays
  }
}

/** Custom states as `:state(name)` classes, which twin rules of `:state(name)` match (css.ts). */
function setStates(el: Element, states: string[]): void {
  for (const c of Array.from(classes(el))) if (c.startsWith(":state(")) classes(el).remove(c);
  for (const s of states) classes(el).add(`:state(${s})`);
}

function formState(el: Element, extra: ElementExtra): void {
  // Options carry their own `selected`: setting a multiple select's value would reset them.
  if (extra.value !== undefined && !(el as HTMLSelectElement).multiple) {
    setValue(el, extra.value);
    if (extra.validity) keepValidity(el, extra.value, extra.validity);
  }
  if (extra.checked !== undefined) (el as HTMLInputElement).checked = extra.checked;
  if (extra.selected !== undefined) (el as HTMLOptionElement).selected = extra.selected;
}

/** Open state through the dialog API, called from the parent: a modal lands in the top layer. */
function setDialog(el: Element, state: DialogState): void {
  const dialog = el as HTMLDialogElement;
  if (state === DialogState.Closed) {
    if (dialog.open) dialog.close();
    return;
  }
  const modal = state === DialogState.Modal;
  if (dialog.open && dialog.matches(":modal") === modal) return;
  if (dialog.open) dialog.close();
  try {
    if (modal) {
      dialog.showModal();
    } else {
      dialog.show();
    }
  } catch {
    // A disconnected dialog cannot open.
  }
}

/** The element under (x, y), through open shadow roots and same-origin frames, and its ancestors. */
function hoverChain(doc: Document, x: number, y: number): Element[] {
  let target = call(D.elementFromPoint, doc, x, y) as Element | null;
  for (let root = target && shadowOf(target); root; root = target && shadowOf(target)) {
    const inner = call(ShadowRoot.prototype.elementFromPoint, root, x, y) as Element | null;
    if (!inner || inner === target) break;
    target = inner;
  }
  const chain: Element[] = [];
  for (let node: Node | null = target; node; ) {
    if (isEl(node)) chain.push(node as Element);
    node = nodeType(node) === FRAGMENT_NODE ? (node as ShadowRoot).host : parentOf(node);
  }
  const inner = target && localName(target) === "iframe" ? (call(frameDocOf, target) as Document | null) : null;
  if (target && inner) {
    const box = call(E.getBoundingClientRect, target) as DOMRect;
    chain.push(...hoverChain(inner, x - box.left - (call(clientLeftOf, target) as number), y - box.top - (call(clientTopOf, target) as number)));
  }
  return chain;
}

/** Fonts and images of `doc` and its frames loaded; read through the prototypes, since a
 * recorded `<img name=images>` or `<form name=fonts>` shadows the document's own. */
async function loaded(doc: Document): Promise<void> {
  const waits: Promise<unknown>[] = [(call(fontsOf, doc) as FontFaceSet).ready];
  for (const img of Array.from(call(D.querySelectorAll, doc, "img") as NodeListOf<HTMLImageElement>)) {
    if (img.complete) continue;
    waits.push(
      new Promise((done) => {
        img.addEventListener("load", done, { once: true });
        img.addEventListener("error", done, { once: true });
      }),
    );
  }
  for (const frame of Array.from(call(D.querySelectorAll, doc, "iframe") as NodeListOf<HTMLIFrameElement>)) {
    const inner = frame.contentDocument;
    if (inner) waits.push(loaded(inner));
  }
  await Promise.all(waits);
}

/** Elements that rules with a starred `content:` (or custom property) in `sheet` draw on. */
function drawnBy(sheet: CSSStyleSheet, root: ParentNode): Element[] {
  const out: Element[] = [];
  const visit = (rules: CSSRuleList): void => {
    for (const rule of Array.from(rules)) {
      const style = (rule as CSSStyleRule).style;
      if (style && /\*/.test(style.cssText) && /content|--/.test(style.cssText)) {
        const selector = (rule as CSSStyleRule).selectorText.replace(/::?(before|after|marker)\b/g, "");
        try {
          out.push(...Array.from(root.querySelectorAll(selector || "*")));
        } catch {
          // a selector this engine cannot query: nothing known to be drawn
        }
      }
      if ((rule as CSSGroupingRule).cssRules) visit((rule as CSSGroupingRule).cssRules);
    }
  };
  try {
    visit(sheet.cssRules);
  } catch {
    // unreadable sheet
  }
  return out;
}
