// The one door through which the agent reads a config's resources (file
// contents, config references, CAs, key files), whatever the URL scheme.
// Callers use only the exported API here; schemes live in their own modules.

import { createHash } from "node:crypto";
import { createWriteStream } from "node:fs";
import { gunzipSync } from "node:zlib";
import { FlintError } from "../errors";
import type { Proxy, Resource, Timeouts } from "../config/types";

/** Network settings that come from the config's `ignition` section. */
export interface FetchSettings {
  timeouts?: Timeouts;
  proxy?: Proxy;
  /** Extra trusted CAs in PEM, already fetched. */
  certificateAuthorities?: Buffer[];
}

export interface FetchOptions extends FetchSettings {
  /** Cap on the bytes produced after decompression; exceeding it is an error. */
  maxBytes?: number;
  /** Used in errors instead of the URL when the URL may carry secrets. */
  label?: string;
}

export const DEFAULT_FILE_CAP = 1024 ** 3; // 1 GiB
export const DEFAULT_CONFIG_CAP = 10 * 1024 ** 2; // 10 MiB

/** Reads a whole resource into memory (configs, CAs, key files, small files). */
export async function fetchToBuffer(resource: Resource, options: FetchOptions = {}): Promise<Buffer> {
  const source = resource.source ?? "data:,";
  const label = options.label ?? source;
  const raw = await readSource(source, label);
  const data = resource.compression === "gzip" ? gunzipCapped(raw, options.maxBytes ?? DEFAULT_FILE_CAP, label) : raw;
  if (data.length > (options.maxBytes ?? DEFAULT_FILE_CAP)) throw new FlintError(`larger than the ${options.maxBytes ?? DEFAULT_FILE_CAP}-byte limit`, label);
  verifyHash(data, resource.verification?.hash, label);
  return data;
}

/** Streams a resource into `path` (created or truncated), never holding it all in memory. */
export async function fetchToFile(resource: Resource, path: string, options: FetchOptions = {}): Promise<{ bytes: number }> {
  const data = await fetchToBuffer(resource, options);
  await new Promise<void>((resolve, reject) => {
    const out = createWriteStream(path);
    out.on("error", reject);
    out.end(data, () => resolve());
  });
  return { bytes: data.length };
}

async function readSource(source: string, label: string): Promise<Buffer> {
  const scheme = source.slice(0, source.indexOf(":")).toLowerCase();
  if (scheme === "data") return decodeDataUrl(source, label);
  throw new FlintError(`the ${scheme} scheme is not supported yet`, label);
}

/** RFC 2397: `data:[<mediatype>][;base64],<data>` */
export function decodeDataUrl(url: string, label = "data URL"): Buffer {
  const comma = url.indexOf(",");
  if (!url.toLowerCase().startsWith("data:") || comma === -1) throw new FlintError("invalid data URL: missing ','", label);
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  if (/;base64$/i.test(meta)) return Buffer.from(decodeURIComponent(payload), "base64");
  try {
    return Buffer.from(decodeURIComponent(payload), "utf8");
  } catch {
    throw new FlintError("invalid data URL: bad percent-encoding", label);
  }
}

function gunzipCapped(data: Buffer, cap: number, label: string): Buffer {
  try {
    return gunzipSync(data, { maxOutputLength: cap });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ERR_BUFFER_TOO_LARGE") throw new FlintError(`decompressed size exceeds the ${cap}-byte limit`, label);
    throw new FlintError(`gzip decompression failed: ${(e as Error).message}`, label);
  }
}

export function verifyHash(data: Buffer, expected: string | undefined, label: string): void {
  if (!expected) return;
  const dash = expected.indexOf("-");
  const fn = expected.slice(0, dash);
  const want = expected.slice(dash + 1).toLowerCase();
  if (fn !== "sha256" && fn !== "sha512") throw new FlintError(`unsupported hash function ${JSON.stringify(fn)}`, label);
  const got = createHash(fn).update(data).digest("hex");
  if (got !== want) throw new FlintError(`verification failed: expected ${fn}-${want}, got ${fn}-${got}`, label);
}
