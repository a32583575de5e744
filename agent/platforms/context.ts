// Builds the context a platform runs with: metadata fetches through the one
// resource layer (retries, timeouts, proxy, offline refusal), local reads, paths.

import { readFile } from "node:fs/promises";
import { fetchUrl, type FetchSettings } from "../resource/index";
import { platformPaths } from "./paths";
import type { PlatformContext, PlatformPaths } from "./types";

export interface PlatformContextOptions {
  settings?: FetchSettings;
  /** fetch-offline: any network fetch raises NeedsNetworkError instead. */
  offline?: boolean;
  env?: NodeJS.ProcessEnv;
  paths?: PlatformPaths;
}

export function createPlatformContext(platformId: string, options: PlatformContextOptions = {}): PlatformContext {
  const env = options.env ?? process.env;
  const settings = options.settings ?? {};
  const variable = `FLINT_${platformId.toUpperCase()}_ENDPOINT`;
  return {
    settings,
    paths: options.paths ?? platformPaths(env),
    endpoint: (defaultBase) => (env[variable] || defaultBase).replace(/\/+$/, ""),
    fetchUrl: (url, request = {}) => fetchUrl(url, { ...settings, offline: options.offline, method: request.method, headers: request.headers }),
    readLocal: async (path) => {
      try {
        return await readFile(path);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw e;
      }
    },
  };
}
