// User data that is not an Ignition config. On Flatcar the same user data
// slot carries cloud-config, scripts and MIME multipart documents for
// coreos-cloudinit in the booted OS; Flatcar's Ignition recognizes them and
// goes on as if no user config had been given. The tests are Flatcar's:
// the first line (after gunzip, when the data is gzip) is exactly
// `#cloud-config` (trailing blanks aside) or starts with `#!`, or the data
// opens with MIME headers whose Content-Type names multipart/mixed.
// Only the first lines are looked at, never a copy of the whole config.

import { DEFAULT_CONFIG_CAP } from "../../resource/index";

export type NotIgnitionKind = "cloud-config" | "script" | "MIME multipart";

/** What kind of non-Ignition user data `data` is, or undefined when it may be an Ignition config. */
export async function notIgnitionKind(data: Buffer): Promise<NotIgnitionKind | undefined> {
  const bytes = await gunzippedIfGzip(data);
  // A first line that does not start with `#` is not decoded (a minified config is one long line).
  if (bytes[0] === 0x23) {
    const first = lineAt(bytes, 0).text;
    if (first.trimEnd() === "#cloud-config") return "cloud-config";
    if (first.startsWith("#!")) return "script";
  }
  if (isMultipartMime(bytes)) return "MIME multipart";
  return undefined;
}

/** True when `data` is empty or only ASCII blanks: no user config at all. */
export function isBlank(data: Buffer): boolean {
  for (const byte of data) if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0a && byte !== 0x0d) return false;
  return true;
}

/** gzip data decompressed (within the config cap); anything else, or gzip that does not decompress, as it is. */
async function gunzippedIfGzip(data: Buffer): Promise<Buffer> {
  if (data.length < 2 || data[0] !== 0x1f || data[1] !== 0x8b) return data;
  const { gunzipSync } = await import("node:zlib");
  try {
    return gunzipSync(data, { maxOutputLength: DEFAULT_CONFIG_CAP });
  } catch {
    return data;
  }
}

/** The line starting at `start` (without its newline), and where the next begins (-1 when it ends the data without a newline). */
function lineAt(bytes: Buffer, start: number): { text: string; next: number } {
  const newline = bytes.indexOf(0x0a, start);
  return { text: bytes.toString("utf8", start, newline < 0 ? bytes.length : newline), next: newline < 0 ? -1 : newline + 1 };
}

/** RFC 7230 token characters: what a header name is made of. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * True when `bytes` open with a well-formed MIME header block (name: value
 * lines, continuations, then an empty line) whose first Content-Type
 * contains `multipart/mixed`, as Go's textproto reads headers. A JSON
 * config fails on its first line.
 */
function isMultipartMime(bytes: Buffer): boolean {
  // JSON (`{`, `[`, a blank) is not a header line: decided without decoding it.
  if (bytes.length === 0 || !HEADER_NAME.test(String.fromCharCode(bytes[0]!))) return false;
  let contentType: string | undefined;
  /** Whether the header being read (continuations included) is the first Content-Type. */
  let inContentType = false;
  for (let start = 0, first = true; ; first = false) {
    const { text, next } = lineAt(bytes, start);
    // Headers that reach the end of the data never ended.
    if (next < 0) return false;
    const line = text.endsWith("\r") ? text.slice(0, -1) : text;
    if (line === "") return contentType?.includes("multipart/mixed") ?? false;
    if (line[0] === " " || line[0] === "\t") {
      if (first) return false;
      if (inContentType) contentType += " " + line.trim();
    } else {
      const colon = line.indexOf(":");
      if (colon <= 0 || !HEADER_NAME.test(line.slice(0, colon))) return false;
      inContentType = contentType === undefined && line.slice(0, colon).toLowerCase() === "content-type";
      if (inContentType) contentType = line.slice(colon + 1).trim();
    }
    start = next;
  }
}
