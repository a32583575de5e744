// storage.directories, storage.files and storage.links, written into the
// root with Ignition's semantics: parents before children, hard links after
// their targets, default modes 0755/0644, overwrite rules, owners by id or
// by name from the root's own passwd and group files.

import { closeSync, readlinkSync, type Stats } from "node:fs";
import { DEFAULT_FILE_CAP, decodeDataUrl, fetchToBuffer, verifyHash } from "../../resource/index";
import { posix } from "node:path";
import type { Directory, File, Link, NodeGroup, NodeUser, Resource } from "../../config/types";
import { FlintError } from "../../errors";
import { gidOf, uidOf } from "../../root/accounts";
import { openReadable, readAllOf } from "../../root/read";
import { lstatIn, openParent, RootDir, splitLast } from "../../root/resolve";
import {
  digestOf,
  emptyDirectory,
  stageFile,
  StagedFile,
  tempSymlinkSync,
  type CommitBatch,
  makeOneDirectory,
  openOrCreateDirectory,
  removeNode,
  replaceWithHardLink,
  setOwnerAndMode,
  sweepTempFiles,
  type Ownership,
} from "../../root/write";
import type { StageContext } from "../context";
import { octal, record } from "./record";
import type { StepParents } from "./step-parents";

export type Entry =
  | { kind: "directory"; node: Directory; where: string }
  | { kind: "file"; node: File; where: string }
  | { kind: "link"; node: Link; where: string };

/** Fetches a resource into the open file `fd` from offset `at` (network settings from the config); returns the bytes written. */
export type FetchContents = (resource: Resource, fd: number, at: number, label: string) => Promise<number>;

export interface NodeWriter {
  ctx: StageContext;
  /** The mounts entries may be written through (undefined in a plan); see thisRunsMounts in index.ts. */
  mounts?: ReadonlySet<number>;
  fetch: FetchContents;
  /**
   * Directories (by path in the root) already swept of a killed run's temp
   * files: each is swept once, before the first temp file is written there.
   */
  swept: Set<string>;
  /** Directories already announced as created (several entries may share a parent). */
  announced: Set<string>;
  /**
   * New files and symlinks wait here, complete under temporary names, until
   * the batch is flushed: when full, when a later entry needs one of them in
   * place (a path through it, a hard link, an owner name from a pending
   * /etc/passwd), or once at the end of the stage.
   */
  batch: CommitBatch;
  /** The batch holds /etc/passwd or /etc/group: names must not be looked up before it is flushed. */
  accountsPending?: boolean;
  /** Owner ids looked up by name in the root (`u:NAME`, `g:NAME`). */
  ids: Map<string, number>;
  /** While a step of independent entries is written: their parents, walked once for it. */
  parents?: StepParents;
}

/**
 * Entries and bytes of contents pending in one batch at most: a big step is
 * committed in parts, so that a crash late in it loses less, each sync has
 * a bounded amount to write, and the pending list stays small.
 */
export const BATCH_LIMIT = 4096;
export const BATCH_BYTES = 512 * 1024;

/** Puts what is pending in place; owner names are looked up afresh after it, in case it held the account files. */
export async function flushBatch(w: NodeWriter): Promise<void> {
  w.accountsPending = false;
  try {
    await w.batch.flush();
  } finally {
    w.ids.clear();
  }
}

/** A complete temporary file (with its size) or link in `dir`, to become `name` there (the entry at `path` in the root) at the next flush. */
function addToBatch(w: NodeWriter, dir: RootDir, temp: string, name: string, path: string, fileBytes?: number): Promise<void> {
  w.batch.add(dir, temp, name, fileBytes, path);
  if ((path.endsWith("/passwd") || path.endsWith("/group")) && ACCOUNT_FILES.has(posix.normalize(path))) w.accountsPending = true;
  return w.batch.size >= BATCH_LIMIT || w.batch.bytes >= BATCH_BYTES ? flushBatch(w) : Promise.resolve();
}

const ACCOUNT_FILES = new Set(["/etc/passwd", "/etc/group"]);

