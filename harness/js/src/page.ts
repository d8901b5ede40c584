// Checkpoint determinism and masked-region geometry, run in live pages and on replay documents.
// Page reads go through ./dom: a page's own code must not break them (DOM clobbering).

import {
  baseURI,
  childNodes,
  clientLeft,
  closest,
  clientTop,
  contentDocument,
  defaultView,
  fonts,
  getAttribute,
  getRootNode,
  host,
  localName,
  nextSibling,
  nodeType,
  ownerDocument,
  parentElement,
  parentNode,
  queryAll,
  rect,
  shadowRoot,
  tagName,
  treeAnimations,
} from "./dom";
import { wasPassword } from "./passwords";

type Rect = [number, number, number, number];

// Animations paused by settle(), resumed by resume() so the scenario continues as it would have.
const paused: Animation[] = [];

/** Longest a checkpoint waits for scrolling, images, sprites or fonts: a page may never settle. */
const SETTLE_LIMIT_MS = 5000;
/** Frames without a scroll event after which scroll positions count as still. */
const STILL_FRAMES = 3;

function nextFrame(win: Window): Promise<void> {
  return new Promise((resolve) => {
    win.requestAnimationFrame(() => resolve());
    // Background or throttled frames may never tick: do not hang a checkpoint on them.
    win.setTimeout(resolve, 100);
  });
}

function limited(win: Window, wait: Promise<unknown>): Promise<unknown> {
  return Promise.race([wait, new Promise((resolve) => win.setTimeout(resolve, SETTLE_LIMIT_MS))]);
}

/** Every tree a checkpoint shows: the document, its open shadow roots, its same-origin frames'. */
function trees(doc: Document): { docs: Document[]; roots: (Document | ShadowRoot)[] } {
  const docs: Document[] = [];
  const roots: (Document | ShadowRoot)[] = [];
  const visit = (root: Document | ShadowRoot): void => {
    roots.push(root);
    if (nodeType(root) === 9) docs.push(root as Document);
    for (const el of queryAll(root, "*")) {
      const shadow = shadowRoot(el);
      if (shadow) visit(shadow);
      const inner = localName(el) === "iframe" || localName(el) === "frame" ? contentDocument(el) : null;
      if (inner) visit(inner);
    }
  };
  visit(doc);
  return { docs, roots };
}

/**
 * Wait until no document, element or shadow tree has scrolled for a few frames: smooth scrolling
 * (`scroll-behavior: smooth`, common on :root) animates the harness's scrolls, the page's and a
 * replayer's, and a screenshot must show where they end.
 */
async function scrollsStill(roots: (Document | ShadowRoot)[], win: Window): Promise<void> {
  let quiet = 0;
  const moved = (): void => {
    quiet = 0;
  };
  // Scroll events do not bubble, and those in a shadow tree stop at its root: listen on each.
  for (const root of roots) root.addEventListener("scroll", moved, { capture: true, passive: true });
  const until = performance.now() + SETTLE_LIMIT_MS;
  try {
    while (quiet < STILL_FRAMES && performance.now() < until) {
      quiet++;
      await nextFrame(win);
    }
  } finally {
    for (const root of roots) root.removeEventListener("scroll", moved, { capture: true });
  }
}

/** Whether `el` shows within its frame's viewport (frames themselves are assumed shown). */
function onScreen(el: Element): boolean {
  const box = rect(el);
  const view = defaultView(ownerDocument(el));
  if (!view) return false;
  return box.bottom >= 0 && box.right >= 0 && box.top <= view.innerHeight && box.left <= view.innerWidth;
}

function loadedOrFailed(img: HTMLImageElement): Promise<unknown> {
  if (img.complete) return Promise.resolve();
  return new Promise((resolve) => {
    img.addEventListener("load", resolve, { once: true });
    img.addEventListener("error", resolve, { once: true });
  });
}

/** External SVG sprite documents (`<use href="icons.svg#x">`) a tree draws on screen. */
function sprites(root: Document | ShadowRoot): string[] {
  const urls: string[] = [];
  for (const use of queryAll(root, "use")) {
    const ref = getAttribute(use, "href") ?? getAttribute(use, "xlink:href") ?? "";
    if (ref === "" || ref.startsWith("#") || !onScreen(use)) continue;
    try {
      urls.push(new URL(ref, baseURI(use)).href.split("#")[0] ?? "");
    } catch {
      // an unparsable reference loads nothing
    }
  }
  return urls;
}

