// Flint's own version, injected by build.mjs from package.json ("dev" when run from source).

declare const FLINT_VERSION: string;

export const VERSION = typeof FLINT_VERSION === "string" ? FLINT_VERSION : "dev";
