// Azure Blob Storage and the VM's managed identity, as Microsoft documents
// them, for the lab:
//
// - The managed identity (served by the azure fake's IMDS):
//   `GET /metadata/identity/oauth2/token?api-version=…&resource=…` with
//   `Metadata: true`; errors as JSON `{error, error_description}` (400
//   without the header or the resource, 400 "Identity not found" on a VM
//   without one); the answer is the token (a JWT whose audience is the
//   resource), `expires_on` and friends as strings. Scenarios: `no-identity`;
//   `identity-not-ready` (404 for ever, as while IMDS sets the VM up);
//   `expired-token` (tokens already past their `exp`); `foreign-token`
//   (tokens signed with a key Azure AD never used); `no-storage-role` (the
//   identity holds no Storage Blob Data role on the account).
// - Blob Storage at ACCOUNT.blob.core.windows.net over HTTPS: `GET
//   /CONTAINER/BLOB`; with `Authorization: Bearer` it checks the token as
//   the service does (signature, lifetime, audience: 401
//   InvalidAuthenticationInfo with AuthenticationErrorDetail and
//   `WWW-Authenticate`), wants `x-ms-version` 2017-11-09 or later with a
//   bearer token, and the identity's role (403
//   AuthorizationPermissionMismatch); anonymously a private container's
//   blobs are 404 ResourceNotFound; a missing blob is 404 BlobNotFound.
//
// Account and containers: LAB_BLOB_ACCOUNT, LAB_CONTAINERS. Objects from
// CloudOptions.objects, keyed by their https:// URL.

import { createHash, createHmac, randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CloudOptions, Listener } from "./service";

/** Where the lab's storage account lives inside the namespace (TEST-NET-2). */
export const BLOB_ADDRESS = "198.51.100.5";
export const LAB_BLOB_ACCOUNT = "flintlab";
export const BLOB_HOST = `${LAB_BLOB_ACCOUNT}.blob.core.windows.net`;
export const LAB_CONTAINERS = [{ name: "configs" }, { name: "public", public: true }];
const TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const STORAGE_AUDIENCE = "https://storage.azure.com";
const IDENTITY_OBJECT_ID = "5b1e0d1f-6f0a-4c5e-9d0e-2a6f1c3b9e77";
/** The key "Azure AD" signs the lab's tokens with (the real service uses RS256 and published keys; the checks are the same). */
const SIGNING_KEY = randomBytes(32);

const b64url = (value: unknown) => Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64url");

function jwt(claims: Record<string, unknown>, key: Buffer): string {
  const unsigned = `${b64url({ typ: "JWT", alg: "HS256", kid: "flint-lab" })}.${b64url(claims)}`;
  return `${unsigned}.${createHmac("sha256", key).update(unsigned).digest("base64url")}`;
}

function json400(res: ServerResponse, description: string): void {
  res.writeHead(400, { "Content-Type": "application/json; charset=utf-8" });
  res.end(JSON.stringify({ error: "invalid_request", error_description: description }));
}

/** IMDS's `/metadata/identity/oauth2/token` answer. */
export function identityToken(req: IncomingMessage, res: ServerResponse, query: URLSearchParams, scenario: string | undefined): void {
  if (req.headers["metadata"] !== "true") return json400(res, "Required metadata header not specified");
  if (!query.get("api-version")) return json400(res, "Required query variable 'api-version' is missing");
  const resource = query.get("resource");
  if (!resource) return json400(res, "Required audience parameter not specified");
  if (scenario === "no-identity") return json400(res, "Identity not found");
  if (scenario === "identity-not-ready") {
    res.writeHead(404, { "Content-Type": "application/json; charset=utf-8" });
    return void res.end(JSON.stringify({ error: "not_found", error_description: "Identity is not ready yet" }));
  }
  const now = Math.floor(Date.now() / 1000);
  const expires = scenario === "expired-token" ? now - 60 : now + 86399;
  const claims = { aud: resource, iss: `https://sts.windows.net/${TENANT}/`, iat: now - 300, nbf: now - 300, exp: expires, oid: IDENTITY_OBJECT_ID, sub: IDENTITY_OBJECT_ID, tid: TENANT, xms_mirid: "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/flint-lab/providers/Microsoft.Compute/virtualMachines/flint-lab" };
  const token = jwt(claims, scenario === "foreign-token" ? randomBytes(32) : SIGNING_KEY);
  res.writeHead(200, { "Content-Type": "application/json; charset=utf-8" });
  res.end(JSON.stringify({ access_token: token, client_id: "d1e6b1a5-6c2a-4a4f-9a55-0c3b6a1f2e11", expires_in: String(expires - now), expires_on: String(expires), ext_expires_in: String(expires - now), not_before: String(now - 300), resource, token_type: "Bearer" }));
}

