// Builds every browser-side bundle. Run by `make setup` (npm run build).
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { build } from "esbuild";
import { minify } from "terser";

const common = { bundle: true, minify: true, target: "chrome100", logLevel: "warning" };

// Our recorder and replayer: the product, usable by any site (globals replaycheckRecord / replaycheckReplay).
// The record bundle (size budget: issue 12) publishes its global itself: esbuild's ES-module
// export wrapper (getters, __esModule) costs ~190 gzipped bytes. The `var` in the footer is
// hoisted, so the strict-mode assignment inside the IIFE sets the script's own global.
const recordEntry = {
  contents: 'import { identify, record, track } from "./index";\nreplaycheckRecord = { identify, record, track };',
  resolveDir: "recorder/src/record",
  sourcefile: "bundle.ts",
  loader: "ts",
};
// The insights plugin (console, failed requests, click targets) the same way; record() picks up
// its global (window.replaycheckInsights) when it starts.
const insightsEntry = {
  contents: 'import { insights } from "./index";\nreplaycheckInsights = insights;',
  resolveDir: "recorder/src/insights",
  sourcefile: "bundle.ts",
  loader: "ts",
};
// Fields of internal objects only (transport's requests and jobs, the walk's and masking's
// state, PII spans), short-named: never a DOM, option, stats or stream-format property (those
// are built as strings).
const internal = /^(tries|busy|kept|snap|gz|parts|fresh|late|again|seen|found|seq|page|chunk|first|text|i|n|at|v|inputs|pii|url|start|end|kind)$/;
// The plugin reads no internal field of the core (cfg.block only): it is built without mangleProps.
const records = {
  record: { stdin: recordEntry, banner: { js: '"use strict";' }, footer: { js: "var replaycheckRecord;" }, mangleProps: internal },
  insights: { stdin: insightsEntry, banner: { js: '"use strict";' }, footer: { js: "var replaycheckInsights;" } },
};
for (const [name, globalName] of [
  ["record", "replaycheckRecord"],
  ["insights", "replaycheckInsights"],
  ["replay", "replaycheckReplay"],
  ["loader", "replaycheckLoader"],
]) {
  const entry = `recorder/src/${name}/index.ts`;
  if (existsSync(entry)) {
    const own = records[name];
    const outfile = `recorder/dist/${name}.js`;
    const out = await build({ ...common, ...(own || { entryPoints: [entry], globalName }), outfile, format: "iife", write: !own });
    // The record and insights bundles get terser after esbuild (~400 gzipped bytes, issue 12). No
    // toplevel mangling: it would rename the global the footer declares.
    if (own) {
      const min = await minify(out.outputFiles[0].text, { compress: { passes: 3 }, mangle: true, ecma: 2020 });
      if (!new RegExp(`var ${globalName}[;,]|${globalName}=`).test(min.code)) throw new Error(`${name} bundle lost its global`);
      mkdirSync("recorder/dist", { recursive: true }); // a fresh checkout has none: esbuild wrote nothing
      writeFileSync(outfile, min.code);
    }
  }
}

// The viewer of `replaycheck serve` (docs/serve.md): the session list and the player, one bundle
// for every viewer page; the app serves it with the replayer (recorder/dist/replay.js).
await build({ ...common, entryPoints: ["viewer/src/index.ts"], outfile: "service/static/viewer.js", format: "iife" });

// Page-side helpers of the harness.
await build({
  ...common,
  entryPoints: ["harness/js/src/index.ts"],
  outfile: "harness/js/dist/harness.js",
  format: "iife",
  globalName: "__rcHarness",
  // page.evaluate runs the bundle inside a function: publish the global explicitly.
  footer: { js: "globalThis.__rcHarness = __rcHarness;" },
});

// The recorder's PII detector alone (global __pii), for its parity tests and its benchmark.
await build({
  ...common,
  entryPoints: ["recorder/src/record/pii.ts"],
  outfile: "harness/js/dist/pii.js",
  format: "iife",
  globalName: "__pii",
  footer: { js: "globalThis.__pii = __pii;" },
});

// The harness's init script in recorded pages (harness/drive.py): watchers that must start first.
await build({ ...common, entryPoints: ["harness/js/src/init.ts"], outfile: "harness/js/dist/harness-init.js", format: "iife" });

// Recorders wrapped in the harness protocol (window.__rcRecorder / window.__rcReplay).
for (const name of ["rrweb-record", "rrweb-replay", "builtin-record", "builtin-replay"]) {
  const entry = `harness/js/src/adapters/${name}.ts`;
  if (existsSync(entry)) {
    await build({ ...common, entryPoints: [entry], outfile: `harness/js/dist/${name}.js`, format: "iife" });
  }
}

// rrweb's replayer stylesheet, beside its bundle: the installed package reads it from there.
copyFileSync("node_modules/@rrweb/replay/dist/style.css", "harness/js/dist/rrweb-replay.css");

// Framework apps of the real-web corpus (React, Preact, Vue, Svelte, lit), beside their pages;
// an sdist carries no scenarios.
if (existsSync("scenarios/real/apps/src/build.mjs")) await import("./scenarios/real/apps/src/build.mjs");
