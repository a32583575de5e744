// The parent directory last written into during one step of entries (see
// stepEnd in write-steps.ts), kept open for the next entry of the same
// parent instead of walked again: a config puts many files in one
// directory, and the walk through /proc/self/fd is most of what a small
// file costs (byParent puts a step's entries of one parent together). The
// entries of a step are all at one depth, so none of them makes, replaces
// or removes the directory another one is written into; what the walk
// found stays the directory at that path for the step, unless something
// outside Flint swaps it meanwhile, and then the write lands in the
// directory Flint holds, inside the root, and its rename (walked afresh at
// the flush) fails, as a swap between one entry's walk and its write
// always could.

import type { RootDir } from "../../root/resolve";

export class StepParents {
  private held?: { path: string; dir: RootDir };

  /** The directory `path`, walked by `walk` unless it is the one held; undefined when the walk found none (a plan's missing parent). */
  acquire(path: string, walk: () => RootDir | undefined): RootDir | undefined {
    if (this.held?.path === path) return this.held.dir;
    this.closeAll();
    const dir = walk();
    if (dir) this.held = { path, dir };
    return dir;
  }

  /** Closes the directory held, at the end of the step. */
  closeAll(): void {
    this.held?.dir.close();
    this.held = undefined;
  }
}
