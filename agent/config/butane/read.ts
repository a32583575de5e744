// Reads the YAML tree into the Ignition document, field by field, by the
// tables in schema.ts: snake_case keys become Ignition's camelCase ones,
// scalars are typed the way Butane's Go YAML decoder types them (0644 is
// octal, `yes` is true for a boolean field, `123` is the text "123" for a
// string field), unknown keys are warnings, wrong types are errors, and every
// value remembers its YAML path (origins.ts).

import type { IssueList, JsonPath } from "../issues";
import { setFieldOrigin, setOrigin } from "./origins";
import type { ButaneVersion } from "./versions";
import { isMap, isScalar, isSeq, type YamlMap, type YamlNode, type YamlScalar, type YamlSource } from "./yaml";

export interface ReadCx {
  src: YamlSource;
  version: ButaneVersion;
  /** Issues at YAML paths. */
  issues: IssueList;
  filesDir?: string;
  /** Sugar that needs the whole document, collected while reading (generate.ts renders it). */
  pending: Pending;
}

export interface Pending {
  mountUnits: { filesystem: Plain; yamlPath: JsonPath }[];
  trees: { local: string; path?: string; yamlPath: JsonPath }[];
  bootDevice?: { own: Plain; yamlPath: JsonPath };
  grubUsers?: { users: Plain[]; yamlPath: JsonPath };
}

export type Plain = Record<string, unknown>;

export type Kind = "string" | "int" | "bool" | ObjectSpec | { list: Kind };

export interface FieldSpec {
  kind: Kind;
  /** The Ignition key; `null` for Butane's own keys, handed to `after` instead of copied. */
  json?: string | null;
  /** Present only from this Ignition 3.x minor on. */
  since?: number;
  /** Present only in the versions for which this holds. */
  when?: (v: ButaneVersion) => boolean;
}

export interface ObjectSpec {
  fields: Record<string, FieldSpec>;
  /** Sugar: runs once the fields are read, with Butane's own keys in `own`. */
  after?: (cx: ReadCx, out: Plain, own: Plain, yamlPath: JsonPath) => void;
}

export const STRING: Kind = "string";
export const INT: Kind = "int";
export const BOOL: Kind = "bool";
export const listOf = (kind: Kind): Kind => ({ list: kind });

/** Ignition's name for a Butane key: snake_case to camelCase, with MiB as Ignition spells it. */
function ignitionKey(key: string): string {
  return key.replace(/_mib$/, "_MiB").replace(/_([a-zA-Z])/g, (_m, c: string) => c.toUpperCase());
}

export function fieldPresent(spec: FieldSpec, v: ButaneVersion): boolean {
  return (spec.since === undefined || v.ignitionMinor >= spec.since) && (spec.when === undefined || spec.when(v));
}

/** Reads `node` as `kind`; undefined when absent (null) or wrong (an error is recorded). */
export function readValue(cx: ReadCx, node: YamlNode | null | undefined, kind: Kind, path: JsonPath): unknown {
  const n = cx.src.resolve(node);
  if (n === null || n === undefined || isNull(n)) return undefined;
  if (kind === "string" || kind === "int" || kind === "bool") {
    if (!isScalar(n)) {
      cx.issues.error(path, `must be ${article(kind)}, not ${describeNode(n)}`);
      return undefined;
    }
    return readScalar(cx, n, kind, path);
  }
  if ("list" in kind) {
    if (!isSeq(n)) {
      cx.issues.error(path, `must be a list, not ${describeNode(n)}`);
      return undefined;
    }
    const out: unknown[] = [];
    setOrigin(out, path);
    n.items.forEach((item, i) => {
      const v = readValue(cx, item, kind.list, [...path, i]);
      if (v === undefined) return;
      setFieldOrigin(out, out.length, [...path, i]);
      out.push(v);
    });
    return out;
  }
  return readObject(cx, n, kind, path);
}

export function readObject(cx: ReadCx, node: YamlNode, spec: ObjectSpec, path: JsonPath): Plain | undefined {
  if (!isMap(node)) {
    cx.issues.error(path, `must be a mapping, not ${describeNode(node)}`);
    return undefined;
  }
  const out: Plain = {};
  const own: Plain = {};
  setOrigin(out, path);
  for (const pair of withMergedKeys(cx.src, node)) {
    const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
    if (key === undefined) {
      cx.issues.error(path, "keys must be plain text");
      continue;
    }
    const keyPath = [...path, key];
    if (key === "<<") {
      // as Butane's decoder: the merge is applied, and the key is reported as unused
      cx.issues.warn(keyPath, 'unused key "<<" (its mapping was merged in)', true);
      continue;
    }
    const field = Object.prototype.hasOwnProperty.call(spec.fields, key) ? spec.fields[key] : undefined;
    if (!field || !fieldPresent(field, cx.version)) {
      const why = field ? ` (not in ${cx.version.variant} ${cx.version.version})` : "";
      cx.issues.warn(keyPath, `unused key ${JSON.stringify(key)}${why}`, true);
      continue;
    }
    const valueNode = cx.src.resolve(pair.value as YamlNode | null);
    if (typeof field.kind === "object" && !("list" in field.kind) && (!valueNode || isNull(valueNode))) {
      // as Butane: a section left empty is ignored, with a warning (it usually means lost indentation)
      cx.issues.warn(keyPath, `${key} is empty (null) where a mapping was expected; ignored`);
      continue;
    }
    const value = readValue(cx, valueNode, field.kind, keyPath);
    if (value === undefined) continue;
    if (field.json === null) {
      own[key] = value;
      continue;
    }
    const jsonKey = field.json ?? ignitionKey(key);
    out[jsonKey] = value;
    setFieldOrigin(out, jsonKey, keyPath);
  }
  spec.after?.(cx, out, own, path);
  return out;
}

