// kernelArguments (spec 3.3+): what would have to change on the kernel
// command line. Writing it is platform-specific (a GRUB or BLS file) and no
// writer exists yet, so a needed change is recorded and then fails clearly.

import { readFile } from "node:fs/promises";
import { tokenizeCmdline } from "../../boot/cmdline";
import type { KernelArguments } from "../../config/types";
import { FlintError } from "../../errors";
import type { StageContext } from "../context";
import { record } from "./record";

export interface KernelArgumentsChange {
  add: string[];
  remove: string[];
}

/** Arguments to add (wanted, absent) and to remove (unwanted, present), in config order. */
export function kernelArgumentsChange(wanted: KernelArguments, current: string[]): KernelArgumentsChange {
  const present = new Set(current);
  return {
    add: [...new Set(wanted.shouldExist ?? [])].filter((a) => !present.has(a)),
    remove: [...new Set(wanted.shouldNotExist ?? [])].filter((a) => present.has(a)),
  };
}

export async function applyKernelArguments(ctx: StageContext, wanted: KernelArguments | undefined, cmdlineFile = "/proc/cmdline"): Promise<void> {
  if (!wanted?.shouldExist?.length && !wanted?.shouldNotExist?.length) return;
  const current = tokenizeCmdline(await readFile(cmdlineFile, "utf8"));
  const change = kernelArgumentsChange(wanted, current);
  for (const arg of change.add) record(ctx, "karg-add", arg);
  for (const arg of change.remove) record(ctx, "karg-remove", arg);
  if (ctx.dryRun || (change.add.length === 0 && change.remove.length === 0)) return;
  const what = [change.add.length ? `add ${change.add.join(" ")}` : "", change.remove.length ? `remove ${change.remove.join(" ")}` : ""].filter(Boolean).join("; ");
  throw new FlintError(`the kernel command line needs a change (${what}) and this platform has no kernel-argument writer`, "kernelArguments");
}
