// Turns the raw bytes of a config into a JSON value, with every failure
// (bad UTF-8, empty input, runaway nesting, invalid JSON) reported as an issue
// that carries a line and column, never as a stack trace.

import { visit } from "jsonc-parser/lib/esm/impl/parser.js";
import type { RawIssue } from "./issues";
import { ObjectKeys, readJson, type DuplicateKey } from "./json";
import { BIG_CONFIG_BYTES } from "./limits";
import { lineColumnAt } from "./locate";
import { isStorageList } from "./text-list";

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

/**
 * Parses JSON text, reporting the first problem with its position, and the
 * keys given twice. A big config is read in one pass into slices of its text
 * (json.ts), its storage lists kept in the text (text-list.ts); both ways
 * give equal values and the same repeated keys.
 */
export function parseJsonText(text: string): ParsedJson {
  if (text.trim() === "") return { ok: false, issue: { severity: "error", path: [], message: "the config is empty" } };
  // A usual config: one scan for nesting and repeated keys, then JSON.parse.
  if (text.length <= BIG_CONFIG_BYTES) {
    const scan = scanJson(text);
    if (scan.tooDeepAt !== undefined) return { ok: false, issue: tooDeepIssue(text, scan.tooDeepAt) };
    try {
      return { ok: true, text, value: JSON.parse(text), duplicates: scan.duplicates };
    } catch (e) {
      return { ok: false, issue: describeSyntaxError(text, (e as Error).message) };
    }
  }
  const read = readJson(text, MAX_NESTING, isStorageList);
  if (read.ok) return { ok: true, text, value: read.value, duplicates: read.duplicates };
  if (read.tooDeepAt !== undefined) return { ok: false, issue: tooDeepIssue(text, read.tooDeepAt) };
  try {
    JSON.parse(text);
  } catch (e) {
    return { ok: false, issue: describeSyntaxError(text, (e as Error).message) };
  }
  // Only if readJson refused valid JSON (it must not): JSON.parse's verdict stands.
  throw new Error("config reader: valid JSON refused");
}

function tooDeepIssue(text: string, offset: number): RawIssue & { line?: number; column?: number } {
  return { severity: "error", path: [], message: `JSON nesting is deeper than ${MAX_NESTING} levels`, ...lineColumnAt(text, offset) };
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

/**
 * One pass over the text before JSON.parse: the offset of the first bracket
 * that opens level MAX_NESTING + 1 (iterative, so a hostile document cannot
 * overflow the stack; the scan stops there), and every key repeated in an
 * object, with its JSON path. Strings are skipped with indexOf, and the
 * per-level frames are reused. The keys found are right for valid JSON; on
 * other text the scan still ends, without error, and JSON.parse says what is
 * wrong.
 */
export function scanJson(text: string): { tooDeepAt?: number; duplicates: DuplicateKey[] } {
  const frames: KeyFrame[] = [];
  let depth = 0;
  const duplicates: DuplicateKey[] = [];
  const pathHere = (): (string | number)[] => frames.slice(0, depth - 1).map((f) => (f.isObject ? f.key : f.index));
  const n = text.length;
  // The first backslash at or after the string being looked at (-1 for none left): keys with escapes are rare.
  let backslash = text.indexOf("\\");
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    // Spaces and line breaks, the commonest characters between tokens.
    if (c < 0x22) continue;
    if (c === 0x22) {
      // A string: find its closing quote (one not escaped by an odd run of backslashes).
      let end = i;
      for (;;) {
        end = text.indexOf('"', end + 1);
        if (end === -1) return { duplicates };
        let slashes = 0;
        while (text.charCodeAt(end - 1 - slashes) === 0x5c) slashes++;
        if (slashes % 2 === 0) break;
      }
      const top = depth > 0 ? frames[depth - 1] : undefined;
      if (top !== undefined && top.expectKey) {
        if (backslash !== -1 && backslash < i) backslash = text.indexOf("\\", i);
        let key = text.slice(i + 1, end);
        if (backslash !== -1 && backslash < end) {
          try {
            key = JSON.parse(text.slice(i, end + 1)) as string;
          } catch {
            // A bad escape: JSON.parse of the whole text fails on it too.
          }
        }
        if (top.seen.repeated(key)) duplicates.push({ path: [...pathHere(), key], offset: i });
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_NESTING) return { tooDeepAt: i, duplicates };
      if (depth > 0) {
        let f = frames[depth - 1];
        if (f === undefined) frames[depth - 1] = f = { isObject: false, seen: new ObjectKeys(), key: "", index: 0, expectKey: false };
        f.isObject = c === 0x7b;
        f.seen.reset();
        f.index = 0;
        f.expectKey = f.isObject;
      }
    } else if (c === 0x7d || c === 0x5d) depth--;
    else if (c === 0x2c && depth > 0) {
      const top = frames[depth - 1]!;
      if (top.isObject) top.expectKey = true;
      else top.index++;
    }
  }
  return { duplicates };
}

/** One open object or array of the scan (reused for every one at its depth). */
interface KeyFrame {
  isObject: boolean;
  /** The object's keys so far. */
  seen: ObjectKeys;
  /** The last key (an object) or the index (an array), for a duplicate's path. */
  key: string;
  index: number;
  expectKey: boolean;
}
