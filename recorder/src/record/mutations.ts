// One MutationObserver batch -> one Mutation event. Lazy: added subtrees are serialized now, in
// their current state, so a node added then removed in the batch costs nothing and one added
// then changed is serialized once.

import { EventType } from "../format";
import type { MutationEvent } from "../format";
import { Kind, cfg, hit, maskText, matches, stateOf, up } from "./mask";
import { add } from "./native";
import { attrValue, blocked, idOf, ids, opaque, ownState, serialize, walk } from "./serialize";

/** How adds and removes name a parent: a shadow root is minus its host's id. */
export const parentId = (p: Node): number => (p.nodeType == 11 ? -idOf((p as ShadowRoot).host) : idOf(p));

/**
 * One event for observer batches `groups`: [records, b], b being boundary() when the records
 * were taken. Nodes with ids at or above b were serialized after those changes and show them.
 * `w` is boundary() when the first snapshot's walk ended (or b itself, once it has): nodes past
 * it were serialized in the state of now, and need no add of their own.
 */
export const mutations = (groups: [MutationRecord[], number][], w: number, t: number): MutationEvent | null => {
  const pending = new Set<Node>();
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
          // Serialized after the removal: then it is in the replay only if serialized again now.
          if (ids.has(n)) add(removed, [target, n, !known(n)]);
        }
        // Walked after the change, a node may sit where its parent was listed: add it again.
        // A known node added under a parent listed after the change was skipped there.
        for (const n of r.addedNodes) if ((k && idOf(n) < w) || known(n)) pending.add(n);
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
  const adds: MutationEvent[2] = [];
  const parents = new Set<Node>();
  for (const n of pending) {
    const p = n.parentNode;
    if (p && n.isConnected && parentId(p) && !covered(p)) parents.add(p);
  }
  for (const p of parents) {
    // Last child first: every `next` is then in the replay when its add is applied.
    const pid = parentId(p);
    const st = stateOf(p);
    let next = 0;
    for (let c = p.lastChild; c; c = c.previousSibling) {
      const s = pending.has(c) && serialize(c, st);
      if (s) add(adds, [pid, next, s]);
      next = idOf(c) || next;
    }
  }

  const removes: MutationEvent[3] = [];
  for (const [p, n, ifAgain] of removed) if (!ifAgain || walk.again.has(n)) add(removes, [parentId(p), idOf(n)]);
  walk.again.clear();

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
      add(changes, hit.v ? [idOf(el), name, value, 1] : [idOf(el), name, value]);
    }
  }

  const texted: MutationEvent[5] = [];
  for (const n of texts)
    if (n.isConnected && !covered(n)) {
      hit.v = false;
      const text = maskText(n.data, stateOf(n.parentNode), Kind.Text);
      add(texted, hit.v ? [idOf(n), text, 1] : [idOf(n), text]);
    }

  return adds.length || removes.length || changes.length || texted.length
    ? [EventType.Mutation, t, adds, removes, changes, texted]
    : null;
};
