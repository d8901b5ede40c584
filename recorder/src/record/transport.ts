// Delivery to the ingest endpoint (docs/stream-format.md, "Batches" and "Delivery"). A batch is
// delivered only when answered 2xx; until then it is kept, retried with backoff, and at pagehide
// written to sessionStorage for the next page of the session. What is given up is said in the
// stream (Lost, End), so a gap is never silent. Bodies stay under 60 KB: larger batches go in
// chunks, each gzipped on its own, the first leaving as soon as it is ready.

import { EventType, FORMAT_VERSION } from "../format";
import type { Event, LostEntry } from "../format";
import {
  Abort,
  Compress,
  PromiseC,
  ResponseC,
  add,
  clearT,
  doFetch,
  now,
  parse,
  round,
  setT,
  storage,
  stringify,
  timeOrigin,
  beacon,
  ts,
} from "./native";

// keepalive fetches and beacons share a 64 KiB in-flight budget: no body above this.
const LIMIT = 60000;
// At pagehide, keepalive bodies up to this much; the rest of the budget is the End batch's.
const HIDE = 48000;
// JSON text per chunk before compression; halved until the gzipped body fits in LIMIT. Escaping,
// encoding and deflating one is one task, so a chunk is no bigger than this (one run of
// bench_ab.py put the longest at 48 ms a load at 240,000 characters, 30 at this size; the next
// did not repeat it).
const SLICE = 120000;
// Text encoded per task: a 30,000-node snapshot is ~1.5 MB of JSON, too much for one task.
const STEP = 65536;
const KEY = "rc1:";
const STORE = 3e6; // sessionStorage characters we may use (browsers allow ~5 M per origin)
const QUEUE = 8e6; // characters of undelivered text kept in memory
const TRIES = 10;
const TIMEOUT = 20000;
const IN_FLIGHT = 2;

/** Events, or their JSON text in pieces when already written (the first snapshot, rounds of mutations). */
type Item = Event | string[];
type Part = string | Event;

/** One request: a whole batch or one chunk of it, with what it takes to send it again. */
interface Req {
  url: string;
  page: number;
  seq: number;
  n: number; // events of the whole batch (for loss accounting)
  body: string; // JSON text
  gz?: ArrayBuffer; // body gzipped, when ready
  tries: number;
  at: number; // not before (performance.now())
  busy?: 1;
  kept?: 1; // sent by keepalive at hiding, answer unknown
  snap?: 1; // holds the first snapshot: dropped last
}

/** A batch still being turned into requests: its JSON text so far and the parts still to encode. */
interface Job {
  url: string;
  session: string;
  page: number;
  seq: number;
  first: number;
  n: number;
  parts: Part[];
  i: number; // next part
  text: string; // encoded, not yet in a request
  chunk: number; // next chunk's index (0 and not chunked yet: may go whole)
  snap?: 1;
  kept?: 1;
}

/** What a site can read for its own monitoring (recorder.stats()). */
export interface Stats {
  batches: number;
  events: number;
  sent: number; // requests answered 2xx
  retried: number; // attempts after a failure
  dropped: number; // batches given up
  droppedEvents: number;
  queued: number; // requests and batches not yet delivered
}

let url = "";
let session = "";
let seq = 0;
let count = 0; // events put in batches so far
let queue: Item[] = [];
let snapQueued = false;
let jobs: Job[] = [];
let working = false;
let reqs: Req[] = [];
let flying = 0;
let timer = 0;
let ended = false;
const lostList: LostEntry[] = [];
const stats: Stats = { batches: 0, events: 0, sent: 0, retried: 0, dropped: 0, droppedEvents: 0, queued: 0 };
const waiters: (() => void)[] = [];

export const enqueue = (e: Item): void => {
  // An event in JSON pieces is a snapshot ("[1,...") or a round of mutations ("[2,...").
  if ((e[0] as string)[1] == "1") snapQueued = true;
  add(queue, e);
};

export const setup = (ingestUrl: string, id: string): void => {
  url = ingestUrl;
  session = id;
  restore();
};

