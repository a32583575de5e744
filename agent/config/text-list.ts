// The long lists of a big config (storage.files, .directories and .links)
// kept as the spans of their items in the config's text, not as an object
// per item: the text is held anyway (for line and column in messages), so
// 100,000 files cost 8 bytes each here instead of ~150 in objects and
// slices. An item is parsed from its span each time it is read.
//
// To the code that reads it, such a list is an array (Array.isArray, index,
// length, iteration, the array methods, JSON.stringify). Two things differ:
// each read gives a fresh object (equal to the last, not the same one), and
// the list cannot be changed (a write throws). Code that walks a storage
// list should therefore read each item once per pass and keep what it needs,
// not the item.

/** Where the items of one list lie in the text: item i is text[starts[i], ends[i]). */
export interface ItemSpans {
  text: string;
  starts: Int32Array;
  ends: Int32Array;
}

/** The item reader of a list kept in the text: item `index`, freshly made. */
type ReadItem<T> = (index: number) => T;

const STORAGE_LISTS = new Set(["files", "directories", "links"]);

/** The lists a big config keeps in its text: storage.files, .directories and .links (json.ts's KeepInText). */
export function isStorageList(at: readonly (string | number)[], depth: number): boolean {
  return depth === 2 && at[0] === "storage" && STORAGE_LISTS.has(at[1] as string);
}

const readers = new WeakMap<object, ReadItem<unknown>>();

/** A list of the JSON values at `spans`, parsed on each read. */
export function listInText(spans: ItemSpans): unknown[] {
  const { text, starts, ends } = spans;
  return keptList(starts.length, (i) => JSON.parse(text.slice(starts[i]!, ends[i]!)));
}

/** Whether `value` is a list kept in the text; its item reader if so. */
export function keptInText(value: unknown): ReadItem<unknown> | undefined {
  return typeof value === "object" && value !== null ? readers.get(value) : undefined;
}

/** The same items, each passed through `then` when read (another list kept in the text). */
export function mapKept<T, U>(list: T[], then: (item: T, index: number) => U): U[] {
  const read = keptInText(list) as ReadItem<T>;
  return keptList(list.length, (i) => then(read(i), i));
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

function keptList<T>(length: number, read: ReadItem<T>): T[] {
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
  readers.set(list, read);
  return list;
}
