// Builds the framework apps of the real-web corpus: each app's sources (src/<app>/) into
// pages/<app>/dist/ beside its page. Called by the repository's build.mjs.
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { compile } from "svelte/compiler";

const here = dirname(fileURLToPath(import.meta.url));
const pages = join(here, "..", "pages");

// Svelte 5 components compiled by svelte/compiler itself; their CSS injected at run time, as
// `css: "injected"` apps ship it.
const svelte = {
  name: "svelte",
  setup(b) {
    b.onLoad({ filter: /\.svelte$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const { js } = compile(source, { filename: args.path, generate: "client", css: "injected" });
      return { contents: js.code, loader: "js", resolveDir: dirname(args.path) };
    });
  },
};

const common = {
  bundle: true,
  minify: true,
  target: "chrome100",
  format: "esm",
  logLevel: "warning",
  // Production builds, as the apps would ship: no dev warnings, Emotion inserts rules with
  // insertRule (its "speedy" mode) rather than as text.
  define: { "process.env.NODE_ENV": '"production"' },
  // Web fonts from @fontsource copied beside the bundle: nothing is fetched from elsewhere.
  loader: { ".woff2": "file", ".woff": "file", ".svg": "file" },
  assetNames: "[name]",
};

const apps = {
  "react-shop": { entry: "main.jsx", jsx: "automatic" },
  "preact-blog": { entry: "main.jsx", jsx: "automatic", jsxImportSource: "preact" },
  "vue-settings": {
    entry: "main.js",
    // The full build (runtime + template compiler): templates are strings in the sources.
    alias: { vue: "vue/dist/vue.esm-bundler.js" },
    define: {
      __VUE_OPTIONS_API__: "true",
      __VUE_PROD_DEVTOOLS__: "false",
      __VUE_PROD_HYDRATION_MISMATCH_DETAILS__: "false",
    },
  },
  "svelte-board": { entry: "main.js", plugins: [svelte], conditions: ["svelte", "browser"] },
  "lit-widgets": { entry: "main.js" },
};

for (const [name, { entry, define, ...options }] of Object.entries(apps)) {
  await build({
    ...common,
    ...options,
    define: { ...common.define, ...define },
    entryPoints: { app: join(here, name, entry) },
    outdir: join(pages, name, "dist"),
  });
}
