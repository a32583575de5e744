// The stage table: a stage's code is loaded only when it runs.

import type { Stage } from "./context";

export const STAGES = {
  disks: async (): Promise<Stage> => (await import("./disks/index")).disksStage,
  mount: async (): Promise<Stage> => (await import("./mount/index")).mountStage,
  files: async (): Promise<Stage> => (await import("./files/index")).filesStage,
  umount: async (): Promise<Stage> => (await import("./umount/index")).umountStage,
  kargs: async (): Promise<Stage> => (await import("./kargs/index")).kargsStage,
} as const;

export type RootStageName = keyof typeof STAGES;
// kargs comes last: it may ask for a reboot, which is best once everything else is done.
export const ROOT_STAGE_ORDER: RootStageName[] = ["disks", "mount", "files", "umount", "kargs"];
