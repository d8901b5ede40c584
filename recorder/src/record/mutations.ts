// Observer batches -> one Mutation event. Lazy: added subtrees are serialized when the event is
// made, in their current state, so a node added then removed costs nothing and one added then
// changed is serialized once. Made in slices (a round): what changes meanwhile is the next round's.

import { EventType } from "../format";
import type { MutationEvent } from "../format";
import { Kind, cfg, flagged, hit, maskText, matches, stateOf, up } from "./mask";
import { add, isArray, stringify } from "./native";
import type { Job } from "./serialize";
import { attrValue, blocked, idOf, opaque, ownState, run, walk } from "./serialize";

/** How adds and removes name a parent: a shadow root is minus its host's id. */
export const parentId = (p: Node): number => (p.nodeType == 11 ? -idOf((p as ShadowRoot).host) : idOf(p));

/** Serializes until its argument (a time) has passed: undefined, or the event as JSON text (null: nothing to send). */
export type Round = (until: number) => string[] | null | undefined;

/**
 * One event for observer batches `groups`: [records, b], b being boundary() when the records
 * were taken. Nodes with ids at or above b were serialized after those changes and show them.
 * The adds' places are read now, their subtrees in slices, where a node that moved since now
 * (walk.again) is the next round's to add; changes are read when the last slice ends.
 */
export const mutations = (groups: [MutationRecord[], number][], t: number): Round => {
  const pending = new Set<Node>();
  const gone = new Set<Node>();
  const removed: [parent: Node, node: Node, ifAgain: boolean][] = [];
  const attrs = new Map<Element, Set<string>>();
  const texts = new Set<CharacterData>();
  for (const [records, b] of groups) {
    const known = (n: Node | null): boolean => {
      // A shadow root has no id: its children were listed with its host.
      const i = idOf(n?.nodeType == 11 ? (n as ShadowRoot).host : n);
      return i > 0 && i < b;
    };
    for (const r of records) {
      const target = r.target;
      if (r.type == "childList") {
        const k = known(target);
        for (const n of r.removedNodes) {
          pending.delete(n);
          gone.add(n);
          // Serialized after the removal: then it is in the replay only if serialized again now.
          if (idOf(n)) add(removed, [target, n, !known(n)]);
        }
        // Under a parent listed before the change: new, or, when it was also taken out, walked
        // after the change where its parent was listed (not where it is): added again. A known
        // node added under a parent listed after the change was skipped there. One walked after
        // the change and never taken out was met under its parent listed (again) after it.
        for (const n of r.addedNodes) if ((k && (!idOf(n) || gone.has(n))) || known(n)) pending.add(n);
      } else if (known(target)) {
        if (r.type == "characterData") texts.add(target as CharacterData);
        else if (target.isConnected && !pending.has(target) && blocked.has(target) != matches(target as Element, cfg.block)) {
          // Blocked or unblocked by this change: sent again whole, as a placeholder or in full.
          blocked.delete(target);
          opaque.delete(target);
          add(removed, [target.parentNode!, target, false]);
          pending.add(target);
        } else {
          let names = attrs.get(target as Element);
          if (!names) attrs.set(target as Element, (names = new Set()));
          names.add(r.attributeName!);
        }
      }
    }
  }

  // Under something serialized now, or under an element whose content is not carried.
  const covered = (n: Node | null): boolean => {
    for (; n; n = up(n)) if (pending.has(n) || opaque.has(n)) return true;
    return false;
  };

  walk.again.clear();
  const parents = new Set<Node>();
  for (const n of pending) {
    const p = n.parentNode;
    if (p && n.isConnected && parentId(p) && !covered(p)) parents.add(p);
  }
  // Per parent, its children last first: a sibling's id, or an add: its parent, the node, its
  // JSON text (written by the slices; none when it was not serialized).
  const places: (number | [number, Node, string[]])[][] = [];
  const stack: Job[] = [];
  for (const p of parents) {
    const st = stateOf(p);
    const list: (number | [number, Node, string[]])[] = [];
    for (let c = p.lastChild; c; c = c.previousSibling)
      if (pending.has(c)) {
        const o: string[] = [];
        add(list, [parentId(p), c, o]);
        add(stack, [[c], 0, o, st, p, ""]);
      } else add(list, idOf(c));
    add(places, list);
  }

  return (until) => {
    walk.late = false;
    if (!run(stack, until)) return;
    const adds: string[] = []; // JSON text: the nodes are text already
    let s;
    // Last child first: every `next` is then in the replay when its add is applied.
    for (const list of places) {
      let next = 0;
      for (const x of list)
        if (!isArray(x)) next = x || next;
        else if ((s = x[2].join(""))) add(adds, `[${x[0]},${next},${s}]`), (next = idOf(x[1]));
    }

    const removes: MutationEvent[3] = [];
    for (const [p, n, ifAgain] of removed) if (!ifAgain || walk.again.has(n)) add(removes, [parentId(p), idOf(n)]);

    // A node out of the page now is either gone from the replay or serialized afresh when it
    // returns: its changes meanwhile name nothing the replay holds.
    const changes: MutationEvent[4] = [];
    for (const [el, names] of attrs) {
      if (!el.isConnected || pending.has(el) || blocked.has(el) || covered(up(el))) continue;
      const st = ownState(el, stateOf(el));
      for (const name of names) {
        const v = el.getAttribute(name);
        hit.v = false;
        const value = v == null ? null : attrValue(el, name, v, st);
        add(changes, flagged([idOf(el), name, value]));
      }
    }

    const texted: MutationEvent[5] = [];
    for (const n of texts)
      if (n.isConnected && !covered(n)) {
        hit.v = false;
        const text = maskText(n.data, stateOf(n.parentNode), Kind.Text);
        add(texted, flagged([idOf(n), text]));
      }

    return adds.length || removes.length || changes.length || texted.length
      ? [`[${EventType.Mutation},${t},[${adds.join()}],` + stringify([removes, changes, texted]).slice(1)]
      : null;
  };
};
