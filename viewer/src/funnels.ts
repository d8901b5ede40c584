// The Funnels page: ordered steps (a page, a click on a selector, a custom event), a conversion
// window and an optional saved segment; the definition lives in the URL (?funnel=base64url
// JSON) so a funnel can be shared. Each drop-off lists the sessions that reached step k and not
// k+1, each opening the player at the moment of step k.

import { funnel, funnelDropoff, savedSegments } from "./api";
import type { FunnelDef, FunnelResult, FunnelStep, SavedSegment, StepKind } from "./api";
import { h, fill } from "./dom";
import { span } from "./format";
import { fromBase64Url, toBase64Url } from "./segment";
import { topBar } from "./shell";
import { momentList, reasonOf } from "./widgets";

const MIN_STEPS = 2;
const MAX_STEPS = 10;
const STEP_KINDS: { value: StepKind; label: string; placeholder: string }[] = [
  { value: "page", label: "Page", placeholder: "*/checkout* (URL pattern)" },
  { value: "click", label: "Click", placeholder: "button#buy (selector)" },
  { value: "event", label: "Event", placeholder: "purchase (custom event)" },
];
const UNITS = [
  { value: 60_000, label: "minutes" },
  { value: 3_600_000, label: "hours" },
  { value: 86_400_000, label: "days" },
];
const DEFAULT_WINDOW_MS = 3_600_000;

interface State {
  steps: FunnelStep[];
  window_ms: number;
  segment: unknown;
}

function fromUrl(search: string): State | null {
  const raw = new URLSearchParams(search).get("funnel");
  if (!raw) return null;
  try {
    const f = fromBase64Url(raw) as FunnelDef;
    if (!Array.isArray(f.steps)) return null;
    const steps = f.steps.map((s) => ({ kind: STEP_KINDS.some((k) => k.value === s.kind) ? s.kind : "page", value: String(s.value ?? "") }));
    return { steps, window_ms: typeof f.window_ms === "number" ? f.window_ms : DEFAULT_WINDOW_MS, segment: f.segment ?? null };
  } catch {
    return null;
  }
}

function definition(s: State): FunnelDef {
  const out: FunnelDef = { steps: s.steps.map((x) => ({ kind: x.kind, value: x.value.trim() })), window_ms: s.window_ms };
  if (s.segment !== null && s.segment !== undefined) out.segment = s.segment;
  return out;
}

function pct(x: number): string {
  return `${(x * 100).toFixed(x === 1 || x === 0 ? 0 : 1)}%`;
}

