// replaycheck's own replayer behind the harness replay protocol (window.__rcReplay).
import type { Event } from "../../../../recorder/src/format";
import { Replayer } from "../../../../recorder/src/replay/index";

let replayer: Replayer | undefined;

(window as unknown as { __rcReplay: unknown }).__rcReplay = {
  load(events: Event[], _options: Record<string, unknown>): void {
    const root = document.getElementById("root");
    if (!root) throw new Error("replay page has no #root");
    replayer = new Replayer(events, { root, showCursor: true });
  },
  async seek(name: string): Promise<void> {
    if (!replayer) throw new Error("no stream loaded");
    const offset = replayer.checkpointTime(name);
    if (offset === undefined) throw new Error(`checkpoint '${name}' is not in the stream`);
    replayer.seek(offset);
    // The fidelity screenshot shows the page, not the viewer's cursor or click ripple.
    replayer.setOverlays(false);
    await replayer.ready();
  },
  maskedElements(): Element[] {
    return replayer ? replayer.maskedElements() : [];
  },
  frame(): HTMLIFrameElement {
    if (!replayer) throw new Error("no stream loaded");
    return replayer.iframe;
  },
};
