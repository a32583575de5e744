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

import { closeSync, constants, fchmodSync, fchownSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, readlinkSync, readSync, realpathSync, type Stats } from "node:fs";
import { posix } from "node:path";
import { FlintError } from "../errors";

/** Linux gives up after 40 symlinks in one lookup (ELOOP); so does the one walk here. */
export const MAX_SYMLINKS = 40;

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

  private mount?: number;

  /** The mount it is on (the kernel's mnt_id): a bind mount of the same filesystem has its own, where st_dev is the same. */
  get mountId(): number {
    return (this.mount ??= mountIdOf(this.fd));
  }

  /** The same directory on a descriptor of its own, for a holder that outlives this one. */
  reopen(): RootDir {
    return new RootDir(openSync(this.self, constants.O_RDONLY | constants.O_DIRECTORY), this.rootPath);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }
}

/** The mount an open descriptor is on, from /proc/self/fdinfo (Node has no statx). */
export function mountIdOf(fd: number): number {
  // open, read, close: a few lines of text, read without readFileSync's fstat and second read.
  const info = openSync(`/proc/self/fdinfo/${fd}`, constants.O_RDONLY);
  let text: string;
  try {
    const n = readSync(info, fdinfoBuffer, 0, fdinfoBuffer.length, null);
    text = fdinfoBuffer.toString("latin1", 0, n);
  } finally {
    closeSync(info);
  }
  const id = /^mnt_id:\s*(\d+)/m.exec(text)?.[1];
  if (id === undefined) throw new Error(`no mnt_id in /proc/self/fdinfo/${fd}`);
  return Number(id);
}

const fdinfoBuffer = Buffer.alloc(512);

/** The root's canonical host path: a `--root` given through a symlink is fine. */
export function canonicalRoot(root: string): string {
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
  /**
   * The mounts (mnt_id) the walk may go through: a directory on any other
   * (a bind mount that is not this run's, a filesystem mounted by someone
   * else) ends it with an error, before anything is written there.
   */
  mounts?: ReadonlySet<number>;
}

/** What a walk reached: an open directory, or where it stopped because the rest does not exist. */
export type Walked = { dir: RootDir; missing?: undefined } | { dir?: undefined; missing: string; firstMissing: string };

/**
 * What chase() makes of the path's last component: open it as a directory
 * ("directory"), stop in front of it ("parent": it is what is written, read
 * or replaced, never followed), or follow it while it is a symlink
 * ("follow": where a chrooted open() would land).
 */
export type Last = "directory" | "parent" | "follow";

/** Where chase() ended: a directory held open and, unless the path named the directory itself, a name in it. */
export type Chased = { dir: RootDir; name?: string; missing?: undefined } | { dir?: undefined; name?: undefined; missing: string; firstMissing: string };

