// Azure Blob Storage URLs (`https://ACCOUNT.blob.core.windows.net/CONTAINER/BLOB`)
// on the azure platform, read as Ignition 2.21+ reads them: with a token of
// the VM's managed identity from IMDS
// (`/metadata/identity/oauth2/token`, resource https://storage.azure.com,
// `Metadata: true`), sent as `Authorization: Bearer` with the
// `x-ms-version` that bearer tokens need. A VM without an identity (IMDS:
// 400 "Identity not found"), or a read the identity may not do, falls back
// to a plain anonymous HTTPS read, as Ignition's does. Ignition insists on
// exactly CONTAINER/BLOB; Flint also reads blobs in virtual directories.

import type { IncomingHttpHeaders } from "node:http";
import { FlintError } from "../errors";
import { log } from "../log";
import { RetryableError } from "./backoff";
import { HttpStatusError } from "./http-status";
import { fetchUrl, type UrlOptions } from "./index";
import { Renewing, xmlErrorFields, type CloudTarget } from "./target";

const TOKEN_URL = `http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent("https://storage.azure.com")}`;
/** A service version that takes bearer tokens (2017-11-09 or later). */
export const STORAGE_VERSION = "2023-11-03";

let identity: Renewing<string> | undefined;

/** How long IMDS may keep answering "not ready" (404, 410, 429) before the blob is read anonymously. */
const TOKEN_WAIT_MS = 20_000;

/** The managed identity's token for Azure Storage; null when the VM has none (or IMDS would not give one: read anonymously, as Ignition falls back). */
async function identityToken(options: UrlOptions): Promise<{ value: string; expiresAt?: number } | null> {
  let body: Buffer | undefined;
  try {
    // IMDS answers 404, 410 or 429 while the VM is still being set up; ask again then, as Azure's SDK does.
    // Timeouts only, never the config's proxy (it would reach its own host's IMDS).
    body = await fetchUrl(TOKEN_URL, { timeouts: options.timeouts, sleep: options.sleep, signal: options.signal, headers: { Metadata: "true" }, retryStatuses: [404, 410, 429], totalMs: TOKEN_WAIT_MS, label: "Azure managed identity" });
  } catch (e) {
    if (e instanceof HttpStatusError && e.status === 400) log.info("the VM has no managed identity: Azure Blob URLs are read anonymously");
    else log.warn(`no token from the managed identity (${(e as Error).message}): Azure Blob URLs are read anonymously`);
    return null;
  }
  let token: { access_token?: string; expires_on?: string | number; token_type?: string };
  try {
    token = JSON.parse(body?.toString("utf8") ?? "");
  } catch {
    throw new FlintError("the managed identity's token is not JSON", "Azure IMDS");
  }
  if (!token.access_token) throw new FlintError("IMDS gave no access token for the managed identity", "Azure IMDS");
  const expiresOn = Number(token.expires_on);
  log.debug("read the managed identity's token from IMDS", { expiresOn: Number.isFinite(expiresOn) ? new Date(expiresOn * 1000).toISOString() : undefined });
  return { value: token.access_token, expiresAt: Number.isFinite(expiresOn) && expiresOn > 0 ? expiresOn * 1000 : undefined };
}

/** An Azure Blob URL: the account's blob endpoint and at least a container and a blob. */
export function isAzureBlobUrl(source: string): boolean {
  return /^https:\/\/[a-z0-9]+\.blob\.core\.windows\.net\/[^/?#]+\/[^?#]/i.test(source);
}

export async function blobTarget(source: string, options: UrlOptions, label: string): Promise<CloudTarget> {
  let usedToken = false;
  let anonymously = false;
  let renewNext = false;
  let renewed = false;
  let refusedWithToken: string | undefined;
  return {
    url: source,
    async headers(): Promise<Record<string, string>> {
      identity ??= new Renewing(() => identityToken(options));
      const token = anonymously ? null : await identity.get(renewNext);
      renewNext = false;
      usedToken = token !== null;
      if (!token) return {};
      return { Authorization: `Bearer ${token}`, "x-ms-version": STORAGE_VERSION, "x-ms-date": new Date().toUTCString() };
    },
    failure(status: number, body: string, _headers: IncomingHttpHeaders): Error {
      const { Code: code, Message: message, AuthenticationErrorDetail: detail } = xmlErrorFields(body, ["Code", "Message", "AuthenticationErrorDetail"]);
      const as = usedToken ? "with the VM's managed identity" : refusedWithToken ? "anonymously" : "anonymously: no token from a managed identity";
      const what = `Azure Storage answered HTTP ${status}${code ? ` ${code}` : ""}${message ? `: ${message.split("\n")[0]}` : ""}${detail ? ` (${detail})` : ""} (${as})`;
      if (status >= 500 || status === 429) return new RetryableError(what);
      if (usedToken && status === 401 && !renewed) {
        renewed = renewNext = true;
        return new RetryableError(`${what}; asking IMDS for a new token`);
      }
      if (usedToken) {
        refusedWithToken = what;
        anonymously = true;
        return new RetryableError(`${what}; trying anonymously, as Ignition does`);
      }
      return new FlintError(refusedWithToken ? `${what}; with the managed identity: ${refusedWithToken}` : what, label);
    },
  };
}
