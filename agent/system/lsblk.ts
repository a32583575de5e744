// lsblk: sizes and partition-table ids of block devices. The only caller of lsblk.

import { run } from "./exec";

export interface BlockDevice {
  /** `/dev/…` node. */
  path: string;
  sizeBytes: number;
  logicalSectorSize: number;
  /** GPT disk GUID or MBR id, lowercase; empty without a table. */
  ptuuid: string;
  /** disk, part, loop, raid1, crypt… */
  type: string;
}

interface LsblkJson {
  blockdevices: { path: string; size: number | string; "log-sec": number | string; ptuuid: string | null; type: string }[];
}

function parse(stdout: string): BlockDevice[] {
  return (JSON.parse(stdout) as LsblkJson).blockdevices.map((d) => ({
    path: d.path,
    sizeBytes: Number(d.size),
    logicalSectorSize: Number(d["log-sec"]),
    ptuuid: (d.ptuuid ?? "").toLowerCase(),
    type: d.type,
  }));
}

const COLUMNS = "PATH,SIZE,LOG-SEC,PTUUID,TYPE";

/** One device (not its children). */
export async function describe(device: string): Promise<BlockDevice> {
  const result = await run("lsblk", ["--json", "--bytes", "--nodeps", "--output", COLUMNS, "--", device]);
  return parse(result.stdout)[0]!;
}

