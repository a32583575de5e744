// Where each part of the translated Ignition document came from in the YAML,
// so that an issue found in the output points at the line the user wrote.
// Origins hang off the output's objects and arrays themselves, so they survive
// the merges that put generated entries (mount units, boot_device disks)
// before the user's own.

import type { JsonPath } from "../issues";

type Container = object;

const wholeOrigin = new WeakMap<Container, JsonPath>();
const fieldOrigins = new WeakMap<Container, Map<string | number, JsonPath>>();

/** Records that `container` as a whole comes from `yamlPath`. */
export function setOrigin<T extends Container>(container: T, yamlPath: JsonPath): T {
  wholeOrigin.set(container, yamlPath);
  return container;
}

/** Records that `container[key]` comes from `yamlPath`. */
export function setFieldOrigin(container: Container, key: string | number, yamlPath: JsonPath): void {
  let map = fieldOrigins.get(container);
  if (!map) fieldOrigins.set(container, (map = new Map()));
  map.set(key, yamlPath);
}

export function originOf(container: Container): JsonPath | undefined {
  return wholeOrigin.get(container);
}

export function fieldOriginOf(container: Container, key: string | number): JsonPath | undefined {
  return fieldOrigins.get(container)?.get(key);
}

/** Copies the field origins of `from` (optionally renumbering array indices) onto `to`. */
export function copyFieldOrigins(from: Container, to: Container, renumber?: (key: string | number) => string | number): void {
  const map = fieldOrigins.get(from);
  if (!map) return;
  for (const [k, v] of map) setFieldOrigin(to, renumber ? renumber(k) : k, v);
}

/** The YAML path behind the output path `jsonPath` of `doc`: the most specific one known along it. */
export function yamlPathFor(doc: unknown, jsonPath: JsonPath): JsonPath {
  let best: JsonPath = [];
  let node: unknown = doc;
  if (typeof node === "object" && node !== null) best = originOf(node) ?? best;
  for (const step of jsonPath) {
    if (typeof node !== "object" || node === null) break;
    const viaField = fieldOriginOf(node, step);
    node = (node as Record<string | number, unknown>)[step];
    const own = typeof node === "object" && node !== null ? originOf(node) : undefined;
    best = own ?? viaField ?? best;
  }
  return best;
}
