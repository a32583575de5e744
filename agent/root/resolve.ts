// Resolves a path from a config inside a root directory, the way a process
// chrooted into that root would see it: every component is looked at with
// lstat, symlinks are followed with absolute targets taken relative to the
// root, `..` stops at the root, and nothing ever resolves outside it.

import { lstat, readlink, realpath } from "node:fs/promises";
import type { Stats } from "node:fs";
import { posix } from "node:path";
import { FlintError } from "../errors";

/** Linux gives up after 40 symlinks in one lookup (ELOOP); so do we. */
const MAX_SYMLINKS = 40;

export interface ResolveOptions {
  /**
   * Follow a symlink in the last component. False when the last component is
   * what is being written (a file, a link, a directory to create): the
   * symlink itself is then replaced, never its target.
   */
  followLast?: boolean;
}

export interface Resolved {
  /** The path on the host, always inside the (canonical) root. */
  hostPath: string;
  /** The same location as seen from inside the root (`/etc/motd`). */
  rootPath: string;
  /** lstat of the final component, or undefined when it does not exist. */
  stat?: Stats;
}

/** The root's canonical host path: a `--root` given through a symlink is fine. */
export async function canonicalRoot(root: string): Promise<string> {
  try {
    return await realpath(root);
  } catch (e) {
    throw new FlintError(`the root directory cannot be used: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, root);
  }
}

/** Where `path` (absolute, as seen inside the root) lives on the host. */
export async function resolveInRoot(root: string, path: string, options: ResolveOptions = {}): Promise<string> {
  return (await inspectInRoot(root, path, options)).hostPath;
}

/** Like resolveInRoot, and also says whether the final component exists and what it is. */
export async function inspectInRoot(root: string, path: string, options: ResolveOptions = {}): Promise<Resolved> {
  if (!path.startsWith("/")) throw new FlintError("path must be absolute", path);
  const base = await canonicalRoot(root);
  const done: string[] = [];
  // Components still to walk; a symlink's target is pushed back in front.
  const todo = path.split("/").filter((c) => c !== "" && c !== ".");
  let symlinks = 0;
  // Index in `done` of the first component that does not exist, if any.
  let missingFrom = -1;

  while (todo.length > 0) {
    const name = todo.shift()!;
    if (name === ".") continue;
    if (name === "..") {
      done.pop(); // at the root, `..` is the root itself
      if (missingFrom >= done.length) missingFrom = -1;
      continue;
    }
    const isLast = todo.length === 0;
    const here = posix.join(base, ...done, name);
    if (missingFrom !== -1) {
      // Below a missing directory nothing exists; names are taken as written.
      done.push(name);
      continue;
    }
    let stat: Stats;
    try {
      stat = await lstat(here);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT") throw new FlintError(`cannot look at ${posix.join("/", ...done, name)}: ${code}`, path);
      missingFrom = done.length;
      done.push(name);
      continue;
    }
    if (stat.isSymbolicLink() && (!isLast || options.followLast)) {
      if (++symlinks > MAX_SYMLINKS) throw new FlintError("too many levels of symbolic links", path);
      const target = await readlink(here);
      if (target.startsWith("/")) done.length = 0; // absolute: relative to the root, as in a chroot
      todo.unshift(...target.split("/").filter((c) => c !== "" && c !== "."));
      continue;
    }
    if (!isLast && !stat.isDirectory()) {
      throw new FlintError(`${posix.join("/", ...done, name)} exists and is not a directory`, path);
    }
    done.push(name);
  }
  const hostPath = posix.join(base, ...done);
  const stat = missingFrom === -1 ? await lstat(hostPath) : undefined;
  return { hostPath, rootPath: posix.join("/", ...done), stat };
}
