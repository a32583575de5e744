// blkid: what is on a block device (filesystem type, label, uuid, partition
// table) and which devices carry a given label. The only caller of blkid.

import { run } from "./exec";

/** `blkid -p -o export` fields of one device: TYPE, LABEL, UUID, PTTYPE, PTUUID… */
export type ProbeResult = Record<string, string>;

/** Parses `KEY=value` lines as printed by `-o export`. */
export function parseExport(text: string): ProbeResult {
  const fields: ProbeResult = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) fields[line.slice(0, eq)] = line.slice(eq + 1).replace(/\\(.)/g, "$1");
  }
  return fields;
}

/**
 * Probes the device itself (`-p`: low-level, bypassing the cache, so a
 * filesystem made a moment ago is seen). An empty result means nothing was
 * recognised (blkid exits 2 then).
 */
export async function probe(device: string): Promise<ProbeResult> {
  const result = await run("blkid", ["-p", "-o", "export", "--", device], { okCodes: [2] });
  return result.code === 2 ? {} : parseExport(result.stdout);
}

/** Devices whose filesystem label is `label`, scanning all block devices without the cache. */
export async function devicesWithLabel(label: string): Promise<string[]> {
  const result = await run("blkid", ["-c", "/dev/null", "-t", `LABEL=${label}`, "-o", "device"], { okCodes: [2] });
  return result.stdout.split("\n").map((s) => s.trim()).filter(Boolean);
}
