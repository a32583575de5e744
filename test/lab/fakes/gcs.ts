// Google Cloud Storage's JSON API and the VM's service account, as Google
// documents them, for the lab:
//
// - The service account (served by the gcp fake's metadata server, with its
//   `Metadata-Flavor: Google` rule): `instance/service-accounts/` (a
//   listing), `…/default/email`, `…/default/scopes`, `…/default/aliases`,
//   `…/default/token` (JSON: access_token "ya29.…", expires_in, token_type
//   Bearer; a fresh token each time, valid an hour). Scenarios:
//   `no-service-account` (all of these 404), `expired-token` (tokens that
//   Cloud Storage finds expired), `foreign-token` (tokens Cloud Storage does
//   not know).
// - Cloud Storage at storage.googleapis.com over HTTPS:
//   `GET /storage/v1/b/BUCKET/o/OBJECT?alt=media` (OBJECT one escaped path
//   segment; without alt=media the object's metadata, JSON), answering as
//   the service does with its JSON errors: a bad or expired token 401
//   `authError` "Invalid Credentials" with `WWW-Authenticate`; anonymous on
//   a private bucket 401 `required`; a missing object 404 `notFound`.
//
// Buckets: LAB_GCS_BUCKETS. Objects from CloudOptions.objects, keyed
// `gs://BUCKET/OBJECT`.

