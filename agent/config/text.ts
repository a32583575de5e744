// Turns the raw bytes of a config into a JSON value, with every failure
// (bad UTF-8, empty input, runaway nesting, invalid JSON) reported as an issue
// that carries a line and column, never as a stack trace.

import { visit } from "jsonc-parser/lib/esm/impl/parser.js";
import type { RawIssue } from "./issues";
import { ItemSpool, StoredList } from "./item-list";
import { BIG_CONFIG_BYTES } from "./limits";
import { lineColumnAt } from "./locate";

/** Ignition's configs nest about eight levels; anything near this limit is hostile or broken. */
export const MAX_NESTING = 100;

export type ParsedJson =
  | {
      ok: true;
      text: string;
      value: unknown;
      duplicates: DuplicateKey[];
      /** A number is written with a fraction or an exponent (420.0, 4.2e2): integers.ts looks at which. */
      fractionalNumbers: boolean;
    }
  | { ok: false; issue: RawIssue & { line?: number; column?: number } };

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

/** A key given twice in one JSON object: the last value is the one kept. */
export interface DuplicateKey {
  path: (string | number)[];
  /** Offset of the repeated key's opening quote. */
  offset: number;
}

/**
 * Parses JSON text, reporting the first problem with its position, and the
 * keys given twice. A config over BIG_CONFIG_BYTES keeps its storage lists
 * (files, directories, links) out of JSON.parse's tree: they are JsonItems,
 * each item parsed when it is read, so that the reader can check and spool
 * them one by one (read.ts, item-list.ts).
 */
export function parseJsonText(text: string): ParsedJson {
  if (text.trim() === "") return { ok: false, issue: { severity: "error", path: [], message: "the config is empty" } };
  const lists = text.length > BIG_CONFIG_BYTES ? new Map<string, ListSpans>() : undefined;
  const scan = scanJson(text, lists);
  if (scan.tooDeepAt !== undefined) return { ok: false, issue: tooDeepIssue(text, scan.tooDeepAt) };
  let value: unknown;
  try {
    value = JSON.parse(lists ? withoutItems(text, lists) : text);
  } catch (e) {
    return { ok: false, issue: jsonSyntaxIssue(text, (e as Error).message) };
  }
  if (lists) {
    const storage = (value as { storage: Record<string, unknown> }).storage;
    for (const [key, spans] of lists) storage[key] = new JsonItems(text, spans);
  }
  return { ok: true, text, value, duplicates: scan.duplicates, fractionalNumbers: scan.fractionalNumbers };
}

/**
 * A config Flint wrote itself (the fetch stage's cache: validated, translated,
 * merged), read as parseJsonText reads it, with a big one's storage lists
 * spooled as they are, in a file made under `runDir` (the initramfs may have
 * no /tmp): no stage holds them as objects, nor keeps the text.
 */
export function parseCachedConfig(text: string, runDir: string): unknown {
  const invalid = (issue: RawIssue & { line?: number; column?: number }) => new SyntaxError(`${issue.message}${issue.line !== undefined ? ` (line ${issue.line}, column ${issue.column})` : ""}`);
  const json = parseJsonText(text);
  if (!json.ok) throw invalid(json.issue);
  const storage = (json.value as { storage?: Record<string, unknown> }).storage;
  for (const key of STORAGE_LISTS) {
    const list = storage?.[key];
    if (!(list instanceof StoredList)) continue;
    const spool = new ItemSpool<unknown>(runDir);
    try {
      for (const item of list) spool.push(item);
    } catch (e) {
      throw e instanceof InvalidJsonItem ? invalid(jsonSyntaxIssue(text, e.message)) : e;
    }
    storage![key] = spool.finish();
  }
  return json.value;
}

/** Where the items of one storage list lie: item i is text[starts[i], ends[i]), commas excluded. */
interface ListSpans {
  open: number;
  /** Its closing bracket; -1 while (or if the text ends while) it is open. */
  close: number;
  starts: number[];
  ends: number[];
  /** Where the item being read starts. */
  next: number;
}

/** The text with the storage lists emptied (`"files": []`): what JSON.parse builds as objects. */
function withoutItems(text: string, lists: Map<string, ListSpans>): string {
  let rest = "";
  let from = 0;
  for (const list of [...lists.values()].sort((a, b) => a.open - b.open)) {
    // A list the text ends in: JSON.parse of the whole says what is wrong.
    if (list.close === -1) return text;
    rest += text.slice(from, list.open + 1);
    from = list.close;
  }
  return rest + text.slice(from);
}

/** An item that is not JSON: the config's syntax error, found when the reader got to it. */
export class InvalidJsonItem extends Error {}

/** A storage list of a big config: its items parsed from the text at each read. */
export class JsonItems extends StoredList<unknown> {
  readonly length: number;
  private readonly starts: Int32Array;
  private readonly ends: Int32Array;

