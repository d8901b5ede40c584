// replaycheck's own recorder behind the harness protocol (window.__rcRecorder), with the insights
// plugin in (console text, failed requests' URLs and click labels are recorded, so the harness's
// masking verdict covers them).
import { insights } from "../../../../recorder/src/insights/index";
import { record } from "../../../../recorder/src/record/index";

// Where record() finds the plugin, as when insights.js runs before it.
(window as unknown as { replaycheckInsights: unknown }).replaycheckInsights = insights;

declare const __rcConfig: {
  ingestUrl: string;
  session: string;
  sampleRate: number;
  options: Record<string, unknown>;
};

function start(): void {
  // Loaded by the loader (harness/adapters/builtin.py): what it saw scroll, as a site passes it.
  const loader = (window as unknown as { replaycheckLoader?: { scrolled?: WeakSet<Node> } }).replaycheckLoader;
  const recorder = record(
    {
      ...__rcConfig.options,
      ingestUrl: __rcConfig.ingestUrl,
      session: __rcConfig.session,
      sampleRate: __rcConfig.sampleRate,
    },
    loader?.scrolled,
  );
  (window as unknown as { __rcRecorder: unknown }).__rcRecorder = {
    checkpoint(name: string): void {
      recorder?.checkpoint(name);
    },
    // Resolves with the delivery stats by the deadline (ms), delivered or not.
    flush: (ms?: number): Promise<unknown> => (recorder ? recorder.flush(ms) : Promise.resolve(null)),
    stats: (): unknown => recorder?.stats() ?? null,
  };
}

// Loaded after the page (by the loader): start in a task of its own, as the loader does with
// record.js, so evaluating the script and starting are two short tasks rather than one long one.
if (document.readyState == "complete") setTimeout(start, 0);
else start();
