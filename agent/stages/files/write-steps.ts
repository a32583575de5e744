// Storage entries written step by step: each step (entries at one depth,
// see independentSteps) several entries at a time, each to a temporary name
// that waits in the writer's batch, the step's parents walked once for it
// (step-parents.ts). A plan stays sequential so that its lines come out in
// a stable order.

import { SymlinkOnPath } from "../../root/resolve";
import { applyEntry, independentSteps, orderEntries, type Entry, type NodeWriter } from "./nodes";
import { StepParents } from "./step-parents";

/** How many entries are written at once. */
const CONCURRENT_WRITES = 16;

/**
 * Writes `entries` in order. With `deferred`, the walks refuse symlinks
 * (noSymlinks) and an entry that meets one is set aside there instead of
 * failing (see beside-accounts.ts).
 */
export async function writeInSteps(writer: NodeWriter, entries: Entry[], deferred?: Entry[]): Promise<void> {
  const width = writer.ctx.dryRun ? 1 : CONCURRENT_WRITES;
  const options = deferred ? { noSymlinks: true } : {};
  for (const step of independentSteps(orderEntries(entries))) {
    writer.parents = new StepParents();
    try {
      await inParallel(width > 1 ? byParent(step) : step, width, async (entry) => {
        try {
          await applyEntry(writer, entry, options);
        } catch (e) {
          // A symlink on the way could lead into the accounts' trees: this one waits for them.
          if (!(deferred && e instanceof SymlinkOnPath)) throw e;
          deferred.push(entry);
        }
      });
    } finally {
      writer.parents.closeAll();
      writer.parents = undefined;
    }
  }
}

/**
 * The step's entries with those of one parent next to each other (parents in
 * the order they first come, entries in theirs): the few parents being
 * written into at a time stay open, where a config that spreads its files
 * round the directories would otherwise walk every parent for every entry.
 * Entries of one step are independent, so their order is free.
 */
export function byParent(step: Entry[]): Entry[] {
  const groups = new Map<string, Entry[]>();
  for (const entry of step) {
    // The path up to its last slash: a slice of it, not a new string (a step may have 100,000 entries).
    const path = entry.node.path;
    const dir = path.slice(0, path.lastIndexOf("/"));
    const group = groups.get(dir);
    if (group) group.push(entry);
    else groups.set(dir, [entry]);
  }
  return groups.size === step.length ? step : [...groups.values()].flat();
}

/** Runs `work` on every item, at most `width` at a time; the first failure stops new work and is thrown once the rest settle. */
async function inParallel<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (!failure && next < items.length) {
      const item = items[next++]!;
      try {
        await work(item);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
  if (failure) throw failure.error;
}
