// S3 objects: `s3://BUCKET/KEY[?versionId=V]`, bucket ARNs
// (`arn:PARTITION:s3:::BUCKET/KEY`) and access point ARNs
// (`arn:PARTITION:s3:REGION:ACCOUNT:accesspoint/NAME/object/KEY`), read as
// Ignition reads them (internal/resource/url.go with the AWS SDK):
// - the bucket's region is asked of S3 itself: an unsigned HEAD of the bucket
//   at the endpoint of a hint region, whose answer (200, 301 or 403 alike)
//   names it in `x-amz-bucket-region`; the hint is the ARN's partition's
//   first region, else the instance's region (on aws), else us-east-1. An
//   access point ARN names its region;
// - the object is read from the dual-stack endpoint of that region,
//   virtual-hosted (`BUCKET.s3.dualstack.REGION.amazonaws.com/KEY`) when the
//   bucket name is a plain DNS label, path-style
//   (`s3.dualstack.REGION.amazonaws.com/BUCKET/KEY`) otherwise (dots in the
//   name: no wildcard certificate covers them), and an access point at
//   `NAME-ACCOUNT.s3-accesspoint.dualstack.REGION.amazonaws.com/KEY`;
// - on the aws platform the request is signed (SigV4, the `aws4` library)
//   with the instance role's credentials from IMDSv2; an instance with no
//   role reads anonymously, as Ignition does; elsewhere it is anonymous.
// Unlike Ignition, gzip compression is honoured as for any other source.

import type { IncomingHttpHeaders } from "node:http";
import { FlintError } from "../errors";
import { log } from "../log";
import { RetryableError, withRetries } from "./backoff";
import { httpTry } from "./http";
import { HttpStatusError } from "./http-status";
import { fetchUrl, type UrlOptions } from "./index";
import { Renewing, xmlErrorFields, type CloudTarget } from "./target";

const IMDS = "http://169.254.169.254";
/** The first region of each partition, where a bucket ARN's region is asked (as Ignition's hints). */
const PARTITION_HINTS: Record<string, string> = { aws: "us-east-1", "aws-cn": "cn-north-1", "aws-us-gov": "us-gov-west-1" };

export interface S3Object {
  bucket: string;
  key: string;
  versionId?: string;
  /** Known for access points (their ARN names it). */
  region?: string;
  /** Where to ask for the bucket's region when it is not known. */
  regionHint?: string;
  accessPoint?: { name: string; account: string };
}

/** Reads an s3:// or arn: source into what to fetch (the checks match the config validator's). */
export function parseS3Source(source: string, label: string): S3Object {
  const query = source.indexOf("?");
  const params = new URLSearchParams(query < 0 ? "" : source.slice(query + 1));
  const versionId = params.get("versionId") ?? undefined;
  if (versionId === "") throw new FlintError("invalid S3 object versionId: it is empty", label);
  const bare = query < 0 ? source : source.slice(0, query);
  if (/^s3:/i.test(bare)) {
    const url = new URL(bare);
    const key = decodeURIComponent(url.pathname).replace(/^\/+/, "");
    if (!url.host || !key) throw new FlintError("an s3:// URL names a bucket and a key: s3://BUCKET/KEY", label);
    return { bucket: url.host, key, versionId };
  }
  // arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE
  const fields = bare.split(":");
  const [, partition = "", service, region = "", account = ""] = fields;
  const resource = fields.slice(5).join(":");
  if (fields.length < 6 || service !== "s3") throw new FlintError("invalid S3 ARN: not arn:PARTITION:s3:…", label);
  const regionHint = PARTITION_HINTS[partition];
  if (resource.startsWith("accesspoint/")) {
    const [, name = "", object, ...key] = resource.split("/");
    if (!name || object !== "object" || !key.join("/") || !region || !account) throw new FlintError("invalid S3 ARN: an access point ARN is arn:PARTITION:s3:REGION:ACCOUNT:accesspoint/NAME/object/KEY", label);
    return { bucket: `arn:${partition}:s3:${region}:${account}:accesspoint/${name}`, key: key.join("/"), versionId, region, regionHint, accessPoint: { name, account } };
  }
  const slash = resource.indexOf("/");
  if (slash <= 0 || slash === resource.length - 1) throw new FlintError("invalid S3 ARN: a bucket ARN is arn:PARTITION:s3:::BUCKET/KEY", label);
  return { bucket: resource.slice(0, slash), key: resource.slice(slash + 1), versionId, regionHint };
}

/** The domain of a region's partition (China's regions have their own). */
function dnsSuffix(region: string): string {
  return region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
}

/** A bucket name that can be a host name label under a wildcard certificate (the SDK's rule for virtual-hosted style). */
export function virtualHostable(bucket: string): boolean {
  return /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/.test(bucket);
}

