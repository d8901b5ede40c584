// A widget kit in lit 3: custom elements with shadow roots, slots, ::part, a form-associated
// rating control with custom states, an icon button drawing from an SVG sprite, and a gallery
// of responsive images with a lightbox.
import { LitElement, css, html, svg } from "lit";

class RcTabs extends LitElement {
  static properties = { selected: { type: Number, reflect: true } };
  static styles = css`
    :host { display: block; background: #fff; border-radius: 12px; border: 2px solid #cfd8dc; }
    [role="tablist"] { display: flex; gap: 4px; padding: 8px 8px 0; border-bottom: 2px solid #cfd8dc; }
    button { font: inherit; padding: 8px 16px; border: 0; border-radius: 8px 8px 0 0; background: #eceff1; color: #37474f; cursor: pointer; }
    button[aria-selected="true"] { background: #00695c; color: #fff; }
    button:focus-visible { outline: 3px solid #ff8f00; outline-offset: 2px; }
    .panel { padding: 16px 20px; }
    ::slotted([slot="panel"]) { display: none; }
    ::slotted([slot="panel"][data-active]) { display: block; }
  `;
  constructor() {
    super();
    this.selected = 0;
  }
  get labels() {
    return [...this.querySelectorAll('[slot="panel"]')].map((p) => p.dataset.label);
  }
  updated() {
    [...this.querySelectorAll('[slot="panel"]')].forEach((p, i) => p.toggleAttribute("data-active", i === this.selected));
  }
  // Arrow keys move the selection and the focus along the tabs (roving tabindex).
  async key(e) {
    const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
    if (!step) return;
    const count = this.labels.length;
    this.selected = (this.selected + step + count) % count;
    await this.updateComplete;
    this.renderRoot.querySelector(`[data-tab="${this.selected}"]`).focus();
  }
  render() {
    return html`
      <div role="tablist" part="tablist" @keydown=${this.key}>
        ${this.labels.map(
          (label, i) => html`<button role="tab" data-tab=${i} tabindex=${i === this.selected ? 0 : -1} aria-selected=${i === this.selected} @click=${() => (this.selected = i)}>${label}</button>`,
        )}
      </div>
      <div class="panel"><slot name="panel"></slot></div>
    `;
  }
}
customElements.define("rc-tabs", RcTabs);

class RcIconButton extends LitElement {
  static properties = { icon: {}, label: {}, pressed: { type: Boolean, reflect: true } };
  static styles = css`
    :host { display: inline-block; }
    button { display: inline-flex; align-items: center; gap: 8px; font: inherit; padding: 8px 14px; border: 2px solid #00695c; border-radius: 8px; background: #fff; color: #00695c; }
    :host([pressed]) button { background: #00695c; color: #fff; }
    svg { width: 22px; height: 22px; fill: currentColor; }
  `;
  render() {
    // The sprite is an external file: <use> references work across shadow roots only this way.
    return html`<button part="button" aria-pressed=${this.pressed ? "true" : "false"} @click=${() => (this.pressed = !this.pressed)}>
      ${svg`<svg aria-hidden="true"><use href=${`./icons.svg#${this.pressed ? `${this.icon}-on` : this.icon}`}></use></svg>`}
      <span>${this.label}</span>
    </button>`;
  }
}
customElements.define("rc-icon-button", RcIconButton);

