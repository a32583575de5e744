// Placeholder until its issue lands: fails loudly rather than pretending.

import { FlintError } from "../errors";

export async function run([command]: string[]): Promise<number> {
  throw new FlintError("not implemented yet", `flint ${command}`);
}
