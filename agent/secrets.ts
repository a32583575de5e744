// The secret values of this run — password hashes, file and unit contents,
// HTTP header values, LUKS keys — and `redact`, which scrubs them from text
// that came from outside Flint (a tool's stderr, say) before it is logged or
// put in the report. Configs are registered when parsed; the values are only
// gathered (and data URLs decoded) the first time something is redacted, so
// a run without failures pays nothing.

import { decodeDataUrl } from "./resource/data";

/** Shorter values are not scrubbed: a locked account's "*" or "!" is no secret, and scrubbing it would garble every message. */
const MIN_SECRET_LENGTH = 4;

const REDACTED = "<redacted>";
const sources: unknown[] = [];
const values = new Set<string>();
let gathered: string[] | undefined;

/** Remembers a parsed config: its secret values are scrubbed from then on. */
export function rememberConfigSecrets(config: unknown): void {
  sources.push(config);
  gathered = undefined;
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
  gathered = undefined;
}

/** The value itself, and its lines and trimmed form: tools often quote one line of what they were given. */
function piecesOf(text: string): string[] {
  const pieces = [text, text.trim(), ...text.split(/\r?\n/).map((l) => l.trim())];
  return pieces.filter((p) => p.length >= MIN_SECRET_LENGTH);
}

/** Walks a config for the fields that hold secrets, whatever section they are in. */
function collect(node: unknown, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) collect(item, into);
    return;
  }
  if (node === null || typeof node !== "object") return;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (typeof value === "string") {
      if (key === "passwordHash" || key === "contents") for (const p of piecesOf(value)) into.add(p);
      else if (key === "source" && /^data:/i.test(value)) {
        for (const p of piecesOf(value)) into.add(p);
        try {
          for (const p of piecesOf(decodeDataUrl(value).toString("utf8"))) into.add(p);
        } catch {
          // an undecodable data URL fails validation elsewhere; its raw text is already covered
        }
      }
    } else if (key === "httpHeaders" && Array.isArray(value)) {
      for (const header of value) if (typeof (header as { value?: unknown })?.value === "string") for (const p of piecesOf((header as { value: string }).value)) into.add(p);
    } else collect(value, into);
  }
}

function secretValues(): string[] {
  if (!gathered) {
    const all = new Set(values);
    for (const source of sources) collect(source, all);
    // Longest first, so a secret that contains another is scrubbed whole.
    gathered = [...all].sort((a, b) => b.length - a.length);
  }
  return gathered;
}

/** `text` with every known secret value (and any `extra` ones) replaced by <redacted>. */
export function redact(text: string, extra: string[] = []): string {
  let out = text;
  const extras = extra.flatMap(piecesOf).sort((a, b) => b.length - a.length);
  for (const secret of [...extras, ...secretValues()]) {
    if (out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/** Forgets everything (tests). */
export function forgetSecrets(): void {
  sources.length = 0;
  values.clear();
  gathered = undefined;
}
