// The secret values of this run — password hashes, file and unit contents,
// HTTP header values, LUKS keys — and `redact`, which scrubs them from text
// that came from outside Flint (a tool's stderr, say) before it is logged or
// put in the report. Configs are registered when parsed; their values are
// looked for only when there is text to scrub (most tools print nothing on
// stderr), and never kept: a config of 100,000 files would otherwise hold
// every file's decoded contents in memory for the rest of the run.

import { decodeDataUrl } from "./resource/data";

/** Shorter values are not scrubbed: a locked account's "*" or "!" is no secret, and scrubbing it would garble every message. */
const MIN_SECRET_LENGTH = 4;

const REDACTED = "<redacted>";
const sources: unknown[] = [];
const values = new Set<string>();

/** Remembers a parsed config: its secret values are scrubbed from then on. */
export function rememberConfigSecrets(config: unknown): void {
  sources.push(config);
}

/**
 * The config a stage run applies becomes the only config whose values are
 * scrubbed: it holds every merged-in secret, and a process that applies
 * several configs one after another (the tests, `flint apply` in a loop)
 * must not garble a later run's messages with an earlier run's contents.
 */
export function useRunConfigSecrets(config: unknown): void {
  sources.length = 0;
  rememberConfigSecrets(config);
}

/** Remembers one secret value (a key Flint fetched or generated, a hash passed to a tool). */
export function rememberSecret(value: string | Buffer): void {
  const text = typeof value === "string" ? value : value.toString("utf8");
  for (const piece of piecesOf(text)) values.add(piece);
}

/** The value itself, and its lines and trimmed form: tools often quote one line of what they were given. */
function piecesOf(text: string): string[] {
  const pieces = [text, text.trim(), ...text.split(/\r?\n/).map((l) => l.trim())];
  return pieces.filter((p) => p.length >= MIN_SECRET_LENGTH);
}

/** Walks a config for the fields that hold secrets, whatever section they are in, handing `seen` each piece. */
function visit(node: unknown, seen: (piece: string) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) visit(item, seen);
    return;
  }
  if (node === null || typeof node !== "object") return;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (typeof value === "string") {
      if (key === "passwordHash" || key === "contents") piecesOf(value).forEach(seen);
      else if (key === "source" && /^data:/i.test(value)) {
        piecesOf(value).forEach(seen);
        try {
          piecesOf(decodeDataUrl(value).toString("utf8")).forEach(seen);
        } catch {
          // an undecodable data URL fails validation elsewhere; its raw text is already covered
        }
      }
    } else if (key === "httpHeaders" && Array.isArray(value)) {
      for (const header of value) if (typeof (header as { value?: unknown })?.value === "string") piecesOf((header as { value: string }).value).forEach(seen);
    } else visit(value, seen);
  }
}

/** `text` with every known secret value (and any `extra` ones) replaced by <redacted>. */
export function redact(text: string, extra: string[] = []): string {
  // Nothing that short is scrubbed: most tools' stderr (empty) costs nothing.
  if (text.length < MIN_SECRET_LENGTH) return text;
  const found = new Set<string>();
  const seen = (piece: string): void => {
    if (piece.length <= text.length && text.includes(piece)) found.add(piece);
  };
  extra.flatMap(piecesOf).forEach(seen);
  values.forEach(seen);
  for (const source of sources) visit(source, seen);
  // Longest first, so a secret that contains another is scrubbed whole.
  let out = text;
  for (const secret of [...found].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
  return out;
}

/** Forgets everything (tests). */
export function forgetSecrets(): void {
  sources.length = 0;
  values.clear();
}
