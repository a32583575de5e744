// cryptsetup: formatting and opening LUKS2 volumes with a key file.
// The only caller of cryptsetup. Keys are passed as files, never as arguments.

import { DEVICE_TIMEOUT_MS, run } from "./exec";

export interface LuksFormat {
  device: string;
  keyFile: string;
  label?: string;
  uuid?: string;
  options: string[];
}

export async function luksFormat(f: LuksFormat): Promise<void> {
  await run("cryptsetup", [
    "luksFormat",
    "--batch-mode",
    "--type",
    "luks2",
    `--key-file=${f.keyFile}`,
    ...(f.label !== undefined ? [`--label=${f.label}`] : []),
    ...(f.uuid !== undefined ? [`--uuid=${f.uuid}`] : []),
    ...f.options,
    "--",
    f.device,
  ], { timeoutMs: DEVICE_TIMEOUT_MS });
}

export async function open(device: string, name: string, keyFile: string, options: string[]): Promise<void> {
  await run("cryptsetup", ["open", "--type", "luks2", `--key-file=${keyFile}`, ...options, "--", device, name]);
}

/** Whether `keyFile` unlocks `device` (checks the key without needing device-mapper). */
export async function keyUnlocks(device: string, keyFile: string): Promise<boolean> {
  const result = await run("cryptsetup", ["open", "--test-passphrase", `--key-file=${keyFile}`, "--", device], { okCodes: [1, 2] });
  return result.code === 0;
}

/** Whether `device` holds a LUKS header. */
export async function isLuks(device: string): Promise<boolean> {
  const result = await run("cryptsetup", ["isLuks", "--", device], { okCodes: [1] });
  return result.code === 0;
}

export async function close(name: string): Promise<void> {
  await run("cryptsetup", ["close", "--", name]);
}
