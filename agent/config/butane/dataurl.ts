// Contents given inline or from a local file become a data: URL, the way
// Butane encodes them: percent-escaped text or base64, whichever is shorter,
// or gzip + base64 (with `compression: gzip`) when that is shorter still.

import { gzipSync } from "node:zlib";
import { rememberSecret } from "../../secrets";

/** Bytes that stay as they are in the escaped form (RFC 3986 unreserved, plus !'()*). */
const PLAIN = /[A-Za-z0-9\-_.!~*'()]/;

function percentEscape(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += b < 0x80 && PLAIN.test(c) ? c : "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

export interface DataUrl {
  source: string;
  /** "gzip" when Flint compressed it, "" when not; undefined when the user set a compression (kept as given). */
  compression?: string;
}

/**
 * `userCompression` is the config's own `compression` field: when set, the
 * contents are already compressed and are only encoded, never compressed again.
 */
export function makeDataUrl(contents: Uint8Array, userCompression: string | undefined, escapedOnly = false): DataUrl {
  // fcos 1.0.0 only ever escaped, and set no compression.
  if (escapedOnly) return { source: "data:," + percentEscape(contents) };
  const userCompressed = userCompression !== undefined && userCompression !== "";
  let opaque = "," + percentEscape(contents);
  const b64 = ";base64," + Buffer.from(contents).toString("base64");
  if (b64.length < opaque.length) opaque = b64;
  let compression: string | undefined = userCompressed ? undefined : "";
  if (!userCompressed) {
    const gz = ";base64," + gzipSync(contents, { level: 9 }).toString("base64");
    // "gzip" in the compression field costs four characters too.
    if (gz.length + 4 < opaque.length) {
      opaque = gz;
      compression = "gzip";
      // The scrubber decodes data: URLs but does not gunzip them: give it the contents as written.
      rememberSecret(Buffer.from(contents));
    }
  }
  return { source: "data:" + opaque, ...(compression !== undefined ? { compression } : {}) };
}
