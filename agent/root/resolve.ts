// The one home of paths inside the root. A path from a config (or one Flint
// owns, like /etc/crypttab) is resolved the way a process chrooted into the
// root would see it: symlinks are followed with absolute targets taken
// relative to the root, `..` stops at the root, and nothing ever resolves
// outside it. The walk is descriptor-relative: each component is opened
// with O_NOFOLLOW inside the directory descriptor of the one before (through
// /proc/self/fd/N/NAME, Node's stand-in for openat), so a directory swapped
// for a symlink while Flint runs is seen as the symlink it now is, never
// walked through. Nothing is cached here: a caller walks again for each
// change (the files stage once per step of entries, stages/files/step-parents.ts).
//
// Every other module reaches the root through this one (and write.ts and
// read.ts beside it); test/unit/root/paths.test.ts fails on a raw
// `join(root, …)` anywhere else.

import { closeSync, constants, fchmodSync, fchownSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, realpathSync, type Stats } from "node:fs";
import { posix } from "node:path";
import { FlintError } from "../errors";

/** Linux gives up after 40 symlinks in one lookup (ELOOP); so do we. */
const MAX_SYMLINKS = 40;

const DIR_FLAGS = constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW;

export interface Ownership {
  uid: number;
  gid: number;
}

/** A directory inside the root, held open: names in it are looked up in it, wherever it now is. */
export class RootDir {
  private closed = false;

  constructor(
    readonly fd: number,
    /** Where it was found, as seen inside the root (symlinks resolved): `/etc`. */
    readonly rootPath: string,
  ) {}

  /**
   * A path naming `name` in this directory, for any fs call while the
   * directory is open: the kernel looks `name` up in this very directory
   * (and, for calls that do not follow a last symlink, not further).
   */
  at(name: string): string {
    if (name === "" || name === "." || name === ".." || name.includes("/")) throw new FlintError(`not a plain name: ${JSON.stringify(name)}`, this.rootPath);
    return `/proc/self/fd/${this.fd}/${name}`;
  }

  /** The directory itself, as a path usable while it is open (`/proc/self/fd/N`). */
  get self(): string {
    return `/proc/self/fd/${this.fd}`;
  }

  /** Path of `name` in this directory as seen inside the root, for messages and records. */
  inRoot(name: string): string {
    // A plain name (as every caller has) is appended: posix.join normalizes, for thousands of entries.
    if (name.includes("/") || name === "." || name === "..") return posix.join(this.rootPath, name);
    return this.rootPath === "/" ? `/${name}` : `${this.rootPath}/${name}`;
  }

  /** Where the directory is on the host now (for tools that take a path, and sync); not for writing. */
  hostPath(): string {
    return readlinkSync(this.self);
  }

  stat(): Stats {
    return fstatSync(this.fd);
  }

  private device?: number;

