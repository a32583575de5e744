// mtools: reading and deleting files on a FAT filesystem without mounting it
// (quench, which so avoids mounting the ESP). The only caller of mtools.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { FlintError } from "../errors";
import { log } from "../log";
import { redact } from "../secrets";
import { run } from "./exec";

// mtools refuses images whose geometry looks odd unless told not to check.
const ENV = { ...process.env, MTOOLS_SKIP_CHECK: "1" };

/** `::/a/b` form of a path inside the FAT image. */
function fatPath(path: string): string {
  return "::/" + path.replace(/^\/+/, "");
}

/** True when `mdel` is on PATH: looked up, not run (a process costs time under emulation). */
export function installed(): boolean {
  return (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":").some((dir) => dir !== "" && existsSync(join(dir, "mdel")));
}

/**
 * Deletes those of `paths` that exist on the FAT filesystem in `device`, in
 * one `mdel`; returns the ones it deleted. mdel goes on past a missing file,
 * says so and exits 1; a failure with no file missing is an error. Its other
 * lines are warnings (on a partition of a loop device it cannot get the
 * geometry, and carries on).
 */
export async function deleteFiles(device: string, paths: readonly string[]): Promise<string[]> {
  const result = await run("mdel", ["-i", device, "--", ...paths.map(fatPath)], { env: ENV, okCodes: [1] });
  const missing = new Set<string>();
  const other: string[] = [];
  for (const line of result.stderr.split("\n").filter((l) => l.trim() !== "")) {
    const notFound = /File "(.*)" not found/.exec(line);
    if (notFound) missing.add(notFound[1]!);
    else other.push(line.trim());
  }
  if (result.code !== 0 && missing.size === 0) {
    throw new FlintError(`mdel failed: ${(other.join("; ") || redact(result.stdout)).trim() || `exit status ${result.code}`}`, device);
  }
  for (const line of other) log.debug(`mdel: ${line}`, { device });
  return paths.filter((p) => !missing.has(fatPath(p)));
}