/** The mapping's entries, plus those a `<<: *anchor` merge key brings in (keys written in the mapping win). */
export function withMergedKeys(src: YamlSource, node: YamlMap): YamlMap["items"] {
  const merges = node.items.filter((p) => isScalar(p.key) && p.key.value === "<<");
  if (merges.length === 0) return node.items;
  const items = [...node.items];
  const has = new Set(node.items.map((p: YamlMap["items"][number]) => (isScalar(p.key) ? String(p.key.value) : "")));
  for (const merge of merges) {
    const value = src.resolve(merge.value as YamlNode | null);
    const sources = value && isSeq(value) ? value.items.map((i) => src.resolve(i)) : [value];
    for (const source of sources) {
      if (!source || !isMap(source)) continue;
      for (const pair of source.items) {
        const key = isScalar(pair.key) ? String(pair.key.value) : undefined;
        if (key === undefined || key === "<<" || has.has(key)) continue;
        has.add(key);
        items.push(pair);
      }
    }
  }
  return items;
}

function isNull(node: YamlNode): boolean {
  if (!isScalar(node) || node.type !== "PLAIN" || node.tag) return false;
  return ["", "~", "null", "Null", "NULL"].includes(String(node.value));
}

/** YAML 1.2's booleans: plain, or tagged !!bool. */
const TRUE = new Set(["true", "True", "TRUE"]);
const FALSE = new Set(["false", "False", "FALSE"]);
/** YAML 1.1's, which Go's decoder also takes for a boolean field from any string, quoted too ("yes", 'off'). */
const TRUE_11 = new Set(["yes", "Yes", "YES", "on", "On", "ON", "y", "Y"]);
const FALSE_11 = new Set(["no", "No", "NO", "off", "Off", "OFF", "n", "N"]);

function readScalar(cx: ReadCx, node: YamlScalar, kind: "string" | "int" | "bool", path: JsonPath): unknown {
  const text = String(node.value);
  const plain = node.type === "PLAIN" && (!node.tag || node.tag === "!");
  const tagged = node.tag && node.tag !== "!" ? node.tag.replace("tag:yaml.org,2002:", "") : undefined;
  if (kind === "string") return text;
  if (kind === "bool") {
    if ((plain || tagged === "bool") && TRUE.has(text)) return true;
    if ((plain || tagged === "bool") && FALSE.has(text)) return false;
    if ((tagged === undefined || tagged === "str") && TRUE_11.has(text)) return true;
    if ((tagged === undefined || tagged === "str") && FALSE_11.has(text)) return false;
  } else {
    const n = plain || tagged === "int" || tagged === "float" ? parseGoInt(text) : undefined;
    if (n !== undefined) return n;
    if (plain && /^[-+]?(\d[\d_]*)?\.?\d*([eE][-+]?\d+)?$/.test(text) && /\d/.test(text)) {
      cx.issues.error(path, `must be an integer, not ${text.length > 24 ? text.slice(0, 21) + "..." : text}`);
      return undefined;
    }
  }
  cx.issues.error(path, `must be ${article(kind)}, not ${plain ? "the text" : "the quoted text"} ${quote(text)}`);
  return undefined;
}

/** Integers as Go's strconv.ParseInt(s, 0, 64) reads them, plus floats cut to their whole part (420.0, 4.2e2, 420.5), as Go's YAML decoder does. */
function parseGoInt(text: string): number | undefined {
  const m = /^([-+]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(text);
  if (m) {
    let digits = m[2]!;
    if (/__/.test(digits) || digits.endsWith("_")) return undefined;
    let base = 10;
    if (/^0[xX]/.test(digits)) (base = 16), (digits = digits.slice(2));
    else if (/^0[oO]/.test(digits)) (base = 8), (digits = digits.slice(2));
    else if (/^0[bB]/.test(digits)) (base = 2), (digits = digits.slice(2));
    else if (digits.length > 1 && digits.startsWith("0")) (base = 8), (digits = digits.slice(1));
    digits = digits.replace(/_/g, "");
    if (digits === "") return undefined;
    const big = BigInt(m[1] === "-" ? -1 : 1) * BigInt((base === 16 ? "0x" : base === 8 ? "0o" : base === 2 ? "0b" : "") + digits);
    if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) return undefined;
    return Number(big);
  }
  const float = text.replace(/_/g, "");
  if (/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(float)) {
    const f = Math.trunc(Number(float));
    if (Number.isSafeInteger(f)) return f === 0 ? 0 : f;
  }
  return undefined;
}

function article(kind: "string" | "int" | "bool"): string {
  return kind === "string" ? "text" : kind === "int" ? "an integer" : "true or false";
}

function describeNode(node: YamlNode): string {
  if (isMap(node)) return "a mapping";
  if (isSeq(node)) return "a list";
  if (isScalar(node)) return `${node.type === "PLAIN" ? "the text" : "the quoted text"} ${quote(String(node.value))}`;
  return "something else";
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? text.slice(0, 37) + "..." : text);
}
