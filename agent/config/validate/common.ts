// Checks shared by several config types: paths, GUIDs, duplicates.

import type { IssueList, JsonPath } from "../issues";

export interface ValidateContext {
  issues: IssueList;
  /** 3.x minor version whose rules apply (2.x documents use 3.0's, after translation). */
  minor: number;
  /** A translated 2.x document: 2.x allowed setuid/setgid/sticky modes, which 3.0 did not. */
  fromV2?: boolean;
}

/** Go's path.Clean for absolute paths: no `//`, no `.` or `..` segments, no trailing `/`. */
export function isCleanAbsolute(p: string): boolean {
  if (p === "/") return true;
  return p.charCodeAt(0) === 0x2f && !UNCLEAN.test(p);
}

/** A `//`, a `.` or `..` segment, or a trailing `/`. */
const UNCLEAN = /\/\/|\/\.\.?(?:\/|$)|\/$/;

/** An absolute, fully simplified path (files, units' paths, devices, mount points). */
export function checkPath(cx: ValidateContext, value: string | undefined, path: JsonPath, what = "path"): void {
  if (value === undefined) return;
  if (value === "") cx.issues.error(path, `${what} must not be empty`);
  else if (!value.startsWith("/")) cx.issues.error(path, `${what} must be absolute (got ${JSON.stringify(value)})`);
  else if (!isCleanAbsolute(value)) cx.issues.error(path, `${what} must be clean: no "//", "." or ".." parts and no trailing "/" (got ${JSON.stringify(value)})`);
}

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export function checkGuid(cx: ValidateContext, value: string | undefined, path: JsonPath, what: string): void {
  if (value === undefined || value === "") return;
  if (!GUID.test(value)) cx.issues.error(path, `${what} must be a GUID like 0FC63DAF-8483-4772-8E79-3D69D8477DE4 (got ${JSON.stringify(value)})`);
}

/** Reports every entry whose key was already used by an earlier entry. */
export function checkUnique<T>(
  cx: ValidateContext,
  items: T[] | undefined,
  listPath: JsonPath,
  key: (item: T) => string | undefined,
  field: string,
  what: string,
): void {
  if (!items) return;
  const seen = new Map<string, number>();
  items.forEach((item, i) => {
    const k = key(item);
    if (k === undefined || k === "") return;
    const first = seen.get(k);
    if (first === undefined) seen.set(k, i);
    else cx.issues.error([...listPath, i, field], `duplicate ${what} ${JSON.stringify(k)} (already used by ${[...listPath, first].join(".")})`);
  });
}
