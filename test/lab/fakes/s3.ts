// Amazon S3 and the EC2 instance role, as AWS documents them, for the lab:
//
// - The instance role (served by the aws fake's IMDS): `meta-data/iam/info`,
//   `meta-data/iam/security-credentials/` (the role's name; 404 without a
//   role) and `…/ROLE` (JSON: Code, LastUpdated, Type, AccessKeyId "ASIA…",
//   SecretAccessKey, Token, Expiration, valid six hours). Scenarios:
//   `no-role`; `expired-credentials` (IMDS hands out credentials past their
//   expiry); `stale-credentials` (the first credentials handed out are past
//   their expiry, later ones fresh); `wrong-secret` (the secret handed out
//   is not the one S3 knows for that key); `clock-behind` (the machine's
//   clock is an hour behind S3's, as on a first boot without a set clock).
// - S3 at its real names (virtual-hosted `BUCKET.s3[.dualstack].REGION.
//   amazonaws.com`, path-style `s3[.dualstack].REGION.amazonaws.com/BUCKET`,
//   access points `NAME-ACCOUNT.s3-accesspoint[.dualstack].REGION.
//   amazonaws.com`), over HTTPS, answering as S3 does: every answer about a
//   bucket carries `x-amz-bucket-region`; an endpoint of another region
//   answers 301 PermanentRedirect (HEAD without a body); anonymous requests
//   to a private bucket 403 AccessDenied; SigV4 is verified here, by this
//   file's own implementation of the algorithm (not Flint's signer):
//   InvalidAccessKeyId, InvalidToken and ExpiredToken (400),
//   SignatureDoesNotMatch (403, with the string to sign and canonical
//   request S3 computed), AuthorizationHeaderMalformed (400, wrong region),
//   RequestTimeTooSkewed (403, over 15 minutes), XAmzContentSHA256Mismatch;
//   NoSuchKey, NoSuchVersion (404); `versionId` selects a version.
//
// The buckets are fixed (their names must be in the lab's DNS): see
// LAB_BUCKETS. Objects come from CloudOptions.objects, keyed
// `s3://BUCKET/KEY` (the current version) or `s3://BUCKET/KEY?versionId=V`.

import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CloudOptions, Listener } from "./service";

/** Where the lab's S3 lives inside the namespace (TEST-NET-2; the real service's addresses are never used). */
export const S3_ADDRESS = "198.51.100.3";
export const LAB_ROLE = "flint-lab-instance-role";
export const LAB_ACCOUNT = "123456789012";

export interface LabBucket {
  name: string;
  region: string;
  /** Readable anonymously (a bucket policy granting s3:GetObject to everyone). */
  public?: boolean;
}

export const LAB_BUCKETS: LabBucket[] = [
  { name: "flint-lab-east", region: "us-east-1" },
  { name: "flint-lab-west", region: "eu-west-1" },
  // Dots: not virtual-hosted over HTTPS (no wildcard certificate covers them).
  { name: "flint.lab.dotted", region: "eu-west-1" },
  { name: "flint-lab-public", region: "us-west-2", public: true },
];
/** An access point on flint-lab-west: arn:aws:s3:eu-west-1:123456789012:accesspoint/flint-lab-ap. */
export const LAB_ACCESS_POINT = { name: "flint-lab-ap", account: LAB_ACCOUNT, region: "eu-west-1", bucket: "flint-lab-west" };

/** The host names the lab's DNS must resolve to S3_ADDRESS: the endpoints a client of these buckets uses. */
export function s3HostNames(): string[] {
  const names = new Set<string>();
  const regions = new Set(["us-east-1", ...LAB_BUCKETS.map((b) => b.region)]);
  for (const region of regions) for (const stack of ["", ".dualstack"]) names.add(`s3${stack}.${region}.amazonaws.com`);
  for (const bucket of LAB_BUCKETS) {
    if (bucket.name.includes(".")) continue;
    for (const region of regions) for (const stack of ["", ".dualstack"]) names.add(`${bucket.name}.s3${stack}.${region}.amazonaws.com`);
  }
  for (const stack of ["", ".dualstack"]) names.add(`${LAB_ACCESS_POINT.name}-${LAB_ACCESS_POINT.account}.s3-accesspoint${stack}.${LAB_ACCESS_POINT.region}.amazonaws.com`);
  return [...names];
}

// ---------------------------------------------------------------------------
// The instance role's credentials, shared by IMDS (which hands them out) and
// S3 (which checks them), as STS would.

interface IssuedCredentials {
  accessKeyId: string;
  /** The secret S3 knows for this key. */
  secret: string;
  token: string;
  expiration: Date;
}

const issued = new Map<string, IssuedCredentials>();
let handedOut = 0;

