// The one generator of temporary names, beside a file about to be
// replaced: one prefix (the files stage sweeps names with it that a killed
// run left behind, root/write.ts), a random part per process, a counter per
// name. Every temporary file is still created with O_EXCL, so a name taken
// meanwhile fails the create instead of being reused.

import { posix } from "node:path";
import { crypto } from "../crypto";

export const TEMP_PREFIX = ".flint-tmp-";

let base: string | undefined;
let count = 0;

/** A fresh temporary name (`tag` says who made it, for a person looking at leftovers). */
export function tempName(tag = ""): string {
  base ??= crypto().randomBytes(4).toString("hex");
  return `${TEMP_PREFIX}${tag}${base}${(count++).toString(36)}`;
}

/** tempName() in `dir`. */
export function randomTempName(dir: string, tag = ""): string {
  return posix.join(dir, tempName(tag));
}
