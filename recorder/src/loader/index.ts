// The recorder's loader (global `replaycheckLoader`), the recommended install: a few hundred
// bytes in the page's <head> that fetch the recorder once the page has loaded, so its download,
// compile and first snapshot never delay the load event. The snapshot then shows the page as
// loaded; clicks and errors before that are not recorded (load record.js directly for those).

import type { RecordOptions } from "../record/mask";

interface RecorderGlobal {
  replaycheckRecord?: { record(options: RecordOptions, scrolled: WeakSet<EventTarget>): unknown };
}

/** The loader's options: record()'s, and `insights` (load the insights plugin too). */
export type LoaderOptions = RecordOptions & { insights?: boolean };

/**
 * What scrolled since load() was called (the document, elements of its light tree): a recorder
 * started after the load reads those elements' scroll positions, not every element's style to
 * find the ones that could have scrolled (a fifth of its snapshot's cost on a 30,000-node table).
 */
export const scrolled = new WeakSet<EventTarget>();

/**
 * Load the script at `src` after the load event (and one more task, so the page's own load
 * handlers run first); then, given `options`, start `replaycheckRecord.record(options,
 * scrolled)`. With `options.insights`, the insights plugin (insights.js, beside `src`: console errors and warnings,
 * failed requests, click targets) is fetched at the same time, and record() starts once both
 * have run (or failed to load: then recording starts without it).
 */
export function load(src: string, options?: LoaderOptions): void {
  try {
    const w = window;
    w.addEventListener("scroll", (e) => scrolled.add(e.target!), { capture: true, passive: true });
    const go = (): void => {
      setTimeout(() => {
        try {
          let n = options?.insights ? 2 : 1;
          const done = (): void => {
            if (!--n && options) (w as RecorderGlobal).replaycheckRecord?.record(options, scrolled);
          };
          const script = (url: string): void => {
            const s = document.createElement("script");
            s.src = url;
            s.async = true;
            s.onload = s.onerror = done;
            (document.head || document.documentElement).appendChild(s);
          };
          script(src);
          if (n > 1) script(new URL("insights.js", new URL(src, document.baseURI)).href);
        } catch {
          // never throw into the page
        }
      });
    };
    if (document.readyState == "complete") go();
    else w.addEventListener("load", go, { once: true });
  } catch {
    // never throw into the page
  }
}
