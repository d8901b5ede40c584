// Checkpoint determinism and masked-region geometry, run in live pages and on replay documents.

import { wasPassword } from "./passwords";

type Rect = [number, number, number, number];

// Animations paused by settle(), resumed by resume() so the scenario continues as it would have.
const paused: Animation[] = [];

function nextFrame(win: Window): Promise<void> {
  return new Promise((resolve) => {
    win.requestAnimationFrame(() => resolve());
    // Background or throttled frames may never tick: do not hang a checkpoint on them.
    win.setTimeout(resolve, 100);
  });
}

function allAnimations(doc: Document): Animation[] {
  const found = doc.getAnimations();
  for (const frame of Array.from(doc.querySelectorAll("iframe"))) {
    const child = (frame as HTMLIFrameElement).contentDocument;
    if (child) found.push(...allAnimations(child));
  }
  return found;
}

/**
 * Finish finite animations, park infinite ones at their start, then wait two frames:
 * the live page and the replay are then drawn in the same, timeless state.
 * `win` is the window whose frames drive painting (the top window for a replay iframe).
 */
export async function settle(doc: Document, win: Window = window): Promise<void> {
  for (const animation of allAnimations(doc)) {
    try {
      const end = animation.effect?.getComputedTiming().endTime;
      if (typeof end === "number" && Number.isFinite(end)) {
        animation.finish();
      } else if (animation.playState === "running") {
        animation.pause();
        animation.currentTime = 0;
        paused.push(animation);
      } else {
        animation.currentTime = 0;
      }
    } catch {
      // An animation torn down meanwhile has nothing left to settle.
    }
  }
  await nextFrame(win);
  await nextFrame(win);
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

type Keep = (el: Element) => boolean;

function collectRects(
  root: Document | ShadowRoot,
  selector: string,
  offset: [number, number],
  out: Rect[],
  keep: Keep,
): void {
  let matched: Element[] = [];
  try {
    matched = Array.from(root.querySelectorAll(selector));
  } catch {
    return; // An invalid selector was already reported by scenario validation or the recorder.
  }
  for (const el of matched) {
    const box = keep(el) ? paintedBox(el) : null;
    if (box) out.push([box.left + offset[0], box.top + offset[1], box.right - box.left, box.bottom - box.top]);
  }
  for (const el of Array.from(root.querySelectorAll("*"))) {
    const shadow = el.shadowRoot;
    if (shadow) collectRects(shadow, selector, offset, out, keep);
    const child = el.tagName === "IFRAME" ? (el as HTMLIFrameElement).contentDocument : null;
    if (child) {
      const box = el.getBoundingClientRect();
      const inner: [number, number] = [offset[0] + box.left + el.clientLeft, offset[1] + box.top + el.clientTop];
      collectRects(child, selector, inner, out, keep);
    }
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
  const doc = el.ownerDocument;
  const view = doc.defaultView;
  const range = doc.createRange();
  let budget = MAX_PAINTED_NODES;
  const walk = (node: Element): void => {
    const style = view?.getComputedStyle(node);
    if (!style || style.display === "none") return;
    grow(node.getBoundingClientRect(), inkOutsets(style));
    if (style.overflowX !== "visible" || style.overflowY !== "visible") return; // clips the rest
    for (const child of Array.from(node.childNodes)) {
      if (--budget < 0) return;
      if (child.nodeType === Node.TEXT_NODE) {
        range.selectNodeContents(child);
        grow(range.getBoundingClientRect());
      } else if (child.nodeType === Node.ELEMENT_NODE) {
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

/**
 * Viewport rectangles of what a recorder masks or blocks, as painted (overflow, outlines and
 * shadows included): excluded from the pixel score. Password fields a script turned into text
 * fields are among them: recorders keep masking them (builtin, rrweb's data-rr-is-password).
 */
export function maskedRects(doc: Document, selectors: string[]): Rect[] {
  const out: Rect[] = [];
  const all: Keep = () => true;
  for (const selector of selectors) collectRects(doc, selector, [0, 0], out, all);
  collectRects(doc, "input", [0, 0], out, (el) => wasPassword(el as HTMLInputElement));
  return out;
}

/** An inline element's text reflows its line when masked: the block that holds the line. */
function lineBox(el: Element): Element {
  let at = el;
  for (;;) {
    const view = at.ownerDocument.defaultView;
    if (!view || !view.getComputedStyle(at).display.startsWith("inline")) return at;
    const parent = at.parentElement ?? ((at.getRootNode() as ShadowRoot).host || null);
    if (!parent) return at;
    at = parent;
  }
}

/**
 * Viewport rectangles, relative to `frame`'s document, of the line boxes of `elements` (which
 * may sit in shadow roots or in iframes nested inside `frame`): the regions a replayer says its
 * recorder masked.
 */
export function elementRects(elements: Element[], frame: HTMLIFrameElement): Rect[] {
  const out: Rect[] = [];
  for (const el of elements) {
    const box = lineBox(el).getBoundingClientRect();
    if (box.width <= 0 || box.height <= 0) continue;
    let [x, y] = [box.left, box.top];
    for (let doc = el.ownerDocument; doc !== frame.contentDocument; ) {
      const host = doc.defaultView?.frameElement;
      if (!host) break;
      const hostBox = host.getBoundingClientRect();
      x += hostBox.left + host.clientLeft;
      y += hostBox.top + host.clientTop;
      doc = host.ownerDocument;
    }
    out.push([x, y, box.width, box.height]);
  }
  return out;
}
