// Builds every browser-side bundle. Run by `make setup` (npm run build).
import { build } from "esbuild";

const common = { bundle: true, minify: true, target: "chrome100", logLevel: "warning" };

await build({
  ...common,
  entryPoints: ["harness/js/src/index.ts"],
  outfile: "harness/js/dist/harness.js",
  format: "iife",
  globalName: "__rcHarness",
  // page.evaluate runs the bundle inside a function: publish the global explicitly.
  footer: { js: "globalThis.__rcHarness = __rcHarness;" },
});

// Third-party recorders wrapped in the harness protocol, one bundle per side.
for (const name of ["rrweb-record", "rrweb-replay"]) {
  await build({
    ...common,
    entryPoints: [`harness/js/src/adapters/${name}.ts`],
    outfile: `harness/js/dist/${name}.js`,
    format: "iife",
  });
}
