// Shared pieces of the disks-stage tests: running the stage on a config and
// reading a loop disk's table back with the real tools.

import type { Config } from "../../../agent/config/types";
import type { Action, StageContext } from "../../../agent/stages/context";
import { runDisksStage } from "../../../agent/stages/disks/index";
import { sh } from "../../helpers/loop";

export function storageConfig(storage: Config["storage"]): Config {
  return { ignition: { version: "3.4.0" }, storage } as Config;
}

export async function runStage(config: Config, options: { dryRun?: boolean; root?: string; luksKeyDir?: string } = {}): Promise<Action[]> {
  const actions: Action[] = [];
  const context: StageContext = { root: options.root ?? "/nonexistent-root", dryRun: options.dryRun ?? false, actions };
  await runDisksStage(config, context, { luksKeyDir: options.luksKeyDir });
  return actions;
}

export interface TableEntry {
  number: number;
  start: number;
  size: number;
  type: string;
  guid: string;
  label: string;
}

/** The partition table as sfdisk reads it from the device. */
export function readTable(device: string): { id: string; partitions: TableEntry[] } {
  const json = JSON.parse(sh("sfdisk", ["--json", device])) as {
    partitiontable: { id: string; partitions?: { node: string; start: number; size: number; type: string; uuid: string; name?: string }[] };
  };
  return {
    id: json.partitiontable.id.toLowerCase(),
    partitions: (json.partitiontable.partitions ?? []).map((p) => ({
      number: Number(/(\d+)$/.exec(p.node)![1]),
      start: p.start,
      size: p.size,
      type: p.type.toLowerCase(),
      guid: p.uuid.toLowerCase(),
      label: p.name ?? "",
    })),
  };
}

/** `sgdisk -p` output, compared whole to prove a failed run changed nothing. */
export function printTable(device: string): string {
  return sh("sgdisk", ["-p", device]);
}

/** blkid's view of a device: TYPE, LABEL, UUID… */
export function blkid(device: string): Record<string, string> {
  let out = "";
  try {
    out = sh("blkid", ["-p", "-o", "export", device]);
  } catch {
    return {};
  }
  return Object.fromEntries(out.split("\n").filter((l) => l.includes("=")).map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

export const MiB = 2048; // sectors of 512 bytes
