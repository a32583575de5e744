// Storage entries written step by step, one after another: each step
// (entries at one depth, see stepEnd) with its entries of one parent
// together, each parent walked once for them (step-parents.ts), each entry
// to a temporary name that waits in the writer's batch. Entries are ids of
// StorageEntries (entries.ts): orders and steps are Int32Arrays, and an
// entry's item is read from the config only when it is applied.

import type { StorageEntries } from "./entries";
import { applyEntry, type NodeWriter } from "./nodes";
import { StepParents } from "./step-parents";

/** Writes every entry, in applyOrder. */
export async function writeInSteps(writer: NodeWriter, entries: StorageEntries): Promise<void> {
  const ids = new Int32Array(entries.count);
  for (let id = 0; id < ids.length; id++) ids[id] = id;
  const ordered = applyOrder(entries, ids);
  for (let start = 0; start < ordered.length; ) {
    const end = stepEnd(entries, ordered, start);
    const step = byParent(entries, ordered.subarray(start, end));
    start = end;
    // A cancelled run (the boot agent's client went away) stops between steps.
    writer.ctx.signal?.throwIfAborted();
    writer.parents = new StepParents();
    try {
      for (const id of step) await applyEntry(writer, entries.entry(id));
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
 * Each hard link is a step of its own.
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
