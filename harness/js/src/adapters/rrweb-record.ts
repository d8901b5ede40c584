// rrweb recorder as a site would deploy it, plus the harness protocol (window.__rcRecorder):
// checkpoint marks as custom events, JS errors as custom events (rrweb records none itself,
// so integrations add them), and a flush the harness can await.
import { record } from "@rrweb/record";
import { Transport, type TransportConfig } from "./transport";

declare const __rcConfig: TransportConfig & { options: Record<string, unknown>; sampleRate: number };

export const CHECKPOINT_TAG = "replaycheck.checkpoint";
export const ERROR_TAG = "replaycheck.error";

const transport = new Transport(__rcConfig);
const recording = Math.random() < __rcConfig.sampleRate;

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
};
