// The machine dump printed under the failure box when flint.log=debug: the
// platform (system, BIOS and board data), block devices with their labels
// and partition tables, what is mounted, and network interfaces with their
// addresses, so that a serial console alone is enough to see why a stage
// failed. Never allowed to throw.
//
// systeminformation gathers the system/BIOS/DMI data, block devices and
// network interfaces. It is loaded here only, and this module only on a
// failure at debug level, so a normal boot never loads it; in dist/ its
// parts are a file of their own, flint-sysinfo.js beside flint.js
// (build.mjs), so a normal boot does not even read them. What it does not
// show is read directly: each disk's partition table (GPT names, types and
// GUIDs, read from the disk), udev's names, QEMU fw_cfg entries, the default
// route and the name servers.

import { closeSync, openSync, readdirSync, readFileSync, readlinkSync, readSync } from "node:fs";
import { basename, join } from "node:path";
import { guidAt } from "../devices/gpt";

export interface DiagnosticsPaths {
  sys: string;
  proc: string;
  dev: string;
  etc: string;
}

type SystemInformation = typeof import("systeminformation");

/** systeminformation, loaded on first use; a missing flint-sysinfo.js only leaves its sections unavailable. */
function sysinfo(): SystemInformation {
  // A plain require, resolved at run time: esbuild keeps it out of flint.js.
  return require("systeminformation") as SystemInformation;
}

const DEFAULT_PATHS: DiagnosticsPaths = { sys: "/sys", proc: "/proc", dev: "/dev", etc: "/etc" };

export async function dumpMachine(write: (line: string) => void, paths: DiagnosticsPaths = DEFAULT_PATHS): Promise<void> {
  const sections: [string, () => Promise<string[]> | string[]][] = [
    ["platform", () => platformLines(paths)],
    ["block devices", () => blockDeviceLines(paths)],
    ["mounts", () => mountLines(paths)],
    ["network", () => networkLines(paths)],
  ];
  write("---- machine dump (flint.log=debug) ----");
  for (const [title, lines] of sections) {
    write(`[${title}]`);
    try {
      for (const line of await lines()) write(`  ${line}`);
    } catch (e) {
      write(`  (unavailable: ${(e as Error).message})`);
    }
  }
  write("---- end of machine dump ----");
}

function readText(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch {
    return [];
  }
}

/** `key: value` for the fields that have a value. */
function fields(record: object, names: string[]): string {
  const values = record as Record<string, unknown>;
  return names
    .filter((n) => values[n] !== undefined && values[n] !== null && values[n] !== "" && values[n] !== "-")
    .map((n) => `${n}=${String(values[n])}`)
    .join(" ");
}

// Serial numbers and UUIDs are left out: they identify a machine and help no diagnosis.
export async function platformLines(paths: DiagnosticsPaths): Promise<string[]> {
  const si = sysinfo();
  const [system, bios, board] = await Promise.all([si.system(), si.bios(), si.baseboard()]);
  const lines = [
    `system: ${fields(system, ["manufacturer", "model", "version", "virtual", "virtualHost"]) || "unknown"}`,
    `BIOS: ${fields(bios, ["vendor", "version", "releaseDate"]) || "unknown"}`,
    `board: ${fields(board, ["manufacturer", "model", "version"]) || "unknown"}`,
  ];
  const kernel = readText(join(paths.proc, "sys", "kernel", "osrelease"));
  if (kernel) lines.push(`kernel: ${kernel}`);
  const fwcfg = list(join(paths.sys, "firmware", "qemu_fw_cfg", "by_name", "opt"));
  if (fwcfg.length > 0) lines.push(`qemu fw_cfg entries: ${fwcfg.map((e) => `opt/${e}`).join(", ")}`);
  return lines;
}

