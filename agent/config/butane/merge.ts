// Butane puts what it generates (mount units, boot_device's disks, GRUB's
// user.cfg) under the user's config with Ignition's merge rules: generated
// entries first, the user's entry with the same key merged over them. This
// merge follows config/merge.ts's rules (and uses its list keys) on plain
// documents, carrying the YAML origins along instead of a source tree.

import { LIST_KEYS } from "../merge";
import { copyFieldOrigins, fieldOriginOf, originOf, setFieldOrigin, setOrigin } from "./origins";
import type { Plain } from "./read";

const isPlain = (v: unknown): v is Plain => typeof v === "object" && v !== null && !Array.isArray(v);

/** `child` merged over `parent`. */
export function mergeOver(parent: Plain, child: Plain): Plain {
  return mergeValue(parent, child, "") as Plain;
}

function mergeValue(parent: unknown, child: unknown, field: string): unknown {
  if (child === undefined) return parent;
  if (parent === undefined) return child;
  if (Array.isArray(parent) && Array.isArray(child)) return mergeList(parent, child, field);
  if (isPlain(parent) && isPlain(child)) {
    const out: Plain = { ...parent };
    copyFieldOrigins(parent, out);
    for (const [k, v] of Object.entries(child)) {
      out[k] = mergeValue(parent[k], v, k);
      const from = fieldOriginOf(child, k);
      if (from) setFieldOrigin(out, k, from);
    }
    const origin = originOf(child) ?? originOf(parent);
    if (origin) setOrigin(out, origin);
    return out;
  }
  return child;
}

function mergeList(parent: unknown[], child: unknown[], field: string): unknown[] {
  const out = [...parent];
  const origin = originOf(child) ?? originOf(parent);
  if (origin) setOrigin(out, origin);
  copyFieldOrigins(parent, out);
  const keyOf = LIST_KEYS[field];
  const objects = parent.every(isPlain) && child.every(isPlain);
  const index = new Map<string, number>();
  if (objects && keyOf) {
    out.forEach((item, i) => {
      const k = keyOf(item as Plain);
      if (k !== undefined) index.set(k, i);
    });
  }
  child.forEach((item, i) => {
    const from = fieldOriginOf(child, i);
    let at: number;
    if (objects && keyOf) {
      const k = keyOf(item as Plain);
      const existing = k === undefined ? undefined : index.get(k);
      if (existing !== undefined) {
        out[existing] = mergeValue(out[existing], item, "");
        at = existing;
      } else {
        at = out.push(item) - 1;
        if (k !== undefined) index.set(k, at);
      }
    } else if (!objects && out.includes(item)) {
      return; // lists of strings: the union
    } else {
      at = out.push(item) - 1;
    }
    if (from) setFieldOrigin(out, at, from);
  });
  return out;
}
