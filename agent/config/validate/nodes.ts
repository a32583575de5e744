// Validation of files, directories and links, alone and against each other:
// one entry per path, parents that are directories, modes, link targets.

import { at, pathOf, type Where } from "../issues";
import { fnv1a, keptInText } from "../text-list";
import type { Directory, File, Link, NodeGroup, NodeUser, Storage } from "../types";
import { posix } from "node:path";
import { checkId, PATH_MAX, pathProblem, pathTooLong, type ValidateContext } from "./common";
import { validateResource } from "./resource";

type Kind = "files" | "directories" | "links";
const KINDS: readonly Kind[] = ["files", "directories", "links"];
const NOUN: Record<Kind, string> = { files: "file", directories: "directory", links: "link" };

/**
 * Checks the files, directories and links; returns the paths they write (for
 * the checks across sections). Each item is read once: a big config's list
 * parses it from the text at every read (text-list.ts). `hash` (for tests)
 * makes any config's paths go through a PathTable with that hash.
 */
export function validateNodes(cx: ValidateContext, s: Storage, path: Where, hash?: PathHash): NodePathSet {
  const paths = new NodePaths(cx, s, path, hash);
  const validate = [validateFile, validateDirectory, validateLink] as ((cx: ValidateContext, node: File | Directory | Link, path: Where) => void)[];
  KINDS.forEach((kind, k) => {
    const items: (File | Directory | Link)[] | undefined = s[kind];
    if (!items) return;
    const list = at(path, kind);
    for (let i = 0; i < items.length; i++) {
      const item = items[i]!;
      validate[k]!(cx, item, at(list, i));
      paths.add(k, i, item);
    }
  });
  return paths.checkAcross();
}

export function validateFile(cx: ValidateContext, f: File, path: Where): void {
  checkNodePath(cx, f.path, path, "path");
  checkMode(cx, f.mode, path, "mode");
  checkOwner(cx, f.user, path, "user");
  checkOwner(cx, f.group, path, "group");
  if (f.contents) validateResource(cx, f.contents, at(path, "contents"));
  f.append?.forEach((r, i) => validateResource(cx, r, at(path, "append", i)));
  if (f.overwrite === true && f.contents?.source === undefined) {
    cx.issues.error(at(path, "overwrite"), "overwrite is true but contents.source is not set: there is nothing to write");
  }
}

export function validateDirectory(cx: ValidateContext, d: Directory, path: Where): void {
  checkNodePath(cx, d.path, path, "path");
  checkMode(cx, d.mode, path, "mode");
  checkOwner(cx, d.user, path, "user");
  checkOwner(cx, d.group, path, "group");
}

export function validateLink(cx: ValidateContext, l: Link, path: Where): void {
  checkNodePath(cx, l.path, path, "path");
  checkOwner(cx, l.user, path, "user");
  checkOwner(cx, l.group, path, "group");
  if (l.hard && (l.user || l.group)) cx.issues.warn(at(path, l.user ? "user" : "group"), "user and group are ignored for a hard link: it shares its target's owner");
  if (l.target === undefined || l.target === "") cx.issues.error(at(path, "target"), "target is required");
  else if (l.target.includes("\0")) cx.issues.error(at(path, "target"), "target must not contain a NUL character");
  else {
    // A symlink's target is text the kernel stores (at most PATH_MAX - 1 bytes); a hard link's is a path to look up.
    const tooLong = l.hard ? pathTooLong(l.target) : l.target.length * 3 >= PATH_MAX && Buffer.byteLength(l.target) >= PATH_MAX ? `is ${Buffer.byteLength(l.target)} bytes long; the limit is ${PATH_MAX - 1} (PATH_MAX)` : undefined;
    if (tooLong) cx.issues.error(at(path, "target"), `target ${tooLong}`);
  }
}

/** A node's path: a clean absolute path, and never `/` itself (the root is not an entry to create or replace). */
function checkNodePath(cx: ValidateContext, value: string | undefined, parent: Where, key: string): void {
  if (value === undefined) return;
  const problem = nodePathProblem(value);
  if (problem) cx.issues.error(at(parent, key), problem);
}

/** What is wrong with `value` as a file's, directory's or link's path, or undefined (the files stage checks with it too). */
export function nodePathProblem(value: unknown): string | undefined {
  if (value === "/") return 'path must not be "/": the root itself cannot be a file, link or directory entry';
  return pathProblem(value);
}

function checkMode(cx: ValidateContext, mode: number | undefined, parent: Where, key: string): void {
  if (mode === undefined) return;
  if (mode < 0 || mode > 0o7777) cx.issues.error(at(parent, key), `mode must be between 0 and 4095 (07777 octal), got ${mode}; write modes in decimal, e.g. 420 for 0644`);
  else if (mode & 0o7000 && cx.minor < 4 && !cx.fromV2) cx.issues.error(at(parent, key), `setuid, setgid and sticky bits need spec 3.4.0 or later (mode ${mode} is 0${mode.toString(8)})`);
}

