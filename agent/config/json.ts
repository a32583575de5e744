// A JSON reader for big configs (over BIG_CONFIG_BYTES; smaller ones go to
// JSON.parse, which is faster), in one pass over the text: the value
// JSON.parse would give, the keys given twice, and a nesting limit. The
// lists the caller names (a config's storage lists, which make it big) are
// not built: they are kept as their items' spans (text-list.ts), each item
// read for its syntax and repeated keys into slices of the text (V8 keeps a
// slice as a pointer into it) and dropped. The few other strings are copies,
// so that nothing but those lists holds on to the text, which `apply` lets
// go once they read from the config's file. Only valid JSON is accepted; on
// anything else it says "invalid" and the caller describes the error
// (text.ts).

import { ItemSpans, listInText } from "./text-list";

/** A key given twice in one JSON object: the last value is the one kept. */
export interface DuplicateKey {
  path: (string | number)[];
  /** Offset of the repeated key's opening quote. */
  offset: number;
}

export type JsonRead = { ok: true; value: unknown; duplicates: DuplicateKey[] } | { ok: false; tooDeepAt?: number };

class Invalid {
  constructor(readonly tooDeepAt?: number) {}
}
const INVALID = new Invalid();

/**
 * Whether the list at `at` (its first `depth` keys) is kept in the text
 * (text-list.ts) instead of built: its items are read, for their syntax and
 * keys given twice, and dropped.
 */
export type KeepInText = (at: readonly (string | number)[], depth: number) => boolean;

export function readJson(text: string, maxNesting: number, keepInText?: KeepInText): JsonRead {
  const reader = new Reader(text, maxNesting, keepInText);
  try {
    reader.skipSpace();
    const value = reader.value();
    reader.skipSpace();
    if (reader.pos !== text.length) return { ok: false };
    return { ok: true, value, duplicates: reader.duplicates };
  } catch (e) {
    if (e instanceof Invalid) return e.tooDeepAt === undefined ? { ok: false } : { ok: false, tooDeepAt: e.tooDeepAt };
    throw e;
  }
}

/** Objects with more keys, or keys longer than this, are made key by key. */
const MAX_SHAPE_KEYS = 8;
const MAX_SHAPE_KEY = 64;
/** Distinct key lists given a maker at most: a config with endless shapes costs no more than a few. */
const MAX_SHAPES = 256;

type Maker = (values: unknown[]) => Record<string, unknown>;

/**
 * A list of keys, in order, as a path in a tree of them. An object made
 * key by key gets room for four properties (56 bytes), one from a literal
 * naming its keys gets exactly its own: a file's contents `{source}` takes
 * 32 bytes, not 56. So each list of keys seen gets a maker that is such a
 * literal; a 100,000-file config has a few of them.
 */
class Shape {
  make?: Maker;
  private next?: Map<string, Shape>;
  /** The key last followed from here, and where to: siblings in a list mostly share their keys. */
  private lastKey?: string;
  private lastShape?: Shape;

  constructor(private readonly keys: string[]) {}

  /** This list of keys with `key` after them; undefined once there are too many lists. */
  then(key: string, shapes: { count: number }): Shape | undefined {
    if (key === this.lastKey) return this.lastShape;
    let shape = this.next?.get(key);
    if (!shape) {
      if (shapes.count >= MAX_SHAPES) return undefined;
      shapes.count++;
      shape = new Shape([...this.keys, key]);
      (this.next ??= new Map()).set(key, shape);
    }
    this.lastKey = key;
    this.lastShape = shape;
    return shape;
  }

  maker(): Maker {
    // Keys are plain (not "__proto__", not index-like, none repeated), quoted as JSON, which JavaScript reads alike.
    return (this.make ??= new Function("v", `return {${this.keys.map((k, i) => `${JSON.stringify(k)}: v[${i}]`).join(", ")}};`) as Maker);
  }
}

/** Shorter strings are copied by V8 whatever is asked (a sliced string is at least 13 characters). */
const MIN_SLICE = 13;

/** Past this many keys, an object's keys are looked up in a Set (a hostile object of 100,000 keys stays linear). */
const KEYS_LISTED = 16;

/**
 * The keys of one object so far, to find one given twice: JSON.parse keeps
 * the last value silently, Flint warns. Reused (reset) for every object at
 * one nesting level; also by the scan before JSON.parse (text.ts).
 */
export class ObjectKeys {
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

class Reader {
  pos = 0;
  readonly duplicates: DuplicateKey[] = [];
  /** The key or index at each open level, for duplicates' paths. */
  private readonly at: (string | number)[] = [];
  private depth = 0;
  /** How many lists kept in the text the reader is in (their items are read and dropped). */
  private inKept = 0;
  private readonly shapes = new Shape([]);
  private readonly shapeCount = { count: 0 };
  private readonly scratch: { keys: string[]; values: unknown[]; seen: ObjectKeys }[] = [];

  constructor(
    private readonly text: string,
    private readonly maxNesting: number,
    private readonly keepInText?: KeepInText,
  ) {}

  skipSpace(): void {
    const text = this.text;
    let i = this.pos;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else break;
    }
    this.pos = i;
  }

  value(): unknown {
    const c = this.text.charCodeAt(this.pos);
    if (c === 0x22) return this.string();
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.keepInText?.(this.at, this.depth) ? this.arrayInText() : this.array();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
    if (c === 0x74) return this.word("true", true);
    if (c === 0x66) return this.word("false", false);
    if (c === 0x6e) return this.word("null", null);
    throw INVALID;
  }

  private enter(): void {
    if (++this.depth > this.maxNesting) throw new Invalid(this.pos);
  }

