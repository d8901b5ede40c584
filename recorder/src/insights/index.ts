// The insights plugin (recorder/dist/insights.js, global `replaycheckInsights`): console errors
// and warnings (Console, 22), the page's failed fetch and XHR requests (Network, 23) and what a
// click was on (the Mouse event's ClickTarget), for a site that wants them; one that only replays
// does not load it (the record bundle's budget, issue 12). Everything it needs comes from the
// core (record/index.ts's Core): it imports types and format.ts's const enums only, so it bundles no copy of
// the masking or the PII detector, and reads the core's own state.

import { EventType, MouseKind } from "../format";
import type { ClickTarget, MouseEvent as MouseEventT } from "../format";
import type { Kind } from "../record/mask";
import type { Core, Plugin, Told } from "../record/index";

// mask.ts's Kind values (Text, Value, Url, Attr): importing the enum itself would bundle mask.ts's
// module (its natives, the PII tables) for its side effects.
const TEXT = 0 as Kind.Text,
  VALUE = 1 as Kind.Value,
  URL_KIND = 2 as Kind.Url,
  ATTR = 3 as Kind.Attr;

/** Console events and failed requests sent per second per page, each (a logging loop, a polling failure). */
const SIGNALS = 20;
/** What clicks are on: service/index.py's _is_clickable. */
const CONTROL = "a[href],button,input:not([type=hidden i]),select,textarea,summary,label";
const ROLE = /^(button|link|checkbox|radio|switch|tab|menuitem(checkbox|radio)?|option)$/i;
/** serialize.ts's BUTTON: input types whose value is a label. */
const BUTTON = /^(submit|button|reset|image)$/;
/** An id (60) or class (40) the server keeps in a selector (Python's \w is Unicode's; pii.ts's W). */
const word = (s: string, n: number): boolean => new RegExp(`^[\\p{L}\\p{N}_-]{1,${n}}$`, "u").test(s);

// Builtins as when this script runs (the core's own are captured when record.js runs).
const round = Math.round,
  stringify = JSON.stringify;

type Proto = Record<string, unknown> | undefined;
const proto = (C: unknown): Proto => (C as { prototype?: Proto } | undefined)?.prototype;
/** A request's method and URL, its start (ts) and performance.now() then. */
type Started = [method: unknown, url: unknown, t: number, start: number];