/** Percent-encodes as SigV4 does (RFC 3986 unreserved characters stay). */
function encode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The object's (or with `key` "", the bucket's) URL at `region`'s endpoint. */
export function s3Url(object: Pick<S3Object, "bucket" | "accessPoint">, key: string, region: string, dualStack: boolean): string {
  const path = `/${key.split("/").map(encode).join("/")}`;
  const stack = dualStack ? ".dualstack" : "";
  if (object.accessPoint) return `https://${object.accessPoint.name}-${object.accessPoint.account}.s3-accesspoint${stack}.${region}.${dnsSuffix(region)}${path}`;
  const endpoint = `s3${stack}.${region}.${dnsSuffix(region)}`;
  if (virtualHostable(object.bucket)) return `https://${object.bucket}.${endpoint}${path}`;
  return `https://${endpoint}/${encode(object.bucket)}${key ? path : ""}`;
}

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  expiration?: Date;
  /** The role they belong to (shown in errors, never the keys). */
  role: string;
}

/** What one process learned of this instance: its role's credentials (null: no role), its region, bucket regions. */
const instance: { imds?: Promise<Record<string, string>>; role?: Renewing<AwsCredentials>; region?: Promise<string>; buckets: Map<string, Promise<string>> } = { buckets: new Map() };

/**
 * What IMDS requests take from the source's options: timeouts only. Never
 * the config's proxy: a proxy would reach the metadata service of its own
 * host and hand back that host's credentials.
 */
function imdsOptions(options: UrlOptions): UrlOptions {
  return { timeouts: options.timeouts, sleep: options.sleep, signal: options.signal };
}

/** An IMDSv2 session token (good for six hours, asked once), or none where the service has no token endpoint (IMDSv1). */
function imdsHeaders(options: UrlOptions): Promise<Record<string, string>> {
  const session = (instance.imds ??= imdsSession(options));
  session.catch(() => {
    if (instance.imds === session) instance.imds = undefined;
  });
  return session;
}

async function imdsSession(options: UrlOptions): Promise<Record<string, string>> {
  try {
    const token = await fetchUrl(`${IMDS}/latest/api/token`, { ...imdsOptions(options), method: "PUT", headers: { "X-aws-ec2-metadata-token-ttl-seconds": "21600" }, label: "IMDSv2 token" });
    return token?.length ? { "X-aws-ec2-metadata-token": token.toString("utf8").trim() } : {};
  } catch (e) {
    if (e instanceof HttpStatusError && (e.status === 403 || e.status === 405)) return {};
    throw e;
  }
}

/** The instance role's credentials from IMDS; null when the instance has no role. */
async function roleCredentials(options: UrlOptions): Promise<{ value: AwsCredentials; expiresAt?: number } | null> {
  const auth = await imdsHeaders(options);
  const base = `${IMDS}/latest/meta-data/iam/security-credentials/`;
  const roles = await fetchUrl(base, { ...imdsOptions(options), headers: auth, label: "IMDS instance role" });
  const role = roles?.toString("utf8").split("\n")[0]?.trim();
  if (!role) {
    log.info("the instance has no IAM role: S3 objects are read anonymously");
    return null;
  }
  const body = await fetchUrl(base + encodeURIComponent(role), { ...imdsOptions(options), headers: auth, label: `IMDS credentials of role ${role}` });
  let doc: { Code?: string; AccessKeyId?: string; SecretAccessKey?: string; Token?: string; Expiration?: string };
  try {
    doc = JSON.parse(body?.toString("utf8") ?? "");
  } catch {
    throw new FlintError(`the credentials of instance role ${role} are not JSON`, "IMDS");
  }
  if (doc.Code !== "Success" || !doc.AccessKeyId || !doc.SecretAccessKey) throw new FlintError(`IMDS has no usable credentials for instance role ${role} (Code ${JSON.stringify(doc.Code)})`, "IMDS");
  const expiration = doc.Expiration ? new Date(doc.Expiration) : undefined;
  // As the AWS SDK: credentials IMDS hands out already expired are still tried (the service may be behind); S3 will say.
  if (expiration && expiration.getTime() <= Date.now()) log.warn(`IMDS handed out credentials of role ${role} that expired at ${expiration.toISOString()}`);
  log.debug("read the instance role's credentials from IMDS", { role, expires: expiration?.toISOString() });
  return { value: { accessKeyId: doc.AccessKeyId, secretAccessKey: doc.SecretAccessKey, sessionToken: doc.Token, expiration, role }, expiresAt: expiration?.getTime() };
}

/** The instance's region from IMDS (Ignition's hint on aws), us-east-1 when it cannot tell. */
function instanceRegion(options: UrlOptions): Promise<string> {
  instance.region ??= (async () => {
    try {
      const region = (await fetchUrl(`${IMDS}/latest/meta-data/placement/region`, { ...imdsOptions(options), headers: await imdsHeaders(options), label: "IMDS region" }))?.toString("utf8").trim();
      if (region) return region;
    } catch (e) {
      log.warn(`could not read the instance's region from IMDS (${(e as Error).message}); asking us-east-1 for bucket regions`);
    }
    return "us-east-1";
  })();
  return instance.region;
}

