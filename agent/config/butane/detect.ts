// Whether a config is Butane YAML, decided from its text alone and cheaply:
// this runs for every config, and must not load the translator or the YAML
// library for a JSON one.

/** Not JSON, and a top-level `variant:` or `version:` key. */
export function looksLikeButane(text: string): boolean {
  const start = /^\s*(\S)/.exec(text)?.[1];
  if (start === "{" || start === "[") return false;
  return /^(?:variant|version)[ \t]*:/m.test(text);
}
