// Checkpoint determinism and masked-region geometry, run in live pages and on replay documents.

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

function collectRects(root: Document | ShadowRoot, selector: string, offset: [number, number], out: Rect[]): void {
  let matched: Element[] = [];
  try {
    matched = Array.from(root.querySelectorAll(selector));
  } catch {
    return; // An invalid selector was already reported by scenario validation or the recorder.
  }
  for (const el of matched) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.height > 0) out.push([box.left + offset[0], box.top + offset[1], box.width, box.height]);
  }
  for (const el of Array.from(root.querySelectorAll("*"))) {
    if (el.shadowRoot) collectRects(el.shadowRoot, selector, offset, out);
    if (el.tagName === "IFRAME") {
      const child = (el as HTMLIFrameElement).contentDocument;
      if (child) {
        const box = el.getBoundingClientRect();
        collectRects(child, selector, [offset[0] + box.left + el.clientLeft, offset[1] + box.top + el.clientTop], out);
      }
    }
  }
}

/** Viewport rectangles of elements a recorder masks or blocks: excluded from the pixel score. */
export function maskedRects(doc: Document, selectors: string[]): Rect[] {
  const out: Rect[] = [];
  for (const selector of selectors) collectRects(doc, selector, [0, 0], out);
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
