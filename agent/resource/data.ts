// RFC 2397 data URLs: `data:[<mediatype>][;base64],<data>`.

import { FlintError } from "../errors";

export function decodeDataUrl(url: string, label = "data URL"): Buffer {
  const comma = url.indexOf(",");
  if (!/^data:/i.test(url) || comma === -1) throw new FlintError("invalid data URL: missing ','", label);
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  let decoded: string | Buffer;
  try {
    // Buffer's base64 decoder skips whitespace itself.
    decoded = /;base64$/i.test(meta) ? Buffer.from(payload.includes("%") ? decodeURIComponent(payload) : payload, "base64") : decodePercent(payload);
  } catch {
    throw new FlintError("invalid data URL: bad percent-encoding", label);
  }
  return Buffer.isBuffer(decoded) ? decoded : Buffer.from(decoded, "latin1");
}

/** Percent-decoding to bytes: `%ff` is the byte 0xff, not a UTF-8 sequence. Decoded in place, as the result is never longer. */
function decodePercent(payload: string): Buffer {
  const bytes = Buffer.from(payload, "utf8");
  if (!payload.includes("%")) return bytes;
  let length = 0;
  for (let i = 0; i < bytes.length; i++) {
    let byte = bytes[i]!;
    if (byte === 0x25) {
      const high = hexDigit(bytes[i + 1]);
      const low = hexDigit(bytes[i + 2]);
      if (high < 0 || low < 0) throw new Error("bad escape");
      byte = high * 16 + low;
      i += 2;
    }
    bytes[length++] = byte;
  }
  return bytes.subarray(0, length);
}

/** The value of an ASCII hex digit, or -1. */
function hexDigit(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}
