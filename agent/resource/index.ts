// The one door through which the agent reads resources (file contents, config
// references, CAs, metadata), whatever the URL scheme. Everything streams:
// bytes are decompressed (with a size cap) and hashed as they arrive, and a
// file is written under a temporary name and renamed only when verified.
// Only this folder opens sockets; callers use only the exports here.

import { constants, ftruncateSync, writev } from "node:fs";
import { open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { Readable, Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Config, Proxy, Resource, Timeouts } from "../config/types";
import { currentScope } from "../scope";
import { FlintError } from "../errors";
import { log } from "../log";
import { randomTempName } from "../root/temp-name";
import { RetryableError, withRetries, type RetryInfo } from "./backoff";
import { decodeDataUrl } from "./data";
import { HttpStatusError } from "./http-status";
import { describeSource, needsNetwork, schemeOf, type Scheme } from "./source";
import { ERROR_BODY_CAP, type CloudTarget } from "./target";
import { crypto } from "../crypto";

export { HttpStatusError } from "./http-status";

export { decodeDataUrl } from "./data";
export { describeSource, needsNetwork } from "./source";
export { backoffDelay, type RetryInfo } from "./backoff";

/** Network settings that come from the config's `ignition` section. */
export interface FetchSettings {
  timeouts?: Timeouts;
  proxy?: Proxy;
  /** Extra trusted CAs in PEM, already fetched. */
  certificateAuthorities?: Buffer[];
  /**
   * The platform id this machine runs on: cloud storage sources use the
   * machine's identity there (s3/arn the EC2 instance role on aws, gs:// the
   * service account on gcp, Azure Blob the managed identity on azure);
   * elsewhere they are read anonymously.
   */
  platform?: string;
  /** The OEM tree, when the caller holds it mounted (config assembly); else each oem:// read finds it (oem.ts). */
  oemDir?: string;
}

/**
 * Fetch settings from a config's `ignition` section, layered over inherited
 * ones: timeouts and proxy replace, CAs add up. CA sources are resources too.
 */
export async function settingsFromConfig(config: Config, inherited: FetchSettings = {}, options: { offline?: boolean } = {}): Promise<FetchSettings> {
  const ignition = config.ignition ?? {};
  const settings: FetchSettings = {
    timeouts: { ...inherited.timeouts, ...definedOnly(ignition.timeouts ?? {}) },
    proxy: ignition.proxy ?? inherited.proxy,
    certificateAuthorities: [...(inherited.certificateAuthorities ?? [])],
    platform: inherited.platform,
    ...(inherited.oemDir !== undefined ? { oemDir: inherited.oemDir } : {}),
  };
  for (const ca of ignition.security?.tls?.certificateAuthorities ?? []) {
    settings.certificateAuthorities!.push(await fetchToBuffer(ca, { ...inherited, offline: options.offline, maxBytes: DEFAULT_CONFIG_CAP, label: `certificate authority ${describeSource(ca.source)}` }));
  }
  return settings;
}

function definedOnly<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined && v !== null)) as Partial<T>;
}

export interface FetchOptions extends FetchSettings {
  /** Cap on the bytes produced after decompression; exceeding it is an error. */
  maxBytes?: number;
  /** Used in errors and logs instead of the URL (which may carry secrets). */
  label?: string;
  /** fetch-offline: a network scheme raises NeedsNetworkError instead of fetching. */
  offline?: boolean;
  /** Replaceable wait between tries (tests); real waiting by default. */
  sleep?: (ms: number) => Promise<void>;
  /** Told about every failed try and the wait before the next. */
  onRetry?: (info: RetryInfo) => void;
}

export interface UrlOptions extends FetchOptions {
  method?: "GET" | "PUT" | "POST";
  /** A request body, for a POST (check-ins). */
  body?: string;
  /** The local port for each try (Scaleway's metadata answers only ports below 1024). */
  localPort?: () => number;
  headers?: Record<string, string>;
  /** Statuses below 500 to retry like a 5xx (Azure IMDS answers 404, 410, 429 while it gets ready). */
  retryStatuses?: number[];
  /** Connect to this address instead of the URL's host (a scoped link-local IPv6 address). */
  connectTo?: string;
  /** Stop trying when aborted. */
  signal?: AbortSignal;
  /** A limit on the whole fetch in ms, on top of `timeouts.httpTotal` (the smaller wins). */
  totalMs?: number;
}

export const DEFAULT_FILE_CAP = 1024 ** 3; // 1 GiB
export const DEFAULT_CONFIG_CAP = 10 * 1024 ** 2; // 10 MiB

/** fetch-offline met something only the network can give; fetch will finish the job. */
export class NeedsNetworkError extends FlintError {
  override name = "NeedsNetworkError";
  constructor(what: string) {
    super(`${what} needs the network`);
  }
}

