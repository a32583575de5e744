// Changes to the future root that cannot escape it and cannot be seen half
// done. Every change is made by name inside a directory held open (a
// RootDir from resolve.ts, walked afresh for that change), never through a
// host path: directories are created one component at a time, files and
// links are made under a temporary name in their final directory, given
// their owner and mode, then renamed into place. A CommitBatch does the
// syncing for many temporary files at once.

import { closeSync, constants, fchmodSync, fchownSync, fsync, fsyncSync, lchownSync, linkSync, mkdirSync, openSync, readdirSync, renameSync, rmdirSync, symlinkSync, unlinkSync, writeSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { posix } from "node:path";
import { FlintError } from "../errors";
import { lstatIn, openDirectory, openParent, RootDir, type Ownership } from "./resolve";

export type { Ownership } from "./resolve";
export { RootDir } from "./resolve";

import { TEMP_PREFIX, tempName } from "./temp-name";

export { TEMP_PREFIX, tempName };

const ROOT_OWNER: Ownership = { uid: 0, gid: 0 };

/** What a directory walk created, as paths inside the root, for the action record. */
export type Created = (rootPath: string) => void;

/**
 * Opens the directory `dir` (a path inside the root), creating each missing
 * component as root:root 0755; symlinks on the way are followed as if
 * chrooted. With `dryRun` nothing is created: `created` hears of each
 * component that would be, and undefined is returned when any is missing.
 * The caller closes the directory.
 */
export function openOrCreateDirectory(root: string, dir: string, options: { dryRun?: boolean; created?: Created; noSymlinks?: boolean } = {}): RootDir | undefined {
  if (!options.dryRun) return openDirectory(root, dir, { create: true, created: options.created, noSymlinks: options.noSymlinks }).dir!;
  const walked = openDirectory(root, dir);
  if (walked.missing === undefined) return walked.dir;
  // Nothing below the first missing component exists either; announce them all.
  const rest = walked.missing.slice(walked.firstMissing.length).split("/").filter(Boolean);
  let prefix = walked.firstMissing;
  options.created?.(prefix);
  for (const part of rest) options.created?.((prefix = posix.join(prefix, part)));
  return undefined;
}

/**
 * mkdir of `name` in `dir`, owned and moded as asked whatever the umask; an
 * existing directory is left alone. It is made with its mode already (less
 * what the umask takes), so that a run killed before the chmod leaves the
 * usual 0755 parent as a clean run makes it.
 */
export function makeOneDirectory(dir: RootDir, name: string, mode: number, owner: Ownership): void {
  try {
    mkdirSync(dir.at(name), { mode: mode & 0o777 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    if (!lstatIn(dir, name)?.isDirectory()) throw new FlintError("exists and is not a directory", dir.inRoot(name));
    return;
  }
  const fd = openSync(dir.at(name), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    fchownSync(fd, owner.uid, owner.gid);
    fchmodSync(fd, mode); // after chown: chown clears setuid/setgid bits
  } finally {
    closeSync(fd);
  }
}

/**
 * Sets owner (and, when given, mode) of `name` in `dir` without following a
 * final symlink: a symlink gets lchown only; anything else is opened
 * O_PATH-like (non-blocking, no follow) so the mode goes to what was checked.
 */
export function setOwnerAndMode(dir: RootDir, name: string, owner: Ownership, mode?: number): void {
  lchownSync(dir.at(name), owner.uid, owner.gid);
  if (mode === undefined) return;
  const fd = openSync(dir.at(name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

const NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** A new, empty, private temporary file in `dir` (never follows or reuses a name). */
export async function createTempFile(dir: RootDir): Promise<{ name: string; path: string; handle: FileHandle }> {
  const name = tempName();
  const handle = await open(dir.at(name), NEW_FILE, 0o600);
  return { name, path: dir.at(name), handle };
}

/**
 * Writes `data` as `name` in the directory `dirPath` of the root: the
 * directory is walked (and made) now, the file is written under a temporary
 * name with its owner and mode, synced, and renamed into place; with
 * `renameSynced: false` the directory is not synced after (a crash may then
 * leave the previous file, complete: for the report, which the next run writes again).
 */
export async function writeRootFile(root: string, path: string, data: FileData, mode: number, owner: Ownership = ROOT_OWNER, options: { dirMode?: number; renameSynced?: boolean } = {}): Promise<void> {
  const parent = openParent(root, path, { create: true });
  const dir = parent.dir!;
  try {
    if (options.dirMode !== undefined) fchmodSync(dir.fd, options.dirMode);
    await writeFilesIn([{ dir, name: parent.name, data, mode, owner }], { renameSynced: options.renameSynced });
  } finally {
    dir.close();
  }
}

/** What a file is written from: its bytes, its text, or its bytes a piece at a time (a big report, never held whole). */
export type FileData = Buffer | string | Iterable<Buffer>;

export interface NewFile {
  dir: RootDir;
  name: string;
  data: FileData;
  mode: number;
  owner: Ownership;
}

/**
 * The atomic write of writeRootFile for a few files in directories already
 * open: each goes to a temporary name, all are synced at once (the
 * filesystem commits them together, where one after another would cost a
 * journal commit each), renamed in order, then their directories synced at once.
 */
export async function writeFilesIn(files: NewFile[], options: { renameSynced?: boolean } = {}): Promise<void> {
  const temps: string[] = [];
  const fds: number[] = [];
  try {
    for (const f of files) {
      const made = writeTempFileOpen(f.dir, typeof f.data === "string" ? Buffer.from(f.data) : f.data, f.mode, f.owner);
      temps.push(made.name);
      fds.push(made.fd);
    }
    await Promise.all(fds.map(fsyncInPool));
  } catch (e) {
    temps.forEach((temp, i) => unlinkQuietly(files[i]!.dir, temp));
    throw e;
  } finally {
    for (const fd of fds) closeSync(fd);
  }
  for (const [i, f] of files.entries()) {
    try {
      renameSync(f.dir.at(temps[i]!), f.dir.at(f.name));
    } catch (e) {
      for (const [j, later] of files.entries()) if (j >= i) unlinkQuietly(later.dir, temps[j]!);
      throw e;
    }
  }
  if (options.renameSynced !== false) await syncDirectories([...new Set(files.map((f) => f.dir))]);
}

function fsyncInPool(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fsync(fd, (e) => (e ? reject(e) : resolve())));
}

/** fsync of each directory, all at once (see syncDirectory for filesystems that cannot). */
export async function syncDirectories(dirs: RootDir[]): Promise<void> {
  await Promise.all(
    dirs.map((dir) =>
      fsyncInPool(dir.fd).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "EINVAL") throw e;
      }),
    ),
  );
}

/**
 * Creates a hard link to `target` (a name in `targetDir`) as `name` in
 * `dir`, atomically, replacing whatever is there. No owner: the link is the
 * target's inode, whose owner and mode are the target's own.
 */
export function replaceWithHardLink(dir: RootDir, name: string, targetDir: RootDir, target: string): void {
  const temp = tempName();
  linkSync(targetDir.at(target), dir.at(temp)); // link(2) never follows a last symlink
  renameIntoPlace(dir, temp, name);
}

/** `temp` renamed over `name` in `dir` (removed if that fails), and the directory synced. */
function renameIntoPlace(dir: RootDir, temp: string, name: string): void {
  try {
    renameSync(dir.at(temp), dir.at(name));
  } catch (e) {
    unlinkQuietly(dir, temp);
    throw e;
  }
  syncDirectory(dir);
}

function unlinkQuietly(dir: RootDir, name: string): void {
  try {
    unlinkSync(dir.at(name));
  } catch {
    // already gone
  }
}

/**
 * Deletes `name` in `dir`, a directory with everything in it. Each directory
 * is opened with O_NOFOLLOW and emptied through its own descriptor, so a
 * subdirectory swapped for a symlink meanwhile is unlinked, never followed.
 */
export function removeNode(dir: RootDir, name: string): void {
  try {
    unlinkSync(dir.at(name));
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return;
    if (code !== "EISDIR" && code !== "EPERM") throw e;
  }
  emptyDirectory(dir, name);
  rmdirSync(dir.at(name));
}

/**
 * Removes everything inside the directory `name` of `dir` (not the directory
 * itself), never following a link; returns how many entries it held. With
 * `dryRun` only counts them.
 */
export function emptyDirectory(dir: RootDir, name: string, options: { dryRun?: boolean } = {}): number {
  const inner = openDirectory(dir.self, "/" + name, { noSymlinks: true });
  if (inner.missing !== undefined) return 0;
  const sub = new RootDir(inner.dir.fd, dir.inRoot(name));
  try {
    const children = readdirSync(sub.self);
    if (!options.dryRun) for (const child of children) removeNode(sub, child);
    return children.length;
  } finally {
    sub.close();
  }
}

/**
 * Removes temp files a killed earlier run left in `dir`: every name with the
 * one temporary prefix (root/temp-name.ts), whoever made it here.
 */
export function sweepTempFiles(dir: RootDir): void {
  let names: string[];
  try {
    names = readdirSync(dir.self);
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(TEMP_PREFIX)) removeNode(dir, name);
  }
}

export function syncDirectory(dir: RootDir): void {
  try {
    fsyncSync(dir.fd);
  } catch (e) {
    // Some filesystems cannot fsync a directory; the rename is still atomic.
    if ((e as NodeJS.ErrnoException).code !== "EINVAL") throw e;
  }
}

/**
 * Temporary files (and links) waiting to be renamed to their real names,
 * made durable together: `flush` syncs each filesystem they are on once
 * (syncfs), then renames them all in the order they were added. Each
 * directory is walked again for its renames (a directory swapped since the
 * temporary file was made fails the rename: its temporary name is not in
 * what the path now leads to). A crash before the renames leaves only
 * temporary names, which the next run sweeps; a crash after leaves only
 * complete files, since the contents reached the disk before any real name
 * pointed at them. The renames themselves reach the disk with the next
 * flush's sync, or with `settle`, which the caller runs once at the end. The
 * caller flushes as late as it can (once per stage, or when a later entry
 * needs a pending one in place), since each syncfs is a child process; a
 * handful of regular files since the last sync (SSH keys after the rest, a
 * small config) are fsynced each instead, with no child process.
 */
export class CommitBatch {
  private pending: { dir: string; temp: string; final: string }[] = [];
  /** Where `pending` goes, as paths in the root (and as the config wrote them), for `holds`. */
  private finals = new Set<string>();
  /** One host path per filesystem with writes not yet synced, for syncfs. */
  private dirty = new Map<number, string>();
  /** Directories (paths in the root) with renames not yet synced. */
  private renamedIn = new Set<string>();
  /**
   * Open descriptors of the regular files added since the last sync, while
   * they are few (FSYNC_AT_MOST) and nothing else was added; undefined once
   * the next sync must be a syncfs.
   */
  private fewFiles: number[] | undefined = [];
  private readonly syncDirs: (dirs: RootDir[]) => Promise<void>;
  private readonly fsyncAtMost: number;

  constructor(
    private readonly root: string,
    private readonly syncFilesystem: (path: string) => Promise<void>,
    options: { syncDirs?: (dirs: RootDir[]) => Promise<void>; fsyncAtMost?: number } = {},
  ) {
    this.syncDirs = options.syncDirs ?? syncDirectories;
    this.fsyncAtMost = options.fsyncAtMost ?? FSYNC_AT_MOST;
  }

  /** Whether something pending goes to `path` (a path in the root): it is not there yet. */
  holds(path: string): boolean {
    return this.finals.has(path);
  }

  /** Bytes of contents pending. */
  bytes = 0;

  get size(): number {
    return this.pending.length;
  }

  /**
   * `temp` (complete: contents, owner, mode) goes to `final` in `dir` at the
   * next flush; `alias` is the config's path for it, `regularFile` says it
   * is one (a file can be fsynced alone, a symlink cannot).
   */
  add(dir: RootDir, temp: string, final: string, options: { bytes?: number; alias?: string; regularFile?: boolean } = {}): void {
    this.pending.push({ dir: dir.rootPath, temp, final });
    this.finals.add(dir.inRoot(final));
    if (options.alias !== undefined) this.finals.add(options.alias);
    this.bytes += options.bytes ?? 0;
    this.noteFilesystem(dir);
    if (!this.fewFiles) return;
    if (options.regularFile && this.fewFiles.length < this.fsyncAtMost) this.fewFiles.push(openSync(dir.at(temp), constants.O_RDONLY | constants.O_NOFOLLOW));
    else this.forgetFewFiles();
  }

  /** The next sync is a syncfs. */
  private forgetFewFiles(): void {
    for (const fd of this.fewFiles ?? []) closeSync(fd);
    this.fewFiles = undefined;
  }

  private noteFilesystem(dir: RootDir): void {
    const dev = dir.dev;
    if (!this.dirty.has(dev)) this.dirty.set(dev, dir.hostPath());
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
    try {
      // After a syncfs, the renames of earlier flushes are on disk too.
      if (await this.syncWritten()) this.renamedIn.clear();
    } catch (e) {
      this.remove(batch);
      throw e;
    }
    const open = new Map<string, RootDir>();
    try {
      for (const [i, { dir, temp, final }] of batch.entries()) {
        try {
          let d = open.get(dir);
          if (!d) {
            const walked = openDirectory(this.root, dir);
            if (walked.missing !== undefined) throw Object.assign(new Error("directory gone"), { code: "ENOENT" });
            d = walked.dir;
            open.set(dir, d);
            this.noteFilesystem(d);
          }
          renameSync(d.at(temp), d.at(final));
          this.renamedIn.add(dir);
        } catch (e) {
          this.remove(batch.slice(i), open);
          throw new FlintError(`cannot move the new file into place: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, posix.join(dir, final));
        }
      }
    } finally {
      for (const d of open.values()) d.close();
    }
  }

  /**
   * Makes the renames done so far durable (after the last flush): an fsync
   * of each directory that got one, or one syncfs when there are many.
   */
  async settle(): Promise<void> {
    const dirs = [...this.renamedIn];
    this.renamedIn.clear();
    if (dirs.length > SETTLE_BY_FSYNC) return this.syncAll();
    this.dirty.clear();
    const open: RootDir[] = [];
    try {
      for (const path of dirs) {
        const walked = openDirectory(this.root, path);
        if (walked.missing === undefined) open.push(walked.dir); // else gone (a later entry replaced it): nothing there to sync
      }
      await this.syncDirs(open);
    } finally {
      for (const dir of open) dir.close();
    }
  }

  /** Removes everything still pending (a failed run leaves no temporary files behind). */
  discard(): void {
    this.forgetFewFiles();
    this.fewFiles = [];
    this.remove(this.pending);
    this.pending = [];
    this.finals = new Set();
    this.bytes = 0;
  }

  /** Removes the temporary files of `entries`, each looked up again in its directory. */
  private remove(entries: { dir: string; temp: string }[], open = new Map<string, RootDir>()): void {
    const opened: RootDir[] = [];
    for (const { dir, temp } of entries) {
      let d = open.get(dir);
      if (!d) {
        const walked = openDirectory(this.root, dir);
        if (walked.missing !== undefined) continue;
        d = walked.dir;
        open.set(dir, d);
        opened.push(d);
      }
      unlinkQuietly(d, temp);
    }
    for (const d of opened) d.close();
  }

  /**
   * Makes what is pending durable now, ahead of the flush (which then has
   * nothing left to sync unless more is added): for a moment when the stage
   * waits anyway. If it fails, the flush syncs again.
   */
  async syncPending(): Promise<void> {
    await this.syncWritten();
  }

  /**
   * Makes everything written since the last sync durable: an fsync of each of
   * a few regular files, else one syncfs per filesystem written to. Says
   * whether it was the syncfs (which carries earlier renames to disk too).
   * After a failure the next sync makes it again, as a syncfs.
   */
  private async syncWritten(): Promise<boolean> {
    const few = this.fewFiles;
    this.fewFiles = [];
    if (few) {
      try {
        await Promise.all(few.map(fsyncInPool));
      } catch (e) {
        this.forgetFewFiles();
        throw e;
      } finally {
        for (const fd of few) closeSync(fd);
      }
      return false;
    }
    try {
      await this.syncAll();
    } catch (e) {
      this.forgetFewFiles();
      throw e;
    }
    return true;
  }

  /** One syncfs per filesystem written to since the last sync; after a failure they are still to be synced. */
  private async syncAll(): Promise<void> {
    const dirty = new Map(this.dirty);
    this.dirty.clear();
    try {
      await Promise.all([...dirty.values()].map((path) => this.syncFilesystem(path)));
    } catch (e) {
      for (const [dev, path] of dirty) if (!this.dirty.has(dev)) this.dirty.set(dev, path);
      throw e;
    }
  }
}

/**
 * Up to this many directories, `settle` fsyncs each (no child process);
 * beyond, one syncfs costs less than the fsyncs.
 */
const SETTLE_BY_FSYNC = 64;

/** Up to this many regular files (and nothing else) since the last sync, each is fsynced instead of a syncfs. */
const FSYNC_AT_MOST = 8;

/**
 * Writes `data` to a new temporary file in `dir` with its owner and then its
 * mode (chown clears setuid bits), unsynced: for a CommitBatch or writeFilesIn.
 * Synchronous: a handful of system calls cost less than the thread-pool
 * round trips of their promise versions. Returns the temporary name.
 */
export function writeTempFileSync(dir: RootDir, data: Buffer | Iterable<Buffer>, mode: number, owner: Ownership): string {
  const { name, fd } = writeTempFileOpen(dir, data, mode, owner);
  closeSync(fd);
  return name;
}

/** writeTempFileSync, the file left open for an fsync of its own (writeFilesIn); the caller closes it. */
function writeTempFileOpen(dir: RootDir, data: Buffer | Iterable<Buffer>, mode: number, owner: Ownership): { name: string; fd: number } {
  const name = tempName();
  const fd = openSync(dir.at(name), NEW_FILE, 0o600);
  try {
    for (const chunk of Buffer.isBuffer(data) ? [data] : data) {
      for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done, chunk.length - done);
    }
    fchownSync(fd, owner.uid, owner.gid);
    fchmodSync(fd, mode);
  } catch (e) {
    closeSync(fd);
    unlinkQuietly(dir, name);
    throw e;
  }
  return { name, fd };
}

/** Gives an existing temporary file its owner and then its mode, unsynced: for a CommitBatch. */
export function finishTempFileSync(dir: RootDir, temp: string, mode: number, owner: Ownership): void {
  const fd = openSync(dir.at(temp), constants.O_RDONLY | constants.O_NOFOLLOW);
  try {
    fchownSync(fd, owner.uid, owner.gid);
    fchmodSync(fd, mode);
  } finally {
    closeSync(fd);
  }
}

/** A symlink under a temporary name in `dir`, owned as asked: for a CommitBatch. Returns the temporary name. */
export function tempSymlinkSync(dir: RootDir, target: string, owner: Ownership): string {
  const temp = tempName();
  symlinkSync(target, dir.at(temp));
  try {
    lchownSync(dir.at(temp), owner.uid, owner.gid);
  } catch (e) {
    unlinkQuietly(dir, temp);
    throw e;
  }
  return temp;
}

/** Removes whatever is at `path` in the root (a directory with its contents), never following a link; nothing there is fine. */
export function removeInRoot(root: string, path: string): void {
  const parent = openParent(root, path);
  if (!parent.dir) return;
  try {
    removeNode(parent.dir, parent.name);
  } finally {
    parent.dir.close();
  }
}

/** Removes the directory at `path` in the root if it is empty; anything else leaves it. */
export function removeEmptyDirectoryInRoot(root: string, path: string): void {
  const parent = openParent(root, path);
  if (!parent.dir) return;
  try {
    rmdirSync(parent.dir.at(parent.name));
  } catch {
    // not empty, not a directory, or gone: left as it is
  } finally {
    parent.dir.close();
  }
}
