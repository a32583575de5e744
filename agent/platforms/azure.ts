// Azure: the user data from IMDS (base64), asked with `Metadata: true` and
// an api-version; while the VM is provisioned IMDS answers 404, 410 or 429,
// which are retried (as Ignition does) for up to IMDS_TOTAL_MS, not taken as
// "no config". When IMDS has no user data (or never answered), the custom
// data on the OVF provisioning CD-ROM: every CD-ROM drive is tried (UDF, then
// ISO 9660) until one holds `ovf-env.xml`, waiting up to OVF_WAIT_MS for it
// to appear; the config is its `CustomData.bin`, as Ignition reads it, else
// the base64 `CustomData` element of `ovf-env.xml`.

import { join } from "node:path";
import { log } from "../log";
import { NeedsNetworkError } from "../resource/index";
import { json, text } from "./keys";
import { cdromDevices, withMountedReadOnly } from "./media";
import type { MetadataRequest, Platform, PlatformContext } from "./types";

const IMDS = "http://169.254.169.254/metadata/instance/compute";
const API = "api-version=2021-01-01";
const NOT_READY = [404, 410, 429];
/** Ignition tries IMDS ten times, 2 s apart, each try with its own retries. */
export const IMDS_TOTAL_MS = 60_000;
/** Ignition looks for the media 30 times, 1 s apart. */
export const OVF_WAIT_MS = 30_000;
const OVF_FORMATS = ["udf", "iso9660"];

function imds(retryStatuses: number[]): MetadataRequest {
  return { headers: { Metadata: "true" }, retryStatuses, totalMs: IMDS_TOTAL_MS };
}

/** The custom data on the provisioning media; `undefined` when the media has none; "no media" when none was found. */
export async function fromOvfMedia(ctx: PlatformContext): Promise<Buffer | undefined | "no media"> {
  if (ctx.paths.azureOvfDir) return readOvf(ctx, ctx.paths.azureOvfDir);
  const deadline = Date.now() + OVF_WAIT_MS;
  const tried = new Set<string>();
  for (;;) {
    for (const device of await cdromDevices(ctx.paths.sysfs, ctx.paths.dev)) {
      if (tried.has(device)) continue;
      const result = await withMountedReadOnly(device, OVF_FORMATS, (dir) => readOvf(ctx, dir));
      // A drive without a disc cannot be mounted yet; look again next round.
      if (!result.mounted) continue;
      tried.add(device);
      if (result.value !== "no media") {
        log.info("found the Azure provisioning media", { device });
        return result.value;
      }
    }
    if (Date.now() >= deadline) return "no media";
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

async function readOvf(ctx: PlatformContext, dir: string): Promise<Buffer | undefined | "no media"> {
  const environment = await ctx.readLocal(join(dir, "ovf-env.xml"));
  if (environment === undefined) return "no media";
  const raw = await ctx.readLocal(join(dir, "CustomData.bin"));
  if (raw !== undefined) return raw;
  const match = /<(?:\w+:)?CustomData>([^<]*)<\/(?:\w+:)?CustomData>/.exec(environment.toString("utf8"));
  return match ? Buffer.from(match[1]!.trim(), "base64") : undefined;
}

export const platform: Platform = {
  id: "azure",
  needsNetwork: true,
  async fetchConfig(ctx) {
    let imdsError: Error | undefined;
    try {
      const encoded = text(await ctx.fetchUrl(`${IMDS}/userData?${API}&format=text`, imds(NOT_READY)));
      if (encoded) {
        log.info("found the config in the Azure IMDS user data");
        return Buffer.from(encoded, "base64");
      }
      log.info("Azure IMDS has no user data; looking for custom data on the provisioning media");
    } catch (e) {
      if (e instanceof NeedsNetworkError) throw e;
      imdsError = e as Error;
      log.warn(`cannot read the Azure IMDS user data (${imdsError.message}); looking for custom data on the provisioning media`);
    }
    const custom = await fromOvfMedia(ctx);
    if (custom !== "no media") return custom;
    if (imdsError) throw imdsError;
    log.warn(`no Azure provisioning media appeared within ${OVF_WAIT_MS / 1000} s`);
    return undefined;
  },
  async sshKeys(ctx) {
    const doc = json(await ctx.fetchUrl(`${IMDS}/publicKeys?${API}&format=json`, imds([410, 429])), "Azure IMDS publicKeys");
    if (!Array.isArray(doc)) return [];
    // Keys pasted from some tools carry CR/LF (trailing, or wrapping the base64).
    return doc.map((k: { keyData?: unknown }) => (typeof k?.keyData === "string" ? k.keyData.replace(/[\r\n]+/g, "").trim() : "")).filter(Boolean);
  },
  async hostname(ctx) {
    return text(await ctx.fetchUrl(`${IMDS}/name?${API}&format=text`, imds([410, 429])));
  },
  async checkIn(ctx, outcome) {
    const { reportHealth } = await import("./azure-wireserver");
    await reportHealth(ctx, outcome);
  },
};


/** Azure Stack Hub: no IMDS user data; the custom data on the same OVF provisioning media (UDF, or ISO 9660). */
export const azurestack: Platform = {
  id: "azurestack",
  needsNetwork: false,
  async fetchConfig(ctx) {
    const custom = await fromOvfMedia(ctx);
    if (custom !== "no media") return custom;
    log.warn(`no Azure Stack provisioning media appeared within ${OVF_WAIT_MS / 1000} s`);
    return undefined;
  },
};
