// Butane configs (the YAML that Fedora CoreOS and Flatcar tell people to
// write) translated into the Ignition document the real Butane would
// produce, with every issue at a YAML path. config/index.ts then checks the
// document with Ignition's rules and maps those issues back to the YAML.

import { IssueList, type RawIssue } from "../issues";
import type { Position } from "../locate";
import { addBootDevice, addGrubUsers, addMountUnits, addTrees, warnReservedLabels, warnReuseByLabel } from "./generate";
import { setFieldOrigin, setOrigin } from "./origins";
import { readObject, withMergedKeys, type Plain, type ReadCx } from "./read";
import { ROOT } from "./schema";
import { findButaneVersion, type ButaneVersion } from "./versions";
import { isMap, isScalar, parseYaml, type YamlSource } from "./yaml";

export { yamlPathFor } from "./origins";
export type { YamlSource } from "./yaml";

export interface ButaneOptions {
  filesDir?: string;
  allowExperimental?: boolean;
}

export type ButaneResult =
  | { ok: true; document: Plain; version: ButaneVersion; source: YamlSource; issues: RawIssue[] }
  | { ok: false; issues: (RawIssue & Partial<Position>)[]; source?: YamlSource };

export function translateButane(text: string, options: ButaneOptions): ButaneResult {
  const parsed = parseYaml(text);
  if (!parsed.ok) return { ok: false, issues: parsed.issues };
  const source = parsed.source;
  const issues = new IssueList();
  const fail = () => ({ ok: false as const, issues: issues.items, source });
  const root = source.resolve(source.root);
  if (!root || !isMap(root)) {
    issues.error([], "a Butane config must be a mapping with variant and version");
    return fail();
  }
  const scalar = (key: string): string | undefined => {
    const node = source.resolve(withMergedKeys(source, root).find((p) => isScalar(p.key) && p.key.value === key)?.value);
    return node && isScalar(node) ? String(node.value) : undefined;
  };
  const variant = scalar("variant");
  const versionText = scalar("version");
  if (variant === undefined) issues.error(["variant"], 'variant is required ("fcos" or "flatcar")');
  if (versionText === undefined) issues.error(["version"], 'version is required (for example "1.5.0")');
  if (variant === undefined || versionText === undefined) return fail();
  const version = findButaneVersion(variant, versionText, options.allowExperimental ?? false);
  if (typeof version === "string") {
    issues.error([variant === "fcos" || variant === "flatcar" ? "version" : "variant"], version);
    return fail();
  }

  const cx: ReadCx = {
    src: source,
    version,
    issues,
    ...(options.filesDir !== undefined ? { filesDir: options.filesDir } : {}),
    pending: { mountUnits: [], trees: [] },
  };
  const read = readObject(cx, root, ROOT, []) ?? {};
  if (issues.hasErrors) return fail();

  const ignition: Plain = setOrigin({ version: version.ignitionVersion, ...((read.ignition as Plain | undefined) ?? {}) }, ["ignition"]);
  setFieldOrigin(ignition, "version", ["version"]);
  let document: Plain = setOrigin({ ...read, ignition }, []);
  for (const key of Object.keys(read)) setFieldOrigin(document, key, [butaneKey(key)]);
  setFieldOrigin(document, "ignition", ["ignition"]);
  warnReuseByLabel(cx, document);
  document = addMountUnits(cx, document);
  addTrees(cx, document);
  document = addBootDevice(cx, document);
  document = addGrubUsers(cx, document);
  warnReservedLabels(cx, document);
  if (issues.hasErrors) return fail();
  return { ok: true, document: withoutEmpty(document) as Plain, version, source, issues: issues.items };
}

function butaneKey(ignitionKey: string): string {
  return ignitionKey === "kernelArguments" ? "kernel_arguments" : ignitionKey;
}

/** Butane's output omits empty objects and lists, and a partition's number 0, as Go's omitempty does. */
function withoutEmpty(value: unknown, key = ""): unknown {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = withoutEmpty(value[i], key);
    return value;
  }
  if (typeof value === "object" && value !== null) {
    const obj = value as Plain;
    // Number is the one field of Ignition's types that is a plain int with omitempty.
    if (key === "partitions" && obj.number === 0) delete obj.number;
    for (const [k, v] of Object.entries(obj)) {
      const cleaned = withoutEmpty(v, k);
      const empty = (Array.isArray(cleaned) && cleaned.length === 0) || (typeof cleaned === "object" && cleaned !== null && !Array.isArray(cleaned) && Object.keys(cleaned).length === 0);
      if (empty && k !== "ignition") delete obj[k];
      else obj[k] = cleaned;
    }
  }
  return value;
}