/** Every /dev/disk/by-* name pointing at each device, e.g. vda1 → ["partlabel=EFI-SYSTEM", …]. */
function deviceNames(paths: DiagnosticsPaths): Map<string, string[]> {
  const names = new Map<string, string[]>();
  for (const kind of ["label", "partlabel", "uuid", "partuuid"]) {
    const dir = join(paths.dev, "disk", `by-${kind}`);
    for (const entry of list(dir)) {
      try {
        const device = basename(readlinkSync(join(dir, entry)));
        // udev escapes odd characters (\x20); show them as they are.
        const name = entry.replace(/\\x([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
        names.set(device, [...(names.get(device) ?? []), `${kind}=${name}`]);
      } catch {
        // a dangling link tells nothing
      }
    }
  }
  return names;
}

function humanSize(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** systeminformation's block devices (from lsblk), each disk followed by its partition table as read from the disk. */
export async function blockDeviceLines(paths: DiagnosticsPaths): Promise<string[]> {
  const si = sysinfo();
  const devices = (await si.blockDevices()).filter((d) => d.size > 0);
  const names = deviceNames(paths);
  const lines: string[] = [];
  for (const d of devices) {
    const mounted = d.mount ? ` mounted at ${d.mount}` : "";
    const udev = names.get(d.name);
    lines.push(`${d.name}: ${d.type} ${humanSize(d.size)} ${fields(d, ["fsType", "label", "model", "protocol"])}${mounted}${udev?.length ? ` [${udev.join(" ")}]` : ""}`.replace(/ +/g, " "));
    if (d.type !== "disk" && d.type !== "loop") continue;
    const table = readPartitionTable(join(paths.dev, d.name));
    if (!table) continue;
    lines.push(`  ${table.summary}`);
    for (const [number, entry] of table.partitions) lines.push(`  #${number} ${entry}`);
  }
  return lines.length > 0 ? lines : ["no block devices"];
}

interface PartitionTable {
  summary: string;
  /** Partition number → "type … name …". */
  partitions: Map<number, string>;
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  const got = readSync(fd, buf, 0, length, position);
  return buf.subarray(0, got);
}

const TYPE_NAMES: Record<string, string> = {
  "c12a7328-f81f-11d2-ba4b-00a0c93ec93b": "EFI system",
  "0fc63daf-8483-4772-8e79-3d69d8477de4": "Linux data",
  "21686148-6449-6e6f-744e-656564454649": "BIOS boot",
  "0657fd6d-a4ab-43c4-84e5-0933c84b4f4f": "Linux swap",
  "a19d880f-05fc-4d3b-a006-743f0f84911e": "Linux RAID",
  "ca7d7ccb-63ed-4c53-861c-1742536059cc": "Linux LUKS",
  "4f68bce3-e8cd-4db1-96e7-fbcaf984b709": "Linux root (x86-64)",
  "5dfbf5f4-2848-4bac-aa5e-0d9a20b745a6": "Flatcar /usr",
  "be9067b9-ea49-4f15-b4f6-f36f8c9e1818": "Flatcar root",
};

/** The logical sector sizes a GPT may have been written with: its header sits in the second sector. */
const SECTOR_SIZES = [512, 4096, 1024, 2048];

/** The GPT (or a note about an MBR) of a whole disk or disk image, read from its first sectors, whatever its sector size. */
export function readPartitionTable(device: string): PartitionTable | undefined {
  let fd: number;
  try {
    fd = openSync(device, "r");
  } catch {
    return undefined;
  }
  try {
    const found = SECTOR_SIZES.map((size) => ({ size, header: readAt(fd, size, 512) })).find(({ header }) => header.length >= 92 && header.toString("latin1", 0, 8) === "EFI PART");
    if (!found) {
      const mbr = readAt(fd, 0, 512);
      if (mbr.length === 512 && mbr[510] === 0x55 && mbr[511] === 0xaa) {
        const types = [0, 1, 2, 3].map((i) => mbr[446 + i * 16 + 4]!).filter((t) => t !== 0);
        return { summary: `MBR partition table, types ${types.map((t) => `0x${t.toString(16)}`).join(" ") || "none"}`, partitions: new Map() };
      }
      return { summary: "no partition table", partitions: new Map() };
    }
    const { size: sectorSize, header } = found;
    const entriesLba = Number(header.readBigUInt64LE(72));
    const count = Math.min(header.readUInt32LE(80), 256);
    const size = header.readUInt32LE(84);
    const partitions = new Map<number, string>();
    if (size >= 128 && size <= 4096) {
      const entries = readAt(fd, entriesLba * sectorSize, count * size);
      for (let i = 0; i < count && (i + 1) * size <= entries.length; i++) {
        const at = i * size;
        const type = guidAt(entries, at);
        if (type === "00000000-0000-0000-0000-000000000000") continue;
        const first = entries.readBigUInt64LE(at + 32);
        const last = entries.readBigUInt64LE(at + 40);
        const name = entries.toString("utf16le", at + 56, at + 128).replace(/\0.*$/s, "");
        partitions.set(i + 1, `type=${TYPE_NAMES[type] ?? type} name=${JSON.stringify(name)} sectors=${first}-${last} guid=${guidAt(entries, at + 16)}`);
      }
    }
    const sectors = sectorSize === 512 ? "" : ` (${sectorSize}-byte sectors)`;
    return { summary: `GPT disk GUID ${guidAt(header, 56)}, ${partitions.size} partition(s)${sectors}`, partitions };
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

export function mountLines(paths: DiagnosticsPaths): string[] {
  const mounts = readText(join(paths.proc, "self", "mounts")) ?? "";
  const virtual = new Set(["proc", "sysfs", "devtmpfs", "devpts", "securityfs", "cgroup2", "cgroup", "pstore", "bpf", "debugfs", "tracefs", "configfs", "mqueue", "hugetlbfs", "efivarfs", "autofs", "fusectl", "binfmt_misc"]);
  const lines = mounts
    .split("\n")
    .map((l) => l.split(" "))
    .filter((f) => f.length >= 4 && !virtual.has(f[2]!) && !f[1]!.startsWith("/run/credentials/"))
    .map(([source, target, type, options]) => `${target} ${type} from ${source} (${options!.split(",").slice(0, 2).join(",")})`);
  return lines.length > 0 ? lines : ["nothing mounted"];
}

/** systeminformation's interfaces with their addresses, then the default route and name servers as this machine has them. */
export async function networkLines(paths: DiagnosticsPaths): Promise<string[]> {
  const si = sysinfo();
  const found = await si.networkInterfaces();
  const lines = (Array.isArray(found) ? found : [found]).map((n) => {
    const addresses = [n.ip4 && `${n.ip4}/${n.ip4subnet}`, n.ip6].filter(Boolean).join(" ") || "no address";
    return `${n.iface}: ${n.operstate} ${fields(n, ["mac", "type", "speed", "mtu"])} ${addresses}`.replace(/ +/g, " ");
  });
  const route = (readText(join(paths.proc, "net", "route")) ?? "").split("\n").slice(1).map((l) => l.split("\t")).find((f) => f[1] === "00000000");
  if (route) lines.push(`default route via ${Buffer.from(route[2]!, "hex").reverse().join(".")} dev ${route[0]}`);
  const servers = (readText(join(paths.etc, "resolv.conf")) ?? "").split("\n").filter((l) => l.startsWith("nameserver")).map((l) => l.split(/\s+/)[1]);
  if (servers.length > 0) lines.push(`nameservers: ${servers.join(" ")}`);
  return lines.length > 0 ? lines : ["no network interfaces"];
}
