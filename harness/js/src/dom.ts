// Clobber-proof DOM reads. A form's named controls shadow its own properties (`form.tagName` is
// `<input name=tagName>`), and named images, forms and embeds shadow the document's
// (`document.querySelectorAll` is `<img name=querySelectorAll>`): DOM clobbering. These call the
// getters and methods of the prototypes instead, captured when the bundle is evaluated.
//
// The harness evaluates this bundle where page scripts cannot reach its built-ins: on a live page
// in an isolated world (harness/capture.py), on the replay page (ours, no page scripts). So the
// captures are pristine, and only named properties, which every world sees, need going around.

const apply = Reflect.apply;
const describe = Object.getOwnPropertyDescriptor;

function getter<T>(proto: object, name: string): (self: object) => T {
  const get = describe(proto, name)?.get;
  if (!get) throw new Error(`no getter ${name}`);
  return (self) => apply(get, self, []) as T;
}

function method<A extends unknown[], T>(proto: object, name: string): (self: object, ...args: A) => T {
  const fn = describe(proto, name)?.value as (...args: A) => T;
  return (self, ...args) => apply(fn, self, args);
}

/** Items of a NodeList, HTMLCollection, NamedNodeMap, CSSRuleList... (index access cannot be clobbered). */
export function items<T>(list: ArrayLike<T> | Iterable<T>): T[] {
  const out: T[] = [];
  const indexed = list as ArrayLike<T>;
  for (let i = 0; indexed[i] !== undefined; i++) out[i] = indexed[i] as T;
  return out;
}

const N = Node.prototype;
const E = Element.prototype;
const D = Document.prototype;
const S = ShadowRoot.prototype;

export const nodeType = getter<number>(N, "nodeType");
export const textContent = getter<string | null>(N, "textContent");
export const ownerDocument = getter<Document>(N, "ownerDocument");
export const parentNode = getter<Node | null>(N, "parentNode");
export const nextSibling = getter<ChildNode | null>(N, "nextSibling");
export const baseURI = getter<string>(N, "baseURI");
const nodeChildren = getter<NodeList>(N, "childNodes");
export const childNodes = (node: Node): ChildNode[] => items(nodeChildren(node) as NodeListOf<ChildNode>);

export const tagName = getter<string>(E, "tagName");
export const localName = getter<string>(E, "localName");
export const elementId = getter<string>(E, "id");
export const shadowRoot = getter<ShadowRoot | null>(E, "shadowRoot");
export const classList = getter<DOMTokenList>(E, "classList");
export const parentElement = getter<Element | null>(N, "parentElement");
export const clientLeft = getter<number>(E, "clientLeft");
export const clientTop = getter<number>(E, "clientTop");
const elementChildren = getter<HTMLCollection>(E, "children");
export const children = (el: Element): Element[] => items(elementChildren(el));
const elementAttributes = getter<NamedNodeMap>(E, "attributes");
export const attributes = (el: Element): Attr[] => items(elementAttributes(el));
export const getAttribute = method<[string], string | null>(E, "getAttribute");
export const hasAttribute = method<[string], boolean>(E, "hasAttribute");
export const matches = method<[string], boolean>(E, "matches");
export const closest = method<[string], Element | null>(E, "closest");
export const rect = method<[], DOMRect>(E, "getBoundingClientRect");
export const getRootNode = method<[], Node>(N, "getRootNode");
const elementAnimations = method<[], Animation[]>(E, "getAnimations");

const rootQueryAll = {
  doc: method<[string], NodeListOf<Element>>(D, "querySelectorAll"),
  fragment: method<[string], NodeListOf<Element>>(DocumentFragment.prototype, "querySelectorAll"),
  el: method<[string], NodeListOf<Element>>(E, "querySelectorAll"),
};
/** `querySelectorAll` on a document, shadow root or element (throws on an invalid selector). */
export function queryAll(root: Document | ShadowRoot | Element, selector: string): Element[] {
  const type = nodeType(root);
  const query = type === 9 ? rootQueryAll.doc : type === 11 ? rootQueryAll.fragment : rootQueryAll.el;
  return items(query(root, selector));
}
const docQuery = method<[string], Element | null>(D, "querySelector");
export const querySelector = (doc: Document, selector: string): Element | null => docQuery(doc, selector);

export const defaultView = getter<Window | null>(D, "defaultView");
export const documentElement = getter<HTMLElement | null>(D, "documentElement");
export const fonts = getter<FontFaceSet>(D, "fonts");
export const compatMode = getter<string>(D, "compatMode");
const docAnimations = method<[], Animation[]>(D, "getAnimations");
const shadowAnimations = method<[], Animation[]>(S, "getAnimations");
export const host = getter<Element>(S, "host");
const docSheets = getter<CSSStyleSheet[]>(D, "adoptedStyleSheets");
const shadowSheets = getter<CSSStyleSheet[]>(S, "adoptedStyleSheets");

/**
 * A document's or shadow root's adopted sheets; none for a stand-in root (a polyfill's fragment,
 * ShadyDOM or LWC synthetic shadow) that is not a real one.
 */
export function adoptedSheets(root: Document | ShadowRoot): CSSStyleSheet[] {
  try {
    return items(nodeType(root) === 9 ? docSheets(root) : shadowSheets(root));
  } catch {
    return [];
  }
}

/** Animations of one tree (a document's leaves out those in its shadow roots). */
export function treeAnimations(root: Document | ShadowRoot | Element): Animation[] {
  try {
    const type = nodeType(root);
    return items(type === 9 ? docAnimations(root) : type === 11 ? shadowAnimations(root) : elementAnimations(root));
  } catch {
    return [];
  }
}

const frameDocument = getter<Document | null>(HTMLIFrameElement.prototype, "contentDocument");
/** A same-origin iframe's document; null for another element, a cross-origin or unloaded frame. */
export function contentDocument(el: Element): Document | null {
  try {
    return frameDocument(el);
  } catch {
    return null;
  }
}

// The inline style sits on HTMLElement, SVGElement and MathMLElement alike, each its own getter.
const styleGetters = [HTMLElement, SVGElement, globalThis.MathMLElement]
  .filter((c) => c !== undefined)
  .map((c) => getter<CSSStyleDeclaration>(c.prototype, "style"));
/** An element's inline style declaration; null where it has none. */
export function inlineStyle(el: Element): CSSStyleDeclaration | null {
  for (const get of styleGetters) {
    try {
      return get(el);
    } catch {
      // not of this kind of element
    }
  }
  return null;
}
