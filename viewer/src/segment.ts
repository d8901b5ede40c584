// Segments (service/segments.py): AND/OR groups of conditions over sessions, as JSON in the URL
// (base64url, what share links carry), built in a form; saved by name on the server.

import { deleteSegment, issues, saveSegment, savedSegments } from "./api";
import type { SavedSegment } from "./api";
import { h, fill } from "./dom";
import { reasonOf } from "./widgets";

type ValueKind = "text" | "number" | "date" | "issue" | "signal" | "viewport" | "none";

interface FieldSpec {
  label: string;
  ops: readonly string[];
  value: ValueKind;
  placeholder?: string;
  key?: boolean; // prop: names the property
}

const TEXT_OPS = ["is", "is_not", "contains", "set", "unset"] as const;
/** The fields and ops of service/segments.py FIELDS, with how the form asks for the value. */
export const FIELDS: Record<string, FieldSpec> = {
  user: { label: "User id", ops: TEXT_OPS, value: "text", placeholder: "u-42" },
  prop: { label: "User property", ops: TEXT_OPS, value: "text", placeholder: "pro", key: true },
  page: { label: "Page visited", ops: ["visited", "not_visited"], value: "text", placeholder: "*/checkout*" },
  clicked: { label: "Clicked", ops: ["selector", "text", "not_selector"], value: "text", placeholder: "button#buy" },
  issue: { label: "Error issue", ops: ["had", "not_had"], value: "issue", placeholder: "fingerprint" },
  signal: { label: "Frustration signal", ops: ["had", "not_had"], value: "signal" },
  error: { label: "Any error", ops: ["had", "not_had"], value: "none" },
  event: { label: "Custom event", ops: ["had", "not_had"], value: "text", placeholder: "checkout_started" },
  browser: { label: "Browser", ops: ["is", "is_not"], value: "text", placeholder: "Chrome 131" },
  viewport: { label: "Viewport", ops: ["is", "is_not"], value: "viewport" },
  duration: { label: "Duration (s)", ops: ["gte", "lte"], value: "number", placeholder: "30" },
  active: { label: "Active time (s)", ops: ["gte", "lte"], value: "number", placeholder: "10" },
  date: { label: "Started", ops: ["gte", "lte"], value: "date" },
};
const OP_NAME: Record<string, string> = {
  is: "is",
  is_not: "is not",
  contains: "contains",
  set: "is set",
  unset: "is not set",
  visited: "visited",
  not_visited: "not visited",
  selector: "on selector",
  text: "with text",
  not_selector: "not on selector",
  had: "had",
  not_had: "did not have",
  gte: "at least",
  lte: "at most",
};
const DATE_OP: Record<string, string> = { gte: "on or after", lte: "on or before" };
const SIGNALS = [
  ["rage_click", "Rage click"],
  ["dead_click", "Dead click"],
  ["quick_back", "Quick back"],
  ["error_click", "Error click"],
] as const;
const VIEWPORTS = [
  ["mobile", "Mobile (< 768 px)"],
  ["tablet", "Tablet (768–1023 px)"],
  ["desktop", "Desktop (≥ 1024 px)"],
] as const;
const MAX_DEPTH = 4; // service/segments.py MAX_DEPTH

/** The form's state: values as the inputs hold them (text), converted on the way out. */
export interface CondState {
  field: string;
  op: string;
  value: string;
  key: string;
}
export interface GroupState {
  any: boolean;
  parts: (CondState | GroupState)[];
}

const isGroup = (n: CondState | GroupState): n is GroupState => "parts" in n;

export function emptySegment(): GroupState {
  return { any: false, parts: [{ field: "page", op: "visited", value: "", key: "" }] };
}

// base64url of UTF-8 JSON, as service/segments.py from_url reads it.
export function toBase64Url(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value));
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function fromBase64Url(text: string): unknown {
  const t = text.trim();
  if (t.startsWith("{")) return JSON.parse(t);
  const binary = atob(t.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (t.length % 4)) % 4));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (c) => c.charCodeAt(0))));
}

