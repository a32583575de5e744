// node:crypto, loaded on first use. It pulls in some twenty of Node's own
// modules (streams among them), ~3 ms natively and far more under emulation:
// a files stage that needs it only for temporary names and hashes loads it
// while useradd runs, not before.

import type * as Crypto from "node:crypto";

let loaded: typeof Crypto | undefined;

export function crypto(): typeof Crypto {
  return (loaded ??= require("node:crypto") as typeof Crypto);
}