function storageError(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}, headers: Record<string, string> = {}): void {
  const requestId = randomUUID();
  res.writeHead(status, { "Content-Type": "application/xml", "x-ms-request-id": requestId, "x-ms-error-code": code, Server: "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0", ...headers });
  const fields = Object.entries(extra).map(([k, v]) => `<${k}>${v}</${k}>`).join("");
  res.end(`\uFEFF<?xml version="1.0" encoding="utf-8"?><Error><Code>${code}</Code><Message>${message}\nRequestId:${requestId}\nTime:${new Date().toISOString()}</Message>${fields}</Error>`);
}

/** The token's verdict: undefined when good, else the AuthenticationErrorDetail. */
function tokenProblem(token: string): string | undefined {
  const [header, claims, sig] = token.split(".");
  if (!header || !claims || !sig) return "IDX14100: JWT is not well formed, there are no dots (.).";
  const expected = createHmac("sha256", SIGNING_KEY).update(`${header}.${claims}`).digest();
  const given = Buffer.from(sig, "base64url");
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return "Signature validation failed. Signature is invalid.";
  let payload: { aud?: string; exp?: number; nbf?: number };
  try {
    payload = JSON.parse(Buffer.from(claims, "base64url").toString("utf8"));
  } catch {
    return "IDX14102: Unable to decode the payload.";
  }
  const now = Date.now() / 1000;
  if (!payload.exp || payload.exp <= now) return "Lifetime validation failed. The token is expired.";
  if (payload.nbf && payload.nbf > now + 300) return "Lifetime validation failed. The token is not yet valid.";
  if (payload.aud?.replace(/\/$/, "") !== STORAGE_AUDIENCE) return "Audience validation failed. Audience did not match.";
  return undefined;
}

function serve(objects: Map<string, Buffer>, scenario: string | undefined, req: IncomingMessage, res: ServerResponse): void {
  const host = (req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
  if (host !== BLOB_HOST) return storageError(res, 400, "InvalidUri", "The requested URI does not represent any resource on the server.");
  const rawPath = (req.url ?? "/").split("?")[0]!;
  const [, containerName = "", ...rest] = rawPath.split("/").map(decodeURIComponent);
  const blob = rest.join("/");
  const container = LAB_CONTAINERS.find((c) => c.name === containerName);
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const token = /^Bearer (.+)$/.exec(auth)?.[1];
    const version = req.headers["x-ms-version"];
    if (typeof version !== "string" || version < "2017-11-09") return storageError(res, 400, "InvalidAuthenticationInfo", "Authentication scheme Bearer is not supported in this version.");
    const problem = token ? tokenProblem(token) : "Bearer token is missing.";
    if (problem) {
      return storageError(res, 401, "InvalidAuthenticationInfo", "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.", { AuthenticationErrorDetail: problem }, {
        "WWW-Authenticate": `Bearer authorization_uri=https://login.microsoftonline.com/${TENANT}/oauth2/authorize resource_id=${STORAGE_AUDIENCE}`,
      });
    }
    if (scenario === "no-storage-role") return storageError(res, 403, "AuthorizationPermissionMismatch", "This request is not authorized to perform this operation using this permission.");
  } else if (!container?.public) {
    return storageError(res, 404, "ResourceNotFound", "The specified resource does not exist.");
  }
  if (!container) return storageError(res, 404, "ContainerNotFound", "The specified container does not exist.");
  const body = objects.get(`https://${BLOB_HOST}/${container.name}/${blob}`);
  if (!blob || !body) return storageError(res, 404, "BlobNotFound", "The specified blob does not exist.");
  res.writeHead(200, {
    "Content-Type": "application/octet-stream",
    "Content-Length": String(body.length),
    "Content-MD5": createHash("md5").update(body).digest("base64"),
    ETag: `"0x8DC${createHash("sha1").update(body).digest("hex").slice(0, 12).toUpperCase()}"`,
    "Last-Modified": new Date(0).toUTCString(),
    "x-ms-blob-type": "BlockBlob",
    "x-ms-request-id": randomUUID(),
    ...(typeof req.headers["x-ms-version"] === "string" ? { "x-ms-version": req.headers["x-ms-version"] } : {}),
    Server: "Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0",
  });
  res.end(body);
}

/** The storage account's blob endpoint at BLOB_ADDRESS. */
export function blobService(options: CloudOptions): { addresses: string[]; listeners: Listener[] } {
  const objects = new Map(Object.entries(options.objects ?? {}).filter(([url]) => url.startsWith(`https://${BLOB_HOST}/`)));
  return {
    addresses: [`${BLOB_ADDRESS}/32`],
    listeners: [{ address: BLOB_ADDRESS, port: 443, tls: { names: [BLOB_HOST] }, handler: (req, res) => serve(objects, options.scenario, req, res) }],
  };
}