export const insights: Plugin = ([out, guard, after, maskText, now, url, ingest, on, cfg, stateOf, ownState, bits]: Core): Told => {
  const ts = (): number => round(now());
  // Per-second windows [start, count]: console calls, failed requests.
  const logs = [0, 0],
    fails = [0, 0];
  /** Count one in window `w`: the count in this second. */
  const rate = (w: number[]): number => {
    const t = now();
    if (t - w[0]! > 1000) {
      w[0] = t;
      w[1] = 0;
    }
    return (w[1]! += 1);
  };
  const matches = (el: Element, sel: string): boolean => !!sel && el.matches(sel);

  /** console.error / console.warn's argument as text; never throws (a cyclic object, a hostile Proxy). */
  const show = (a: unknown): string => {
    try {
      return typeof a == "string" ? a : a instanceof Error ? String(a.stack || a.message) : (stringify(a) ?? String(a));
    } catch {
      try {
        return String(a);
      } catch {
        return "?";
      }
    }
  };

  /** A request's URL as the browser resolves it (serialize.ts's url): a string, a URL. */
  const absolute = (u: unknown): string => url(String(u), document.baseURI, false);
  const begun = (method: unknown, u: unknown): Started => [method, u, ts(), now()];
  /** A request that ended with `status`: sent when it failed (>= 400, or 0), unless it is ours. */
  const request = ([method, u, t, start]: Started, status: number): void => {
    const a = absolute(u);
    if ((status > 399 || !status) && !a.startsWith(absolute(ingest)) && rate(fails) <= SIGNALS)
      out([EventType.Network, t, String(method || "GET").toUpperCase(), maskText(a, 0, URL_KIND), status, round(now() - start)]);
  };

  // Console errors and warnings; failed requests of the page (the recorder's own go by the
  // natives captured in native.ts, and are skipped by URL too).
  after(console as unknown as Proto, "error warn", (_c, _r, args, level) => {
    if (rate(logs) <= SIGNALS) out([EventType.Console, ts(), level as "error", maskText(args.map(show).join(" ").slice(0, 2000), 0, TEXT)]);
  });
  after(window as unknown as Proto, "fetch", (_w, r, [input, init]) => {
    // A Request's method and URL, unless the init says otherwise; else a string or URL, and GET.
    const q = begun((init as RequestInit | undefined)?.method || (input as Request | undefined)?.method, (input as Request | undefined)?.url || input);
    (r as Promise<Response>).then(
      guard((res: Response) => request(q, res.status)),
      guard(() => request(q, 0)),
    );
  });
  // An XHR's request: its open() call, then its start (loadstart, not fired for a synchronous one).
  const xhrs = new WeakMap<object, Started>();
  after(proto(XMLHttpRequest), "open", (x: XMLHttpRequest, _r, [method, u]) => {
    if (!xhrs.has(x)) {
      on(x, "loadstart", guard(() => {
        const q = xhrs.get(x)!;
        xhrs.set(x, begun(q[0], q[1]));
      }));
      on(x, "loadend", guard(() => request(xhrs.get(x)!, x.status)));
    }
    xhrs.set(x, begun(method, u));
  });

  /**
   * What a click on `t` was on (ClickTarget), as the snapshot shows it: inside a blocked element,
   * the outermost one, with no label; id, classes and text masked by the serializer's gates (text
   * node by node, in its place). No layout read; the text walk stops at 60 characters or 1,000
   * nodes. Undefined when the page's DOM throws.
   */
  const target = (t: Element): ClickTarget | undefined => {
    try {
      for (let b: Element | null | undefined | "" = cfg.block && t.closest(cfg.block); b; b = b.parentElement?.closest(cfg.block)) t = b;
      let c: Element | null = t,
        s = "",
        n = 0;
      while (c && !c.matches(CONTROL) && !ROLE.test(c.getAttribute("role")!)) c = c.parentElement;
      const el = c || t,
        st = stateOf(el),
        own = ownState(el, st),
        attr = (name: string): string => maskText(el.getAttribute(name) || "", own, ATTR),
        id = attr("id"),
        visit = (p: Node, st: number): unknown =>
          !matches(p as Element, cfg.block) &&
          !/^(script|style|textarea)$/.test((p as Element).localName) &&
          ((k: Node | null) => {
            for (; k && n++ < 1000 && s.length < 61; k = k.nextSibling)
              if (k.nodeType == 3) s = (s + maskText((k as Text).data, st, TEXT)).replace(/\s+/g, " ").trimStart();
              else if (k.nodeType == 1) visit(k, st | bits(k as Element));
          })(p.firstChild);
      visit(el, st);
      // No text: the first attribute that names it, but a field's masked value (and a blocked
      // element's, whose attributes are not recorded but its id and class).
      for (const a of "aria-label title alt value placeholder name".split(" ")) {
        const v = el.getAttribute(a)?.trim();
        if (!s && v && !matches(el, cfg.block) && (a != "value" || BUTTON.test((el as HTMLInputElement).type) || maskText(v, own, VALUE) == v))
          s = maskText(v, own, TEXT);
      }
      return [
        el.localName.toLowerCase() +
          (word(id, 60) ? "#" + id : "") +
          attr("class")
            .trim()
            .split(/\s+/)
            .slice(0, 2)
            .map((k) => (word(k, 40) ? "." + k : ""))
            .join(""),
        s.replace(/\s+/g, " ").slice(0, 60).trim(),
        c ? 1 : 0,
      ];
    } catch {
      return undefined;
    }
  };
  // A click on an element says what it was on (undefined, as null, when the page's DOM threw).
  return (ev: MouseEventT, t: Node): void => {
    if (ev[2] == MouseKind.Click && t.nodeType == 1) ev[6] = target(t as Element);
  };
};
