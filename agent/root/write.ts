// Changes to the future root that cannot escape it and cannot be seen half
// done. Every change is made by name inside a directory held open (a
// RootDir from chase(), walked afresh for that change), never through a
// host path: directories are created one component at a time; a new file
// is a StagedFile, created O_EXCL|O_NOFOLLOW under a temporary name in its
// final directory and written, read back, owned and moded through the one
// descriptor it was created with, until a CommitBatch renames it into place.
//
// The one durability rule (docs/files.md#durability): a name Flint gives
// to a file points at complete contents. Before a batch renames anything,
// every filesystem it wrote to is synced (syncfs, through a descriptor);
// the renames are synced the same way when the batch settles, before the
// stage (or the one-file write) returns.

import { closeSync, constants, fchmodSync, fchownSync, fstatSync, lchownSync, linkSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmdirSync, symlinkSync, unlinkSync, writeSync } from "node:fs";
import { posix } from "node:path";
import { FlintError } from "../errors";
import { crypto } from "../crypto";
import { lstatIn, mountIdOf, openDirectory, openParent, RootDir, type Ownership, type Walked } from "./resolve";
import { TEMP_PREFIX, tempName } from "./temp-name";

export type { Ownership } from "./resolve";
export { RootDir } from "./resolve";
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
export function openOrCreateDirectory(root: string, dir: string, options: { dryRun?: boolean; created?: Created; mounts?: ReadonlySet<number> } = {}): RootDir | undefined {
  if (!options.dryRun) return openDirectory(root, dir, { create: true, created: options.created, mounts: options.mounts }).dir!;
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
 * Sets owner (and, when given, mode) of `name` in `dir` in place, without
 * following a final symlink: a symlink gets lchown only; anything else is
 * opened non-blocking without following and changed through that
 * descriptor. A node with other hard links (which may be outside the root)
 * is never changed in place: false, and the caller replaces it instead.
 * Nor is a mount point, unless it is one of `mounts`.
 */
export function setOwnerAndMode(dir: RootDir, name: string, owner: Ownership, mode?: number, mounts?: ReadonlySet<number>): boolean {
  const st = lstatIn(dir, name);
  if (st?.isSymbolicLink()) {
    if (st.nlink > 1) return false;
    lchownSync(dir.at(name), owner.uid, owner.gid);
    return true;
  }
  const fd = openSync(dir.at(name), constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  try {
    const now = fstatSync(fd);
    if (now.nlink > 1 && !now.isDirectory()) return false;
    // A mount point (a bind mount of something outside) is not changed, unless it is one of this run's.
    const mount = mountIdOf(fd);
    if (mount !== dir.mountId && !mounts?.has(mount)) throw new FlintError("is a mount point that is not this run's; refusing to change it", dir.inRoot(name));
    fchownSync(fd, owner.uid, owner.gid);
    if (mode !== undefined) fchmodSync(fd, mode); // after chown: chown clears setuid/setgid bits
    return true;
  } finally {
    closeSync(fd);
  }
}

const NEW_FILE = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** What a file is written from: its bytes, its text, or its bytes a piece at a time (a big report, never held whole). */
export type FileData = Buffer | string | Iterable<Buffer>;

/**
 * A new file from creation to rename: made O_EXCL|O_NOFOLLOW, private
 * (0600), under a temporary name in its final directory. Everything done to
 * it (contents written, fetched or copied, read back to compare, owner and
 * mode) goes through the descriptor it was created with, never its name: a
 * process that swaps the name for a symlink meanwhile changes nothing but
 * the name, and the rename then moves its symlink, inside the root.
 */
export class StagedFile {
  readonly name = tempName();
  private descriptor: number | undefined;
  /** Bytes written so far (the file is only ever written at its end). */
  size = 0;

  constructor(readonly dir: RootDir) {
    this.descriptor = openSync(dir.at(this.name), NEW_FILE, 0o600);
  }

  get fd(): number {
    if (this.descriptor === undefined) throw new Error(`${this.name} is already closed`);
    return this.descriptor;
  }

  write(data: FileData): void {
    const chunks = typeof data === "string" ? [Buffer.from(data)] : Buffer.isBuffer(data) ? [data] : data;
    for (const chunk of chunks) {
      for (let done = 0; done < chunk.length; ) done += writeSync(this.fd, chunk, done, chunk.length - done, this.size + done);
      this.size += chunk.length;
    }
  }

  /**
   * Appends what `fill` writes at `at` through the descriptor and says it
   * wrote (a fetch: on a retry it starts again at `at`, cutting what a
   * failed try left).
   */
  async fill(fill: (fd: number, at: number) => Promise<number>): Promise<void> {
    this.size += await fill(this.fd, this.size);
  }

  /** Appends all of the open file `source` (read from its start). */
  copyFrom(source: number): void {
    const buffer = Buffer.allocUnsafe(COPY_CHUNK);
    for (let at = 0; ; ) {
      const n = readSync(source, buffer, 0, buffer.length, at);
      if (n === 0) return;
      this.write(buffer.subarray(0, n));
      at += n;
    }
  }

  /** The sha256 of what it holds, read back through its descriptor. */
  digest(): string {
    return digestOf(this.fd);
  }

  /** Owner, then mode (chown clears setuid bits). */
  finish(mode: number, owner: Ownership): void {
    fchownSync(this.fd, owner.uid, owner.gid);
    fchmodSync(this.fd, mode);
  }

  close(): void {
    const fd = this.descriptor;
    this.descriptor = undefined;
    if (fd !== undefined) closeSync(fd);
  }

  /** Closes and removes it: after a failure, or when it was not needed after all. */
  discard(): void {
    this.close();
    unlinkQuietly(this.dir, this.name);
  }
}

const COPY_CHUNK = 256 * 1024;

/** The sha256 of the whole open file `fd`, read from its start. */
export function digestOf(fd: number): string {
  const hash = crypto().createHash("sha256");
  const buffer = Buffer.allocUnsafe(COPY_CHUNK);
  for (let at = 0; ; ) {
    const n = readSync(fd, buffer, 0, buffer.length, at);
    if (n === 0) return hash.digest("hex");
    hash.update(buffer.subarray(0, n));
    at += n;
  }
}

/** A new file `data` in `dir`, owned and moded, closed, not yet renamed: its temporary name, for a CommitBatch. */
export function stageFile(dir: RootDir, data: FileData, mode: number, owner: Ownership): StagedFile {
  const file = new StagedFile(dir);
  try {
    file.write(data);
    file.finish(mode, owner);
    file.close();
  } catch (e) {
    file.discard();
    throw e;
  }
  return file;
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

/** A file to write into a directory already open. */
export interface NewFile {
  dir: RootDir;
  name: string;
  data: FileData;
  mode: number;
  owner: Ownership;
}

/** Writes `files` by the one rule, as one batch: flushed and settled before this returns. */
export async function writeFilesIn(root: string, files: NewFile[]): Promise<void> {
  const batch = new CommitBatch(root);
  try {
    for (const f of files) batch.add(f.dir, stageFile(f.dir, f.data, f.mode, f.owner).name, f.name);
    await batch.flush();
    await batch.settle();
  } finally {
    batch.discard();
  }
}

/** Writes `data` as the file `path` of the root, its directory walked (and made) now; see writeFilesIn. */
export async function writeRootFile(root: string, path: string, data: FileData, mode: number, owner: Ownership = ROOT_OWNER, options: { dirMode?: number } = {}): Promise<void> {
  const parent = openParent(root, path, { create: true });
  const dir = parent.dir!;
  try {
    if (options.dirMode !== undefined) fchmodSync(dir.fd, options.dirMode);
    await writeFilesIn(root, [{ dir, name: parent.name, data, mode, owner }]);
  } finally {
    dir.close();
  }
}

/**
 * Creates a hard link to `target` (a name in `targetDir`) as `name` in
 * `dir`, atomically, replacing whatever is there. No owner: the link is the
 * target's inode, whose owner and mode are the target's own.
 */
export function replaceWithHardLink(dir: RootDir, name: string, targetDir: RootDir, target: string, batch: CommitBatch): void {
  const temp = tempName();
  linkSync(targetDir.at(target), dir.at(temp)); // link(2) never follows a last symlink
  try {
    renameSync(dir.at(temp), dir.at(name));
  } catch (e) {
    unlinkQuietly(dir, temp);
    throw e;
  }
  // New contents there are none (the target's were made durable before it could be linked); the name settles with the batch.
  batch.renamedIn(dir);
}

function unlinkQuietly(dir: RootDir, name: string): void {
  try {
    unlinkSync(dir.at(name));
  } catch {
    // already gone
  }
}

/**
 * Deletes `name` in `dir`, a directory with everything in it, depth first
 * without recursion (a tree may be thousands deep). Each directory is
 * opened with O_NOFOLLOW and emptied through its own descriptor, so a
 * subdirectory swapped for a symlink meanwhile is unlinked, never
 * followed; one on another mount than `dir` is refused, never emptied.
 */
export function removeNode(dir: RootDir, name: string): void {
  if (unlinkUnlessDirectory(dir, name)) return;
  emptyDirectory(dir, name);
  rmdirSync(dir.at(name));
}

/** unlink of `name`; false when it is a directory. */
function unlinkUnlessDirectory(dir: RootDir, name: string): boolean {
  try {
    unlinkSync(dir.at(name));
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return true;
    if (code !== "EISDIR" && code !== "EPERM") throw e;
    return false;
  }
}

/**
 * Removes everything inside the directory `name` of `dir` (not the directory
 * itself), never following a link nor crossing into another mount; returns
 * how many entries it held. With `dryRun` only counts them.
 */
export function emptyDirectory(dir: RootDir, name: string, options: { dryRun?: boolean } = {}): number {
  const top = openSub(dir, name);
  if (!top) return 0;
  const children = readdirSync(top.self);
  const count = children.length;
  if (options.dryRun) {
    top.close();
    return count;
  }
  // Directories being emptied, deepest last; each with the names still to remove in it.
  const stack: { dir: RootDir; names: string[] }[] = [{ dir: top, names: children }];
  try {
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const child = frame.names.pop();
      if (child === undefined) {
        stack.pop();
        frame.dir.close();
        if (stack.length > 0) rmdirSync(stack[stack.length - 1]!.dir.at(posix.basename(frame.dir.rootPath)));
        continue;
      }
      if (unlinkUnlessDirectory(frame.dir, child)) continue;
      const sub = openSub(frame.dir, child);
      if (sub) stack.push({ dir: sub, names: readdirSync(sub.self) });
    }
  } finally {
    for (const frame of stack) frame.dir.close();
  }
  return count;
}

/** The subdirectory `name` of `dir`, opened without following a link; refused when it is another mount. */
function openSub(dir: RootDir, name: string): RootDir | undefined {
  const inner = openDirectory(dir.self, "/" + name, { noSymlinks: true });
  if (inner.missing !== undefined) return undefined;
  const sub = new RootDir(inner.dir.fd, dir.inRoot(name));
  if (sub.mountId !== dir.mountId) {
    sub.close();
    throw new FlintError("is a mount point (not this run's to empty); refusing to remove what is in it", dir.inRoot(name));
  }
  return sub;
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

/** syncfs(2) of the filesystem holding the open directory `dir` (through its descriptor, never a path). */
async function syncFilesystemOf(dir: RootDir): Promise<void> {
  await (await import("../system/sync")).syncFilesystem(dir.fd);
}

/**
 * New files and links under temporary names, put in place by the one
 * durability rule: `flush` syncs each filesystem they were written on (one
 * syncfs each), then renames them all in the order they were added, each
 * directory walked again for its renames (a directory swapped since the
 * temporary file was made fails the rename: its temporary name is not in
 * what the path now leads to); `settle` syncs the renames the same way, once
 * at the end. A crash before a rename leaves a temporary name, which the
 * next run sweeps; after it, complete contents.
 */
export class CommitBatch {
  private pending: { dir: string; temp: string; final: string }[] = [];
  /** Where `pending` goes, as paths in the root (and as the config wrote them), for `holds`. */
  private finals = new Set<string>();
  /** Per filesystem written to since its last sync, a directory on it held open (a descriptor of its own). */
  private dirty = new Map<number, RootDir>();

  constructor(
    private readonly root: string,
    private readonly syncFilesystem: (dir: RootDir) => Promise<void> = syncFilesystemOf,
    /** Mount ids the walks of the renames may cross (see WalkOptions.mounts). */
    private readonly mounts?: ReadonlySet<number>,
  ) {}

  /** Whether something pending goes to `path` (a path in the root): it is not there yet. */
  holds(path: string): boolean {
    return this.finals.has(path);
  }

  /** Bytes of contents pending. */
  bytes = 0;

  get size(): number {
    return this.pending.length;
  }

  /** `temp` (complete: contents, owner, mode) goes to `final` in `dir` at the next flush; `alias` is the config's path for it. */
  add(dir: RootDir, temp: string, final: string, bytes = 0, alias?: string): void {
    this.pending.push({ dir: dir.rootPath, temp, final });
    this.finals.add(dir.inRoot(final));
    if (alias !== undefined) this.finals.add(alias);
    this.bytes += bytes;
    this.noteWritten(dir);
  }

  /** A rename made in `dir` outside the batch (a hard link), made durable when the batch settles. */
  renamedIn(dir: RootDir): void {
    this.noteWritten(dir);
  }

  private noteWritten(dir: RootDir): void {
    if (!this.dirty.has(dir.dev)) this.dirty.set(dir.dev, dir.reopen());
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
      await this.syncAll();
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
            const walked = openDirectory(this.root, dir, { mounts: this.mounts });
            if (walked.missing !== undefined) throw Object.assign(new Error("directory gone"), { code: "ENOENT" });
            d = walked.dir;
            open.set(dir, d);
          }
          renameSync(d.at(temp), d.at(final));
          this.noteWritten(d);
        } catch (e) {
          this.remove(batch.slice(i), open);
          throw new FlintError(`cannot move the new file into place: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, posix.join(dir, final));
        }
      }
    } finally {
      for (const d of open.values()) d.close();
    }
  }

  /** Makes the renames done so far durable: the last part of the rule, once the stage has flushed. */
  async settle(): Promise<void> {
    await this.syncAll();
  }

  /** Removes everything still pending (a failed run leaves no temporary files behind) and lets go of what it holds. */
  discard(): void {
    this.remove(this.pending);
    this.pending = [];
    this.finals = new Set();
    this.bytes = 0;
    for (const dir of this.dirty.values()) dir.close();
    this.dirty.clear();
  }

  /** Removes the temporary files of `entries`, each looked up again in its directory. */
  private remove(entries: { dir: string; temp: string }[], open = new Map<string, RootDir>()): void {
    const opened: RootDir[] = [];
    for (const { dir, temp } of entries) {
      let d = open.get(dir);
      if (!d) {
        // Cleaning up after a failure never fails itself: a directory that cannot be walked now keeps its temporary file, for the next run's sweep.
        let walked: Walked;
        try {
          walked = openDirectory(this.root, dir);
        } catch {
          continue;
        }
        if (walked.missing !== undefined) continue;
        d = walked.dir;
        open.set(dir, d);
        opened.push(d);
      }
      unlinkQuietly(d, temp);
    }
    for (const d of opened) d.close();
  }

  /** One syncfs per filesystem written to since the last sync; after a failure they are still to be synced. */
  private async syncAll(): Promise<void> {
    const dirty = [...this.dirty.values()];
    await Promise.all(dirty.map((dir) => this.syncFilesystem(dir)));
    for (const dir of dirty) {
      if (this.dirty.get(dir.dev) === dir) this.dirty.delete(dir.dev);
      dir.close();
    }
  }
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
