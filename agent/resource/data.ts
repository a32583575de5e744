// RFC 2397 data URLs: `data:[<mediatype>][;base64],<data>`.

import { FlintError } from "../errors";

export function decodeDataUrl(url: string, label = "data URL"): Buffer {
  const comma = url.indexOf(",");
  if (!/^data:/i.test(url) || comma === -1) throw new FlintError("invalid data URL: missing ','", label);
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  let decoded: string | Buffer;
  try {
    decoded = /;base64$/i.test(meta) ? Buffer.from(decodeURIComponent(payload).replace(/\s+/g, ""), "base64") : decodePercent(payload);
  } catch {
    throw new FlintError("invalid data URL: bad percent-encoding", label);
  }
  return Buffer.isBuffer(decoded) ? decoded : Buffer.from(decoded, "latin1");
}

/** Percent-decoding to bytes: `%ff` is the byte 0xff, not a UTF-8 sequence. */
function decodePercent(payload: string): Buffer {
  const out: number[] = [];
  const bytes = Buffer.from(payload, "utf8");
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0x25) {
      const hex = bytes.subarray(i + 1, i + 3).toString("latin1");
      if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Error("bad escape");
      out.push(parseInt(hex, 16));
      i += 2;
    } else out.push(bytes[i]!);
  }
  return Buffer.from(out);
}
