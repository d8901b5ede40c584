// The Frustration page: rage clicks, dead clicks, quick backs and error clicks ranked by page or
// by selector (computed at ingest); a row opens its sessions, each at the moment of the signal.
// The kind and the grouping live in the URL (?kind=&by=).

import { frustration, frustrationSessions } from "./api";
import type { Ranked, SignalKind } from "./api";
import { h, fill } from "./dom";
import { topBar } from "./shell";
import { emptyRow, momentList, reasonOf, segmented } from "./widgets";

const KINDS = [
  { value: "all", label: "All" },
  { value: "rage_click", label: "Rage clicks" },
  { value: "dead_click", label: "Dead clicks" },
  { value: "quick_back", label: "Quick backs" },
  { value: "error_click", label: "Error clicks" },
] as const;
type KindChoice = (typeof KINDS)[number]["value"];
const BY = [
  { value: "page", label: "By page" },
  { value: "selector", label: "By selector" },
] as const;
type By = (typeof BY)[number]["value"];
export const SIGNAL_NAME: Record<SignalKind, string> = { rage_click: "Rage click", dead_click: "Dead click", quick_back: "Quick back", error_click: "Error click" };

function state(search: string): { kind: KindChoice; by: By } {
  const q = new URLSearchParams(search);
  const kind = q.get("kind");
  return {
    kind: KINDS.some((o) => o.value === kind) ? (kind as KindChoice) : "all",
    by: q.get("by") === "selector" ? "selector" : "page",
  };
}

export function frustrationPage(root: HTMLElement): void {
  document.title = "Frustration · replaycheck";
  const status = h("div", { id: "signals-status", class: "list-status", role: "status" });
  const summary = h("span", { id: "total", class: "total" });
  const keyHead = h("th", { scope: "col" }, "Page");
  const tbody = h("tbody");
  const table = h(
    "table",
    { id: "signals", class: "sessions signals" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Signal"), keyHead, h("th", { scope: "col", class: "num" }, "Count"), h("th", { scope: "col", class: "num" }, "Sessions"), h("th", { scope: "col" }, "Example"))),
    tbody,
  );
  const go = (kind: KindChoice, by: By): void => {
    const q = new URLSearchParams();
    if (kind !== "all") q.set("kind", kind);
    if (by !== "page") q.set("by", by);
    history.pushState(null, "", `/frustration${q.toString() ? `?${q.toString()}` : ""}`);
    void load();
  };
  const initial = state(location.search);
  const kinds = segmented("signal-kind", "Signal", KINDS, initial.kind, (kind) => go(kind, state(location.search).by));
  kinds.setAttribute("class", "segmented tabs");
  const by = segmented("signal-by", "Group by", BY, initial.by, (b) => go(state(location.search).kind, b));
  let generation = 0;
  const load = async (): Promise<void> => {
    const { kind, by: grouping } = state(location.search);
    const mine = ++generation;
    keyHead.textContent = grouping === "page" ? "Page" : "Selector";
    table.classList.add("loading");
    status.textContent = "";
    status.className = "list-status";
    let rows: Ranked[];
    try {
      rows = (await frustration(kind === "all" ? null : kind, grouping)).rows;
    } catch (err) {
      if (mine !== generation) return;
      table.classList.remove("loading");
      status.textContent = `Could not load the signals: ${reasonOf(err)}`;
      status.className = "list-status error";
      return;
    }
    if (mine !== generation) return;
    table.classList.remove("loading");
    const total = rows.reduce((a, r) => a + r.count, 0);
    summary.textContent = `${total} ${total === 1 ? "signal" : "signals"}`;
    fill(tbody, ...rows.map((r) => signalRow(r, grouping)));
    if (!rows.length) fill(tbody, emptyRow(5, "No frustration signals.", "Rage clicks, dead clicks, quick backs and error clicks show here."));
  };
  window.addEventListener("popstate", () => {
    const now = state(location.search);
    for (const b of kinds.querySelectorAll("button")) b.setAttribute("aria-pressed", b.dataset["value"] === now.kind ? "true" : "false");
    for (const b of by.querySelectorAll("button")) b.setAttribute("aria-pressed", b.dataset["value"] === now.by ? "true" : "false");
    void load();
  });
  root.replaceChildren(
    topBar(),
    h(
      "main",
      { class: "list-page" },
      h("div", { class: "page-head" }, h("h1", {}, "Frustration"), summary, h("div", { class: "spacer" }), by),
      h("div", { class: "tabs-row" }, kinds),
      h("div", { class: "table-card" }, status, h("div", { class: "table-scroll" }, table)),
    ),
  );
  void load();
}

/** A ranked row; it opens (and closes) the list of its sessions right below it. */
function signalRow(r: Ranked, by: By): HTMLTableRowElement {
  const toggle = h("button", { type: "button", class: "row-toggle", "aria-expanded": "false", title: "Show its sessions" }, h("span", { class: "caret", "aria-hidden": "true" }), r.key);
  const tr = h(
    "tr",
    { "data-kind": r.kind, "data-key": r.key },
    h("td", {}, h("span", { class: `tag signal-tag kind-${r.kind}` }, SIGNAL_NAME[r.kind] ?? r.kind)),
    h("td", { class: "mono key" }, toggle),
    h("td", { class: "num count" }, h("span", { class: `badge signal kind-${r.kind}` }, r.count)),
    h("td", { class: "num sessions-n" }, r.sessions),
    h("td", { class: "example" }, r.example ?? h("span", { class: "muted" }, "—")),
  );
  let detail: HTMLTableRowElement | null = null;
  const open = async (): Promise<void> => {
    if (detail) {
      detail.remove();
      detail = null;
      toggle.setAttribute("aria-expanded", "false");
      return;
    }
    const cell = h("td", { colspan: 5 }, h("p", { class: "muted", role: "status" }, "Loading sessions…"));
    detail = h("tr", { class: "detail-row" }, cell);
    tr.after(detail);
    toggle.setAttribute("aria-expanded", "true");
    try {
      const found = await frustrationSessions(r.kind, by, r.key);
      fill(cell, h("div", { class: "detail-head muted" }, `${found.total} ${found.total === 1 ? "session" : "sessions"} with a ${SIGNAL_NAME[r.kind].toLowerCase()} on ${r.key}`), momentList("signal-sessions", found.sessions));
    } catch (err) {
      fill(cell, h("p", { class: "list-status error" }, `Could not load its sessions: ${reasonOf(err)}`));
    }
  };
  toggle.addEventListener("click", () => void open());
  tr.addEventListener("click", (e) => {
    if ((e.target as Element).closest("button, a") || e.button !== 0) return;
    void open();
  });
  return tr;
}