/** Whether `url` has been fetched by the document's window (the resource timing entry is there). */
function fetched(doc: Document, url: string): boolean {
  const view = defaultView(doc);
  if (!view) return true;
  return view.performance.getEntriesByType("resource").some((e) => e.name.split("#")[0] === url);
}

/**
 * Images (including lazy ones on screen), external sprites and web fonts of every tree and frame,
 * loaded and decoded. What is off screen is not waited for: a lazy image below the fold never
 * loads, and is not in the screenshot.
 */
async function contentLoaded(docs: Document[], roots: (Document | ShadowRoot)[], win: Window): Promise<void> {
  const images = roots.flatMap((root) => queryAll(root, "img")).filter(onScreen) as HTMLImageElement[];
  const waits: Promise<unknown>[] = images.map((img) =>
    loadedOrFailed(img).then(() => img.decode().catch(() => undefined)),
  );
  // Faces still loading, not `fonts.ready`: that waits for the document's own load too, which a
  // replayer's frame (opened, written, never closed) never finishes.
  for (const doc of docs) {
    fonts(doc).forEach((face) => {
      if (face.status === "loading") waits.push(face.loaded.catch(() => undefined));
    });
  }
  const pending = roots.flatMap((root) => {
    const doc = nodeType(root) === 9 ? (root as Document) : ownerDocument(root);
    return sprites(root).map((url) => [doc, url] as const);
  });
  waits.push(
    (async () => {
      while (pending.some(([doc, url]) => !fetched(doc, url))) await nextFrame(win);
    })(),
  );
  await limited(win, Promise.all(waits));
}

/** Finish finite animations, park infinite ones at their start; how many it had to act on. */
function settleAnimations(roots: (Document | ShadowRoot)[]): number {
  let acted = 0;
  for (const animation of roots.flatMap(treeAnimations)) {
    try {
      const end = animation.effect?.getComputedTiming().endTime;
      if (typeof end === "number" && Number.isFinite(end)) {
        if (animation.playState === "finished") continue;
        animation.finish();
      } else if (animation.playState === "running") {
        animation.pause();
        animation.currentTime = 0;
        paused.push(animation);
      } else if (animation.currentTime !== 0) {
        animation.currentTime = 0;
      } else {
        continue;
      }
      acted++;
    } catch {
      // An animation torn down meanwhile has nothing left to settle.
    }
  }
  return acted;
}

/**
 * Rounds of settling at most: content that arrives late (a replayer fills frames on their load
 * event) brings trees, animations, images and scrolls of its own.
 */
const SETTLE_ROUNDS = 5;

/**
 * Bring what is on screen to a timeless state, the same on the live page and in the replay:
 * scroll positions still, images, sprites and fonts loaded in every frame, finite animations
 * finished and infinite ones parked at their start (in every tree and frame), two frames drawn;
 * again while a round found new trees or animations to settle.
 * `win` is the window whose frames drive painting (the top window for a replay iframe).
 */
export async function settle(doc: Document, win: Window = window): Promise<void> {
  let seen: (Document | ShadowRoot)[] = [];
  for (let round = 0; round < SETTLE_ROUNDS; round++) {
    const { docs, roots } = trees(doc);
    await scrollsStill(roots, win);
    await contentLoaded(docs, roots, win);
    const acted = settleAnimations(roots);
    await nextFrame(win);
    await nextFrame(win);
    // The same trees (a replayer may swap a frame's document for a new one) and nothing to act on.
    const same = roots.length === seen.length && roots.every((root) => seen.includes(root));
    if (acted === 0 && same) return;
    seen = roots;
  }
}

export function resume(): void {
  for (const animation of paused.splice(0)) {
    try {
      animation.play();
    } catch {
      // Its element may be gone; nothing to resume.
    }
  }
}

/** Visit `root` and the open shadow trees and same-origin frames inside it, with each tree's
 * offset in `root`'s viewport. */
function eachTree(
  root: Document | ShadowRoot,
  offset: [number, number],
  visit: (tree: Document | ShadowRoot, offset: [number, number]) => void,
): void {
  visit(root, offset);
  for (const el of queryAll(root, "*")) {
    const shadow = shadowRoot(el);
    if (shadow) eachTree(shadow, offset, visit);
    const child = tagName(el) === "IFRAME" ? contentDocument(el) : null;
    if (child) {
      const box = rect(el);
      eachTree(child, [offset[0] + box.left + clientLeft(el), offset[1] + box.top + clientTop(el)], visit);
    }
  }
}

