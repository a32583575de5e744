// Shared helpers for the config tests: build documents, collect issues.

import { ConfigInvalidError, formatIssue, parseConfig, type ConfigIssue, type ParsedConfig, type ParseOptions } from "../../../agent/config/index";

export type Doc = Record<string, unknown>;

/** A document of spec `version` with the given sections. */
export function doc(version: string, sections: Doc = {}): Doc {
  const { ignition, ...rest } = sections as { ignition?: Doc };
  return { ignition: { version, ...(ignition ?? {}) }, ...rest };
}

export function parse(d: Doc | string, options: ParseOptions = {}): ParsedConfig {
  return parseConfig(typeof d === "string" ? d : JSON.stringify(d, null, 2), options);
}

/** The issues of an invalid document; fails the test if it is valid. */
export function rejected(d: Doc | string | Buffer, options: ParseOptions = {}): ConfigInvalidError {
  try {
    parseConfig(typeof d === "string" || Buffer.isBuffer(d) ? d : JSON.stringify(d, null, 2), options);
  } catch (e) {
    if (e instanceof ConfigInvalidError) return e;
    throw e;
  }
  throw new Error("expected the config to be rejected, but it was accepted");
}

export function errorLines(d: Doc | string | Buffer, options: ParseOptions = {}): string[] {
  return rejected(d, options).errors.map(formatIssue);
}

export function warningLines(d: Doc | string): string[] {
  return parse(d).warnings.map((w: ConfigIssue) => formatIssue(w));
}

/** Parsed, or refused with its issues: never throws a ConfigInvalidError. */
export function outcome(text: string, options: ParseOptions = {}): { ok: true; parsed: ParsedConfig; error?: undefined } | { ok: false; error: ConfigInvalidError; parsed?: undefined } {
  try {
    return { ok: true, parsed: parseConfig(text, options) };
  } catch (e) {
    if (e instanceof ConfigInvalidError) return { ok: false, error: e };
    throw e;
  }
}
