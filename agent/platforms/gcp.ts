// Google Compute Engine: the `user-data` instance attribute at
// 169.254.169.254 (as Ignition and afterburn reach it; metadata.google.internal
// needs a resolver), with `Metadata-Flavor: Google`. Keys as afterburn reads
// them: the deprecated instance `sshKeys` alone if set; else the instance's
// `ssh-keys` plus, unless `block-project-ssh-keys` is true, the project's
// `sshKeys` and `ssh-keys`; each line `user:key`.

import { FlintError } from "../errors";
import { lines, text } from "./keys";
import type { Platform, PlatformContext } from "./types";

const BASE = "http://169.254.169.254/computeMetadata/v1";
const FLAVOR = { headers: { "Metadata-Flavor": "Google" } };
/** The kernel's limit on a hostname. */
export const HOSTNAME_MAX = 64;

async function keyLines(ctx: PlatformContext, attribute: string): Promise<string[]> {
  return lines(await ctx.fetchUrl(`${BASE}/${attribute}`, FLAVOR)).map((line) => {
    const colon = line.indexOf(":");
    if (colon < 0) throw new FlintError("a line has no `user:` before the key", `gcp metadata ${attribute}`);
    return line.slice(colon + 1).trim();
  });
}

export const platform: Platform = {
  id: "gcp",
  needsNetwork: true,
  async fetchConfig(ctx) {
    return ctx.fetchUrl(`${BASE}/instance/attributes/user-data`, FLAVOR);
  },
  async sshKeys(ctx) {
    const legacy = await keyLines(ctx, "instance/attributes/sshKeys");
    if (legacy.length) return legacy;
    const keys = await keyLines(ctx, "instance/attributes/ssh-keys");
    if (text(await ctx.fetchUrl(`${BASE}/instance/attributes/block-project-ssh-keys`, FLAVOR)) === "true") return keys;
    keys.push(...(await keyLines(ctx, "project/attributes/sshKeys")), ...(await keyLines(ctx, "project/attributes/ssh-keys")));
    return keys.filter(Boolean);
  },
  async hostname(ctx) {
    const name = text(await ctx.fetchUrl(`${BASE}/instance/hostname`, FLAVOR));
    // GCE's fully qualified names can pass the kernel's limit; the first label always fits.
    return name && name.length > HOSTNAME_MAX ? name.split(".")[0] : name;
  },
};