function checkOwner(cx: ValidateContext, owner: NodeUser | NodeGroup | undefined, parent: Where, key: string): void {
  if (!owner) return;
  const path = at(parent, key);
  if (owner.id !== undefined && owner.name !== undefined && owner.name !== "") cx.issues.error(path, "set either id or name, not both");
  checkId(cx, owner.id, at(path, "id"), "id");
}

/**
 * An entry as one number: its list (an index into KINDS) and its index there.
 * A big config's lists are read afresh at each pass (text-list.ts), so what
 * is kept for the whole check is a number per entry, not its path.
 */
type EntryCode = number;
const entryCode = (kind: number, index: number): EntryCode => index * 4 + kind;
const kindOf = (code: EntryCode): Kind => KINDS[code & 3]!;
const indexOf = (code: EntryCode): number => Math.floor(code / 4);

/** The paths the entries write, for the checks across sections (validate/index.ts). */
export interface NodePathSet {
  has(path: string): boolean;
}

/** Entries by path, as the checks across entries use them. */
interface PathIndex extends NodePathSet {
  readonly size: number;
  get(path: string): EntryCode | undefined;
  /** The entry that has `path` already, or undefined once the entry `code` is added with it. */
  addIfAbsent(path: string, code: EntryCode): EntryCode | undefined;
}

/**
 * For lists held as objects: the config keeps their path strings alive
 * anyway, so a Map costs only its table, and V8 hashes the strings natively
 * (a JavaScript hash would add ~4% to `flint validate` of 10,000 files).
 */
class PathMap implements PathIndex {
  private readonly map = new Map<string, EntryCode>();

  get size(): number {
    return this.map.size;
  }

  get(path: string): EntryCode | undefined {
    return this.map.get(path);
  }

  has(path: string): boolean {
    return this.map.has(path);
  }

  addIfAbsent(path: string, code: EntryCode): EntryCode | undefined {
    const prior = this.map.get(path);
    if (prior === undefined) this.map.set(path, code);
    return prior;
  }
}

/** A 32-bit hash of a path (injectable for tests). */
export type PathHash = (path: string) => number;

/** FNV-1a, finished with Murmur3's mix so that the low bits (the slot) depend on every unit. */
export const hashPath: PathHash = (path) => {
  let h = fnv1a(path, 0, path.length);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return h ^ (h >>> 16);
};

/**
 * Entries by path without their paths: an open-addressing table (linear
 * probing, load factor at most 1/2) whose slot holds the path's whole 32-bit
 * hash and the entry's code. A hash that matches is confirmed by reading the
 * entry's path again from its list (`pathOf`), which for a big config parses
 * that item: a 100,000-file config keeps ~2 MiB here instead of a string per
 * path and a Map. Used for the lists a big config keeps in its text.
 */
export class PathTable implements PathIndex {
  /** Slot i: slots[2i] the path's hash, slots[2i + 1] the entry's code + 1 (0: empty). */
  private slots: Int32Array;
  private mask: number;
  private count = 0;

  constructor(
    /** The path of the entry `code`, read again from its list: called only when a hash matches. */
    private readonly pathOf: (code: EntryCode) => string,
    expected = 0,
    private readonly hash: PathHash = hashPath,
  ) {
    let size = 16;
    while (size < expected * 2) size *= 2;
    this.slots = new Int32Array(size * 2);
    this.mask = size - 1;
  }

  get size(): number {
    return this.count;
  }

  /** The entry that has `path`, or undefined. */
  get(path: string): EntryCode | undefined {
    const code = this.slots[2 * this.find(path, this.hash(path)) + 1]! - 1;
    return code < 0 ? undefined : code;
  }

  has(path: string): boolean {
    return this.get(path) !== undefined;
  }

  /** One hash for the look-up and the addition. */
  addIfAbsent(path: string, code: EntryCode): EntryCode | undefined {
    const h = this.hash(path);
    let i = this.find(path, h);
    const prior = this.slots[2 * i + 1]! - 1;
    if (prior >= 0) return prior;
    if ((this.count + 1) * 2 > this.mask + 1) {
      this.grow();
      i = this.find(path, h);
    }
    this.slots[2 * i] = h;
    this.slots[2 * i + 1] = code + 1;
    this.count++;
    return undefined;
  }

  /** The slot of `path` (hash `h`), or the empty slot where it would go. */
  private find(path: string, h: number): number {
    const { slots, mask } = this;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const code = slots[2 * i + 1]! - 1;
      if (code < 0 || (slots[2 * i] === h && this.pathOf(code) === path)) return i;
    }
  }

  /** Twice the slots: each entry goes to its hash's new home (the size known up front avoids this). */
  private grow(): void {
    const old = this.slots;
    const slots = (this.slots = new Int32Array(old.length * 2));
    const mask = (this.mask = old.length - 1);
    for (let j = 0; j < old.length; j += 2) {
      if (old[j + 1] === 0) continue;
      let i = old[j]! & mask;
      while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
      slots[2 * i] = old[j]!;
      slots[2 * i + 1] = old[j + 1]!;
    }
  }
}

