// modprobe: loads a kernel module (qemu_fw_cfg for the QEMU platform). The only caller of modprobe.

import { run } from "./exec";

export async function loadKernelModule(name: string): Promise<void> {
  await run("modprobe", ["--", name]);
}
