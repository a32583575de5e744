// What a resource URL is: its scheme, and how to show it in logs and errors
// without leaking what it carries (data: payloads, query strings, passwords).

import { FlintError } from "../errors";

export type Scheme = "data" | "http" | "https" | "tftp" | "oem" | "s3" | "gs" | "arn";

const NETWORK = ["http", "https", "tftp", "s3", "gs", "arn"];

export function schemeOf(source: string, label = describeSource(source)): Scheme {
  const colon = source.indexOf(":");
  const scheme = colon > 0 ? source.slice(0, colon).toLowerCase() : "";
  switch (scheme) {
    case "data":
    case "http":
    case "https":
    case "tftp":
    case "oem":
    case "s3":
    case "gs":
    case "arn":
      return scheme;
    default:
      throw new FlintError(`unsupported URL scheme ${JSON.stringify(scheme)} (supported: data, http, https, tftp, s3, arn, gs, oem)`, label);
  }
}

export function needsNetwork(source: string): boolean {
  const scheme = source.slice(0, Math.max(0, source.indexOf(":"))).toLowerCase();
  return NETWORK.includes(scheme);
}

/** A printable form of a source: `data:` URLs and query strings are cut, passwords removed. */
export function describeSource(source: string): string {
  if (/^data:/i.test(source)) return `data URL (${source.length} characters)`;
  try {
    const url = new URL(source);
    url.username = "";
    url.password = "";
    const query = url.search ? "?…" : "";
    url.search = "";
    url.hash = "";
    return url.toString() + query;
  } catch {
    return source.length > 80 ? source.slice(0, 40) + "…" : source;
  }
}