function dayToMs(day: string, end: boolean): number | null {
  const [y, m, d] = day.split("-").map(Number);
  if (!y || !m || !d) return null;
  return new Date(y, m - 1, end ? d + 1 : d).getTime() - (end ? 1 : 0);
}

function msToDay(ms: number): string {
  const d = new Date(ms);
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** The API's JSON of the form's state; incomplete conditions and empty groups are left out
 * (an empty "any" would match nothing). null when nothing is left. */
export function toJson(group: GroupState): unknown {
  const parts: unknown[] = [];
  for (const p of group.parts) {
    const out = isGroup(p) ? toJson(p) : condJson(p);
    if (out !== null) parts.push(out);
  }
  return parts.length ? { [group.any ? "any" : "all"]: parts } : null;
}

function condJson(c: CondState): unknown {
  const spec = FIELDS[c.field];
  if (!spec || !spec.ops.includes(c.op)) return null;
  const out: Record<string, unknown> = { field: c.field, op: c.op };
  if (spec.key) {
    if (!c.key.trim()) return null;
    out["key"] = c.key.trim();
  }
  const noValue = spec.value === "none" || c.op === "set" || c.op === "unset";
  if (noValue) return out;
  const v = c.value.trim();
  if (!v) return null;
  if (spec.value === "number") {
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) return null;
    out["value"] = n;
  } else if (spec.value === "date") {
    const ms = dayToMs(v, c.op === "lte");
    if (ms === null) return null;
    out["value"] = ms;
  } else {
    out["value"] = v;
  }
  return out;
}

/** The form's state of a segment's JSON (as the API answers it); null if it is not one. */
export function fromJson(raw: unknown, depth = 1): GroupState | null {
  if (typeof raw !== "object" || raw === null || depth > MAX_DEPTH) return null;
  const r = raw as Record<string, unknown>;
  const any = Array.isArray(r["any"]);
  const list = any ? r["any"] : r["all"];
  if (!Array.isArray(list)) return null;
  const parts: (CondState | GroupState)[] = [];
  for (const p of list) {
    if (typeof p !== "object" || p === null) return null;
    const o = p as Record<string, unknown>;
    if ("all" in o || "any" in o) {
      const g = fromJson(o, depth + 1);
      if (!g) return null;
      parts.push(g);
      continue;
    }
    const field = String(o["field"] ?? "");
    const spec = FIELDS[field];
    if (!spec) return null;
    const op = String(o["op"] ?? "");
    let value = o["value"] === undefined || o["value"] === null ? "" : String(o["value"]);
    if (spec.value === "date" && typeof o["value"] === "number") value = msToDay(o["value"]);
    parts.push({ field, op: spec.ops.includes(op) ? op : spec.ops[0]!, value, key: typeof o["key"] === "string" ? o["key"] : "" });
  }
  return { any, parts };
}

/** How many conditions the segment holds (for a summary). */
export function conditionCount(raw: unknown): number {
  if (typeof raw !== "object" || raw === null) return 0;
  const r = raw as Record<string, unknown>;
  const list = r["all"] ?? r["any"];
  if (!Array.isArray(list)) return 1;
  return list.reduce((n: number, p: unknown) => n + conditionCount(p), 0);
}

