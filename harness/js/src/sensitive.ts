// Everything on a live page that could hold private data, with where it sits: form values,
// text, attribute values, CSS text, the URL. The harness decides (with its own PII detector and
// the scenario's selectors) which of it must never reach a recorder's stream.

import {
  adoptedSheets,
  attributes,
  children,
  childNodes,
  classList,
  contentDocument,
  elementId,
  getAttribute,
  matches,
  nodeType,
  parentElement,
  queryAll,
  shadowRoot,
  tagName,
  textContent,
} from "./dom";
import { wasPassword } from "./passwords";

export interface Sensitive {
  path: string; // a readable selector of the element holding it
  field: string; // "value", "text", "attr:<name>", "css", "url"
  text: string;
  input: boolean; // a form value (input, textarea, select, contenteditable)
  password: boolean; // a password field, or one a script has turned into a text field
  masked: boolean; // under one of the scenario's `mask` selectors
  unmasked: boolean; // under one of its `unmask` selectors
  blocked: boolean; // under one of its `block` selectors
}

interface Selectors {
  mask: string[];
  unmask: string[];
  block: string[];
}

const SKIPPED = new Set(["SCRIPT", "NOSCRIPT", "TEMPLATE"]);

// Page reads go through ./dom: a form's controls named `tagName` or `attributes` must not break them.
function step(el: Element): string {
  const tag = tagName(el).toLowerCase();
  const id = elementId(el);
  if (id) return `${tag}#${id}`;
  const name = getAttribute(el, "name");
  if (name) return `${tag}[name="${name}"]`;
  const cls = classList(el)[0];
  const parent = parentElement(el);
  if (cls && parent && queryAll(parent, `:scope > .${CSS.escape(cls)}`).length === 1) return `${tag}.${cls}`;
  if (!parent) return tag;
  const same = children(parent).filter((c) => tagName(c) === tagName(el));
  return same.length > 1 ? `${tag}:nth-of-type(${same.indexOf(el) + 1})` : tag;
}

function matchesAny(el: Element, selectors: string[]): boolean {
  return selectors.some((s) => {
    try {
      return matches(el, s);
    } catch {
      return false;
    }
  });
}

// Input types whose value is a label or a choice between fixed options, not typed data.
const NOT_TYPED = new Set(["checkbox", "radio", "button", "submit", "reset", "image", "range", "color"]);

/**
 * Typed form data. A <select> is left out: its options are page content any recorder carries,
 * so the choice cannot be told from the option text by searching the stream.
 */
function formValue(el: Element): string | null {
  if (tagName(el) === "INPUT") {
    const input = el as HTMLInputElement;
    return NOT_TYPED.has(input.type) ? null : input.value;
  }
  return tagName(el) === "TEXTAREA" ? (el as HTMLTextAreaElement).value : null;
}

interface Context {
  prefix: string;
  masked: boolean;
  unmasked: boolean;
  blocked: boolean;
}

/** A style sheet's rules as the CSSOM holds them (insertRule included), imports inlined. */
function sheetText(sheet: CSSStyleSheet): string {
  try {
    return Array.from(sheet.cssRules, (rule) => {
      const imported = (rule as CSSImportRule).styleSheet;
      return "styleSheet" in rule && imported ? sheetText(imported) : rule.cssText;
    }).join("\n");
  } catch {
    return ""; // a cross-origin sheet: its rules are not readable, by a recorder either
  }
}

function pushSheets(root: Document | ShadowRoot, at: Context, out: Sensitive[]): void {
  for (const sheet of adoptedSheets(root)) {
    const text = sheetText(sheet);
    const path = `${at.prefix || "document"} adoptedStyleSheets`;
    if (text) out.push({ path, field: "css", text, input: false, password: false, masked: false, unmasked: false, blocked: at.blocked });
  }
}

function walk(root: Document | ShadowRoot | Element, at: Context, selectors: Selectors, out: Sensitive[]): void {
  const { prefix, masked, unmasked, blocked } = at;
  if (nodeType(root) !== Node.ELEMENT_NODE) pushSheets(root as Document | ShadowRoot, at, out);
  for (const node of childNodes(root)) {
    const type = nodeType(node);
    if (type === Node.TEXT_NODE) {
      const text = (textContent(node) ?? "").trim();
      if (text) out.push({ path: prefix || "document", field: "text", text, input: false, password: false, masked, unmasked, blocked });
      continue;
    }
    if (type !== Node.ELEMENT_NODE) continue;
    const el = node as Element;
    const tag = tagName(el);
    if (SKIPPED.has(tag)) continue;
    const path = prefix ? `${prefix} > ${step(el)}` : step(el);
    const inner = {
      prefix: path,
      masked: masked || matchesAny(el, selectors.mask),
      unmasked: unmasked || matchesAny(el, selectors.unmask),
      blocked: blocked || matchesAny(el, selectors.block),
    };
    const base = { path, input: false, password: false, masked: inner.masked, unmasked: inner.unmasked, blocked: inner.blocked };
    for (const attr of attributes(el)) {
      if (attr.value.trim()) out.push({ ...base, field: `attr:${attr.name}`, text: attr.value });
    }
    // <style> text, and the rules scripts added to it or to a <link>ed sheet.
    if (tag === "STYLE" || tag === "LINK") {
      const sheet = (el as HTMLStyleElement | HTMLLinkElement).sheet;
      for (const text of new Set([tag === "STYLE" ? (textContent(el) ?? "") : "", sheet ? sheetText(sheet) : ""])) {
        if (text.trim()) out.push({ ...base, field: "css", text });
      }
      continue;
    }
    const value = formValue(el);
    if (value) {
      const password = tag === "INPUT" && wasPassword(el as HTMLInputElement);
      out.push({ ...base, field: "value", text: value, input: true, password });
    }
    const editable = getAttribute(el, "contenteditable");
    if (editable !== null && editable !== "false") {
      out.push({ ...base, field: "text", text: (textContent(el) ?? "").trim(), input: true });
    }
    if (tag !== "TEXTAREA") walk(el, inner, selectors, out);
    const shadow = shadowRoot(el);
    if (shadow) walk(shadow, { ...inner, prefix: `${path} >>>` }, selectors, out);
    if (tag === "IFRAME") {
      const doc = contentDocument(el);
      if (doc) walk(doc, { ...inner, prefix: `${path} >>>` }, selectors, out);
    }
  }
}

export function sensitiveContent(doc: Document, selectors: Selectors): Sensitive[] {
  // `location` is unforgeable: no named property shadows it.
  const out: Sensitive[] = [
    { path: "document", field: "url", text: doc.location.href, input: false, password: false, masked: false, unmasked: false, blocked: false },
  ];
  walk(doc, { prefix: "", masked: false, unmasked: false, blocked: false }, selectors, out);
  return out;
}
