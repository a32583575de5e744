// Validation of resources (file contents, config references, CAs, key files):
// URL schemes per spec version, data URL syntax, hashes, compression, headers.

import { at, type Where } from "../issues";
import type { Resource } from "../types";
import { allowedHashes, allowedSchemes } from "../version";
import { checkUnique, type ValidateContext } from "./common";

const HASH_HEX_LENGTH: Record<string, number> = { sha256: 64, sha512: 128 };

export function validateResource(cx: ValidateContext, r: Resource, path: Where, opts: { sourceRequired?: boolean } = {}): void {
  const hasSource = r.source !== undefined;
  if (opts.sourceRequired && !hasSource) cx.issues.error(at(path, "source"), "source is required");
  let scheme: string | undefined;
  if (r.source !== undefined) scheme = validateUrl(cx, r.source, at(path, "source"));
  if (r.compression !== undefined && r.compression !== "" && r.compression !== "gzip") {
    cx.issues.error(at(path, "compression"), `compression must be "gzip" or empty (got ${JSON.stringify(r.compression)})`);
  }
  const hash = r.verification?.hash;
  if (hash !== undefined) {
    validateHash(cx, hash, at(path, "verification", "hash"));
    if (!hasSource) cx.issues.error(at(path, "verification", "hash"), "verification.hash is set but there is no source to verify");
  }
  if (r.httpHeaders && r.httpHeaders.length > 0) {
    r.httpHeaders.forEach((h, i) => {
      // A header without a name was reported by the reader ("name is required").
      if (h.name === "") cx.issues.error(at(path, "httpHeaders", i, "name"), "header name must not be empty");
      if (h.value === "") cx.issues.error(at(path, "httpHeaders", i, "value"), "header value must not be empty (leave it out to remove a header a merged parent sets)");
    });
    // Ignition's duplicate check compares names as written.
    checkUnique(cx, r.httpHeaders, at(path, "httpHeaders"), (h) => h.name, "name", "HTTP header");
    if (scheme !== undefined && scheme !== "http" && scheme !== "https") {
      cx.issues.error(at(path, "httpHeaders"), `httpHeaders can only be used with http and https sources, not ${scheme}`);
    }
  }
}

export function validateHash(cx: ValidateContext, hash: string, path: Where): void {
  const dash = hash.indexOf("-");
  const fn = dash === -1 ? "" : hash.slice(0, dash);
  const hex = hash.slice(dash + 1);
  if (dash === -1) {
    cx.issues.error(path, `hash must look like sha512-<hex digits> (got ${JSON.stringify(hash)})`);
  } else if (!allowedHashes(cx.minor).includes(fn)) {
    cx.issues.error(path, `unsupported hash function ${JSON.stringify(fn)} (spec 3.${cx.minor}.0 supports ${allowedHashes(cx.minor).join(", ")})`);
  } else if (!/^[0-9a-fA-F]*$/.test(hex)) {
    cx.issues.error(path, `hash value must be hexadecimal`);
  } else if (hex.length !== HASH_HEX_LENGTH[fn]) {
    cx.issues.error(path, `a ${fn} hash has ${HASH_HEX_LENGTH[fn]} hex digits, not ${hex.length}`);
  }
}