/** The builder: groups and conditions, edited in place; `changed` after every edit. */
export function segmentBuilder(state: { root: GroupState }, changed: () => void): { el: HTMLElement; render: () => void } {
  const el = h("div", { class: "seg-builder", id: "segment-builder" });
  const issueList = h("datalist", { id: "segment-issues" });
  void issues(null).then(
    (r) => fill(issueList, ...r.issues.map((i) => h("option", { value: i.fingerprint }, i.title))),
    () => undefined,
  );
  let uid = 0;
  const render = (): void => {
    uid = 0;
    fill(el, group(state.root, 1, null), issueList);
  };
  const restructure = (): void => {
    render();
    changed();
  };

  function group(g: GroupState, depth: number, parent: GroupState | null): HTMLElement {
    const join = h(
      "select",
      { class: "seg-join", "aria-label": depth === 1 ? "Match" : `Match (group at level ${depth})` },
      h("option", { value: "all", selected: !g.any }, "all"),
      h("option", { value: "any", selected: g.any }, "any"),
    );
    join.addEventListener("change", () => {
      g.any = join.value === "any";
      restructure();
    });
    const addCond = h("button", { type: "button", class: "btn ghost seg-add-cond" }, "+ Condition");
    addCond.addEventListener("click", () => {
      g.parts.push({ field: "page", op: "visited", value: "", key: "" });
      restructure();
      const inputs = el.querySelectorAll<HTMLSelectElement>(".seg-field");
      inputs[inputs.length - 1]?.focus();
    });
    const addGroup = depth < MAX_DEPTH ? h("button", { type: "button", class: "btn ghost seg-add-group" }, "+ Group") : null;
    addGroup?.addEventListener("click", () => {
      g.parts.push({ any: !g.any, parts: [{ field: "page", op: "visited", value: "", key: "" }] });
      restructure();
    });
    const remove = parent ? h("button", { type: "button", class: "btn ghost danger seg-remove-group", "aria-label": "Remove this group" }, "Remove group") : null;
    remove?.addEventListener("click", () => {
      parent!.parts.splice(parent!.parts.indexOf(g), 1);
      restructure();
    });
    const rows = g.parts.map((p) => (isGroup(p) ? group(p, depth + 1, g) : condition(p, g)));
    return h(
      "div",
      { class: `seg-group depth-${depth}`, "data-join": g.any ? "any" : "all", role: "group", "aria-label": depth === 1 ? "Segment" : "Group" },
      h("div", { class: "seg-group-head" }, h("span", {}, "Match"), join, h("span", {}, "of these"), h("div", { class: "spacer" }), addCond, addGroup, remove),
      ...rows.map((r, i) => (i ? [h("div", { class: "seg-joiner", "aria-hidden": "true" }, g.any ? "or" : "and"), r] : [r])).flat(),
      rows.length ? null : h("p", { class: "muted seg-empty" }, "No conditions: every session."),
    );
  }

  function condition(c: CondState, parent: GroupState): HTMLElement {
    const n = ++uid;
    const spec = FIELDS[c.field]!;
    const fieldSel = h("select", { class: "seg-field", "aria-label": `Condition ${n}: field` }, ...Object.entries(FIELDS).map(([k, f]) => h("option", { value: k, selected: k === c.field }, f.label)));
    fieldSel.addEventListener("change", () => {
      c.field = fieldSel.value;
      c.op = FIELDS[c.field]!.ops[0]!;
      c.value = "";
      restructure();
      el.querySelectorAll<HTMLSelectElement>(".seg-field")[n - 1]?.focus();
    });
    const opSel = h("select", { class: "seg-op", "aria-label": `Condition ${n}: operator` }, ...spec.ops.map((o) => h("option", { value: o, selected: o === c.op }, (spec.value === "date" ? DATE_OP[o] : null) ?? OP_NAME[o] ?? o)));
    opSel.addEventListener("change", () => {
      c.op = opSel.value;
      restructure();
    });
    const key = spec.key ? h("input", { class: "seg-key", value: c.key, placeholder: "plan", "aria-label": `Condition ${n}: property name`, autocomplete: "off" }) : null;
    key?.addEventListener("input", () => {
      c.key = key.value;
      changed();
    });
    const remove = h("button", { type: "button", class: "btn ghost danger seg-remove", "aria-label": `Remove condition ${n}`, title: "Remove" }, "×");
    remove.addEventListener("click", () => {
      parent.parts.splice(parent.parts.indexOf(c), 1);
      restructure();
    });
    return h("div", { class: "seg-cond", "data-field": c.field }, fieldSel, key, opSel, valueInput(c, spec, n), remove);
  }

  function valueInput(c: CondState, spec: FieldSpec, n: number): HTMLElement | null {
    const label = `Condition ${n}: value`;
    if (spec.value === "none" || c.op === "set" || c.op === "unset") return null;
    let input: HTMLInputElement | HTMLSelectElement;
    if (spec.value === "signal" || spec.value === "viewport") {
      const options = spec.value === "signal" ? SIGNALS : VIEWPORTS;
      if (!options.some(([v]) => v === c.value)) c.value = options[0][0];
      input = h("select", { class: "seg-value", "aria-label": label }, ...options.map(([v, l]) => h("option", { value: v, selected: v === c.value }, l)));
    } else {
      input = h("input", {
        class: "seg-value",
        "aria-label": label,
        value: c.value,
        placeholder: spec.placeholder ?? "",
        autocomplete: "off",
        type: spec.value === "number" ? "number" : spec.value === "date" ? "date" : "text",
        min: spec.value === "number" ? 0 : null,
        step: spec.value === "number" ? "any" : null,
        list: spec.value === "issue" ? "segment-issues" : null,
      });
    }
    const update = (): void => {
      c.value = input.value;
      changed();
    };
    input.addEventListener("input", update);
    input.addEventListener("change", update);
    return input;
  }

  render();
  return { el, render };
}

