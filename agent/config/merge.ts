// Ignition's rules for merging a child config over a parent: objects merge
// field by field (the child wins where it sets a value), lists of objects are
// keyed (files by path, units by name, disks by device, …) so a child entry
// updates the parent's entry with the same key, unkeyed lists (file `append`)
// concatenate, and lists of strings become the union, parent first.

import type { Config, HttpHeader, KernelArguments, Partition, Storage } from "./types";

type Plain = Record<string, unknown>;
type KeyOf = (item: Plain) => string | undefined;

const byField =
  (field: string): KeyOf =>
  (item) => {
    const v = item[field];
    return typeof v === "string" ? v : undefined;
  };

/** The key of each list of objects, by the list's field name. */
const LIST_KEYS: Record<string, KeyOf> = {
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
  const p = structuredClone(parent);
  const c = structuredClone(child);
  if (p.storage && c.storage) dropReplacedNodes(p.storage, c.storage);
  if (p.kernelArguments && c.kernelArguments) reconcileKernelArguments(p.kernelArguments, c.kernelArguments);
  const merged = mergeValue(p, c, "") as Config;
  merged.ignition.version = newerVersion(parent.ignition.version, child.ignition.version);
  return merged;
}

function mergeValue(parent: unknown, child: unknown, field: string): unknown {
  if (child === undefined) return parent;
  if (parent === undefined) return child;
  if (Array.isArray(parent) && Array.isArray(child)) return mergeList(parent, child, field);
  if (isPlain(parent) && isPlain(child)) {
    const out: Plain = { ...parent };
    for (const [k, v] of Object.entries(child)) {
      const merged = mergeValue(parent[k], v, k);
      if (merged !== undefined) out[k] = merged;
    }
    return out;
  }
  return child;
}

function mergeList(parent: unknown[], child: unknown[], field: string): unknown[] {
  const objects = parent.every(isPlain) && child.every(isPlain);
  if (!objects) {
    const out = [...parent];
    const seen = new Set(parent);
    for (const v of child) if (!seen.has(v)) (seen.add(v), out.push(v));
    return out;
  }
  const keyOf = LIST_KEYS[field];
  if (!keyOf) return [...parent, ...child]; // e.g. a file's `append` fragments
  const out = [...(parent as Plain[])];
  const index = new Map<string, number>();
  out.forEach((item, i) => {
    const k = keyOf(item);
    if (k !== undefined) index.set(k, i);
  });
  for (const item of child as Plain[]) {
    const k = keyOf(item);
    const at = k === undefined ? undefined : index.get(k);
    if (at === undefined) {
      if (k !== undefined) index.set(k, out.length);
      out.push(item);
    } else out[at] = mergeValue(out[at], item, "") as Plain;
  }
  // A child header with a name and no value deletes the parent's header.
  if (field === "httpHeaders") {
    const removed = new Set((child as unknown as HttpHeader[]).filter((h) => h.value === undefined).map((h) => h.name));
    return (out as unknown as HttpHeader[]).filter((h) => !removed.has(h.name));
  }
  return out;
}

/** A path in the child replaces the parent's entry of another kind (file, directory or link). */
function dropReplacedNodes(parent: Storage, child: Storage): void {
  const kinds = ["files", "directories", "links"] as const;
  for (const kind of kinds) {
    const childPaths = new Set<string>();
    for (const other of kinds) if (other !== kind) child[other]?.forEach((n) => childPaths.add(n.path));
    const list = parent[kind] as { path: string }[] | undefined;
    if (list && childPaths.size) (parent[kind] as { path: string }[]) = list.filter((n) => !childPaths.has(n.path));
  }
}

/** An argument the child wants present leaves the parent's shouldNotExist, and the other way round. */
function reconcileKernelArguments(parent: KernelArguments, child: KernelArguments): void {
  const wanted = new Set(child.shouldExist ?? []);
  const unwanted = new Set(child.shouldNotExist ?? []);
  if (parent.shouldNotExist) parent.shouldNotExist = parent.shouldNotExist.filter((a) => !wanted.has(a));
  if (parent.shouldExist) parent.shouldExist = parent.shouldExist.filter((a) => !unwanted.has(a));
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
