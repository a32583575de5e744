// The config engine's public API: text in, a validated 3.x Config out.
// Other modules import only from here.
//
// Flow: bytes → UTF-8 text → JSON (JSON.parse, fast) → spec version →
// typed model (3.x read directly; 2.x read, then translated) → validation.
// Line and column are computed only for the issues that get reported.

import { readFileSync } from "node:fs";
import { FlintError } from "../errors";
import { keepHeapNearLive } from "../heap";
import { rememberConfigSecrets, replaceConfigSecrets } from "../secrets";
import { isButaneDocument, isYamlMapping, looksLikeButane } from "./butane/detect";
import type { YamlSource } from "./butane/index";
import { IssueList, messageOf, type JsonPath, type RawIssue } from "./issues";
import { lineColumnAt, locatePaths } from "./locate";
import { BIG_CONFIG_BYTES, MAX_CONFIG_BYTES, tooLarge } from "./limits";
import { StoredList } from "./item-list";
import { decodeText, InvalidJsonItem, jsonSyntaxIssue, parseJsonText, type DuplicateKey } from "./text";
import { NEWEST_SPEC, type Config } from "./types";
import type { V2Config } from "./v2/read";
import { documentTree, originOf, translatedTree, type SourceDocument, type SourceTree } from "./sources";
import { checkIntegerSpelling } from "./integers";
import { goValueOf } from "./read";
import { readConfigV3 } from "./v3/read";
import { validateConfig } from "./validate/index";
import { parseSpecVersion } from "./version";

export { mergeConfigs, mergeSourcedConfigs, type SourcedConfig } from "./merge";
export { describePlace, parseConfigPath } from "./place";
export { GPT_MAX_PARTITIONS, RAID_LEVELS } from "./validate/storage";
export { documentTree, locateInSources, parseSources, serializeSources, type SourceTree } from "./sources";
export { NEWEST_SPEC } from "./types";
export type { ItemList } from "./item-list";
export { SUPPORTED_V2, SUPPORTED_V3, EXPERIMENTAL } from "./version";
export type { JsonPath } from "./issues";

export interface ConfigIssue {
  severity: "error" | "warning";
  path: JsonPath;
  message: string;
  /** 1-based position in the source text, when known. */
  line?: number;
  column?: number;
  /** A warning of Flint's own that Ignition and Butane do not give: `--strict` does not make it an error. */
  ownDoubt?: true;
}

export interface ParseOptions {
  /** Where the text came from (a file name or URL label), for messages. */
  source?: string;
  /** Accept 3.7.0-experimental (and Butane's experimental versions). */
  allowExperimental?: boolean;
  /** Butane: the directory `local:` paths (contents, units, SSH keys, trees) are read from; none on a first boot. */
  filesDir?: string;
  /** Warnings are errors (as `butane --strict`). */
  strict?: boolean;
  /** The document as errors at stage time name it (`merged config https://…`); `source` by default. */
  documentName?: string;
  /** The caller is done with the bytes: their memory is given back once they are decoded (a big config is not held twice). */
  releaseInput?: boolean;
}

export interface ParsedConfig {
  config: Config;
  /** The version the document declared, e.g. "2.2.0". */
  specVersion: string;
  warnings: ConfigIssue[];
  /** Where each part of `config` lies in the document (differs from the config's own paths for 2.x). */
  sources: SourceTree;
  /** For a Butane config: the Ignition document it translates to, as Butane prints it. */
  butane?: { ignition: Record<string, unknown>; ignitionVersion: string };
}

/** A config that Ignition would reject; carries every error found (and the warnings, in `issues`). */
export class ConfigInvalidError extends FlintError {
  readonly errors: ConfigIssue[];
  readonly warnings: ConfigIssue[];

  constructor(
    readonly issues: ConfigIssue[],
    source?: string,
  ) {
    const errors = issues.filter((i) => i.severity === "error");
    super(`invalid config:\n${errors.map((i) => "  " + formatIssue(i)).join("\n")}`, source);
    this.errors = errors;
    this.warnings = issues.filter((i) => i.severity === "warning");
  }
}

/** `storage.files.3.path: path must be absolute (line 12, column 17)` */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.path.length ? issue.path.join(".") + ": " : "";
  const pos = issue.line !== undefined ? ` (line ${issue.line}, column ${issue.column})` : "";
  return `${where}${issue.message}${pos}`;
}