  /** The filesystem it is on (st_dev), asked once: a directory held open does not move to another. */
  get dev(): number {
    return (this.device ??= fstatSync(this.fd).dev);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/** The root's canonical host path: a `--root` given through a symlink is fine. */
export async function canonicalRoot(root: string): Promise<string> {
  return canonicalRootSync(root);
}

function canonicalRootSync(root: string): string {
  try {
    return realpathSync(root);
  } catch (e) {
    throw new FlintError(`the root directory cannot be used: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, root);
  }
}

/** Roots whose own descriptor is held open for a while (withRootHeld), by the path the caller gave. */
const heldRoots = new Map<string, number>();

/**
 * Runs `work` with the root's own descriptor opened once for every walk in
 * it, instead of once per walk (a files stage walks thousands of times). The
 * root's path is the caller's, trusted as given either way; everything below
 * it is still walked afresh each time.
 */
export async function withRootHeld<T>(root: string, work: () => Promise<T>): Promise<T> {
  if (heldRoots.has(root)) return work();
  const fd = openRootFd(root);
  heldRoots.set(root, fd);
  try {
    return await work();
  } finally {
    heldRoots.delete(root);
    closeSync(fd);
  }
}

function openRootFd(root: string): number {
  try {
    // The root's own path is the caller's, trusted as given (it may be a symlink).
    return openSync(root, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (e) {
    throw new FlintError(`the root directory cannot be used: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, root);
  }
}

export interface WalkOptions {
  /** Create missing directories (root:root 0755), announcing each (as a path inside the root). */
  create?: boolean;
  created?: (rootPath: string) => void;
  /** Refuse a symlink anywhere on the way instead of following it (for keys and other private files). */
  noSymlinks?: boolean;
}

/** A walk with `noSymlinks` met one. */
export class SymlinkOnPath extends FlintError {}

/** What a walk reached: an open directory, or where it stopped because the rest does not exist. */
export type Walked = { dir: RootDir; missing?: undefined } | { dir?: undefined; missing: string; firstMissing: string };

function split(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

/**
 * Opens the directory `path` (absolute, inside the root), following symlinks
 * as if chrooted. With `create`, missing components are made; without it a
 * missing one ends the walk with the would-be path. The caller closes the
 * directory.
 */
export function openDirectory(root: string, path: string, options: WalkOptions = {}): Walked {
  if (!path.startsWith("/")) throw new FlintError("path must be absolute", path);
  const held = heldRoots.get(root);
  const rootFd = held ?? openRootFd(root);
  // Open directories from the root down; stack[0] is the root.
  const stack: { fd: number; name: string }[] = [{ fd: rootFd, name: "" }];
  const here = (): string => "/" + stack.slice(1).map((s) => s.name).join("/");
  const closeAbove = (depth: number): void => {
    while (stack.length > Math.max(depth, 1)) closeSync(stack.pop()!.fd);
    if (depth === 0 && stack.length === 1 && held === undefined) closeSync(stack.pop()!.fd);
  };
  const todo = split(path);
  let symlinks = 0;
  try {
    while (todo.length > 0) {
      const name = todo.shift()!;
      if (name === "..") {
        closeAbove(Math.max(1, stack.length - 1)); // at the root, `..` is the root itself
        continue;
      }
      const parent = stack[stack.length - 1]!;
      const at = `/proc/self/fd/${parent.fd}/${name}`;
      let fd: number;
      try {
        fd = openSync(at, DIR_FLAGS);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const shown = posix.join(here(), name);
        if (code === "ENOENT") {
          // Below a missing directory nothing exists: the rest is taken as written.
          if (!options.create) return { missing: posix.normalize(posix.join(shown, ...todo)), firstMissing: shown };
          try {
            mkdirSync(at, { mode: 0o700 });
          } catch (made) {
            if ((made as NodeJS.ErrnoException).code !== "EEXIST") throw new FlintError(`cannot create ${shown}: ${(made as NodeJS.ErrnoException).code}`, path);
            todo.unshift(name); // someone else made it: look again
            continue;
          }
          fd = openSync(at, DIR_FLAGS);
          // Owned and moded as asked whatever the umask; chown before chmod.
          fchownSync(fd, 0, 0);
          fchmodSync(fd, 0o755);
          options.created?.(shown);
        } else if (code === "ENOTDIR" || code === "ELOOP") {
          const st = lstatSync(at, { throwIfNoEntry: false });
          if (!st) {
            todo.unshift(name); // gone meanwhile: look again
            if (++symlinks > MAX_SYMLINKS) throw new FlintError("the path keeps changing while it is resolved", path);
            continue;
          }
          if (!st.isSymbolicLink()) throw new FlintError(`${shown} exists and is not a directory`, path);
          if (options.noSymlinks) throw new SymlinkOnPath(`${shown} is a symlink; refusing to go through it`, path);
          if (++symlinks > MAX_SYMLINKS) throw new FlintError("too many levels of symbolic links", path);
          let target: string;
          try {
            target = readlinkSync(at);
          } catch {
            todo.unshift(name); // replaced meanwhile: look again
            continue;
          }
          if (target.startsWith("/")) closeAbove(1); // absolute: relative to the root, as in a chroot
          todo.unshift(...split(target));
          continue;
        } else {
          throw new FlintError(`cannot open ${shown}: ${code ?? (e as Error).message}`, path);
        }
      }
      stack.push({ fd, name });
    }
    // The caller closes what it gets: the held root itself is opened anew for it.
    if (stack.length === 1 && held !== undefined) return { dir: new RootDir(openRootFd(root), "/") };
    const top = stack.pop()!;
    return { dir: new RootDir(top.fd, posix.join(here(), top.name)) };
  } finally {
    closeAbove(0);
  }
}

/** The parent directory of a node and the node's name in it. */
export interface Parent {
  dir: RootDir;
  name: string;
}

/**
 * The last component of `path` and the directory it is in: symlinks on the
 * way are followed as if chrooted, the last component never (it is what is
 * written, read or replaced). `path` must name something below the root:
 * the root itself is never a node to write or replace.
 */
export function splitLast(path: string): { dir: string; name: string } {
  if (!path.startsWith("/")) throw new FlintError("path must be absolute", path);
  let parts = split(path);
  // A `..` in the last place would make a directory the node: such (rare, never from a config) paths are taken lexically.
  if (parts[parts.length - 1] === "..") parts = split(posix.normalize("/" + parts.join("/")));
  const name = parts.pop();
  if (name === undefined || name === "..") throw new FlintError("the root itself cannot be written, replaced or removed", path);
  return { dir: "/" + parts.join("/"), name };
}

/** Opens the parent of `path` (creating it with `create`); undefined when it does not exist. */
export function openParent(root: string, path: string, options: WalkOptions = {}): (Parent & { missing?: undefined }) | { dir?: undefined; name: string; missing: string } {
  const { dir, name } = splitLast(path);
  const walked = openDirectory(root, dir, options);
  if (walked.missing !== undefined) return { name, missing: posix.join(walked.missing, name) };
  return { dir: walked.dir, name };
}

/** lstat of `name` in `dir`, or undefined when there is nothing. */
export function lstatIn(dir: RootDir, name: string): Stats | undefined {
  return lstatSync(dir.at(name), { throwIfNoEntry: false });
}

export interface Resolved {
  /** The path on the host, inside the root when it was resolved; for tools that take a path. */
  hostPath: string;
  /** The same location as seen from inside the root (`/etc/motd`). */
  rootPath: string;
  /** lstat of the final component, or undefined when it does not exist. */
  stat?: Stats;
}

export interface ResolveOptions {
  /**
   * Follow a symlink in the last component. False when the last component is
   * what is being written (a file, a link, a directory to create): the
   * symlink itself is then replaced, never its target.
   */
  followLast?: boolean;
}

/**
 * Where `path` is on the host right now, and what is there. Only for what
 * must be named by path (a mount point for mount(8), a message); writes and
 * reads go through openParent / openDirectory or read.ts, which hold the
 * directory while they work.
 */
export async function inspectInRoot(root: string, path: string, options: ResolveOptions = {}): Promise<Resolved> {
  if (!path.startsWith("/")) throw new FlintError("path must be absolute", path);
  if (posix.normalize("/" + split(path).join("/")) === "/") return inspectRoot(root);
  const { dir, name } = splitLast(path);
  const walked = openDirectory(root, dir);
  if (walked.missing !== undefined) {
    const rootPath = posix.join(walked.missing, name);
    return { hostPath: posix.join(canonicalRootSync(root), rootPath), rootPath };
  }
  try {
    if (options.followLast) return inspectFollowing(root, walked.dir, name, path, 0);
    return { hostPath: posix.join(walked.dir.hostPath(), name), rootPath: walked.dir.inRoot(name), stat: lstatIn(walked.dir, name) };
  } finally {
    walked.dir.close();
  }
}

function inspectRoot(root: string): Resolved {
  const top = openDirectory(root, "/").dir!;
  try {
    return { hostPath: top.hostPath(), rootPath: "/", stat: top.stat() };
  } finally {
    top.close();
  }
}

/** The last component, followed while it is a symlink (chroot rules). */
function inspectFollowing(root: string, dir: RootDir, name: string, path: string, depth: number): Resolved {
  const stat = lstatIn(dir, name);
  if (!stat?.isSymbolicLink()) return { hostPath: posix.join(dir.hostPath(), name), rootPath: dir.inRoot(name), stat };
  if (depth >= MAX_SYMLINKS) throw new FlintError("too many levels of symbolic links", path);
  const target = readlinkSync(dir.at(name));
  const next = target.startsWith("/") ? target : posix.join(dir.rootPath, target);
  if (posix.normalize("/" + split(next).join("/")) === "/") return inspectRoot(root);
  const last = splitLast(next);
  const walked = openDirectory(root, last.dir);
  if (walked.missing !== undefined) {
    const rootPath = posix.join(walked.missing, last.name);
    return { hostPath: posix.join(canonicalRootSync(root), rootPath), rootPath };
  }
  try {
    return inspectFollowing(root, walked.dir, last.name, path, depth + 1);
  } finally {
    walked.dir.close();
  }
}

/** Where `path` (absolute, as seen inside the root) lives on the host. */
export async function resolveInRoot(root: string, path: string, options: ResolveOptions = {}): Promise<string> {
  return (await inspectInRoot(root, path, options)).hostPath;
}

/** The target of the symlink at `path` (its last component not followed), or undefined when there is none. */
export function readLinkInRoot(root: string, path: string): string | undefined {
  const parent = openParent(root, path);
  if (!parent.dir) return undefined;
  try {
    if (!lstatIn(parent.dir, parent.name)?.isSymbolicLink()) return undefined;
    return readlinkSync(parent.dir.at(parent.name));
  } finally {
    parent.dir.close();
  }
}

/** The names in the directory `path` (symlinks followed as if chrooted); [] when it does not exist. */
export function listDirectoryInRoot(root: string, path: string): string[] {
  const walked = openDirectory(root, path);
  if (!walked.dir) return [];
  try {
    return readdirSync(walked.dir.self);
  } finally {
    walked.dir.close();
  }
}
