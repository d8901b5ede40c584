// /segments: the project's saved segments, each opening the session list it selects.

import { deleteSegment, savedSegments } from "./api";
import type { SavedSegment } from "./api";
import { h, fill } from "./dom";
import { ago, when } from "./format";
import { conditionCount, toBase64Url } from "./segment";
import { topBar } from "./shell";
import { emptyRow, reasonOf } from "./widgets";

export function segmentsPage(root: HTMLElement): void {
  document.title = "Segments · replaycheck";
  const status = h("div", { id: "segments-status", class: "list-status", role: "status" });
  const tbody = h("tbody");
  const load = async (): Promise<void> => {
    let found: SavedSegment[];
    try {
      found = (await savedSegments()).segments;
    } catch (err) {
      status.textContent = `Could not list the segments: ${reasonOf(err)}`;
      status.className = "list-status error";
      return;
    }
    fill(tbody, ...found.map(row));
    if (!found.length) fill(tbody, emptyRow(4, "No saved segments.", "Build one over the session list and save it by name."));
  };
  const row = (s: SavedSegment): HTMLTableRowElement => {
    const remove = h("button", { type: "button", class: "btn ghost danger", "aria-label": `Delete ${s.name}` }, "Delete");
    remove.addEventListener("click", () => {
      if (!confirm(`Delete the saved segment “${s.name}”?`)) return;
      deleteSegment(s.name).then(
        () => void load(),
        (err: unknown) => (status.textContent = `Could not delete: ${reasonOf(err)}`),
      );
    });
    const n = conditionCount(s.segment);
    return h(
      "tr",
      { "data-name": s.name },
      h("td", {}, h("a", { href: `/?segment=${toBase64Url(s.segment)}` }, s.name)),
      h("td", { class: "num" }, `${n} ${n === 1 ? "condition" : "conditions"}`),
      h("td", {}, `${s.updated_by} · ${ago(s.updated_ms)}`, h("span", { class: "sub" }, when(s.updated_ms))),
      h("td", { class: "num" }, remove),
    );
  };
  root.replaceChildren(
    topBar(h("a", { class: "crumb", href: "/" }, "Sessions"), h("span", { class: "crumb-sep" }, "/"), h("span", { class: "crumb current" }, "Saved segments")),
    h(
      "main",
      { class: "list-page" },
      h("div", { class: "page-head" }, h("h1", {}, "Saved segments")),
      h("div", { class: "table-card" }, status, h("table", { class: "sessions", id: "saved-segments" }, h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Name"), h("th", { scope: "col", class: "num" }, "Conditions"), h("th", { scope: "col" }, "Saved"), h("th", { scope: "col" }))), tbody)),
    ),
  );
  void load();
}
