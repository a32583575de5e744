// The secret values of this run — password hashes, file and unit contents,
// HTTP header values, LUKS keys — and `redact`, which scrubs them from text
// that came from outside Flint (a tool's stderr, say) before it is logged or
// put in the report. Configs are registered when parsed; their values are
// looked for only when there is text to scrub (most tools print nothing on
// stderr), and never kept: a config of 100,000 files would otherwise hold
// every file's decoded contents in memory for the rest of the run.

import { StoredList } from "./config/item-list";
import { decodeDataUrl } from "./resource/data";
import { currentScope } from "./scope";

/** Shorter values are not scrubbed: a locked account's "*" or "!" is no secret, and scrubbing it would garble every message. */
const MIN_SECRET_LENGTH = 4;

const REDACTED = "<redacted>";

/** One scope's secrets (scope.ts): the configs whose values are scrubbed, and single values. */
export interface SecretStore {
  sources: unknown[];
  values: Set<string>;
}

function store(): SecretStore {
  const scope = currentScope();
  return (scope.secrets ??= { sources: [], values: new Set() });
}

/** Remembers a parsed config: its secret values are scrubbed from then on. */
export function rememberConfigSecrets(config: unknown): void {
  store().sources.push(config);
}

/** `config` was read from the remembered `raw`, and stands for it from now on (a big config's raw lists hold its whole text). */
export function replaceConfigSecrets(raw: unknown, config: unknown): void {
  const { sources } = store();
  const i = sources.indexOf(raw);
  if (i !== -1) sources[i] = config;
}

/**
 * The config a stage run applies becomes the only config whose values are
 * scrubbed: it holds every merged-in secret, and a process that applies
 * several configs one after another (the tests, `flint apply` in a loop)
 * must not garble a later run's messages with an earlier run's contents.
 */
export function useRunConfigSecrets(config: unknown): void {
  store().sources.length = 0;
  rememberConfigSecrets(config);
}

/** Remembers one secret value (a key Flint fetched or generated, a hash passed to a tool). */
export function rememberSecret(value: string | Buffer): void {
  const text = typeof value === "string" ? value : value.toString("utf8");
  const { values } = store();
  for (const piece of piecesOf(text)) values.add(piece);
}

/** The value itself, and its lines and trimmed form: tools often quote one line of what they were given. */
function piecesOf(text: string): string[] {
  const pieces = [text, text.trim(), ...text.split(/\r?\n/).map((l) => l.trim())];
  return pieces.filter((p) => p.length >= MIN_SECRET_LENGTH);
}

/**
 * The secret pieces found in one text. Every piece found begins with one of
 * the text's substrings of MIN_SECRET_LENGTH characters, so a piece that
 * begins otherwise is passed over without a search, and a line too short to
 * be one without being cut out: a tool's one-line warning costs a walk of
 * the config, not a copy of every line of every file in it.
 */
class Finder {
  readonly found = new Set<string>();
  private readonly beginnings = new Set<string>();

  constructor(private readonly text: string) {
    for (let i = 0; i + MIN_SECRET_LENGTH <= text.length; i++) this.beginnings.add(text.slice(i, i + MIN_SECRET_LENGTH));
  }

  piece(piece: string): void {
    if (piece.length < MIN_SECRET_LENGTH || piece.length > this.text.length) return;
    if (!this.beginnings.has(piece.slice(0, MIN_SECRET_LENGTH))) return;
    if (this.text.includes(piece)) this.found.add(piece);
  }

  /** The pieces of a value (piecesOf's), looked for in the text. */
  value(text: string): void {
    this.piece(text);
    this.piece(text.trim());
    for (let start = 0; start <= text.length; ) {
      let end = text.indexOf("\n", start);
      if (end === -1) end = text.length;
      if (end - start >= MIN_SECRET_LENGTH) this.piece(text.slice(start, end).trim());
      start = end + 1;
    }
  }
}

/** Walks a config for the fields that hold secrets, whatever section they are in, looking for each value's pieces. */
function visit(node: unknown, finder: Finder): void {
  if (Array.isArray(node) || node instanceof StoredList) {
    for (const item of node) visit(item, finder);
    return;
  }
  if (node === null || typeof node !== "object") return;
  const fields = node as Record<string, unknown>;
  for (const key of Object.keys(fields)) {
    const value = fields[key];
    if (typeof value === "string") {
      if (key === "passwordHash" || key === "contents") finder.value(value);
      else if (key === "source" && /^data:/i.test(value)) {
        finder.value(value);
        try {
          finder.value(decodeDataUrl(value).toString("utf8"));
        } catch {
          // an undecodable data URL fails validation elsewhere; its raw text is already covered
        }
      }
    } else if (key === "httpHeaders" && Array.isArray(value)) {
      for (const header of value) if (typeof (header as { value?: unknown })?.value === "string") finder.value((header as { value: string }).value);
    } else visit(value, finder);
  }
}

/** `text` with every known secret value (and any `extra` ones) replaced by <redacted>. */
export function redact(text: string, extra: string[] = []): string {
  // Nothing that short is scrubbed: most tools' stderr (empty) costs nothing.
  if (text.length < MIN_SECRET_LENGTH) return text;
  const finder = new Finder(text);
  const { sources, values } = store();
  for (const value of extra) finder.value(value);
  for (const piece of values) finder.piece(piece);
  for (const source of sources) visit(source, finder);
  // Longest first, so a secret that contains another is scrubbed whole.
  let out = text;
  for (const secret of [...finder.found].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
  return out;
}

/** Forgets everything (tests). */
export function forgetSecrets(): void {
  currentScope().secrets = undefined;
}