function issue(validMs: number): IssuedCredentials {
  const credentials = {
    accessKeyId: `ASIA${randomBytes(8).toString("hex").toUpperCase()}`,
    secret: randomBytes(30).toString("base64"),
    token: `IQoJb3JpZ2luX2Vj${randomBytes(96).toString("base64")}`,
    expiration: new Date(Date.now() + validMs),
  };
  issued.set(credentials.accessKeyId, credentials);
  return credentials;
}

/** An IMDS `meta-data/iam/…` entry (KEY without `meta-data/`), `undefined` for a 404. */
export function roleMetadata(key: string, scenario: string | undefined): string | undefined {
  if (scenario === "no-role") return undefined;
  if (key === "iam/") return "info\nsecurity-credentials/";
  if (key === "iam/info") return JSON.stringify({ Code: "Success", LastUpdated: new Date().toISOString().replace(/\.\d+/, ""), InstanceProfileArn: `arn:aws:iam::${LAB_ACCOUNT}:instance-profile/${LAB_ROLE}`, InstanceProfileId: "AIPAFLINTLABEXAMPLE01" });
  if (key === "iam/security-credentials/") return LAB_ROLE;
  if (key !== `iam/security-credentials/${LAB_ROLE}`) return undefined;
  handedOut++;
  const expired = scenario === "expired-credentials" || (scenario === "stale-credentials" && handedOut === 1);
  const credentials = issue(expired ? -60_000 : 6 * 3600_000);
  const secret = scenario === "wrong-secret" ? randomBytes(30).toString("base64") : credentials.secret;
  return JSON.stringify({
    Code: "Success",
    LastUpdated: new Date(Date.now() - (expired ? 7 * 3600_000 : 0)).toISOString().replace(/\.\d+/, ""),
    Type: "AWS-HMAC",
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: secret,
    Token: credentials.token,
    Expiration: credentials.expiration.toISOString().replace(/\.\d+/, ""),
  });
}

// ---------------------------------------------------------------------------
// SigV4, written here from AWS's description of the algorithm.

const sha256 = (data: string | Buffer) => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();
export const EMPTY_SHA256 = sha256("");