/** The bucket's region, from the `x-amz-bucket-region` header of an unsigned HEAD at the hint's endpoint. */
function bucketRegion(object: S3Object, hint: string, options: UrlOptions, label: string): Promise<string> {
  const cacheKey = `${hint} ${object.bucket}`;
  let region = instance.buckets.get(cacheKey);
  if (!region) {
    const url = s3Url(object, "", hint, false);
    region = withRetries(async (signal) => {
      const response = await httpTry(url, { method: "HEAD", answer: () => true, headerTimeoutS: options.timeouts?.httpResponseHeaders, proxy: options.proxy, certificateAuthorities: options.certificateAuthorities, signal, label });
      response.resume();
      const status = response.statusCode ?? 0;
      const named = response.headers["x-amz-bucket-region"];
      if (typeof named === "string" && named) return named;
      if (status === 404) throw new FlintError(`could not find bucket ${JSON.stringify(object.bucket)} (asked in ${hint})`, label);
      if (status >= 500) throw new RetryableError(`HTTP status ${status} asking for the region of bucket ${object.bucket}`);
      throw new FlintError(`could not determine the region of bucket ${JSON.stringify(object.bucket)}: HTTP status ${status} from ${hint} without x-amz-bucket-region`, label);
    }, { totalMs: options.timeouts?.httpTotal ? options.timeouts.httpTotal * 1000 : 0, sleep: options.sleep, signal: options.signal, label });
    instance.buckets.set(cacheKey, region);
    region.catch(() => instance.buckets.delete(cacheKey));
  }
  return region;
}

/** The `<Code>` and `<Message>` (and `<Region>`, `<ServerTime>`) of S3's XML error answer. */
export function s3Error(body: string): Record<string, string> {
  return xmlErrorFields(body, ["Code", "Message", "Region", "Endpoint", "ServerTime", "RequestTime"]);
}

/** Codes worth another try (the SDK's retryable and throttling ones). */
const RETRY_CODES = ["RequestTimeout", "SlowDown", "InternalError", "ServiceUnavailable", "Throttling"];
/** Codes that new credentials from IMDS may cure (IMDS renews them before they expire). */
const CREDENTIAL_CODES = ["ExpiredToken", "InvalidToken", "InvalidAccessKeyId"];

export async function s3Target(source: string, options: UrlOptions, label: string): Promise<CloudTarget> {
  const object = parseS3Source(source, label);
  const onAws = options.platform === "aws";
  const region = object.region ?? (await bucketRegion(object, object.regionHint ?? (onAws ? await instanceRegion(options) : "us-east-1"), options, label));
  const url = s3Url(object, object.key, region, true) + (object.versionId ? `?versionId=${encode(object.versionId)}` : "");
  let renewed = false;
  let renewNext = false;
  /** The server's clock minus ours, learnt from a RequestTimeTooSkewed answer (a first boot's clock may be off). */
  let skewMs = 0;
  let signedWith: AwsCredentials | undefined;
  log.debug("reading an S3 object", { source: label, region, style: object.accessPoint ? "access point" : virtualHostable(object.bucket) ? "virtual-hosted" : "path" });
  return {
    url,
    async headers() {
      instance.role ??= new Renewing(() => roleCredentials(options));
      signedWith = onAws ? (await instance.role.get(renewNext)) ?? undefined : undefined;
      renewNext = false;
      if (!signedWith) return {};
      const aws4 = await import("aws4");
      const target = new URL(url);
      const amzDate = new Date(Date.now() + skewMs).toISOString().replace(/[-:]|\.\d{3}/g, "");
      const signed = aws4.sign({ host: target.host, path: target.pathname + target.search, method: "GET", service: "s3", region, headers: { "X-Amz-Date": amzDate } }, signedWith);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(signed.headers ?? {})) if (value !== undefined) headers[name] = String(value);
      return headers;
    },
    failure(status: number, body: string, headers: IncomingHttpHeaders): Error {
      const error = s3Error(body);
      const code = error.Code ?? "";
      const as = signedWith ? `signed with the credentials of instance role ${signedWith.role}` : onAws ? "anonymously: the instance has no IAM role" : `anonymously: only the aws platform signs S3 requests`;
      const what = `S3 answered HTTP ${status}${code ? ` ${code}` : ""}${error.Message ? `: ${error.Message}` : ""} (${as})`;
      if (status >= 500 || RETRY_CODES.includes(code)) return new RetryableError(what);
      if (signedWith && CREDENTIAL_CODES.includes(code) && !renewed) {
        renewed = renewNext = true;
        return new RetryableError(`${what}; asking IMDS for new credentials`);
      }
      if (code === "RequestTimeTooSkewed" && skewMs === 0) {
        const server = Date.parse(error.ServerTime ?? String(headers.date ?? ""));
        if (Number.isFinite(server)) {
          skewMs = server - Date.now();
          log.warn(`the system clock is ${Math.abs(Math.round(skewMs / 1000))} s ${skewMs > 0 ? "behind" : "ahead of"} S3's; signing with S3's time`, { source: label });
          return new RetryableError(what);
        }
      }
      const region = headers["x-amz-bucket-region"];
      const hint = status === 301 && typeof region === "string" ? `; the bucket is in ${region}` : status === 404 && object.versionId ? ` (version ${object.versionId})` : "";
      return new FlintError(what + hint, label);
    },
  };
}
