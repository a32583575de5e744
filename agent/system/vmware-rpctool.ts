// vmware-rpctool: reads VMware guestinfo variables. The only caller of vmware-rpctool.

import { FlintError } from "../errors";
import { run } from "./exec";

/** The variable's value, or `undefined` when it is not set (the tool exits 1). */
export async function readGuestInfo(key: string): Promise<string | undefined> {
  let result;
  try {
    result = await run("vmware-rpctool", [`info-get ${key}`], { okCodes: [1] });
  } catch (e) {
    if (e instanceof FlintError && /not installed/.test(e.message)) {
      throw new FlintError("vmware-rpctool is not installed: the vmware platform needs it (open-vm-tools) in the initramfs", "vmware platform");
    }
    throw e;
  }
  return result.code === 0 ? result.stdout.replace(/\n$/, "") : undefined;
}

/** Sets a guestinfo variable (guestinfo cannot be unset from the guest, only overwritten). */
export async function writeGuestInfo(key: string, value: string): Promise<void> {
  await run("vmware-rpctool", [`info-set ${key} ${value}`], { secretArgs: [0] });
}
