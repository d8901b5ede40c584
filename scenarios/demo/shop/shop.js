// The demo shop's shared script. Every page identifies the signed-in user to the recorder, as a
// site's page template does after login (docs/stream-format.md "Identifying the user"); the
// user, the cart and the stock API's address live in localStorage, which `replaycheck demo`
// sets for each session (a fresh browser context: nothing is carried between sessions).
(function () {
  "use strict";
  var store = window.localStorage;
  var PRODUCTS = {
    lamp: { name: "Desk lamp", price: 39, color: "#f0b429" },
    chair: { name: "Oak chair", price: 129, color: "#a0522d" },
    mug: { name: "Stoneware mug", price: 14, color: "#4a90a4" },
    rug: { name: "Wool rug", price: 89, color: "#8e6c8a" },
  };
  function read(key, fallback) {
    try {
      return JSON.parse(store.getItem(key) || "") || fallback;
    } catch (e) {
      return fallback;
    }
  }
  function identify() {
    var user = store.getItem("demo.user");
    if (user && window.replaycheckRecord) {
      window.replaycheckRecord.identify(user, read("demo.props", {}));
    }
  }
  function cart() {
    return read("demo.cart", []);
  }
  function track(name, props) {
    // Custom events are newer than some recorders: call them only when there.
    var r = window.replaycheckRecord;
    if (r && typeof r.track === "function") r.track(name, props || {});
  }
  window.shop = {
    products: PRODUCTS,
    identify: identify,
    track: track,
    cart: cart,
    add: function (sku) {
      var items = cart();
      items.push(sku);
      store.setItem("demo.cart", JSON.stringify(items));
      track("add_to_cart", { sku: sku });
    },
    clear: function () {
      store.removeItem("demo.cart");
    },
    // The stock service: the demo's API (answers 500), else a path of this site (404).
    api: function () {
      return store.getItem("demo.api") || "api";
    },
    count: function () {
      var el = document.getElementById("cart-count");
      if (el) el.textContent = String(cart().length);
    },
  };
  identify();
  document.addEventListener("DOMContentLoaded", window.shop.count);
})();