export async function applyEntry(w: NodeWriter, entry: Entry): Promise<void> {
  // A file or link still pending on the way (or at the path itself) is put in place first.
  if (!w.ctx.dryRun && w.batch.size > 0 && pendingOnTheWay(w, entry.node.path)) await flushBatch(w);
  try {
    const at = place(w, entry.node.path);
    try {
      if (entry.kind === "directory") return await applyDirectory(w, entry.node, entry.where, at);
      if (entry.kind === "file") return await applyFile(w, entry.node, entry.where, at);
      return await applyLink(w, entry.node, entry.where, at);
    } finally {
      at.release();
    }
  } catch (e) {
    throw inTermsOfTheEntry(e, entry);
  }
}

/**
 * A system call's error names the path it was given (`/proc/self/fd/N/…`,
 * meaningless to a reader): it is told as the entry's path and JSON path
 * instead. Flint's own errors already say where.
 */
function inTermsOfTheEntry(e: unknown, entry: Entry): unknown {
  const code = (e as NodeJS.ErrnoException).code;
  if (e instanceof FlintError || typeof code !== "string") return e;
  const why = code === "EPERM" || code === "EACCES" ? " (an immutable or read-only file or directory on the way?)" : "";
  return new FlintError(`cannot write ${entry.node.path}: ${code}${why}`, entry.where);
}

/** Whether the batch holds `path` or one of its parents (as the config names them, or as resolved). */
function pendingOnTheWay(w: NodeWriter, path: string): boolean {
  for (let p = path; p.length > 1; p = posix.dirname(p)) if (w.batch.holds(p)) return true;
  return false;
}

/** Where an entry goes: its parent directory, held open for the entry's whole write, and its name there. */
interface Placed {
  /** Undefined only in a plan, when the parent does not exist yet. */
  dir?: RootDir;
  name: string;
  /** lstat of what is there now. */
  existing?: Stats;
  /** Gives the parent back (closes it, or returns it to the step's parents). */
  release(): void;
}

/**
 * Walks to the entry's parent (now, or once for the step: see
 * step-parents.ts), creating it root:root 0755 as needed, and says what is
 * at the path.
 */
function place(w: NodeWriter, path: string): Placed {
  const { ctx, parents } = w;
  const { dir: dirPath, name } = splitLast(path);
  const walk = (): RootDir | undefined =>
    openOrCreateDirectory(ctx.root, dirPath, {
      dryRun: ctx.dryRun,
      mounts: w.mounts,
      created: (p) => {
        if (w.announced.has(p)) return;
        w.announced.add(p);
        record(ctx, "mkdir", p, "mode=0755 owner=0:0");
      },
    });
  const dir = parents ? parents.acquire(dirPath, walk) : walk();
  if (!dir) return { name, release: () => undefined };
  const release = parents ? () => undefined : () => dir.close();
  try {
    if (!ctx.dryRun && !w.swept.has(dir.rootPath)) {
      w.swept.add(dir.rootPath);
      sweepTempFiles(dir);
    }
    return { dir, name, existing: lstatIn(dir, name), release };
  } catch (e) {
    release();
    throw e;
  }
}

type Owned = { owner: Ownership; shown: string };

/**
 * Owner from the config (ids, or names looked up in the root), else
 * `fallback`; without names, at once (most entries: no promise to wait for).
 */
function ownership(w: NodeWriter, user: NodeUser | undefined, group: NodeGroup | undefined, where: string, fallback: Ownership): Owned | Promise<Owned> {
  if (user?.name || group?.name) return ownershipByName(w, user, group, where, fallback);
  const uid = user?.id ?? fallback.uid;
  const gid = group?.id ?? fallback.gid;
  return { owner: { uid, gid }, shown: `${uid}:${gid}` };
}

async function ownershipByName(w: NodeWriter, user: NodeUser | undefined, group: NodeGroup | undefined, where: string, fallback: Ownership): Promise<Owned> {
  if (w.accountsPending) await flushBatch(w);
  const [uid, uidShown] = ownerId(w, user, fallback.uid, (name) => lookupOnce(w, `u:${name}`, () => uidOf(w.ctx.root, name, `${where}.user.name`)));
  const [gid, gidShown] = ownerId(w, group, fallback.gid, (name) => lookupOnce(w, `g:${name}`, () => gidOf(w.ctx.root, name, `${where}.group.name`)));
  return { owner: { uid, gid }, shown: `${uidShown}:${gidShown}` };
}

