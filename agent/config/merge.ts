// Ignition's rules for merging a child config over a parent: objects merge
// field by field (the child wins where it sets a value), lists of objects are
// keyed (files by path, units by name, disks by device, …) so a child entry
// updates the parent's entry with the same key, unkeyed lists (file `append`)
// concatenate, and lists of strings become the union, parent first.

import { descend, detach, listTree, rootCursor, type Cursor, type ListItemSource, type SourceDocument, type SourceTree } from "./sources";
import type { Config, HttpHeader, KernelArguments, Partition, Storage } from "./types";
import { StoredList } from "./item-list";

type Plain = Record<string, unknown>;
type KeyOf = (item: Plain) => string | undefined;

const byField =
  (field: string): KeyOf =>
  (item) => {
    const v = item[field];
    return typeof v === "string" ? v : undefined;
  };

/** The key of each list of objects, by the list's field name (Butane's own merge uses it too). */
export const LIST_KEYS: Readonly<Record<string, KeyOf>> = {
  merge: byField("source"),
  certificateAuthorities: byField("source"),
  httpHeaders: byField("name"),
  disks: byField("device"),
  partitions: (p) => {
    const { number, label } = p as Partition;
    return number ? `#${number}` : label !== undefined ? `label:${label}` : undefined;
  },
  raid: byField("name"),
  filesystems: byField("device"),
  files: byField("path"),
  directories: byField("path"),
  links: byField("path"),
  luks: byField("name"),
  tang: byField("url"),
  units: byField("name"),
  dropins: byField("name"),
  users: byField("name"),
  groups: byField("name"),
};

/** Merges `child` over `parent`; neither input is modified. */
export function mergeConfigs(parent: Config, child: Config): Config {
  return merge(parent, child).config;
}

/** A config with the source tree saying where each part of it came from. */
export interface SourcedConfig {
  config: Config;
  sources: SourceTree;
}

/** Merges `child` over `parent` and keeps, for every part of the result, the document it came from. */
export function mergeSourcedConfigs(parent: SourcedConfig, child: SourcedConfig): SourcedConfig {
  const unknown: SourceDocument = { name: "config" };
  const merged = merge(parent.config, child.config, rootCursor(parent.sources, unknown), rootCursor(child.sources, unknown));
  return { config: merged.config, sources: merged.sources! };
}

/** Source cursors are optional throughout: without them only the config is merged. */
function merge(parent: Config, child: Config, pc?: Cursor, cc?: Cursor): { config: Config; sources?: SourceTree } {
  const p = copyConfig(parent);
  const c = copyConfig(child);
  if (p.storage && c.storage) pc = dropReplacedNodes(p.storage, c.storage, pc);
  if (p.kernelArguments && c.kernelArguments) pc = reconcileKernelArguments(p.kernelArguments, c.kernelArguments, pc);
  const [merged, sources] = mergeValue(p, c, "", pc, cc);
  (merged as Config).ignition.version = newerVersion(parent.ignition.version, child.ignition.version);
  return { config: merged as Config, sources };
}

/** A deep copy of a config's plain values; a big config's spooled lists (item-list.ts) become arrays. */
function copyConfig<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value) || value instanceof StoredList) return Array.from(value as Iterable<unknown>, copyConfig) as T;
  const out: Plain = {};
  for (const key of Object.keys(value)) out[key] = copyConfig((value as Plain)[key]);
  return out as T;
}

type Merged = [value: unknown, sources: SourceTree | undefined];

const sub = (cursor: Cursor | undefined, key: string | number) => (cursor ? descend(cursor, key) : undefined);
const place = (cursor: Cursor | undefined) => (cursor ? detach(cursor) : undefined);

function mergeValue(parent: unknown, child: unknown, field: string, pc?: Cursor, cc?: Cursor): Merged {
  if (child === undefined) return [parent, place(pc)];
  if (parent === undefined) return [child, place(cc)];
  if (Array.isArray(parent) && Array.isArray(child)) return mergeList(parent, child, field, pc, cc);
  if (isPlain(parent) && isPlain(child)) {
    const out: Plain = { ...parent };
    const tree = cc ? sourceNode(cc) : undefined;
    if (tree) for (const k of Object.keys(parent)) tree.kids[k] = detach(descend(pc!, k));
    for (const [k, v] of Object.entries(child)) {
      const [merged, source] = mergeValue(parent[k], v, k, sub(pc, k), sub(cc, k));
      if (merged !== undefined) out[k] = merged;
      if (tree && source) tree.kids[k] = source;
    }
    return [out, tree];
  }
  return [child, place(cc)];
}

