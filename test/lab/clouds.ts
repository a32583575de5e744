// What a lab boot needs to look like each cloud from inside the guest:
// - `smbios`: QEMU `-smbios` arguments carrying the cloud's real DMI strings,
//   so Flint finds the platform from DMI alone;
// - `hosts`: names the guest must resolve (DNS name → address in the lab
//   namespace), for the lab's DNS server;
// - `media(dir, options)`: builds the cloud's real local media under `dir`
//   (OpenStack config drives labelled config-2/CONFIG-2, Azure's OVF
//   provisioning CD-ROM) and returns the QEMU arguments that attach them
//   (`-drive …`); [] when the scenario has none;
// - `cmdline`: kernel arguments the cloud's images carry (only where DMI
//   names no cloud, e.g. Equinix Metal's bare-metal servers).
// The metadata services themselves: test/lab/serve-cloud.ts, same options.

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { ovfEnvironment } from "./fakes/azure";
import { driveFiles } from "./fakes/openstack";
import { PACKET_HOSTS, PHONE_HOME_ADDRESS, PHONE_HOME_HOST } from "./fakes/packet";
import { S3_ADDRESS, s3HostNames } from "./fakes/s3";
import { GCS_ADDRESS, GCS_HOST } from "./fakes/gcs";
import { BLOB_ADDRESS, BLOB_HOST } from "./fakes/azure-blob";
import type { CloudOptions } from "./fakes/service";

export interface MediaOptions {
  /** The user data file (as serve-cloud's --userdata). */
  userdata?: string;
  sshKey?: string;
  hostname?: string;
  scenario?: string;
}

export interface Cloud {
  smbios: string[];
  hosts: Record<string, string>;
  media?(dir: string, options: MediaOptions): Promise<string[]>;
  cmdline?: string;
}

const METADATA = "169.254.169.254";

export const CLOUDS: Record<string, Cloud> = {
  aws: {
    // Nitro instances: the vendor names the cloud; the chassis asset tag is the instance id.
    smbios: ["type=0,vendor=Amazon EC2,version=1.0", "type=1,manufacturer=Amazon EC2,product=t3.micro,serial=ec2a1b2c-3d4e-5f60-7182-93a4b5c6d7e8", "type=3,manufacturer=Amazon EC2,asset=i-0123456789abcdef0"],
    hosts: { "instance-data.ec2.internal": METADATA, ...Object.fromEntries(s3HostNames().map((name) => [name, S3_ADDRESS])) },
  },
  gcp: {
    smbios: ["type=0,vendor=Google,version=Google", "type=1,manufacturer=Google,product=Google Compute Engine,serial=GoogleCloud-4520031799277581759", "type=3,manufacturer=Google"],
    hosts: { "metadata.google.internal": METADATA, [GCS_HOST]: GCS_ADDRESS },
  },
  azure: {
    // The chassis asset tag is what tells Azure from a local Hyper-V guest.
    smbios: ["type=0,vendor=Microsoft Corporation,version=Hyper-V UEFI Release v4.1", "type=1,manufacturer=Microsoft Corporation,product=Virtual Machine", "type=3,manufacturer=Microsoft Corporation,asset=7783-7084-3265-9085-8269-3286-77"],
    hosts: { [BLOB_HOST]: BLOB_ADDRESS },
    media: async (dir, options) => [...cdrom(await azureOvfMedia(dir, options))],
  },
  digitalocean: {
    smbios: ["type=0,vendor=DigitalOcean,version=20171212", "type=1,manufacturer=DigitalOcean,product=Droplet"],
    hosts: {},
  },
  openstack: {
    smbios: ["type=1,manufacturer=OpenStack Foundation,product=OpenStack Nova", "type=3,asset=OpenStack Nova"],
    hosts: {},
    media: async (dir, options) => {
      if (options.scenario === "drive-only") return disk(await configDrive(dir, options, "vfat"));
      if (options.scenario === "drive-iso") return cdrom(await configDrive(dir, options, "iso9660"));
      return [];
    },
  },
  packet: {
    // Bare metal: DMI names the hardware's maker, not the cloud; the image says where it runs.
    smbios: ["type=1,manufacturer=Supermicro,product=SYS-5019C-MR"],
    hosts: { ...Object.fromEntries(PACKET_HOSTS.map((name) => [name, METADATA])), [PHONE_HOME_HOST]: PHONE_HOME_ADDRESS },
    cmdline: "ignition.platform.id=packet",
  },
  hetzner: {
    smbios: ["type=0,vendor=Hetzner,version=20171111", "type=1,manufacturer=Hetzner,product=vServer"],
    hosts: {},
  },
  proxmoxve: {
    // Proxmox VE is QEMU with QEMU's own DMI strings, naming no cloud; its images carry the platform id.
    smbios: [],
    hosts: {},
    cmdline: "ignition.platform.id=proxmoxve",
    media: async (dir, options) => cdrom(await noCloudDrive(dir, options)),
  },
  vultr: {
    smbios: ["type=1,manufacturer=Vultr,product=VC2"],
    hosts: {},
  },
};

