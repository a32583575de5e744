// One HTTP(S) try on Node's own client: redirects, the response-header
// timeout, custom CAs, and proxies (absolute-URI requests for http, CONNECT
// tunnels for https). Retrying is the caller's job (backoff.ts).

import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import { readFileSync } from "node:fs";
import net, { type Socket } from "node:net";
import tls from "node:tls";
import type { Proxy } from "../config/types";
import { FlintError } from "../errors";
import { RetryableError } from "./backoff";
import { HttpStatusError } from "./http-status";
import { proxyFor } from "./proxy";
import { describeSource } from "./source";

export const DEFAULT_HEADER_TIMEOUT_S = 10;
export const MAX_REDIRECTS = 10;

export interface HttpTry {
  method?: string;
  /** Sent to the first host only; dropped when a redirect leads elsewhere. */
  headers?: Record<string, string>;
  /** Seconds to wait for response headers; 0 = forever. */
  headerTimeoutS?: number;
  proxy?: Proxy;
  /** Extra trusted CAs (PEM), on top of Node's bundled roots. */
  certificateAuthorities?: Buffer[];
  /** Statuses below 500 that mean "not ready yet, ask again" (Azure IMDS: 404, 410, 429). */
  retryStatuses?: number[];
  /** Connect to this address instead of the URL's host (a link-local IPv6 address with its zone, which a URL cannot carry). */
  connectTo?: string;
  /** Final statuses the caller reads itself (a cloud service's error body, S3's region header): resolved like a 2xx, body unread. */
  answer?: (status: number) => boolean;
  /** A request body (a check-in's POST); never followed through a redirect. */
  body?: string;
  /** The local port to send from, asked once a try (Scaleway answers only ports below 1024). */
  localPort?: () => number;
  signal: AbortSignal;
  label: string;
}

const USER_AGENT = "flint";

/** Resolves the 2xx response (body unread); throws RetryableError or a final error. */
export async function httpTry(source: string, options: HttpTry): Promise<IncomingMessage> {
  let first: URL;
  try {
    first = new URL(source);
  } catch {
    throw new FlintError("not a valid URL", options.label);
  }
  let url = first;
  let method = options.method;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const sameHost = url.host === first.host && url.protocol === first.protocol;
    const response = await request(url, { ...options, method, headers: sameHost ? options.headers : undefined, body: hop === 0 ? options.body : undefined });
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location) {
      response.resume();
      const next = new URL(response.headers.location, url);
      if (next.protocol !== "http:" && next.protocol !== "https:") throw new FlintError(`redirected to an unsupported scheme ${next.protocol}`, options.label);
      url = next;
      // "See Other" means: fetch the new place with GET.
      if (status === 303) method = "GET";
      continue;
    }
    if ((status >= 200 && status < 300) || options.answer?.(status)) return response;
    response.resume();
    if (status >= 500 || options.retryStatuses?.includes(status)) throw new RetryableError(`HTTP status ${status}`);
    throw new HttpStatusError(status, options.label, http.STATUS_CODES[status]);
  }
  throw new FlintError(`more than ${MAX_REDIRECTS} redirects (a redirect loop?), last to ${describeSource(url.toString())}`, options.label);
}

/**
 * Where distributions keep the system's CA bundle (where Go, and so Ignition,
 * looks); SSL_CERT_FILE names another, as for Go.
 */
const SYSTEM_BUNDLES = ["/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/cert.pem"];

function pemCertificates(file: string): string[] | undefined {
  try {
    return readFileSync(file, "utf8").match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  } catch {
    return undefined; // unreadable or absent: it adds nothing (Node itself only warns)
  }
}

const contexts = new Map<string, tls.SecureContext>();

/**
 * What HTTPS requests trust: Node's bundled roots, the system bundle, the
 * file NODE_EXTRA_CA_CERTS names (if any) and the config's CAs. The system
 * bundle is read here, on the first HTTPS request, rather than through
 * NODE_EXTRA_CA_CERTS, which Node parses at every start-up (some 40 ms
 * natively, fetching or not). One secure context per set, made once.
 */
