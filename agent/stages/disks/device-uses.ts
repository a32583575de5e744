// Before any disk is touched: every device the config names is resolved to
// its identity (major:minor), so that one device reached under two names
// (a symlink, /dev/disk/by-*) cannot be formatted twice, or partitioned and
// then overwritten whole. Devices this run creates (new partitions, RAID
// arrays, LUKS mappings) do not exist yet and are not compared.

import type { Storage } from "../../config/types";
import { deviceIdentity, type DeviceIdentity } from "../../devices/identity";
import { FlintError } from "../../errors";

type UseKind = "disk" | "raid member" | "LUKS device" | "filesystem";

interface DeviceUse {
  kind: UseKind;
  /** JSON path of the config field naming the device. */
  where: string;
  /** The device as the config names it. */
  path: string;
  /** For a disk: whether the config lays out partitions on it. */
  partitioned?: boolean;
}

function usesOf(storage: Storage): DeviceUse[] {
  const uses: DeviceUse[] = [];
  storage.disks?.forEach((d, i) => uses.push({ kind: "disk", where: `storage.disks.${i}.device`, path: d.device, partitioned: (d.partitions ?? []).some((p) => p.shouldExist !== false) }));
  storage.raid?.forEach((r, i) => r.devices?.forEach((d, j) => uses.push({ kind: "raid member", where: `storage.raid.${i}.devices.${j}`, path: d })));
  storage.luks?.forEach((l, i) => l.device && uses.push({ kind: "LUKS device", where: `storage.luks.${i}.device`, path: l.device }));
  storage.filesystems?.forEach((f, i) => {
    if (f.device && (f.format as string | undefined) !== "virtiofs") uses.push({ kind: "filesystem", where: `storage.filesystems.${i}.device`, path: f.device });
  });
  return uses;
}

/** A bare disk entry (no partitions: wipeTable at most) makes room for one whole-disk use, as in Ignition. */
function compatible(a: DeviceUse, b: DeviceUse): boolean {
  if (a.kind === "disk" && b.kind === "disk") return false;
  if (a.kind === "disk") return !a.partitioned;
  if (b.kind === "disk") return !b.partitioned;
  return false;
}

function describe(use: DeviceUse): string {
  return `${use.where} (${use.kind} ${use.path})`;
}

function clash(a: DeviceUse, b: DeviceUse, device: DeviceIdentity, why: string): FlintError {
  return new FlintError(`${describe(b)} and ${describe(a)} are the same device ${device.node} (${device.id}): ${why}`, b.where);
}

/** Fails, naming both entries and the device, when two uses of the config would destroy each other. */
export async function checkDeviceUses(storage: Storage): Promise<void> {
  const seen = new Map<string, { use: DeviceUse; device: DeviceIdentity }[]>();
  const byDisk = new Map<string, { use: DeviceUse; device: DeviceIdentity }[]>();
  const resolved: { use: DeviceUse; device: DeviceIdentity }[] = [];
  for (const use of usesOf(storage)) {
    const device = await deviceIdentity(use.path);
    if (!device) continue;
    const entry = { use, device };
    for (const earlier of seen.get(device.id) ?? []) {
      if (!compatible(earlier.use, use)) {
        const why =
          earlier.use.kind === "disk" && use.kind === "disk"
            ? "one disk cannot have two partition layouts"
            : earlier.use.kind === "disk" || use.kind === "disk"
              ? "a whole-disk use would destroy the partitions laid out on it"
              : "each would overwrite the other";
        throw clash(earlier.use, use, device, why);
      }
    }
    seen.set(device.id, [...(seen.get(device.id) ?? []), entry]);
    if (device.diskId) byDisk.set(device.diskId, [...(byDisk.get(device.diskId) ?? []), entry]);
    resolved.push(entry);
  }
  // A whole-disk filesystem, LUKS volume or RAID member destroys the partitions other entries use.
  for (const whole of resolved) {
    if (whole.use.kind === "disk") continue;
    const inside = byDisk.get(whole.device.id)?.[0];
    if (inside) {
      throw new FlintError(
        `${describe(whole.use)} is the whole disk ${whole.device.node} (${whole.device.id}), and ${describe(inside.use)} is its partition ${inside.device.node} (${inside.device.id}): writing the whole disk would destroy it`,
        whole.use.where,
      );
    }
  }
}
