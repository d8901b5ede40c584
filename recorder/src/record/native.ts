// Builtins captured when the bundle is evaluated, before page scripts run: a page that later
// replaces Array.prototype.push, JSON.stringify, window.MutationObserver, fetch or setTimeout
// keeps working, and so do we. Our code never calls Array.prototype.push (see `add`).

export const win = window;
export const doc = document;
export const stringify = JSON.stringify;
export const parse = JSON.parse;
export const PromiseC = Promise;
export const MO = win.MutationObserver;
export const apply = Reflect.apply;
export const getDesc = Object.getOwnPropertyDescriptor;
export const defProp = Object.defineProperty;
export const isArray = Array.isArray;
export const round = Math.round;
export const ResponseC = Response;
export const Compress = win.CompressionStream as typeof CompressionStream | undefined;
export const now = performance.now.bind(performance);
export const timeOrigin = performance.timeOrigin;
export const setT = win.setTimeout.bind(win);
export const clearT = win.clearTimeout.bind(win);
export const doFetch = win.fetch?.bind(win);
export const beacon = navigator.sendBeacon?.bind(navigator);
export const Abort = win.AbortController as typeof AbortController | undefined;
/** sessionStorage, or null where it is refused (sandboxed frames, storage blocked). */
export const storage = (): Storage | null => {
  try {
    return win.sessionStorage;
  } catch {
    return null;
  }
};
const listen = EventTarget.prototype.addEventListener;

/** Append without Array.prototype.push (pages do replace it). */
export const add = <T>(list: T[], item: T): void => {
  list[list.length] = item;
};

/** A capture-phase passive listener: sees events before page handlers can stop them. */
export const on = (target: EventTarget, type: string, fn: (e: Event) => void, capture = true): void =>
  apply(listen, target, [type, fn, { capture, passive: true }]);

/** Milliseconds since the page's time origin, whole. */
export const ts = (): number => round(now());