  constructor(
    private readonly text: string,
    spans: ListSpans,
  ) {
    super();
    this.starts = Int32Array.from(spans.starts);
    this.ends = Int32Array.from(spans.ends);
    this.length = this.starts.length;
  }

  at(index: number): unknown {
    if (!(index >= 0 && index < this.length)) return undefined;
    try {
      return JSON.parse(this.text.slice(this.starts[index]!, this.ends[index]!));
    } catch (e) {
      throw new InvalidJsonItem((e as Error).message);
    }
  }
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

/** The first syntax error of `text`, with its line and column (`fallback`: JSON.parse's message). */
export function jsonSyntaxIssue(text: string, fallback: string): RawIssue & { line?: number; column?: number } {
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

/** Past this many keys, an object's keys are looked up in a Set (a hostile object of 100,000 keys stays linear). */
const KEYS_LISTED = 16;

/**
 * The keys of one object so far, to find one given twice: JSON.parse keeps
 * the last value silently, Flint warns. Reused (reset) for every object at
 * one nesting level.
 */
class ObjectKeys {
  private readonly list: string[] = [];
  private count = 0;
  private set: Set<string> | undefined;

  reset(): void {
    this.count = 0;
    this.set = undefined;
  }

  /** Whether `key` came before in this object; remembers it. */
  repeated(key: string): boolean {
    if (this.set !== undefined) {
      if (this.set.has(key)) return true;
      this.set.add(key);
      return false;
    }
    const list = this.list;
    for (let i = 0; i < this.count; i++) if (list[i] === key) return true;
    list[this.count++] = key;
    if (this.count > KEYS_LISTED) this.set = new Set(list.slice(0, this.count));
    return false;
  }
}

const STORAGE_LISTS = new Set(["files", "directories", "links"]);

/**
 * One pass over the text before JSON.parse: the offset of the first bracket
 * that opens level MAX_NESTING + 1 (iterative, so a hostile document cannot
 * overflow the stack; the scan stops there), and every key repeated in an
 * object, with its JSON path. Strings are skipped with indexOf, and the
 * per-level frames are reused. The keys found are right for valid JSON; on
 * other text the scan still ends, without error, and JSON.parse says what is
 * wrong. With `lists`, also the spans of the items of storage.files,
 * .directories and .links (the last of a key given twice, as JSON.parse).
 */
export function scanJson(text: string, lists?: Map<string, ListSpans>): { tooDeepAt?: number; duplicates: DuplicateKey[]; fractionalNumbers: boolean } {
  const frames: KeyFrame[] = [];
  let depth = 0;
  const duplicates: DuplicateKey[] = [];
  let fractionalNumbers = false;
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
        if (end === -1) return { duplicates, fractionalNumbers };
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
        if (lists && depth === 1 && key === "storage") lists.clear();
        else if (lists && depth === 2 && frames[0]!.key === "storage" && STORAGE_LISTS.has(key)) lists.delete(key);
      }
      i = end;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_NESTING) return { tooDeepAt: i, duplicates, fractionalNumbers };
      if (depth > 0) {
        let f = frames[depth - 1];
        if (f === undefined) frames[depth - 1] = f = { isObject: false, seen: new ObjectKeys(), key: "", index: 0, expectKey: false };
        f.isObject = c === 0x7b;
        f.seen.reset();
        f.index = 0;
        f.expectKey = f.isObject;
        f.list = undefined;
        if (lists && depth === 3 && !f.isObject && frames[0]!.isObject && frames[0]!.key === "storage" && frames[1]!.isObject && STORAGE_LISTS.has(frames[1]!.key)) {
          f.list = { open: i, close: -1, starts: [], ends: [], next: i + 1 };
          lists.set(frames[1]!.key, f.list);
        }
      }
    } else if (c === 0x7d || c === 0x5d) {
      const list = depth > 0 ? frames[depth - 1]!.list : undefined;
      // The last item ends at the bracket; an empty list (only spaces) has none.
      if (list && (list.starts.length > 0 || text.slice(list.next, i).trim() !== "")) addItem(list, i);
      if (list) list.close = i;
      depth--;
    } else if (c === 0x2c && depth > 0) {
      const top = frames[depth - 1]!;
      if (top.isObject) top.expectKey = true;
      else {
        top.index++;
        if (top.list) addItem(top.list, i);
      }
    } else if (c === 0x2e || c === 0x45 || (c === 0x65 && isDigit(text.charCodeAt(i - 1)))) {
      // Outside strings, "." and "E" are only in numbers; "e" also ends true and false.
      fractionalNumbers = true;
    }
  }
  return { duplicates, fractionalNumbers };
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
  /** A storage list whose items are being found. */
  list?: ListSpans;
}

/** The item of `list` that ends at `end` (a comma or the closing bracket). */
function addItem(list: ListSpans, end: number): void {
  list.starts.push(list.next);
  list.ends.push(end);
  list.next = end + 1;
}

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
