// Reading and reporting configs for `flint validate` and `flint translate`.

import { readFileSync } from "node:fs";
import type { ConfigIssue } from "../config/index";
import { formatIssue } from "../config/index";
import { UsageError } from "../errors";

/** Reads FILE, or standard input for "-"; unreadable input is a usage/IO error (exit 2). */
export function readConfigInput(command: string, file: string): Buffer {
  try {
    return readFileSync(file === "-" ? 0 : file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "is a directory" : err.code === "EACCES" ? "permission denied" : err.message;
    throw new UsageError(`flint ${command}: cannot read ${file === "-" ? "standard input" : file}: ${why}`);
  }
}

export function printIssues(issues: ConfigIssue[], prefix = ""): void {
  for (const issue of issues) process.stderr.write(`${prefix}${issue.severity}: ${formatIssue(issue)}\n`);
}

export function issueJson(issue: ConfigIssue): Record<string, unknown> {
  return { path: issue.path.join("."), message: issue.message, line: issue.line ?? null, column: issue.column ?? null };
}

/** `--files-dir DIR` as parse options (Butane's `local:` files are read from DIR). */
export function filesDir(dir: string | undefined): { filesDir?: string } {
  return dir !== undefined ? { filesDir: dir } : {};
}