function matching(root: Document | ShadowRoot, selector: string): Element[] {
  try {
    return queryAll(root, selector);
  } catch {
    return []; // An invalid selector was already reported by scenario validation or the recorder.
  }
}

function closestMatch(el: Element, selector: string): boolean {
  try {
    return closest(el, selector) !== null;
  } catch {
    return false;
  }
}

interface Box {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Descendants looked at for overflow, at most: a blocked subtree can be a whole app. */
const MAX_PAINTED_NODES = 2000;
const CSS_PX = /-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?px/g;

/**
 * The viewport box `el` paints into, or null when it paints nothing: its border box, outline
 * and outer box shadows, and those of its descendants (text included) where it does not clip
 * them. The replay's placeholder of a blocked element, or a masked one, paints none of that.
 */
function paintedBox(el: Element): Box | null {
  let found: Box | null = null;
  const grow = (r: Box, by: Box = { left: 0, top: 0, right: 0, bottom: 0 }): void => {
    if (r.right <= r.left || r.bottom <= r.top) return; // no box (display: contents, empty)
    const b = { left: r.left - by.left, top: r.top - by.top, right: r.right + by.right, bottom: r.bottom + by.bottom };
    found = found
      ? {
          left: Math.min(found.left, b.left),
          top: Math.min(found.top, b.top),
          right: Math.max(found.right, b.right),
          bottom: Math.max(found.bottom, b.bottom),
        }
      : b;
  };
  const doc = ownerDocument(el);
  const view = defaultView(doc);
  const range = doc.createRange();
  let budget = MAX_PAINTED_NODES;
  const walk = (node: Element): void => {
    const style = view?.getComputedStyle(node);
    if (!style || style.display === "none") return;
    grow(rect(node), inkOutsets(style));
    if (style.overflowX !== "visible" || style.overflowY !== "visible") return; // clips the rest
    for (const child of childNodes(node)) {
      if (--budget < 0) return;
      if (nodeType(child) === 3) {
        range.selectNodeContents(child);
        grow(range.getBoundingClientRect());
      } else if (nodeType(child) === 1) {
        walk(child as Element);
      }
    }
  };
  walk(el);
  return found;
}

/** How far an element's outline and outer box shadows reach beyond its border box. */
function inkOutsets(style: CSSStyleDeclaration): Box {
  const out = { left: 0, top: 0, right: 0, bottom: 0 };
  if (style.outlineStyle !== "none") {
    const reach = Math.max(0, parseFloat(style.outlineWidth) + parseFloat(style.outlineOffset) || 0);
    out.left = out.top = out.right = out.bottom = reach;
  }
  if (style.boxShadow === "none") return out;
  // "rgba(0, 0, 0, 0.5) 2px 3px 4px 1px, ...": colours (with their commas) dropped first.
  for (const shadow of style.boxShadow.replace(/\([^)]*\)/g, "").split(",")) {
    if (/\binset\b/.test(shadow)) continue;
    const [x = 0, y = 0, blur = 0, spread = 0] = (shadow.match(CSS_PX) ?? []).map(parseFloat);
    out.left = Math.max(out.left, blur + spread - x);
    out.right = Math.max(out.right, blur + spread + x);
    out.top = Math.max(out.top, blur + spread - y);
    out.bottom = Math.max(out.bottom, blur + spread + y);
  }
  return out;
}

/** What a recorder leaves out of a recording, as selectors (Adapter.masks in Python). */
export interface Masks {
  /** Not recorded at all: excluded as painted. */
  block: string[];
  /** Text masked (in the subtree of a match): its glyphs, and the fields inside. */
  text: string[];
  /** Form fields (or editable blocks) whose value is masked or not recorded: their content. */
  fields: string[];
  /** Text and fields under these stay in the clear, whatever `text` and `fields` say. */
  unmask: string[];
}

/**
 * Viewport rectangles of what a recorder masks, blocks or cannot record on the live page:
 * excluded from the pixel score, and no more than masking legitimately changes. Blocked
 * elements as painted (overflow, outlines and shadows included); masked text as its glyphs, to
 * the end of each of its lines (a mask of another width moves what follows on the line); masked
 * fields as their content box (their border and background are recorded); frames whose content
 * no recorder can read (cross-origin, or sandboxed without allow-same-origin) as their content
 * box. Password fields a script turned into text fields stay masked (builtin, rrweb's
 * data-rr-is-password).
 */