function toCloudOptions(options: MediaOptions): CloudOptions {
  return { ...options, userdata: options.userdata ? readFileSync(options.userdata) : undefined };
}

function cdrom(image: string): string[] {
  return ["-drive", `file=${image},format=raw,media=cdrom,readonly=on`];
}

function disk(image: string): string[] {
  return ["-drive", `file=${image},format=raw,if=virtio,readonly=on`];
}

/** Writes `files` (relative path → contents) into a fresh directory. */
function stage(dir: string, name: string, files: Record<string, string | Buffer>): string {
  const root = join(dir, name);
  rmSync(root, { recursive: true, force: true });
  for (const [path, contents] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), contents);
  }
  return root;
}

/**
 * Azure's provisioning CD-ROM: `ovf-env.xml` (the custom data in base64
 * inside) and `CustomData.bin` (the raw custom data), UDF as on Azure, or
 * ISO 9660 with scenario `ovf-iso` (Azure Stack).
 */
async function azureOvfMedia(dir: string, options: MediaOptions): Promise<string> {
  const cloud = toCloudOptions(options);
  const files: Record<string, string | Buffer> = { "ovf-env.xml": ovfEnvironment(cloud) };
  if (cloud.userdata) files["CustomData.bin"] = cloud.userdata;
  const root = stage(dir, "azure-ovf", files);
  const image = join(dir, "azure-ovf.iso");
  const udf = options.scenario === "ovf-iso" ? [] : ["-udf"];
  execFileSync("genisoimage", ["-quiet", ...udf, "-R", "-J", "-V", "rd_rdfe_stable.20260101-0000", "-o", image, root], { stdio: ["ignore", "ignore", "pipe"] });
  return image;
}

/**
 * A NoCloud seed as Proxmox VE attaches it: an ISO 9660 CD-ROM labelled
 * `cidata` with `user-data`, `meta-data` and `vendor-data`. Scenario
 * `vendor-data`: Proxmox's own cloud-config in `user-data`, the config in
 * `vendor-data` (what a `cicustom: vendor=…` set-up gives).
 */
async function noCloudDrive(dir: string, options: MediaOptions): Promise<string> {
  const config = options.userdata ? readFileSync(options.userdata) : Buffer.alloc(0);
  const proxmoxOwn = `#cloud-config\nhostname: ${options.hostname ?? "flint-lab"}\nmanage_etc_hosts: true\n`;
  const vendor = options.scenario === "vendor-data";
  const root = stage(dir, "cidata", {
    "meta-data": "instance-id: 6c2a1b0e-flint-lab\n",
    "user-data": vendor ? proxmoxOwn : config,
    "vendor-data": vendor ? config : "",
  });
  const image = join(dir, "cidata.iso");
  execFileSync("genisoimage", ["-quiet", "-R", "-J", "-V", "cidata", "-o", image, root], { stdio: ["ignore", "ignore", "pipe"] });
  return image;
}

/** An OpenStack config drive: iso9660 labelled `config-2`, or vfat, whose label reads `CONFIG-2`. */
async function configDrive(dir: string, options: MediaOptions, format: "iso9660" | "vfat"): Promise<string> {
  const root = stage(dir, "config-drive", driveFiles(toCloudOptions(options)));
  if (format === "iso9660") {
    const image = join(dir, "config-drive.iso");
    execFileSync("genisoimage", ["-quiet", "-R", "-J", "-V", "config-2", "-o", image, root], { stdio: ["ignore", "ignore", "pipe"] });
    return image;
  }
  const image = join(dir, "config-drive.vfat");
  rmSync(image, { force: true });
  execFileSync("mkfs.vfat", ["-n", "CONFIG-2", "-C", image, "8192"], { stdio: ["ignore", "ignore", "pipe"] });
  execFileSync("mcopy", ["-s", "-i", image, join(root, "openstack"), "::/"], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, MTOOLS_SKIP_CHECK: "1" } });
  return image;
}