/** Reads a whole resource into memory (configs, CAs, key files, small files). */
export async function fetchToBuffer(resource: Resource, options: FetchOptions = {}): Promise<Buffer> {
  return fetchInto(resource, options, async () => {
    const chunks: Buffer[] = [];
    return {
      stream: new Writable({ write: (chunk: Buffer, _enc, done) => (chunks.push(chunk), done()) }),
      finish: async () => Buffer.concat(chunks),
      abandon: async () => undefined,
    };
  });
}

/**
 * Streams a resource into `path`: written to a temporary name beside it,
 * synced, and renamed over `path` only once the hash matched. On failure
 * nothing is left at `path` (an existing file there stays as it was).
 */
export async function fetchToFile(resource: Resource, path: string, options: FetchOptions & { mode?: number } = {}): Promise<{ bytes: number }> {
  const temp = randomTempName(dirname(path), "fetch-");
  // Never through a link planted under its name.
  const handle = await open(temp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, options.mode ?? 0o600);
  try {
    const bytes = await fetchToDescriptor(resource, handle.fd, 0, options);
    await handle.sync();
    await handle.close();
    await rename(temp, path);
    return { bytes };
  } catch (e) {
    await handle.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw e;
  }
}

/**
 * Streams a resource into the open file `fd` from offset `at` (each try
 * starts there again, cutting what a failed one left); returns how many
 * bytes it wrote. The caller owns the descriptor: the files stage writes
 * every fetched file through the one it created it with (root/write.ts).
 */
export async function fetchToDescriptor(resource: Resource, fd: number, at: number, options: FetchOptions = {}): Promise<number> {
  return fetchInto(resource, options, async () => {
    ftruncateSync(fd, at);
    let count = 0;
    return {
      // Chunks that arrive while one write is in flight queue up (to 1 MiB)
      // and go out together in the next writev, instead of one thread-pool
      // round trip per 16-64 KiB chunk.
      stream: new Writable({
        highWaterMark: 1 << 20,
        writev: (chunks: { chunk: Buffer }[], done) => {
          const buffers = chunks.map((c) => c.chunk);
          const position = at + count;
          for (const b of buffers) count += b.length;
          writeAll(fd, buffers, position).then(() => done(), done);
        },
      }),
      finish: async () => count,
      abandon: async () => undefined,
    };
  });
}

/** Writes every buffer at `position`, continuing after a short write. */
async function writeAll(fd: number, buffers: Buffer[], position: number): Promise<void> {
  let pending = buffers;
  while (pending.length) {
    let bytesWritten = await new Promise<number>((resolve, reject) => writev(fd, pending, position, (e, n) => (e ? reject(e) : resolve(n))));
    position += bytesWritten;
    const rest: Buffer[] = [];
    for (const b of pending) {
      if (bytesWritten >= b.length) bytesWritten -= b.length;
      else {
        rest.push(bytesWritten ? b.subarray(bytesWritten) : b);
        bytesWritten = 0;
      }
    }
    pending = rest;
  }
}

/** A metadata URL: GET (or PUT) with the shared retries; `undefined` on 404. */
export async function fetchUrl(url: string, options: UrlOptions = {}): Promise<Buffer | undefined> {
  try {
    return await fetchToBuffer({ source: url }, { maxBytes: DEFAULT_CONFIG_CAP, ...options });
  } catch (e) {
    if (e instanceof HttpStatusError && e.status === 404) return undefined;
    throw e;
  }
}

/**
 * Opens the source (with retries for network schemes) and pipes it through
 * gunzip and a size meter into a fresh sink per try. The hash is computed on
 * the bytes after decompression, as Ignition specifies.
 */
interface Sink<T> {
  stream: Writable;
  finish(): Promise<T>;
  abandon(): Promise<void>;
}

