// The Errors page: error issues (JS errors, console errors, failed requests, grouped by
// fingerprint on the server) with their counts and a 14-day sparkline; an issue opens its
// sessions, each with its stack and the last actions before it, each opening the player a few
// seconds before the error.

import { issue, issues, issueSessions } from "./api";
import type { Issue, Moments } from "./api";
import { h, fill } from "./dom";
import { ago, when } from "./format";
import { topBar } from "./shell";
import { emptyRow, momentList, reasonOf, segmented, sparkline } from "./widgets";

const KINDS = [
  { value: "all", label: "All" },
  { value: "error", label: "JS errors" },
  { value: "console", label: "Console" },
  { value: "network", label: "Network" },
] as const;
type KindChoice = (typeof KINDS)[number]["value"];
const KIND_NAME: Record<string, string> = { error: "JS error", console: "Console", network: "Network" };
const PAGE = 20;

function kindOf(search: string): KindChoice {
  const k = new URLSearchParams(search).get("kind");
  return KINDS.some((o) => o.value === k) ? (k as KindChoice) : "all";
}

function kindTag(kind: string): HTMLElement {
  return h("span", { class: `tag kind-tag kind-${kind}` }, KIND_NAME[kind] ?? kind);
}

function issueHref(fp: string): string {
  return `/errors/${encodeURIComponent(fp)}`;
}

export function errorsPage(root: HTMLElement): void {
  document.title = "Errors · replaycheck";
  const status = h("div", { id: "errors-status", class: "list-status", role: "status" });
  const summary = h("span", { id: "total", class: "total" });
  const tbody = h("tbody");
  const table = h(
    "table",
    { id: "issues", class: "sessions issues" },
    h(
      "thead",
      {},
      h(
        "tr",
        {},
        ...["Kind", "Issue", "Top frame", "Page", "Count", "Sessions", "Users", "First seen", "Last seen", "14 days"].map((label, i) => h("th", { scope: "col", class: i >= 4 && i <= 6 ? "num" : null }, label)),
      ),
    ),
    tbody,
  );
  const load = async (): Promise<void> => {
    const kind = kindOf(location.search);
    table.classList.add("loading");
    status.textContent = "";
    status.className = "list-status";
    let found: Issue[];
    try {
      found = (await issues(kind === "all" ? null : kind)).issues;
    } catch (err) {
      table.classList.remove("loading");
      status.textContent = `Could not load the errors: ${reasonOf(err)}`;
      status.className = "list-status error";
      return;
    }
    table.classList.remove("loading");
    summary.textContent = `${found.length} ${found.length === 1 ? "issue" : "issues"}`;
    fill(tbody, ...found.map(issueRow));
    if (!found.length) fill(tbody, emptyRow(10, "No errors recorded.", kind === "all" ? "Sessions with errors, failed requests or console errors show here." : "Try another kind."));
  };
  const kinds = segmented("issue-kind", "Kind of error", KINDS, kindOf(location.search), (value) => {
    const q = new URLSearchParams(location.search);
    if (value === "all") q.delete("kind");
    else q.set("kind", value);
    history.pushState(null, "", `/errors${q.toString() ? `?${q.toString()}` : ""}`);
    void load();
  });
  window.addEventListener("popstate", () => {
    for (const b of kinds.querySelectorAll("button")) b.setAttribute("aria-pressed", b.dataset["value"] === kindOf(location.search) ? "true" : "false");
    void load();
  });
  root.replaceChildren(
    topBar(),
    h(
      "main",
      { class: "list-page" },
      h("div", { class: "page-head" }, h("h1", {}, "Errors"), summary, h("div", { class: "spacer" }), kinds),
      h("div", { class: "table-card" }, status, h("div", { class: "table-scroll" }, table)),
    ),
  );
  void load();
}

