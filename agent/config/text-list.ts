// The long lists of a big config (storage.files, .directories and .links)
// kept as the spans of their items in the config's text, not as an object
// per item: 100,000 files cost 8 bytes each here instead of ~150 in
// objects and slices. An item is parsed from its span each time it is read.
// Once the config is parsed, `apply` can have the spans read from the file
// the config came from instead (readListsFromFile, index.ts), and the text
// is let go.
//
// To the code that reads it, such a list is an array (Array.isArray, index,
// length, iteration, the array methods, JSON.stringify). Two things differ:
// each read gives a fresh object (equal to the last, not the same one), and
// the list cannot be changed (a write throws). Code that walks a storage
// list should therefore read each item once per pass and keep what it needs,
// not the item.

import { closeSync, fstatSync, readSync } from "node:fs";
import { FlintError } from "../errors";

/** Where the items of one list lie: item i is text[starts[i], ends[i]) of the config's text. */
export class ItemSpans {
  private text: string | undefined;
  private file: ConfigFile | undefined;
  /** Per item, a hash of its text, to know the file still holds what was parsed. */
  private hashes: Int32Array | undefined;

  constructor(
    text: string,
    readonly starts: Int32Array,
    readonly ends: Int32Array,
    /** The list's JSON path (`storage.files`), for messages. */
    private readonly where: string,
  ) {
    this.text = text;
  }

  /** The JSON text of item `i`. */
  itemText(i: number): string {
    const start = this.starts[i]!;
    const end = this.ends[i]!;
    if (this.text !== undefined) return this.text.slice(start, end);
    const text = this.file!.read(start, end);
    if (fnv1a(text, 0, text.length) !== this.hashes![i]) throw new FlintError(`the config file ${this.file!.name} changed while it was being applied`, `${this.where}.${i}`);
    return text;
  }

  /**
   * From now on, items are read from `file`, whose bytes are the text (one
   * byte per character: ASCII). Each read is checked against the text's.
   */
  readFrom(file: ConfigFile): void {
    const text = this.text!;
    const hashes = new Int32Array(this.starts.length);
    for (let i = 0; i < hashes.length; i++) hashes[i] = fnv1a(text, this.starts[i]!, this.ends[i]!);
    this.hashes = hashes;
    this.file = file;
    this.text = undefined;
  }
}

/**
 * FNV-1a over the UTF-16 units of text[start, end): fast, and a check
 * against accidents, not an attacker (who could edit the file before it is
 * read). The checks across storage entries hash paths with it too.
 */
export function fnv1a(text: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h | 0;
}

/**
 * The file a config was read from, held open (so it stays the same file
 * whatever is renamed over its name) for its lists' items to be read again.
 */
export class ConfigFile {
  /**
   * The bytes last read: [windowStart, windowEnd) of the file. A pass in the
   * list's order reads ahead, so it reads the file once; a read out of that
   * order (the files stage applies entries by depth and parent) reads only
   * its item.
   */
  private window = Buffer.allocUnsafe(WINDOW);
  private windowStart = 0;
  private windowEnd = 0;
  /** Where the last item read ended. */
  private lastEnd = -1;

  constructor(
    private readonly fd: number,
    /** For messages. */
    readonly name: string,
  ) {
    // Closed once no list reads from it any more (a process may apply several configs).
    unreachableFiles.register(this, fd, this);
  }

  /** Its size now. */
  get size(): number {
    return fstatSync(this.fd).size;
  }

  /** Bytes [start, end) as text (one character per byte). */
  read(start: number, end: number): string {
    if (start < this.windowStart || end > this.windowEnd) {
      const next = start >= this.lastEnd && start - this.lastEnd <= BETWEEN_ITEMS;
      const length = next ? Math.max(end - start, WINDOW) : end - start;
      if (this.window.length < length) this.window = Buffer.allocUnsafe(length);
      this.windowStart = start;
      this.windowEnd = start + this.fill(start, length);
      if (end > this.windowEnd) throw new FlintError(`the config file ${this.name} changed while it was being applied (it is shorter)`);
    }
    this.lastEnd = end;
    return this.window.toString("latin1", start - this.windowStart, end - this.windowStart);
  }

