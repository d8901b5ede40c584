// The session list: filters, sorting and paging, all of it in the page's query string (the
// API's own parameters, docs/serve.md) so that a filtered list can be shared and reloaded.

import { ApiError, sessions } from "./api";
import type { Session, SessionPage } from "./api";
import { h, fill } from "./dom";
import { ago, shortUrl, span, when } from "./format";
import { conditionCount, emptySegment, fromBase64Url, fromJson, savedControls, segmentBuilder, toBase64Url, toJson } from "./segment";
import type { GroupState } from "./segment";
import { topBar } from "./shell";

const SORTS = ["start", "duration", "active", "clicks", "errors"] as const;
type SortKey = (typeof SORTS)[number];
const LIMITS = [25, 50, 100, 200];
const DEFAULT_LIMIT = 50;
/** Query parameters the list understands; anything else in the URL is dropped. */
const KEYS = ["url", "error", "rage", "min_duration", "max_duration", "from", "to", "user", "prop", "segment", "sort", "limit", "offset"];

/** The page's query, cleaned: what the API is asked. */
export function listQuery(search: string): URLSearchParams {
  const given = new URLSearchParams(search);
  const out = new URLSearchParams();
  for (const [key, value] of given) if (KEYS.includes(key) && value !== "") out.append(key, value);
  return out;
}

function sortOf(q: URLSearchParams): { key: SortKey; desc: boolean } {
  const raw = q.get("sort") ?? "-start";
  const key = raw.replace(/^-/, "");
  return (SORTS as readonly string[]).includes(key) ? { key: key as SortKey, desc: raw.startsWith("-") } : { key: "start", desc: true };
}

function intOf(q: URLSearchParams, key: string, fallback: number): number {
  const n = Number(q.get(key));
  return q.has(key) && Number.isFinite(n) ? Math.trunc(n) : fallback;
}

/** The segment a query carries, as the builder's state (null: none, or not readable). */
function segmentOf(q: URLSearchParams): GroupState | null {
  const raw = q.get("segment");
  if (!raw) return null;
  try {
    return fromJson(fromBase64Url(raw));
  } catch {
    return null;
  }
}

/** yyyy-mm-dd of a local day <-> epoch ms of its first (from) or last (to) millisecond. */
function dayToMs(day: string, end: boolean): string {
  const [y, m, d] = day.split("-").map(Number);
  if (!y || !m || !d) return "";
  return String(new Date(y, m - 1, end ? d + 1 : d).getTime() - (end ? 1 : 0));
}

