// Bundles agent/main.ts into one minified file, dist/flint.js, for Node 20.
import { build } from "esbuild";
import { chmodSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

// Paths below are relative to the repository, wherever this is run from.
const repo = fileURLToPath(new URL(".", import.meta.url));
process.chdir(repo);

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));
const result = await build({
  absWorkingDir: repo,
  entryPoints: ["agent/main.ts"],
  outfile: "dist/flint.js",
  bundle: true,
  platform: "node",
  target: "node20",
  format: "cjs",
  minify: true,
  legalComments: "none",
  banner: { js: "#!/usr/bin/env node" },
  define: { FLINT_VERSION: JSON.stringify(version) },
  metafile: true,
  logLevel: "warning",
});
chmodSync("dist/flint.js", 0o755);
if (process.argv.includes("--analyze")) console.log(Object.keys(result.metafile.inputs).length, "modules");
