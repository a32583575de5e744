// Changes to the future root that cannot escape it and cannot be seen half
// done: directories are created one component at a time through the
// resolver, files and links are made under a temporary name in their final
// directory, synced, given their mode and owner, then renamed into place.
// A CommitBatch does the syncing for many temporary files at once.

import { closeSync, constants, fchmodSync, fchownSync, lchownSync, openSync, renameSync, rmSync, statSync, symlinkSync, writeSync, type Stats } from "node:fs";
import { lchown, link, lstat, mkdir, open, readdir, rename, rm, symlink, unlink, type FileHandle } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { posix } from "node:path";
import { FlintError } from "../errors";
import { canonicalRoot, inspectInRoot } from "./resolve";

import { TEMP_PREFIX } from "./temp-name";

export { TEMP_PREFIX };

export interface Ownership {
  uid: number;
  gid: number;
}

const ROOT_OWNER: Ownership = { uid: 0, gid: 0 };

/** What a directory walk created, as paths inside the root, for the action record. */
export type Created = (rootPath: string) => void;

/**
 * Makes sure the directory `dir` (a path inside the root) exists, creating
 * each missing component as root:root 0755, and returns its host path.
 * Symlinks on the way are followed as if chrooted. With `dryRun` nothing is
 * created; the would-be path is returned and `created` still hears of each.
 */
export async function ensureDirectory(
  root: string,
  dir: string,
  options: { dryRun?: boolean; created?: Created; pending?: (hostPath: string) => Promise<boolean> } = {},
): Promise<string> {
  // Each pass creates one missing component; a path has finitely many.
  for (let pass = 0; pass < 4096; pass++) {
    const here = await inspectInRoot(root, dir, { followLast: true });
    if (here.stat?.isDirectory()) return here.hostPath;
    if (here.stat) throw new FlintError(`${here.rootPath} exists and is not a directory`, dir);
    // Find the first missing component of the resolved path and make it.
    const base = await canonicalRoot(root);
    const parts = here.rootPath.split("/").filter(Boolean);
    let prefix = "";
    for (const part of parts) {
      prefix += "/" + part;
      const st = await lstatOrUndefined(base + prefix);
      if (st) continue;
      // A file or link waiting under a temporary name to become this path: put it in place and look again.
      if (!options.dryRun && (await options.pending?.(base + prefix))) break;
      options.created?.(prefix);
      if (options.dryRun) {
        // Nothing below exists either; report the rest and stop.
        let rest = prefix;
        for (const more of parts.slice(prefix.split("/").length - 1)) {
          rest += "/" + more;
          options.created?.(rest);
        }
        return here.hostPath;
      }
      await makeOneDirectory(base + prefix, 0o755, ROOT_OWNER);
      break;
    }
  }
  throw new FlintError("could not create the directory", dir);
}

