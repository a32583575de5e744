// Turns the raw bytes of a config into a JSON value, with every failure
// (bad UTF-8, empty input, runaway nesting, invalid JSON) reported as an issue
// that carries a line and column, never as a stack trace.

import { visit } from "jsonc-parser/lib/esm/main.js";
import type { RawIssue } from "./issues";
import { readJson, type DuplicateKey } from "./json";
import { lineColumnAt } from "./locate";

/** Ignition's configs nest about eight levels; anything near this limit is hostile or broken. */
export const MAX_NESTING = 100;

export type ParsedJson = { ok: true; text: string; value: unknown; duplicates: DuplicateKey[] } | { ok: false; issue: RawIssue & { line?: number; column?: number } };

export function decodeText(input: string | Uint8Array): { ok: true; text: string } | { ok: false; message: string; offset?: number } {
  if (typeof input === "string") return { ok: true, text: input };
  try {
    return { ok: true, text: new TextDecoder("utf-8", { fatal: true }).decode(input) };
  } catch {
    return { ok: false, message: `the config is not valid UTF-8 text (first bad byte at offset ${firstInvalidUtf8(input)})` };
  }
}

/** Byte offset of the first invalid UTF-8 sequence (only computed when decoding failed). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const decoder = new TextDecoder("utf-8", { fatal: true });
  let lo = 0;
  let hi = bytes.length;
  // The longest decodable prefix ends within 3 bytes of the bad sequence; bisect on it.
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      decoder.decode(bytes.subarray(0, mid), { stream: true });
      decoder.decode(); // reset
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  return lo;
}

/** Parses JSON text, reporting the first problem with its position, and the keys given twice. */
export function parseJsonText(text: string): ParsedJson {
  if (text.trim() === "") return { ok: false, issue: { severity: "error", path: [], message: "the config is empty" } };
  const read = readJson(text, MAX_NESTING);
  if (read.ok) return { ok: true, text, value: read.value, duplicates: read.duplicates };
  if (read.tooDeepAt !== undefined) {
    return { ok: false, issue: { severity: "error", path: [], message: `JSON nesting is deeper than ${MAX_NESTING} levels`, ...lineColumnAt(text, read.tooDeepAt) } };
  }
  try {
    JSON.parse(text);
  } catch (e) {
    return { ok: false, issue: describeSyntaxError(text, (e as Error).message) };
  }
  // Only if readJson refused valid JSON (it must not): JSON.parse's verdict stands.
  throw new Error("config reader: valid JSON refused");
}

const SYNTAX_MESSAGES: Record<number, string> = {
  1: "invalid symbol",
  2: "invalid number",
  3: "expected a property name in double quotes",
  4: "expected a value",
  5: "expected ':'",
  6: "expected ',' or a closing bracket",
  7: "expected ',' or '}'",
  8: "expected ',' or ']'",
  9: "unexpected text after the end of the document",
  10: "comments are not allowed in JSON",
  11: "unexpected end of comment",
  12: "unterminated string",
  13: "unexpected end of number",
  14: "invalid unicode escape",
  15: "invalid escape character",
  16: "invalid character in string",
};

function describeSyntaxError(text: string, fallback: string): RawIssue & { line?: number; column?: number } {
  // JSON.parse's messages rarely carry a position; jsonc-parser finds it.
  // A streaming pass: no tree is built, so a huge broken file costs no extra memory.
  let first: { error: number; offset: number } | undefined;
  visit(text, { onError: (error, offset) => (first ??= { error, offset }) }, { disallowComments: true, allowTrailingComma: false });
  if (!first) {
    const at = /at position (\d+)/.exec(fallback);
    const where = at ? lineColumnAt(text, Number(at[1])) : {};
    return { severity: "error", path: [], message: `invalid JSON: ${fallback.replace(/ in JSON at position \d+.*$/s, "")}`, ...where };
  }
  return { severity: "error", path: [], message: `invalid JSON: ${SYNTAX_MESSAGES[first.error] ?? "syntax error"}`, ...lineColumnAt(text, first.offset) };
}
