// An experiment for the start-up investigation (docs/performance.md), not
// part of Flint: runs a CommonJS bundle through vm.Script with a V8 code
// cache kept beside it (`<bundle>.v8cache`), the way Node 22's
// module.enableCompileCache() would, on Node 20 which lacks it.
// Usage: node code-cache-loader.cjs BUNDLE [ARGS...]   (FLINT_CODE_CACHE=write makes the cache)

"use strict";
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const Module = require("node:module");

const file = path.resolve(process.argv[2]);
process.argv.splice(1, 1); // the bundle sees itself as argv[1], as when run directly
const cacheFile = `${file}.v8cache`;
const source = fs.readFileSync(file, "utf8").replace(/^#!.*/, "");
let cachedData;
try {
  cachedData = fs.readFileSync(cacheFile);
} catch {}
const script = new vm.Script(Module.wrap(source), { filename: file, cachedData });
if (cachedData && script.cachedDataRejected) process.stderr.write("code cache rejected\n");
const mod = new Module(file, null);
mod.filename = file;
mod.paths = Module._nodeModulePaths(path.dirname(file));
script.runInThisContext()(mod.exports, Module.createRequire(file), mod, file, path.dirname(file));
if (process.env.FLINT_CODE_CACHE === "write") {
  // After the run, so the functions this command compiled are in the cache too.
  process.on("exit", () => fs.writeFileSync(cacheFile, script.createCachedData()));
}