export function maskedRects(doc: Document, masks: Masks): Rect[] {
  const out: Rect[] = [];
  const text = masks.text.join(", ");
  const fields = masks.fields.join(", ");
  const unmask = masks.unmask.join(", ");
  const clear = (el: Element): boolean => unmask !== "" && closestMatch(el, unmask);
  eachTree(doc, [0, 0], (root, offset) => {
    const push = (box: Box | null): void => {
      if (box) out.push([box.left + offset[0], box.top + offset[1], box.right - box.left, box.bottom - box.top]);
    };
    for (const selector of masks.block) for (const el of matching(root, selector)) push(paintedBox(el));
    for (const el of queryAll(root, "*")) {
      const name = localName(el);
      if (FIELD_TAGS.has(name)) {
        const masked =
          (name === "input" && wasPassword(el as HTMLInputElement)) ||
          (!clear(el) && ((fields !== "" && closestMatch(el, fields)) || (text !== "" && closestMatch(el, text))));
        if (masked) push(contentBox(el));
      } else if ((name === "iframe" || name === "frame") && contentDocument(el) === null) {
        push(contentBox(el));
      }
      if (text === "" && fields === "") continue;
      // Text of a masked element, and of an editable block masked as a field.
      const masked = !clear(el) && ((text !== "" && closestMatch(el, text)) || (fields !== "" && closestMatch(el, fields)));
      if (!masked || FIELD_TAGS.has(name)) continue;
      for (const child of childNodes(el)) if (nodeType(child) === 3) for (const box of lineRects(child)) push(box);
      for (const box of generatedRects(el)) push(box);
    }
  });
  return out;
}

const FIELD_TAGS = new Set(["input", "textarea", "select"]);

/** The box inside an element's border and padding: what a field shows its value in, a frame
 * its document in. */
function contentBox(el: Element): Box | null {
  const box = rect(el);
  const style = defaultView(ownerDocument(el))?.getComputedStyle(el);
  if (!style || style.display === "none" || box.width <= 0 || box.height <= 0) return null;
  const px = (v: string): number => parseFloat(v) || 0;
  return {
    left: box.left + px(style.borderLeftWidth) + px(style.paddingLeft),
    top: box.top + px(style.borderTopWidth) + px(style.paddingTop),
    right: box.right - px(style.borderRightWidth) - px(style.paddingRight),
    bottom: box.bottom - px(style.borderBottomWidth) - px(style.paddingBottom),
  };
}

/**
 * The block whose lines hold an inline node (its nearest ancestor that is not inline and not
 * sized by its content), and the boxes in between (a button, a span with a border, a flex item
 * as wide as its text): masked text resizes them.
 */
function lineBlock(node: Node): { block: Element | null; inlines: Element[] } {
  const inlines: Element[] = [];
  let at = parentElement(node);
  while (at) {
    const style = defaultView(ownerDocument(at))?.getComputedStyle(at);
    const display = style?.display ?? "";
    const root = getRootNode(at);
    const up = parentElement(at) ?? (nodeType(root) === 11 ? host(root as ShadowRoot) : null);
    const inline = display.startsWith("inline") || display === "contents";
    if (!inline && !(style && shrinksToText(style, up))) return { block: at, inlines };
    inlines.push(at);
    at = up;
  }
  return { block: null, inlines };
}

/**
 * Whether a block's width follows its text, like an inline-block's: a float, an absolutely
 * positioned box, or an item of a row flex container that does not grow (a button in a toolbar).
 * Masked text of another width then moves its far edge and what follows it in its container.
 */
function shrinksToText(style: CSSStyleDeclaration, parent: Element | null): boolean {
  if (style.cssFloat !== "none" || style.position === "absolute" || style.position === "fixed") return true;
  const outer = parent ? defaultView(ownerDocument(parent))?.getComputedStyle(parent) : null;
  return !!outer && outer.display.endsWith("flex") && !outer.flexDirection.startsWith("column") && parseFloat(style.flexGrow) === 0;
}

/**
 * A text node's glyphs (or an inline element's boxes), one box per line it is on, each
 * stretched to the end of its line (its block's content edge, in the text's direction) and over
 * the height of the inline boxes that hold it there: masked text of another width moves what
 * follows it on the line and resizes the boxes around it, never what is on other lines or
 * before it.
 */
