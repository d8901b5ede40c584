// The JSON API of `replaycheck serve` (docs/serve.md), typed.

export type MarkerKind = "navigation" | "click" | "error" | "rage_click" | "dead_click" | "quick_back" | "error_click" | "checkpoint";

export interface Marker {
  t: number; // ms from the session's start (= the replayer's offset)
  kind: MarkerKind;
  label: string;
}

export interface Session {
  id: string;
  format: "builtin" | "rrweb";
  start: number;
  end: number;
  duration_ms: number;
  active_ms: number;
  pages: string[];
  clicks: number;
  inputs: number;
  errors: number;
  rage_clicks: number;
  dead_clicks?: number;
  quick_backs?: number;
  error_clicks?: number;
  navigations: number;
  browser: string | null;
  viewport: { width: number; height: number } | null;
  user_id: string | null;
  user_props: Record<string, string | number | boolean> | null;
  gaps: number;
  ended: boolean;
}

export interface SessionDetail extends Session {
  markers: Marker[];
}

export interface SessionPage {
  total: number;
  sessions: Session[];
}

export interface Me {
  user: string;
  project: string;
  csrf: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Where an unauthenticated viewer goes: the login page, back here afterwards. */
export function toLogin(): void {
  location.assign(`/login?next=${encodeURIComponent(location.pathname + location.search)}`);
}

/** A same-origin path to go to after login: never another origin (`//evil`, `https:`). */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/";
  return next;
}

let csrf: string | undefined;

async function send(path: string, init: RequestInit, accept: string): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("Accept", accept);
  const method = (init.method ?? "GET").toUpperCase();
  if (method !== "GET" && method !== "HEAD" && path !== "/api/login") {
    csrf ??= (await me()).csrf;
    headers.set("X-CSRF-Token", csrf);
  }
  const response = await fetch(path, { ...init, headers, credentials: "same-origin" });
  if (response.status === 401 && path !== "/api/login") {
    toLogin();
    // Never settles: the page is going away, nothing should render an error meanwhile.
    return new Promise<Response>(() => undefined);
  }
  if (!response.ok) throw new ApiError(response.status, await reason(response));
  return response;
}

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await send(path, init, "application/json");
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

async function reason(response: Response): Promise<string> {
  const text = await response.text();
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === "string") return body.error;
  } catch {
    // not JSON: the text itself
  }
  return text.trim() || `HTTP ${response.status}`;
}

let meOnce: Promise<Me> | undefined;

export function me(): Promise<Me> {
  meOnce ??= request<Me>("/api/me");
  return meOnce;
}

export async function login(name: string, password: string): Promise<Me> {
  const answer = await request<Me>("/api/login", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ name, password }),
  });
  csrf = answer.csrf;
  return answer;
}

export function logout(): Promise<void> {
  return request<void>("/api/logout", { method: "POST" });
}

export function sessions(query: URLSearchParams): Promise<SessionPage> {
  return request<SessionPage>(`/api/sessions?${query.toString()}`);
}

export function session(id: string): Promise<SessionDetail> {
  return request<SessionDetail>(`/api/sessions/${encodeURIComponent(id)}`);
}

export interface Batches {
  format: "builtin" | "rrweb";
  batches: unknown[];
}

export function batches(id: string): Promise<Batches> {
  return request<Batches>(`/api/sessions/${encodeURIComponent(id)}/batches`);
}

export function deleteSession(id: string): Promise<void> {
  return request<void>(`/api/sessions/${encodeURIComponent(id)}`, { method: "DELETE" });
}

// Issue 13: errors, frustration signals, funnels, segments, clips --------------------------

/** One of the user's last actions before a moment. */
export interface Action {
  t: number;
  kind: string;
  label: string;
}

export interface Issue {
  fingerprint: string;
  kind: "error" | "console" | "network";
  title: string;
  frame: string | null;
  path: string | null;
  count: number;
  sessions: number;
  users: number;
  first_ms: number;
  last_ms: number;
  daily: number[]; // per day, oldest first, today last
}

/** A session and the moment to open it at (`open_at`, ms from its start). */
export interface Moment {
  session: Session;
  t: number;
  open_at: number;
  label?: string | null;
  detail?: string | null;
  before?: Action[];
  reached?: number[];
}

export interface Moments {
  total: number;
  sessions: Moment[];
}

export interface SessionError {
  t: number;
  kind: string;
  message: string;
  stack: string | null;
  url: string | null;
  fingerprint: string | null;
  before: Action[];
}

export type SignalKind = "rage_click" | "dead_click" | "quick_back" | "error_click";

export interface Ranked {
  kind: SignalKind;
  key: string;
  count: number;
  sessions: number;
  example: string | null;
}

export type StepKind = "page" | "click" | "event";

export interface FunnelStep {
  kind: StepKind;
  value: string;
}

export interface FunnelDef {
  steps: FunnelStep[];
  window_ms?: number;
  segment?: unknown;
}

export interface FunnelResult {
  steps: (FunnelStep & { sessions: number; conversion: number; from_previous: number; median_ms_from_previous: number | null })[];
  window_ms: number;
}

export interface SavedSegment {
  name: string;
  segment: unknown;
  updated_by: string;
  updated_ms: number;
}

const enc = encodeURIComponent;

export function issues(kind: string | null): Promise<{ issues: Issue[] }> {
  return request(`/api/issues${kind ? `?kind=${enc(kind)}` : ""}`);
}

export function issue(fp: string): Promise<Issue> {
  return request(`/api/issues/${enc(fp)}`);
}

export function issueSessions(fp: string, limit: number, offset: number): Promise<Moments> {
  return request(`/api/issues/${enc(fp)}/sessions?limit=${limit}&offset=${offset}`);
}

export function sessionErrors(id: string): Promise<{ errors: SessionError[] }> {
  return request(`/api/sessions/${enc(id)}/errors`);
}

export function frustration(kind: string | null, by: string): Promise<{ by: string; rows: Ranked[] }> {
  return request(`/api/frustration?by=${enc(by)}${kind ? `&kind=${enc(kind)}` : ""}`);
}

export function frustrationSessions(kind: string, by: string, key: string, limit = 50): Promise<Moments> {
  return request(`/api/frustration/sessions?kind=${enc(kind)}&by=${enc(by)}&key=${enc(key)}&limit=${limit}`);
}

export function funnel(encoded: string): Promise<FunnelResult> {
  return request(`/api/funnel?funnel=${enc(encoded)}`);
}

export function funnelDropoff(encoded: string, step: number, limit = 50): Promise<Moments & { step: number }> {
  return request(`/api/funnel/dropoff?funnel=${enc(encoded)}&step=${step}&limit=${limit}`);
}

export function savedSegments(): Promise<{ segments: SavedSegment[] }> {
  return request("/api/segments");
}

export function saveSegment(name: string, segment: unknown): Promise<{ name: string; segment: unknown }> {
  return request(`/api/segments/${enc(name)}`, {
    method: "PUT",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ segment }),
  });
}

export function deleteSegment(name: string): Promise<void> {
  return request<void>(`/api/segments/${enc(name)}`, { method: "DELETE" });
}

/** A clip of [from, to) ms as an animated WebP, and the file name the server gives it. */
export async function clip(id: string, from: number, to: number): Promise<{ blob: Blob; name: string }> {
  const response = await send(`/api/sessions/${enc(id)}/clip?from=${Math.round(from)}&to=${Math.round(to)}`, {}, "image/webp");
  const named = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") ?? "");
  return { blob: await response.blob(), name: named?.[1] ?? `${id}-${Math.round(from)}-${Math.round(to)}.webp` };
}