function issueRow(i: Issue): HTMLTableRowElement {
  const href = issueHref(i.fingerprint);
  const tr = h(
    "tr",
    { "data-fp": i.fingerprint, "data-kind": i.kind },
    h("td", {}, kindTag(i.kind)),
    h("td", { class: "issue-title" }, h("a", { href, class: "row-link" }, i.title)),
    h("td", { class: "mono frame" }, i.frame || h("span", { class: "muted" }, "—")),
    h("td", { class: "mono" }, i.path || "—"),
    h("td", { class: "num count" }, h("span", { class: "badge error" }, i.count)),
    h("td", { class: "num sessions-n" }, i.sessions),
    h("td", { class: "num users-n" }, i.users),
    h("td", { class: "seen" }, ago(i.first_ms), h("span", { class: "sub" }, when(i.first_ms))),
    h("td", { class: "seen" }, ago(i.last_ms), h("span", { class: "sub" }, when(i.last_ms))),
    h("td", { class: "trend" }, sparkline(i.daily)),
  );
  tr.addEventListener("click", (e) => {
    if ((e.target as Element).closest("a") || e.button !== 0) return;
    location.assign(href);
  });
  return tr;
}

/** One issue: its header, then its sessions at the error, a page at a time. */
export function issuePage(root: HTMLElement, fp: string): void {
  document.title = "Error · replaycheck";
  const head = h("div", { class: "issue-head", id: "issue-head" }, h("div", { class: "skeleton title" }));
  const status = h("div", { id: "issue-status", class: "list-status", role: "status" });
  const list = h("div", { id: "issue-sessions-wrap" });
  const pageInfo = h("span", { id: "page-info", class: "page-info" });
  const prev = h("button", { type: "button", class: "btn", id: "prev" }, "‹ Previous");
  const next = h("button", { type: "button", class: "btn", id: "next" }, "Next ›");
  root.replaceChildren(
    topBar(h("a", { class: "crumb", href: "/errors" }, "Errors"), h("span", { class: "crumb-sep" }, "/"), h("span", { class: "crumb current mono" }, fp)),
    h(
      "main",
      { class: "list-page" },
      head,
      h("div", { class: "table-card" }, h("div", { class: "card-head" }, h("h2", {}, "Sessions with this error"), h("span", { class: "muted", id: "total" })), status, list, h("div", { class: "pager" }, pageInfo, h("div", { class: "pager-buttons" }, prev, next))),
    ),
  );
  void issue(fp).then(
    (i) => {
      document.title = `${i.title} · replaycheck`;
      head.replaceChildren(
        h("div", { class: "head-title" }, kindTag(i.kind), h("h1", { id: "issue-title" }, i.title)),
        h(
          "div",
          { class: "chips", id: "issue-meta" },
          chip("Count", String(i.count), "error"),
          chip("Sessions", String(i.sessions)),
          chip("Users", String(i.users)),
          chip("Top frame", i.frame || "—"),
          chip("Page", i.path ?? "—"),
          chip("First seen", `${ago(i.first_ms)} · ${when(i.first_ms)}`),
          chip("Last seen", `${ago(i.last_ms)} · ${when(i.last_ms)}`),
          h("div", { class: "chip spark-chip" }, h("span", { class: "chip-label" }, "14 days"), sparkline(i.daily, 160, 22)),
        ),
      );
    },
    (err: unknown) => {
      head.replaceChildren(h("h1", {}, "Issue not found"), h("p", { class: "muted" }, reasonOf(err)));
    },
  );
  let offset = 0;
  const load = async (): Promise<void> => {
    let found: Moments;
    try {
      found = await issueSessions(fp, PAGE, offset);
    } catch (err) {
      status.textContent = `Could not load its sessions: ${reasonOf(err)}`;
      status.className = "list-status error";
      return;
    }
    status.textContent = "";
    status.className = "list-status";
    document.getElementById("total")!.textContent = `${found.total}`;
    list.replaceChildren(momentList("issue-sessions", found.sessions, { extra: { issue: fp }, stack: true }));
    const last = Math.min(offset + found.sessions.length, found.total);
    pageInfo.textContent = found.total ? `${offset + 1}–${last} of ${found.total}` : "0 of 0";
    prev.disabled = offset <= 0;
    next.disabled = offset + PAGE >= found.total;
  };
  prev.addEventListener("click", () => {
    offset = Math.max(0, offset - PAGE);
    void load();
  });
  next.addEventListener("click", () => {
    offset += PAGE;
    void load();
  });
  void load();
}

function chip(label: string, value: string, cls = ""): HTMLElement {
  return h("div", { class: `chip ${cls}`.trim() }, h("span", { class: "chip-label" }, label), h("span", { class: "chip-value" }, value));
}
