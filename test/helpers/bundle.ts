// The bundle as it ships, for tests that run flint as a command: build.mjs
// makes dist/flint.js and the libraries beside it, once per test process
// (the sources do not change during a run).

import { strict as assert } from "node:assert";
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const REPO = join(__dirname, "../..");
export const FLINT = join(REPO, "dist", "flint.js");

let built = false;

/** Builds the bundle unless this process already has; a failed build fails the caller's hook. */
export function buildBundle(): void {
  if (built) return;
  const r = spawnSync(process.execPath, [join(REPO, "build.mjs")], { encoding: "utf8" });
  assert.equal(r.status, 0, r.stderr);
  built = true;
}
