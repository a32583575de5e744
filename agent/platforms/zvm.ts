// IBM z/VM: the config is a spool file of type `ign` in the virtual reader
// (device 000c), as Ignition reads it: load `vmur`, bring the reader online
// (`chccwdev -e 000c`, after `cio_ignore -r 000c` if that fails), list the
// queue with `vmur li`, and receive the first `ign` file with `vmur re`.

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FlintError } from "../errors";
import { log } from "../log";
import { run } from "../system/exec";
import { loadKernelModule } from "../system/modprobe";
import type { Platform } from "./types";

const READER = "000c";

async function onlineReader(): Promise<void> {
  const online = await run("chccwdev", ["-e", READER], { okCodes: [1, 2, 3, 4, 5, 6, 7, 8, 9] });
  if (online.code !== 0) {
    await run("cio_ignore", ["-r", READER]);
    await run("chccwdev", ["-e", READER]);
  }
  await run("udevadm", ["settle"]);
}

/** `vmur li` lines: ORIGINID FILE CLASS RECORDS CPY HOLD DATE TIME NAME TYPE DIST; the spool ids of `ign` files with their names. */
export function ignitionSpoolFiles(listing: string): { spoolId: string; file: string }[] {
  const found: { spoolId: string; file: string }[] = [];
  for (const line of listing.split("\n")) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 11 || fields[10] !== "ign") continue;
    found.push({ spoolId: fields[1]!, file: `${fields[9]}.${fields[10]}` });
  }
  return found;
}

export const platform: Platform = {
  id: "zvm",
  needsNetwork: false,
  async fetchConfig() {
    await loadKernelModule("vmur");
    await onlineReader();
    const [first] = ignitionSpoolFiles((await run("vmur", ["li"])).stdout);
    if (!first) {
      log.info("no spool file of type ign in the z/VM reader; no config");
      return undefined;
    }
    if (!/^[\w.+-]+$/.test(first.file)) throw new FlintError("the spool file's name is not a plain file name", `z/VM spool file ${first.spoolId}`);
    const dir = await mkdtemp(join(tmpdir(), "flint-zvm-"));
    try {
      await run("vmur", ["re", "-f", first.spoolId, join(dir, first.file)]);
      log.info("found the config in the z/VM reader", { spool: first.spoolId, file: first.file });
      const raw = await readFile(join(dir, first.file));
      // The reader pads records with NULs.
      let start = 0;
      let end = raw.length;
      while (start < end && raw[start] === 0) start++;
      while (end > start && raw[end - 1] === 0) end--;
      return raw.subarray(start, end);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  },
};
