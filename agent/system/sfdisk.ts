// sfdisk: reading a disk's partition table as JSON (sgdisk makes the changes).
// The only caller of sfdisk.

import { FlintError } from "../errors";
import { run } from "./exec";

export interface TablePartition {
  number: number;
  /** First sector. */
  start: number;
  /** Length in sectors. */
  size: number;
  /** Partition type GUID, uppercase as sfdisk prints it. */
  typeGuid: string;
  /** Unique partition GUID. */
  guid: string;
  label: string;
}

export interface PartitionTable {
  /** "gpt" or "dos". */
  kind: string;
  /** Disk GUID (GPT) or disk identifier (MBR). */
  id: string;
  firstUsable: number;
  lastUsable: number;
  sectorSize: number;
  partitions: TablePartition[];
}

interface SfdiskJson {
  partitiontable: {
    label: string;
    id?: string;
    firstlba?: number;
    lastlba?: number;
    sectorsize?: number;
    partitions?: { node: string; start: number; size: number; type: string; uuid?: string; name?: string }[];
  };
}

/** The table on `device`, or undefined when it has none sfdisk recognises. */
export async function readTable(device: string): Promise<PartitionTable | undefined> {
  const result = await run("sfdisk", ["--json", "--", device], { okCodes: [1] });
  if (result.code === 1) {
    if (/does not contain a recognized partition table/.test(result.stderr)) return undefined;
    throw new FlintError(`sfdisk failed: ${result.stderr.trim()}`, device);
  }
  const table = (JSON.parse(result.stdout) as SfdiskJson).partitiontable;
  return {
    kind: table.label,
    id: (table.id ?? "").toLowerCase(),
    firstUsable: table.firstlba ?? 0,
    lastUsable: table.lastlba ?? 0,
    sectorSize: table.sectorsize ?? 512,
    partitions: (table.partitions ?? []).map((p) => ({
      number: Number(/(\d+)$/.exec(p.node)?.[1] ?? NaN),
      start: p.start,
      size: p.size,
      typeGuid: p.type.toLowerCase(),
      guid: (p.uuid ?? "").toLowerCase(),
      label: p.name ?? "",
    })),
  };
}
