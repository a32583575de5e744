// Small combinators that turn untrusted JSON into typed values once: wrong
// types are errors, unknown keys (and keys newer than the document's spec
// version) are warnings and are dropped, JSON null counts as absent.

import type { IssueList, JsonPath } from "./issues";

export interface ReadContext {
  issues: IssueList;
  /** The document's spec version, e.g. { major: 3, minor: 2 }. */
  major: number;
  minor: number;
  /**
   * The value being read is the reader's own (parsed for this read, used for
   * nothing else): objects and lists already in the shape the model wants
   * are kept as they are instead of copied, so a big config is not held
   * twice.
   */
  reuse?: boolean;
}

export type Read<T> = (value: unknown, path: JsonPath, cx: ReadContext) => T | undefined;

export interface Field<T> {
  read: Read<T>;
  /** First minor version (of the document's major) that has this key. */
  since?: number;
  /** Reported as `<key> is required` when absent. */
  required?: boolean;
}

export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "string") return "a string";
  if (typeof value === "number") return `the number ${value}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

export const string: Read<string> = (value, path, cx) => {
  if (typeof value === "string") return value;
  cx.issues.error(path, `must be a string, not ${describeType(value)}`);
  return undefined;
};

export const integer: Read<number> = (value, path, cx) => {
  if (typeof value === "number" && Number.isSafeInteger(value)) return value;
  cx.issues.error(path, typeof value === "number" ? `must be an integer, not ${value}` : `must be an integer, not ${describeType(value)}`);
  return undefined;
};

export const boolean: Read<boolean> = (value, path, cx) => {
  if (typeof value === "boolean") return value;
  cx.issues.error(path, `must be true or false, not ${describeType(value)}`);
  return undefined;
};

export function list<T>(item: Read<T>): Read<T[]> {
  return (value, path, cx) => {
    if (!Array.isArray(value)) {
      cx.issues.error(path, `must be a list, not ${describeType(value)}`);
      return undefined;
    }
    const out: T[] = cx.reuse ? (value as T[]) : [];
    let n = 0;
    for (let i = 0; i < value.length; i++) {
      const v = item(value[i], [...path, i], cx);
      if (v !== undefined) out[n++] = v;
    }
    out.length = n;
    return out;
  };
}

type Fields<T> = { [K in keyof T]-?: Field<NonNullable<T[K]>> };

/** Reads an object with the given fields; keys are emitted in the order of `fields`. */
export function object<T>(fields: Fields<T>): Read<T> {
  const keys = Object.keys(fields) as (keyof T & string)[];
  const order = new Map<string, number>(keys.map((k, i) => [k, i]));
  return (value, path, cx) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      cx.issues.error(path, `must be an object, not ${describeType(value)}`);
      return undefined;
    }
    const input = value as Record<string, unknown>;
    if (cx.reuse && inModelShape(input, cx)) return readInPlace(input, path, cx);
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const field = fields[key] as Field<unknown>;
      const v = Object.prototype.hasOwnProperty.call(input, key) ? input[key] : undefined;
      if (v === undefined || v === null) {
        if (field.required) cx.issues.error([...path, key], `${key} is required`);
        continue;
      }
      if (field.since !== undefined && cx.minor < field.since) {
        cx.issues.warn([...path, key], `unknown key ${quoteKey(key)} ignored: it needs spec ${cx.major}.${field.since}.0 or later, and this config is ${cx.major}.${cx.minor}.0`, true);
        continue;
      }
      const read = field.read(v, [...path, key], cx);
      if (read !== undefined) out[key] = read;
    }
    for (const key of Object.keys(input)) {
      if (!Object.prototype.hasOwnProperty.call(fields, key)) cx.issues.warn([...path, key], `unknown key ${quoteKey(key)} ignored`, true);
    }
    return out as T;
  };

  /** Every key known, allowed in this version, not null, and in the model's order: the input can be the output. */
  function inModelShape(input: Record<string, unknown>, cx: ReadContext): boolean {
    let last = -1;
    for (const key in input) {
      const at = order.get(key);
      if (at === undefined || at <= last || input[key] === null) return false;
      const since = (fields[key as keyof T] as Field<unknown>).since;
      if (since !== undefined && cx.minor < since) return false;
      last = at;
    }
    return true;
  }

  function readInPlace(input: Record<string, unknown>, path: JsonPath, cx: ReadContext): T {
    for (const key of keys) {
      const field = fields[key] as Field<unknown>;
      if (!Object.prototype.hasOwnProperty.call(input, key)) {
        if (field.required) cx.issues.error([...path, key], `${key} is required`);
        continue;
      }
      const v = input[key];
      const read = field.read(v, [...path, key], cx);
      // Only after an error (the config is refused): the value is dropped.
      if (read === undefined) delete input[key];
      else if (read !== v) input[key] = read;
    }
    return input as T;
  }
}

/** A key as typed, quoted and escaped so odd keys cannot break the message's line. */
function quoteKey(key: string): string {
  return JSON.stringify(key.length > 60 ? key.slice(0, 57) + "..." : key);
}

/** Shorthand for a field. */
export function f<T>(read: Read<T>, opts: Omit<Field<T>, "read"> = {}): Field<T> {
  return { read, ...opts };
}