  private object(): Record<string, unknown> {
    const text = this.text;
    // Per nesting level, reused: objects at one level are never inside each other.
    const level = this.depth;
    const scratch = (this.scratch[level] ??= { keys: [], values: [], seen: new ObjectKeys() });
    const { keys, values, seen } = scratch;
    seen.reset();
    // Not emptied (that gives their storage back each time): entries past `n` are stale.
    let n = 0;
    let shape: Shape | undefined = this.shapes;
    this.members(0x7d, (level) => {
      if (text.charCodeAt(this.pos) !== 0x22) throw INVALID;
      const keyAt = this.pos;
      const key = this.string();
      this.skipSpace();
      if (text.charCodeAt(this.pos) !== 0x3a) throw INVALID;
      this.pos++;
      this.skipSpace();
      this.at[level] = key;
      const value = this.value();
      if (seen.repeated(key)) {
        this.duplicates.push({ path: [...this.at.slice(0, level), key], offset: keyAt });
        shape = undefined;
      } else if (shape) {
        const plain = n < MAX_SHAPE_KEYS && key.length > 0 && key.length <= MAX_SHAPE_KEY && key !== "__proto__" && !(key.charCodeAt(0) >= 0x30 && key.charCodeAt(0) <= 0x39);
        shape = plain ? shape.then(key, this.shapeCount) : undefined;
      }
      keys[n] = key;
      values[n++] = value;
    });
    if (shape) return shape.maker()(values);
    const out: Record<string, unknown> = {};
    for (let i = 0; i < n; i++) {
      const key = keys[i]!;
      // An own property even for "__proto__", as JSON.parse makes it.
      if (key === "__proto__") Object.defineProperty(out, key, { value: values[i], writable: true, enumerable: true, configurable: true });
      else out[key] = values[i];
    }
    return out;
  }

  private array(): unknown[] {
    const out: unknown[] = [];
    this.members(0x5d, (level) => {
      this.at[level] = out.length;
      out.push(this.value());
    });
    return out;
  }

  /** An array kept as the spans of its items in the text (see KeepInText). */
  private arrayInText(): unknown[] {
    const starts: number[] = [];
    const ends: number[] = [];
    this.inKept++;
    this.members(0x5d, (level) => {
      this.at[level] = starts.length;
      starts.push(this.pos);
      this.value();
      ends.push(this.pos);
    });
    this.inKept--;
    return listInText(new ItemSpans(this.text, Int32Array.from(starts), Int32Array.from(ends), this.at.slice(0, this.depth).join(".")));
  }

  /**
   * The members of the object or array whose opening bracket is at `pos`,
   * up to the closing `close`: `member` reads one (at nesting `level`), the
   * commas and spaces between them are read here.
   */
  private members(close: number, member: (level: number) => void): void {
    this.enter();
    const text = this.text;
    const level = this.depth - 1;
    this.pos++;
    this.skipSpace();
    if (text.charCodeAt(this.pos) === close) this.pos++;
    else {
      for (;;) {
        member(level);
        this.skipSpace();
        const c = text.charCodeAt(this.pos++);
        if (c === close) break;
        if (c !== 0x2c) throw INVALID;
        this.skipSpace();
      }
    }
    this.depth--;
  }

  private string(): string {
    const text = this.text;
    const start = this.pos + 1;
    let escaped = false;
    let i = start;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x22) break;
      if (c === 0x5c) {
        escaped = true;
        i += 2;
        continue;
      }
      // Control characters must be escaped; NaN is the end of the text.
      if (!(c >= 0x20)) throw INVALID;
      i++;
    }
    this.pos = i + 1;
    // Outside the lists kept in the text, a copy: a slice would hold the whole text for as long as the config lives.
    if (!escaped) return this.inKept > 0 || i - start < MIN_SLICE ? text.slice(start, i) : (JSON.parse(text.slice(start - 1, i + 1)) as string);
    try {
      return JSON.parse(text.slice(start - 1, i + 1)) as string;
    } catch {
      throw INVALID;
    }
  }

  private number(): number {
    const text = this.text;
    const start = this.pos;
    let i = start;
    if (text.charCodeAt(i) === 0x2d) i++;
    let c = text.charCodeAt(i);
    if (c === 0x30) c = text.charCodeAt(++i);
    else if (c >= 0x31 && c <= 0x39) {
      let n = c - 0x30;
      c = text.charCodeAt(++i);
      while (c >= 0x30 && c <= 0x39) {
        n = n * 10 + (c - 0x30);
        c = text.charCodeAt(++i);
      }
      // Plain integers (modes, ids, sizes): no string to convert.
      if (c !== 0x2e && c !== 0x65 && c !== 0x45 && n <= Number.MAX_SAFE_INTEGER) {
        this.pos = i;
        return text.charCodeAt(start) === 0x2d ? -n : n;
      }
    } else throw INVALID;
    if (c === 0x2e) {
      c = text.charCodeAt(++i);
      if (!(c >= 0x30 && c <= 0x39)) throw INVALID;
      while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++i);
    }
    if (c === 0x65 || c === 0x45) {
      c = text.charCodeAt(++i);
      if (c === 0x2b || c === 0x2d) c = text.charCodeAt(++i);
      if (!(c >= 0x30 && c <= 0x39)) throw INVALID;
      while (c >= 0x30 && c <= 0x39) c = text.charCodeAt(++i);
    }
    this.pos = i;
    return Number(text.slice(start, i));
  }

  private word<T>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) throw INVALID;
    this.pos += word.length;
    return value;
  }
}
