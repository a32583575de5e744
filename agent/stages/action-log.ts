// A stage's actions, kept compactly: a 100,000-file run records some
// 127,000 of them, and as one object each (48 bytes, plus its slot in a
// list) they were ~7 MiB of the run's peak. Here each costs a kind code
// (one byte), where its target ends in a block of UTF-8 bytes (four; a
// string each was another ~6 MiB: a big config's items are parsed afresh
// at each read, see config/item-list.ts) and a detail code (four).
// The report streams them from here (report.ts); an Action object is made
// only for whoever reads the list itself.
//
// Nothing here grows by copying: bytes go in fixed-size blocks and the
// per-action numbers in fixed-size pages, each allocated once and kept for
// the log's life. A buffer that doubles leaves its old copies as holes in
// the malloc heap that glibc does not give back (once a big block has been
// freed it raises its trim and mmap thresholds): the last copy plus about
// as much again stayed in the run's peak.

import type { Action } from "./context";

/** Kinds are a few constants of the stages' code: each gets a one-byte code. */
const kindCodes = new Map<string, number>();
const kindNames: string[] = [];
const MAX_KINDS = 256;

/** Bytes of a block of targets; a target is never split across blocks (a longer one gets a block of its own size). */
const BLOCK_BYTES = 64 * 1024;
/** Actions a page of kinds, ends and detail codes holds. */
const PAGE_BITS = 14;
const PAGE_SIZE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SIZE - 1;

/**
 * Distinct details kept once, each action giving its index: a few modes and
 * owners repeat over thousands of actions. Past this many, a detail not yet
 * kept (a link's `-> target`, one per link) is written as UTF-8 right after
 * its action's target instead.
 */
const DETAILS_KEPT = 1024;
/** Detail codes below 0: no `detail` key at all (not `detail: undefined`), made again the same; `detail: undefined`. */
const NO_DETAIL = -1;
const UNDEFINED_DETAIL = -2;
/** Codes from this one down: the detail follows the target, whose UTF-8 length is AFTER_TARGET - code. */
const AFTER_TARGET = -3;

export class ActionLog {
  private count = 0;
  /** Per action, in pages of PAGE_SIZE: its kind code, where its bytes end in its block, its detail code. */
  private readonly kindPages: Uint8Array[] = [];
  private readonly endPages: Int32Array[] = [];
  private readonly detailPages: Int32Array[] = [];
  /** The blocks of bytes, the first action of each, and the bytes used in the last. */
  private readonly blocks: Buffer[] = [];
  private readonly blockFirst: number[] = [];
  private used = 0;
  /** The block at() read last (the report reads in order). */
  private lastBlock = 0;
  private readonly detailCodes = new Map<string, number>();
  private readonly details: string[] = [];

  get length(): number {
    return this.count;
  }

  push(...actions: Action[]): number {
    for (const action of actions) {
      let kind = kindCodes.get(action.kind);
      if (kind === undefined) {
        if (kindNames.length >= MAX_KINDS) throw new Error(`more than ${MAX_KINDS} kinds of action`);
        kind = kindNames.length;
        kindNames.push(action.kind);
        kindCodes.set(action.kind, kind);
      }
      let detail = NO_DETAIL;
      let after: string | undefined;
      if ("detail" in action) {
        const text = action.detail;
        if (text === undefined) detail = UNDEFINED_DETAIL;
        else {
          const known = this.detailCodes.get(text);
          if (known !== undefined) detail = known;
          else if (this.details.length < DETAILS_KEPT) {
            detail = this.details.length;
            this.details.push(text);
            this.detailCodes.set(text, detail);
          } else after = text;
        }
      }
      const i = this.count;
      const slot = i & PAGE_MASK;
      if (slot === 0) {
        this.kindPages.push(new Uint8Array(PAGE_SIZE));
        this.endPages.push(new Int32Array(PAGE_SIZE));
        this.detailPages.push(new Int32Array(PAGE_SIZE));
      }
      const page = i >>> PAGE_BITS;
      const block = this.room(i, action.target, after);
      const start = this.used;
      this.used += block.write(action.target, start);
      if (after !== undefined) {
        detail = AFTER_TARGET - (this.used - start);
        this.used += block.write(after, this.used);
      }
      this.kindPages[page]![slot] = kind;
      this.endPages[page]![slot] = this.used;
      this.detailPages[page]![slot] = detail;
      this.count = i + 1;
    }
    return this.count;
  }

