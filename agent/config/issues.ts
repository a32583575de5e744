// Issues as the readers and validators produce them, before positions are known.

export type JsonPath = (string | number)[];

/**
 * A JSON path not yet built: a parent's path and one more key. Readers and
 * validators hand these down, and only an issue turns one into a JsonPath,
 * so a valid config costs no array per value it checks.
 */
export class PathStep {
  constructor(
    readonly parent: Where,
    readonly key: string | number,
  ) {}
}

/** Where a value is: a built JSON path or one still to build. */
export type Where = JsonPath | PathStep;

type Key = string | number;

/** `parent` and then the given keys (up to four; fixed parameters, so that a call allocates only its steps). */
export function at(parent: Where, k1: Key, k2?: Key, k3?: Key, k4?: Key): Where {
  let where: Where = new PathStep(parent, k1);
  if (k2 !== undefined) where = new PathStep(where, k2);
  if (k3 !== undefined) where = new PathStep(where, k3);
  if (k4 !== undefined) where = new PathStep(where, k4);
  return where;
}

/** The JSON path `where` stands for. */
export function pathOf(where: Where): JsonPath {
  if (!(where instanceof PathStep)) return where;
  const keys: Key[] = [];
  let w: Where = where;
  for (; w instanceof PathStep; w = w.parent) keys.push(w.key);
  return [...w, ...keys.reverse()];
}

export interface RawIssue {
  severity: "error" | "warning";
  path: JsonPath;
  message: string;
  /** Point at the key itself (unknown keys) rather than at its value. */
  atKey?: boolean;
  /** A duplicate's first entry: named after the message once paths are the user's (a Butane or 2.x document's). */
  firstAt?: JsonPath;
  /** A warning of Flint's own about a value Ignition and Butane take silently: `--strict` leaves it a warning. */
  ownDoubt?: true;
}

/** The message as the user reads it: a duplicate names its first entry. */
export function messageOf(issue: RawIssue): string {
  return issue.firstAt ? `${issue.message} (already used by ${issue.firstAt.join(".")})` : issue.message;
}

/** Collects issues while a document is read and checked. */
export class IssueList {
  readonly items: RawIssue[] = [];

  error(where: Where, message: string, firstAt?: Where): void {
    this.items.push({ severity: "error", path: pathOf(where), message, ...(firstAt ? { firstAt: pathOf(firstAt) } : {}) });
  }

  warn(where: Where, message: string, atKey = false): void {
    this.items.push({ severity: "warning", path: pathOf(where), message, ...(atKey ? { atKey } : {}) });
  }

  /** A warning Ignition and Butane would not give (a value a tool or systemd will refuse later): not an error even with --strict. */
  doubt(where: Where, message: string): void {
    this.items.push({ severity: "warning", path: pathOf(where), message, ownDoubt: true });
  }

  get hasErrors(): boolean {
    return this.items.some((i) => i.severity === "error");
  }
}
