// A fixed catalogue: every run shows the same products in the same order.
const names = ["Alpine", "Harbor", "Meadow", "Ember", "Glacier", "Canyon", "Orchard", "Tundra"];
const kinds = ["Backpack", "Lantern", "Kettle", "Blanket", "Thermos", "Hammock"];
const hues = [12, 38, 96, 150, 190, 214, 262, 320];

export const products = Array.from({ length: 24 }, (_, i) => ({
  id: i + 1,
  name: `${names[i % names.length]} ${kinds[i % kinds.length]}`,
  price: 1900 + ((i * 737) % 9000),
  hue: hues[(i * 3) % hues.length],
  rating: 3 + (i % 3),
  blurb: `Made for long weekends outside: light, repairable and covered by a ten-year warranty (item ${i + 1}).`,
}));

// The warehouse view: ten thousand stock lines, far more than a page can hold as DOM nodes.
export const stock = Array.from({ length: 10000 }, (_, i) => ({
  sku: `SKU-${String(100000 + i * 7)}`,
  product: products[i % products.length].name,
  bin: `${String.fromCharCode(65 + (i % 26))}-${(i * 13) % 400}`,
  count: (i * 37) % 251,
}));

export const money = (cents) => `$${(cents / 100).toFixed(2)}`;
