// Bundles agent/main.ts into one minified file, dist/flint.js, for Node 20,
// and the YAML library that only Butane configs need into dist/flint-yaml.js
// beside it: flint.js requires it at run time, so JSON configs never load it.
import { build } from "esbuild";
import { chmodSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// Paths below are relative to the repository, wherever this is run from.
const repo = fileURLToPath(new URL(".", import.meta.url));
process.chdir(repo);

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));
/** What every file in dist/ is built with: one minified CommonJS file for Node 20. */
const common = {
  absWorkingDir: repo,
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  legalComments: "none",
  logLevel: "warning",
};
const result = await build({
  ...common,
  entryPoints: ["agent/main.ts"],
  outfile: "dist/flint.js",
  banner: { js: "#!/usr/bin/env node" },
  define: { FLINT_VERSION: JSON.stringify(version) },
  metafile: true,
  plugins: [
    {
      name: "yaml-beside",
      setup(b) {
        b.onResolve({ filter: /^yaml$/ }, () => ({ path: "./flint-yaml.js", external: true }));
        b.onResolve({ filter: /^systeminformation$/ }, () => ({ path: "./flint-sysinfo.js", external: true }));
      },
    },
  ],
});
/** A library that only some runs need, bundled on its own beside flint.js, which requires it by that name. */
async function sideLibrary(outfile, contents) {
  await build({ ...common, stdin: { contents, resolveDir: repo, loader: "js" }, outfile });
}
await sideLibrary("dist/flint-yaml.js", 'module.exports = require("yaml");');
// The parts of systeminformation the debug machine dump uses (agent/console/machine-dump.ts).
await sideLibrary(
  "dist/flint-sysinfo.js",
  'module.exports = { ...require("systeminformation/lib/system"), ...require("systeminformation/lib/filesystem"), ...require("systeminformation/lib/network") };',
);
chmodSync("dist/flint.js", 0o755);
if (process.argv.includes("--analyze")) console.log(Object.keys(result.metafile.inputs).length, "modules");