function trustFor(configCAs: Buffer[] | undefined): tls.SecureContext {
  const systemFile = process.env.SSL_CERT_FILE;
  const extraFile = process.env.NODE_EXTRA_CA_CERTS;
  const fromConfig = (configCAs ?? []).map((c) => c.toString("utf8"));
  const key = JSON.stringify([systemFile, extraFile, fromConfig]);
  let context = contexts.get(key);
  if (!context) {
    const system = systemFile !== undefined ? pemCertificates(systemFile) : SYSTEM_BUNDLES.map(pemCertificates).find((certs) => certs !== undefined);
    const extra = extraFile ? pemCertificates(extraFile) : undefined;
    const ca = [...new Set([...tls.rootCertificates, ...(system ?? []), ...(extra ?? []), ...fromConfig])];
    context = tls.createSecureContext({ ca });
    contexts.set(key, context);
  }
  return context;
}

async function request(url: URL, options: HttpTry): Promise<IncomingMessage> {
  const secure = url.protocol === "https:";
  const proxy = proxyFor(url, options.proxy);
  const secureContext = secure ? trustFor(options.certificateAuthorities) : undefined;
  const headers: Record<string, string> = { "User-Agent": USER_AGENT, "Accept-Encoding": "identity", ...options.headers };
  const timeoutMs = (options.headerTimeoutS ?? DEFAULT_HEADER_TIMEOUT_S) * 1000;
  const method = options.method ?? "GET";
  // The header timeout covers the tunnel set-up too.
  const started = Date.now();
  const tunnelSocket = proxy && secure ? await openTunnel(url, proxy, timeoutMs, options) : undefined;

  return new Promise((resolve, reject) => {
    let req: http.ClientRequest;
    if (proxy && !secure) {
      // Plain HTTP through a proxy: the request line carries the absolute URL.
      req = http.request({ host: proxy.hostname, port: proxy.port || 80, method, path: url.toString(), headers: { ...headers, Host: url.host, ...proxyAuth(proxy) }, agent: false });
    } else if (tunnelSocket) {
      const secured = tls.connect({ socket: tunnelSocket, servername: url.hostname, secureContext });
      // No agent: only then does the client use createConnection.
      req = https.request(url, { method, headers: { ...headers, Host: url.host }, createConnection: () => secured });
    } else {
      const direct = options.connectTo ? { hostname: options.connectTo, headers: { ...headers, Host: url.host } } : {};
      const localPort = options.localPort ? { localPort: options.localPort() } : {};
      // https hands secureContext on to tls.connect, though its option type leaves it out.
      const tlsOptions: https.RequestOptions & Pick<tls.ConnectionOptions, "secureContext"> = { method, headers, agent: false, secureContext, ...localPort, ...direct };
      req = (secure ? https : http).request(url, tlsOptions);
    }
    const left = timeoutMs - (Date.now() - started);
    const timer = timeoutMs > 0 ? setTimeout(() => req.destroy(new RetryableError(`no response headers within ${timeoutMs / 1000} s`)), Math.max(1, left)) : undefined;
    const onAbort = () => req.destroy(new FlintError("aborted: the total time limit passed", options.label));
    if (options.signal.aborted) onAbort();
    options.signal.addEventListener("abort", onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      options.signal.removeEventListener("abort", onAbort);
    };
    req.on("response", (response) => {
      done();
      // The total limit still applies while the body streams.
      const abortBody = () => response.destroy(new FlintError("aborted: the total time limit passed", options.label));
      options.signal.addEventListener("abort", abortBody, { once: true });
      response.on("close", () => options.signal.removeEventListener("abort", abortBody));
      resolve(response);
    });
    req.on("error", (e) => {
      done();
      tunnelSocket?.destroy();
      if (!isTlsFailure(e)) return reject(classify(e));
      // A certificate whose dates exclude "now" is often a clock problem on a first boot: look at its dates.
      const dated = e.code === "CERT_NOT_YET_VALID" || e.code === "CERT_HAS_EXPIRED";
      (dated && !proxy ? certificateDates(url, secureContext, timeoutMs) : Promise.resolve(undefined)).then((dates) => reject(tlsError(e, url, options.label, dates)));
    });
    req.end(options.body);
  });
}

