// A stage's actions, kept compactly: a 100,000-file run records some
// 127,000 of them, and as one object each (48 bytes, plus its slot in a
// list) they were ~7 MiB of the run's peak. Here each costs a kind code
// (one byte), its target as UTF-8 bytes in one buffer (a string each was
// another ~6 MiB: the paths of a big config are not slices of its text,
// see config/text-list.ts) and its detail (shared strings). The report
// streams them from here (report.ts); an Action object is made only for
// whoever reads the list itself.

import type { Action } from "./context";

/** Kinds are a few constants of the stages' code: each gets a one-byte code. */
const kindCodes = new Map<string, number>();
const kindNames: string[] = [];
const MAX_KINDS = 256;

/** A pushed action without a detail key at all (not `detail: undefined`): made again the same. */
const NO_DETAIL = Symbol("no detail");

/** Strings one after another as UTF-8 in a buffer that doubles as it fills. */
class PackedStrings {
  private bytes = Buffer.allocUnsafe(4096);
  private used = 0;
  /** Where string i ends in `bytes` (it starts where string i - 1 ends). */
  private ends = new Int32Array(256);
  length = 0;

  push(text: string): void {
    // A UTF-16 code unit is at most 3 bytes of UTF-8.
    const needed = this.used + text.length * 3;
    if (needed > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.bytes.length * 2, needed));
      this.bytes.copy(bigger, 0, 0, this.used);
      this.bytes = bigger;
    }
    this.used += this.bytes.write(text, this.used);
    if (this.length === this.ends.length) this.ends = grown(this.ends, this.length, this.length + 1);
    this.ends[this.length++] = this.used;
  }

  at(i: number): string {
    return this.bytes.toString("utf8", i === 0 ? 0 : this.ends[i - 1]!, this.ends[i]!);
  }
}

/** A copy of `array`'s first `used` items in one at least twice its size and at least `needed` long. */
function grown<T extends Int32Array | Uint8Array>(array: T, used: number, needed: number): T {
  const bigger = new (array.constructor as new (n: number) => T)(Math.max(array.length * 2, needed));
  bigger.set(array.subarray(0, used));
  return bigger;
}

export class ActionLog {
  private kinds = new Uint8Array(256);
  private readonly targets = new PackedStrings();
  private readonly details: (string | undefined | typeof NO_DETAIL)[] = [];

  get length(): number {
    return this.targets.length;
  }

  push(...actions: Action[]): number {
    for (const action of actions) {
      let code = kindCodes.get(action.kind);
      if (code === undefined) {
        if (kindNames.length >= MAX_KINDS) throw new Error(`more than ${MAX_KINDS} kinds of action`);
        code = kindNames.length;
        kindNames.push(action.kind);
        kindCodes.set(action.kind, code);
      }
      const n = this.targets.length;
      if (n === this.kinds.length) this.kinds = grown(this.kinds, n, n + 1);
      this.kinds[n] = code;
      this.targets.push(action.target);
      this.details.push("detail" in action ? action.detail : NO_DETAIL);
    }
    return this.targets.length;
  }

  /** The action at `i`, as it was pushed (same keys). */
  at(i: number): Action {
    const kind = kindNames[this.kinds[i]!]!;
    const detail = this.details[i];
    const target = this.targets.at(i);
    return detail === NO_DETAIL ? { kind, target } : { kind, target, detail };
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