/** Saved segments: load one into the builder, save the builder's under a name, delete. */
export function savedControls(current: () => unknown, load: (segment: unknown, name: string) => void): HTMLElement {
  const status = h("span", { id: "segment-status", class: "seg-status", role: "status" });
  const select = h("select", { id: "segment-saved", "aria-label": "Saved segments" });
  const loadButton = h("button", { type: "button", class: "btn", id: "segment-load" }, "Load");
  const deleteButton = h("button", { type: "button", class: "btn ghost danger", id: "segment-delete" }, "Delete");
  const name = h("input", { id: "segment-name", placeholder: "Name", "aria-label": "Name to save the segment as", maxlength: 100, autocomplete: "off" });
  const saveButton = h("button", { type: "button", class: "btn", id: "segment-save" }, "Save");
  let saved: SavedSegment[] = [];
  const refresh = async (keep?: string): Promise<void> => {
    try {
      saved = (await savedSegments()).segments;
    } catch (err) {
      status.textContent = `Could not list saved segments: ${reasonOf(err)}`;
      return;
    }
    fill(select, h("option", { value: "" }, saved.length ? "Saved segments…" : "No saved segments"), ...saved.map((s) => h("option", { value: s.name, selected: s.name === keep }, s.name)));
    loadButton.disabled = deleteButton.disabled = !saved.length;
  };
  const say = (text: string, bad = false): void => {
    status.textContent = text;
    status.classList.toggle("bad", bad);
  };
  loadButton.addEventListener("click", () => {
    const s = saved.find((x) => x.name === select.value);
    if (!s) return say("Pick a saved segment first.", true);
    name.value = s.name;
    load(s.segment, s.name);
    say(`Loaded “${s.name}”.`);
  });
  deleteButton.addEventListener("click", () => {
    const chosen = select.value;
    if (!chosen) return say("Pick a saved segment first.", true);
    if (!confirm(`Delete the saved segment “${chosen}”?`)) return;
    deleteSegment(chosen).then(
      () => (say(`Deleted “${chosen}”.`), void refresh()),
      (err: unknown) => say(`Could not delete: ${reasonOf(err)}`, true),
    );
  });
  const save = (): void => {
    const segment = current();
    const n = name.value.trim();
    if (!n) return say("Give the segment a name.", true), name.focus();
    if (segment === null) return say("Add a condition first.", true);
    saveButton.disabled = true;
    saveSegment(n, segment).then(
      () => (say(`Saved as “${n}”.`), void refresh(n)),
      (err: unknown) => say(`Could not save: ${reasonOf(err)}`, true),
    ).finally(() => (saveButton.disabled = false));
  };
  saveButton.addEventListener("click", save);
  name.addEventListener("keydown", (e) => {
    if (e.key === "Enter") (e.preventDefault(), save());
  });
  void refresh();
  return h("div", { class: "seg-saved" }, select, loadButton, deleteButton, h("a", { href: "/segments", id: "segments-link", class: "btn ghost" }, "All saved"), h("span", { class: "seg-sep", "aria-hidden": "true" }), name, saveButton, status);
}