  /** Reads up to `length` bytes at `position` into the window; how many there were. */
  private fill(position: number, length: number): number {
    let done = 0;
    while (done < length) {
      const n = readSync(this.fd, this.window, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }

  close(): void {
    unreachableFiles.unregister(this);
    closeSync(this.fd);
  }
}

/** Bytes read at once from a config file, in a pass in the list's order. */
const WINDOW = 64 * 1024;
/** At most this much between one item's end and the next one's start (a comma and the spaces and line breaks around it). */
const BETWEEN_ITEMS = 256;

const unreachableFiles = new FinalizationRegistry<number>((fd) => closeSync(fd));

/** The item reader of a list kept in the text: item `index`, freshly made. */
type ReadItem<T> = (index: number) => T;

const STORAGE_LISTS = new Set(["files", "directories", "links"]);

/** The lists a big config keeps in its text: storage.files, .directories and .links (json.ts's KeepInText). */
export function isStorageList(at: readonly (string | number)[], depth: number): boolean {
  return depth === 2 && at[0] === "storage" && STORAGE_LISTS.has(at[1] as string);
}

/** Per kept list: its item reader and the spans behind it. */
const kept = new WeakMap<object, { read: ReadItem<unknown>; spans: ItemSpans }>();

/** A list of the JSON values at `spans`, parsed on each read. */
export function listInText(spans: ItemSpans): unknown[] {
  return keptList(spans.starts.length, (i) => JSON.parse(spans.itemText(i)), spans);
}

/** Whether `value` is a list kept in the text; its item reader if so. */
export function keptInText(value: unknown): ReadItem<unknown> | undefined {
  return typeof value === "object" && value !== null ? kept.get(value)?.read : undefined;
}

/** The spans behind a list kept in the text. */
export function spansOf(value: unknown): ItemSpans | undefined {
  return typeof value === "object" && value !== null ? kept.get(value)?.spans : undefined;
}

/** The same items, each passed through `then` when read (another list kept in the text). */
export function mapKept<T, U>(list: T[], then: (item: T, index: number) => U): U[] {
  const { read, spans } = kept.get(list)!;
  return keptList(list.length, (i) => then(read(i) as T, i), spans);
}

/** The index `key` names, or -1 (a canonical array index below 2^31: no sign, no leading zero). */
function indexOf(key: string | symbol): number {
  if (typeof key !== "string") return -1;
  const c = key.charCodeAt(0);
  if (!(c >= 0x30 && c <= 0x39) || (c === 0x30 && key.length > 1) || key.length > 10) return -1;
  const i = Number(key);
  return Number.isInteger(i) && i <= 0x7fffffff ? i : -1;
}

function refuse(): never {
  throw new TypeError("a config list kept in its text cannot be changed");
}

function keptList<T>(length: number, read: ReadItem<T>, spans: ItemSpans): T[] {
  // The array behind the proxy has the length and the prototype, and no items.
  const target: T[] = [];
  target.length = length;
  const item = (key: string | symbol): number => {
    const i = indexOf(key);
    return i < length ? i : -1;
  };
  const list = new Proxy(target, {
    get(t, key, receiver) {
      const i = item(key);
      return i !== -1 ? read(i) : Reflect.get(t, key, receiver);
    },
    has(t, key) {
      return item(key) !== -1 || Reflect.has(t, key);
    },
    getOwnPropertyDescriptor(t, key) {
      const i = item(key);
      return i !== -1 ? { value: read(i), writable: false, enumerable: true, configurable: true } : Reflect.getOwnPropertyDescriptor(t, key);
    },
    ownKeys(t) {
      return [...Array.from({ length }, (_, i) => String(i)), ...Reflect.ownKeys(t)];
    },
    set: refuse,
    defineProperty: refuse,
    deleteProperty: refuse,
  });
  kept.set(list, { read, spans });
  return list;
}
