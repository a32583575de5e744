// Where platforms look on the local machine; each place can be moved by an
// environment variable so tests can build a fake machine in a temp directory.

import type { PlatformPaths } from "./types";

export function platformPaths(env: NodeJS.ProcessEnv = process.env): PlatformPaths {
  return {
    sysfs: env.FLINT_SYSFS_ROOT || "/sys",
    lib: env.FLINT_LIB_DIR || "/usr/lib/flint",
    oem: env.FLINT_OEM_DIR || "/usr/share/oem",
    oemDevice: env.FLINT_OEM_DEVICE || (env.FLINT_OEM_DIR ? undefined : "/dev/disk/by-label/OEM"),
    byLabel: env.FLINT_DISK_BY_LABEL_DIR || "/dev/disk/by-label",
    configDriveDir: env.FLINT_CONFIG_DRIVE_DIR || undefined,
    dev: "/dev",
    azureOvfDir: env.FLINT_AZURE_OVF_DIR || undefined,
    kvpPoolDir: env.FLINT_KVP_POOL_DIR || "/var/lib/hyperv",
    networkdLeases: env.FLINT_NETIF_LEASES_DIR || "/run/systemd/netif/leases",
  };
}