/** Each name is looked up in the root's passwd or group file once per batch (a failed lookup is tried again). */
function lookupOnce(w: NodeWriter, key: string, lookup: () => number): number {
  let id = w.ids.get(key);
  if (id === undefined) w.ids.set(key, (id = lookup()));
  return id;
}

/** One id and how to show it; -1 (unknown) only in a plan, for a name this config creates. */
function ownerId(w: NodeWriter, spec: NodeUser | NodeGroup | undefined, fallback: number, lookup: (name: string) => number): [number, string] {
  if (spec?.id !== undefined && spec.id !== null) return [spec.id, String(spec.id)];
  if (!spec?.name) return [fallback, String(fallback)];
  try {
    const id = lookup(spec.name);
    return [id, String(id)];
  } catch (e) {
    if (w.ctx.dryRun) return [-1, spec.name];
    throw e;
  }
}

const ROOT: Ownership = { uid: 0, gid: 0 };

/** Inline contents a plan decodes in memory to compare; larger ones are left to apply. */
const PLAN_INLINE_CAP = 16 * 1024 * 1024;

function ownedBy(st: Stats): Ownership {
  return { uid: st.uid, gid: st.gid };
}

/**
 * Brings mode and owner of an existing node in line, noting only real
 * changes. A node with other hard links (perhaps to a file outside the
 * root) is not changed in place: it is replaced by a copy of its own.
 */
async function fixMetadata(w: NodeWriter, path: string, at: Placed, st: Stats, owner: Ownership, shownOwner: string, mode?: number): Promise<void> {
  const { ctx } = w;
  const chownNeeded = owner.uid !== -1 && owner.gid !== -1 && (st.uid !== owner.uid || st.gid !== owner.gid);
  const chmodNeeded = mode !== undefined && (st.mode & 0o7777) !== (mode & 0o7777);
  if (chownNeeded) record(ctx, "chown", path, `owner=${shownOwner}`);
  if (chmodNeeded) record(ctx, "chmod", path, `mode=${octal(mode!)}`);
  if (ctx.dryRun || (!chownNeeded && !chmodNeeded)) return;
  // chown clears setuid bits, so the mode (when the node has one) is set after it.
  const wanted = chownNeeded ? owner : ownedBy(st);
  if (setOwnerAndMode(at.dir!, at.name, wanted, mode, w.mounts)) return;
  const dir = at.dir!;
  if (st.isSymbolicLink()) return addToBatch(w, dir, tempSymlinkSync(dir, readlinkSync(dir.at(at.name)), wanted), at.name, path);
  if (!st.isFile()) throw new FlintError("has other hard links and is not a regular file; refusing to change it in place", path);
  const copy = new StagedFile(dir);
  try {
    withExisting(at, (fd) => copy.copyFrom(fd));
    copy.finish(mode ?? st.mode & 0o7777, wanted);
    copy.close();
  } catch (e) {
    copy.discard();
    throw e;
  }
  return addToBatch(w, dir, copy.name, at.name, path, copy.size);
}

async function applyDirectory(w: NodeWriter, node: Directory, where: string, at: Placed): Promise<void> {
  const { ctx } = w;
  const { existing } = at;
  if (existing?.isDirectory() && node.overwrite) {
    // The spec: pre-existing nodes at the path are deleted. Ignition removes the
    // directory and makes it anew; Flint empties it (through descriptors that
    // never follow a link) and gives it a new directory's owner and mode.
    const entries = emptyDirectory(at.dir!, at.name, { dryRun: ctx.dryRun });
    if (entries) record(ctx, "empty", node.path, `${entries} entr${entries === 1 ? "y" : "ies"} removed`);
    const { owner, shown } = await ownership(w, node.user, node.group, where, ROOT);
    return fixMetadata(w, node.path, at, existing, owner, shown, node.mode ?? 0o755);
  }
  if (existing?.isDirectory()) {
    // An existing directory keeps its contents; only its mode and owner are set.
    const { owner, shown } = await ownership(w, node.user, node.group, where, ownedBy(existing));
    return fixMetadata(w, node.path, at, existing, owner, shown, node.mode ?? existing.mode & 0o7777);
  }
  if (existing && !node.overwrite) {
    throw new FlintError(`${node.path} exists and is not a directory (set overwrite: true to replace it)`, where);
  }
  const mode = node.mode ?? 0o755;
  const { owner, shown } = await ownership(w, node.user, node.group, where, ROOT);
  record(ctx, existing ? "replace" : "mkdir", node.path, `mode=${octal(mode)} owner=${shown}`);
  w.announced.add(node.path);
  if (ctx.dryRun) return;
  if (existing) removeNode(at.dir!, at.name);
  makeOneDirectory(at.dir!, at.name, mode, owner);
}

