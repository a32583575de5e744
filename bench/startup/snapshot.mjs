// An experiment for the start-up investigation (docs/performance.md), not
// part of Flint: builds a Node startup snapshot (`node --build-snapshot`)
// whose main function is the whole bundle, deferred. Run it as
// `node --snapshot-blob BLOB -- ARGS...`; the blob only works with the very
// node binary that built it, under the same CPU: V8 checks a hash of its
// flags and CPU features, so a blob to be run under valgrind must be built
// under valgrind, one for qemu-user under qemu-user (otherwise Node exits 14
// at once, which looks "fast"). V8 code caches are checked the same way.

import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Builds `<dir>/flint.blob` from `bundle`; returns the blob's path.
 * `launcher` (e.g. ["valgrind", "--tool=none", "-q"] or ["qemu-x86_64"]) runs
 * the build the way the blob will be run.
 */
export function buildSnapshot(bundle, dir, { launcher = [] } = {}) {
  const source = readFileSync(bundle, "utf8").replace(/^#!.*/, "");
  const entry = join(dir, "snapshot-entry.js");
  // A snapshot's process.argv has no script name; put one back so the bundle's argv.slice(2) holds.
  writeFileSync(
    entry,
    `require("v8").startupSnapshot.setDeserializeMainFunction(() => {\nprocess.argv.splice(1, 0, "flint");\n${source}\n});\n`,
  );
  const blob = join(dir, "flint.blob");
  const args = ["--snapshot-blob", blob, "--build-snapshot", entry];
  const [file, ...pre] = [...launcher, process.execPath];
  execFileSync(file, [...pre, ...args], { stdio: "inherit" });
  return blob;
}
