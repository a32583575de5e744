// OpenStack, as Ignition does it: the config drive (filesystem label
// `config-2`, or `CONFIG-2` as vfat shows it) and the metadata service race;
// the first to answer wins, a 404 from the service ("no user data") included.
// The drive is waited for while the service is being tried, and for
// DRIVE_WAIT_MS more if the service fails. Where the machine has no IPv4
// address the service is asked at its IPv6 address, fe80::a9fe:a9fe, on the
// first interface that has a link-local address.

import { networkInterfaces } from "node:os";
import { log } from "../log";
import { json, stringList } from "./keys";
import { CONFIG_DRIVE, firstAnswer, presentDrive, readFromDrive } from "./drive";
import type { MetadataRequest, Platform, PlatformContext } from "./types";

const USER_DATA = "openstack/latest/user_data";
const META_DATA = "openstack/latest/meta_data.json";
/** How long the drive is still waited for after the metadata service failed. */
export const DRIVE_WAIT_MS = 30_000;

interface Service {
  base: string;
  request: MetadataRequest;
}

/** The metadata service over IPv4, or over IPv6 link-local where no interface has IPv4. */
function service(): Service {
  const interfaces = Object.entries(networkInterfaces()).filter(([, addresses]) => addresses?.some((a) => !a.internal));
  const hasIpv4 = interfaces.some(([, addresses]) => addresses!.some((a) => !a.internal && a.family === "IPv4"));
  const linkLocal = interfaces.find(([, addresses]) => addresses!.some((a) => a.family === "IPv6" && a.address.startsWith("fe80:")));
  if (hasIpv4 || !linkLocal) return { base: "http://169.254.169.254", request: {} };
  log.info("no IPv4 address; asking the OpenStack metadata service over IPv6", { interface: linkLocal[0] });
  return { base: "http://[fe80::a9fe:a9fe]", request: { connectTo: `fe80::a9fe:a9fe%${linkLocal[0]}` } };
}

export const platform: Platform = {
  id: "openstack",
  needsNetwork: true,
  async fetchConfig(ctx) {
    let serviceFailedAt = 0;
    return firstAnswer([
      async (signal) => {
        const { base, request } = service();
        try {
          return { from: "the OpenStack metadata service", data: await ctx.fetchUrl(`${base}/${USER_DATA}`, { ...request, signal }) };
        } catch (e) {
          serviceFailedAt = Date.now();
          throw e;
        }
      },
      async (signal) => {
        for (;;) {
          const drive = await presentDrive(ctx, CONFIG_DRIVE);
          if (drive) return { from: `the OpenStack config drive ${drive}`, data: await readFromDrive(ctx, drive, USER_DATA) };
          if (signal.aborted) throw new Error("the metadata service answered first");
          if (serviceFailedAt && Date.now() - serviceFailedAt > DRIVE_WAIT_MS) throw new Error(`no config drive appeared within ${DRIVE_WAIT_MS / 1000} s`);
          await new Promise((resolve) => setTimeout(resolve, 1000));
        }
      },
    ]);
  },
  async sshKeys(ctx) {
    return stringList((await metaData(ctx))?.public_keys);
  },
  async hostname(ctx) {
    const name = (await metaData(ctx))?.hostname;
    return typeof name === "string" ? name : undefined;
  },
};

/** `meta_data.json` from the drive when one is present, else from the service. */
async function metaData(ctx: PlatformContext): Promise<{ public_keys?: unknown; hostname?: unknown } | undefined> {
  const drive = await presentDrive(ctx, CONFIG_DRIVE);
  const local = drive ? await readFromDrive(ctx, drive, META_DATA) : undefined;
  if (local) return json(local, "OpenStack meta_data.json") as { public_keys?: unknown; hostname?: unknown };
  const { base, request } = service();
  return json(await ctx.fetchUrl(`${base}/${META_DATA}`, request), "OpenStack meta_data.json") as { public_keys?: unknown; hostname?: unknown } | undefined;
}
