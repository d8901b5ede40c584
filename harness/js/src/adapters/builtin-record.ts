// replaycheck's own recorder behind the harness protocol (window.__rcRecorder).
import { record } from "../../../../recorder/src/record/index";

declare const __rcConfig: {
  ingestUrl: string;
  session: string;
  sampleRate: number;
  options: Record<string, unknown>;
};

const recorder = record({
  ...__rcConfig.options,
  ingestUrl: __rcConfig.ingestUrl,
  session: __rcConfig.session,
  sampleRate: __rcConfig.sampleRate,
});

(window as unknown as { __rcRecorder: unknown }).__rcRecorder = {
  checkpoint(name: string): void {
    recorder?.checkpoint(name);
  },
  flush: (): Promise<void> => (recorder ? recorder.flush() : Promise.resolve()),
};