import { createHash, randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { CloudOptions, Listener } from "./service";

/** Where storage.googleapis.com lives inside the lab namespace (TEST-NET-2). */
export const GCS_ADDRESS = "198.51.100.4";
export const GCS_HOST = "storage.googleapis.com";
export const LAB_SERVICE_ACCOUNT = "flint-lab@flint-lab.iam.gserviceaccount.com";
export const LAB_GCS_BUCKETS = [{ name: "flint-lab-gcs" }, { name: "flint-lab-gcs-public", public: true }];
const VM_SCOPES = ["https://www.googleapis.com/auth/devstorage.read_only", "https://www.googleapis.com/auth/logging.write", "https://www.googleapis.com/auth/monitoring.write"];
const STORAGE_SCOPES = ["https://www.googleapis.com/auth/devstorage.read_only", "https://www.googleapis.com/auth/devstorage.read_write", "https://www.googleapis.com/auth/devstorage.full_control", "https://www.googleapis.com/auth/cloud-platform"];

/** Tokens handed out by the metadata server: token → expiry (ms) and scopes. */
const tokens = new Map<string, { expiresAt: number; scopes: string[] }>();

/** A metadata server entry under `instance/service-accounts/` (PATH after `computeMetadata/v1/`), `undefined` for a 404. */
export function serviceAccountMetadata(path: string, query: URLSearchParams, scenario: string | undefined): { body: string; json?: boolean } | undefined {
  if (scenario === "no-service-account") return undefined;
  const prefix = "instance/service-accounts/";
  const rest = path.slice(prefix.length);
  if (rest === "") return { body: `default/\n${LAB_SERVICE_ACCOUNT}/\n` };
  const [account, entry] = rest.split(/\/(.*)/s);
  if (account !== "default" && account !== LAB_SERVICE_ACCOUNT) return undefined;
  switch (entry) {
    case "":
      return { body: "aliases\nemail\nidentity\nscopes\ntoken\n" };
    case "email":
      return { body: LAB_SERVICE_ACCOUNT };
    case "aliases":
      return { body: "default\n" };
    case "scopes":
      return { body: VM_SCOPES.join("\n") + "\n" };
    case "token": {
      // `scopes` narrows the token to some of the VM's scopes.
      const asked = query.get("scopes")?.split(",").filter(Boolean) ?? VM_SCOPES;
      const access = `ya29.c.${randomBytes(48).toString("base64url")}`;
      if (scenario !== "foreign-token") tokens.set(access, { expiresAt: Date.now() + (scenario === "expired-token" ? -1000 : 3600_000), scopes: asked.filter((s) => VM_SCOPES.includes(s)) });
      return { body: JSON.stringify({ access_token: access, expires_in: 3599, token_type: "Bearer" }), json: true };
    }
    default:
      return undefined;
  }
}

function jsonError(res: ServerResponse, status: number, reason: string, message: string, headers: Record<string, string> = {}, where: { locationType?: string; location?: string } = {}): void {
  res.writeHead(status, { "Content-Type": "application/json; charset=UTF-8", "X-GUploader-UploadID": randomBytes(16).toString("base64url"), ...headers });
  res.end(JSON.stringify({ error: { code: status, message, errors: [{ message, domain: "global", reason, ...where }] } }, null, 2));
}

function serve(objects: Map<string, Buffer>, req: IncomingMessage, res: ServerResponse): void {
  const [rawPath = "/", rawQuery = ""] = (req.url ?? "/").split(/\?(.*)/s);
  const query = new URLSearchParams(rawQuery);
  const match = /^\/(?:download\/)?storage\/v1\/b\/([^/]+)\/o\/([^/]+)$/.exec(rawPath);
  if (!match) return jsonError(res, 404, "notFound", "Not Found");
  const bucket = LAB_GCS_BUCKETS.find((b) => b.name === decodeURIComponent(match[1]!));
  const object = decodeURIComponent(match[2]!);
  const auth = req.headers.authorization;
  if (auth !== undefined) {
    const token = /^Bearer (.+)$/.exec(auth)?.[1];
    const held = token ? tokens.get(token) : undefined;
    if (!held || held.expiresAt <= Date.now()) {
      return jsonError(res, 401, "authError", "Invalid Credentials", { "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"' }, { locationType: "header", location: "Authorization" });
    }
    if (!held.scopes.some((s) => STORAGE_SCOPES.includes(s))) {
      return jsonError(res, 403, "insufficientPermissions", "Request had insufficient authentication scopes.", { "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="insufficient_scope"' });
    }
  } else if (!bucket?.public) {
    return jsonError(res, 401, "required", `Anonymous caller does not have storage.objects.get access to the Google Cloud Storage object. Permission 'storage.objects.get' denied on resource (or it may not exist).`, {}, { locationType: "header", location: "Authorization" });
  }
  if (!bucket) return jsonError(res, 404, "notFound", "The specified bucket does not exist.");
  const body = objects.get(`gs://${bucket.name}/${object}`);
  if (!body) return jsonError(res, 404, "notFound", `No such object: ${bucket.name}/${object}`);
  const md5 = createHash("md5").update(body).digest("base64");
  if (query.get("alt") !== "media") {
    res.writeHead(200, { "Content-Type": "application/json; charset=UTF-8" });
    return void res.end(JSON.stringify({ kind: "storage#object", id: `${bucket.name}/${object}/1`, name: object, bucket: bucket.name, generation: "1", size: String(body.length), md5Hash: md5, contentType: "application/octet-stream" }));
  }
  res.writeHead(200, { "Content-Type": "application/octet-stream", "Content-Length": String(body.length), "X-Goog-Generation": "1", "X-Goog-Hash": `md5=${md5}`, "X-Goog-Storage-Class": "STANDARD", "X-Goog-Stored-Content-Length": String(body.length) });
  res.end(body);
}

/** Cloud Storage's HTTPS listener at GCS_ADDRESS. */
export function gcsService(options: CloudOptions): { addresses: string[]; listeners: Listener[] } {
  const objects = new Map(Object.entries(options.objects ?? {}).filter(([url]) => url.startsWith("gs://")));
  return {
    addresses: [`${GCS_ADDRESS}/32`],
    listeners: [{ address: GCS_ADDRESS, port: 443, tls: { names: [GCS_HOST] }, handler: (req, res) => serve(objects, req, res) }],
  };
}
