// The recorder's loader (global `replaycheckLoader`), the recommended install: a few hundred
// bytes in the page's <head> that fetch the recorder once the page has loaded, so its download,
// compile and first snapshot never delay the load event. The snapshot then shows the page as
// loaded; clicks and errors before that are not recorded (load record.js directly for those).

import type { RecordOptions } from "../record/mask";

interface RecorderGlobal {
  replaycheckRecord?: { record(options: RecordOptions): unknown };
}

/**
 * Load the script at `src` after the load event (and one more task, so the page's own load
 * handlers run first); then, given `options`, start `replaycheckRecord.record(options)`.
 */
export function load(src: string, options?: RecordOptions): void {
  try {
    const w = window;
    const go = (): void => {
      setTimeout(() => {
        try {
          const s = document.createElement("script");
          s.src = src;
          s.async = true;
          if (options) s.onload = () => (w as RecorderGlobal).replaycheckRecord?.record(options);
          (document.head || document.documentElement).appendChild(s);
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
