// The JSON API of `replaycheck serve` (docs/serve.md), typed.

export type MarkerKind = "navigation" | "click" | "error" | "rage_click" | "checkpoint";

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

async function request<T>(path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set("Accept", "application/json");
  const method = (init.method ?? "GET").toUpperCase();
  if (method !== "GET" && method !== "HEAD" && path !== "/api/login") {
    csrf ??= (await me()).csrf;
    headers.set("X-CSRF-Token", csrf);
  }
  const response = await fetch(path, { ...init, headers, credentials: "same-origin" });
  if (response.status === 401 && path !== "/api/login") {
    toLogin();
    // Never settles: the page is going away, nothing should render an error meanwhile.
    return new Promise<T>(() => undefined);
  }
  if (!response.ok) throw new ApiError(response.status, await reason(response));
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