/** Parses, translates (2.x) and validates a config; throws ConfigInvalidError listing every error. */
export function parseConfig(input: string | Uint8Array, options: ParseOptions = {}): ParsedConfig {
  const fail = (issues: ConfigIssue[]): never => {
    throw new ConfigInvalidError(issues, options.source);
  };
  const size = typeof input === "string" ? input.length : input.byteLength;
  if (size > MAX_CONFIG_BYTES) return fail([{ severity: "error", path: [], message: tooLarge(size) }]);
  if (size > BIG_CONFIG_BYTES) keepHeapNearLive();
  const decoded = decodeText(input);
  if (options.releaseInput && typeof input !== "string") release(input);
  if (!decoded.ok) return fail([{ severity: "error", path: [], message: decoded.message }]);
  const text = decoded.text.charCodeAt(0) === 0xfeff ? decoded.text.slice(1) : decoded.text;
  if (looksLikeButane(text)) return parseButane(text, options, fail);
  const json = parseJsonText(text);
  if (!json.ok) return isYamlMapping(text) ? parseButane(text, options, fail) : fail([json.issue]);
  const doc = json.value;
  if (isButaneDocument(doc)) return parseButane(text, options, fail);
  // Before anything can fail: a tool or fetch message must never quote a secret of this config.
  rememberConfigSecrets(doc);

  const issues = new IssueList();
  const versionText = findVersion(doc, issues);
  if (versionText === undefined) return fail(positioned(text, issues.items));
  const version = parseSpecVersion(versionText, options.allowExperimental ?? false);
  if (typeof version === "string") {
    issues.error(["ignition", "version"], version);
    return fail(positioned(text, issues.items));
  }

  let read: { config?: Config; sources: SourceTree };
  try {
    read = readDocument(doc, version, issues, { name: options.documentName ?? options.source ?? "config", text }, json.fractionalNumbers);
  } catch (e) {
    // A storage list item of a big config that is not JSON (text.ts).
    if (e instanceof InvalidJsonItem) return fail([jsonSyntaxIssue(text, e.message)]);
    throw e;
  }
  const { config, sources } = read;
  const located = strictly(inDocumentOrder([...positioned(text, issues.items), ...duplicateKeyWarnings(text, json.duplicates)]), options);
  if (!config || located.some((i) => i.severity === "error")) return fail(located);
  replaceConfigSecrets(doc, config);
  config.ignition.version = version.experimental ? version.text : NEWEST_SPEC;
  return { config, specVersion: version.text, warnings: located.filter((i) => i.severity === "warning"), sources };
}

/**
 * A big config's text is let go once the config is read (20 MB at 100,000
 * files: peak RSS of `flint apply --stages files` 106 MiB with it kept, 93
 * without): an error found at stage time is placed by reading `file` again.
 */
export function placeLaterErrorsFrom(sources: SourceTree, file: string): void {
  const document = sources.at?.document;
  if (sources.kids || sources.spans || document?.text === undefined || document.text.length <= BIG_CONFIG_BYTES) return;
  Object.defineProperty(document, "text", { get: () => readFileSync(file, "utf8").replace(/^\uFEFF/, ""), enumerable: true });
}

/** The typed config of a document of spec `version` (3.x read; 2.x read and translated), validated; issues into `issues`. */
function readDocument(doc: unknown, version: { major: number; minor: number }, issues: IssueList, document: SourceDocument & { text: string }, fractionalNumbers: boolean): { config?: Config; sources: SourceTree } {
  const text = document.text;
  let config: Config | undefined;
  let sources = documentTree(document);
  if (version.major === 3) {
    config = readConfigV3(doc, [], { issues, major: 3, minor: version.minor });
    if (fractionalNumbers) checkIntegerSpelling(text, config, issues);
    if (config) validateConfig(config, version.minor, issues);
  } else {
    // Required here, not imported: the bundle sets up the 2.x readers only for a 2.x config.
    const { readConfigV2 } = require("./v2/read") as typeof import("./v2/read");
    const { translateV2 } = require("./v2/translate") as typeof import("./v2/translate");
    // Translation makes new lists: a big 2.x config's are held as objects.
    const storage = (doc as { storage?: Record<string, unknown> }).storage;
    for (const key of ["files", "directories", "links"]) {
      const list = storage?.[key];
      if (list instanceof StoredList) storage![key] = Array.from(list);
    }
    const v2 = readConfigV2(doc, [], { issues, major: 2, minor: version.minor }) as V2Config | undefined;
    if (fractionalNumbers) checkIntegerSpelling(text, v2, issues);
    if (v2 && !issues.hasErrors) {
      const translation = translateV2(v2, issues);
      config = translation.config;
      sources = translatedTree(document, [...translation.origins].map(([key, from]) => [fromOriginKey(key), from]));
      if (!issues.hasErrors) {
        // Translated paths point back into the 2.x document the user wrote.
        const checked = validateConfig(config, 0);
        for (const issue of checked.items) issues.items.push({ ...issue, path: originOf(sources, issue.path)!.path, ...(issue.firstAt ? { firstAt: originOf(sources, issue.firstAt)!.path } : {}) });
      }
    }
  }
  return config ? { config, sources } : { sources };
}

