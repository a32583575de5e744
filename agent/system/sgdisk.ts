// sgdisk: changing GPT partition tables. The only caller of sgdisk.

import { run } from "./exec";

/** One change to a table, in the order sgdisk applies them. */
export type SgdiskOp =
  | { op: "clear" }
  | { op: "move-backup-to-end" }
  | { op: "delete"; number: number }
  | { op: "create"; number: number; start: number; end: number; typeGuid?: string; guid?: string; label?: string };

/** The sgdisk arguments for a list of changes (exported for `flint plan` and tests). */
export function sgdiskArgs(ops: SgdiskOp[]): string[] {
  const args: string[] = [];
  for (const op of ops) {
    if (op.op === "clear") args.push("--clear");
    else if (op.op === "move-backup-to-end") args.push("--move-second-header");
    else if (op.op === "delete") args.push(`--delete=${op.number}`);
    else {
      args.push(`--new=${op.number}:${op.start}:${op.end}`);
      if (op.label !== undefined) args.push(`--change-name=${op.number}:${op.label}`);
      if (op.typeGuid) args.push(`--typecode=${op.number}:${op.typeGuid}`);
      if (op.guid) args.push(`--partition-guid=${op.number}:${op.guid}`);
    }
  }
  return args;
}

/** Applies all changes to `device` in one invocation. */
export async function apply(device: string, ops: SgdiskOp[]): Promise<void> {
  if (ops.length === 0) return;
  await run("sgdisk", [...sgdiskArgs(ops), "--", device]);
}
