// How big a config Flint takes from a file or standard input. The network's
// cap (DEFAULT_CONFIG_CAP in resource/, 10 MiB) is the resource layer's.
// A module of its own so that the stage commands check the cached config
// without loading the config engine.

/**
 * Parsing and validating a big config need two to three times its size in
 * memory (docs/configs.md, "Size"), so this bounds a run at a couple of
 * hundred MiB; 100,000 files with small inline contents make a 20–27 MiB
 * config.
 */
export const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

/**
 * Above this, a config is read for memory rather than for speed: one pass
 * into slices of its text (json.ts) instead of JSON.parse's copy, and a heap
 * kept near what is live (heap.ts). Below it, JSON.parse (native) is faster
 * than any reader in JavaScript, and the memory does not matter.
 */
export const BIG_CONFIG_BYTES = 4 * 1024 * 1024;

export function tooLarge(size: number): string {
  return `the config is ${size} bytes; the limit is ${MAX_CONFIG_BYTES} bytes (64 MiB)`;
}
