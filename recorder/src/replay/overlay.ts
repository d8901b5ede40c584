// Cursor and click ripple, drawn in the parent page above the replay iframe: never inside the
// replayed document, so they cannot disturb its layout, its DOM or a fidelity comparison.

const SVG_NS = "http://www.w3.org/2000/svg";
const RIPPLE_MS = 500;

export class Overlay {
  readonly el: HTMLDivElement;
  private readonly cursor: SVGSVGElement;

  constructor(doc: Document) {
    this.el = doc.createElement("div");
    this.el.style.cssText = "position:absolute;inset:0;overflow:hidden;pointer-events:none";
    this.cursor = doc.createElementNS(SVG_NS, "svg");
    this.cursor.setAttribute("width", "16");
    this.cursor.setAttribute("height", "24");
    this.cursor.style.cssText = "position:absolute;left:0;top:0;display:none";
    const arrow = doc.createElementNS(SVG_NS, "path");
    arrow.setAttribute("d", "M1 1v18l4.5-4.5 3.5 8 3-1.3-3.5-7.7H15z");
    arrow.setAttribute("fill", "#111");
    arrow.setAttribute("stroke", "#fff");
    this.cursor.append(arrow);
    this.el.append(this.cursor);
  }

  setVisible(visible: boolean): void {
    this.el.style.display = visible ? "" : "none";
  }

  /** The cursor's tip at (x, y) of the replayed viewport; null hides it (no position yet). */
  moveCursor(at: [number, number] | null): void {
    this.cursor.style.display = at ? "" : "none";
    if (at) this.cursor.style.transform = `translate(${at[0]}px,${at[1]}px)`;
  }

  ripple(x: number, y: number): void {
    const ring = this.el.ownerDocument.createElement("div");
    ring.style.cssText =
      `position:absolute;left:${x - 12}px;top:${y - 12}px;width:24px;height:24px;` +
      "box-sizing:border-box;border:3px solid rgba(230,40,40,.8);border-radius:50%";
    this.el.append(ring);
    const fade = ring.animate(
      [
        { transform: "scale(.4)", opacity: 1 },
        { transform: "scale(1.6)", opacity: 0 },
      ],
      RIPPLE_MS,
    );
    fade.onfinish = () => ring.remove();
  }
}
