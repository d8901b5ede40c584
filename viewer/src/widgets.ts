// Pieces shared by the insight pages (errors, frustration, funnels): a sparkline, a segmented
// choice, and the list every aggregate ends in: sessions, each opening the player at a moment.

import type { Action, Moment } from "./api";
import { h } from "./dom";
import { ago, clock, shortUrl, when } from "./format";

const SVG = "http://www.w3.org/2000/svg";

/** Counts per day as an inline SVG line (attributes only: no style under the CSP). */
export function sparkline(values: readonly number[], width = 120, height = 28, label = ""): SVGSVGElement {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", String(width));
  svg.setAttribute("height", String(height));
  svg.setAttribute("class", "sparkline");
  svg.setAttribute("role", "img");
  const total = values.reduce((a, b) => a + b, 0);
  svg.setAttribute("aria-label", label || `${total} in the last ${values.length} days`);
  const max = Math.max(1, ...values);
  const step = values.length > 1 ? (width - 2) / (values.length - 1) : 0;
  const y = (v: number): number => height - 2 - (v / max) * (height - 4);
  const points = values.map((v, i) => `${(1 + i * step).toFixed(1)},${y(v).toFixed(1)}`);
  const area = document.createElementNS(SVG, "polygon");
  area.setAttribute("points", `1,${height - 2} ${points.join(" ")} ${(1 + (values.length - 1) * step).toFixed(1)},${height - 2}`);
  area.setAttribute("class", "spark-area");
  const line = document.createElementNS(SVG, "polyline");
  line.setAttribute("points", points.join(" "));
  line.setAttribute("class", "spark-line");
  svg.append(area, line);
  const last = values.length - 1;
  if (last >= 0 && values[last]! > 0) {
    const dot = document.createElementNS(SVG, "circle");
    dot.setAttribute("cx", (1 + last * step).toFixed(1));
    dot.setAttribute("cy", y(values[last]!).toFixed(1));
    dot.setAttribute("r", "2.2");
    dot.setAttribute("class", "spark-dot");
    svg.append(dot);
  }
  return svg;
}

/** A row of toggle buttons (one pressed), as the player's speed control. */
export function segmented<T extends string>(id: string, label: string, options: readonly { value: T; label: string }[], current: T, onPick: (value: T) => void): HTMLElement {
  const group = h("div", { id, class: "segmented", role: "group", "aria-label": label });
  for (const o of options) {
    const b = h("button", { type: "button", "data-value": o.value, "aria-pressed": o.value === current ? "true" : "false" }, o.label);
    b.addEventListener("click", () => {
      for (const other of group.querySelectorAll("button")) other.setAttribute("aria-pressed", other === b ? "true" : "false");
      onPick(o.value);
    });
    group.append(b);
  }
  return group;
}

/** The player at a moment; `extra` adds query parameters (the issue to expand). Rounded up: a
 * moment at 285.4 ms (a navigation) has happened at 286, not yet at 285. */
export function playerHref(session: string, t: number, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams({ t: String(Math.ceil(t)), ...extra });
  return `/sessions/${encodeURIComponent(session)}?${q.toString()}`;
}

export const ACTION_NAME: Record<string, string> = { click: "Click", input: "Input", navigation: "Navigation", rage_click: "Rage click" };

/** The last actions before a moment, oldest first. */
export function actionList(actions: readonly Action[], cls = "before"): HTMLElement {
  if (!actions.length) return h("p", { class: `${cls} muted` }, "No actions recorded before it.");
  return h(
    "ol",
    { class: cls },
    ...actions.map((a) =>
      h("li", { class: `action kind-${a.kind}` }, h("span", { class: "ev-time mono" }, clock(a.t)), h("span", { class: "ev-kind" }, ACTION_NAME[a.kind] ?? a.kind), a.label ? h("span", { class: "action-label", title: a.label }, a.kind === "navigation" ? shortUrl(a.label) : a.label) : h("span", { class: "action-label muted" }, "(not named)")),
    ),
  );
}

/** Sessions at their moments: who, when, browser, what happened, and a link to the player. */
export function momentList(id: string, moments: readonly Moment[], options: { extra?: Record<string, string>; stack?: boolean; openLabel?: string } = {}): HTMLElement {
  if (!moments.length) return h("p", { id, class: "moments empty muted" }, "No sessions.");
  return h(
    "ul",
    { id, class: "moments" },
    ...moments.map((m) => {
      const s = m.session;
      const href = playerHref(s.id, m.open_at, options.extra);
      return h(
        "li",
        { class: "moment-card", "data-id": s.id, "data-open-at": m.open_at },
        h(
          "div",
          { class: "moment-head" },
          h("a", { class: "open-moment btn", href, "aria-label": `Open session ${s.id} at ${clock(m.open_at)}` }, h("span", { class: "play-mini", "aria-hidden": "true" }), `${options.openLabel ?? "Open at"} ${clock(m.open_at)}`),
          h("span", { class: "mono moment-id" }, s.id),
          s.user_id ? h("span", { class: "mono" }, s.user_id) : h("span", { class: "muted" }, "anonymous"),
          h("span", { class: "muted", title: when(s.start) }, ago(s.start)),
          h("span", { class: "muted" }, s.browser ?? "unknown browser"),
          m.label ? h("span", { class: "moment-label", title: m.label }, m.label) : null,
        ),
        options.stack && m.detail ? h("pre", { class: "stack" }, m.detail) : null,
        m.before ? h("div", { class: "moment-before" }, h("span", { class: "field-label" }, "Before it"), actionList(m.before)) : null,
      );
    }),
  );
}

/** A table's "nothing here" row. */
export function emptyRow(columns: number, title: string, hint: string): HTMLTableRowElement {
  return h("tr", { class: "empty" }, h("td", { colspan: columns }, h("strong", {}, title), h("span", { class: "muted" }, ` ${hint}`)));
}

/** An error message for a status line. */
export function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
