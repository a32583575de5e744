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
  } else if (hex.length !== HASH_HEX_LENGTH[fn]) {
    cx.issues.error(path, `a ${fn} hash has ${HASH_HEX_LENGTH[fn]} hex digits, not ${hex.length}`);
  } else if (!/^[0-9a-fA-F]*$/.test(hex)) {
    // Ignition checks only the length: the config is valid, and fetching fails when the sum is compared.
    cx.issues.doubt(path, "hash value is not hexadecimal: no contents can match it, so fetching them will fail");
  }
}

/** Checks a resource URL; returns its scheme when it is usable. */
export function validateUrl(cx: ValidateContext, url: string, path: Where): string | undefined {
  if (url === "") return "data"; // an empty source means empty contents
  // A data URL's own check (below) refuses all of these too, without a second pass over its data.
  const goProblem = url.startsWith("data:") ? undefined : goUrlProblem(url);
  if (goProblem) {
    cx.issues.error(path, `invalid URL ${JSON.stringify(truncate(url))}: ${goProblem}`);
    return undefined;
  }
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

/**
 * What Go's url.Parse, which Ignition runs on every URL, refuses and the
 * WHATWG parser takes: a control character anywhere, and a bad percent
 * escape (`%zz`, `%2`) outside the query (which Go keeps as written).
 */
function goUrlProblem(url: string): string | undefined {
  if (CONTROL.test(url)) return "it contains a control character";
  const hash = url.indexOf("#");
  const beforeFragment = hash === -1 ? url : url.slice(0, hash);
  const query = beforeFragment.indexOf("?");
  const checked = query === -1 ? beforeFragment : beforeFragment.slice(0, query);
  if (BAD_ESCAPE.test(checked) || (hash !== -1 && BAD_ESCAPE.test(url.slice(hash + 1)))) return "bad percent-encoding";
  return undefined;
}

/** Media types that configs commonly give, all valid: no parsing for them. */
const COMMON_MEDIA_TYPES = new Set(["", "text/plain", "text/plain;base64", ";base64", "text/plain;charset=utf-8", "text/plain;charset=utf-8;base64", "application/octet-stream", "application/octet-stream;base64"]);

const CONTROL = /[\x00-\x1f\x7f]/;
const BAD_ESCAPE = /%(?![0-9a-fA-F]{2})/;

/** RFC 2045 token characters: printable ASCII but space and ()<>@,;:\"/[]?= */
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`a-z{|}~]+$/;
/** Characters a data URL's (not base64) data may hold as written: RFC 2396's, `%` escapes checked apart. */
const DATA_CHARS = /^[^\x00-\x20\x7f-\uffff<>#"{}|\\^[\]`]*$/;
/** Base64 as Go's padded standard decoding takes it. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
/** Types of media the data URL library Ignition uses takes (besides x- types). */
const MEDIA_TYPES = /^(?:text|image|audio|video|application|message|multipart)/;
/** Go's escapes in a double-quoted string. */
const GO_ESCAPES = /\\(?:[abfnrtv\\"]|x[0-9a-fA-F]{2}|[0-7]{3}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8})/g;

/**
 * A data URL as Ignition reads it (its data URL library): `data:`, an
 * optional `type/subtype` of a known kind, `;attribute=value` parameters
 * (tokens, or quoted strings), an optional final `;base64`, a comma, then
 * data of URL characters with valid `%` escapes, or padded base64 without
 * escapes. Returns what is wrong, if anything.
 */
export function dataUrlProblem(url: string): string | undefined {
  if (!url.startsWith("data:")) return `it must begin with "data:" in lower case`;
  const comma = url.indexOf(",");
  if (comma === -1) return `missing "," before the data`;
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  let base64 = false;
  if (!COMMON_MEDIA_TYPES.has(meta)) {
    const parts = splitParameters(meta);
    if (typeof parts === "string") return parts;
    const [type, ...params] = parts;
    if (type !== "") {
      const slash = type!.indexOf("/");
      const [major, minor] = slash === -1 ? [type!, undefined] : [type!.slice(0, slash), type!.slice(slash + 1)];
      if (minor === undefined || !TOKEN.test(major) || (minor !== "" && !TOKEN.test(minor))) return `malformed media type ${JSON.stringify(truncate(type!))}`;
      if (!/^x-/i.test(major) && !MEDIA_TYPES.test(major)) return `unknown kind of media type ${JSON.stringify(truncate(type!))}`;
    }
    for (let i = 0; i < params.length; i++) {
      const param = params[i]!;
      const eq = param.indexOf("=");
      if (eq === -1) {
        if (param !== "base64" || i !== params.length - 1) return param === "" ? "empty parameter" : `a parameter without a value must be the final "base64" (got ${JSON.stringify(truncate(param))})`;
        base64 = true;
        continue;
      }
      const name = param.slice(0, eq);
      const value = param.slice(eq + 1);
      if (!TOKEN.test(name)) return `malformed parameter name ${JSON.stringify(truncate(name))}`;
      const quoted = value.startsWith('"');
      if (quoted ? value.slice(1, -1).replace(GO_ESCAPES, "").includes("\\") : !TOKEN.test(value) || BAD_ESCAPE.test(value)) return `malformed value of parameter ${JSON.stringify(truncate(name))}`;
    }
  } else base64 = meta.endsWith(";base64");
  if (base64) return BASE64.test(payload) ? undefined : "invalid base64 data (padded standard base64, no spaces or escapes)";
  if (!DATA_CHARS.test(payload)) return "a character a URL cannot hold as written (space, non-ASCII, or one of <>#\"{}|\\^[]`): percent-escape it";
  if (BAD_ESCAPE.test(payload)) return "bad percent-encoding";
  return undefined;
}

/** The media type, then each parameter, split at the semicolons outside quoted values; or what is wrong. */
function splitParameters(meta: string): string[] | string {
  const parts: string[] = [];
  let from = 0;
  for (let i = 0; i <= meta.length; i++) {
    const c = meta[i];
    if (c === '"' && meta[i - 1] === "=") {
      // a quoted value: ASCII, with backslash escapes, up to its closing quote
      for (i++; i < meta.length && meta[i] !== '"'; i++) {
        const code = meta.charCodeAt(i);
        if (code > 0x7e || code < 0x20) return "a control or non-ASCII character in a quoted parameter";
        if (meta[i] === "\\") i++;
      }
      if (i >= meta.length) return "unclosed quoted parameter value";
      if (i + 1 < meta.length && meta[i + 1] !== ";") return "a quoted parameter value must end the parameter";
    } else if (c === ";" || c === undefined) {
      parts.push(meta.slice(from, i));
      from = i + 1;
    }
  }
  return parts;
}

/** Shortens a URL for a message and hides any credentials in it. */
function truncate(s: string): string {
  const redacted = s.replace(/^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)[^/?#@]*@/, "$1***@");
  return redacted.length > 80 ? redacted.slice(0, 77) + "..." : redacted;
}
