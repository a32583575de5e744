// `flint quench [--esp DIR | --esp-device DEV | --esp-label L] [--cmdline-file F]`: delete the
// first-boot flags from the ESP (see stages/quench.ts).

import { stat } from "node:fs/promises";
import { loadBootParams } from "../boot/cmdline";
import { parseCommandArgs } from "../cli";
import { FlintError, UsageError } from "../errors";
import { directoryEsp, findEspDevice, openEspDevice, quench, type EspFiles } from "../stages/quench";

export async function run([command, ...argv]: string[]): Promise<number> {
  const { values } = parseCommandArgs(command!, argv, {
    esp: { type: "string" },
    "esp-device": { type: "string" },
    // The ESP's filesystem label when it is not Flatcar's EFI-SYSTEM.
    "esp-label": { type: "string" },
    "cmdline-file": { type: "string" },
  });
  if (values.esp !== undefined && values["esp-device"] !== undefined) throw new UsageError(`flint ${command}: --esp and --esp-device exclude each other`);
  const params = loadBootParams(values["cmdline-file"]);
  let esp: EspFiles;
  if (values.esp !== undefined) {
    const info = await stat(values.esp).catch(() => undefined);
    if (!info?.isDirectory()) throw new FlintError("not a directory", `--esp ${values.esp}`);
    esp = directoryEsp(values.esp);
  }
  else esp = await openEspDevice(values["esp-device"] ?? (await findEspDevice(values["esp-label"])));
  await quench(esp, { flagRequired: params.firstBootDetected });
  return 0;
}