class RcRating extends LitElement {
  static formAssociated = true;
  static properties = { value: { type: Number }, max: { type: Number }, name: { reflect: true } };
  static styles = css`
    :host { display: inline-flex; gap: 4px; padding: 6px 10px; border-radius: 8px; border: 2px dashed #b0bec5; }
    :host(:state(rated)) { border-style: solid; border-color: #ff8f00; background: #fff8e1; }
    button { font-size: 26px; line-height: 1; padding: 0 2px; border: 0; background: none; color: #b0bec5; cursor: pointer; }
    button.on { color: #ff8f00; }
  `;
  constructor() {
    super();
    this.internals = this.attachInternals();
    this.value = 0;
    this.max = 5;
  }
  set(v) {
    this.value = v;
    this.internals.setFormValue(String(v));
    this.internals.states.add("rated");
    this.dispatchEvent(new Event("change", { bubbles: true }));
  }
  render() {
    return Array.from({ length: this.max }, (_, i) =>
      html`<button type="button" class=${i < this.value ? "on" : ""} data-star=${i + 1} aria-label=${`${i + 1} stars`} @click=${() => this.set(i + 1)}>★</button>`,
    );
  }
}
customElements.define("rc-rating", RcRating);

class RcSwatch extends LitElement {
  static formAssociated = true;
  static properties = { value: {} };
  static styles = css`
    :host { display: inline-flex; align-items: center; gap: 10px; }
    input { width: 56px; height: 36px; padding: 0; border: 2px solid #90a4ae; border-radius: 6px; }
    code { padding: 4px 8px; border-radius: 6px; background: #eceff1; }
  `;
  constructor() {
    super();
    this.internals = this.attachInternals();
    this.value = "#00695c";
  }
  render() {
    return html`<input type="color" .value=${this.value} @input=${(e) => {
      this.value = e.target.value;
      this.internals.setFormValue(this.value);
    }}><code>${this.value}</code>`;
  }
}
customElements.define("rc-swatch", RcSwatch);

const photos = [
  { id: "lake", title: "Lake at dawn", hue: "#7fb3d5" },
  { id: "ridge", title: "The north ridge", hue: "#a9cce3" },
  { id: "hut", title: "Shepherd's hut", hue: "#f5b041" },
  { id: "tarn", title: "Upper tarn", hue: "#76d7c4" },
];

class RcGallery extends LitElement {
  static properties = { open: { state: true } };
  static styles = css`
    :host { display: block; }
    .grid { display: grid; grid-template-columns: repeat(4, 1fr); gap: 12px; }
    figure { margin: 0; }
    img { display: block; width: 100%; height: auto; border-radius: 8px; cursor: zoom-in; }
    figcaption { font-size: 13px; color: #546e7a; margin-top: 4px; }
    .lightbox { position: fixed; inset: 0; z-index: 50; display: grid; place-items: center; background: rgba(10, 20, 25, 0.85); }
    .lightbox img { width: 900px; cursor: zoom-out; }
    .lightbox p { color: #fff; margin: 8px 0 0; }
  `;
  constructor() {
    super();
    this.open = null;
  }
  render() {
    return html`
      <div class="grid">
        ${photos.map(
          (p) => html`<figure>
            <picture>
              <source type="image/svg+xml" media="(min-width: 1200px)" srcset=${`./img/${p.id}-800.svg 1x, ./img/${p.id}-1600.svg 2x`}>
              <img id=${`thumb-${p.id}`} src=${`./img/${p.id}-400.svg`} srcset=${`./img/${p.id}-400.svg 400w, ./img/${p.id}-800.svg 800w`} sizes="(min-width: 1200px) 300px, 50vw" width="300" height="200" alt=${p.title} @click=${() => (this.open = p)}>
            </picture>
            <figcaption>${p.title}</figcaption>
          </figure>`,
        )}
      </div>
      ${this.open
        ? html`<div class="lightbox" id="lightbox" @click=${() => (this.open = null)}>
            <div><img src=${`./img/${this.open.id}-1600.svg`} alt=${this.open.title}><p>${this.open.title}</p></div>
          </div>`
        : ""}
    `;
  }
}
customElements.define("rc-gallery", RcGallery);

const form = document.getElementById("review");
form.addEventListener("submit", (e) => {
  e.preventDefault();
  const data = new FormData(form);
  document.getElementById("review-out").textContent = `Saved: ${data.get("stars")} stars, colour ${data.get("colour")}, "${data.get("title")}"`;
});
