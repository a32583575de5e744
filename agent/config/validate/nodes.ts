// Validation of files, directories and links, alone and against each other:
// one entry per path, parents that are directories, modes, link targets.

import { at, pathOf, type Where } from "../issues";
import type { ItemList } from "../item-list";
import type { Directory, File, Link, NodeGroup, NodeUser, Storage } from "../types";
import { posix } from "node:path";
import { checkId, PATH_MAX, pathProblem, pathTooLong, type ValidateContext } from "./common";
import { validateResource } from "./resource";

type Kind = "files" | "directories" | "links";
const KINDS: readonly Kind[] = ["files", "directories", "links"];
const NOUN: Record<Kind, string> = { files: "file", directories: "directory", links: "link" };

/**
 * Checks the files, directories and links; returns the paths they write (for
 * the checks across sections). Each item is read once here: a big config's
 * lists make it anew at every read (item-list.ts).
 */
export function validateNodes(cx: ValidateContext, s: Storage, path: Where): NodePathSet {
  const paths = new NodePaths(cx, s, path);
  const validate = [validateFile, validateDirectory, validateLink] as ((cx: ValidateContext, node: File | Directory | Link, path: Where) => void)[];
  KINDS.forEach((kind, k) => {
    const list = at(path, kind);
    let i = 0;
    for (const item of listOf(s, kind)) {
      validate[k]!(cx, item, at(list, i));
      paths.add(k, i++, item);
    }
  });
  return paths.checkAcross();
}

/** One of the storage lists, empty when absent. */
function listOf(s: Storage, kind: Kind): ItemList<File | Directory | Link> {
  return s[kind] ?? [];
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
}

function checkOwner(cx: ValidateContext, owner: NodeUser | NodeGroup | undefined, parent: Where, key: string): void {
  if (!owner) return;
  const path = at(parent, key);
  if (owner.id !== undefined && owner.name !== undefined && owner.name !== "") cx.issues.error(path, "set either id or name, not both");
  checkId(cx, owner.id, at(path, "id"), "id");
}

/** An entry as one number: its list (an index into KINDS) and its index there. */
type EntryCode = number;
const entryCode = (kind: number, index: number): EntryCode => index * 4 + kind;
const kindOf = (code: EntryCode): Kind => KINDS[code & 3]!;
const indexOf = (code: EntryCode): number => Math.floor(code / 4);

/** The paths the entries write, for the checks across sections (validate/index.ts). */
export interface NodePathSet {
  has(path: string): boolean;
}

/** One entry per path across the three lists; parents must not be files or links; hard links not to directories. */
class NodePaths {
  /** Each path and the first entry that has it. */
  readonly byPath = new Map<string, EntryCode>();
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
  ) {}

  /** Entry `index` of the list KINDS[k]: a path given twice is an error at the later one. */
  add(k: number, index: number, item: { path: string; hard?: boolean; target?: string }): void {
    const p = item.path;
    if (!p) return;
    const kind = KINDS[k]!;
    const prior = this.byPath.get(p);
    if (prior === undefined) this.byPath.set(p, entryCode(k, index));
    else {
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
      const link = s.links!.at(index)!;
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
function blockingParent(byPath: Map<string, EntryCode>, dir: string, clear: Set<string>): { parent: string; owner: EntryCode } | undefined {
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
function someParentIsNotADirectory(byPath: Map<string, EntryCode>, dirs: Set<string>): boolean {
  const clear = new Set<string>();
  for (const dir of dirs) if (blockingParent(byPath, dir, clear)) return true;
  return false;
}

/** An error for every entry under a file or a link, naming the nearest such parent; entries in the order of the lists, each path once. */
function reportParents(cx: ValidateContext, s: Storage, byPath: Map<string, EntryCode>, repeated: Set<EntryCode>, path: Where): void {
  const clear = new Set<string>();
  KINDS.forEach((kind, k) => {
    let index = -1;
    for (const item of listOf(s, kind)) {
      index++;
      const entryPath = item.path;
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