function lineRects(text: Node): Box[] {
  const doc = ownerDocument(text);
  const range = doc.createRange();
  range.selectNodeContents(text);
  const { block, inlines } = lineBlock(text);
  const boxes = nodeType(text) === 1 ? (text as Element).getClientRects() : range.getClientRects();
  const edge = block ? contentBox(block) : null;
  const rtl = block ? defaultView(doc)?.getComputedStyle(block).direction === "rtl" : false;
  const around = inlines.flatMap((el) => Array.from(el.getClientRects()));
  const lines = Array.from(boxes).filter((r) => r.width > 0 && r.height > 0);
  const after = block ? nextBox(text, block) : null;
  const out: Box[] = [];
  for (const [i, line] of lines.entries()) {
    const box = { left: line.left, top: line.top, right: line.right, bottom: line.bottom };
    for (const r of around) {
      if (r.bottom <= line.top || r.top >= line.bottom) continue; // on another line
      box.top = Math.min(box.top, r.top);
      box.bottom = Math.max(box.bottom, r.bottom);
    }
    // The text refills the lines it wraps over; on its last line it moves only what follows.
    const moves = i < lines.length - 1 || (after !== null && after.top < line.bottom && after.bottom > line.top);
    if (edge && moves && rtl) box.left = Math.min(box.left, edge.left);
    else if (edge && moves) box.right = Math.max(box.right, edge.right);
    out.push(box);
  }
  return out;
}

/** A non-empty string in a computed `content` (masked text masks the strings CSS draws). */
const CONTENT_STRING = /"(?:[^"\\]|\\.)+"/;

/**
 * Where an element draws `content:` strings (::before, ::after), which masking stars like
 * its text: its lines, stretched like text's (an inline element), or its content box.
 */
function generatedRects(el: Element): Box[] {
  const view = defaultView(ownerDocument(el));
  if (!view) return [];
  const draws = ["::before", "::after"].some((pseudo) => CONTENT_STRING.test(view.getComputedStyle(el, pseudo).content));
  if (!draws) return [];
  if (!view.getComputedStyle(el).display.startsWith("inline")) {
    const box = contentBox(el);
    return box ? [box] : [];
  }
  return lineRects(el);
}

/** Nodes looked at for what follows a text in its block, at most (then: assume something). */
const MAX_FOLLOWING = 50;

/** The first box painted after `node` in `block`'s flow, or null when nothing follows. */
function nextBox(node: Node, block: Element): DOMRect | null {
  const doc = ownerDocument(node);
  let at: Node = node;
  for (let steps = 0; steps < MAX_FOLLOWING; steps++) {
    let next = nextSibling(at);
    while (next === null) {
      const up = parentNode(at);
      if (up === null || up === block) return null;
      at = up;
      next = nextSibling(at);
    }
    at = next;
    let boxes: DOMRect[] = [];
    if (nodeType(at) === 3) {
      const range = doc.createRange();
      range.selectNodeContents(at);
      boxes = Array.from(range.getClientRects());
    } else if (nodeType(at) === 1) {
      boxes = Array.from((at as Element).getClientRects());
    }
    const box = boxes.find((r) => r.width > 0 || r.height > 0);
    if (box) return box;
  }
  return rect(block); // too far to look: as if something followed on every line
}

/**
 * Viewport rectangles, relative to `frame`'s document, of `elements` (which may sit in shadow
 * roots or in iframes nested inside `frame`): the content a replayer says its recorder masked
 * on purpose. A field or a frame: its content box; an element holding text: the lines of that
 * text (see lineRects); anything else (a canvas not captured, a placeholder): its own box.
 */
export function elementRects(elements: Element[], frame: HTMLIFrameElement): Rect[] {
  const out: Rect[] = [];
  const top = contentDocument(frame);
  for (const el of elements) {
    const name = localName(el);
    let boxes: Box[];
    if (FIELD_TAGS.has(name) || name === "iframe" || name === "frame") {
      const box = contentBox(el);
      boxes = box ? [box] : [];
    } else {
      boxes = childNodes(el)
        .filter((child) => nodeType(child) === 3)
        .flatMap(lineRects);
      boxes.push(...generatedRects(el));
      if (boxes.length === 0) boxes = [rect(el)];
    }
    let [x, y] = [0, 0];
    for (let doc = ownerDocument(el); doc !== top; ) {
      const outer = defaultView(doc)?.frameElement;
      if (!outer) break;
      const hostBox = rect(outer);
      x += hostBox.left + clientLeft(outer);
      y += hostBox.top + clientTop(outer);
      doc = ownerDocument(outer);
    }
    for (const box of boxes) {
      if (box.right > box.left && box.bottom > box.top) {
        out.push([box.left + x, box.top + y, box.right - box.left, box.bottom - box.top]);
      }
    }
  }
  return out;
}
