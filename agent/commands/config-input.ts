// Reading and reporting configs for `flint validate` and `flint translate`.

import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import type { ConfigIssue } from "../config/index";
import { formatIssue } from "../config/index";
import { MAX_CONFIG_BYTES, tooLarge } from "../config/limits";
import { FlintError, UsageError } from "../errors";
import { writeStderr } from "../log";

const PAUSE = new Int32Array(new SharedArrayBuffer(4));

/**
 * Reads FILE, or standard input for "-", stopping past MAX_CONFIG_BYTES (an
 * error naming the file: exit 1), so an oversized input is never held whole;
 * unreadable input is a usage/IO error (exit 2).
 */
export function readConfigInput(command: string, file: string): Buffer {
  let fd: number | undefined;
  try {
    fd = file === "-" ? 0 : openSync(file, "r");
    // A regular file is read into one buffer of its size and a byte more (to see it did not
    // grow): a big config is not held twice while chunks are joined.
    const stat = fstatSync(fd);
    const chunks: Buffer[] = [];
    let total = 0;
    let size = stat.isFile() ? Math.min(stat.size + 1, MAX_CONFIG_BYTES + 1) : 1024 * 1024;
    while (total <= MAX_CONFIG_BYTES) {
      const chunk = Buffer.allocUnsafe(Math.min(size, MAX_CONFIG_BYTES + 1 - total));
      const n = fill(fd, chunk);
      if (n > 0) chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      total += n;
      if (n < chunk.length) break;
      size = 1024 * 1024;
    }
    if (total > MAX_CONFIG_BYTES) throw new FlintError(tooLarge(total) + " (or more)", file === "-" ? "stdin" : file);
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, total);
  } catch (e) {
    if (e instanceof FlintError) throw e;
    const err = e as NodeJS.ErrnoException;
    const why = err.code === "ENOENT" ? "no such file" : err.code === "EISDIR" ? "is a directory" : err.code === "EACCES" ? "permission denied" : err.message;
    throw new UsageError(`flint ${command}: cannot read ${file === "-" ? "standard input" : file}: ${why}`);
  } finally {
    if (fd !== undefined && fd !== 0) closeSync(fd);
  }
}

/** Reads into `chunk` until it is full or the input ends; how many bytes it holds. */
function fill(fd: number, chunk: Buffer): number {
  let filled = 0;
  while (filled < chunk.length) {
    let n: number;
    try {
      n = readSync(fd, chunk, filled, chunk.length - filled, null);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EAGAIN") {
        Atomics.wait(PAUSE, 0, 0, 10); // a non-blocking stdin: wait a moment for more
        continue;
      }
      if ((e as NodeJS.ErrnoException).code === "EOF") break;
      throw e;
    }
    if (n === 0) break;
    filled += n;
  }
  return filled;
}

export function printIssues(issues: ConfigIssue[], prefix = ""): void {
  for (const issue of issues) writeStderr(`${prefix}${issue.severity}: ${formatIssue(issue)}\n`);
}

export function issueJson(issue: ConfigIssue): Record<string, unknown> {
  return { path: issue.path.join("."), message: issue.message, line: issue.line ?? null, column: issue.column ?? null };
}

/** `--files-dir DIR` as parse options (Butane's `local:` files are read from DIR). */
export function filesDir(dir: string | undefined): { filesDir?: string } {
  return dir !== undefined ? { filesDir: dir } : {};
}
