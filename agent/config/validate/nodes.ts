// Validation of files, directories and links, alone and against each other:
// one entry per path, parents that are directories, modes, link targets.

import type { JsonPath } from "../issues";
import type { Directory, File, Link, NodeGroup, NodeUser, Storage } from "../types";
import { posix } from "node:path";
import { checkId, PATH_MAX, pathProblem, pathTooLong, type ValidateContext } from "./common";
import { validateResource } from "./resource";

type Kind = "files" | "directories" | "links";
const NOUN: Record<Kind, string> = { files: "file", directories: "directory", links: "link" };

export function validateNodes(cx: ValidateContext, s: Storage, path: JsonPath): void {
  s.files?.forEach((f, i) => validateFile(cx, f, [...path, "files", i]));
  s.directories?.forEach((d, i) => validateDirectory(cx, d, [...path, "directories", i]));
  s.links?.forEach((l, i) => validateLink(cx, l, [...path, "links", i]));
  checkPathConflicts(cx, s, path);
}

export function validateFile(cx: ValidateContext, f: File, path: JsonPath): void {
  checkNodePath(cx, f.path, [...path, "path"]);
  checkMode(cx, f.mode, [...path, "mode"]);
  checkOwner(cx, f.user, [...path, "user"]);
  checkOwner(cx, f.group, [...path, "group"]);
  if (f.contents) validateResource(cx, f.contents, [...path, "contents"]);
  f.append?.forEach((r, i) => validateResource(cx, r, [...path, "append", i]));
  if (f.overwrite === true && f.contents?.source === undefined) {
    cx.issues.error([...path, "overwrite"], "overwrite is true but contents.source is not set: there is nothing to write");
  }
}

export function validateDirectory(cx: ValidateContext, d: Directory, path: JsonPath): void {
  checkNodePath(cx, d.path, [...path, "path"]);
  checkMode(cx, d.mode, [...path, "mode"]);
  checkOwner(cx, d.user, [...path, "user"]);
  checkOwner(cx, d.group, [...path, "group"]);
}

export function validateLink(cx: ValidateContext, l: Link, path: JsonPath): void {
  checkNodePath(cx, l.path, [...path, "path"]);
  checkOwner(cx, l.user, [...path, "user"]);
  checkOwner(cx, l.group, [...path, "group"]);
  if (l.hard && (l.user || l.group)) cx.issues.warn([...path, l.user ? "user" : "group"], "user and group are ignored for a hard link: it shares its target's owner");
  if (l.target === undefined || l.target === "") cx.issues.error([...path, "target"], "target is required");
  else if (l.target.includes("\0")) cx.issues.error([...path, "target"], "target must not contain a NUL character");
  else {
    // A symlink's target is text the kernel stores (at most PATH_MAX - 1 bytes); a hard link's is a path to look up.
    const tooLong = l.hard ? pathTooLong(l.target) : Buffer.byteLength(l.target) >= PATH_MAX ? `is ${Buffer.byteLength(l.target)} bytes long; the limit is ${PATH_MAX - 1} (PATH_MAX)` : undefined;
    if (tooLong) cx.issues.error([...path, "target"], `target ${tooLong}`);
  }
}

/** A node's path: a clean absolute path, and never `/` itself (the root is not an entry to create or replace). */
function checkNodePath(cx: ValidateContext, value: string | undefined, path: JsonPath): void {
  if (value === undefined) return;
  const problem = nodePathProblem(value);
  if (problem) cx.issues.error(path, problem);
}

/** What is wrong with `value` as a file's, directory's or link's path, or undefined (the files stage checks with it too). */
export function nodePathProblem(value: unknown): string | undefined {
  if (value === "/") return 'path must not be "/": the root itself cannot be a file, link or directory entry';
  return pathProblem(value);
}

function checkMode(cx: ValidateContext, mode: number | undefined, path: JsonPath): void {
  if (mode === undefined) return;
  if (mode < 0 || mode > 0o7777) cx.issues.error(path, `mode must be between 0 and 4095 (07777 octal), got ${mode}; write modes in decimal, e.g. 420 for 0644`);
  else if (mode & 0o7000 && cx.minor < 4 && !cx.fromV2) cx.issues.error(path, `setuid, setgid and sticky bits need spec 3.4.0 or later (mode ${mode} is 0${mode.toString(8)})`);
}

function checkOwner(cx: ValidateContext, owner: NodeUser | NodeGroup | undefined, path: JsonPath): void {
  if (!owner) return;
  if (owner.id !== undefined && owner.name !== undefined && owner.name !== "") cx.issues.error(path, "set either id or name, not both");
  checkId(cx, owner.id, [...path, "id"], "id");
}

interface Entry {
  kind: Kind;
  index: number;
  hard?: boolean;
  target?: string;
}

/** One entry per path across the three lists; parents must not be files or links; hard links not to directories. */
function checkPathConflicts(cx: ValidateContext, s: Storage, path: JsonPath): void {
  const byPath = new Map<string, Entry>();
  const add = (kind: Kind, items: { path: string; hard?: boolean; target?: string }[] | undefined) => {
    items?.forEach((item, index) => {
      if (!item.path) return;
      const prior = byPath.get(item.path);
      if (prior) {
        const where = [...path, prior.kind, prior.index].join(".");
        const message = prior.kind === kind ? `duplicate path ${JSON.stringify(item.path)} (already used by ${where})` : `path ${JSON.stringify(item.path)} is both a ${NOUN[prior.kind]} (${where}) and a ${NOUN[kind]}`;
        cx.issues.error([...path, kind, index, "path"], message);
      } else byPath.set(item.path, { kind, index, hard: item.hard, target: item.target });
    });
  };
  add("files", s.files);
  add("directories", s.directories);
  add("links", s.links);
  if (byPath.size === 0) return;

  // Parents already known to be clear of files and links: most entries share a few directories.
  const clearParents = new Set<string>();
  for (const [p, entry] of byPath) {
    const dir = p.slice(0, p.lastIndexOf("/"));
    let clear = true;
    for (let parent = dir; parent.length > 0 && !clearParents.has(parent); parent = parent.slice(0, parent.lastIndexOf("/"))) {
      const owner = byPath.get(parent);
      if (owner && owner.kind !== "directories") {
        const where = [...path, owner.kind, owner.index].join(".");
        const why = owner.kind === "files" ? "a file" : "a link (writing through links defined in the same config is not allowed)";
        cx.issues.error([...path, entry.kind, entry.index, "path"], `parent ${JSON.stringify(parent)} is ${why} at ${where}, not a directory`);
        clear = false;
        break;
      }
    }
    if (clear && dir) clearParents.add(dir);
    // A relative hard-link target is taken from the link's directory.
    const target = entry.kind === "links" && entry.hard && entry.target ? posix.resolve(posix.dirname(p), entry.target) : undefined;
    if (target !== undefined && byPath.get(target)?.kind === "directories") {
      cx.issues.error([...path, "links", entry.index, "target"], `a hard link cannot point to a directory (${entry.target})`);
    }
  }
}
