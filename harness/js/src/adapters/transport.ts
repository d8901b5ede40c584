// Ships recorded events to the harness ingest endpoint the way a site would: batched POSTs,
// keepalive where the body allows it, sendBeacon on pagehide. Batches are numbered per page
// load and say how many events the page batched before them (`first`), and stats() counts what
// rrweb emitted: the harness can see a lost batch and its size, the last one's included.

export interface TransportConfig {
  ingestUrl: string;
  session: string;
}

// keepalive fetch and sendBeacon share a 64 KiB in-flight quota; stay below it per request.
const KEEPALIVE_LIMIT = 60_000;
const FLUSH_INTERVAL_MS = 1000;

export class Transport {
  private readonly buffer: unknown[] = [];
  private readonly page = String(performance.timeOrigin);
  private seq = 0;
  private batched = 0; // events put in batches so far
  private emitted = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly config: TransportConfig) {
    setInterval(() => void this.flush(), FLUSH_INTERVAL_MS);
    addEventListener("pagehide", () => this.beacon(), { capture: true });
  }

  push(event: unknown): void {
    this.emitted++;
    this.buffer.push(event);
  }

  /** What this page recorded so far, for the harness's loss accounting. */
  stats(): { page: string; events: number } {
    return { page: this.page, events: this.emitted };
  }

  private body(events: unknown[]): string {
    const { session } = this.config;
    const first = this.batched;
    this.batched += events.length;
    return JSON.stringify({ session, page: this.page, seq: this.seq++, first, events });
  }

  /** Post everything buffered; resolves when every request so far has been answered, or after
   * `deadlineMs` at the latest (a hanging ingest must not hold the caller). */
  flush(deadlineMs?: number): Promise<void> {
    if (this.buffer.length > 0) {
      const body = this.body(this.buffer.splice(0));
      const request = fetch(this.config.ingestUrl, {
        method: "POST",
        body,
        keepalive: body.length < KEEPALIVE_LIMIT,
        headers: { "Content-Type": "text/plain" },
      }).then(
        () => undefined,
        () => undefined,
      );
      this.pending.add(request);
      void request.then(() => this.pending.delete(request));
    }
    const answered = Promise.all(this.pending).then(() => undefined);
    if (deadlineMs === undefined) return answered;
    return Promise.race([answered, new Promise<void>((done) => setTimeout(done, deadlineMs))]);
  }

  /** The page is going away: beacons survive the unload where fetches may not. */
  private beacon(): void {
    let chunk: unknown[] = [];
    let size = 0;
    const send = (): void => {
      if (chunk.length === 0) return;
      const body = this.body(chunk);
      if (!navigator.sendBeacon(this.config.ingestUrl, body)) void fetch(this.config.ingestUrl, { method: "POST", body });
      chunk = [];
      size = 0;
    };
    for (const event of this.buffer.splice(0)) {
      const length = JSON.stringify(event).length;
      if (size + length > KEEPALIVE_LIMIT) send();
      chunk.push(event);
      size += length;
    }
    send();
  }
}
