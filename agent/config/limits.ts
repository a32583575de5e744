// How big a config Flint takes from a file or standard input. The network's
// cap (DEFAULT_CONFIG_CAP in resource/, 10 MiB) is the resource layer's.
// A module of its own so that the stage commands check the cached config
// without loading the config engine.

/**
 * Parsing and validating a big config need about two and a half times its
 * size in memory (docs/configs.md, "Size"), so this bounds a run at a couple of
 * hundred MiB; 100,000 files with small inline contents make a 20–27 MiB
 * config.
 */
export const MAX_CONFIG_BYTES = 64 * 1024 * 1024;

/**
 * Above this, a config is read for memory rather than for speed: its
 * storage lists are spooled (item-list.ts), not held as arrays, and the heap
 * is kept near what is live (heap.ts). Below it, arrays cost little memory,
 * and a spool would cost a file and a parse of each item at every read.
 */
export const BIG_CONFIG_BYTES = 4 * 1024 * 1024;

export function tooLarge(size: number): string {
  return `the config is ${size} bytes; the limit is ${MAX_CONFIG_BYTES} bytes (64 MiB)`;
}