const head = (j: Job | Req | { page: number; seq: number }, s = session): string =>
  `{"v":${FORMAT_VERSION},"session":${stringify(s)},"page":${j.page},"seq":${j.seq}`;

/** Cut what is queued into a batch and start turning it into requests. */
export const send = (): void => {
  if (!queue.length) return;
  const events = queue;
  queue = [];
  const job: Job = { url, session, page: timeOrigin, seq: seq++, first: count, n: events.length, parts: [], i: 0, text: "", chunk: 0 };
  if (snapQueued) job.snap = 1;
  snapQueued = false;
  count += events.length;
  stats.batches = seq;
  stats.events = count;
  add(job.parts, `${head(job)},"first":${job.first},"events":[`);
  events.forEach((e, k) => {
    if (k) add(job.parts, ",");
    if (typeof e[0] == "string") for (const p of e as string[]) add(job.parts, p);
    else add(job.parts, e as Event);
  });
  add(job.parts, "]}");
  add(jobs, job);
  bound();
  work();
};

const text = (p: Part): string => (typeof p == "string" ? p : stringify(p));

/** Encode a job's parts up to `size` characters (all of them: Infinity). */
const encode = (j: Job, size: number): void => {
  let s = j.text;
  while (j.i < j.parts.length && s.length < size) s += text(j.parts[j.i++]!);
  j.text = s;
};

// A Response's body, not a Blob's stream: a Blob's bytes go to the browser process and back.
const gzip = (s: string): Promise<ArrayBuffer> =>
  new ResponseC(new ResponseC(s).body!.pipeThrough(new Compress!("gzip"))).arrayBuffer();

/** Jobs into requests, one job at a time, a step per task; each request leaves once made. */
const work = (): void => {
  if (working) return;
  const j = jobs[0];
  if (!j) return;
  working = true;
  const next = (): void => {
    working = false;
    if (j.i >= j.parts.length && !j.text) forget(j);
    work();
    settle();
  };
  setT(() => {
    encode(j, j.text.length + STEP);
    const done = j.i >= j.parts.length;
    if (!done && j.text.length < SLICE) return next();
    const take = (size: number, whole: boolean): Promise<void> => {
      let cut = whole ? j.text.length : Math.min(size, j.text.length);
      const c = j.text.charCodeAt(cut - 1);
      if (!whole && c >= 0xd800 && c < 0xdc00) cut--; // never between the halves of a surrogate pair
      const slice = j.text.slice(0, cut);
      const last = done && cut == j.text.length;
      const r: Req = {
        url: j.url,
        page: j.page,
        seq: j.seq,
        n: j.n,
        body: whole ? slice : `${head(j, j.session)},"first":${j.first},"n":${j.n},"chunk":${j.chunk},"last":${last},"data":${stringify(slice)}}`,
        tries: 0,
        at: 0,
      };
      if (j.snap) r.snap = 1;
      return (Compress ? gzip(r.body).then((gz) => void (r.gz = gz)) : PromiseC.resolve()).then(() => {
        if (jobs.indexOf(j) < 0) return; // given up meanwhile
        // Uncompressed (no CompressionStream), a body is taken at its most: 3 UTF-8 bytes a character.
        if ((r.gz ? r.gz.byteLength : r.body.length * 3) > LIMIT && cut > 1000) return take(round(cut / (whole ? 4 : 2)), false);
        j.chunk++;
        j.text = j.text.slice(cut);
        add(reqs, r);
        bound();
        pump();
      });
    };
    take(SLICE, !j.chunk && done && j.text.length <= SLICE).then(next, next);
  }, 0);
};

// Delivery -------------------------------------------------------------------------------------

const pump = (): void => {
  clearT(timer);
  timer = 0;
  if (navigator.onLine === false) return; // the `online` listener starts us again
  const t = now();
  let wake = Infinity;
  for (const r of reqs) {
    if (flying >= IN_FLIGHT) break;
    if (r.busy || (Compress && !r.gz)) continue;
    if (r.at > t) wake = Math.min(wake, r.at);
    else post(r);
  }
  if (wake < Infinity) timer = setT(pump, wake - t);
};