/** One entry per path across the three lists; parents must not be files or links; hard links not to directories. */
class NodePaths {
  /** Each path and the first entry that has it. */
  readonly byPath: PathIndex;
  /** Entries not in byPath although they have a path: a path given again. */
  private readonly repeated = new Set<EntryCode>();
  /** The directories the entries are in, each once: parents are looked at per directory, not per entry. */
  private readonly dirs = new Set<string>();
  /** Indices of the hard links with a target. */
  private readonly hardLinks: number[] = [];

  constructor(
    private readonly cx: ValidateContext,
    private readonly s: Storage,
    private readonly path: Where,
    hash?: PathHash,
  ) {
    const lists: ({ path: string }[] | undefined)[] = KINDS.map((kind) => s[kind]);
    // A list kept in the text gives a fresh copy of each path: a Map would keep them all.
    if (hash || lists.some((list) => keptInText(list))) {
      const expected = lists.reduce((n, list) => n + (list?.length ?? 0), 0);
      this.byPath = new PathTable((code) => lists[code & 3]![code >>> 2]!.path, expected, hash);
    } else this.byPath = new PathMap();
  }

  /** Entry `index` of the list KINDS[k]: a path given twice is an error at the later one. */
  add(k: number, index: number, item: { path: string; hard?: boolean; target?: string }): void {
    const p = item.path;
    if (!p) return;
    const kind = KINDS[k]!;
    const prior = this.byPath.addIfAbsent(p, entryCode(k, index));
    if (prior !== undefined) {
      const priorKind = kindOf(prior);
      const where = pathOf(at(this.path, priorKind, indexOf(prior))).join(".");
      const message = priorKind === kind ? `duplicate path ${JSON.stringify(p)} (already used by ${where})` : `path ${JSON.stringify(p)} is both a ${NOUN[priorKind]} (${where}) and a ${NOUN[kind]}`;
      this.cx.issues.error(at(this.path, kind, index, "path"), message);
      this.repeated.add(entryCode(k, index));
      return;
    }
    this.dirs.add(p.slice(0, p.lastIndexOf("/")));
    if (kind === "links" && item.hard && item.target) this.hardLinks.push(index);
  }

  /** Once every entry is added: parents that are files or links, hard links to directories. */
  checkAcross(): NodePathSet {
    const { byPath, cx, path, s } = this;
    if (byPath.size === 0) return byPath;
    if (someParentIsNotADirectory(byPath, this.dirs)) reportParents(cx, s, byPath, this.repeated, path);
    for (const index of this.hardLinks) {
      const link = s.links![index]!;
      // A relative hard-link target is taken from the link's directory.
      const target = posix.resolve(posix.dirname(link.path), link.target!);
      const there = byPath.get(target);
      if (there !== undefined && kindOf(there) === "directories") {
        cx.issues.error(at(path, "links", index, "target"), `a hard link cannot point to a directory (${link.target})`);
      }
    }
    return byPath;
  }
}

/**
 * The nearest of `dir` and the directories above it that is a file or a link
 * of the config, with its name; undefined when there is none. `clear` holds
 * directories known to have none up to the root, and gains those found so:
 * entries share a few directories, so most walks stop at once.
 */
function blockingParent(byPath: PathIndex, dir: string, clear: Set<string>): { parent: string; owner: EntryCode } | undefined {
  const walked: string[] = [];
  for (let parent = dir; parent.length > 0 && !clear.has(parent); parent = parent.slice(0, parent.lastIndexOf("/"))) {
    const owner = byPath.get(parent);
    if (owner !== undefined && kindOf(owner) !== "directories") return { parent, owner };
    walked.push(parent);
  }
  for (const parent of walked) clear.add(parent);
  return undefined;
}

/** Whether a directory that holds entries, or one above it, is a file or a link of the config. */
function someParentIsNotADirectory(byPath: PathIndex, dirs: Set<string>): boolean {
  const clear = new Set<string>();
  for (const dir of dirs) if (blockingParent(byPath, dir, clear)) return true;
  return false;
}

/** An error for every entry under a file or a link, naming the nearest such parent; entries in the order of the lists, each path once. */
function reportParents(cx: ValidateContext, s: Storage, byPath: PathIndex, repeated: Set<EntryCode>, path: Where): void {
  const clear = new Set<string>();
  KINDS.forEach((kind, k) => {
    const items: { path: string }[] | undefined = s[kind];
    if (!items) return;
    for (let index = 0; index < items.length; index++) {
      const entryPath = items[index]!.path;
      if (!entryPath || repeated.has(entryCode(k, index))) continue;
      const blocked = blockingParent(byPath, entryPath.slice(0, entryPath.lastIndexOf("/")), clear);
      if (!blocked) continue;
      const { parent, owner } = blocked;
      const ownerKind = kindOf(owner);
      const where = pathOf(at(path, ownerKind, indexOf(owner))).join(".");
      const why = ownerKind === "files" ? "a file" : "a link (writing through links defined in the same config is not allowed)";
      cx.issues.error(at(path, kind, index, "path"), `parent ${JSON.stringify(parent)} is ${why} at ${where}, not a directory`);
    }
  });
}
