// Skip-inactivity: where a session has no user activity for a while, derived from its events.
// User activity is what a person does (pointer, keys, scroll, focus, resize, navigation, a page
// load); DOM mutations alone (an animation, a ticker) are not: a tab left open while a carousel
// turns is still idle.

import { EventType } from "../../recorder/src/format";

/** A stretch of the replay to jump over: [from, to) in ms from the start. */
export interface Span {
  from: number;
  to: number;
}

/** Shorter pauses play as recorded: reading a page for a few seconds is part of the session. */
export const IDLE_MS = 5000;
/** Kept around each activity so a skip lands just before the next thing happens. */
const MARGIN_MS = 1000;

/** The events as the replayer orders and times them: well-formed ones, times never decreasing. */
function replayTimes(events: readonly unknown[]): { type: number; t: number; raw: unknown[] }[] {
  let last = -Infinity;
  const out: { type: number; t: number; raw: unknown[] }[] = [];
  for (const e of events) {
    if (!Array.isArray(e) || !Number.isInteger(e[0]) || !Number.isFinite(e[1])) continue;
    last = Math.max(last, e[1] as number);
    out.push({ type: e[0] as number, t: last, raw: e });
  }
  return out;
}

/** Times (ms from the first event) of user activity, ascending. */
export function activityTimes(events: readonly unknown[]): number[] {
  const timed = replayTimes(events);
  const start = timed[0]?.t ?? 0;
  const times: number[] = [];
  for (const { type, t, raw } of timed) {
    switch (type) {
      case EventType.MouseMove: {
        // Sampled positions, each at t + dt: a long drag is activity all along.
        const positions = raw[2];
        if (Array.isArray(positions)) {
          for (const p of positions) if (Array.isArray(p) && Number.isFinite(p[2])) times.push(t - start + (p[2] as number));
        }
        times.push(t - start);
        break;
      }
      case EventType.Meta:
      case EventType.Snapshot:
      case EventType.Input:
      case EventType.Scroll:
      case EventType.Mouse:
      case EventType.Viewport:
      case EventType.Navigation:
      case EventType.Focus:
        times.push(t - start);
        break;
    }
  }
  return times.sort((a, b) => a - b);
}

/** Gaps of more than IDLE_MS between activities (and after the last one), margins kept. */
export function inactiveSpans(activity: readonly number[], duration: number): Span[] {
  const spans: Span[] = [];
  const points = [0, ...activity.filter((t) => t >= 0 && t <= duration), duration];
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    if (b - a <= IDLE_MS) continue;
    // The session's end is no activity to land before: a trailing gap is skipped to the end.
    const to = i === points.length - 1 ? b : b - MARGIN_MS;
    spans.push({ from: a + MARGIN_MS, to });
  }
  return spans;
}

/** The span `time` is inside of, if any (spans sorted, disjoint). */
export function spanAt(spans: readonly Span[], time: number): Span | undefined {
  let lo = 0;
  let hi = spans.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = spans[mid]!;
    if (time < s.from) hi = mid - 1;
    else if (time >= s.to) lo = mid + 1;
    else return s;
  }
  return undefined;
}
