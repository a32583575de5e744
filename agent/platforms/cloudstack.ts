// Apache CloudStack, as Ignition reads it: the config drive (`config-2` or
// `CONFIG-2`, `cloudstack/userdata/user_data.txt`) races the metadata
// service on the virtual router, which is the DHCP server:
// `http://<server>/latest/user-data`, the server's address taken from
// systemd-networkd's lease (`SERVER_ADDRESS=`). The first answer wins; a 404
// from the service is "no config". Needs the network (the lease), so
// fetch-offline leaves it to fetch.

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { CONFIG_DRIVE_LABELS, firstAnswer, userDataFromDrive } from "./drive";
import type { Platform, PlatformContext } from "./types";

const DRIVE = { name: "config drive", labels: CONFIG_DRIVE_LABELS, files: ["cloudstack/userdata/user_data.txt"] };
/** How often the leases are looked at until one names its server. */
const LEASE_POLL_MS = 500;

/** The DHCP server of the first lease that names one, waiting until there is one. */
export async function dhcpServer(ctx: PlatformContext, signal: AbortSignal): Promise<string> {
  for (;;) {
    const names = await readdir(ctx.paths.networkdLeases).catch(() => [] as string[]);
    for (const name of names.sort()) {
      const lease = await readFile(join(ctx.paths.networkdLeases, name), "utf8").catch(() => "");
      const server = /^SERVER_ADDRESS=(\S+)$/m.exec(lease)?.[1];
      if (server) return server;
    }
    if (signal.aborted) throw new Error("the config drive answered first");
    await new Promise((resolve) => setTimeout(resolve, LEASE_POLL_MS));
  }
}

export const platform: Platform = {
  id: "cloudstack",
  needsNetwork: true,
  async fetchConfig(ctx) {
    return firstAnswer([
      async (signal) => {
        const server = await dhcpServer(ctx, signal);
        return { from: `the CloudStack metadata service at ${server}`, data: await ctx.fetchUrl(`http://${server}/latest/user-data`, { signal }) };
      },
      async (signal) => (await userDataFromDrive(ctx, DRIVE, { signal })) ?? Promise.reject(new Error("no config drive")),
    ]);
  },
};