/**
 * Detaches the bytes' memory (moved to a copy nobody holds, freed by the next
 * young collection) instead of waiting for every frame that still refers to
 * them to end (`flint validate` of 100,000 files: peak 108 -> 92 MiB). Only
 * for a buffer of its own: a small Buffer may share Node's pool (8 KiB) with
 * others.
 */
function release(bytes: Uint8Array): void {
  if (bytes.buffer.byteLength < 64 * 1024 || !(bytes.buffer instanceof ArrayBuffer)) return;
  structuredClone(bytes.buffer, { transfer: [bytes.buffer] });
}

function inDocumentOrder(issues: ConfigIssue[]): ConfigIssue[] {
  return issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

/** Reported one by one up to this many; the rest are counted in one more warning. */
const DUPLICATE_KEYS_SHOWN = 100;

/** A warning per key given twice in one object (the last value is the one used), as for unknown keys. */
function duplicateKeyWarnings(text: string, found: DuplicateKey[]): ConfigIssue[] {
  const shown: ConfigIssue[] = found.slice(0, DUPLICATE_KEYS_SHOWN).map((d) => ({
    severity: "warning",
    path: d.path,
    message: `duplicate key ${JSON.stringify(String(d.path[d.path.length - 1]).slice(0, 60))}: only its last value is used`,
    ...lineColumnAt(text, d.offset),
  }));
  // The count goes where the first unlisted one is, so that it reads after the listed ones.
  if (found.length > DUPLICATE_KEYS_SHOWN) shown.push({ severity: "warning", path: [], message: `${found.length - DUPLICATE_KEYS_SHOWN} more duplicate keys not listed`, ...lineColumnAt(text, found[DUPLICATE_KEYS_SHOWN]!.offset) });
  return shown;
}

/** With `strict`, every warning is an error, as in `butane --strict`; but not Flint's own doubts, which Butane does not give. */
function strictly(issues: ConfigIssue[], options: ParseOptions): ConfigIssue[] {
  return options.strict ? issues.map((i) => (i.severity === "warning" && !i.ownDoubt ? { ...i, severity: "error" as const } : i)) : issues;
}

/**
 * A Butane config: translated as Butane does, then checked with the Ignition
 * rules of the spec it becomes; every issue, Butane's or Ignition's, is
 * reported at the YAML path, line and column the user wrote.
 */
function parseButane(text: string, options: ParseOptions, fail: (issues: ConfigIssue[]) => never): ParsedConfig {
  // Required here, not imported: the bundle initialises the translator only for a Butane config.
  const { translateButane, yamlPathFor } = require("./butane/index") as typeof import("./butane/index");
  const result = translateButane(text, {
    ...(options.filesDir !== undefined ? { filesDir: options.filesDir } : {}),
    allowExperimental: options.allowExperimental ?? false,
  });
  if (!result.ok) return fail(strictly(result.source ? locatedInYaml(result.source, result.issues) : result.issues, options));
  const { document, version, source } = result;
  // Aliases and local files make it bigger than the YAML: the cap holds for what the YAML becomes too.
  if (jsonLengthOver(document, MAX_CONFIG_BYTES)) return fail([{ severity: "error", path: [], message: `the config this translates to is over ${MAX_CONFIG_BYTES} bytes (64 MiB), the most a config may be` }]);
  rememberConfigSecrets(document);
  const ignition = new IssueList();
  const config = readConfigV3(document, [], { issues: ignition, major: 3, minor: version.ignitionMinor });
  if (config) validateConfig(config, version.ignitionMinor, ignition);
  const mapped = ignition.items.map((i) => ({ ...i, path: yamlPathFor(document, i.path), atKey: false, ...(i.firstAt ? { firstAt: yamlPathFor(document, i.firstAt) } : {}) }));
  const issues = strictly(locatedInYaml(source, [...result.issues, ...mapped]), options);
  if (!config || issues.some((i) => i.severity === "error")) return fail(issues);
  config.ignition.version = NEWEST_SPEC;
  // Errors found at stage time point into the YAML too.
  const sources = translatedTree({ name: options.documentName ?? options.source ?? "config", text, format: "yaml" }, yamlOrigins(document, yamlPathFor));
  return {
    config,
    specVersion: `butane ${version.variant} ${version.version}`,
    warnings: issues.filter((i) => i.severity === "warning"),
    sources,
    butane: { ignition: document, ignitionVersion: version.ignitionVersion },
  };
}

/** Whether `value` as JSON is longer than `limit` (counted without making the text, and only until it is). */
function jsonLengthOver(value: unknown, limit: number): boolean {
  let length = 0;
  const stack = [value];
  while (stack.length > 0 && length <= limit) {
    const v = stack.pop();
    if (typeof v === "string") length += v.length + 2;
    else if (typeof v !== "object" || v === null) length += String(v).length;
    else {
      const entries = Object.entries(v);
      length += 2 + entries.length;
      for (const [key, item] of entries) {
        if (!Array.isArray(v)) length += key.length + 3;
        stack.push(item);
      }
    }
  }
  return length > limit;
}

/**
 * The paths of the translated document whose YAML path is not simply the
 * parent's plus the same key (the source tree inherits those), with the YAML
 * path each came from.
 */
function* yamlOrigins(document: unknown, yamlPathFor: (doc: unknown, path: JsonPath) => JsonPath): Generator<[JsonPath, JsonPath]> {
  const sameKey = (a: JsonPath, b: JsonPath) => a.length === b.length && a.every((k, i) => k === b[i]);
  function* walk(node: unknown, path: JsonPath, inherited: JsonPath | undefined): Generator<[JsonPath, JsonPath]> {
    const from = yamlPathFor(document, path);
    if (!inherited || !sameKey(from, inherited)) yield [path, from];
    if (typeof node !== "object" || node === null) return;
    for (const [key, value] of Object.entries(node)) {
      const k = Array.isArray(node) ? Number(key) : key;
      yield* walk(value, [...path, k], [...from, k]);
    }
  }
  yield* walk(document, [], undefined);
}

function locatedInYaml(source: YamlSource, raw: (RawIssue & { line?: number; column?: number })[]): ConfigIssue[] {
  const issues = raw.map((r) => {
    const issue: ConfigIssue = { severity: r.severity, path: r.path, message: messageOf(r), ...(r.ownDoubt ? { ownDoubt: true as const } : {}) };
    const at = r.line !== undefined ? { line: r.line, column: r.column! } : source.position(r.path, r.atKey);
    if (at) Object.assign(issue, at);
    return issue;
  });
  return issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}

function findVersion(doc: unknown, issues: IssueList): string | undefined {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    issues.error([], "a config must be a JSON object");
    return undefined;
  }
  // Ignition finds the version with Go's case-insensitive keys too (read.ts warns about the spelling).
  const ignition = valueOf(doc as Record<string, unknown>, "ignition");
  if (typeof ignition !== "object" || ignition === null || Array.isArray(ignition)) {
    issues.error(["ignition"], ignition === undefined ? 'the "ignition" section (with its version) is required' : '"ignition" must be an object');
    return undefined;
  }
  const version = valueOf(ignition as Record<string, unknown>, "version");
  if (typeof version !== "string") {
    issues.error(["ignition", "version"], version === undefined ? "ignition.version is required" : "ignition.version must be a string");
    return undefined;
  }
  return version;
}

/** The value Ignition reads for `field` of `object`: its keys matched as Go matches them (read.ts). */
function valueOf(object: Record<string, unknown>, field: string): unknown {
  return goValueOf(object, field, new Map([[field, true]])).value;
}

/** The config path a 2.x translation's origin key stands for (`originKey` joins with NUL; indices back to numbers). */
function fromOriginKey(key: string): JsonPath {
  return key === "" ? [] : key.split("\u0000").map((k) => (/^\d+$/.test(k) ? Number(k) : k));
}

/** Adds line and column to each issue (one pass over the text for all of them). */
function positioned(text: string, raw: RawIssue[]): ConfigIssue[] {
  if (raw.length === 0) return [];
  const positions = locatePaths(text, raw);
  const issues = raw.map((r, i) => {
    const issue: ConfigIssue = { severity: r.severity, path: r.path, message: messageOf(r), ...(r.ownDoubt ? { ownDoubt: true as const } : {}) };
    const at = positions[i];
    if (at) Object.assign(issue, at);
    return issue;
  });
  // In document order, as a person reads the file.
  return issues.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
}
