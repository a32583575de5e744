// The platform table: ids and their aliases, each loaded only when used, and
// detection from DMI data when the command line names no platform.

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { FlintError } from "../errors";
import { log } from "../log";
import { NO_CONFIG_IDS } from "./no-config";
import type { Platform } from "./types";

type Loader = () => Promise<Platform>;

const LOADERS: Record<string, Loader> = {
  qemu: async () => (await import("./qemu")).platform,
  file: async () => (await import("./file")).platform,
  metal: async () => (await import("./metal")).platform,
  aws: async () => (await import("./aws")).platform,
  gcp: async () => (await import("./gcp")).platform,
  digitalocean: async () => (await import("./digitalocean")).platform,
  openstack: async () => (await import("./openstack")).platform,
  packet: async () => (await import("./packet")).platform,
  hetzner: async () => (await import("./hetzner")).platform,
  vultr: async () => (await import("./vultr")).platform,
  azure: async () => (await import("./azure")).platform,
  vmware: async () => (await import("./vmware")).platform,
  azurestack: async () => (await import("./azure")).azurestack,
  akamai: async () => (await import("./akamai")).platform,
  aliyun: async () => (await import("./user-data-url")).aliyun,
  exoscale: async () => (await import("./user-data-url")).exoscale,
  oraclecloud: async () => (await import("./user-data-url")).oraclecloud,
  scaleway: async () => (await import("./user-data-url")).scaleway,
  upcloud: async () => (await import("./user-data-url")).upcloud,
  cloudstack: async () => (await import("./cloudstack")).platform,
  ibmcloud: async () => (await import("./drive-platforms")).ibmcloud,
  kubevirt: async () => (await import("./drive-platforms")).kubevirt,
  nutanix: async () => (await import("./drive-platforms")).nutanix,
  powervs: async () => (await import("./drive-platforms")).powervs,
  proxmoxve: async () => (await import("./drive-platforms")).proxmoxve,
  hyperv: async () => (await import("./hyperv")).platform,
  virtualbox: async () => (await import("./virtualbox")).platform,
  zvm: async () => (await import("./zvm")).platform,
  nvidiabluefield: async () => (await import("./nvidiabluefield")).platform,
  ionoscloud: async () => (await import("./ionoscloud")).platform,
  applehv: async () => (await import("./applehv")).platform,
  ...Object.fromEntries(NO_CONFIG_IDS.map((id) => [id, async () => (await import("./no-config")).noConfig(id)])),
};

/** Other spellings in use (Flatcar's oem ids, Ignition's platform ids). */
const ALIASES: Record<string, string> = {
  ec2: "aws",
  ami: "aws",
  gce: "gcp",
  pxe: "metal",
  equinix: "packet",
  equinixmetal: "packet",
  // Ignition registers Brightbox with the OpenStack provider; STACKIT runs OpenStack.
  brightbox: "openstack",
  stackit: "openstack",
  "vagrant-virtualbox": "virtualbox",
};

export const PLATFORM_IDS = Object.keys(LOADERS);

/** The canonical id for `id`, or a clear error listing the known ones. */
export function canonicalPlatformId(id: string): string {
  const lower = id.toLowerCase();
  const canonical = ALIASES[lower] ?? lower;
  if (!(canonical in LOADERS)) {
    const known = [...PLATFORM_IDS, ...Object.keys(ALIASES).map((a) => `${a} (= ${ALIASES[a]})`)].join(", ");
    throw new FlintError(`unknown platform ${JSON.stringify(id)}; known platforms: ${known}`, "platform");
  }
  return canonical;
}

export async function loadPlatform(id: string): Promise<Platform> {
  return LOADERS[canonicalPlatformId(id)]!();
}

/**
 * DMI strings that name a cloud, each a regular expression on one field.
 * Only strings the cloud itself sets count: a Xen HVM guest (`HVM domU`) or
 * a local Hyper-V VM (`Microsoft Corporation` / `Virtual Machine`) is not a
 * cloud; Azure is told apart by its chassis asset tag, Xen-based EC2 by the
 * `amazon` in its BIOS version.
 */
const DMI_RULES: { platform: string; field: DmiField; pattern: RegExp }[] = [
  { platform: "aws", field: "sys_vendor", pattern: /^Amazon EC2$/i },
  { platform: "aws", field: "bios_vendor", pattern: /^Amazon EC2$/i },
  { platform: "aws", field: "bios_version", pattern: /amazon/i },
  { platform: "gcp", field: "sys_vendor", pattern: /^Google$/i },
  { platform: "gcp", field: "product_name", pattern: /^Google Compute Engine$/i },
  { platform: "azure", field: "chassis_asset_tag", pattern: /^7783-7084-3265-9085-8269-3286-77$/ },
  { platform: "digitalocean", field: "sys_vendor", pattern: /^DigitalOcean$/i },
  { platform: "openstack", field: "product_name", pattern: /^OpenStack (Nova|Compute)$/i },
  { platform: "openstack", field: "chassis_asset_tag", pattern: /^OpenStack Nova$/i },
  { platform: "hetzner", field: "sys_vendor", pattern: /^Hetzner$/i },
  { platform: "vultr", field: "sys_vendor", pattern: /^Vultr$/i },
  { platform: "vmware", field: "sys_vendor", pattern: /^VMware, Inc\.$/i },
  { platform: "packet", field: "sys_vendor", pattern: /^(Packet|Equinix)\b/i },
  // Plain QEMU/KVM last: the clouds above run on KVM too.
  { platform: "qemu", field: "sys_vendor", pattern: /^QEMU$/i },
  { platform: "qemu", field: "product_name", pattern: /^(KVM|Standard PC \(.*\))$/i },
];

type DmiField = "sys_vendor" | "product_name" | "bios_vendor" | "bios_version" | "chassis_asset_tag";

/** Guesses the platform from `<sysfs>/class/dmi/id`; the log names the string that decided. */
export async function detectPlatform(sysfs: string): Promise<string> {
  const dmi: Partial<Record<DmiField, string>> = {};
  for (const field of ["sys_vendor", "product_name", "bios_vendor", "bios_version", "chassis_asset_tag"] as DmiField[]) {
    try {
      dmi[field] = (await readFile(join(sysfs, "class/dmi/id", field), "utf8")).trim();
    } catch {
      // A field the firmware does not provide.
    }
  }
  for (const rule of DMI_RULES) {
    const value = dmi[rule.field];
    if (value !== undefined && rule.pattern.test(value)) {
      log.info(`detected platform ${rule.platform}`, { because: `${rule.field}=${value}` });
      return rule.platform;
    }
  }
  log.info("detected platform metal", { because: `no DMI string names a platform (sys_vendor=${dmi.sys_vendor ?? "unknown"}, product_name=${dmi.product_name ?? "unknown"})` });
  return "metal";
}
