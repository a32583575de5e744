// Whether a config is Butane YAML, decided from its text alone and cheaply:
// this runs for every config, and must not load the translator or the YAML
// library for a JSON one. Butane reads any YAML, so its keys may be quoted,
// in a one-line {…} mapping, or brought in by a merge key (`<<: *base`).

/** A `variant` or `version` key anywhere: at a line's start (indented or not, quoted or not) or inside a {…} mapping. */
const BUTANE_KEY = /(?:^|[\n{,])[ \t]*(["']?)(?:variant|version)\1[ \t]*:/;

/** Not JSON, and a `variant:` or `version:` key somewhere. */
export function looksLikeButane(text: string): boolean {
  const start = /^\s*(\S)/.exec(text)?.[1];
  if (start === "{" || start === "[") return false;
  return BUTANE_KEY.test(text);
}

/** A `variant` key: Ignition's JSON has `version` keys, broken or not, but never this one. */
const VARIANT_KEY = /(?:^|[\n{,])[ \t]*(["']?)variant\1[ \t]*:/;

/** Text that starts like JSON but is not JSON, and has Butane's `variant` key: a one-line YAML mapping. */
export function isYamlMapping(text: string): boolean {
  return VARIANT_KEY.test(text);
}

/** Valid JSON that is Butane's document (YAML includes JSON): a `variant` and no `ignition` section. */
export function isButaneDocument(doc: unknown): boolean {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc) || !Object.prototype.hasOwnProperty.call(doc, "variant")) return false;
  return !Object.keys(doc).some((k) => k.toLowerCase() === "ignition");
}