/** Checks a resource URL; returns its scheme when it is usable. */
export function validateUrl(cx: ValidateContext, url: string, path: Where): string | undefined {
  if (url === "") return "data"; // an empty source means empty contents
  // Inline contents, the commonest source by far, need no regular expression to find their scheme.
  const m = url.startsWith("data:") ? undefined : SCHEME.exec(url);
  if (m === null) {
    cx.issues.error(path, `invalid URL ${JSON.stringify(truncate(url))}: no scheme`);
    return undefined;
  }
  const scheme = m === undefined ? "data" : m[1]!.toLowerCase();
  const allowed = allowedSchemes(cx.minor);
  if (!allowed.includes(scheme)) {
    cx.issues.error(path, `unsupported URL scheme "${scheme}" (spec 3.${cx.minor}.0 allows ${allowed.join(", ")})`);
    return undefined;
  }
  if (scheme === "data") {
    const problem = dataUrlProblem(url);
    if (problem) cx.issues.error(path, `invalid data URL: ${problem}`);
    return scheme;
  }
  if (scheme === "arn") {
    const resource = /^arn:[^:]+:s3:[^:]*:[^:]*:(.*)$/.exec(url)?.[1];
    const ok = resource !== undefined && (resource.startsWith("accesspoint/") ? /^accesspoint\/[^/]+\/.+/.test(resource) : /^[^/]+\/.+/.test(resource));
    if (!ok) cx.issues.error(path, `invalid S3 ARN ${JSON.stringify(truncate(url))}: expected arn:aws:s3:::<bucket>/<key> or arn:aws:s3:<region>:<account>:accesspoint/<name>/<key>`);
    else checkS3VersionId(cx, url, path);
    return scheme;
  }
  if (scheme === "oem") {
    if (!/^oem:\/\/\/./i.test(url)) cx.issues.error(path, `invalid oem URL ${JSON.stringify(truncate(url))}: it names a file by its absolute path in the OEM tree, as oem:///config.ign`);
    return scheme;
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    cx.issues.error(path, `invalid URL ${JSON.stringify(truncate(url))}`);
    return undefined;
  }
  if (parsed.hostname === "") cx.issues.error(path, `invalid URL ${JSON.stringify(truncate(url))}: no host`);
  if (scheme === "s3") checkS3VersionId(cx, url, path);
  return scheme;
}

/** `?versionId=` selects an S3 object version; when present it must not be empty. */
function checkS3VersionId(cx: ValidateContext, url: string, path: Where): void {
  const query = url.indexOf("?");
  if (query === -1) return;
  const versionId = new URLSearchParams(url.slice(query + 1)).get("versionId");
  if (versionId === "") cx.issues.error(path, "invalid S3 object versionId: it is empty");
}

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
const MEDIA_TYPE = /^([a-zA-Z0-9!#$&^_.+-]+\/[a-zA-Z0-9!#$&^_.+-]+)?(;[a-zA-Z0-9!#$&^_.+-]+=("[^"]*"|[^;,]*))*(;base64)?$/i;
/** Media types that configs commonly give, which MEDIA_TYPE accepts: no regular expression to set up and run for them. */
const COMMON_MEDIA_TYPES = new Set(["text/plain", "text/plain;base64", ";base64", "text/plain;charset=utf-8", "text/plain;charset=utf-8;base64", "application/octet-stream", "application/octet-stream;base64"]);
const BASE64_DATA = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/** RFC 2397 syntax: `data:[<mediatype>][;base64],<data>`; returns what is wrong, if anything. */
export function dataUrlProblem(url: string): string | undefined {
  const comma = url.indexOf(",");
  if (comma === -1) return `missing "," after the media type`;
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  if (meta !== "" && !COMMON_MEDIA_TYPES.has(meta) && !MEDIA_TYPE.test(meta)) return `malformed media type ${JSON.stringify(truncate(meta))}`;
  const escaped = payload.includes("%");
  if (escaped && /%(?![0-9a-fA-F]{2})/.test(payload)) return "bad percent-encoding";
  if (meta.length >= 7 && meta.slice(-7).toLowerCase() === ";base64") {
    let decoded = payload;
    if (escaped) {
      try {
        decoded = decodeURIComponent(payload);
      } catch {
        // not UTF-8 once decoded: the bytes are looked at as written
      }
    }
    const compact = decoded.replace(/\s+/g, "");
    let end = compact.length;
    while (end > 0 && compact.charCodeAt(end - 1) === 0x3d) end--;
    if (!BASE64_DATA.test(compact) || end % 4 === 1) return "invalid base64 data";
  }
  return undefined;
}

/** Shortens a URL for a message and hides any credentials in it. */
function truncate(s: string): string {
  const redacted = s.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/?#@]*@/, "$1***@");
  return redacted.length > 80 ? redacted.slice(0, 77) + "..." : redacted;
}