async function applyFile(w: NodeWriter, file: File, where: string, at: Placed): Promise<void> {
  const { ctx } = w;
  const { existing } = at;
  const hasSource = Boolean(file.contents?.source);
  const appends = (file.append ?? []).filter((a) => a.source);

  if (existing && !existing.isFile() && !file.overwrite) {
    throw new FlintError(`${file.path} exists and is not a regular file (set overwrite: true to replace it)`, where);
  }
  // No source and a regular file already there: Ignition keeps it (and appends to it).
  const keepExisting = existing?.isFile() === true && !hasSource && !file.overwrite;
  if (keepExisting && appends.length === 0) {
    const { owner, shown } = await ownership(w, file.user, file.group, where, ownedBy(existing!));
    return fixMetadata(w, file.path, at, existing!, owner, shown, file.mode ?? existing!.mode & 0o7777);
  }

  const mode = file.mode ?? (keepExisting ? existing!.mode & 0o7777 : 0o644);
  const { owner, shown } = await ownership(w, file.user, file.group, where, keepExisting ? ownedBy(existing!) : ROOT);
  const detail = `mode=${octal(mode)} owner=${shown}`;
  if (ctx.dryRun) {
    if (!existing) return record(ctx, "create", file.path, detail);
    if (keepExisting) return record(ctx, "append", file.path, detail);
    // Inline (data:) contents are known without fetching: compare them now.
    const same = existing.isFile() && appends.length === 0 ? await holdsInlineContents(at, existing, file.contents) : undefined;
    if (same === true) return fixMetadata(w, file.path, at, existing, owner, shown, mode);
    if (file.overwrite) return record(ctx, "replace", file.path, detail);
    if (same === false) return record(ctx, "conflict", file.path, "exists with other contents and overwrite is false");
    // Remote contents: apply fetches them and fails unless they match.
    return record(ctx, "verify", file.path, "must already hold these contents");
  }

  const dir = at.dir!;
  const inline = hasSource && appends.length === 0 && !keepExisting ? inlineContents(file.contents!, `${where}.contents`) : undefined;
  if (inline) {
    // Inline contents are already in memory: compare, then write them in one go.
    if (existing?.isFile() && existing.size === inline.length && inline.equals(readExisting(at, inline.length + 1))) {
      return fixMetadata(w, file.path, at, existing, owner, shown, mode);
    }
    if (existing && !file.overwrite) {
      throw new FlintError(`${file.path} already exists with other contents (set overwrite: true to replace it)`, where);
    }
    record(ctx, existing ? "replace" : "create", file.path, detail);
    if (existing?.isDirectory()) removeNode(dir, at.name);
    const staged = stageFile(dir, inline, mode, owner);
    return addToBatch(w, dir, staged.name, at.name, file.path, staged.size);
  }

  // Everything else goes through one staged file, from its creation to its rename.
  const staged = new StagedFile(dir);
  try {
    if (keepExisting) withExisting(at, (fd) => staged.copyFrom(fd));
    else if (hasSource) await staged.fill((fd, pos) => w.fetch(file.contents!, fd, pos, `${where}.contents`));
    for (const [i, fragment] of appends.entries()) await staged.fill((fd, pos) => w.fetch(fragment, fd, pos, `${where}.append.${i}`));
    if (existing?.isFile() && !keepExisting && existing.size === staged.size && withExisting(at, digestOf) === staged.digest()) {
      // Already written (an earlier run): nothing to replace.
      staged.discard();
      return fixMetadata(w, file.path, at, existing, owner, shown, mode);
    }
    if (existing && !keepExisting && !file.overwrite) {
      throw new FlintError(`${file.path} already exists with other contents (set overwrite: true to replace it)`, where);
    }
    staged.finish(mode, owner);
    staged.close();
  } catch (e) {
    staged.discard();
    throw e;
  }
  record(ctx, existing ? (keepExisting ? "append" : "replace") : "create", file.path, detail);
  if (existing?.isDirectory()) removeNode(dir, at.name);
  await addToBatch(w, dir, staged.name, at.name, file.path, staged.size);
}