function msToDay(ms: string | null): string {
  const n = Number(ms);
  if (ms === null || ms === "" || !Number.isFinite(n)) return "";
  const d = new Date(n);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function secondsToMs(value: string): string {
  const n = Number(value);
  return value.trim() === "" || !Number.isFinite(n) || n < 0 ? "" : String(Math.round(n * 1000));
}

function msToSeconds(ms: string | null): string {
  const n = Number(ms);
  return ms === null || ms === "" || !Number.isFinite(n) ? "" : String(n / 1000);
}

interface Fields {
  url: HTMLInputElement;
  user: HTMLInputElement;
  prop: HTMLInputElement;
  min_duration: HTMLInputElement;
  max_duration: HTMLInputElement;
  from: HTMLInputElement;
  to: HTMLInputElement;
  error: HTMLInputElement;
  rage: HTMLInputElement;
}

export function listPage(root: HTMLElement): void {
  document.title = "Sessions · replaycheck";
  const f: Fields = {
    url: h("input", { name: "url", type: "search", placeholder: "/checkout", autocomplete: "off" }),
    user: h("input", { name: "user", placeholder: "u-42", autocomplete: "off" }),
    prop: h("input", { name: "prop", placeholder: "plan:pro, country:de", autocomplete: "off" }),
    min_duration: h("input", { name: "min_duration", type: "number", min: 0, step: "any", placeholder: "min", inputmode: "decimal" }),
    max_duration: h("input", { name: "max_duration", type: "number", min: 0, step: "any", placeholder: "max", inputmode: "decimal" }),
    from: h("input", { name: "from", type: "date" }),
    to: h("input", { name: "to", type: "date" }),
    error: h("input", { name: "error", type: "checkbox", value: "1" }),
    rage: h("input", { name: "rage", type: "checkbox", value: "1" }),
  };
  // The segment: AND/OR groups of conditions (service/segments.py), applied as ?segment=.
  const seg = { root: segmentOf(listQuery(location.search)) ?? emptySegment() };
  const segToggle = h("button", { type: "button", class: "btn seg-toggle", id: "segment-toggle", "aria-expanded": "false", "aria-controls": "segment-panel" });
  const segApply = h("button", { type: "button", class: "btn primary", id: "segment-apply" }, "Apply segment");
  const segClear = h("button", { type: "button", class: "btn ghost", id: "segment-clear" }, "Remove segment");
  const segDirty = h("span", { class: "seg-dirty muted", id: "segment-dirty", hidden: true }, "Not applied yet");
  const builder = segmentBuilder(seg, () => (segDirty.hidden = false));
  const applySegment = (): void => {
    const json = toJson(seg.root);
    const q = listQuery(location.search);
    if (json === null) q.delete("segment");
    else q.set("segment", toBase64Url(json));
    q.delete("offset");
    segDirty.hidden = true;
    go(q);
  };
  segApply.addEventListener("click", applySegment);
  segClear.addEventListener("click", () => {
    seg.root = emptySegment();
    builder.render();
    applySegment();
  });
  const saved = savedControls(
    () => toJson(seg.root),
    (segment) => {
      seg.root = fromJson(segment) ?? emptySegment();
      builder.render();
      applySegment();
    },
  );
  const segPanel = h(
    "section",
    { class: "segment-panel", id: "segment-panel", "aria-label": "Segment", hidden: true },
    h("div", { class: "seg-panel-head" }, h("h2", {}, "Segment"), h("span", { class: "muted" }, "Conditions on what happened in the session, combined with AND / OR.")),
    builder.el,
    h("div", { class: "seg-actions" }, segApply, segClear, segDirty, h("div", { class: "spacer" }), saved),
  );
  // Enter in a condition's field applies the segment, as Enter applies the simple filters.
  segPanel.addEventListener("keydown", (e) => {
    const target = e.target as HTMLElement;
    if (e.key === "Enter" && target instanceof HTMLInputElement && builder.el.contains(target)) {
      e.preventDefault();
      applySegment();
    }
  });
  segToggle.addEventListener("click", () => {
    segPanel.hidden = !segPanel.hidden;
    segToggle.setAttribute("aria-expanded", segPanel.hidden ? "false" : "true");
  });
  const showSegment = (q: URLSearchParams): void => {
    const raw = q.get("segment");
    let n = 0;
    try {
      n = raw ? conditionCount(fromBase64Url(raw)) : 0;
    } catch {
      n = 0;
    }
    fill(segToggle, "Segment", n ? h("span", { class: "count-pill" }, `${n} ${n === 1 ? "condition" : "conditions"}`) : null);
    segToggle.classList.toggle("active", n > 0);
    if (n && segPanel.hidden) {
      segPanel.hidden = false;
      segToggle.setAttribute("aria-expanded", "true");
    }
  };

  const clear = h("button", { type: "button", class: "btn ghost", id: "clear-filters" }, "Clear");
  const form = h(
    "form",
    { id: "filters", class: "filters", role: "search" },
    field("Page URL contains", f.url, "grow"),
    field("User id", f.user),
    field("User property", f.prop),
    h("div", { class: "field" }, h("span", { class: "field-label" }, "Duration (s)"), h("div", { class: "range" }, f.min_duration, h("span", { class: "dash" }, "–"), f.max_duration)),
    h("div", { class: "field" }, h("span", { class: "field-label" }, "Started"), h("div", { class: "range" }, f.from, h("span", { class: "dash" }, "–"), f.to)),
    h(
      "div",
      { class: "field toggles" },
      h("label", { class: "toggle" }, f.error, h("span", {}, "Has error")),
      h("label", { class: "toggle" }, f.rage, h("span", {}, "Has rage click")),
    ),
    // Filters apply as they change; the submit button is there for Enter (implicit submission).
    h("div", { class: "field actions" }, h("button", { type: "submit", class: "visually-hidden", id: "apply-filters", tabindex: -1 }, "Apply"), segToggle, clear),
  );

  const summary = h("span", { id: "total", class: "total" });
  const heads = SORTS.map((key) => [key, h("button", { type: "button", class: "sort", "data-sort": key })] as const);
  const sortButton = (key: SortKey): HTMLButtonElement => heads.find(([k]) => k === key)![1];
  const th = (label: string, key?: SortKey, cls?: string): HTMLTableCellElement => {
    if (!key) return h("th", { scope: "col", class: cls }, label);
    const button = sortButton(key);
    button.append(label, h("span", { class: "sort-arrow", "aria-hidden": "true" }));
    return h("th", { scope: "col", class: cls, "data-sort": key }, button);
  };
  const tbody = h("tbody");
  const table = h(
    "table",
    { id: "sessions", class: "sessions" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        th("Started", "start"),
        th("Session"),
        th("User"),
        th("Duration", "duration", "num"),
        th("Active", "active", "num"),
        th("Pages", undefined, "num"),
        th("Clicks", "clicks", "num"),
        th("Errors", "errors", "num"),
        th("Rage", undefined, "num"),
        th("Browser"),
      ),
    ),
    tbody,
  );
  const pageInfo = h("span", { id: "page-info", class: "page-info" });
  const prev = h("button", { type: "button", class: "btn", id: "prev" }, "‹ Previous");
  const next = h("button", { type: "button", class: "btn", id: "next" }, "Next ›");
  const limit = h("select", { id: "limit", "aria-label": "Rows per page" }, ...LIMITS.map((n) => h("option", { value: n }, `${n} per page`)));
  const status = h("div", { id: "list-status", class: "list-status", role: "status" });

  root.replaceChildren(
    topBar(), // the nav bar names the page
    h(
      "main",
      { class: "list-page" },
      h("div", { class: "page-head" }, h("h1", {}, "Sessions"), summary),
      form,
      segPanel,
      h("div", { class: "table-card" }, status, h("div", { class: "table-scroll" }, table), h("div", { class: "pager" }, pageInfo, h("div", { class: "pager-buttons" }, limit, prev, next))),
    ),
  );

  /** The form's values into the query (durations s -> ms, days -> epoch ms), back to page 1. */
  const fromForm = (): URLSearchParams => {
    const q = listQuery(location.search);
    for (const key of ["url", "user", "prop", "min_duration", "max_duration", "from", "to", "error", "rage", "offset"]) q.delete(key);
    const text = (key: string, value: string): void => {
      if (value.trim()) q.set(key, value.trim());
    };
    text("url", f.url.value);
    text("user", f.user.value);
    // Several properties, comma-separated: each its own `prop` (the API ANDs them).
    for (const p of f.prop.value.split(/\s*,\s*/)) if (p.includes(":")) q.append("prop", p.trim());
    text("min_duration", secondsToMs(f.min_duration.value));
    text("max_duration", secondsToMs(f.max_duration.value));
    if (f.from.value) text("from", dayToMs(f.from.value, false));
    if (f.to.value) text("to", dayToMs(f.to.value, true));
    if (f.error.checked) q.set("error", "1");
    if (f.rage.checked) q.set("rage", "1");
    return q;
  };

  const toForm = (q: URLSearchParams): void => {
    f.url.value = q.get("url") ?? "";
    f.user.value = q.get("user") ?? "";
    f.prop.value = q.getAll("prop").join(", ");
    f.min_duration.value = msToSeconds(q.get("min_duration"));
    f.max_duration.value = msToSeconds(q.get("max_duration"));
    f.from.value = msToDay(q.get("from"));
    f.to.value = msToDay(q.get("to"));
    f.error.checked = q.get("error") === "1";
    f.rage.checked = q.get("rage") === "1";
    const n = Math.min(200, Math.max(1, intOf(q, "limit", DEFAULT_LIMIT)));
    // A size from a shared URL that the menu lacks: shown as it is, not as the default.
    if (!LIMITS.includes(n) && !limit.querySelector(`option[value="${n}"]`)) limit.append(h("option", { value: n }, `${n} per page`));
    limit.value = String(n);
    showSegment(q);
  };

  const go = (q: URLSearchParams, replace = false): void => {
    const search = q.toString();
    const target = `${location.pathname}${search ? `?${search}` : ""}`;
    if (target !== location.pathname + location.search) history[replace ? "replaceState" : "pushState"](null, "", target);
    showSegment(q);
    void load();
  };

  let generation = 0;
  const load = async (): Promise<void> => {
    const q = listQuery(location.search);
    const mine = ++generation;
    const { key, desc } = sortOf(q);
    for (const [k, button] of heads) {
      const cell = button.parentElement!;
      if (k === key) cell.setAttribute("aria-sort", desc ? "descending" : "ascending");
      else cell.removeAttribute("aria-sort");
    }
    table.classList.add("loading");
    status.textContent = "";
    let page: SessionPage;
    try {
      page = await sessions(q);
    } catch (err) {
      if (mine !== generation) return;
      table.classList.remove("loading");
      fill(tbody);
      status.textContent = `Could not load sessions: ${err instanceof ApiError ? err.message : String(err)}`;
      status.className = "list-status error";
      return;
    }
    if (mine !== generation) return;
    table.classList.remove("loading");
    status.className = "list-status";
    const offset = Math.max(0, intOf(q, "offset", 0));
    const size = Math.min(200, Math.max(1, intOf(q, "limit", DEFAULT_LIMIT)));
    const filtered = [...q.keys()].some((k) => !["sort", "limit", "offset"].includes(k));
    summary.textContent = `${page.total.toLocaleString()} ${page.total === 1 ? "session" : "sessions"}${filtered ? " match" : ""}`;
    fill(tbody, ...page.sessions.map(row));
    if (page.sessions.length === 0) {
      fill(
        tbody,
        h(
          "tr",
          { class: "empty" },
          h("td", { colspan: 10 }, h("strong", {}, filtered ? "No sessions match these filters." : "No sessions recorded yet."), h("span", { class: "muted" }, filtered ? " Try widening them." : " Add the recorder snippet to a page and visit it.")),
        ),
      );
    }
    const last = Math.min(offset + page.sessions.length, page.total);
    pageInfo.textContent = page.total ? `${(offset + 1).toLocaleString()}–${last.toLocaleString()} of ${page.total.toLocaleString()}` : "0 of 0";
    prev.disabled = offset <= 0;
    next.disabled = offset + size >= page.total;
    // Where the player's "back" returns: this list, as filtered.
    sessionStorage.setItem("rc-list", location.search);
  };

  // Text fields apply as one types (after a pause), the rest at once; Enter applies now.
  let typing = 0;
  form.addEventListener("input", (e) => {
    const target = e.target as HTMLInputElement;
    if (target.type !== "text" && target.type !== "search" && target.type !== "number") return;
    clearTimeout(typing);
    typing = window.setTimeout(() => go(fromForm(), true), 400);
  });
  form.addEventListener("change", (e) => {
    const target = e.target as HTMLInputElement;
    if (target.type === "checkbox" || target.type === "date") go(fromForm());
  });
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    clearTimeout(typing);
    go(fromForm());
  });
  clear.addEventListener("click", () => {
    const q = listQuery(location.search);
    const kept = new URLSearchParams();
    for (const key of ["sort", "limit"]) if (q.has(key)) kept.set(key, q.get(key)!);
    seg.root = emptySegment();
    builder.render();
    segDirty.hidden = true;
    toForm(kept);
    go(kept);
  });
  for (const [key, button] of heads) {
    button.addEventListener("click", () => {
      const q = listQuery(location.search);
      const now = sortOf(q);
      // A new column starts with its largest values (newest, longest, most), as one expects.
      const desc = now.key === key ? !now.desc : true;
      q.set("sort", `${desc ? "-" : ""}${key}`);
      if (q.get("sort") === "-start") q.delete("sort");
      q.delete("offset");
      go(q);
    });
  }
  const page = (delta: number): void => {
    const q = listQuery(location.search);
    const size = Math.min(200, Math.max(1, intOf(q, "limit", DEFAULT_LIMIT)));
    const offset = Math.max(0, intOf(q, "offset", 0) + delta * size);
    if (offset) q.set("offset", String(offset));
    else q.delete("offset");
    go(q);
  };
  prev.addEventListener("click", () => page(-1));
  next.addEventListener("click", () => page(1));
  limit.addEventListener("change", () => {
    const q = listQuery(location.search);
    if (Number(limit.value) === DEFAULT_LIMIT) q.delete("limit");
    else q.set("limit", limit.value);
    q.delete("offset");
    go(q);
  });
  window.addEventListener("popstate", () => {
    seg.root = segmentOf(listQuery(location.search)) ?? emptySegment();
    builder.render();
    segDirty.hidden = true;
    toForm(listQuery(location.search));
    void load();
  });

  toForm(listQuery(location.search));
  void load();
}

