// The real Ignition v2.17.0 from the anchors (../shared/anchors beside the
// repository, or $BENCH_ANCHORS), for the Ignition columns of the figures;
// the bench runs without them, saying why in that column.

import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

/** `{ path }` of the named binary (ignition, ignition-validate), or `{ na }` saying why there is none. */
export function findAnchor(repo, binary) {
  const dir = process.env.BENCH_ANCHORS ? resolve(process.env.BENCH_ANCHORS) : resolve(repo, "..", "shared", "anchors");
  const path = join(dir, "ignition-v2.17.0", binary);
  if (!existsSync(path)) return { na: `no ${binary} at ${path}; set BENCH_ANCHORS` };
  return { path };
}
