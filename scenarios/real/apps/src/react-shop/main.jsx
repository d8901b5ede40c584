// A small shop in React 19: hash routes, a quick-view modal in a portal, a virtualized stock
// list (@tanstack/react-virtual), a checkout form with controlled, reformatted inputs.
import { useDeferredValue, useEffect, useRef, useState, useSyncExternalStore } from "react";
import { createRoot } from "react-dom/client";
import { createPortal } from "react-dom";
import { useVirtualizer } from "@tanstack/react-virtual";
import { cx } from "@emotion/css";
import { products, stock, money } from "./data.js";
import * as s from "./styles.js";

function subscribe(callback) {
  window.addEventListener("hashchange", callback);
  return () => window.removeEventListener("hashchange", callback);
}

function useRoute() {
  const hash = useSyncExternalStore(subscribe, () => window.location.hash);
  const [, name = "", arg] = hash.replace(/^#/, "").split("/");
  return { name, arg };
}

function Link({ to, children, current }) {
  return (
    <a href={`#/${to}`} aria-current={current ? "page" : undefined} id={`nav-${to || "home"}`}>
      {children}
    </a>
  );
}

function QuickView({ product, onClose, onAdd }) {
  useEffect(() => {
    const key = (e) => e.key === "Escape" && onClose();
    document.body.classList.add("modal-open");
    window.addEventListener("keydown", key);
    return () => {
      document.body.classList.remove("modal-open");
      window.removeEventListener("keydown", key);
    };
  }, [onClose]);
  return createPortal(
    <div className={s.backdrop} id="qv-backdrop" onClick={(e) => e.target === e.currentTarget && onClose()}>
      <div className={s.modal} role="dialog" aria-modal="true" aria-labelledby="qv-title" id="quick-view">
        <div className={s.swatch(product.hue)} />
        <h2 id="qv-title">{product.name}</h2>
        <p>{product.blurb}</p>
        <p>
          <strong>{money(product.price)}</strong> · {"★".repeat(product.rating)}
        </p>
        <button className={s.button} id="qv-add" onClick={() => onAdd(product)}>
          Add to cart
        </button>
        <button className={cx(s.button, s.ghost)} id="qv-close" onClick={onClose}>
          Close
        </button>
      </div>
    </div>,
    document.body,
  );
}

function Highlight({ text, query }) {
  const at = query ? text.toLowerCase().indexOf(query.toLowerCase()) : -1;
  if (at < 0) return text;
  return (
    <>
      {text.slice(0, at)}
      <mark>{text.slice(at, at + query.length)}</mark>
      {text.slice(at + query.length)}
    </>
  );
}

function Catalog({ onAdd }) {
  const [open, setOpen] = useState(null);
  const [query, setQuery] = useState("");
  // The list filters at lower priority than the keystrokes, as React 19 apps do for search.
  const deferred = useDeferredValue(query.trim());
  const shown = products.filter((p) => p.name.toLowerCase().includes(deferred.toLowerCase())).slice(0, 12);
  return (
    <>
      <div className={s.searchbar}>
        <h2>Catalog</h2>
        <input id="search" type="search" placeholder="Search products" value={query} onChange={(e) => setQuery(e.target.value)} />
        <span id="match-count">
          {deferred ? `${shown.length} match${shown.length === 1 ? "" : "es"}` : `${products.length} products`}
        </span>
      </div>
      <div className={s.grid}>
        {shown.map((p) => (
          <article className={s.card} key={p.id} id={`card-${p.id}`}>
            <div className={s.swatch(p.hue)} />
            <h3>
              <a href={`#/product/${p.id}`}><Highlight text={p.name} query={deferred} /></a>
            </h3>
            <p>{money(p.price)}</p>
            <button className={s.button} id={`quick-${p.id}`} onClick={() => setOpen(p)}>
              Quick view
            </button>
            <button className={cx(s.button, s.ghost)} id={`add-${p.id}`} onClick={() => onAdd(p)}>
              Add
            </button>
          </article>
        ))}
      </div>
      {open && <QuickView product={open} onClose={() => setOpen(null)} onAdd={onAdd} />}
    </>
  );
}

function Product({ id, onAdd }) {
  const p = products.find((x) => String(x.id) === id) ?? products[0];
  return (
    <section className={s.detail} id="product-detail">
      <div className={s.swatch(p.hue)} />
      <div>
        <h2 id="product-title">{p.name}</h2>
        <p>{p.blurb}</p>
        <p>
          <strong>{money(p.price)}</strong>
        </p>
        <button className={s.button} id="detail-add" onClick={() => onAdd(p)}>
          Add to cart
        </button>
      </div>
    </section>
  );
}

function Cart({ lines }) {
  const total = lines.reduce((sum, l) => sum + l.product.price * l.qty, 0);
  return (
    <>
      <h2 id="cart-title">Your cart</h2>
      <table className={s.table}>
        <thead>
          <tr><th>Item</th><th>Qty</th><th>Price</th></tr>
        </thead>
        <tbody>
          {lines.map((l) => (
            <tr key={l.product.id}>
              <td>{l.product.name}</td><td>{l.qty}</td><td>{money(l.product.price * l.qty)}</td>
            </tr>
          ))}
        </tbody>
        <tfoot>
          <tr><td>Total</td><td /><td id="cart-total">{money(total)}</td></tr>
        </tfoot>
      </table>
      <p>
        <a href="#/checkout" id="to-checkout">Go to checkout</a>
      </p>
    </>
  );
}

function Stock() {
  const parent = useRef(null);
  const rows = useVirtualizer({
    count: stock.length,
    getScrollElement: () => parent.current,
    estimateSize: () => 40,
    overscan: 4,
  });
  return (
    <>
      <h2 id="stock-title">Warehouse stock ({stock.length.toLocaleString("en-US")} lines)</h2>
      <div className={s.viewport} ref={parent} id="stock">
        <div style={{ height: rows.getTotalSize(), position: "relative" }}>
          {rows.getVirtualItems().map((v) => {
            const line = stock[v.index];
            return (
              <div
                key={v.key}
                className={s.row}
                style={{ height: v.size, transform: `translateY(${v.start}px)` }}
                data-index={v.index}
              >
                <span>{line.sku}</span><span>{line.product}</span><span>{line.bin}</span>
                <span>{line.count}</span>
              </div>
            );
          })}
        </div>
      </div>
    </>
  );
}

const groups = (digits, sizes) => {
  const out = [];
  let at = 0;
  for (const n of sizes) {
    if (at >= digits.length) break;
    out.push(digits.slice(at, at + n));
    at += n;
  }
  return out;
};

function Checkout() {
  const [card, setCard] = useState({ name: "", email: "", number: "", expiry: "" });
  const [paid, setPaid] = useState(null);
  const set = (key, format) => (e) => setCard({ ...card, [key]: format ? format(e.target.value) : e.target.value });
  // Controlled inputs that reformat what is typed, as payment forms do.
  const number = (v) => groups(v.replace(/\D/g, "").slice(0, 16), [4, 4, 4, 4]).join(" ");
  const expiry = (v) => groups(v.replace(/\D/g, "").slice(0, 4), [2, 2]).join(" / ");
  const complete = card.name && card.email.includes("@") && card.number.length === 19 && card.expiry.length === 7;
  return (
    <>
      <h2 id="checkout-title">Checkout</h2>
      <form
        className={s.form}
        onSubmit={(e) => {
          e.preventDefault();
          setPaid({ email: card.email, last4: card.number.slice(-4) });
        }}
      >
        <label>Name on card<input id="cc-name" autoComplete="cc-name" value={card.name} onChange={set("name")} /></label>
        <label>Email for the receipt<input id="cc-email" type="email" value={card.email} onChange={set("email")} /></label>
        <label className="wide">Card number<input id="cc-number" inputMode="numeric" value={card.number} onChange={set("number", number)} placeholder="1234 5678 9012 3456" /></label>
        <label>Expiry<input id="cc-expiry" value={card.expiry} onChange={set("expiry", expiry)} placeholder="MM / YY" /></label>
        <div className="wide">
          <button className={s.button} id="pay" disabled={!complete}>Pay now</button>
        </div>
      </form>
      {paid && (
        <div className={s.notice} id="receipt">
          Paid with the card ending {paid.last4}. A receipt is on its way to {paid.email}.
        </div>
      )}
    </>
  );
}

function App() {
  const { name, arg } = useRoute();
  const [lines, setLines] = useState([]);
  const add = (product) =>
    setLines((old) => {
      const found = old.find((l) => l.product.id === product.id);
      if (found) return old.map((l) => (l === found ? { ...l, qty: l.qty + 1 } : l));
      return [...old, { product, qty: 1 }];
    });
  const count = lines.reduce((n, l) => n + l.qty, 0);
  let view;
  if (name === "product") view = <Product id={arg} onAdd={add} />;
  else if (name === "cart") view = <Cart lines={lines} />;
  else if (name === "stock") view = <Stock />;
  else if (name === "checkout") view = <Checkout />;
  else view = <Catalog onAdd={add} />;
  return (
    <div className={s.shell}>
      <header className={s.topbar}>
        <h1>Trailhead Outfitters</h1>
        <nav>
          <Link to="" current={name === ""}>Shop</Link>
          <Link to="stock" current={name === "stock"}>Stock</Link>
          <Link to="cart" current={name === "cart"}>Cart</Link>
          <Link to="checkout" current={name === "checkout"}>Checkout</Link>
        </nav>
        <span className={s.cartBadge} id="cart-count">{count} in cart</span>
      </header>
      <main className={s.main}>{view}</main>
    </div>
  );
}

createRoot(document.getElementById("root")).render(<App />);
