// Platforms whose user data is only on a labelled drive (drive.ts), each
// waiting for it as Ignition's provider does: Nutanix and PowerVS wait for a
// config drive until it appears; KubeVirt for a NoCloud or a config drive,
// whichever appears; IBM Cloud and Proxmox VE for a NoCloud drive for 30 s,
// then go on without a config. Proxmox VE writes a cloud-config of its own
// into `user-data` when the user gave none, so a `#cloud-config` there is
// passed over and `vendor-data` tried next.

import { log } from "../log";
import { CONFIG_DRIVE, NOCLOUD, userDataFromAnyDrive, type DriveAnswer, type DriveKind } from "./drive";
import type { Platform } from "./types";

/** IBM Cloud and Proxmox VE: how long the NoCloud drive is waited for. */
export const NOCLOUD_WAIT_MS = 30_000;

const CLOUD_CONFIG = "#cloud-config\n";
const PROXMOX: DriveKind = {
  ...NOCLOUD,
  files: ["user-data", "vendor-data"],
  skip: (data) => (data.subarray(0, CLOUD_CONFIG.length).toString("latin1") === CLOUD_CONFIG ? "it is a cloud-config" : undefined),
};

function fromDrives(id: string, kinds: DriveKind[], waitMs?: number): Platform {
  return {
    id,
    needsNetwork: false,
    async fetchConfig(ctx) {
      const answer: DriveAnswer | undefined = await userDataFromAnyDrive(ctx, kinds, { waitMs });
      if (answer) log.info(answer.data ? `found the config on ${answer.from}` : `no user data on ${answer.from}`);
      return answer?.data;
    },
  };
}

export const nutanix = fromDrives("nutanix", [CONFIG_DRIVE]);
export const powervs = fromDrives("powervs", [CONFIG_DRIVE]);
export const kubevirt = fromDrives("kubevirt", [NOCLOUD, CONFIG_DRIVE]);
export const ibmcloud = fromDrives("ibmcloud", [NOCLOUD], NOCLOUD_WAIT_MS);
export const proxmoxve = fromDrives("proxmoxve", [PROXMOX], NOCLOUD_WAIT_MS);
