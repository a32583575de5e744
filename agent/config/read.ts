// Small combinators that turn untrusted JSON into typed values once: wrong
// types are errors, unknown keys (and keys newer than the document's spec
// version) are warnings and are dropped, JSON null counts as absent.

import { at, type IssueList, type Where } from "./issues";
import { ItemSpool, StoredList, type ItemList } from "./item-list";

export interface ReadContext {
  issues: IssueList;
  /** The document's spec version, e.g. { major: 3, minor: 2 }. */
  major: number;
  minor: number;
  /**
   * Reading the value of a key spelled only in another case: Ignition's
   * unused-key check cannot follow it there, so keys below it are not
   * warned about.
   */
  keysUnchecked?: boolean;
}

export type Read<T> = (value: unknown, path: Where, cx: ReadContext) => T | undefined;

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
  if (typeof value === "string") {
    if (isWellFormed(value)) return value;
    cx.issues.error(path, notWellFormed(value));
    return undefined;
  }
  cx.issues.error(path, `must be a string, not ${describeType(value)}`);
  return undefined;
};

/** No lone surrogate (a JSON or YAML `\ud800` escape makes one; UTF-8 text cannot). */
export const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Why a string with a lone surrogate is refused: written out it becomes U+FFFD, as Ignition's decoder reads it, so "/a\ud800" and "/a\udc00" would name one file. */
export function notWellFormed(s: string): string {
  const at = s.search(/\p{Surrogate}/u);
  return `must be well-formed Unicode: character ${at + 1} is a lone surrogate (\\u${s.charCodeAt(at).toString(16)}), which UTF-8 cannot encode`;
}

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
    const out: T[] = [];
    for (let i = 0; i < value.length; i++) {
      const v = item(value[i], at(path, i), cx);
      if (v !== undefined) out.push(v);
    }
    return out;
  };
}

/**
 * A storage list (files, directories, links), read as `list` reads one; a
 * big config's (a StoredList: text.ts parses each item when it is read) is
 * read item by item into a spool (item-list.ts), so that it is never held
 * as objects. `finish` completes each item read.
 */
export function items<T>(item: Read<T>, finish: (item: T) => void = () => {}): Read<ItemList<T>> {
  const asList = list(item);
  return (value, path, cx) => {
    if (!(value instanceof StoredList)) {
      const read = asList(value, path, cx);
      read?.forEach(finish);
      return read;
    }
    const spool = new ItemSpool<T>();
    for (let i = 0; i < value.length; i++) {
      const v = item(value.at(i), at(path, i), cx);
      if (v === undefined) continue;
      finish(v);
      spool.push(v);
    }
    return spool.finish();
  };
}

type Fields<T> = { [K in keyof T]-?: Field<NonNullable<T[K]>> };

/** A field of an object reader, with its key and, for a plain string, integer or boolean, the type its valid values have. */
interface KeyedField extends Field<unknown> {
  key: string;
  plain: "string" | "number" | "boolean" | undefined;
}

/** The type a valid value of a plain reader has, so the object reader can take such a value without a call. */
function plainType(read: Read<unknown>): KeyedField["plain"] {
  return read === string ? "string" : read === integer ? "number" : read === boolean ? "boolean" : undefined;
}

/** The field's value read: a plain one of the right type as it is, anything else by its reader (which reports). */
function readField(field: KeyedField, v: unknown, path: Where, cx: ReadContext): unknown {
  const plain = field.plain;
  if (plain !== undefined && typeof v === plain && (plain === "string" ? isWellFormed(v as string) : plain !== "number" || Number.isSafeInteger(v))) return v;
  return field.read(v, at(path, field.key), cx);
}

const hasOwn = (o: object, key: string): boolean => Object.prototype.hasOwnProperty.call(o, key);