function mergeList(parent: unknown[], child: unknown[], field: string, pc?: Cursor, cc?: Cursor): Merged {
  // Each item of the result comes whole from one side, or from merging two items.
  const out: unknown[] = [];
  const from: ListItemSource[] = [];
  const [pList, cList] = cc ? [detach(pc!), detach(cc)] : [];
  const add = (value: unknown, list: SourceTree | undefined, index: number) => (out.push(value), list && from.push({ list, index }));
  parent.forEach((v, i) => add(v, pList, i));
  const objects = parent.every(isPlain) && child.every(isPlain);
  const keyOf = objects ? LIST_KEYS[field] : undefined;
  if (!objects) {
    const seen = new Set(parent);
    child.forEach((v, i) => {
      if (!seen.has(v)) (seen.add(v), add(v, cList, i));
    });
  } else if (!keyOf) {
    child.forEach((v, i) => add(v, cList, i)); // e.g. a file's `append` fragments
  } else {
    const index = new Map<string, number>();
    out.forEach((item, i) => {
      const k = keyOf(item as Plain);
      if (k !== undefined) index.set(k, i);
    });
    (child as Plain[]).forEach((item, i) => {
      const k = keyOf(item);
      const at = k === undefined ? undefined : index.get(k);
      if (at === undefined) {
        if (k !== undefined) index.set(k, out.length);
        add(item, cList, i);
      } else {
        const [merged, source] = mergeValue(out[at], item, "", cc ? itemCursor(from[at]!) : undefined, sub(cc, i));
        out[at] = merged;
        if (source) from[at] = { tree: source };
      }
    });
  }
  let keep = out.map((_, i) => i);
  // A child header with a name and no value deletes the parent's header.
  if (field === "httpHeaders") {
    const removed = new Set((child as unknown as HttpHeader[]).filter((h) => h.value === undefined).map((h) => h.name));
    keep = keep.filter((i) => !removed.has((out[i] as HttpHeader).name));
  }
  return [keep.map((i) => out[i]), cc ? listTree(cc.origin, keep.map((i) => from[i]!)) : undefined];
}

function itemCursor(item: ListItemSource): Cursor {
  if ("tree" in item) return { node: item.tree, origin: item.tree.at! };
  return descend({ node: item.list, origin: item.list.at! }, item.index);
}

/** A fresh node for a merged object or list: its own origin is the child's (the last writer). */
function sourceNode(cc: Cursor): SourceTree & { kids: Record<string, SourceTree> } {
  return { at: cc.origin, kids: {} };
}

/** The same list with only the items at `kept` (old indices, in order), and its source tree renumbered alike. */
function keepItems<T>(list: T[], kept: number[], cursor: Cursor | undefined, path: string[]): [T[], Cursor | undefined] {
  if (!cursor) return [kept.map((i) => list[i]!), undefined];
  let at = cursor;
  for (const key of path) at = descend(at, key);
  const source = detach(at);
  const renumbered = listTree(at.origin, kept.map((index) => ({ list: source, index })));
  return [kept.map((i) => list[i]!), { ...cursor, node: replaceAt(detach(cursor), path, renumbered) }];
}

/** A copy of `tree` with the node at `path` replaced (copying only the nodes on the way). */
function replaceAt(tree: SourceTree, path: string[], replacement: SourceTree): SourceTree {
  if (path.length === 0) return replacement;
  const [key, ...rest] = path;
  const cursor = { node: tree, origin: tree.at! };
  const below = detach(descend(cursor, key!));
  return { ...tree, kids: { ...tree.kids, [key!]: replaceAt(below, rest, replacement) } };
}

const indicesWhere = <T>(list: T[], keep: (item: T) => boolean): number[] => list.flatMap((item, i) => (keep(item) ? [i] : []));

/** A path in the child replaces the parent's entry of another kind (file, directory or link). */
function dropReplacedNodes(parent: Storage, child: Storage, pc: Cursor | undefined): Cursor | undefined {
  const kinds = ["files", "directories", "links"] as const;
  for (const kind of kinds) {
    const childPaths = new Set<string>();
    for (const other of kinds) if (other !== kind) for (const n of child[other] ?? []) childPaths.add(n.path);
    // Arrays: copyConfig made them.
    const list = parent[kind] as { path: string }[] | undefined;
    if (!list || !childPaths.size) continue;
    const [kept, cursor] = keepItems(list, indicesWhere(list, (n) => !childPaths.has(n.path)), pc, ["storage", kind]);
    (parent[kind] as { path: string }[]) = kept;
    pc = cursor;
  }
  return pc;
}

/** An argument the child wants present leaves the parent's shouldNotExist, and the other way round. */
function reconcileKernelArguments(parent: KernelArguments, child: KernelArguments, pc: Cursor | undefined): Cursor | undefined {
  const wanted = new Set(child.shouldExist ?? []);
  const unwanted = new Set(child.shouldNotExist ?? []);
  for (const [field, drop] of [["shouldNotExist", wanted], ["shouldExist", unwanted]] as const) {
    const list = parent[field];
    if (!list) continue;
    const [kept, cursor] = keepItems(list, indicesWhere(list, (a) => !drop.has(a)), pc, ["kernelArguments", field]);
    parent[field] = kept;
    pc = cursor;
  }
  return pc;
}

function isPlain(v: unknown): v is Plain {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The newer of two spec versions ("3.7.0-experimental" sorts after 3.6.0). */
export function newerVersion(a: string, b: string): string {
  const parse = (v: string) => v.split(/[.-]/).slice(0, 3).map(Number);
  const [x, y] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0) ? a : b;
  }
  return b;
}
