// dist/flint.js: starts flint-core.js (the CLI) through a V8 code cache kept
// beside it, flint-core.v8cache, so that a run deserialises the bytecode of
// the functions it needs instead of compiling them from source. Node 20 has
// no compile cache of its own (module.enableCompileCache is Node 22).
//
// The cache is used only for the very build it was made from: its first line
// is the core's first line, `//flint-core <hash of the core>` (build.mjs); V8
// itself also refuses a cache from another V8 version or other flags. Any
// mismatch only costs the gain: the run compiles from source.
// Imports nothing of Flint's, so that it stays small.
//
// FLINT_CODE_CACHE=write (build.mjs, at build time only) rewrites the cache at
// exit with everything compiled so far, the cached functions included, so that
// successive training runs add up.

import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Script } from "node:vm";

const core = join(__dirname, "flint-core.js");
const cacheFile = join(__dirname, "flint-core.v8cache");

const source = readFileSync(core, "utf8");
const header = Buffer.from(source.slice(0, source.indexOf("\n") + 1));
let state = "absent";
let cachedData: Buffer | undefined;
try {
  const file = readFileSync(cacheFile);
  if (file.subarray(0, header.length).equals(header)) cachedData = file.subarray(header.length);
  else state = "stale";
} catch {
  // no cache: compile from source
}
// The core has no import() (build.mjs turns them into require), so it needs no import callback.
// CommonJS's own wrapper (node:module's Module.wrap, not loaded for it: its
// module set-up pulls in the ES module loader).
const script = new Script(`(function (exports, require, module, __filename, __dirname) { ${source}\n});`, { filename: core, cachedData });
if (cachedData) state = script.cachedDataRejected ? "rejected" : "used";
// For the debug line of every command (dispatch.ts).
(globalThis as { flintCodeCache?: string }).flintCodeCache = state;

if (process.env.FLINT_CODE_CACHE === "write") {
  process.on("exit", () => {
    writeFileSync(`${cacheFile}.new`, Buffer.concat([header, script.createCachedData()]));
    renameSync(`${cacheFile}.new`, cacheFile);
  });
}

const mod = { exports: {} as { runFlint(argv: string[]): Promise<number> } };
// The loader's own require: the core sits in the same directory, so its side files resolve alike.
script.runInThisContext()(mod.exports, require, mod, core, __dirname);
void mod.exports.runFlint(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