/** Runs `use` on the existing regular file at `at`, opened without following a link or blocking. */
function withExisting<T>(at: Placed, use: (fd: number) => T): T {
  const fd = openReadable(at.dir!, at.name);
  try {
    return use(fd);
  } finally {
    closeSync(fd);
  }
}

/** Up to `max` bytes of the existing regular file at `at`. */
function readExisting(at: Placed, max: number): Buffer {
  return readAllOf(at.dir!, at.name, max);
}

/**
 * Uncompressed `data:` contents, decoded and checked against the size cap and
 * the verification hash; undefined for any other source (fetched as a stream).
 */
function inlineContents(contents: Resource, label: string): Buffer | undefined {
  const source = contents.source!;
  if (contents.compression || !/^data:/i.test(source)) return undefined;
  const data = decodeDataUrl(source, label);
  if (data.length > DEFAULT_FILE_CAP) throw new FlintError(`larger than the ${DEFAULT_FILE_CAP}-byte limit`, label);
  verifyHash(data, contents.verification?.hash, label);
  return data;
}

/** For a plan: whether the file holds the inline contents; undefined when they are not inline. */
async function holdsInlineContents(at: Placed, st: Stats, contents: Resource | undefined): Promise<boolean | undefined> {
  if (!contents?.source?.toLowerCase().startsWith("data:")) return undefined;
  let wanted: Buffer;
  try {
    wanted = await fetchToBuffer(contents, { maxBytes: PLAN_INLINE_CAP, label: "inline contents" });
  } catch {
    return undefined;
  }
  if (wanted.length !== st.size) return false;
  return wanted.equals(readExisting(at, wanted.length + 1));
}

async function applyLink(w: NodeWriter, link: Link, where: string, at: Placed): Promise<void> {
  const { ctx } = w;
  const target = link.target;
  if (typeof target !== "string" || target === "") throw new FlintError("a link needs a target", `${where}.target`);
  const { existing } = at;

  if (link.hard) {
    // The target may be pending, or be reached through a pending link.
    if (!ctx.dryRun && w.batch.size > 0) await flushBatch(w);
    // A hard link is another name for its target's inode: it has no owner or
    // mode of its own, and setting one would change the target (as Ignition,
    // which does nothing after making the link).
    const targetPath = target.startsWith("/") ? target : posix.join(posix.dirname(link.path), target);
    const found = openParent(ctx.root, targetPath);
    try {
      const targetStat = found.dir ? lstatIn(found.dir, found.name) : undefined;
      const shownTarget = found.dir ? found.dir.inRoot(found.name) : found.missing!;
      if (!targetStat && !ctx.dryRun) throw new FlintError(`hard link target ${targetPath} does not exist in the root`, `${where}.target`);
      if (targetStat?.isDirectory()) throw new FlintError(`hard link target ${targetPath} is a directory`, `${where}.target`);
      if (existing && targetStat && existing.ino === targetStat.ino && existing.dev === targetStat.dev) return;
      if (existing && !link.overwrite) throw new FlintError(`${link.path} already exists (set overwrite: true to replace it)`, where);
      record(ctx, existing ? "replace" : "link", link.path, `hard -> ${shownTarget}`);
      if (ctx.dryRun) return;
      if (existing?.isDirectory()) removeNode(at.dir!, at.name);
      return replaceWithHardLink(at.dir!, at.name, found.dir!, found.name, w.batch);
    } finally {
      found.dir?.close();
    }
  }

  const fallback = existing?.isSymbolicLink() ? ownedBy(existing) : ROOT;
  const { owner, shown } = await ownership(w, link.user, link.group, where, fallback);
  if (existing?.isSymbolicLink() && readlinkSync(at.dir!.at(at.name)) === target) {
    return fixMetadata(w, link.path, at, existing, owner, shown);
  }
  if (existing && !link.overwrite) throw new FlintError(`${link.path} already exists (set overwrite: true to replace it)`, where);
  record(ctx, existing ? "replace" : "link", link.path, `-> ${target}`);
  if (ctx.dryRun) return;
  if (existing?.isDirectory()) removeNode(at.dir!, at.name);
  await addToBatch(w, at.dir!, tempSymlinkSync(at.dir!, target, owner), at.name, link.path);
}