const post = (r: Req): void => {
  r.busy = 1;
  flying++;
  const abort = Abort ? new Abort() : null;
  const stop = setT(() => abort?.abort(), TIMEOUT);
  const finish = (status: number, after: string | null): void => {
    clearT(stop);
    r.busy = undefined;
    flying--;
    if (status >= 200 && status < 300) {
      stats.sent++;
      forget(r);
    } else if (status && status != 408 && status != 429 && status < 500) give(r, `HTTP ${status}`);
    else if (++r.tries >= TRIES) give(r, `${TRIES} attempts`);
    else {
      stats.retried++;
      // Retry-After (seconds or a date) when the server says; else 2 s doubling to 30 s, +-50%.
      let wait = after ? (+after >= 0 ? +after * 1000 : Date.parse(after) - Date.now()) : NaN;
      if (!(wait >= 0)) wait = Math.min(30000, 2000 * 2 ** (r.tries - 1)) * (0.5 + Math.random());
      r.at = now() + Math.min(wait, 600000);
    }
    pump();
    settle();
  };
  doFetch(r.url, { method: "POST", body: r.gz || r.body, signal: abort?.signal }).then(
    (res) => finish(res.status, res.headers.get("Retry-After")),
    () => finish(0, null),
  );
};

/** Requests and jobs for which `gone` holds are let go of. */
const drop = (gone: (x: Req | Job) => boolean): void => {
  reqs = reqs.filter((x) => !gone(x));
  jobs = jobs.filter((x) => !gone(x));
};
const forget = (o: Req | Job): void => drop((x) => x == o);

/** Give batch (page, seq) up: its requests and job go, and the stream says so. */
const give = (r: { page: number; seq: number; n: number }, why: string): void => {
  drop((x) => x.page == r.page && x.seq == r.seq);
  stats.dropped++;
  stats.droppedEvents += r.n;
  if (r.page != timeOrigin) return; // a previous page's, sent for it: its End already said "held"
  const entry: LostEntry = [r.seq, r.n, `dropped: ${why}`];
  add(lostList, entry);
  if (!ended) {
    enqueue([EventType.Lost, ts(), [entry]]);
    send(); // now: a gap should be explained as soon as it exists
  }
};

/** Keep what is undelivered bounded: the oldest batch goes first, the first snapshot last. */
const bound = (): void => {
  for (;;) {
    let size = 0;
    for (const r of reqs) size += r.body.length;
    for (const j of jobs) size += j.text.length;
    const victim = reqs.find((r) => !r.snap && !r.busy);
    if ((size < QUEUE && reqs.length < 1000) || !victim) return;
    give(victim, "queue full");
  }
};

// Flush and stats ------------------------------------------------------------------------------

const pending = (): number => reqs.length + jobs.length;

const settle = (): void => {
  if (!pending()) for (const w of waiters.splice(0)) w();
};

/** Resolves when everything queued so far is delivered (or given up), or after `ms`. */
export const settled = (ms: number): Promise<Stats> => {
  return new PromiseC<void>((done) => {
    if (!pending()) return done();
    add(waiters, done);
    setT(done, ms);
  }).then(readStats);
};

export const readStats = (): Stats => ({ ...stats, queued: pending() });

/** Back online: what waits for a retry goes now. */
export const online = (): void => {
  for (const r of reqs) r.at = 0;
  pump();
};

// Hiding and the next page ---------------------------------------------------------------------

/**
 * The page is hidden and may never run again (`end`: it is being left, pagehide). Everything
 * not yet delivered is written to sessionStorage for the next page of the session; what fits
 * in the keepalive budget goes now too (a closed tab loses its sessionStorage: duplicates are
 * harmless, the ingest keeps one of each). At `end`, the page's last batch carries End with the
 * batches it has not delivered: "held" (stored) or "dropped: ...".
 */