/** Reads an object with the given fields; keys are emitted in the order of `fields`. */
export function object<T>(fields: Fields<T>): Read<T> {
  const list: KeyedField[] = Object.keys(fields).map((key) => {
    const field = fields[key as keyof T] as Field<unknown>;
    // Field by field, not spread: every reader is made at start-up.
    return { read: field.read, since: field.since, required: field.required, key, plain: plainType(field.read) };
  });
  const order = new Map<string, number>(list.map((f, i) => [f.key, i]));
  return (value, path, cx) => {
    if (typeof value !== "object" || value === null || Array.isArray(value)) {
      cx.issues.error(path, `must be an object, not ${describeType(value)}`);
      return undefined;
    }
    const input = value as Record<string, unknown>;
    const unknownKeys = Object.keys(input).some((key) => !order.has(key));
    // Only an object with a key not the model's can spell a field otherwise.
    const spelled = unknownKeys ? spellings(input, order, path, cx) : undefined;
    const below: ReadContext = spelled && !cx.keysUnchecked ? { ...cx, keysUnchecked: true } : cx;
    const out: Record<string, unknown> = {};
    for (let i = 0; i < list.length; i++) {
      const field = list[i]!;
      const other = spelled?.get(field.key);
      const key = other?.key ?? field.key;
      const v = other ? other.value : hasOwn(input, key) ? input[key] : undefined;
      if (v === undefined || v === null) {
        if (field.required) cx.issues.error(at(path, key), `${key} is required`);
        continue;
      }
      if (field.since !== undefined && cx.minor < field.since) {
        if (!cx.keysUnchecked) cx.issues.warn(at(path, key), `unknown key ${quoteKey(key)} ignored: it needs spec ${cx.major}.${field.since}.0 or later, and this config is ${cx.major}.${cx.minor}.0`, true);
        continue;
      }
      // Ignition checks the keys below the field's exact spelling, when the document has one.
      const exact = key === field.key || hasOwn(input, field.key);
      const read = key === field.key ? readField(field, v, path, cx) : exact ? field.read(v, at(path, field.key), cx) : field.read(v, at(path, key), below);
      if (read !== undefined) out[field.key] = read;
    }
    if (unknownKeys && !cx.keysUnchecked) {
      for (const key of Object.keys(input)) {
        if (!order.has(key) && !order.has(goFieldOf(key, order))) cx.issues.warn(at(path, key), `unknown key ${quoteKey(key)} ignored`, true);
      }
    }
    return out as T;
  };
}

/**
 * Ignition decodes JSON with Go's encoding/json, which takes a key that
 * matches no field exactly for the field it matches regardless of case
 * ("Mode" is mode; Go folds U+212A KELVIN SIGN to k and U+017F LONG S to s
 * too). Of several keys for one field, the last in the document wins.
 */
export function goFieldOf(key: string, fields: ReadonlyMap<string, unknown>): string {
  if (fields.has(key)) return key;
  const folded = key.toLowerCase().replace(/\u017f/g, "s");
  for (const name of fields.keys()) if (name.toLowerCase() === folded) return name;
  return key;
}

/**
 * For each field spelled otherwise in `input`, with a warning for each such
 * spelling: the last key that spells it, and the value Go's decoder ends
 * with (goValueOf).
 */
function spellings(input: Record<string, unknown>, fields: ReadonlyMap<string, unknown>, path: Where, cx: ReadContext): Map<string, { key: string; value: unknown }> | undefined {
  let chosen: Map<string, { key: string; value: unknown }> | undefined;
  const keys = Object.keys(input);
  for (const key of keys) {
    const field = goFieldOf(key, fields);
    if (field === key || !fields.has(field)) continue;
    if (!cx.keysUnchecked) cx.issues.warn(at(path, key), `key ${quoteKey(key)} is read as ${quoteKey(field)}, as Ignition matches keys regardless of case; write it ${quoteKey(field)}`, true);
    chosen ??= new Map();
    if (!chosen.has(field)) chosen.set(field, goValueOf(input, field, fields));
  }
  return chosen;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The value Go's decoder ends with for `field` when `input` spells it by
 * several keys: each one's value in document order, an object decoded into
 * the struct already there (merged, key by key, objects within it merged
 * too), anything else replacing it; a null leaves an object as it is and
 * clears anything else (Ignition's optional fields are pointers in Go).
 * With the last key that spells it.
 */
export function goValueOf(input: Record<string, unknown>, field: string, fields: ReadonlyMap<string, unknown>): { key: string; value: unknown } {
  let key = field;
  let value: unknown;
  for (const k of Object.keys(input)) {
    if (goFieldOf(k, fields) !== field) continue;
    key = k;
    const v = input[k];
    if (v === null || v === undefined) value = isPlainObject(value) ? value : undefined;
    else value = isPlainObject(value) && isPlainObject(v) ? decodedOver(value, v) : v;
  }
  return { key, value };
}

/** `next` decoded into `prev` as Go does into a struct: its keys set over prev's, after them (so the last spelling stays last). */
function decodedOver(prev: Record<string, unknown>, next: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...prev };
  for (const [k, v] of Object.entries(next)) {
    const before = out[k];
    delete out[k];
    out[k] = isPlainObject(before) && isPlainObject(v) ? decodedOver(before, v) : v;
  }
  return out;
}

/** A key as typed, quoted and escaped so odd keys cannot break the message's line. */
function quoteKey(key: string): string {
  return JSON.stringify(key.length > 60 ? key.slice(0, 57) + "..." : key);
}

/** Shorthand for a field. */
export function f<T>(read: Read<T>, opts: Omit<Field<T>, "read"> = {}): Field<T> {
  return { read, ...opts };
}
