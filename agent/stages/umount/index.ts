// Placeholder until its issue lands: fails loudly rather than pretending.

import { FlintError } from "../../errors";
import type { Stage } from "../context";

export const umountStage: Stage = async () => {
  throw new FlintError("not implemented yet", "stage umount");
};
