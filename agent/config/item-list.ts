// The storage lists of a config (files, directories, links) as the stages
// read them: a length, an item by index, and iteration; nothing else. A
// plain array is one. A big config's lists (over BIG_CONFIG_BYTES) are
// instead spooled: each item, once read and checked, is written as one JSON
// line to a file of the run's own (unlinked at once, so nothing is left
// behind), and read back from it by index. At 100,000 files this keeps the
// peak of `flint apply` under 100 MiB (docs/performance.md, "Memory").

import { closeSync, mkdtempSync, openSync, readSync, rmdirSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface ItemList<T> extends Iterable<T> {
  readonly length: number;
  at(index: number): T | undefined;
}

/** A list whose items are not objects in memory: each read makes the item anew. */
export abstract class StoredList<T> implements ItemList<T> {
  abstract readonly length: number;
  abstract at(index: number): T | undefined;

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.length; i++) yield this.at(i)!;
  }

  /** Every item in memory at once: for `flint translate` and the fetch stage's cache, which print the config. */
  toJSON(): T[] {
    return Array.from(this);
  }
}

/** Bytes written or read at once. */
const CHUNK = 64 * 1024;

/** The spool file: closed once no list or spool refers to it. */
class SpoolFile {
  readonly fd: number;

  constructor(under: string) {
    // A directory of our own (0700), so the name cannot be taken or swapped before the file is unlinked.
    const dir = mkdtempSync(join(under, "flint-items-"));
    const path = join(dir, "items");
    try {
      this.fd = openSync(path, "wx+", 0o600);
      unreachable.register(this, this.fd);
      unlinkSync(path);
    } finally {
      rmdirSync(dir);
    }
  }
}

const unreachable = new FinalizationRegistry<number>((fd) => closeSync(fd));

/** Writes items one JSON line each, in a file made under `under`; `finish` gives the list that reads them back. */
export class ItemSpool<T> {
  private readonly file: SpoolFile;
  private chunk = Buffer.allocUnsafe(CHUNK);
  private used = 0;
  private written = 0;
  /** Where each item starts, and after the last, where it ends. */
  private readonly offsets: number[] = [0];

  constructor(under = tmpdir()) {
    this.file = new SpoolFile(under);
  }

  push(item: T): void {
    const line = JSON.stringify(item) + "\n";
    // A UTF-16 unit is at most 3 bytes of UTF-8.
    if (this.used + line.length * 3 > this.chunk.length) this.flush();
    if (line.length * 3 > this.chunk.length) this.write(Buffer.from(line));
    else this.used += this.chunk.write(line, this.used);
    this.offsets.push(this.written + this.used);
  }

  finish(): SpooledList<T> {
    this.flush();
    return new SpooledList<T>(this.file, Float64Array.from(this.offsets));
  }

  private flush(): void {
    this.write(this.chunk.subarray(0, this.used));
    this.used = 0;
  }

  private write(bytes: Buffer): void {
    for (let done = 0; done < bytes.length; ) done += writeSync(this.file.fd, bytes, done, bytes.length - done, this.written + done);
    this.written += bytes.length;
  }
}

/** The items of a spool, parsed at each read; reading in order reads the file a chunk at a time, out of order an item at a time. */
export class SpooledList<T> extends StoredList<T> {
  readonly length: number;
  private window = Buffer.allocUnsafe(CHUNK);
  /** The window holds bytes [windowStart, windowEnd) of the file. */
  private windowStart = 0;
  private windowEnd = 0;
  /** Where the item last read ends. */
  private lastEnd = -1;

  constructor(
    private readonly file: SpoolFile,
    private readonly offsets: Float64Array,
  ) {
    super();
    this.length = offsets.length - 1;
  }

  at(index: number): T | undefined {
    if (!(index >= 0 && index < this.length)) return undefined;
    const start = this.offsets[index]!;
    const end = this.offsets[index + 1]!;
    if (start < this.windowStart || end > this.windowEnd) {
      // Read ahead only when reading on from the last item: the files stage reads by depth and parent, out of order.
      const next = start === this.lastEnd;
      this.fill(start, next ? Math.max(end - start, CHUNK) : end - start);
    }
    this.lastEnd = end;
    return JSON.parse(this.window.toString("utf8", start - this.windowStart, end - this.windowStart)) as T;
  }

  private fill(position: number, length: number): void {
    if (this.window.length < length) this.window = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.file.fd, this.window, done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    this.windowStart = position;
    this.windowEnd = position + done;
  }
}
