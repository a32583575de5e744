// `flint randomize-guid [--guid G] [--cmdline-file F] [--device DEV]…`: give
// the disk with the placeholder GUID a random one (see stages/randomize-guid.ts).

import { loadBootParams } from "../boot/cmdline";
import { parseCommandArgs } from "../cli";
import { UsageError } from "../errors";
import { log } from "../log";
import { randomizeDiskGuid } from "../stages/randomize-guid";

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export async function run([command, ...argv]: string[]): Promise<number> {
  const { values } = parseCommandArgs(command!, argv, {
    guid: { type: "string" },
    "cmdline-file": { type: "string" },
    // Restricts the scan to these devices (tests, unusual machines); the default scans every disk.
    device: { type: "string", multiple: true },
  });
  let guid = values.guid;
  if (guid !== undefined && !GUID.test(guid)) throw new UsageError(`flint ${command}: --guid must be a GUID (got ${JSON.stringify(guid)})`);
  if (guid === undefined) {
    guid = loadBootParams(values["cmdline-file"]).randomizeGuid;
    if (guid === undefined) {
      log.info("no randomize_guid on the kernel command line; nothing to do");
      return 0;
    }
  }
  await randomizeDiskGuid(guid, { devices: values.device });
  return 0;
}
