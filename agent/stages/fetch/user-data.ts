// User data that is not an Ignition config. On Flatcar the same user data
// slot carries cloud-config, scripts and MIME multipart documents for
// coreos-cloudinit in the booted OS; Flatcar's Ignition recognizes them and
// goes on as if no user config had been given. The tests are Flatcar's:
// the first line (after gunzip, when the data is gzip) is exactly
// `#cloud-config` (trailing blanks aside) or starts with `#!`, or the data
// opens with MIME headers whose Content-Type names multipart/mixed.

import { DEFAULT_CONFIG_CAP } from "../../resource/index";

export type NotIgnitionKind = "cloud-config" | "script" | "MIME multipart";

/** What kind of non-Ignition user data `data` is, or undefined when it may be an Ignition config. */
export async function notIgnitionKind(data: Buffer): Promise<NotIgnitionKind | undefined> {
  const text = (await gunzippedIfGzip(data)).toString("utf8");
  const newline = text.indexOf("\n");
  const firstLine = newline < 0 ? text : text.slice(0, newline);
  if (firstLine.trimEnd() === "#cloud-config") return "cloud-config";
  if (firstLine.startsWith("#!")) return "script";
  if (isMultipartMime(text)) return "MIME multipart";
  return undefined;
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

/** RFC 7230 token characters: what a header name is made of. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * True when `text` opens with a well-formed MIME header block (name: value
 * lines, continuations, then an empty line) whose first Content-Type
 * contains `multipart/mixed`, as Go's textproto reads headers.
 */
function isMultipartMime(text: string): boolean {
  const lines = text.split("\n");
  let contentType: string | undefined;
  /** Whether the header being read (continuations included) is the first Content-Type. */
  let inContentType = false;
  // The last piece has no newline after it: headers that reach it never ended.
  for (let i = 0; i < lines.length - 1; i++) {
    const line = lines[i]!.endsWith("\r") ? lines[i]!.slice(0, -1) : lines[i]!;
    if (line === "") return contentType?.includes("multipart/mixed") ?? false;
    if (line[0] === " " || line[0] === "\t") {
      if (i === 0) return false;
      if (inContentType) contentType += " " + line.trim();
      continue;
    }
    const colon = line.indexOf(":");
    if (colon <= 0 || !HEADER_NAME.test(line.slice(0, colon))) return false;
    inContentType = contentType === undefined && line.slice(0, colon).toLowerCase() === "content-type";
    if (inContentType) contentType = line.slice(colon + 1).trim();
  }
  return false;
}
