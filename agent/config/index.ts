// The config engine's public API: text in, a validated 3.x Config out.
// Other modules import only from here.
// TEMPORARY minimal version (skeleton): JSON.parse and a version check only.
// The config issue replaces the internals; the exported API stays.

import { FlintError } from "../errors";
import type { Config } from "./types";

export type JsonPath = (string | number)[];

export interface ConfigIssue {
  severity: "error" | "warning";
  path: JsonPath;
  message: string;
  /** 1-based position in the source text, when known. */
  line?: number;
  column?: number;
}

export interface ParseOptions {
  /** Where the text came from (a file name or URL label), for messages. */
  source?: string;
  /** Accept 3.7.0-experimental. */
  allowExperimental?: boolean;
}

export interface ParsedConfig {
  config: Config;
  /** The version the document declared, e.g. "2.2.0". */
  specVersion: string;
  warnings: ConfigIssue[];
}

/** A config that Ignition would reject; carries every error found. */
export class ConfigInvalidError extends FlintError {
  constructor(
    readonly issues: ConfigIssue[],
    source?: string,
  ) {
    super(`invalid config:\n${issues.map((i) => "  " + formatIssue(i)).join("\n")}`, source);
  }
}

/** `storage.files.3.path: path must be absolute (line 12, column 17)` */
export function formatIssue(issue: ConfigIssue): string {
  const where = issue.path.length ? issue.path.join(".") + ": " : "";
  const pos = issue.line !== undefined ? ` (line ${issue.line}, column ${issue.column})` : "";
  return `${where}${issue.message}${pos}`;
}

export function parseConfig(text: string | Buffer, options: ParseOptions = {}): ParsedConfig {
  let doc: unknown;
  try {
    doc = JSON.parse(text.toString());
  } catch (e) {
    throw new ConfigInvalidError([{ severity: "error", path: [], message: (e as Error).message }], options.source);
  }
  const version = (doc as { ignition?: { version?: unknown } })?.ignition?.version;
  if (typeof version !== "string" || !version.startsWith("3.")) {
    throw new ConfigInvalidError([{ severity: "error", path: ["ignition", "version"], message: "unsupported config version" }], options.source);
  }
  return { config: doc as Config, specVersion: version, warnings: [] };
}

/** Ignition's merge: `child` over `parent`, lists keyed by path/name/device/number. */
export function mergeConfigs(parent: Config, child: Config): Config {
  return { ...parent, ...child };
}
