// A GPT's disk GUID, read and changed in place by Flint itself: what
// randomize-guid does on every first boot. Under emulation each tool a stage
// runs costs a noticeable fraction of a second (and sgdisk also sleeps a
// second before it asks the kernel to re-read the table), while this is a
// few reads and writes of known sectors.
//
// Only the headers change: the partition entries, and so their CRC, stay as
// they are. The change is what `sgdisk --move-second-header --disk-guid=G`
// makes (a test compares the two byte for byte): the backup header and
// entries go to the end of a disk larger than the image, the last usable
// sector follows them, and a protective MBR's size grows with the disk.

import { open, readFile, type FileHandle } from "node:fs/promises";
import { FlintError } from "../errors";
import { majorMinor } from "./identity";

const SIGNATURE = "EFI PART";
/** Where to look for a header in a plain file, which has no sector size of its own. */
const FILE_SECTOR_SIZES = [512, 4096];

/** The GPT's mixed-endian GUID at `offset` as text. */
export function guidAt(buf: Buffer, offset: number): string {
  const hex = (start: number, end: number, reverse: boolean) => {
    const bytes = [...buf.subarray(offset + start, offset + end)];
    return (reverse ? bytes.reverse() : bytes).map((b) => b.toString(16).padStart(2, "0")).join("");
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`;
}

function guidBytes(guid: string): Buffer {
  const hex = guid.replace(/-/g, "");
  if (!/^[0-9a-f]{32}$/i.test(hex)) throw new FlintError(`not a GUID: ${JSON.stringify(guid)}`, "GPT");
  const b = Buffer.from(hex, "hex");
  return Buffer.concat([b.subarray(0, 4).reverse(), b.subarray(4, 6).reverse(), b.subarray(6, 8).reverse(), b.subarray(8)]);
}

let crcTable: Uint32Array | undefined;
/** CRC-32 (IEEE, as the GPT uses it). */
export function crc32(data: Buffer): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const byte of data) crc = crcTable[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** A disk's size and logical sector size: from sysfs for a block device, from the file for an image. */
async function geometry(fh: FileHandle, device: string): Promise<{ bytes: number; sectorSizes: number[] }> {
  const info = await fh.stat({ bigint: true });
  if (info.isFile()) return { bytes: Number(info.size), sectorSizes: FILE_SECTOR_SIZES };
  if (!info.isBlockDevice()) throw new FlintError("neither a block device nor a disk image", device);
  const sys = `/sys/dev/block/${majorMinor(info.rdev)}`;
  const sectors = Number((await readFile(`${sys}/size`, "utf8")).trim());
  const sectorSize = Number((await readFile(`${sys}/queue/logical_block_size`, "utf8").catch(() => "512")).trim());
  return { bytes: sectors * 512, sectorSizes: [sectorSize] };
}

async function readAt(fh: FileHandle, position: number, length: number): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  const { bytesRead } = await fh.read(buf, 0, length, position);
  return buf.subarray(0, bytesRead);
}

async function writeAt(fh: FileHandle, position: number, data: Buffer, device: string): Promise<void> {
  const { bytesWritten } = await fh.write(data, 0, data.length, position);
  if (bytesWritten !== data.length) throw new FlintError(`short write at byte ${position}`, device);
}

interface Primary {
  sectorSize: number;
  /** The header itself (its own size, usually 92 bytes). */
  header: Buffer;
}

/** The primary header, when its signature and CRC are right. */
async function readPrimary(fh: FileHandle, sectorSizes: number[]): Promise<Primary | undefined> {
  for (const sectorSize of sectorSizes) {
    const sector = await readAt(fh, sectorSize, sectorSize);
    if (sector.length < 92 || sector.toString("latin1", 0, 8) !== SIGNATURE) continue;
    const size = sector.readUInt32LE(12);
    if (size < 92 || size > sector.length) continue;
    const header = Buffer.from(sector.subarray(0, size));
    const stored = header.readUInt32LE(16);
    header.writeUInt32LE(0, 16);
    if (crc32(header) !== stored) continue;
    header.writeUInt32LE(stored, 16);
    return { sectorSize, header };
  }
  return undefined;
}

/** The disk GUID of the GPT on `device` (a whole disk or an image), or undefined when it has no valid one. */
export async function readDiskGuid(device: string): Promise<string | undefined> {
  let fh: FileHandle;
  try {
    fh = await open(device, "r");
  } catch {
    return undefined;
  }
  try {
    const { sectorSizes } = await geometry(fh, device);
    const primary = await readPrimary(fh, sectorSizes);
    return primary ? guidAt(primary.header, 56) : undefined;
  } catch {
    return undefined;
  } finally {
    await fh.close();
  }
}

function withCrc(header: Buffer): Buffer {
  header.writeUInt32LE(0, 16);
  header.writeUInt32LE(crc32(header), 16);
  return header;
}

/** CHS address of `lba` in a protective MBR (255 heads, 63 sectors a track; all ones past what CHS reaches). */
function chs(lba: number): Buffer {
  if (lba >= 1024 * 255 * 63) return Buffer.from([0xff, 0xff, 0xff]);
  const cylinder = Math.floor(lba / (255 * 63));
  const rest = lba % (255 * 63);
  return Buffer.from([Math.floor(rest / 63), (rest % 63) + 1 + ((cylinder >> 8) << 6), cylinder & 0xff]);
}

/**
 * Gives the GPT on `device` the disk GUID `guid`, with its backup at the end of
 * the disk. The backup is written first and the primary last, each synced, so
 * that a crash in between leaves the old table whole (the old backup is where
 * the old primary says).
 */
export async function setDiskGuid(device: string, guid: string): Promise<void> {
  const fh = await open(device, "r+");
  try {
    const { bytes, sectorSizes } = await geometry(fh, device);
    const primary = await readPrimary(fh, sectorSizes);
    if (!primary) throw new FlintError("no valid primary GPT header; not touching the disk", device);
    const { sectorSize, header } = primary;
    const entriesLba = Number(header.readBigUInt64LE(72));
    const entriesBytes = header.readUInt32LE(80) * header.readUInt32LE(84);
    const entries = await readAt(fh, entriesLba * sectorSize, entriesBytes);
    if (entries.length !== entriesBytes || crc32(entries) !== header.readUInt32LE(88)) throw new FlintError("the GPT's partition entries do not match their CRC; not touching the disk", device);
    const lastLba = Math.floor(bytes / sectorSize) - 1;
    const entriesSectors = Math.ceil(entriesBytes / sectorSize);
    const lastUsable = lastLba - entriesSectors - 1;
    // No partition may end past where the backup goes (a disk smaller than its table says).
    const entrySize = header.readUInt32LE(84);
    for (let at = 0; entrySize >= 128 && at + entrySize <= entries.length; at += entrySize) {
      const used = entries.subarray(at, at + 16).some((b) => b !== 0);
      if (used && Number(entries.readBigUInt64LE(at + 40)) > lastUsable) throw new FlintError(`a partition ends past sector ${lastUsable}, where the backup GPT must go`, device);
    }

    const main = Buffer.from(header);
    guidBytes(guid).copy(main, 56);
    main.writeBigUInt64LE(BigInt(lastLba), 32);
    main.writeBigUInt64LE(BigInt(lastUsable), 48);
    const backup = Buffer.from(main);
    backup.writeBigUInt64LE(BigInt(lastLba), 24);
    backup.writeBigUInt64LE(1n, 32);
    backup.writeBigUInt64LE(BigInt(lastLba - entriesSectors), 72);

    await writeAt(fh, (lastLba - entriesSectors) * sectorSize, entries, device);
    await writeAt(fh, lastLba * sectorSize, withCrc(backup), device);
    await fh.datasync();

    // A protective MBR (one 0xEE entry from sector 1) covers the whole disk, as far as 32 bits reach.
    const mbr = await readAt(fh, 0, 512);
    const isProtective = mbr.length === 512 && mbr.readUInt16LE(510) === 0xaa55 && mbr[446 + 4] === 0xee && mbr.readUInt32LE(446 + 8) === 1 && [1, 2, 3].every((i) => mbr[446 + i * 16 + 4] === 0);
    if (isProtective) {
      const size = Math.min(lastLba, 0xffffffff);
      mbr.writeUInt32LE(size, 446 + 12);
      chs(size).copy(mbr, 446 + 5);
      await writeAt(fh, 0, mbr, device);
    }
    await writeAt(fh, sectorSize, withCrc(main), device);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}
