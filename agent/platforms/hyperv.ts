// Hyper-V: the host hands key-value pairs to the guest over KVP; the config
// is the external pool's (pool 0) `ignition.config`, or, when the config is
// larger than one value holds, the values of `ignition.config.0`,
// `ignition.config.1`, … joined in order (as Ignition reads them through
// libhvee). Flint reads the pool as hv_kvp_daemon keeps it:
// `/var/lib/hyperv/.kvp_pool_0`, records of a 512-byte key and a 2048-byte
// value, each NUL-padded. It does not speak the kernel's KVP protocol
// itself, so hv_kvp_daemon must have run (in the initramfs) for the pool to
// be there; with no pool file there is no config.

import { join } from "node:path";
import { FlintError } from "../errors";
import { log } from "../log";
import type { Platform } from "./types";

export const KVP_KEY_SIZE = 512;
export const KVP_VALUE_SIZE = 2048;
const RECORD_SIZE = KVP_KEY_SIZE + KVP_VALUE_SIZE;
const EXTERNAL_POOL = 0;
const SINGLE_KEY = "ignition.config";
const SPLIT_PREFIX = "ignition.config.";

/** The pairs of one pool file, in file order. */
export function parseKvpPool(data: Buffer, what: string): Map<string, string> {
  if (data.length % RECORD_SIZE !== 0) throw new FlintError(`not a KVP pool: ${data.length} bytes is not a whole number of ${RECORD_SIZE}-byte records`, what);
  const pairs = new Map<string, string>();
  const field = (start: number, size: number) => {
    const bytes = data.subarray(start, start + size);
    const end = bytes.indexOf(0);
    return bytes.subarray(0, end < 0 ? size : end).toString("utf8");
  };
  for (let at = 0; at < data.length; at += RECORD_SIZE) {
    const key = field(at, KVP_KEY_SIZE);
    if (key) pairs.set(key, field(at + KVP_KEY_SIZE, KVP_VALUE_SIZE));
  }
  return pairs;
}

export const platform: Platform = {
  id: "hyperv",
  needsNetwork: false,
  async fetchConfig(ctx) {
    const path = join(ctx.paths.kvpPoolDir, `.kvp_pool_${EXTERNAL_POOL}`);
    const data = await ctx.readLocal(path);
    if (data === undefined) {
      log.info("no Hyper-V KVP pool file (is hv_kvp_daemon running?)", { path });
      return undefined;
    }
    const pairs = parseKvpPool(data, path);
    let config = pairs.get(SINGLE_KEY) ?? "";
    if (!config) {
      for (let i = 0; pairs.has(`${SPLIT_PREFIX}${i}`); i++) config += pairs.get(`${SPLIT_PREFIX}${i}`);
      if (config) log.info("found the config split over Hyper-V KVP keys", { prefix: SPLIT_PREFIX });
    } else log.info("found the config in the Hyper-V KVP key", { key: SINGLE_KEY });
    return config ? Buffer.from(config, "utf8") : undefined;
  },
};