/** RFC 3986 percent-encoding of everything but unreserved characters, as SigV4 specifies. */
function uriEncode(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export interface SigV4Request {
  method: string;
  /** The path as sent (percent-encoded). */
  path: string;
  /** The query string as sent, without `?`. */
  query: string;
  headers: Record<string, string | string[] | undefined>;
}

/** S3's canonical request: the path's segments decoded and encoded once, the query sorted, the signed headers trimmed. */
export function canonicalRequest(req: SigV4Request, signedHeaders: string[], payloadHash: string): string {
  const path = req.path.split("/").map((segment) => uriEncode(decodeURIComponent(segment))).join("/");
  const query = req.query
    .split("&")
    .filter(Boolean)
    .map((pair) => {
      const eq = pair.indexOf("=");
      const [k, v] = eq < 0 ? [pair, ""] : [pair.slice(0, eq), pair.slice(eq + 1)];
      return [uriEncode(decodeURIComponent(k.replace(/\+/g, " "))), uriEncode(decodeURIComponent(v.replace(/\+/g, " ")))] as const;
    })
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const headers = signedHeaders.map((name) => {
    const value = req.headers[name];
    const joined = Array.isArray(value) ? value.join(",") : value ?? "";
    return `${name}:${joined.trim().replace(/\s+/g, " ")}\n`;
  });
  return [req.method, path, query, headers.join(""), signedHeaders.join(";"), payloadHash].join("\n");
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
}

export function signature(secret: string, date: string, region: string, service: string, toSign: string): string {
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
  return createHmac("sha256", key).update(toSign).digest("hex");
}

// ---------------------------------------------------------------------------
// The service.

type Objects = Map<string, Buffer>;

interface Addressed {
  bucket: LabBucket;
  /** The region of the endpoint the request came to. */
  endpointRegion: string;
  key: string;
}

const xml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function answer(req: IncomingMessage, res: ServerResponse, status: number, region: string | undefined, code: string, message: string, extra: Record<string, string> = {}): void {
  const requestId = randomBytes(8).toString("hex").toUpperCase();
  const headers: Record<string, string> = { "Content-Type": "application/xml", "x-amz-request-id": requestId, "x-amz-id-2": randomBytes(24).toString("base64"), Server: "AmazonS3", Date: new Date().toUTCString() };
  if (region) headers["x-amz-bucket-region"] = region;
  res.writeHead(status, headers);
  // A HEAD answer has no body: the client sees only the status and headers.
  if (req.method === "HEAD") return void res.end();
  const fields = Object.entries({ Code: code, Message: message, ...extra, RequestId: requestId, HostId: headers["x-amz-id-2"]! })
    .map(([k, v]) => `<${k}>${xml(v)}</${k}>`)
    .join("");
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error>${fields}</Error>`);
}

/** Which bucket and key a request names, by its Host (virtual-hosted, access point) or its path (path-style). */
function address(req: IncomingMessage): Addressed | { missing: string } | undefined {
  const host = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
  const rawPath = (req.url ?? "/").split("?")[0]!;
  const accessPoint = /^(.+)-(\d{12})\.s3-accesspoint(?:\.dualstack)?\.([a-z0-9-]+)\.amazonaws\.com$/.exec(host);
  if (accessPoint) {
    if (accessPoint[1] !== LAB_ACCESS_POINT.name || accessPoint[2] !== LAB_ACCESS_POINT.account) return { missing: accessPoint[1]! };
    const bucket = LAB_BUCKETS.find((b) => b.name === LAB_ACCESS_POINT.bucket)!;
    return { bucket: { ...bucket, region: LAB_ACCESS_POINT.region }, endpointRegion: accessPoint[3]!, key: decodeURIComponent(rawPath.slice(1)) };
  }
  const virtual = /^(.+)\.s3(?:\.dualstack)?\.([a-z0-9-]+)\.amazonaws\.com$/.exec(host);
  const pathStyle = /^s3(?:\.dualstack)?\.([a-z0-9-]+)\.amazonaws\.com$/.exec(host);
  let name: string;
  let endpointRegion: string;
  let key: string;
  if (virtual) {
    [name, endpointRegion, key] = [virtual[1]!, virtual[2]!, decodeURIComponent(rawPath.slice(1))];
  } else if (pathStyle) {
    const [, first = "", ...rest] = rawPath.split("/");
    [name, endpointRegion, key] = [decodeURIComponent(first), pathStyle[1]!, rest.map(decodeURIComponent).join("/")];
  } else return undefined;
  const bucket = LAB_BUCKETS.find((b) => b.name === name);
  return bucket ? { bucket, endpointRegion, key } : { missing: name };
}

/** Checks the request's SigV4 Authorization header; answers and returns false when S3 would refuse it. */
function authenticated(req: IncomingMessage, res: ServerResponse, region: string, now: number): boolean {
  const auth = req.headers.authorization ?? "";
  const parsed = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!parsed) {
    if (/^AWS4-HMAC-SHA256 /.test(auth)) answer(req, res, 400, region, "AuthorizationHeaderMalformed", "The authorization header is malformed; the authorization header requires three components: Credential, SignedHeaders, and Signature.");
    else answer(req, res, 400, region, "InvalidArgument", "Unsupported Authorization Type", { ArgumentName: "Authorization", ArgumentValue: auth });
    return false;
  }
  const [, accessKeyId, date, scopeRegion, service, signedList, provided] = parsed as unknown as string[];
  const signedHeaders = signedList!.split(";");
  const payloadHash = req.headers["x-amz-content-sha256"];
  if (typeof payloadHash !== "string") {
    answer(req, res, 400, region, "InvalidRequest", "Missing required header for this request: x-amz-content-sha256");
    return false;
  }
  const amzDate = req.headers["x-amz-date"];
  if (typeof amzDate !== "string" || !/^\d{8}T\d{6}Z$/.test(amzDate)) {
    answer(req, res, 403, region, "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header");
    return false;
  }
  const credentials = issued.get(accessKeyId!);
  if (!credentials) {
    answer(req, res, 403, region, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", { AWSAccessKeyId: accessKeyId! });
    return false;
  }
  if (scopeRegion !== region) {
    answer(req, res, 400, region, "AuthorizationHeaderMalformed", `The authorization header is malformed; the region '${scopeRegion}' is wrong; expecting '${region}'`, { Region: region });
    return false;
  }
  if (service !== "s3" || date !== amzDate.slice(0, 8) || !signedHeaders.includes("host")) {
    answer(req, res, 400, region, "AuthorizationHeaderMalformed", `The authorization header is malformed; the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`);
    return false;
  }
  const requestTime = Date.parse(`${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13)}`);
  if (Math.abs(now - requestTime) > 15 * 60_000) {
    answer(req, res, 403, region, "RequestTimeTooSkewed", "The difference between the request time and the current time is too large.", { RequestTime: amzDate, ServerTime: new Date(now).toISOString(), MaxAllowedSkewMilliseconds: "900000" });
    return false;
  }
  const [path, query = ""] = (req.url ?? "/").split(/\?(.*)/s);
  const canonical = canonicalRequest({ method: req.method ?? "GET", path: path!, query, headers: req.headers }, signedHeaders, payloadHash);
  const scope = `${date}/${scopeRegion}/s3/aws4_request`;
  const toSign = stringToSign(amzDate, scope, canonical);
  const expected = signature(credentials.secret, date!, scopeRegion!, "s3", toSign);
  if (!timingSafeEqual(Buffer.from(expected), Buffer.from(provided!))) {
    answer(req, res, 403, region, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method.", {
      AWSAccessKeyId: accessKeyId!,
      StringToSign: toSign,
      SignatureProvided: provided!,
      StringToSignBytes: [...Buffer.from(toSign)].map((b) => b.toString(16).padStart(2, "0")).join(" "),
      CanonicalRequest: canonical,
      CanonicalRequestBytes: [...Buffer.from(canonical)].map((b) => b.toString(16).padStart(2, "0")).join(" "),
    });
    return false;
  }
  // The security token, checked after the signature as STS-issued keys are.
  const token = req.headers["x-amz-security-token"];
  if (token === undefined) {
    answer(req, res, 403, region, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.", { AWSAccessKeyId: accessKeyId! });
    return false;
  }
  if (token !== credentials.token || !signedHeaders.includes("x-amz-security-token")) {
    answer(req, res, 400, region, "InvalidToken", "The provided token is malformed or otherwise invalid.", { "Token-0": String(token) });
    return false;
  }
  if (credentials.expiration.getTime() <= Date.now()) {
    answer(req, res, 400, region, "ExpiredToken", "The provided token has expired.", { "Token-0": token });
    return false;
  }
  if (payloadHash !== "UNSIGNED-PAYLOAD" && payloadHash !== EMPTY_SHA256) {
    answer(req, res, 400, region, "XAmzContentSHA256Mismatch", "The provided 'x-amz-content-sha256' header does not match what was computed.", { ClientComputedContentSHA256: payloadHash, S3ComputedContentSHA256: EMPTY_SHA256 });
    return false;
  }
  return true;
}

function serve(objects: Objects, clockAheadMs: number, req: IncomingMessage, res: ServerResponse): void {
  const where = address(req);
  if (!where) return answer(req, res, 400, undefined, "InvalidURI", "Couldn't parse the specified URI.");
  if ("missing" in where) return answer(req, res, 404, undefined, "NoSuchBucket", "The specified bucket does not exist", { BucketName: where.missing });
  const { bucket, endpointRegion, key } = where;
  if (endpointRegion !== bucket.region) {
    return answer(req, res, 301, bucket.region, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.", { Endpoint: `${bucket.name}.s3.${bucket.region}.amazonaws.com`, Bucket: bucket.name });
  }
  if (req.method !== "GET" && req.method !== "HEAD") return answer(req, res, 405, bucket.region, "MethodNotAllowed", "The specified method is not allowed against this resource.");
  const signed = req.headers.authorization !== undefined;
  if (signed ? !authenticated(req, res, bucket.region, Date.now() + clockAheadMs) : false) return;
  if (!signed && !bucket.public) return answer(req, res, 403, bucket.region, "AccessDenied", "Access Denied");
  if (key === "") {
    res.writeHead(200, { "x-amz-bucket-region": bucket.region, "x-amz-access-point-alias": "false", Server: "AmazonS3", "Content-Type": "application/xml" });
    return void res.end();
  }
  const query = new URL(req.url ?? "/", "https://s3").searchParams;
  const versionId = query.get("versionId");
  const name = `s3://${bucket.name}/${key}`;
  const body = versionId ? objects.get(`${name}?versionId=${versionId}`) : objects.get(name);
  if (!body) {
    if (versionId) return answer(req, res, 404, bucket.region, "NoSuchVersion", "The specified version does not exist.", { Key: key, VersionId: versionId });
    return answer(req, res, 404, bucket.region, "NoSuchKey", "The specified key does not exist.", { Key: key });
  }
  res.writeHead(200, {
    "Content-Type": "binary/octet-stream",
    "Content-Length": String(body.length),
    ETag: `"${createHash("md5").update(body).digest("hex")}"`,
    "Last-Modified": new Date(0).toUTCString(),
    "x-amz-bucket-region": bucket.region,
    ...(versionId ? { "x-amz-version-id": versionId } : {}),
    Server: "AmazonS3",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

/** S3's HTTPS listener at S3_ADDRESS for the lab's buckets and access point. */
export function s3Service(options: CloudOptions): { addresses: string[]; listeners: Listener[] } {
  const objects: Objects = new Map(Object.entries(options.objects ?? {}).filter(([url]) => url.startsWith("s3://")));
  return {
    addresses: [`${S3_ADDRESS}/32`],
    listeners: [{ address: S3_ADDRESS, port: 443, tls: { names: s3HostNames() }, handler: (req, res) => serve(objects, options.scenario === "clock-behind" ? 3600_000 : 0, req, res) }],
  };
}