function split(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

/**
 * The one walk of a path inside the root (systemd's chase() is the model):
 * from the root down, each component opened with O_NOFOLLOW in the
 * directory before it; a symlink is read and its target walked instead, an
 * absolute one from the root, `..` stops at the root, at most MAX_SYMLINKS
 * of them. What happens to the last component is `last`'s. With `create`,
 * missing directories are made root:root 0755; without it, a missing one
 * ends the walk with the would-be path. Every descriptor the walk opens has
 * one owner, its stack, until the one it returns; the caller closes that.
 */
export function chase(root: string, path: string, last: Last, options: WalkOptions = {}): Chased {
  if (!path.startsWith("/")) throw new FlintError("path must be absolute", path);
  const todo = last === "parent" ? parentAndName(path) : split(path);
  const held = heldRoots.get(root);
  // Open directories from the root down; stack[0] is the root.
  const stack: { fd: number; name: string }[] = [{ fd: held ?? openRootFd(root), name: "" }];
  const here = (): string => "/" + stack.slice(1).map((s) => s.name).join("/");
  const popTo = (depth: number): void => {
    while (stack.length > depth) closeSync(stack.pop()!.fd);
  };
  let symlinks = 0;
  const followed = (): void => {
    if (++symlinks > MAX_SYMLINKS) throw new FlintError("too many levels of symbolic links", path);
  };
  let retries = 0;
  const again = (): void => {
    if (++retries > MAX_SYMLINKS + split(path).length) throw new FlintError("the path keeps changing while it is resolved", path);
  };
  try {
    while (todo.length > 0) {
      const name = todo.shift()!;
      if (name === "..") {
        popTo(Math.max(1, stack.length - 1)); // at the root, `..` is the root itself
        continue;
      }
      const at = `/proc/self/fd/${stack[stack.length - 1]!.fd}/${name}`;
      if (todo.length === 0 && last !== "directory") {
        if (last === "parent") return { dir: onAllowedMount(takeTop(stack, here, held, root), options.mounts, path), name };
        const target = symlinkTarget(at);
        if (target === undefined) return { dir: onAllowedMount(takeTop(stack, here, held, root), options.mounts, path), name };
        if (options.noSymlinks) throw new FlintError(`${posix.join(here(), name)} is a symlink; refusing to go through it`, path);
        followed();
        if (target.startsWith("/")) popTo(1);
        todo.push(...split(target));
        continue;
      }
      let fd: number;
      try {
        fd = openSync(at, DIR_FLAGS);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        const shown = posix.join(here(), name);
        if (code === "ENOENT" && !options.create) {
          // Below a missing directory nothing exists: the rest is taken as written.
          return { missing: posix.normalize(posix.join(shown, ...todo)), firstMissing: shown };
        }
        if (code === "ENOENT") {
          // Nothing is made in a directory on a mount the walk may not go through.
          if (options.mounts && !options.mounts.has(mountIdOf(stack[stack.length - 1]!.fd))) throw new FlintError(`${here()} is on a mount that is not this run's; refusing to write through it`, path);
          if (makeDirectory(at, shown, path)) options.created?.(shown);
          again(); // opened on the next turn (made here, or by someone else meanwhile)
          todo.unshift(name);
          continue;
        }
        if (code !== "ENOTDIR" && code !== "ELOOP") throw new FlintError(`cannot open ${shown}: ${code ?? (e as Error).message}`, path);
        const st = lstatSync(at, { throwIfNoEntry: false });
        if (st && !st.isSymbolicLink()) throw new FlintError(`${shown} exists and is not a directory`, path);
        if (st && options.noSymlinks) throw new FlintError(`${shown} is a symlink; refusing to go through it`, path);
        const target = st ? symlinkTarget(at) : undefined;
        if (target === undefined) {
          again(); // gone or replaced meanwhile: look again
          todo.unshift(name);
          continue;
        }
        followed();
        if (target.startsWith("/")) popTo(1); // absolute: relative to the root, as in a chroot
        todo.unshift(...split(target));
        continue;
      }
      stack.push({ fd, name });
    }
    return { dir: onAllowedMount(takeTop(stack, here, held, root), options.mounts, path) };
  } finally {
    popTo(held === undefined ? 0 : 1);
  }
}

/** The walk's last directory, taken off its stack for the caller (the held root is opened anew: the caller closes what it gets). */
function takeTop(stack: { fd: number; name: string }[], here: () => string, held: number | undefined, root: string): RootDir {
  if (stack.length === 1 && held !== undefined) return new RootDir(openRootFd(root), "/");
  const top = stack.pop()!;
  return new RootDir(top.fd, top.name === "" ? "/" : posix.join(here(), top.name));
}

/**
 * `dir` when it is on one of `mounts` (or no mounts are given); else it is
 * closed and the walk fails. Checked where the walk ends, which is where
 * anything is written: a directory below a mount is on that mount.
 */
function onAllowedMount(dir: RootDir, mounts: ReadonlySet<number> | undefined, path: string): RootDir {
  if (!mounts || mounts.has(dir.mountId)) return dir;
  dir.close();
  throw new FlintError(`${dir.rootPath} is on a mount that is not this run's; refusing to write through it`, path);
}

/** The target of the symlink at `at`, or undefined when it is not one (or not there). */
function symlinkTarget(at: string): string | undefined {
  try {
    return readlinkSync(at);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EINVAL" || code === "ENOENT") return undefined;
    throw e;
  }
}

/** A new directory root:root 0755 (whatever the umask); false when it already exists. */
function makeDirectory(at: string, shown: string, path: string): boolean {
  try {
    mkdirSync(at, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw new FlintError(`cannot create ${shown}: ${(e as NodeJS.ErrnoException).code}`, path);
  }
  const fd = openSync(at, DIR_FLAGS);
  try {
    fchownSync(fd, 0, 0); // chown before chmod
    fchmodSync(fd, 0o755);
  } finally {
    closeSync(fd);
  }
  return true;
}

/**
 * The components of `path` with its last one kept apart: a `..` in the last
 * place would make a directory the node, so such (rare, never from a
 * config) paths are taken lexically. The root itself is never a node to
 * write or replace.
 */
function parentAndName(path: string): string[] {
  let parts = split(path);
  if (parts[parts.length - 1] === "..") parts = split(posix.normalize("/" + parts.join("/")));
  if (parts.length === 0) throw new FlintError("the root itself cannot be written, replaced or removed", path);
  return parts;
}

/** Opens the directory `path` (absolute, inside the root); see chase(). The caller closes it. */
export function openDirectory(root: string, path: string, options: WalkOptions = {}): Walked {
  const c = chase(root, path, "directory", options);
  return c.dir ? { dir: c.dir } : c;
}

/** The parent directory of a node and the node's name in it. */
export interface Parent {
  dir: RootDir;
  name: string;
}

/** The directory part and last component of `path`, as chase(…, "parent") splits it. */
export function splitLast(path: string): { dir: string; name: string } {
  if (!path.startsWith("/")) throw new FlintError("path must be absolute", path);
  const parts = parentAndName(path);
  const name = parts.pop()!;
  return { dir: "/" + parts.join("/"), name };
}

/** Opens the parent of `path` (creating it with `create`); the missing path when it does not exist. */
export function openParent(root: string, path: string, options: WalkOptions = {}): (Parent & { missing?: undefined }) | { dir?: undefined; name: string; missing: string } {
  const c = chase(root, path, "parent", options);
  return c.dir ? { dir: c.dir, name: c.name! } : { name: posix.basename(c.missing), missing: c.missing };
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
 * reads go through chase(), which holds the directory while they work.
 */
export function inspectInRoot(root: string, path: string, options: ResolveOptions = {}): Resolved {
  const isRoot = split(posix.normalize("/" + split(path).join("/"))).length === 0;
  const c = chase(root, path, isRoot ? "directory" : options.followLast ? "follow" : "parent");
  if (!c.dir) return { hostPath: posix.join(canonicalRoot(root), c.missing), rootPath: c.missing };
  try {
    if (c.name === undefined) return { hostPath: c.dir.hostPath(), rootPath: c.dir.rootPath, stat: c.dir.stat() };
    return { hostPath: posix.join(c.dir.hostPath(), c.name), rootPath: c.dir.inRoot(c.name), stat: lstatIn(c.dir, c.name) };
  } finally {
    c.dir.close();
  }
}

/** inspectInRoot, or undefined when the path cannot be walked (a loop, a file on the way). */
export function inspectIfWalkable(root: string, path: string, options: ResolveOptions = {}): Resolved | undefined {
  try {
    return inspectInRoot(root, path, options);
  } catch {
    return undefined;
  }
}

/** Where `path` (absolute, as seen inside the root) lives on the host. */
export function resolveInRoot(root: string, path: string, options: ResolveOptions = {}): string {
  return inspectInRoot(root, path, options).hostPath;
}

/** The target of the symlink at `path` (its last component not followed), or undefined when there is none. */
export function readLinkInRoot(root: string, path: string): string | undefined {
  const parent = openParent(root, path);
  if (!parent.dir) return undefined;
  try {
    return symlinkTarget(parent.dir.at(parent.name));
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
