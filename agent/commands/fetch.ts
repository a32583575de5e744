// `flint fetch-offline` and `flint fetch`: find the platform, assemble the
// config, cache it (see agent/stages/fetch).

import { loadBootParams } from "../boot/cmdline";
import { parseCommandArgs } from "../cli";
import { stat } from "node:fs/promises";
import { currentScope, fileStamp } from "../scope";
import { DEFAULT_CACHE } from "../stages/context";

export async function run([command, ...argv]: string[]): Promise<number> {
  const { values } = parseCommandArgs(command!, argv, {
    platform: { type: "string" },
    "cmdline-file": { type: "string" },
    cache: { type: "string" },
  });
  const params = loadBootParams(values["cmdline-file"]);
  const { canonicalPlatformId, detectPlatform } = await import("../platforms/index");
  const { platformPaths } = await import("../platforms/paths");
  const requested = values.platform ?? params.platformId;
  const platformId = requested ? canonicalPlatformId(requested) : await detectPlatform(platformPaths().sysfs);
  const { runFetchStage } = await import("../stages/fetch/index");
  const cachePath = values.cache ?? DEFAULT_CACHE;
  // In the boot agent, the stages after this one take the config as validated here, unparsed again.
  const session = currentScope().session;
  await runFetchStage({
    command: command === "fetch" ? "fetch" : "fetch-offline",
    platformId,
    configUrl: params.configUrl,
    cachePath,
    cached: session && (async (config) => {
      session.config = { path: cachePath, stamp: fileStamp(await stat(cachePath)), config };
    }),
  });
  return 0;
}