/** mkdir of one component, owned and moded as asked whatever the umask. */
export async function makeOneDirectory(hostPath: string, mode: number, owner: Ownership): Promise<void> {
  try {
    await mkdir(hostPath, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    const st = await lstat(hostPath);
    if (!st.isDirectory()) throw new FlintError("exists and is not a directory", hostPath);
    return;
  }
  await lchown(hostPath, owner.uid, owner.gid);
  await chmodNoFollow(hostPath, mode);
}

export async function lstatOrUndefined(hostPath: string): Promise<Stats | undefined> {
  try {
    return await lstat(hostPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

/** chmod that refuses to act through a symlink swapped in after the check. */
export async function chmodNoFollow(hostPath: string, mode: number): Promise<void> {
  const handle = await open(hostPath, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    await handle.chmod(mode);
  } finally {
    await handle.close();
  }
}

/** Sets owner (and for non-links mode) on an existing node without following a final symlink. */
export async function setOwnerAndMode(hostPath: string, owner: Ownership, mode?: number): Promise<void> {
  await lchown(hostPath, owner.uid, owner.gid);
  if (mode !== undefined) await chmodNoFollow(hostPath, mode);
}

/** Random per process, counted per name; every temporary file is still created with O_EXCL. */
const tempBase = randomBytes(4).toString("hex");
let tempCount = 0;

function tempName(dirHost: string): string {
  return posix.join(dirHost, `${TEMP_PREFIX}${tempBase}${(tempCount++).toString(36)}`);
}

/** A new, empty, private temporary file in `dirHost` (never follows or reuses a name). */
export async function createTempFile(dirHost: string): Promise<{ path: string; handle: FileHandle }> {
  const path = tempName(dirHost);
  const handle = await open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  return { path, handle };
}

/**
 * Gives the finished temp file its mode and owner, syncs it, and renames it
 * over `finalHost` (which, if it is a symlink, is replaced, not followed).
 */
export async function commitTempFile(tempPath: string, finalHost: string, mode: number, owner: Ownership): Promise<void> {
  const handle = await open(tempPath, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    await handle.chown(owner.uid, owner.gid);
    await handle.chmod(mode); // after chown: chown clears setuid/setgid bits
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tempPath, finalHost);
  await syncDirectory(posix.dirname(finalHost));
}

/** Creates a symlink at `finalHost` atomically, replacing whatever is there. */
export async function replaceWithSymlink(finalHost: string, target: string, owner: Ownership): Promise<void> {
  await replaceWithLink(finalHost, (temp) => symlink(target, temp), owner);
}

/**
 * Creates a hard link to `targetHost` at `finalHost` atomically, replacing
 * whatever is there. No owner: the link is the target's inode, whose owner
 * and mode are the target's own.
 */
export async function replaceWithHardLink(finalHost: string, targetHost: string): Promise<void> {
  await replaceWithLink(finalHost, (temp) => link(targetHost, temp));
}

/** Makes the link under a temporary name beside `finalHost`, then renames it into place. */
async function replaceWithLink(finalHost: string, make: (temp: string) => Promise<void>, owner?: Ownership): Promise<void> {
  const temp = tempName(posix.dirname(finalHost));
  await make(temp);
  try {
    if (owner) await lchown(temp, owner.uid, owner.gid);
    await rename(temp, finalHost);
  } catch (e) {
    await rm(temp, { force: true });
    throw e;
  }
  await syncDirectory(posix.dirname(finalHost));
}

/** Deletes a node (a directory with everything in it; symlinks are not followed). */
export async function removeNode(hostPath: string): Promise<void> {
  const st = await lstatOrUndefined(hostPath);
  if (!st) return;
  if (st.isDirectory()) await rm(hostPath, { recursive: true, force: true });
  else await unlink(hostPath);
}

/**
 * Removes temp files a killed earlier run left in `dirHost`: ours, and the
 * resource layer's own temp names made beside them (`.<ours>.flint-…`).
 */
export async function sweepTempFiles(dirHost: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dirHost);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(TEMP_PREFIX) || name.startsWith("." + TEMP_PREFIX)) await rm(posix.join(dirHost, name), { force: true, recursive: true });
  }
}

export async function syncDirectory(dirHost: string): Promise<void> {
  const handle = await open(dirHost, constants.O_RDONLY | constants.O_DIRECTORY);
  try {
    await handle.sync();
  } catch (e) {
    // Some filesystems cannot fsync a directory; the rename is still atomic.
    if ((e as NodeJS.ErrnoException).code !== "EINVAL") throw e;
  } finally {
    await handle.close();
  }
}

/**
 * Temporary files (and links) waiting to be renamed to their real names,
 * made durable together: `flush` syncs each filesystem they are on once
 * (syncfs), then renames them all in the order they were added. A crash
 * before the renames leaves only temporary names, which the next run sweeps;
 * a crash after leaves only complete files, since the contents reached the
 * disk before any real name pointed at them. The renames themselves reach
 * the disk with the next flush's sync, or with `settle`, which the caller
 * runs once at the end. The caller flushes as late as it can (once per
 * stage, or when a later entry needs a pending one in place), since each
 * syncfs is a child process.
 */
export class CommitBatch {
  private pending: { temp: string; final: string }[] = [];
  /** Final names of `pending`, for `holds`. */
  private finals = new Set<string>();
  /** Directories with renames not yet synced. */
  private renamedIn = new Set<string>();

  constructor(
    private readonly syncFilesystem: (path: string) => Promise<void>,
    private readonly syncDir: (dir: string) => Promise<void> = syncDirectory,
  ) {}

  /** Bytes of contents pending. */
  bytes = 0;

  get size(): number {
    return this.pending.length;
  }

  /** Whether something pending goes to `final` (it is not there yet). */
  holds(final: string): boolean {
    return this.finals.has(final);
  }

  /** `temp` is complete (contents, owner, mode) and goes to `final` at the next flush. */
  add(temp: string, final: string, bytes = 0): void {
    this.pending.push({ temp, final });
    this.finals.add(final);
    this.bytes += bytes;
  }

  /** Flushes run one after another, so renames keep the order the files were added in. */
  private flushing: Promise<void> = Promise.resolve();

  flush(): Promise<void> {
    const next = this.flushing.then(() => this.flushNow());
    this.flushing = next.catch(() => undefined);
    return next;
  }

  private async flushNow(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    this.finals = new Set();
    this.bytes = 0;
    if (batch.length === 0) return;
    const dirs = new Set(batch.map((p) => posix.dirname(p.temp)));
    try {
      await this.syncAll([...dirs, ...this.renamedIn]);
      this.renamedIn.clear(); // those renames are on disk now
    } catch (e) {
      for (const { temp } of batch) rmSync(temp, { force: true });
      throw e;
    }
    for (const [i, { temp, final }] of batch.entries()) {
      try {
        renameSync(temp, final);
      } catch (e) {
        for (const rest of batch.slice(i)) rmSync(rest.temp, { force: true });
        throw new FlintError(`cannot move the new file into place: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, final);
      } finally {
        this.renamedIn.add(posix.dirname(final));
      }
    }
  }

  /**
   * Makes the renames done so far durable (after the last flush): an fsync
   * of each directory that got one, or one syncfs when there are many.
   */
  async settle(): Promise<void> {
    const dirs = [...this.renamedIn];
    this.renamedIn.clear();
    if (dirs.length > SETTLE_BY_FSYNC) return this.syncAll(dirs);
    await Promise.all(dirs.map((dir) => this.syncDir(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw e; // gone (a later entry replaced it): nothing there to sync
    })));
  }

  /** Removes everything still pending (a failed run leaves no temporary files behind). */
  discard(): void {
    for (const { temp } of this.pending) rmSync(temp, { force: true });
    this.pending = [];
    this.finals = new Set();
    this.bytes = 0;
  }

  /** One syncfs per filesystem among `dirs`. */
  private async syncAll(dirs: string[]): Promise<void> {
    const byDevice = new Map<number, string>();
    for (const dir of dirs) {
      const dev = statSync(dir, { throwIfNoEntry: false })?.dev;
      if (dev === undefined) continue; // gone (a later entry replaced it): nothing there to sync
      if (!byDevice.has(dev)) byDevice.set(dev, dir);
    }
    await Promise.all([...byDevice.values()].map((dir) => this.syncFilesystem(dir)));
  }
}

/**
 * Up to this many directories, `settle` fsyncs each (no child process);
 * beyond, one syncfs costs less than the fsyncs.
 */
const SETTLE_BY_FSYNC = 64;

/**
 * Writes `data` to a new temporary file in `dirHost` with its owner and
 * then its mode (chown clears setuid bits), unsynced: for a CommitBatch.
 * Synchronous: a handful of system calls cost less than the thread-pool
 * round trips of their promise versions.
 */
export function writeTempFileSync(dirHost: string, data: Buffer, mode: number, owner: Ownership): string {
  const path = tempName(dirHost);
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done);
    fchownSync(fd, owner.uid, owner.gid);
    fchmodSync(fd, mode);
  } catch (e) {
    closeSync(fd);
    rmSync(path, { force: true });
    throw e;
  }
  closeSync(fd);
  return path;
}

/** Gives an existing temporary file its owner and then its mode, unsynced: for a CommitBatch. */
export function finishTempFileSync(tempPath: string, mode: number, owner: Ownership): void {
  const fd = openSync(tempPath, constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    fchownSync(fd, owner.uid, owner.gid);
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

/** A symlink under a temporary name beside `finalHost`, owned as asked: for a CommitBatch. */
export function tempSymlinkSync(finalHost: string, target: string, owner: Ownership): string {
  const temp = tempName(posix.dirname(finalHost));
  symlinkSync(target, temp);
  try {
    lchownSync(temp, owner.uid, owner.gid);
  } catch (e) {
    rmSync(temp, { force: true });
    throw e;
  }
  return temp;
}
