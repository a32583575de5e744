// Butane puts what it generates (mount units, boot_device's disks, GRUB's
// user.cfg) under the user's config with Ignition's merge (the generated
// document the parent, the user's the child), and so gives exactly what that
// merge gives, duplicates included:
// - a parent entry whose key the child also has is merged with the child's
//   LAST entry with that key (files, directories and links share one set of
//   keys: a parent file the child has as a link is dropped);
// - every other child entry is appended, unless the parent's same list has
//   its key: so a user's earlier duplicates of a generated entry disappear,
//   while duplicates of the user's own entries stay for validation to reject;
// - lists Ignition does not key (a file's append, options) are concatenated,
//   and a list of strings is keyed by the string itself.
// The YAML origins are carried along instead of a source tree.

import { LIST_KEYS } from "../merge";
import { copyFieldOrigins, fieldOriginOf, originOf, setFieldOrigin, setOrigin } from "./origins";
import type { Plain } from "./read";

const isPlain = (v: unknown): v is Plain => typeof v === "object" && v !== null && !Array.isArray(v);

/** Lists Ignition appends without looking at keys (its IgnoreDuplicates). */
const UNKEYED = new Set(["append", "options", "mountOptions"]);

/** Lists whose keys are one set (Ignition's MergedKeys), by field name. */
const SHARED_KEYS: Readonly<Record<string, string>> = { files: "node", directories: "node", links: "node", shouldExist: "karg", shouldNotExist: "karg" };

/** Ignition's Key() of a list item: a string is its own key, an object's missing key is "". */
function keyOf(field: string, item: unknown): string {
  if (!isPlain(item)) return String(item);
  return LIST_KEYS[field]?.(item) ?? "";
}

/** `child` merged over `parent`. */
export function mergeOver(parent: Plain, child: Plain): Plain {
  return mergeObject(parent, child);
}

function mergeObject(parent: Plain, child: Plain): Plain {
  const out: Plain = { ...parent };
  copyFieldOrigins(parent, out);
  // The child's last entry for each key, over all its keyed lists: where it is and what it is.
  const last = new Map<string, { field: string; item: unknown; index: number }>();
  for (const [field, list] of Object.entries(child)) {
    if (!Array.isArray(list) || UNKEYED.has(field)) continue;
    const handle = SHARED_KEYS[field] ?? field;
    list.forEach((item, index) => last.set(`${handle}\0${keyOf(field, item)}`, { field, item, index }));
  }
  for (const [k, v] of Object.entries(child)) {
    const p = parent[k];
    if (v === undefined) continue;
    if (Array.isArray(p) && Array.isArray(v)) out[k] = mergeList(p, v, k, (key) => last.get(`${SHARED_KEYS[k] ?? k}\0${key}`));
    else out[k] = isPlain(p) && isPlain(v) ? mergeObject(p, v) : v;
    const from = fieldOriginOf(child, k);
    if (from) setFieldOrigin(out, k, from);
  }
  // A list the child lacks loses the entries the child has in a list sharing its keys.
  for (const [k, p] of Object.entries(parent)) {
    if (child[k] !== undefined || !Array.isArray(p) || !SHARED_KEYS[k]) continue;
    out[k] = mergeList(p, [], k, (key) => last.get(`${SHARED_KEYS[k]}\0${key}`));
  }
  const origin = originOf(child) ?? originOf(parent);
  if (origin) setOrigin(out, origin);
  return out;
}

function mergeList(parent: unknown[], child: unknown[], field: string, childEntry: (key: string) => { field: string; item: unknown; index: number } | undefined): unknown[] {
  const out: unknown[] = [];
  const origin = originOf(child) ?? originOf(parent);
  if (origin) setOrigin(out, origin);
  const add = (item: unknown, from: unknown[], i: number) => {
    const at = fieldOriginOf(from, i);
    if (at) setFieldOrigin(out, out.length, at);
    out.push(item);
  };
  if (UNKEYED.has(field)) {
    parent.forEach((item, i) => add(item, parent, i));
    child.forEach((item, i) => add(item, child, i));
    return out;
  }
  parent.forEach((item, i) => {
    const match = childEntry(keyOf(field, item));
    if (!match) return add(item, parent, i);
    if (match.field !== field) return; // the child has it in another list: that one wins
    // A header the child names without a value removes the parent's.
    if (field === "httpHeaders" && isPlain(match.item) && match.item.value == null) return;
    add(isPlain(item) && isPlain(match.item) ? mergeObject(item, match.item) : match.item, child, match.index);
  });
  const parentKeys = new Set(parent.map((item) => keyOf(field, item)));
  child.forEach((item, i) => {
    if (!parentKeys.has(keyOf(field, item))) add(item, child, i);
  });
  return out;
}
