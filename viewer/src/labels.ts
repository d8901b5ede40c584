// What each click hit, in words (`button "Pay now"`), read from the stream itself: the index
// labels a click only when the same batch shows the node, and most clicks come batches after
// the snapshot that holds it.

import { EventType, MouseKind, NodeKind } from "../../recorder/src/format";

const MAX = 80;
const ATTRS = ["aria-label", "title", "alt", "value", "placeholder", "name"];
/** Elements whose own text says little: the label comes from the nearest meaningful ancestor. */
const INNER = new Set(["span", "svg", "path", "img", "i", "b", "strong", "em", "use", "g"]);

interface Known {
  tag: string;
  text: string;
  parent: number;
}

/** Times (ms from the first event, as markers count) and labels of every click. */
export function clickLabels(events: readonly unknown[]): { t: number; label: string }[] {
  const out: { t: number; label: string }[] = [];
  let nodes = new Map<number, Known>();
  let start: number | undefined;
  let last = -Infinity;
  for (const e of events) {
    if (!Array.isArray(e) || !Number.isInteger(e[0]) || !Number.isFinite(e[1])) continue;
    last = Math.max(last, e[1] as number); // times never decrease, as the replayer raises them
    start ??= last;
    try {
      switch (e[0] as number) {
        case EventType.Meta:
          nodes = new Map(); // node ids are per page load
          break;
        case EventType.Snapshot:
          nodes = new Map();
          walk(nodes, e[2], 0);
          break;
        case EventType.Mutation:
          if (Array.isArray(e[2])) for (const add of e[2] as unknown[]) if (Array.isArray(add)) walk(nodes, add[2], Number(add[0]));
          break;
        case EventType.Mouse:
          if (e[2] === MouseKind.Click) out.push({ t: last - start, label: describe(nodes, Number(e[3])) });
          break;
      }
    } catch {
      // A malformed event (the stream is untrusted): no label from it.
    }
  }
  return out;
}

/** Record a serialized subtree; returns its text (collapsed, clipped). */
function walk(nodes: Map<number, Known>, node: unknown, parent: number, depth = 0): string {
  if (!Array.isArray(node) || depth > 200) return "";
  const [kind, id] = node as [number, number];
  if (kind === NodeKind.Text) return typeof node[2] === "string" ? node[2] : "";
  const children = kind === NodeKind.Element ? node[4] : kind === NodeKind.Document ? node[2] : null;
  let text = "";
  if (Array.isArray(children)) {
    for (const child of children) {
      const t = walk(nodes, child, id, depth + 1);
      if (text.length < MAX * 2) text += t;
    }
  }
  if (kind === NodeKind.Element && typeof node[2] === "string") {
    const tag = node[2].toLowerCase();
    const attrs = (node[3] ?? {}) as Record<string, unknown>;
    let own = squash(tag === "script" || tag === "style" ? "" : text);
    for (const a of own ? [] : ATTRS) {
      const value = attrs[a];
      if (typeof value === "string" && value.trim()) {
        own = squash(value);
        break;
      }
    }
    nodes.set(id, { tag, text: own, parent });
    return tag === "script" || tag === "style" ? "" : text;
  }
  return text;
}

function squash(s: string): string {
  const t = s.replace(/\s+/g, " ").trim();
  return t.length > MAX ? `${t.slice(0, MAX - 1)}…` : t;
}

function describe(nodes: Map<number, Known>, id: number): string {
  let node = nodes.get(id);
  const first = node;
  // An icon or a span inside a button says less than the button.
  for (let up = 0; node && up < 4 && (INNER.has(node.tag) || !node.text); up++) {
    const parent = nodes.get(node.parent);
    if (!parent || parent.tag === "body" || parent.tag === "html") break;
    node = parent;
  }
  node = node?.text ? node : first;
  if (!node) return "";
  return node.text ? `${node.tag} "${node.text}"` : node.tag;
}
