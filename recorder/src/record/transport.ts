// Batches to the ingest endpoint: gzip where the browser has CompressionStream, keepalive fetch
// when small enough, beacons when the page hides. Every batch is numbered (seq) so a lost one shows.

import { FORMAT_VERSION } from "../format";
import type { Event } from "../format";
import { BlobC, Compress, ResponseC, add, beacon, doFetch, stringify, timeOrigin } from "./native";

// keepalive fetches and beacons share a 64 KiB in-flight budget: stay under it per request.
const LIMIT = 60000;

let url = "";
let session = "";
let seq = 0;
/** Events, or their JSON text when already encoded (the sliced first snapshot). */
type Item = Event | string;
let queue: Item[] = [];
let settledAll: Promise<unknown> = Promise.resolve();
/** Batches made but not yet handed to fetch (still compressing): a hiding page beacons them. */
const unsent = new Set<{ json: string }>();

export function setup(ingestUrl: string, id: string): void {
  url = ingestUrl;
  session = id;
}

export const enqueue = (e: Item): void => add(queue, e);

const text = (e: Item): string => (typeof e == "string" ? e : stringify(e));

const body = (events: Item[]): string => {
  let list = "";
  for (const e of events) list += (list ? "," : "") + text(e);
  return `{"v":${FORMAT_VERSION},"session":${stringify(session)},"page":${timeOrigin},"seq":${seq++},"events":[${list}]}`;
};

/** Post what is queued. No Content-Encoding or binary Content-Type header: either would cost a CORS preflight. */
export function send(): void {
  if (!queue.length) return;
  const item = { json: body(queue) };
  queue = [];
  unsent.add(item);
  const done = post(item).catch(() => {});
  const before = settledAll;
  settledAll = done.then(() => before);
}

async function post(item: { json: string }): Promise<void> {
  let data: string | ArrayBuffer = item.json;
  if (Compress)
    data = await new ResponseC(new BlobC([data]).stream().pipeThrough(new Compress("gzip"))).arrayBuffer();
  if (!unsent.delete(item)) return; // went by beacon meanwhile
  const init = { method: "POST", body: data };
  try {
    await doFetch(url, { ...init, keepalive: (typeof data == "string" ? data.length : data.byteLength) < LIMIT });
  } catch {
    await doFetch(url, init); // over the keepalive budget: try once more without
  }
}

/** Resolves when every request sent so far has been answered (or failed). */
export const settled = (): Promise<void> => settledAll.then(() => undefined);

/** The page is hiding and may not come back: beacons survive an unload, uncompressed, under 60 KB each. */
export function beaconAll(): void {
  for (const item of unsent) ship(item.json);
  unsent.clear();
  let chunk: Item[] = [];
  let size = 0;
  for (const e of queue) {
    const n = new BlobC([text(e)]).size;
    if (size + n > LIMIT && chunk.length) {
      ship(body(chunk));
      chunk = [];
      size = 0;
    }
    add(chunk, e);
    size += n;
  }
  if (chunk.length) ship(body(chunk));
  queue = [];
}

function ship(json: string): void {
  if (!beacon?.(url, json)) doFetch(url, { method: "POST", body: json, keepalive: true }).catch(() => {});
}
