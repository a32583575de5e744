// Puts an Ignition document in a canonical form for comparing Flint's
// translation of a Butane config with the real Butane's: keys sorted, and
// data: URLs replaced by their decoded bytes, since Flint (Node's zlib) and
// Butane (Go's compress/gzip) compress the same text to different bytes.
// Used by scripts/butane-compare.mjs and test/unit/config/butane-fixtures.test.ts.

import { gunzipSync } from "node:zlib";

function decodePercent(body) {
  const bytes = [];
  for (let i = 0; i < body.length; i++) {
    if (body[i] === "%" && /^[0-9a-fA-F]{2}$/.test(body.slice(i + 1, i + 3))) {
      bytes.push(parseInt(body.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(...Buffer.from(body[i], "utf8"));
  }
  return Buffer.from(bytes);
}

/** A resource whose source is a data: URL, as its decoded contents (gzip undone). */
function normalizeResource(obj) {
  if (typeof obj.source !== "string" || !obj.source.startsWith("data:")) return obj;
  const comma = obj.source.indexOf(",");
  const meta = obj.source.slice(5, comma);
  const body = obj.source.slice(comma + 1);
  let bytes = meta.endsWith(";base64") ? Buffer.from(body, "base64") : decodePercent(body);
  const out = { ...obj };
  if (obj.compression === "gzip") {
    try {
      bytes = gunzipSync(bytes);
      out.compression = "";
    } catch {
      // contents the user said were gzip but are not: compare them as they are
    }
  }
  out.source = `decoded:${bytes.toString("base64")}`;
  return out;
}

export function normalizeIgnition(value) {
  if (Array.isArray(value)) return value.map(normalizeIgnition);
  if (value && typeof value === "object") {
    const obj = normalizeResource(value);
    const out = {};
    for (const key of Object.keys(obj).sort()) out[key] = normalizeIgnition(obj[key]);
    return out;
  }
  return value;
}