  /** The last block if `target` and `after` fit in what is left of it, else a new block for action `i`. */
  private room(i: number, target: string, after: string | undefined): Buffer {
    const last = this.blocks[this.blocks.length - 1];
    // A UTF-16 code unit is at most 3 bytes of UTF-8: the exact length is counted only near a block's end.
    if (last !== undefined && this.used + (target.length + (after?.length ?? 0)) * 3 <= last.length) return last;
    const bytes = Buffer.byteLength(target) + (after === undefined ? 0 : Buffer.byteLength(after));
    if (last !== undefined && this.used + bytes <= last.length) return last;
    const block = Buffer.allocUnsafe(Math.max(BLOCK_BYTES, bytes));
    this.blocks.push(block);
    this.blockFirst.push(i);
    this.used = 0;
    return block;
  }

  /** The block holding action `i`'s bytes. */
  private blockOf(i: number): number {
    const first = this.blockFirst;
    let b = this.lastBlock;
    if (first[b]! <= i && (b + 1 === first.length || i < first[b + 1]!)) return b;
    if (b + 1 < first.length && first[b + 1]! <= i && (b + 2 === first.length || i < first[b + 2]!)) return (this.lastBlock = b + 1);
    // The last block whose first action is at or before i.
    let low = 0;
    let high = first.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >>> 1;
      if (first[mid]! <= i) low = mid;
      else high = mid - 1;
    }
    return (this.lastBlock = low);
  }

  /** The action at `i`, as it was pushed (same keys). */
  at(i: number): Action {
    if (!(i >= 0 && i < this.count) || !Number.isInteger(i)) throw new RangeError(`no action ${i} in a log of ${this.count}`);
    const page = i >>> PAGE_BITS;
    const slot = i & PAGE_MASK;
    const kind = kindNames[this.kindPages[page]![slot]!]!;
    const b = this.blockOf(i);
    const block = this.blocks[b]!;
    const start = i === this.blockFirst[b] ? 0 : this.endPages[(i - 1) >>> PAGE_BITS]![(i - 1) & PAGE_MASK]!;
    const end = this.endPages[page]![slot]!;
    const code = this.detailPages[page]![slot]!;
    if (code === NO_DETAIL) return { kind, target: block.toString("utf8", start, end) };
    if (code === UNDEFINED_DETAIL) return { kind, target: block.toString("utf8", start, end), detail: undefined };
    if (code >= 0) return { kind, target: block.toString("utf8", start, end), detail: this.details[code]! };
    const targetEnd = start + (AFTER_TARGET - code);
    return { kind, target: block.toString("utf8", start, targetEnd), detail: block.toString("utf8", targetEnd, end) };
  }

  *[Symbol.iterator](): IterableIterator<Action> {
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  toArray(): Action[] {
    return Array.from({ length: this.length }, (_, i) => this.at(i));
  }
}

/** Stage records whose `actions` are still in a log (not yet made into a list for a reader). */
const logs = new WeakMap<object, ActionLog>();

/**
 * Gives `record` its `actions` from `log`: a list is made only when the
 * property is read (then kept in place of the log); the report and the
 * count read the log itself (actionsOf).
 */
export function attachActions<T extends { actions: Action[] }>(record: T, log: ActionLog): T {
  logs.set(record, log);
  // Redefined in place: the key keeps its position among the record's keys (the report's order).
  Object.defineProperty(record, "actions", {
    enumerable: true,
    configurable: true,
    get(this: T): Action[] {
      const list = log.toArray();
      logs.delete(this);
      Object.defineProperty(this, "actions", { value: list, enumerable: true, configurable: true, writable: true });
      return list;
    },
    set(this: T, list: Action[]) {
      logs.delete(this);
      Object.defineProperty(this, "actions", { value: list, enumerable: true, configurable: true, writable: true });
    },
  });
  return record;
}

/** The actions of a stage record without making a list of them. */
export function actionsOf(record: { actions: Action[] }): { length: number; [Symbol.iterator](): Iterator<Action> } {
  return logs.get(record) ?? record.actions;
}

/** The log behind a record, if its actions were not made into a list. */
export function logOf(record: object): ActionLog | undefined {
  return logs.get(record);
}