/** A raw socket to `url`'s host through an HTTP proxy's CONNECT tunnel. */
function openTunnel(url: URL, proxy: URL, timeoutMs: number, options: HttpTry): Promise<Socket> {
  const target = `${url.hostname}:${url.port || "443"}`;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: proxy.hostname, port: proxy.port || 80, method: "CONNECT", path: target, headers: { Host: target, ...proxyAuth(proxy) }, agent: false });
    const timer = timeoutMs > 0 ? setTimeout(() => req.destroy(new RetryableError(`the proxy did not open a tunnel within ${timeoutMs / 1000} s`)), timeoutMs) : undefined;
    const onAbort = () => req.destroy(new FlintError("aborted: the total time limit passed", options.label));
    options.signal.addEventListener("abort", onAbort, { once: true });
    const done = () => {
      clearTimeout(timer);
      options.signal.removeEventListener("abort", onAbort);
    };
    req.on("connect", (response, socket) => {
      done();
      const status = response.statusCode ?? 0;
      if (status === 200) return resolve(socket);
      socket.destroy();
      reject(status >= 500 ? new RetryableError(`the proxy refused the tunnel: HTTP status ${status}`) : new FlintError(`the proxy refused the tunnel: HTTP status ${status}`, options.label));
    });
    req.on("error", (e) => {
      done();
      reject(classify(e));
    });
    req.end();
  });
}

function proxyAuth(proxy: URL): Record<string, string> {
  if (!proxy.username) return {};
  const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
  return { "Proxy-Authorization": `Basic ${Buffer.from(credentials).toString("base64")}` };
}

// Certificate problems will not fix themselves; connection problems may.
function isTlsFailure(e: Error): e is NodeJS.ErrnoException {
  const code = (e as NodeJS.ErrnoException).code;
  return !(e instanceof RetryableError || e instanceof FlintError) && code !== undefined && /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/.test(code);
}

function classify(e: Error): Error {
  if (e instanceof RetryableError || e instanceof FlintError) return e;
  if (isTlsFailure(e)) return new FlintError(`TLS: ${e.message}`);
  const code = (e as NodeJS.ErrnoException).code;
  return new RetryableError(code ? `${code} (${e.message})` : e.message);
}

interface CertificateDates {
  subject: string;
  validFrom: Date;
  validTo: Date;
}

/** `TLS: certificate is not yet valid (https://host/x.ign): …`, with a clock hint when the dates tell something. */
function tlsError(e: Error, url: URL, label: string, chain: CertificateDates[] | undefined, now = new Date()): FlintError {
  const shown = describeSource(url.toString());
  return new FlintError(`TLS: ${e.message}${shown === label ? "" : ` (${shown})`}${clockHint(chain, now)}`, label);
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/** Which is likely wrong, the clock or the certificate, from the first certificate of the chain whose dates exclude `now`. */
function clockHint(chain: CertificateDates[] | undefined, now: Date): string {
  const early = chain?.find((c) => c.validFrom > now);
  if (early) {
    return `: the certificate for ${early.subject} is valid from ${day(early.validFrom)} to ${day(early.validTo)} but the system clock says ${now.toISOString()}; the clock is likely wrong (a first boot may have no battery-backed clock or time sync yet)`;
  }
  const late = chain?.find((c) => c.validTo < now);
  if (late) {
    return `: the certificate for ${late.subject} expired on ${day(late.validTo)} (valid from ${day(late.validFrom)}) and the system clock says ${now.toISOString()}; the certificate is likely out of date, unless the clock is ahead`;
  }
  return "";
}

/**
 * The validity dates of the certificates `url`'s server presents, read over
 * a second connection that completes the handshake without verifying and
 * sends nothing, then closes. Only used to explain a failure.
 */
function certificateDates(url: URL, secureContext: tls.SecureContext | undefined, timeoutMs: number): Promise<CertificateDates[] | undefined> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: url.hostname, port: Number(url.port || 443), servername: net.isIP(url.hostname) ? undefined : url.hostname, secureContext, rejectUnauthorized: false });
    const finish = (result: CertificateDates[] | undefined) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(result);
    };
    const timer = setTimeout(() => finish(undefined), Math.min(timeoutMs || 5000, 5000));
    socket.on("error", () => finish(undefined));
    socket.on("secureConnect", () => {
      const chain: CertificateDates[] = [];
      const seen = new Set<string>();
      for (let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true); cert?.raw && !seen.has(cert.fingerprint256); cert = cert.issuerCertificate) {
        seen.add(cert.fingerprint256);
        chain.push({ subject: `CN=${cert.subject?.CN ?? "?"}`, validFrom: new Date(cert.valid_from), validTo: new Date(cert.valid_to) });
      }
      finish(chain);
    });
  });
}
