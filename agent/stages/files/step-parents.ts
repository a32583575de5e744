// The parent directories of one step's entries (see stepEnd in
// write-steps.ts), each walked once for the step instead of once per entry: a
// config spreads its files over a few directories, and the walk through
// /proc/self/fd is most of what a small file costs. The entries of a step
// are all at one depth, so none of them makes, replaces or removes the
// directory another one is written into; what the walk found stays the
// directory at that path for the step, unless something outside Flint
// swaps it meanwhile, and then the write lands in the directory Flint holds,
// inside the root, and its rename (walked afresh at the flush) fails, as
// a swap between one entry's walk and its write always could.

import type { RootDir } from "../../root/resolve";

/** Idle directories kept open at most (a step may span thousands of directories). */
export const KEEP_IDLE = 128;

interface Held {
  dir: RootDir;
  /** Entries writing into it now. */
  users: number;
}

export class StepParents {
  /** By walk (path and options), oldest use first. */
  private held = new Map<string, Held>();

  /**
   * The directory `key` names, walked by `walk` on first use; undefined when
   * the walk found none (a plan's missing parent), which is not kept. Each
   * directory returned is given back with `release`.
   */
  acquire(key: string, walk: () => RootDir | undefined): RootDir | undefined {
    const hit = this.held.get(key);
    if (hit) {
      this.held.delete(key); // to the end: the most recently used
      this.held.set(key, hit);
      hit.users++;
      return hit.dir;
    }
    const dir = walk();
    if (!dir) return undefined;
    this.held.set(key, { dir, users: 1 });
    this.closeIdle(KEEP_IDLE);
    return dir;
  }

  release(key: string): void {
    const held = this.held.get(key);
    if (held) held.users--;
  }

  /** Closes every directory, at the end of the step (no entry holds one then). */
  closeAll(): void {
    for (const { dir } of this.held.values()) dir.close();
    this.held.clear();
  }

  private closeIdle(keep: number): void {
    for (const [key, held] of this.held) {
      if (this.held.size <= keep) return;
      if (held.users > 0) continue;
      held.dir.close();
      this.held.delete(key);
    }
  }
}
