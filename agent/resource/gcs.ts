// gs://BUCKET/OBJECT sources, read as Ignition reads them: the object from
// the Cloud Storage JSON API
// (`https://storage.googleapis.com/storage/v1/b/BUCKET/o/OBJECT?alt=media`,
// the object name escaped as one path segment), with an OAuth2 access token
// of the VM's default service account from the GCE metadata server
// (`instance/service-accounts/default/token`, scope devstorage.read_only,
// `Metadata-Flavor: Google`). A VM without a service account reads
// anonymously, as Ignition does. Ignition asks the metadata server wherever
// one answers; Flint asks it on the gcp platform only (elsewhere there is no
// such server, and asking costs a timeout), and reads anonymously elsewhere.

import type { IncomingHttpHeaders } from "node:http";
import { FlintError } from "../errors";
import { log } from "../log";
import { RetryableError } from "./backoff";
import { fetchUrl, type UrlOptions } from "./index";
import { Renewing, type CloudTarget } from "./target";

const METADATA = "http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default";
const FLAVOR = { "Metadata-Flavor": "Google" };
export const READ_SCOPE = "https://www.googleapis.com/auth/devstorage.read_only";

/** The bucket and object of a gs:// URL (the object percent-decoded, as Ignition takes the URL's path). */
export function parseGsSource(source: string, label: string): { bucket: string; object: string } {
  const url = new URL(source);
  const object = decodeURIComponent(url.pathname).replace(/^\/+/, "");
  if (!url.host || !object) throw new FlintError("a gs:// URL names a bucket and an object: gs://BUCKET/OBJECT", label);
  return { bucket: url.host, object };
}

export function gcsUrl(bucket: string, object: string): string {
  return `https://storage.googleapis.com/storage/v1/b/${encodeURIComponent(bucket)}/o/${encodeURIComponent(object)}?alt=media`;
}

interface AccessToken {
  value: string;
  account: string;
}

let serviceAccount: Renewing<AccessToken> | undefined;

/** The default service account's token; null when the VM has none (the metadata server's 404). */
async function accessToken(options: UrlOptions): Promise<{ value: AccessToken; expiresAt: number } | null> {
  // Timeouts only, never the config's proxy (it would reach its own host's metadata server).
  const metadata: UrlOptions = { timeouts: options.timeouts, sleep: options.sleep, signal: options.signal, headers: FLAVOR };
  // As Ignition: the account's scopes tell whether the VM has one (404 when not).
  const scopes = (await fetchUrl(`${METADATA}/scopes`, { ...metadata, label: "GCE service account" }))?.toString("utf8").trim();
  if (!scopes) {
    log.info("the VM has no service account: gs:// objects are read anonymously");
    return null;
  }
  // The account's address only names it in messages.
  const email = (await fetchUrl(`${METADATA}/email`, { ...metadata, label: "GCE service account" }).catch(() => undefined))?.toString("utf8").trim() || "default";
  const body = await fetchUrl(`${METADATA}/token?scopes=${encodeURIComponent(READ_SCOPE)}`, { ...metadata, label: `GCE token of ${email}` });
  let token: { access_token?: string; expires_in?: number; token_type?: string };
  try {
    token = JSON.parse(body?.toString("utf8") ?? "");
  } catch {
    throw new FlintError(`the token of service account ${email} is not JSON`, "GCE metadata server");
  }
  if (!token.access_token || (token.token_type ?? "Bearer") !== "Bearer") throw new FlintError(`the metadata server gave no bearer token for service account ${email}`, "GCE metadata server");
  log.debug("read the service account's token from the metadata server", { account: email, expiresIn: token.expires_in });
  return { value: { value: token.access_token, account: email }, expiresAt: Date.now() + (token.expires_in ?? 0) * 1000 };
}

/** The `error.message` and `error.errors[0].reason` of a JSON API error answer. */
export function gcsError(body: string): { message?: string; reason?: string } {
  try {
    const error = JSON.parse(body).error;
    return { message: error?.message, reason: error?.errors?.[0]?.reason };
  } catch {
    return { message: body.trim().slice(0, 200) || undefined };
  }
}

export async function gcsTarget(source: string, options: UrlOptions, label: string): Promise<CloudTarget> {
  const { bucket, object } = parseGsSource(source, label);
  const onGce = options.platform === "gcp";
  let usedToken: AccessToken | undefined;
  let renewNext = false;
  let renewed = false;
  return {
    url: gcsUrl(bucket, object),
    async headers(): Promise<Record<string, string>> {
      serviceAccount ??= new Renewing(() => accessToken(options));
      usedToken = onGce ? (await serviceAccount.get(renewNext)) ?? undefined : undefined;
      renewNext = false;
      return usedToken ? { Authorization: `Bearer ${usedToken.value}` } : {};
    },
    failure(status: number, body: string, _headers: IncomingHttpHeaders): Error {
      const { message, reason } = gcsError(body);
      const as = usedToken ? `with the token of service account ${usedToken.account}` : onGce ? "anonymously: the VM has no service account" : "anonymously: only the gcp platform asks the metadata server for a token";
      const what = `Cloud Storage answered HTTP ${status}${reason ? ` ${reason}` : ""}${message ? `: ${message}` : ""} (${as})`;
      if (status >= 500 || status === 429) return new RetryableError(what);
      // A token refused as invalid may have expired on the way: one new token, one more try.
      if (usedToken && status === 401 && !renewed) {
        renewed = renewNext = true;
        return new RetryableError(`${what}; asking the metadata server for a new token`);
      }
      return new FlintError(what, label);
    },
  };
}