async function fetchInto<T>(resource: Resource, options: UrlOptions, makeSink: () => Promise<Sink<T>>): Promise<T> {
  const source = resource.source ?? "data:,";
  const label = options.label ?? describeSource(source);
  const scheme = schemeOf(source, label);
  if (options.offline && needsNetwork(source)) throw new NeedsNetworkError(label);
  const cap = options.maxBytes ?? DEFAULT_FILE_CAP;
  const check = parseHash(resource.verification?.hash, label);

  const once = async (raw: Readable): Promise<T> => {
    const hash = check ? crypto().createHash(check.fn) : undefined;
    let produced = 0;
    const meter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        produced += chunk.length;
        if (produced > cap) return done(new FlintError(`larger than the ${cap}-byte limit${resource.compression === "gzip" ? " after decompression" : ""}`, label));
        hash?.update(chunk);
        done(null, chunk);
      },
    });
    let rawError: Error | undefined;
    raw.on("error", (e) => (rawError ??= e));
    const sink = await makeSink();
    try {
      // zlib and the HTTP stack are loaded only by the fetches that use them (start-up).
      const gunzip = resource.compression === "gzip" ? [(await import("node:zlib")).createGunzip()] : [];
      await pipeline([raw, ...gunzip, meter, sink.stream]);
    } catch (e) {
      await sink.abandon();
      if (e instanceof FlintError || e instanceof RetryableError) throw e;
      // A transfer cut mid-body is worth another try, like a failed connection.
      if (e === rawError) throw new RetryableError(`transfer interrupted: ${(e as Error).message}`);
      throw new FlintError(`${resource.compression === "gzip" ? "gzip decompression failed: " : ""}${(e as Error).message}`, label);
    }
    if (hash && check) {
      const got = hash.digest("hex");
      if (got !== check.hex) {
        await sink.abandon();
        throw new FlintError(`verification failed: expected ${check.fn}-${check.hex}, got ${check.fn}-${got}`, label);
      }
    }
    return sink.finish();
  };

  switch (scheme) {
    case "data":
      return once(Readable.from([decodeDataUrl(source, label)]));
    case "oem": {
      const { withOemStream } = await import("./oem");
      return withOemStream(source, label, options.oemDir, once);
    }
    case "tftp": {
      const { tftpStream } = await import("./tftp");
      log.debug("fetching over TFTP", { source: label });
      return once(tftpStream(source, { label }));
    }
    default: {
      const headers = { ...options.headers };
      for (const header of resource.httpHeaders ?? []) if (header.value !== undefined) headers[header.name] = header.value;
      log.debug("fetching over HTTP", { source: label, method: options.method ?? "GET", headers: Object.keys(headers).length });
      const totalMs = Math.min(...[(options.timeouts?.httpTotal ?? 0) * 1000, options.totalMs ?? 0].filter((ms) => ms > 0), Infinity);
      const { httpTry } = await import("./http");
      const target = await cloudTarget(source, scheme, options, label);
      return withRetries(async (signal) => {
        const response = await httpTry(target?.url ?? source, {
          method: options.method,
          headers: target ? { ...headers, ...(await target.headers()) } : headers,
          answer: target && ((status) => status >= 300),
          headerTimeoutS: options.timeouts?.httpResponseHeaders,
          proxy: options.proxy,
          certificateAuthorities: options.certificateAuthorities,
          retryStatuses: options.retryStatuses,
          connectTo: options.connectTo,
          body: options.body,
          localPort: options.localPort,
          signal,
          label,
        });
        if (target && (response.statusCode ?? 0) >= 300) throw target.failure(response.statusCode ?? 0, await errorBody(response), response.headers);
        return once(response);
        // A cancelled run's (scope.ts) fetch stops too.
      }, { totalMs: Number.isFinite(totalMs) ? totalMs : 0, sleep: options.sleep, onRetry: options.onRetry, signal: options.signal ?? currentScope().signal, label });
    }
  }
}

/** The cloud storage services' sources, made ready for HTTPS by their own modules (loaded only when one appears). */
async function cloudTarget(source: string, scheme: Scheme, options: UrlOptions, label: string): Promise<CloudTarget | undefined> {
  if (scheme === "s3" || scheme === "arn") return (await import("./s3")).s3Target(source, options, label);
  if (scheme === "gs") return (await import("./gcs")).gcsTarget(source, options, label);
  // The host is checked here so that other https: sources do not load the module.
  if (scheme === "https" && options.platform === "azure" && /^https:\/\/[^/?#]+\.blob\.core\.windows\.net\//i.test(source)) {
    const blob = await import("./azure-blob");
    if (blob.isAzureBlobUrl(source)) return blob.blobTarget(source, options, label);
  }
  return undefined;
}

/** The start of an error answer, for the service's own reason. */
async function errorBody(response: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= ERROR_BODY_CAP) break;
    }
  } catch {
    // A body cut short still explains what it can.
  }
  response.destroy();
  return Buffer.concat(chunks).subarray(0, ERROR_BODY_CAP).toString("utf8");
}

function parseHash(expected: string | undefined, label: string): { fn: "sha256" | "sha512"; hex: string } | undefined {
  if (!expected) return undefined;
  const dash = expected.indexOf("-");
  const fn = expected.slice(0, dash);
  if (fn !== "sha256" && fn !== "sha512") throw new FlintError(`unsupported hash function ${JSON.stringify(fn)} (use sha256 or sha512)`, label);
  return { fn, hex: expected.slice(dash + 1).toLowerCase() };
}

/** Checks a whole buffer against a `sha256-…`/`sha512-…` hash (for callers that already hold the bytes). */
export function verifyHash(data: Buffer, expected: string | undefined, label: string): void {
  const check = parseHash(expected, label);
  if (!check) return;
  const got = crypto().createHash(check.fn).update(data).digest("hex");
  if (got !== check.hex) throw new FlintError(`verification failed: expected ${check.fn}-${check.hex}, got ${check.fn}-${got}`, label);
}
