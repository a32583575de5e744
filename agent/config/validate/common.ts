// Checks shared by several config types: paths, GUIDs, duplicates.

import { at, type IssueList, type Where } from "../issues";

export interface ValidateContext {
  issues: IssueList;
  /** 3.x minor version whose rules apply (2.x documents use 3.0's, after translation). */
  minor: number;
}

/** Go's path.Clean for absolute paths: no `//`, no `.` or `..` segments, no trailing `/`. */
export function isCleanAbsolute(p: string): boolean {
  if (p === "/") return true;
  return p.charCodeAt(0) === 0x2f && !UNCLEAN.test(p);
}

/** A `//`, a `.` or `..` segment, or a trailing `/`. */
const UNCLEAN = /\/\/|\/\.\.?(?:\/|$)|\/$/;

/** Linux's limits (linux/limits.h): a whole path with its NUL, and one component, in bytes. */
export const PATH_MAX = 4096;
export const NAME_MAX = 255;

/** An absolute, fully simplified path (files, units' paths, devices, mount points) the kernel can take. */
export function checkPath(cx: ValidateContext, value: string | undefined, path: Where, what = "path"): void {
  if (value === undefined) return;
  const problem = pathProblem(value, what);
  if (problem) cx.issues.error(path, problem);
}

/**
 * What is wrong with `value` as a path, or undefined: the one rule, also
 * applied by the stages to configs that reach them without validation.
 */
export function pathProblem(value: unknown, what = "path"): string | undefined {
  if (typeof value !== "string") return `${what} must be a string (got ${JSON.stringify(value) ?? typeof value})`;
  if (value === "") return `${what} must not be empty`;
  if (!value.startsWith("/")) return `${what} must be absolute (got ${JSON.stringify(value)})`;
  if (!isCleanAbsolute(value)) return `${what} must be clean: no "//", "." or ".." parts and no trailing "/" (got ${JSON.stringify(value)})`;
  if (value.includes("\0")) return `${what} must not contain a NUL character`;
  const tooLong = pathTooLong(value);
  return tooLong ? `${what} ${tooLong}` : undefined;
}

/** Why the kernel would refuse `p` with ENAMETOOLONG, or undefined when it would not. */
export function pathTooLong(p: string): string | undefined {
  // A UTF-16 code unit is at most 3 bytes of UTF-8, so most paths and names need no counting.
  if (p.length * 3 <= NAME_MAX) return undefined;
  if (p.length * 3 >= PATH_MAX) {
    const bytes = Buffer.byteLength(p);
    if (bytes >= PATH_MAX) return `is ${bytes} bytes long; the limit is ${PATH_MAX - 1} (PATH_MAX)`;
  }
  for (let start = 0; start <= p.length; ) {
    let end = p.indexOf("/", start);
    if (end === -1) end = p.length;
    if ((end - start) * 3 > NAME_MAX) {
      const name = p.slice(start, end);
      const n = Buffer.byteLength(name);
      if (n > NAME_MAX) return `has a component of ${n} bytes (${JSON.stringify(name.slice(0, 20) + "...")}); the limit is ${NAME_MAX} (NAME_MAX)`;
    }
    start = end + 1;
  }
  return undefined;
}

/** The ids the kernel takes: uid_t and gid_t are 32 bits, and 2^32-1 is (uid_t)-1, meaning "no change". */
export const MAX_ID = 4294967294;

/** A uid or gid in range (0..4294967294). */
export function checkId(cx: ValidateContext, value: number | undefined, path: Where, what: string): void {
  if (value === undefined) return;
  if (value < 0 || value > MAX_ID) cx.issues.error(path, `${what} must be between 0 and ${MAX_ID}, not ${value}`);
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function checkGuid(cx: ValidateContext, value: string | undefined, path: Where, what: string): void {
  if (value === undefined || value === "") return;
  if (!GUID.test(value)) cx.issues.error(path, `${what} must be a GUID like 0FC63DAF-8483-4772-8E79-3D69D8477DE4 (got ${JSON.stringify(value)})`);
}

/**
 * Reports every entry whose key was already used by an earlier entry, at
 * `listPath.i.field` (at the entry itself for a list of strings, `field`
 * undefined). Keys that may hold secrets or be long (URLs) are not quoted
 * back (`quote` false).
 */
export function checkUnique<T>(
  cx: ValidateContext,
  items: T[] | undefined,
  listPath: Where,
  key: (item: T) => string | undefined,
  field: string | undefined,
  what: string,
  quote = true,
): void {
  if (!items || items.length < 2) return;
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const k = key(item);
    if (k === undefined || k === "") return;
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else cx.issues.error(field === undefined ? at(listPath, i) : at(listPath, i, field), quote ? `duplicate ${what} ${JSON.stringify(k)}` : `duplicate ${what}`, at(listPath, first));
  });
}

/** A list of strings in which Ignition refuses repeats. */
export function checkUniqueStrings(cx: ValidateContext, items: string[] | undefined, listPath: Where, what: string): void {
  checkUnique(cx, items, listPath, (s) => s, undefined, what);
}
