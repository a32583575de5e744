// mkfs.ext4, mkfs.xfs, mkfs.btrfs, mkfs.vfat and mkswap: making a filesystem
// (or swap area) with a label and uuid. The only caller of these tools.

import { FlintError } from "../errors";
import { DEVICE_TIMEOUT_MS, run } from "./exec";

export type MkfsFormat = "ext4" | "xfs" | "btrfs" | "vfat" | "swap";

export interface MkfsOptions {
  label?: string;
  uuid?: string;
  /** Passed through unchanged, before the `--` that ends the options. */
  options?: string[];
}

/** A vfat "uuid" is a 32-bit volume id, written XXXX-XXXX; mkfs.vfat wants it as 8 hex digits. */
export function vfatVolumeId(uuid: string): string {
  const m = /^([0-9a-f]{4})-?([0-9a-f]{4})$/i.exec(uuid);
  if (!m) throw new FlintError(`a vfat uuid is a volume id like 1234-ABCD (got ${JSON.stringify(uuid)})`, "uuid");
  return (m[1]! + m[2]!).toUpperCase();
}

/** The command and arguments that make `format` on `device`, forcing over old signatures. */
export function mkfsCommand(format: MkfsFormat, device: string, o: MkfsOptions): [string, string[]] {
  const args: string[] = [];
  switch (format) {
    case "ext4":
      args.push("-F");
      if (o.label !== undefined) args.push("-L", o.label);
      if (o.uuid !== undefined) args.push("-U", o.uuid);
      return ["mkfs.ext4", [...args, ...(o.options ?? []), "--", device]];
    case "xfs":
      args.push("-f");
      if (o.label !== undefined) args.push("-L", o.label);
      if (o.uuid !== undefined) args.push("-m", `uuid=${o.uuid}`);
      return ["mkfs.xfs", [...args, ...(o.options ?? []), "--", device]];
    case "btrfs":
      args.push("-f");
      if (o.label !== undefined) args.push("-L", o.label);
      if (o.uuid !== undefined) args.push("-U", o.uuid);
      return ["mkfs.btrfs", [...args, ...(o.options ?? []), "--", device]];
    case "vfat":
      if (o.label !== undefined) args.push("-n", o.label);
      if (o.uuid !== undefined) args.push("-i", vfatVolumeId(o.uuid));
      return ["mkfs.vfat", [...args, ...(o.options ?? []), "--", device]];
    case "swap":
      args.push("-f");
      if (o.label !== undefined) args.push("-L", o.label);
      if (o.uuid !== undefined) args.push("-U", o.uuid);
      return ["mkswap", [...args, ...(o.options ?? []), "--", device]];
  }
}

export async function makeFilesystem(format: MkfsFormat, device: string, options: MkfsOptions): Promise<void> {
  const [cmd, args] = mkfsCommand(format, device, options);
  try {
    await run(cmd, args, { timeoutMs: DEVICE_TIMEOUT_MS });
  } catch (e) {
    // mkfs tools follow their one-line reason with pages of usage text: keep the reason.
    if (e instanceof FlintError) throw new FlintError(e.message.split("\n")[0]!, e.where);
    throw e;
  }
}
