// VirtualBox: the config is the guest property `/Ignition/Config`, read with
// VBoxControl (the Guest Additions' tool; it must be in the initramfs). As
// in Ignition, a non-empty `/Ignition/Config/Encoding` is refused (no
// encoding is defined yet), and after a successful first boot both
// properties are deleted, so that local users cannot read the config's
// secrets later.

import { FlintError } from "../errors";
import { log } from "../log";
import { run } from "../system/exec";
import type { Platform } from "./types";

const CONFIG = "/Ignition/Config";
const ENCODING = "/Ignition/Config/Encoding";

async function vboxControl(args: string[]) {
  try {
    return await run("VBoxControl", ["--nologo", "guestproperty", ...args], { okCodes: [1, 2] });
  } catch (e) {
    if (e instanceof FlintError && /not installed/.test(e.message)) throw new FlintError("VBoxControl is not installed: the virtualbox platform needs it (the Guest Additions) in the initramfs", "virtualbox platform");
    throw e;
  }
}

/** The property's value, or `undefined` when it is not set. */
export async function readGuestProperty(name: string): Promise<string | undefined> {
  const result = await vboxControl(["get", name]);
  const value = /^Value: ([\s\S]*?)\n?$/.exec(result.stdout);
  if (result.code === 0 && value) return value[1];
  if (/No value set/i.test(result.stdout + result.stderr)) return undefined;
  throw new FlintError(`VBoxControl guestproperty get failed (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}`, name);
}

async function deleteGuestProperty(name: string): Promise<void> {
  const result = await vboxControl(["delete", name]);
  if (result.code !== 0) throw new FlintError(`cannot delete the guest property (exit ${result.code}): ${result.stderr.trim() || result.stdout.trim()}; is it read-only to the guest?`, name);
}

export const platform: Platform = {
  id: "virtualbox",
  needsNetwork: false,
  async fetchConfig() {
    const encoding = await readGuestProperty(ENCODING);
    if (encoding) throw new FlintError(`unsupported encoding ${JSON.stringify(encoding)} (none is defined)`, ENCODING);
    const config = await readGuestProperty(CONFIG);
    if (config === undefined) {
      log.info(`the guest property ${CONFIG} is not set; no config`);
      return undefined;
    }
    log.info("found the config in the VirtualBox guest property", { property: CONFIG });
    return Buffer.from(config, "utf8");
  },
  async deleteConfig() {
    log.info("deleting the config from the VirtualBox guest properties");
    await deleteGuestProperty(ENCODING);
    await deleteGuestProperty(CONFIG);
  },
};
