// Storage entries written step by step: each step (entries at one depth,
// see stepEnd) several entries at a time, each to a temporary name that
// waits in the writer's batch, the step's parents walked once for it
// (step-parents.ts). A plan stays sequential so that its lines come out in
// a stable order. Entries are ids of StorageEntries (entries.ts): orders
// and steps are Int32Arrays, and an entry's item is read from the config
// only when it is applied.

import { SymlinkOnPath } from "../../root/resolve";
import type { StorageEntries } from "./entries";
import { applyEntry, type NodeWriter } from "./nodes";
import { StepParents } from "./step-parents";

/** How many entries are written at once. */
const CONCURRENT_WRITES = 16;

/**
 * Writes the entries `ids` in order (applyOrder). With `deferred`, the walks
 * refuse symlinks (noSymlinks) and an entry that meets one is set aside
 * there instead of failing (see beside-accounts.ts).
 */
export async function writeInSteps(writer: NodeWriter, entries: StorageEntries, ids: ArrayLike<number>, deferred?: number[]): Promise<void> {
  const width = writer.ctx.dryRun ? 1 : CONCURRENT_WRITES;
  const options = deferred ? { noSymlinks: true } : {};
  const ordered = applyOrder(entries, ids);
  for (let start = 0; start < ordered.length; ) {
    const end = stepEnd(entries, ordered, start);
    const step = ordered.subarray(start, end);
    start = end;
    writer.parents = new StepParents();
    try {
      await inParallel(width > 1 ? byParent(entries, step) : step, width, async (id) => {
        try {
          await applyEntry(writer, entries.entry(id), options);
        } catch (e) {
          // A symlink on the way could lead into the accounts' trees: this one waits for them.
          if (!(deferred && e instanceof SymlinkOnPath)) throw e;
          deferred.push(id);
        }
      });
    } finally {
      writer.parents.closeAll();
      writer.parents = undefined;
    }
  }
}

/**
 * The order entries are applied in: shallower paths first (a directory, or a
 * symlink standing for one, before what goes under it), and hard links last
 * so that their targets, which may be other entries, exist; within each, as
 * given. A counting sort by depth: stable, in one pass over the ids and one
 * over the depths.
 */
export function applyOrder(entries: StorageEntries, ids: ArrayLike<number>): Int32Array {
  let maxDepth = 0;
  for (let i = 0; i < ids.length; i++) maxDepth = Math.max(maxDepth, entries.depth[ids[i]!]!);
  // One bucket per depth, those of hard links after all the others.
  const hardFrom = maxDepth + 1;
  const key = (id: number): number => (entries.isHard(id) ? hardFrom : 0) + entries.depth[id]!;
  const starts = new Int32Array(2 * hardFrom + 1);
  for (let i = 0; i < ids.length; i++) starts[key(ids[i]!) + 1]!++;
  for (let b = 1; b < starts.length; b++) starts[b]! += starts[b - 1]!;
  const ordered = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) ordered[starts[key(ids[i]!)]!++] = ids[i]!;
  return ordered;
}

/**
 * Where the step that begins at `start` of `ordered` ends: a step's entries
 * do not depend on each other, being at one depth (no entry is under
 * another) and not hard links (a hard link's target may be another link).
 * A step's entries may be written concurrently; each hard link is a step of
 * its own.
 */
export function stepEnd(entries: StorageEntries, ordered: Int32Array, start: number): number {
  const first = ordered[start]!;
  if (entries.isHard(first)) return start + 1;
  const depth = entries.depth[first]!;
  let end = start + 1;
  while (end < ordered.length && entries.depth[ordered[end]!] === depth && !entries.isHard(ordered[end]!)) end++;
  return end;
}

/**
 * The step's entries with those of one parent next to each other (parents in
 * the order they first come, entries in theirs): the few parents being
 * written into at a time stay open, where a config that spreads its files
 * round the directories would otherwise walk every parent for every entry.
 * Entries of one step are independent, so their order is free. `step`
 * itself when no two entries share a parent.
 */
export function byParent(entries: StorageEntries, step: Int32Array): Int32Array {
  if (step.length < 2) return step;
  const { parent } = entries;
  // Per parent id: its group's place in the order of first appearance, then where its next entry goes.
  const slot = new Int32Array(entries.parentCount).fill(-1);
  const counts = new Int32Array(step.length);
  let groups = 0;
  for (let i = 0; i < step.length; i++) {
    const p = parent[step[i]!]!;
    if (slot[p] === -1) slot[p] = groups++;
    counts[slot[p]!]!++;
  }
  if (groups === step.length) return step;
  // Each group's first position, in the order of first appearance.
  const next = new Int32Array(groups);
  for (let g = 1; g < groups; g++) next[g] = next[g - 1]! + counts[g - 1]!;
  const grouped = new Int32Array(step.length);
  for (let i = 0; i < step.length; i++) grouped[next[slot[parent[step[i]!]!]!]!++] = step[i]!;
  return grouped;
}

/** Runs `work` on every item, at most `width` at a time; the first failure stops new work and is thrown once the rest settle. */
async function inParallel(items: Int32Array, width: number, work: (item: number) => Promise<void>): Promise<void> {
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
