// Batches to the ingest endpoint: gzip where the browser has CompressionStream, keepalive fetch
// when small enough, beacons when the page hides. Every batch is numbered (seq) so a lost one shows.

import { FORMAT_VERSION } from "../format";
import type { Event } from "../format";
import { BlobC, Compress, Encoder, ResponseC, add, beacon, doFetch, setT, stringify, timeOrigin } from "./native";

// keepalive fetches and beacons share a 64 KiB in-flight budget: stay under it per request.
const LIMIT = 60000;

let url = "";
let session = "";
let seq = 0;
/** Events, or their JSON text in pieces when already encoded (the sliced first snapshot). */
type Item = Event | string[];
let queue: Item[] = [];
let settledAll: Promise<unknown> = Promise.resolve();
/** A batch's JSON: text, and events not yet encoded (stringified as it is compressed). */
type Part = string | Event;
/** Batches made but not yet handed to fetch (still compressing): a hiding page beacons them. */
const unsent = new Set<{ parts: Part[] }>();
// A batch is compressed this much at a time, one task each: a 30,000-node snapshot is ~1.5 MB
// of JSON, and encoding it in one go would be a long task of its own.
const CHUNK = 65536;

export function setup(ingestUrl: string, id: string): void {
  url = ingestUrl;
  session = id;
}

export const enqueue = (e: Item): void => add(queue, e);
const encoded = (e: Item): e is string[] => typeof e[0] == "string";

/** A batch's JSON, in pieces: a second's events of a page adding 1,000 nodes a frame are
 * megabytes of JSON, too much to stringify in one task. */
function body(events: Item[]): Part[] {
  const parts: Part[] = [`{"v":${FORMAT_VERSION},"session":${stringify(session)},"page":${timeOrigin},"seq":${seq++},"events":[`];
  let first = true;
  for (const e of events) {
    if (!first) add(parts, ",");
    first = false;
    if (encoded(e)) for (const p of e) add(parts, p);
    else add(parts, e);
  }
  add(parts, "]}");
  return parts;
}

/** Post what is queued. No Content-Encoding or binary Content-Type header: either would cost a CORS preflight. */
export function send(): void {
  if (!queue.length) return;
  const item = { parts: body(queue) };
  queue = [];
  unsent.add(item);
  const done = post(item).catch(() => {});
  const before = settledAll;
  settledAll = done.then(() => before);
}

const text = (p: Part): string => (typeof p == "string" ? p : stringify(p));

function join(parts: Part[]): string {
  let s = "";
  for (const p of parts) s += text(p);
  return s;
}

/** `parts` as a byte stream, about CHUNK characters per task. */
function chunks(parts: Part[]): ReadableStream<BufferSource> {
  const encoder = new Encoder();
  let i = 0;
  return new ReadableStream({
    pull: (c) =>
      new Promise<void>((done) =>
        setT(() => {
          let piece = "";
          while (i < parts.length && piece.length < CHUNK) piece += text(parts[i++]!);
          if (piece) c.enqueue(encoder.encode(piece));
          if (i >= parts.length) c.close();
          done();
        }, 0),
      ),
  });
}

async function post(item: { parts: Part[] }): Promise<void> {
  const data: string | ArrayBuffer = Compress
    ? await new ResponseC(chunks(item.parts).pipeThrough(new Compress("gzip"))).arrayBuffer()
    : join(item.parts);
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
  for (const item of unsent) ship(item.parts);
  unsent.clear();
  let chunk: Item[] = [];
  let size = 0;
  for (const e of queue) {
    const n = new BlobC(encoded(e) ? e : [stringify(e)]).size;
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

function ship(parts: Part[]): void {
  const json = join(parts);
  if (!beacon?.(url, json)) doFetch(url, { method: "POST", body: json, keepalive: true }).catch(() => {});
}