export function funnelsPage(root: HTMLElement): void {
  document.title = "Funnels · replaycheck";
  const state: State = fromUrl(location.search) ?? {
    steps: [
      { kind: "page", value: "" },
      { kind: "page", value: "" },
    ],
    window_ms: DEFAULT_WINDOW_MS,
    segment: null,
  };
  const stepList = h("ol", { class: "steps", id: "funnel-steps" });
  const addStep = h("button", { type: "button", class: "btn", id: "add-step" }, "+ Add step");
  const unit = UNITS.slice().reverse().find((u) => state.window_ms % u.value === 0) ?? UNITS[0]!;
  const windowValue = h("input", { id: "funnel-window", type: "number", min: 0, step: "any", value: String(state.window_ms / unit.value), inputmode: "decimal" });
  const windowUnit = h("select", { id: "funnel-window-unit", "aria-label": "Window unit" }, ...UNITS.map((u) => h("option", { value: u.value, selected: u === unit }, u.label)));
  const segmentSelect = h("select", { id: "funnel-segment" }, h("option", { value: "" }, "All sessions"));
  const run = h("button", { type: "submit", class: "btn primary", id: "run-funnel" }, "Run funnel");
  const status = h("div", { id: "funnel-status", class: "list-status", role: "status" });
  const results = h("section", { id: "funnel-results", class: "funnel-results", "aria-label": "Funnel results", hidden: true });
  const dropoff = h("section", { id: "dropoff", class: "table-card dropoff", "aria-label": "Sessions that dropped off", hidden: true });
  let saved: SavedSegment[] = [];

  const renderSteps = (): void => {
    fill(
      stepList,
      ...state.steps.map((step, i) => {
        const kind = h("select", { class: "step-kind", "aria-label": `Step ${i + 1}: kind` }, ...STEP_KINDS.map((k) => h("option", { value: k.value, selected: k.value === step.kind }, k.label)));
        const value = h("input", {
          class: "step-value",
          value: step.value,
          "aria-label": `Step ${i + 1}: ${STEP_KINDS.find((k) => k.value === step.kind)?.label.toLowerCase() ?? "value"}`,
          placeholder: STEP_KINDS.find((k) => k.value === step.kind)?.placeholder ?? "",
          autocomplete: "off",
          required: true,
        });
        kind.addEventListener("change", () => {
          step.kind = kind.value as StepKind;
          value.placeholder = STEP_KINDS.find((k) => k.value === step.kind)?.placeholder ?? "";
          value.setAttribute("aria-label", `Step ${i + 1}: ${kind.selectedOptions[0]?.textContent?.toLowerCase() ?? "value"}`);
        });
        value.addEventListener("input", () => (step.value = value.value));
        const move = (delta: number): void => {
          const j = i + delta;
          [state.steps[i], state.steps[j]] = [state.steps[j]!, state.steps[i]!];
          renderSteps();
          stepList.querySelectorAll<HTMLButtonElement>(delta < 0 ? ".step-up" : ".step-down")[j]?.focus();
        };
        const up = h("button", { type: "button", class: "btn ghost step-up", "aria-label": `Move step ${i + 1} up`, title: "Move up", disabled: i === 0 }, "↑");
        const down = h("button", { type: "button", class: "btn ghost step-down", "aria-label": `Move step ${i + 1} down`, title: "Move down", disabled: i === state.steps.length - 1 }, "↓");
        const remove = h("button", { type: "button", class: "btn ghost danger step-remove", "aria-label": `Remove step ${i + 1}`, title: "Remove", disabled: state.steps.length <= MIN_STEPS }, "×");
        up.addEventListener("click", () => move(-1));
        down.addEventListener("click", () => move(1));
        remove.addEventListener("click", () => {
          state.steps.splice(i, 1);
          renderSteps();
        });
        return h("li", { class: "step" }, h("span", { class: "step-n", "aria-hidden": "true" }, i + 1), kind, value, up, down, remove);
      }),
    );
    addStep.disabled = state.steps.length >= MAX_STEPS;
  };
  addStep.addEventListener("click", () => {
    state.steps.push({ kind: "page", value: "" });
    renderSteps();
    stepList.querySelectorAll<HTMLInputElement>(".step-value")[state.steps.length - 1]?.focus();
  });

  const fillSegments = (): void => {
    const current = JSON.stringify(state.segment);
    const match = saved.find((s) => JSON.stringify(s.segment) === current);
    fill(
      segmentSelect,
      h("option", { value: "" }, "All sessions"),
      ...saved.map((s) => h("option", { value: s.name, selected: s === match }, s.name)),
      // A shared link's segment that is not (or no longer) saved here: kept as it is.
      state.segment && !match ? h("option", { value: "__link", selected: true }, "The link's segment") : null,
    );
  };
  void savedSegments().then(
    (r) => {
      saved = r.segments;
      fillSegments();
    },
    () => undefined,
  );
  fillSegments();
  segmentSelect.addEventListener("change", () => {
    if (segmentSelect.value === "__link") return;
    state.segment = saved.find((s) => s.name === segmentSelect.value)?.segment ?? null;
  });

  const form = h(
    "form",
    { id: "funnel-form", class: "filters funnel-form", "aria-label": "Funnel definition" },
    h("div", { class: "funnel-steps-wrap" }, h("span", { class: "field-label", id: "steps-label" }, "Steps, in order"), stepList, h("div", {}, addStep)),
    h(
      "div",
      { class: "funnel-options" },
      h("label", { class: "field" }, h("span", { class: "field-label" }, "Conversion window"), h("div", { class: "range" }, windowValue, windowUnit)),
      h("label", { class: "field" }, h("span", { class: "field-label" }, "Segment"), segmentSelect),
      h("div", { class: "field actions" }, run),
    ),
  );
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const n = Number(windowValue.value);
    if (!Number.isFinite(n) || n <= 0) {
      status.textContent = "The conversion window must be above 0.";
      status.className = "list-status error";
      return;
    }
    state.window_ms = Math.round(n * Number(windowUnit.value));
    const encoded = toBase64Url(definition(state));
    history.pushState(null, "", `/funnels?funnel=${encoded}`);
    void execute(encoded);
  });
  window.addEventListener("popstate", () => {
    const s = fromUrl(location.search);
    if (!s) return;
    Object.assign(state, s);
    renderSteps();
    fillSegments();
    void execute(new URLSearchParams(location.search).get("funnel")!);
  });

  let generation = 0;
  const execute = async (encoded: string): Promise<void> => {
    const mine = ++generation;
    run.disabled = true;
    status.textContent = "Running…";
    status.className = "list-status";
    dropoff.hidden = true;
    let result: FunnelResult;
    try {
      result = await funnel(encoded);
    } catch (err) {
      if (mine !== generation) return;
      status.textContent = `Could not run the funnel: ${reasonOf(err)}`;
      status.className = "list-status error";
      results.hidden = true;
      return;
    } finally {
      run.disabled = false;
    }
    if (mine !== generation) return;
    status.textContent = "";
    showResults(encoded, result);
  };

  const showResults = (encoded: string, r: FunnelResult): void => {
    const first = r.steps[0]?.sessions ?? 0;
    const parts: HTMLElement[] = [];
    r.steps.forEach((s, i) => {
      if (i > 0) {
        const before = r.steps[i - 1]!.sessions;
        const lost = before - s.sessions;
        const button = h(
          "button",
          { type: "button", class: "dropoff-button", "data-step": i, disabled: lost <= 0, "aria-label": `${lost} sessions reached step ${i} and not step ${i + 1}: list them` },
          h("span", { class: "drop-arrow", "aria-hidden": "true" }),
          `${lost} dropped`,
          before ? h("span", { class: "muted" }, ` (${pct(lost / before)})`) : null,
          s.median_ms_from_previous !== null ? h("span", { class: "median muted" }, ` · median ${span(s.median_ms_from_previous)} from step ${i}`) : null,
        );
        button.addEventListener("click", () => void showDropoff(encoded, i, r));
        parts.push(h("div", { class: "dropoff-row" }, button));
      }
      const bar = h("div", { class: "bar-fill" });
      bar.style.setProperty("width", `${first ? (s.sessions / first) * 100 : 0}%`);
      parts.push(
        h(
          "div",
          { class: "funnel-step", "data-step": i + 1, "data-sessions": s.sessions },
          h("div", { class: "step-title" }, h("span", { class: "step-n" }, i + 1), h("span", { class: "tag" }, s.kind), h("span", { class: "mono step-label" }, s.value)),
          h("div", { class: "bar", role: "img", "aria-label": `${s.sessions} sessions, ${pct(s.conversion)} of step 1` }, bar),
          h(
            "div",
            { class: "step-numbers" },
            h("span", { class: "step-sessions" }, h("strong", {}, s.sessions.toLocaleString()), " sessions"),
            h("span", { class: "step-conversion" }, h("strong", {}, pct(s.conversion)), " of step 1"),
            // Step 2's "of the previous step" is its "of step 1": said once.
            i > 1 ? h("span", { class: "step-previous" }, h("strong", {}, pct(s.from_previous)), ` of step ${i}`) : null,
            i && s.median_ms_from_previous !== null ? h("span", { class: "step-median" }, "median ", h("strong", {}, span(s.median_ms_from_previous)), ` after step ${i}`) : null,
          ),
        ),
      );
    });
    fill(
      results,
      h("div", { class: "card-head" }, h("h2", {}, "Conversion"), h("span", { class: "muted" }, `within ${span(r.window_ms)} of step 1`)),
      ...parts,
    );
    results.hidden = false;
  };

  const showDropoff = async (encoded: string, step: number, r: FunnelResult): Promise<void> => {
    const s = r.steps[step - 1]!;
    dropoff.hidden = false;
    fill(dropoff, h("div", { class: "card-head" }, h("h2", { id: "dropoff-title" }, `Reached step ${step}, not step ${step + 1}`), h("span", { class: "muted" }, `opened at step ${step}: ${s.kind} ${s.value}`)), h("p", { class: "muted pad", role: "status" }, "Loading…"));
    for (const b of results.querySelectorAll(".dropoff-button")) b.classList.toggle("current", (b as HTMLElement).dataset["step"] === String(step));
    try {
      const found = await funnelDropoff(encoded, step);
      dropoff.lastElementChild?.remove();
      dropoff.append(h("p", { class: "muted pad", id: "dropoff-total" }, `${found.total} ${found.total === 1 ? "session" : "sessions"}`), momentList("dropoff-sessions", found.sessions, { openLabel: `Step ${step} at` }));
      dropoff.scrollIntoView({ block: "nearest" });
    } catch (err) {
      dropoff.lastElementChild?.remove();
      dropoff.append(h("p", { class: "list-status error" }, `Could not list them: ${reasonOf(err)}`));
    }
  };

  root.replaceChildren(
    topBar(),
    h("main", { class: "list-page" }, h("div", { class: "page-head" }, h("h1", {}, "Funnels"), h("span", { class: "total" }, "Where sessions stop on the way to a goal")), form, status, results, dropoff),
  );
  stepList.setAttribute("aria-labelledby", "steps-label");
  renderSteps();
  const initial = new URLSearchParams(location.search).get("funnel");
  if (initial && fromUrl(location.search)) void execute(initial);
}
