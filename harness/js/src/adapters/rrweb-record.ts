// rrweb recorder as a site would deploy it, plus the harness protocol (window.__rcRecorder):
// checkpoint marks as custom events, JS errors as custom events (rrweb records none itself,
// so integrations add them), a flush the harness can await, and stats() (events recorded).
import { record } from "@rrweb/record";
import { Transport, type TransportConfig } from "./transport";

declare const __rcConfig: TransportConfig & { options: Record<string, unknown>; sampleRate: number };

export const CHECKPOINT_TAG = "replaycheck.checkpoint";
export const ERROR_TAG = "replaycheck.error";
const EMITTED_KEY = "__rcEmitted:"; // harness/drive.py

interface Harness {
  __rcEmitted?: (stats: { page: string; events: number }) => Promise<void>;
}

const recording = Math.random() < __rcConfig.sampleRate;

/** What this page recorded, told to the harness as it leaves (harness/drive.py, EMITTED_*): its
 * last batches go at pagehide, unseen by the browser's request log. Nothing waits on the harness
 * (asking the page before it navigates, or any beforeunload listener, delays the leaving and
 * changes what arrives), and it runs before the transport's pagehide, so the page's last requests
 * leave as late as without it. DevTools drops binding calls made at a navigation's pagehide, not
 * a closing tab's: sessionStorage, read by the harness later, covers navigations. */
function tell(stats: { page: string; events: number }): void {
  try {
    sessionStorage.setItem(EMITTED_KEY + stats.page, String(stats.events));
  } catch {
    // Storage refused (full, or blocked): the harness counts what it saw.
  }
  void (window as unknown as Harness).__rcEmitted?.(stats);
}

if (recording) addEventListener("pagehide", () => tell(transport.stats()), { capture: true });
const transport = new Transport(__rcConfig);

if (recording) {
  record({ ...__rcConfig.options, emit: (event) => transport.push(event) });
  const report = (message: string): void => {
    try {
      record.addCustomEvent(ERROR_TAG, { message });
    } catch {
      // Recording not started yet (before load): the error is not part of the stream.
    }
  };
  addEventListener("error", (e) => report(String(e.message)));
  addEventListener("unhandledrejection", (e) => report(String(e.reason)));
}

(window as unknown as { __rcRecorder: unknown }).__rcRecorder = {
  checkpoint(name: string): void {
    if (recording) record.addCustomEvent(CHECKPOINT_TAG, { name });
  },
  flush: (deadlineMs?: number): Promise<void> => transport.flush(deadlineMs),
  stats: () => transport.stats(),
};