function field(label: string, input: HTMLInputElement, cls = ""): HTMLElement {
  return h("label", { class: `field ${cls}`.trim() }, h("span", { class: "field-label" }, label), input);
}

function row(s: Session): HTMLTableRowElement {
  const href = `/sessions/${encodeURIComponent(s.id)}`;
  const first = s.pages[0] ?? "";
  const props = Object.entries(s.user_props ?? {});
  const tr = h(
    "tr",
    { "data-id": s.id, class: s.format === "rrweb" ? "rrweb" : "" },
    h("td", { class: "started" }, h("a", { href, class: "row-link" }, when(s.start)), h("span", { class: "sub" }, ago(s.start))),
    h(
      "td",
      { class: "session" },
      h("span", { class: "page", title: s.pages.join("\n") }, shortUrl(first) || "—"),
      h("span", { class: "sub mono" }, s.id, s.format === "rrweb" ? h("span", { class: "tag", title: "Recorded with rrweb: listed, not playable here" }, "rrweb") : null, s.ended ? null : h("span", { class: "tag live" }, "live")),
    ),
    h(
      "td",
      { class: "user" },
      s.user_id ? h("span", { class: "mono" }, s.user_id) : h("span", { class: "muted" }, "anonymous"),
      props.length ? h("span", { class: "sub" }, props.map(([k, v]) => `${k}: ${v}`).join(" · ")) : null,
    ),
    h("td", { class: "num" }, span(s.duration_ms)),
    h("td", { class: "num" }, span(s.active_ms)),
    h("td", { class: "num" }, s.pages.length),
    h("td", { class: "num" }, s.clicks),
    h("td", { class: "num" }, s.errors ? h("span", { class: "badge error" }, s.errors) : h("span", { class: "muted" }, "0")),
    h("td", { class: "num" }, s.rage_clicks ? h("span", { class: "badge rage" }, s.rage_clicks) : h("span", { class: "muted" }, "0")),
    h("td", { class: "browser" }, s.browser ?? "—", s.viewport ? h("span", { class: "sub" }, `${s.viewport.width}×${s.viewport.height}`) : null),
  );
  // The whole row opens the session; the link stays the real target (middle-click, new tab).
  tr.addEventListener("click", (e) => {
    if ((e.target as Element).closest("a") || e.button !== 0) return;
    if (e.metaKey || e.ctrlKey || e.shiftKey) window.open(href, "_blank");
    else location.assign(href);
  });
  return tr;
}
