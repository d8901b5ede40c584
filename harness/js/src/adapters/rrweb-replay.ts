// rrweb replayer behind the harness replay protocol (window.__rcReplay).
import { Replayer } from "@rrweb/replay";
import type { eventWithTime } from "@rrweb/types";
import type { playerConfig } from "@rrweb/replay";

const CHECKPOINT_TAG = "replaycheck.checkpoint";

let replayer: Replayer | undefined;
let events: eventWithTime[] = [];

(window as unknown as { __rcReplay: unknown }).__rcReplay = {
  load(stream: eventWithTime[], options: Partial<playerConfig>): void {
    events = stream;
    const root = document.getElementById("root");
    if (!root) throw new Error("replay page has no #root");
    // rrweb's defaults otherwise (focus replayed, as its docs have it), plus what the recording
    // needs (the adapter's replay_options); no cursor tail in a fidelity screenshot.
    replayer = new Replayer(events, { ...options, root, mouseTail: false, showWarning: false });
  },
  seek(name: string): void {
    if (!replayer) throw new Error("no stream loaded");
    const mark = events.find((e) => e.type === 5 && e.data.tag === CHECKPOINT_TAG && (e.data.payload as { name?: string }).name === name);
    if (!mark) throw new Error(`checkpoint '${name}' is not in the stream`);
    // rrweb applies events strictly before the seek time: +1 ms keeps those stamped with the mark's.
    // Images, fonts, scrolls and animations settle in the harness (settle() in page.ts), as live.
    replayer.pause(mark.timestamp - events[0]!.timestamp + 1);
  },
  frame(): HTMLIFrameElement | undefined {
    return replayer?.iframe;
  },
};
