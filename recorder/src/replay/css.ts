// Replayed CSS: URLs made absolute (the replay document lives at about:blank) and simulated :hover.

/** The class the replayer puts on the element under the recorded cursor and its ancestors. */
export const HOVER_CLASS = ":hover";
/** The class on the element the page URL's fragment names (the replay document has no fragment). */
export const TARGET_CLASS = ":target";
/** Classes on the fields the user left invalid or valid (Input event state): no script sets those. */
export const USER_INVALID_CLASS = ":user-invalid";
export const USER_VALID_CLASS = ":user-valid";
// As selectors: `.\:hover`, `.\:target`. A class starting with ":" never occurs in real pages,
// and the harness canonicaliser already drops such classes and selectors as replayer artefacts.
// `:state(name)` twins `.\:state\(name\)`: the class of a custom state.
const TWIN = /\.\\:(hover|target|user-invalid|user-valid|state\\\()/;
const STATE = /(?<!\\):(hover|target|user-invalid|user-valid|state\([\w-]+\))(?![\w-])/;
const STATES = new RegExp(STATE.source, "g");

const CSS_URL = /url\(\s*(["']?)([^"')]*)\1\s*\)/g;

/** `url` resolved against `base`; fragment-only, data: and unparsable URLs are left as written. */
export function absoluteUrl(url: string, base: string): string {
  const trimmed = url.trim();
  // A fragment stays in the document (SVG <use href="#icon">); a data: URL is absolute and can be big.
  if (trimmed === "" || trimmed.startsWith("#") || /^data:/i.test(trimmed)) return url;
  try {
    return new URL(trimmed, base).href;
  } catch {
    return url;
  }
}

export function absoluteCss(css: string, base: string): string {
  return css.replace(CSS_URL, (whole, _quote: string, url: string) => {
    const abs = absoluteUrl(url, base);
    return abs === url ? whole : `url("${abs}")`;
  });
}

/**
 * Give every style rule with `:hover` or `:target` a twin selector using the state's class:
 * `a:hover` becomes `a:hover, a.\:hover`. Appending keeps the page's own selectors (and specificity) untouched,
 * where wrapping them in `:is(:hover, ...)` would change the rule text the harness compares.
 */
export function simulateHover(sheet: CSSStyleSheet | null): void {
  try {
    if (sheet) hoverRules(sheet.cssRules);
  } catch {
    // A cross-origin sheet's rules cannot be read: its :hover rules stay real-hover only.
  }
}

/** Whether simulateHover() gave `sheet` twin rules (it gives all or, once the sheet is parsed again, none). */
export function hasTwins(sheet: CSSStyleSheet | null): boolean {
  const visit = (rules: CSSRuleList): boolean =>
    Array.from(rules).some(
      (rule) => (rule.type === 1 && TWIN.test((rule as CSSStyleRule).selectorText)) || ((rule as Partial<CSSGroupingRule>).cssRules ? visit((rule as CSSGroupingRule).cssRules) : false),
    );
  try {
    return !!sheet && visit(sheet.cssRules);
  } catch {
    return false;
  }
}

function hoverRules(rules: CSSRuleList): void {
  for (const rule of Array.from(rules)) {
    if (rule.type === 1 /* STYLE_RULE */) {
      const style = rule as CSSStyleRule;
      const text = style.selectorText;
      // Skip rules already given their twin: this runs again whenever a sheet is re-applied.
      if (STATE.test(text) && !TWIN.test(text)) {
        const twins = splitSelectors(text)
          .filter((s) => STATE.test(s))
          .map((s) => s.replace(STATES, (_m, state: string) => ".\\:" + state.replace(/[()]/g, "\\$&")));
        // An invalid twin (`::-webkit-scrollbar:hover`...) makes the browser ignore the change.
        style.selectorText = `${text}, ${twins.join(", ")}`;
      }
    }
    // Grouping rules (@media, @supports, @layer...) and nested style rules.
    const inner = (rule as Partial<CSSGroupingRule>).cssRules;
    if (inner) hoverRules(inner);
  }
}

/** Split a selector list at top-level commas (not inside parentheses, brackets or strings). */
function splitSelectors(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote = "";
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === "\\") {
      i++;
    } else if (quote) {
      if (c === quote) quote = "";
    } else if (c === '"' || c === "'") {
      quote = c;
    } else if (c === "(" || c === "[") {
      depth++;
    } else if (c === ")" || c === "]") {
      depth--;
    } else if (c === "," && depth === 0) {
      out.push(list.slice(start, i));
      start = i + 1;
    }
  }
  out.push(list.slice(start));
  return out.map((s) => s.trim());
}
