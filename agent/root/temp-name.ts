// The one prefix of every temporary name Flint creates beside a file it is
// about to replace: the files stage sweeps names with this prefix that a
// killed run left behind (root/write.ts).

import { crypto } from "../crypto";
import { posix } from "node:path";

export const TEMP_PREFIX = ".flint-tmp-";

/** A fresh, unguessable temporary name in `dir` (`tag` says who made it, for a person looking at leftovers). */
export function randomTempName(dir: string, tag = ""): string {
  return posix.join(dir, `${TEMP_PREFIX}${tag}${crypto().randomBytes(6).toString("hex")}`);
}
