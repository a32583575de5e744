// Where platforms look on the local machine; each place can be moved by an
// environment variable so tests can build a fake machine in a temp directory.

import type { PlatformPaths } from "./types";

export function platformPaths(env: NodeJS.ProcessEnv = process.env): PlatformPaths {
  return {
    sysfs: env.FLINT_SYSFS_ROOT || "/sys",
    lib: env.FLINT_LIB_DIR || "/usr/lib/flint",
    oem: env.FLINT_OEM_DIR || "/usr/share/oem",
    oemDevice: env.FLINT_OEM_DEVICE || (env.FLINT_OEM_DIR ? undefined : "/dev/disk/by-label/OEM"),
    configDriveDevices: env.FLINT_CONFIG_DRIVE_DIR ? [] : ["/dev/disk/by-label/config-2", "/dev/disk/by-label/CONFIG-2"],
    configDriveDir: env.FLINT_CONFIG_DRIVE_DIR || undefined,
    dev: "/dev",
    azureOvfDir: env.FLINT_AZURE_OVF_DIR || undefined,
  };
}