export const hide = (end: boolean): void => {
  if (!ended) send();
  const store = storage();
  clearStored(store);
  let used = 0;
  let budget = HIDE;
  const held: LostEntry[] = [];
  const keep = (page: number, s: number, n: number, value: unknown[]): void => {
    const v = stringify(value);
    let ok = false;
    try {
      if (store && used + v.length < STORE) {
        store.setItem(`${KEY}${used}`, v);
        used += v.length;
        ok = true;
      }
    } catch {
      // over the quota: said as dropped below
    }
    if (page == timeOrigin) add(held, [s, n, ok ? "held" : "dropped: storage full"]);
  };
  // Sent by keepalive; if the page lives on (a hidden tab), a 2xx still means delivered.
  const go = (x: Req | Job, body: string | ArrayBuffer, size: number): void => {
    if (x.kept || size > budget) return;
    budget -= size;
    x.kept = 1;
    doFetch(x.url, { method: "POST", body, keepalive: true }).then((res) => res.ok && (forget(x), settle()), () => {});
  };
  for (const j of jobs) {
    encode(j, Infinity);
    if (!j.text) continue;
    keep(j.page, j.seq, j.n, [j.url, j.session, j.page, j.seq, j.first, j.n, j.chunk, j.text]);
    // A small batch not compressed yet goes as it is: there is no time left to compress it.
    if (!j.chunk && j.text.length < 8000) go(j, j.text, j.text.length * 3);
  }
  for (const r of reqs) {
    keep(r.page, r.seq, r.n, [r.url, r.page, r.seq, r.n, r.body]);
    if (r.gz) go(r, r.gz, r.gz.byteLength);
  }
  if (!end || ended) return;
  ended = true;
  // A batch in chunks is listed once.
  const lost = [...lostList, ...held].filter((e, k, all) => all.findIndex((x) => x[0] == e[0]) == k);
  const last = { page: timeOrigin, seq: seq++ };
  const body = `${head(last)},"first":${count++},"events":[${stringify([EventType.End, ts(), lost])}]}`;
  keep(0, 0, 0, [url, timeOrigin, last.seq, 1, body]); // for the next page, should this one fail
  if (!beacon?.(url, body)) doFetch(url, { method: "POST", body, keepalive: true }).catch(() => {});
};

/** The page is back (back-forward cache, tab shown): what is in memory is the truth again. */
export const shown = (): void => {
  clearStored(storage());
  ended = false;
  for (const x of [...reqs, ...jobs]) x.kept = undefined;
  pump();
};

/** Our keys in `store` (read, then removed, by `each`); false when storage refused. */
const stored = (store: Storage | null, each: (key: string) => void): boolean => {
  try {
    for (let k = store ? store.length : 0; k--; ) {
      const key = store!.key(k);
      if (key?.startsWith(KEY)) each(key);
    }
    return true;
  } catch {
    return false; // storage refused: nothing was kept either
  }
};

const clearStored = (store: Storage | null): unknown => stored(store, (key) => store!.removeItem(key));

/** What the previous page of this tab could not deliver: sent first, under its own page and seq. */
const restore = (): void => {
  const store = storage();
  const found: string[] = [];
  if (!stored(store, (key) => add(found, store!.getItem(key)!))) return;
  clearStored(store);
  for (const value of found)
    try {
      const v = parse(value) as unknown[];
      if (v.length == 5) {
        const [u, page, s, n, body] = v as [string, number, number, number, string];
        const r: Req = { url: u, page, seq: s, n, body, tries: 0, at: 0 };
        add(reqs, r);
        if (Compress) gzip(body).then((gz) => ((r.gz = gz), pump()), () => forget(r));
      } else {
        const [u, sess, page, s, first, n, chunk, t] = v as [string, string, number, number, number, number, number, string];
        add(jobs, { url: u, session: sess, page, seq: s, first, n, parts: [], i: 0, text: t, chunk });
      }
    } catch {
      // not ours after all
    }
  work();
  pump();
};
