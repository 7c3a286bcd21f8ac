// Bundles studio-editor.js for the browser (run by api/web/vendor.py after `npm ci`, at set-up).
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const outfile = process.argv[2];
const stub = path.join(here, "markdown-stub.js");

await build({
  entryPoints: [path.join(here, "studio-editor.js")],
  outfile,
  bundle: true,
  minify: true,
  format: "iife",
  target: ["chrome100", "firefox100", "safari15"],
  legalComments: "eof",
  logLevel: "warning",
  plugins: [
    {
      name: "plain-hovers",
      setup(b) {
        b.onResolve({ filter: /utils\/markdown(\.js)?$/ }, (args) =>
          args.importer.includes("codemirror-json-schema") ? { path: stub } : undefined,
        );
      },
    },
  ],
});
